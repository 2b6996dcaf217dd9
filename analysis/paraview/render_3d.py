"""3D picture of an exoderm result with ParaView (pvbatch): skin layers, channel, vesicles, cells.

    xvfb-run -a -s "-screen 0 1280x1024x24" pvbatch --force-offscreen-rendering \
        analysis/paraview/render_3d.py RESULT.xmf -o out.png [--time T_HOURS] [--size 1200x800]
    ... render_3d.py RESULT.xmf --frames FOLDER        # frame_000.png, frame_001.png, ... one per output time

RESULT.xmf is the XDMF index written next to RESULT.h5 by `exoderm run` (docs/output-format.md).
The picture shows, for one output time:
- the skin layers: the faces of the box coloured by the static `layer` field (stratum corneum,
  viable epidermis, dermis), translucent, with the box outline;
- the channel: the iso-surface lumen_fraction = 0.5 (grey), when the channel is open;
- the vesicles: iso-surfaces of `free + bound` (or --field) at 30 %, 10 %, 3 % and 1 % of the
  maximum, translucent, coloured on a log scale (legend on the right);
- the cells (only if the result has the "cells" point collection): keratinocytes and fibroblasts as
  small points, macrophages as larger ones, coloured by type and, for macrophages, by state
  (inflammatory / repair), with a categorical legend.
z is depth into the skin: the camera's "up" is -z, so the skin surface is at the top. By default the
box is cut below the depth the vesicles reach (--max-depth auto); --max-depth all keeps the box.

Without cells, channel or one of the fields the picture shows what exists and prints a warning.
After each PNG the script prints "image: width=... height=... colours=... std=... foreground=..."
(analysis/paraview/image_stats.py) so tests can tell a real picture from a blank one.
xvfb-run is needed because Debian's ParaView has no EGL/OSMesa offscreen build; pvbatch under Xvfb
aborts rarely, so callers retry once. Exit codes: 0 written, 2 bad arguments or data.
"""
import argparse
import math
import os
import sys

from paraview import simple as pv
from paraview import servermanager

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import render_frame  # noqa: E402  (the shared white-background render view)

# Categories of the cells display: type 0 keratinocyte, 1 fibroblast, 2 macrophage with
# state 1 inflammatory / 2 repair (docs/output-format.md, point set "cells").
CELL_CLASSES = [
    (0.0, "keratinocyte", [0.95, 0.75, 0.35]),
    (1.0, "fibroblast", [0.35, 0.6, 0.95]),
    (2.0, "macrophage, inflammatory", [0.85, 0.1, 0.1]),
    (3.0, "macrophage, repair", [0.1, 0.7, 0.25]),
]
LAYERS = [(0.0, "stratum corneum", [0.85, 0.75, 0.45]),
          (1.0, "viable epidermis", [0.95, 0.6, 0.55]),
          (2.0, "dermis", [0.8, 0.55, 0.65])]
ISO_FRACTIONS = [0.3, 0.1, 0.03, 0.01]


def fail(message):
    print("render_3d.py: error: " + message, file=sys.stderr)
    sys.exit(2)


def warn(message):
    print("render_3d.py: warning: " + message, file=sys.stderr)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="Render a 3D view of an exoderm result to PNG(s).")
    parser.add_argument("xmf", help="the .xmf index written beside the .h5 result")
    parser.add_argument("-o", "--output", help="output PNG (one time)")
    parser.add_argument("--time", type=float, default=None,
                        help="output time in hours; the nearest output time is drawn (default: the last)")
    parser.add_argument("--frames", metavar="FOLDER",
                        help="write one PNG per output time, FOLDER/frame_000.png, ...")
    parser.add_argument("--size", default="1200x800", help="image size WIDTHxHEIGHT (default 1200x800)")
    parser.add_argument("--field", default="total",
                        help="vesicle field for the iso-surfaces: total (free + bound, default), free, bound, ...")
    parser.add_argument("--max-depth", default="auto",
                        help="cut the box at this depth in um, 'auto' (below the vesicles, default) or 'all'")
    parser.add_argument("--no-cells", action="store_true", help="do not draw the cells")
    args = parser.parse_args(argv)
    if not args.output and not args.frames:
        parser.error("give -o OUT.png or --frames FOLDER")
    if args.output and args.frames:
        parser.error("-o and --frames exclude each other")
    if args.frames and args.time is not None:
        parser.error("--time and --frames exclude each other")
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
        if width < 16 or height < 16:
            raise ValueError
    except ValueError:
        parser.error("--size must be WIDTHxHEIGHT, e.g. 1200x800")
    args.width, args.height = width, height
    return args


