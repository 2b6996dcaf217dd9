"""Loading exoderm results: single runs (docs/output-format.md) and sweep tables (docs/sweeps.md)."""

import os

import h5py
import numpy as np


class ReportError(Exception):
    """Bad input: a missing file or a file that is not a finished exoderm result (exit code 2)."""


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return value


def _attrs(obj):
    return {k: _text(v) for k, v in obj.attrs.items()}


class RunResult:
    """A finished `exoderm run` result. Everything small is read at load time; fields on demand."""

    kind = "run"

    def __init__(self, path, f):
        self.path = path
        self.attrs = _attrs(f)
        self.summary = {}
        self.summary_units = {}
        if "summary" in f:
            attrs = f["summary"].attrs
            for key in attrs.keys():
                if key.endswith("_units"):
                    continue
                value = attrs[key]
                try:
                    self.summary[key] = float(np.asarray(value).reshape(-1)[0])
                except (TypeError, ValueError):
                    continue
                units = attrs.get(key + "_units", "")
                self.summary_units[key] = _text(units) if units is not None else ""
        self._series = {}
        self._series_units = {}
        for name, obj in f.items():
            if not isinstance(obj, h5py.Group) or "columns" not in obj.attrs:
                continue
            columns = _text(obj.attrs["columns"]).split()
            self._series[name] = {c: np.asarray(obj[c][:], dtype=float) for c in columns if c in obj}
            self._series_units[name] = {c: _text(obj[c].attrs.get("units", "")) for c in columns if c in obj}
        self.grid = _attrs(f["grid"]) if "grid" in f else {}
        self.z_um = np.asarray(f["grid/z_um"][:]) if "grid/z_um" in f else None
        self.snapshot_times_s = (
            np.asarray(f["snapshots/time_s"][:], dtype=float) if "snapshots/time_s" in f else np.zeros(0)
        )
        self.layer = np.asarray(f["static/layer"][:]) if "static/layer" in f else None

    # --- series -------------------------------------------------------------------------------
    @property
    def series_names(self):
        return sorted(self._series)

    def has_series(self, name):
        return name in self._series and len(self._series[name].get("time_s", [])) > 0

    def series(self, name):
        """A series group as {column: float64 array}; {} if the file has no such group."""
        return self._series.get(name, {})

    def series_units(self, name):
        return self._series_units.get(name, {})

    # --- fields -------------------------------------------------------------------------------
    def snapshot_fields(self, k):
        """Names of the fields of snapshot k on the main grid."""
        with h5py.File(self.path, "r") as f:
            group = f.get("snapshots/%06d" % k)
            if group is None:
                return []
            return [n for n, o in group.items() if isinstance(o, h5py.Dataset)]

    def field(self, k, name):
        """Field `name` of snapshot k as a [nz][ny][nx] array."""
        with h5py.File(self.path, "r") as f:
            return np.asarray(f["snapshots/%06d/%s" % (k, name)][:])

    def depth_profiles(self, fields=("free", "bound")):
        """(times_s, z_um, profiles[n_times][nz]): the sum of `fields` averaged over x and y, per
        snapshot that has all of them (particles/um^3). None if no snapshot has them."""
        times, profiles = [], []
        with h5py.File(self.path, "r") as f:
            for k, t in enumerate(self.snapshot_times_s):
                group = f.get("snapshots/%06d" % k)
                if group is None or not all(n in group for n in fields):
                    continue
                total = None
                for n in fields:
                    data = np.asarray(group[n][:], dtype=float)
                    total = data if total is None else total + data
                times.append(t)
                profiles.append(total.mean(axis=(1, 2)))
        if not times or self.z_um is None:
            return None
        return np.asarray(times), self.z_um, np.asarray(profiles)

    def layer_boundaries_um(self):
        """Depths (um) where the layer (from /static/layer, by majority over x, y) changes."""
        if self.layer is None or self.z_um is None:
            return []
        per_z = np.round(np.median(self.layer.reshape(self.layer.shape[0], -1), axis=1))
        dz = float(self.grid.get("dz_um", self.z_um[1] - self.z_um[0] if len(self.z_um) > 1 else 0))
        return [float(self.z_um[i] - 0.5 * dz) for i in range(1, len(per_z)) if per_z[i] != per_z[i - 1]]


