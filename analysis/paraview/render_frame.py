"""Render one frame of an exoderm result to a PNG with ParaView (pvbatch).

    xvfb-run -a -s "-screen 0 1280x1024x24" pvbatch --force-offscreen-rendering \
        analysis/paraview/render_frame.py RESULT.xmf FRAME.png [--field free] [--time LAST|INDEX]

RESULT.xmf is the XDMF index written next to RESULT.h5 by `exoderm run` (docs/output-format.md).
The picture shows the box outline, two vertical slices through the box centre (one along x, one
along y) coloured by the field, a colour bar with the field's units and the time. z is depth into
the skin: the camera's "up" is -z, so the skin surface is at the top of the image.

xvfb-run is needed because Debian's ParaView has no EGL/OSMesa offscreen build; one rare abort of
pvbatch has been seen, so callers retry once. Exit codes: 0 written, 2 bad arguments or data.
"""
import argparse
import math
import os
import re
import sys

from paraview import simple as pv


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="Render one exoderm snapshot to a PNG.")
    parser.add_argument("xmf", help="the .xmf index written beside the .h5 result")
    parser.add_argument("png", help="output image")
    parser.add_argument("--field", default="free", help="cell field to colour by (default: free)")
    parser.add_argument("--time", default="LAST",
                        help="LAST (default) or a snapshot index, 0-based; negative counts from the end")
    parser.add_argument("--mode", choices=("slices", "surface", "volume"), default="slices",
                        help="slices through the centre (default), the box surface, or a volume rendering")
    parser.add_argument("--log", action="store_true",
                        help="logarithmic colour scale (cells <= 0 are drawn light grey)")
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--height", type=int, default=600)
    return parser.parse_args(argv)


def fail(message):
    print("render_frame.py: " + message, file=sys.stderr)
    sys.exit(2)


def choose_time(timesteps, selector):
    """The snapshot time for LAST or an index; None when the file has no snapshots."""
    if not timesteps:
        return None
    if selector.upper() == "LAST":
        return timesteps[-1]
    try:
        index = int(selector)
    except ValueError:
        fail("--time must be LAST or an integer index, not '%s'" % selector)
    if not -len(timesteps) <= index < len(timesteps):
        fail("--time %d is out of range: the file has %d snapshots" % (index, len(timesteps)))
    return timesteps[index]


def field_units(xmf_path, field):
    """Units of the field from the HDF5 file (attribute "units"), or '' if h5py is unavailable."""
    try:
        import h5py
        with open(xmf_path, encoding="utf-8") as stream:
            text = stream.read()
        match = re.search(r'<Attribute Name="%s"[^>]*>\s*<DataItem[^>]*>([^<:]+):([^<]+)</DataItem>'
                          % re.escape(field), text)
        if not match:
            return ""
        h5_path = os.path.join(os.path.dirname(os.path.abspath(xmf_path)), match.group(1))
        with h5py.File(h5_path, "r") as h5:
            units = h5[match.group(2)].attrs.get("units", "")
        return units.decode() if isinstance(units, bytes) else str(units)
    except Exception:  # units only decorate the colour bar title
        return ""


def time_label(t_s):
    if t_s is None:
        return ""
    text = "t = %g s" % t_s
    if t_s >= 3600:
        text += " (%.3g h)" % (t_s / 3600.0)
    elif t_s >= 60:
        text += " (%.3g min)" % (t_s / 60.0)
    return text


def make_view(width, height):
    view = pv.CreateView("RenderView")
    view.ViewSize = [width, height]
    try:  # ParaView >= 5.10 takes the background from the colour palette unless told otherwise
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass
    view.Background = [1.0, 1.0, 1.0]
    view.OrientationAxesVisibility = 1
    view.OrientationAxesLabelColor = [0.0, 0.0, 0.0]
    return view


def colour_map(field, data_range, use_log):
    lut = pv.GetColorTransferFunction(field)
    lut.ApplyPreset("Viridis (matplotlib)", True)
    lut.AutomaticRescaleRangeMode = "Never"
    low, high = data_range
    if use_log:
        high = max(high, 1e-300)
        low = low if low > 0 else high * 1e-6  # log scale needs a positive lower end
    if not high > low:  # a constant field still gets a visible, valid range
        high = low + (abs(low) if low != 0 else 1.0)
    # Rescale before switching to log, so the map never holds a range that includes 0.
    lut.RescaleTransferFunction(low, high)
    if use_log:
        lut.MapControlPointsToLogSpace()  # keep the colours evenly spread over the decades
        lut.UseLogScale = 1
        lut.NanColor = [0.75, 0.75, 0.75]  # cells <= 0 have no logarithm: light grey
    opacity = pv.GetOpacityTransferFunction(field)
    opacity.RescaleTransferFunction(low, high)
    return lut