def time_label(t_s):
    if t_s is None:
        return "no time"
    hours = t_s / 3600.0
    if t_s < 3600.0:
        return "t = %g min" % (t_s / 60.0)
    if hours < 48.0:
        return "t = %g h" % round(hours, 3)
    return "t = %g h (%g d)" % (round(hours, 3), round(hours / 24.0, 3))


def timesteps_of(reader):
    values = reader.TimestepValues
    if isinstance(values, (int, float)):
        values = [values]
    return [float(v) for v in (values or [])]


def open_collection(xmf, prefixes):
    """An XDMF reader restricted to the grids whose names start with one of prefixes, or None."""
    reader = pv.XDMFReader(FileNames=[xmf])
    reader.UpdatePipelineInformation()
    grids = [str(name) for name in list(reader.GetProperty("GridInfo") or [])[0::2]]
    chosen = [name for name in grids if name.startswith(prefixes)]
    if not chosen:
        pv.Delete(reader)
        return None
    reader.GridStatus = chosen
    reader.UpdatePipelineInformation()
    return reader


def fetch_cell_array(source, name, t_s):
    """numpy copy of a cell array of an image-data source at time t_s (None if missing)."""
    from vtk.util import numpy_support
    source.UpdatePipeline(t_s)
    data = servermanager.Fetch(source)
    if data is not None and data.IsA("vtkMultiBlockDataSet"):
        data = data.GetBlock(0)
    if data is None:
        return None
    array = data.GetCellData().GetArray(name)
    return None if array is None else numpy_support.vtk_to_numpy(array).copy()