class SweepResult:
    """An `exoderm sweep` result table: one row per run under /runs."""

    kind = "sweep"

    def __init__(self, path, f):
        self.path = path
        self.attrs = _attrs(f)
        runs = f["runs"]
        self.axes = _text(runs.attrs.get("axes", "")).split()
        self.metrics = _text(runs.attrs.get("metrics", "")).split()
        self.columns = {}
        self.text_columns = {}
        for name, obj in runs.items():
            if not isinstance(obj, h5py.Dataset):
                continue
            if obj.dtype.kind in "OSU":
                self.text_columns[name] = [_text(v) for v in obj.asstr()[()]] if obj.dtype.kind == "O" else [
                    _text(v) for v in obj[()]]
            else:
                self.columns[name] = np.asarray(obj[:], dtype=float)
        self.units = {n: _text(runs[n].attrs.get("units", "")) for n in runs if "units" in runs[n].attrs}
        n = len(next(iter(self.columns.values()))) if self.columns else 0
        self.rows = n
        self.ok = self.columns.get("ok", np.ones(n)) == 1
        self.n_failed = int(np.sum(~self.ok))
        index = self.columns.get("index", np.arange(n, dtype=float))
        self.errors = ["run %d: %s" % (int(i), e or "(no message)")
                       for i, e, good in zip(index, self.text_columns.get("error", [""] * n), self.ok) if not good]

    def axis_column(self, k):
        return "axis_%d_%s" % (k, self.axes[k])

    def axis_values(self, k, ok_only=True):
        """Numeric values of axis k per run (NaN where not a number)."""
        v = self.columns.get(self.axis_column(k), np.full(self.rows, np.nan))
        return v[self.ok] if ok_only else v

    def axis_text(self, k, ok_only=True):
        t = self.text_columns.get(self.axis_column(k) + "_text", [""] * self.rows)
        return [x for x, good in zip(t, self.ok) if good or not ok_only]

    def axis_is_numeric(self, k):
        v = self.axis_values(k)
        return v.size > 0 and bool(np.all(np.isfinite(v)))

    def metric(self, name, ok_only=True):
        v = self.columns.get(name)
        if v is None:
            return None
        return v[self.ok] if ok_only else v

    def point(self, ok_only=True):
        p = self.columns.get("point", np.arange(self.rows, dtype=float))
        return p[self.ok] if ok_only else p


def load(path):
    """Open an exoderm result: RunResult for `exoderm run`, SweepResult for a sweep table.
    Raises ReportError (with a message naming the file) for bad input."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ReportError("result file '%s' not found" % path)
    if not os.path.isfile(path):
        raise ReportError("'%s' is not a file" % path)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ReportError("'%s' is not an HDF5 file (%s)" % (path, e))
    with f:
        attrs = f.attrs
        if _text(attrs.get("format", "")) == "exoderm-sweep":
            if "runs" not in f:
                raise ReportError("'%s' is a sweep table without /runs" % path)
            if "complete" in attrs and int(np.asarray(attrs["complete"]).reshape(-1)[0]) != 1:
                raise ReportError("'%s' is an unfinished sweep table (complete = 0)" % path)
            return SweepResult(path, f)
        if "complete" in attrs and "format_version" in attrs and ("dose" in f or "summary" in f):
            if int(np.asarray(attrs["complete"]).reshape(-1)[0]) != 1:
                raise ReportError("'%s' is an unfinished run result (complete = 0)" % path)
            return RunResult(path, f)
    raise ReportError("'%s' is not an exoderm result (neither a run result nor a sweep table)" % path)