def show_field(source, view, field, mode, bounds):
    """Displays coloured by the cell field (slices through the centre, surface or volume) and the
    box outline. Returns the first coloured display."""
    centre = [0.5 * (bounds[0] + bounds[1]), 0.5 * (bounds[2] + bounds[3]), 0.5 * (bounds[4] + bounds[5])]
    shown = []
    if mode == "slices":
        for normal in ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]):
            plane = pv.Slice(Input=source)
            plane.SliceType = "Plane"
            plane.SliceType.Origin = centre
            plane.SliceType.Normal = normal
            shown.append(pv.Show(plane, view))
    else:
        display = pv.Show(source, view)
        display.SetRepresentationType("Volume" if mode == "volume" else "Surface")
        shown.append(display)
    for display in shown:
        pv.ColorBy(display, ("CELLS", field))
    # A separate filter: a second Show() of the same source would return the same display.
    outline = pv.Show(pv.Outline(Input=source), view)
    outline.AmbientColor = [0.0, 0.0, 0.0]
    outline.DiffuseColor = [0.0, 0.0, 0.0]
    return shown


def place_camera(view, bounds):
    """Look at the box from the front-right, a little above the skin surface (z = 0 at the top)."""
    centre = [0.5 * (bounds[0] + bounds[1]), 0.5 * (bounds[2] + bounds[3]), 0.5 * (bounds[4] + bounds[5])]
    diagonal = math.sqrt(sum((bounds[2 * i + 1] - bounds[2 * i]) ** 2 for i in range(3))) or 1.0
    direction = [0.9, -1.6, -0.8]  # -z is above the skin
    norm = math.sqrt(sum(c * c for c in direction))
    camera = view.GetActiveCamera()
    camera.SetFocalPoint(*centre)
    camera.SetPosition(*[centre[i] + 2.0 * diagonal * direction[i] / norm for i in range(3)])
    camera.SetViewUp(0.0, 0.0, -1.0)  # z points into the skin: show depth increasing downwards
    view.ResetCamera(False)  # fit the whole box
    camera.Zoom(0.9)  # leave room for the colour bar


def main(argv):
    args = parse_arguments(argv)
    if not os.path.isfile(args.xmf):
        fail("no such file: " + args.xmf)

    reader = pv.XDMFReader(FileNames=[os.path.abspath(args.xmf)])
    reader.UpdatePipelineInformation()
    # Results also hold point grids ("particles_*", "cells_*") and the response grid
    # ("responses_*", docs/output-format.md): this script draws the vesicle fields of the main
    # grid only ("snapshot_*" steps, or "static" in a file without snapshots).
    grid_info = list(reader.GetProperty("GridInfo") or [])
    grids = grid_info[0::2]
    field_grids = [name for name in grids if str(name).startswith(("snapshot", "static"))]
    if grids and len(field_grids) < len(grids):
        reader.GridStatus = field_grids
        reader.UpdatePipelineInformation()
    timesteps = reader.TimestepValues
    if isinstance(timesteps, (int, float)):
        timesteps = [timesteps]
    timesteps = list(timesteps or [])
    t_s = choose_time(timesteps, args.time)
    reader.UpdatePipeline(t_s if t_s is not None else 0.0)

    available = list(reader.CellData.keys())
    if args.field not in available:
        fail("field '%s' not in %s (cell fields: %s)" % (args.field, args.xmf, ", ".join(available) or "none"))
    data_range = reader.CellData[args.field].GetRange()
    bounds = reader.GetDataInformation().GetBounds()
    if not all(math.isfinite(b) for b in bounds) or bounds[1] <= bounds[0]:
        fail("no grid could be read from " + args.xmf)

    view = make_view(args.width, args.height)
    if t_s is not None:
        view.ViewTime = t_s
    displays = show_field(reader, view, args.field, args.mode, bounds)
    # After ColorBy, which would otherwise rescale the colours to the first slice's range.
    lut = colour_map(args.field, data_range, args.log)
    for display in displays:
        display.LookupTable = lut

    units = field_units(args.xmf, args.field)
    bar = pv.GetScalarBar(lut, view)
    bar.Title = args.field + (" (%s)" % units if units else "")
    bar.ComponentTitle = ""
    bar.TitleColor = [0.0, 0.0, 0.0]
    bar.LabelColor = [0.0, 0.0, 0.0]
    bar.RangeLabelFormat = "%-#.3g"
    displays[0].SetScalarBarVisibility(view, True)

    title = pv.Text(Text="%s   %s   (z: depth into skin, um)" % (os.path.basename(args.xmf), time_label(t_s)))
    title_display = pv.Show(title, view)
    title_display.WindowLocation = "Upper Left Corner"
    title_display.FontSize = 14
    title_display.Color = [0.0, 0.0, 0.0]

    place_camera(view, bounds)
    pv.Render(view)
    pv.SaveScreenshot(args.png, view, ImageResolution=[args.width, args.height])
    # Delete the view while its OpenGL context is still valid: left to interpreter shutdown,
    # ParaView 5.11 under Xvfb fails with "GLXBadContext" and exit code 1 after writing the PNG.
    pv.Delete(view)
    print("rendered '%s' at %s, range %.4g..%.4g, to %s"
          % (args.field, time_label(t_s) or "no time", data_range[0], data_range[1], args.png))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