class Scene:
    """Builds the pipeline once; render(t_s, png) draws one time."""

    def __init__(self, args):
        self.args = args
        xmf = os.path.abspath(args.xmf)
        self.fields = open_collection(xmf, ("snapshot", "static"))
        if self.fields is None:
            fail("no field grid ('snapshots' or 'static') in " + args.xmf)
        self.timesteps = timesteps_of(self.fields)
        t0 = self.timesteps[-1] if self.timesteps else 0.0
        self.fields.UpdatePipeline(t0)
        self.available = list(self.fields.CellData.keys())
        self.bounds = list(self.fields.GetDataInformation().GetBounds())
        if not all(math.isfinite(b) for b in self.bounds) or self.bounds[1] <= self.bounds[0]:
            fail("no grid could be read from " + args.xmf)
        self.cells = None
        if not args.no_cells:
            self.cells = open_collection(xmf, ("cells",))
            if self.cells is None:
                warn("no 'cells' point collection in the result: cells are not drawn")
        self.vesicle_expression = self.choose_field()
        self.view = self.make_view()
        self.max_value = None
        self.build()

    # ---- data checks -------------------------------------------------------------------------
    def choose_field(self):
        field = self.args.field
        if field == "total":
            parts = [name for name in ("free", "bound") if name in self.available]
            missing = [name for name in ("free", "bound") if name not in self.available]
            if missing:
                warn("field(s) %s not in the result: vesicles drawn from %s"
                     % (", ".join(missing), " + ".join(parts) or "nothing"))
            if not parts:
                return None
            self.field_title = "vesicles, " + " + ".join(parts)
            return "+".join(parts)
        if field not in self.available:
            fail("field '%s' not in %s (cell fields: %s)"
                 % (field, self.args.xmf, ", ".join(self.available) or "none"))
        self.field_title = "vesicles, " + field
        return field

    def field_max(self, t_s):
        if self.vesicle_expression is None:
            return 0.0
        values = fetch_cell_array(self.vesicle_calc, "vesicles", t_s)
        return float(values.max()) if values is not None and values.size else 0.0

    def auto_depth(self, times):
        """Depth (um) below which nothing is drawn: 1.3 x the deepest cell above the lowest iso
        level over the given times, at least twice the bottom of the epidermis."""
        b = self.bounds
        if str(self.args.max_depth).lower() == "all":
            return b[5]
        if str(self.args.max_depth).lower() != "auto":
            try:
                return min(b[5], max(b[4] + 1e-6, float(self.args.max_depth)))
            except ValueError:
                fail("--max-depth must be a depth in um, 'auto' or 'all'")
        nx, ny, nz = self.dims
        dz = (b[5] - b[4]) / nz
        deepest = 0.0
        layer = fetch_cell_array(self.fields, "layer", times[0]) if "layer" in self.available else None
        if layer is not None:
            rows = layer.reshape(nz, ny, nx)
            in_epidermis = (rows <= 1.5).any(axis=(1, 2)).nonzero()[0]
            if in_epidermis.size:
                deepest = 2.0 * (in_epidermis.max() + 1) * dz
        if self.vesicle_expression is not None:
            for t_s in times:
                values = fetch_cell_array(self.vesicle_calc, "vesicles", t_s)
                if values is None or not values.size or values.max() <= 0:
                    continue
                rows = values.reshape(nz, ny, nx).max(axis=(1, 2))
                reached = (rows >= ISO_FRACTIONS[-1] * values.max()).nonzero()[0]
                if reached.size:
                    deepest = max(deepest, 1.3 * (reached.max() + 1) * dz)
        if deepest <= 0.0:
            return b[5]
        return min(b[5], b[4] + max(deepest, 10.0 * dz))

    # ---- pipeline ----------------------------------------------------------------------------
    def make_view(self):
        view = render_frame.make_view(self.args.width, self.args.height)
        try:
            view.EnableRenderOnInteraction = 0
        except AttributeError:
            pass
        return view

    def build(self):
        b = self.bounds
        info = self.fields.GetDataInformation()
        extent = info.DataInformation.GetExtent()
        self.dims = (extent[1] - extent[0], extent[3] - extent[2], extent[5] - extent[4])  # cells
        if self.vesicle_expression is not None:
            self.vesicle_calc = pv.Calculator(Input=self.fields, AttributeType="Cell Data",
                                              ResultArrayName="vesicles", Function=self.vesicle_expression)
        times = [self.timesteps[-1]] if self.timesteps else [0.0]
        if self.args.frames:
            times = self.timesteps or [0.0]
        self.depth = self.auto_depth(times)
        nz = self.dims[2]
        dz = (b[5] - b[4]) / nz
        k_max = min(nz, max(1, int(math.ceil((self.depth - b[4]) / dz - 1e-9))))
        self.depth = b[4] + k_max * dz
        self.box = [b[0], b[1], b[2], b[3], b[4], self.depth]
        source = self.vesicle_calc if self.vesicle_expression is not None else self.fields
        self.subset = pv.ExtractSubset(Input=source)
        self.subset.VOI = [extent[0], extent[1], extent[2], extent[3], extent[4], extent[4] + k_max]
        view = self.view

        outline = pv.Show(pv.Outline(Input=self.subset), view)
        outline.AmbientColor = outline.DiffuseColor = [0.0, 0.0, 0.0]

        # Skin layers: the faces of the (cut) box coloured by layer.
        self.layer_display = None
        if "layer" in self.available:
            surface = pv.ExtractSurface(Input=self.subset)
            display = pv.Show(surface, view)
            pv.ColorBy(display, ("CELLS", "layer"))
            lut = pv.GetColorTransferFunction("layer")
            lut.InterpretValuesAsCategories = 1
            lut.Annotations = sum([[str(int(v)), name] for v, name, _ in LAYERS], [])
            lut.IndexedColors = sum([c for _, _, c in LAYERS], [])
            display.LookupTable = lut
            display.Opacity = 0.35
            display.SetScalarBarVisibility(view, True)
            bar = pv.GetScalarBar(lut, view)
            self.style_bar(bar, "skin layer", "Upper Left Corner")
            self.layer_display = display
        else:
            warn("no 'layer' field: skin layers are not drawn")

        point_source = pv.CellDatatoPointData(Input=self.subset)
        point_source.PassCellData = 0

        # Channel: lumen_fraction = 0.5.
        self.channel = None
        if "lumen_fraction" in self.available:
            self.channel = pv.Contour(Input=point_source, ContourBy=["POINTS", "lumen_fraction"],
                                      Isosurfaces=[0.5], ComputeScalars=0)
            display = pv.Show(self.channel, view)
            pv.ColorBy(display, None)
            display.AmbientColor = display.DiffuseColor = [0.45, 0.45, 0.5]
            display.Opacity = 0.55
            self.channel_display = display
        else:
            warn("no 'lumen_fraction' field: the channel is not drawn")

        # Vesicles: iso-surfaces at fractions of the maximum.
        self.iso = None
        if self.vesicle_expression is not None:
            self.iso = pv.Contour(Input=point_source, ContourBy=["POINTS", "vesicles"],
                                  Isosurfaces=[1.0], ComputeScalars=1)
            display = pv.Show(self.iso, view)
            pv.ColorBy(display, ("POINTS", "vesicles"))
            display.Opacity = 0.45
            self.iso_display = display
            self.iso_lut = pv.GetColorTransferFunction("vesicles")
            self.iso_lut.ApplyPreset("Inferno (matplotlib)", True)
            self.iso_lut.AutomaticRescaleRangeMode = "Never"
            display.LookupTable = self.iso_lut
            bar = pv.GetScalarBar(self.iso_lut, view)
            self.style_bar(bar, self.field_title + " (particles/um^3)", "Lower Right Corner")
            bar.RangeLabelFormat = "%-#.2g"
            display.SetScalarBarVisibility(view, True)
        else:
            warn("no vesicle field: vesicles are not drawn")

        # Cells as points.
        self.cell_displays = []
        if self.cells is not None:
            self.build_cells()

        self.title = pv.Text(Text="")
        title_display = pv.Show(self.title, view)
        title_display.WindowLocation = "Upper Center"
        title_display.FontSize = 20
        title_display.Color = [0.0, 0.0, 0.0]
        self.subtitle = pv.Text(Text="")
        sub_display = pv.Show(self.subtitle, view)
        sub_display.WindowLocation = "Lower Left Corner"
        sub_display.FontSize = 12
        sub_display.Color = [0.2, 0.2, 0.2]
        self.place_camera()

    def build_cells(self):
        view = self.view
        self.cells.UpdatePipeline(self.timesteps[-1] if self.timesteps else 0.0)
        names = list(self.cells.PointData.keys())
        if "type" not in names:
            warn("the cells have no 'type' attribute: cells are not drawn")
            return
        if "state" in names:
            expression = "type + (type > 1.5) * max(state - 1, 0)"
        else:
            warn("the cells have no 'state' attribute: macrophages are not split by state")
            expression = "type"
        classes = pv.Calculator(Input=self.cells, AttributeType="Point Data",
                                ResultArrayName="cell_class", Function=expression)
        # Keep the cells inside the drawn box.
        cut = pv.Clip(Input=classes)
        cut.ClipType = "Plane"
        cut.ClipType.Origin = [0.0, 0.0, self.depth]
        cut.ClipType.Normal = [0.0, 0.0, 1.0]
        cut.Invert = 1
        cut.Crinkleclip = 1
        lut = pv.GetColorTransferFunction("cell_class")
        lut.InterpretValuesAsCategories = 1
        lut.Annotations = sum([["%d" % int(v), name] for v, name, _ in CELL_CLASSES], [])
        lut.IndexedColors = sum([c for _, _, c in CELL_CLASSES], [])
        diagonal = math.sqrt(sum((self.box[2 * i + 1] - self.box[2 * i]) ** 2 for i in range(3)))
        # Resident cells small and faint, macrophages larger.
        for low, high, radius, opacity in ((-0.5, 1.5, 0.0015, 0.35), (1.5, 3.5, 0.006, 1.0)):
            group = pv.Threshold(Input=cut, Scalars=["POINTS", "cell_class"])
            try:
                group.LowerThreshold, group.UpperThreshold = low, high
                group.ThresholdMethod = "Between"
            except AttributeError:
                group.ThresholdRange = [low, high]
            display = pv.Show(group, view)
            pv.ColorBy(display, ("POINTS", "cell_class"))
            display.LookupTable = lut
            try:
                display.SetRepresentationType("Point Gaussian")
                display.GaussianRadius = radius * diagonal
                display.ShaderPreset = "Sphere"
            except Exception:
                display.SetRepresentationType("Points")
                display.PointSize = 2 if high < 2 else 6
            display.Opacity = opacity
            self.cell_displays.append(display)
        self.cell_displays[-1].SetScalarBarVisibility(view, True)
        bar = pv.GetScalarBar(lut, view)
        self.style_bar(bar, "cells", "Upper Right Corner")

    @staticmethod
    def style_bar(bar, title, location):
        bar.Title = title
        bar.ComponentTitle = ""
        bar.TitleColor = [0.0, 0.0, 0.0]
        bar.LabelColor = [0.0, 0.0, 0.0]
        bar.TitleFontSize = 14
        bar.LabelFontSize = 12
        bar.WindowLocation = location
        try:
            bar.ScalarBarLength = 0.28
        except AttributeError:
            pass

    def place_camera(self):
        """Front-right, a little above the skin surface; -z (the surface) at the top."""
        b = self.box
        centre = [0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3]), 0.5 * (b[4] + b[5])]
        diagonal = math.sqrt(sum((b[2 * i + 1] - b[2 * i]) ** 2 for i in range(3))) or 1.0
        direction = [0.9, -1.6, -0.6]  # negative z: above the skin surface
        norm = math.sqrt(sum(c * c for c in direction))
        camera = self.view.GetActiveCamera()
        camera.SetFocalPoint(*centre)
        camera.SetPosition(*[centre[i] + 2.5 * diagonal * direction[i] / norm for i in range(3)])
        camera.SetViewUp(0.0, 0.0, -1.0)
        self.view.ResetCamera(b[0], b[1], b[2], b[3], b[4], b[5])
        camera.Zoom(0.85)  # room for the legends

    # ---- one picture -------------------------------------------------------------------------
    def render(self, t_s, png, fixed_max=None):
        view = self.view
        if t_s is not None:
            view.ViewTime = t_s
        notes = []
        if self.iso is not None:
            top = fixed_max if fixed_max is not None else self.field_max(t_s)
            if top > 0.0:
                levels = [f * top for f in ISO_FRACTIONS]
                self.iso.Isosurfaces = levels
                self.iso_lut.RescaleTransferFunction(min(levels), top)
                self.iso_lut.MapControlPointsToLogSpace()
                self.iso_lut.UseLogScale = 1
                self.iso_display.Visibility = 1
                notes.append("iso-surfaces at %s of max %.3g" %
                             (", ".join("%g%%" % (100 * f) for f in ISO_FRACTIONS), top))
            else:
                self.iso_display.Visibility = 0
                notes.append("no vesicles")
        if self.channel is not None:
            lumen = fetch_cell_array(self.fields, "lumen_fraction", t_s)
            open_channel = lumen is not None and lumen.size and lumen.max() >= 0.5
            self.channel_display.Visibility = 1 if open_channel else 0
            notes.append("channel (grey): lumen_fraction = 0.5" if open_channel else "channel closed")
        notes.append("box cut at depth %g um" % self.depth if self.depth < self.bounds[5] - 1e-6
                     else "depth %g um" % self.bounds[5])
        notes.append("z: depth into skin (um), surface at top")
        self.title.Text = "%s   %s" % (os.path.basename(self.args.xmf), time_label(t_s))
        self.subtitle.Text = "; ".join(notes)
        pv.Render(view)
        folder = os.path.dirname(os.path.abspath(png))
        os.makedirs(folder, exist_ok=True)
        pv.SaveScreenshot(png, view, ImageResolution=[self.args.width, self.args.height])
        print("rendered %s to %s (%s)" % (time_label(t_s), png, "; ".join(notes)))
        print_image_stats(png)


def print_image_stats(png):
    sys.path.insert(0, HERE)
    try:
        import image_stats
        s = image_stats.stats(png)
        print("image: width=%d height=%d colours=%d std=%.3f foreground=%.4f" % (
            s["width"], s["height"], s["colours"], s["std"], s["foreground"]))
    except Exception as error:  # statistics are a convenience for tests
        warn("no image statistics for %s: %s" % (png, error))
    sys.stdout.flush()


def nearest_time(timesteps, hours):
    if not timesteps:
        return None
    if hours is None:
        return timesteps[-1]
    target = hours * 3600.0
    best = min(timesteps, key=lambda t: abs(t - target))
    if abs(best - target) > 1e-6 * max(1.0, abs(target)):
        warn("no output at %g h: drawing the nearest output time, %s" % (hours, time_label(best)))
    return best


def main(argv):
    args = parse_arguments(argv)
    if not os.path.isfile(args.xmf):
        fail("no such file: " + args.xmf)
    if not args.xmf.endswith(".xmf"):
        warn("%s does not end in .xmf: expected the XDMF index beside the .h5" % args.xmf)
    scene = Scene(args)
    if args.frames:
        times = scene.timesteps or [None]
        fixed = None
        if scene.iso is not None:  # one colour scale and one set of levels for the whole series
            fixed = max(scene.field_max(t) for t in times)
        for index, t_s in enumerate(times):
            scene.render(t_s, os.path.join(args.frames, "frame_%03d.png" % index), fixed_max=fixed)
    else:
        scene.render(nearest_time(scene.timesteps, args.time), args.output)
    # Delete the view while its OpenGL context is valid (GLXBadContext at exit otherwise).
    pv.Delete(scene.view)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
