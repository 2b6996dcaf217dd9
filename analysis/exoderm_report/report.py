"""Plots (PNG, 1200 x 800 px) and report.md for a run result or a sweep table."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .data import RunResult, SweepResult  # noqa: E402
from .distributions import distribution_report, is_sampled  # noqa: E402
from .stats import sensitivity  # noqa: E402

FIGSIZE = (12, 8)  # inches
DPI = 100  # -> 1200 x 800 px
WIDTH_PX, HEIGHT_PX = 1200, 800

SUMMARY_FIRST = [
    "applied", "delivered", "fraction_delivered", "reservoir", "free", "bound", "degraded", "cleared",
    "balance_error_rel_max", "depth90_um", "depth_1pct_um", "fraction_stratum_corneum",
    "fraction_viable_epidermis", "fraction_dermis", "peak_fraction_viable_epidermis", "peak_fraction_dermis",
    "peak_fraction_dermis_time_s", "max_depth90_um",
]

SWEEP_METRICS = [
    "fraction_delivered", "keratinocytes_reached_fraction", "fold_new_collagen_I", "fold_new_collagen_III",
    "fold_tnf_auc", "depth90_um", "peak_fraction_dermis", "max_depth90_um",
]

DOSE_COLUMNS = ["reservoir", "free", "bound", "on_cells", "internalised", "digested_in_cells", "degraded", "cleared"]


def format_number(value):
    """The report's number format: %.6g."""
    return "%.6g" % value


class Report:
    """What was made: plots [(file name, title)], notes (skipped plots and why), the Markdown text."""

    def __init__(self, folder):
        self.folder = folder
        self.plots = []
        self.notes = []
        self.sections = []  # Markdown blocks, in order
        self.lines = []  # stdout lines

    def add_plot(self, fig, name, title, caption=""):
        fig.set_size_inches(*FIGSIZE)
        path = os.path.join(self.folder, name)
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
        self.plots.append((name, title))
        block = "### %s\n\n![%s](%s)\n" % (title, title, name)
        if caption:
            block += "\n" + caption + "\n"
        self.sections.append(block)

    def skip(self, title, reason):
        self.notes.append("%s: %s" % (title, reason))
        self.sections.append("### %s\n\n*Skipped: %s.*\n" % (title, reason))

    def say(self, line=""):
        self.lines.append(line)
        print(line)


def _figure(rows=1, cols=1):
    fig, axes = plt.subplots(rows, cols, figsize=FIGSIZE, dpi=DPI, squeeze=False)
    return fig, axes


def _finish(fig, title):
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.96))


def _time_axis(t_s):
    t_s = np.asarray(t_s, dtype=float)
    end = float(np.nanmax(t_s)) if t_s.size else 0.0
    if end >= 2 * 86400:
        return t_s / 86400.0, "time (d)"
    return t_s / 3600.0, "time (h)"


def _label(name, units):
    return "%s (%s)" % (name, units) if units and units != "1" else name


# ------------------------------------------------------------------------------------------------
# single run
# ------------------------------------------------------------------------------------------------

def _plot_depth_profile(r, rep):
    title = "Depth profile of vesicles (free + bound) over time"
    if r.snapshot_times_s.size == 0:
        return rep.skip(title, "the result has no snapshots")
    prof = r.depth_profiles(("free", "bound"))
    if prof is None:
        return rep.skip(title, "the snapshots have no free and bound fields (output.fields = false?)")
    times, z, p = prof
    fig, axes = _figure()
    ax = axes[0, 0]
    colours = plt.cm.viridis(np.linspace(0, 1, len(times)))
    positive = np.any(p > 0)
    t_plot, t_label = _time_axis(times)
    for t, row, c in zip(t_plot, p, colours):
        # On the log scale an empty profile (e.g. at t = 0) draws nothing: say so in the legend.
        empty = positive and not np.any(row > 0)
        ax.plot(z, row, color=c, label=format_number(t) + (" (none in the skin)" if empty else ""))
    if positive:
        ax.set_yscale("log")
        top = float(np.max(p))
        ax.set_ylim(top * 1e-8, top * 2)
    for b in r.layer_boundaries_um():
        ax.axvline(b, color="grey", ls=":", lw=1)
    ax.set_xlabel("depth z (um), 0 = skin surface")
    ax.set_ylabel("free + bound, mean over x, y (particles/um^3)")
    ax.legend(title=t_label, fontsize=9)
    ax.grid(alpha=0.3)
    _finish(fig, title)
    rep.add_plot(fig, "depth_profile.png", title, "Dotted lines: layer boundaries (from /static/layer).")


def _plot_dose_balance(r, rep):
    title = "Dose balance over time"
    d = r.series("dose")
    if not r.has_series("dose"):
        return rep.skip(title, "no /dose series")
    cols = [c for c in DOSE_COLUMNS if c in d]
    t, tl = _time_axis(d["time_s"])
    units = r.series_units("dose").get("applied", "particles")
    fig, axes = _figure(1, 2)
    ax = axes[0, 0]
    ax.stackplot(t, *[d[c] for c in cols], labels=cols)
    if "applied" in d:
        ax.plot(t, d["applied"], "k--", lw=1.5, label="applied")
    ax.set_xlabel(tl)
    ax.set_ylabel(_label("amount", units))
    ax.set_title("all compartments")
    ax.legend(fontsize=8, loc="lower right")
    ax = axes[0, 1]
    rest = [c for c in cols if c != "reservoir"]
    ax.stackplot(t, *[d[c] for c in rest], labels=rest, colors=plt.rcParams["axes.prop_cycle"].by_key()["color"][1:])
    if "delivered" in d:
        ax.plot(t, d["delivered"], "k--", lw=1.5, label="delivered")
    ax.set_xlabel(tl)
    ax.set_ylabel(_label("amount", units))
    ax.set_title("without the reservoir (what entered the skin)")
    # Outside the axes: the stack fills the panel from the first minutes on.
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _finish(fig, title)
    rep.add_plot(fig, "dose_balance.png", title, "Stacked areas; columns of /dose.")


def _plot_layer_fractions(r, rep):
    title = "Fraction of the applied dose per skin layer"
    p = r.series("penetration")
    cols = [c for c in ("fraction_stratum_corneum", "fraction_viable_epidermis", "fraction_dermis") if c in p]
    if not r.has_series("penetration") or not cols:
        return rep.skip(title, "no layer fractions in /penetration")
    t, tl = _time_axis(p["time_s"])
    fig, axes = _figure()
    ax = axes[0, 0]
    for c in cols:
        ax.plot(t, p[c], label=c.replace("fraction_", "").replace("_", " "))
    ax.set_xlabel(tl)
    ax.set_ylabel("fraction of applied dose")
    ax.legend()
    ax.grid(alpha=0.3)
    _finish(fig, title)
    rep.add_plot(fig, "layer_fractions.png", title)


def _plot_penetration_depth(r, rep):
    title = "Penetration depth over time"
    p = r.series("penetration")
    cols = [c for c in ("depth90_um", "depth_1pct_um") if c in p]
    if not r.has_series("penetration") or not cols:
        return rep.skip(title, "no penetration depths in /penetration")
    t, tl = _time_axis(p["time_s"])
    fig, axes = _figure()
    ax = axes[0, 0]
    names = {"depth90_um": "depth holding 90% of the vesicles in the skin",
             "depth_1pct_um": "depth where the concentration falls to 1% of the surface value"}
    for c in cols:
        ax.plot(t, p[c], label="%s: %s" % (c, names[c]))
    for b in r.layer_boundaries_um():
        ax.axhline(b, color="grey", ls=":", lw=1)
    ax.set_xlabel(tl)
    ax.set_ylabel("depth (um)")
    ax.invert_yaxis()
    ax.legend()
    ax.grid(alpha=0.3)
    _finish(fig, title)
    rep.add_plot(fig, "penetration_depth.png", title, "Dotted lines: layer boundaries.")


def _cell_types(series):
    return [c[: -len("_count")] for c in series if c.endswith("_count")]


def _plot_cell_uptake(r, rep):
    title = "Cells reached and uptake per cell type"
    c = r.series("cell_uptake")
    types = _cell_types(c)
    if not r.has_series("cell_uptake") or not types:
        return rep.skip(title, "no /cell_uptake series (cells disabled?)")
    t, tl = _time_axis(c["time_s"])
    fig, axes = _figure(1, 2)
    ax = axes[0, 0]
    for ty in types:
        if ty + "_reached_fraction" in c:
            ax.plot(t, c[ty + "_reached_fraction"], label=ty)
    ax.set_xlabel(tl)
    ax.set_ylabel("fraction of cells reached")
    ax.set_title("cells reached")
    ax.legend()
    ax.grid(alpha=0.3)
    ax = axes[0, 1]
    any_positive = False
    for ty in types:
        count = c[ty + "_count"]
        total = sum(c.get(ty + "_" + s, 0 * count) for s in ("on_surface", "internalised", "digested"))
        with np.errstate(divide="ignore", invalid="ignore"):
            per_cell = np.where(count > 0, total / count, np.nan)
        any_positive |= bool(np.any(per_cell > 0))
        ax.plot(t, per_cell, label=ty)
    if any_positive:
        ax.set_yscale("log")
        top = max(float(np.nanmax(l.get_ydata())) for l in ax.get_lines())
        ax.set_ylim(top * 1e-6, top * 2)
    ax.set_xlabel(tl)
    ax.set_ylabel("vesicles per cell (on surface + internalised + digested)")
    ax.set_title("uptake per cell")
    ax.legend()
    ax.grid(alpha=0.3)
    _finish(fig, title)
    rep.add_plot(fig, "cell_uptake.png", title)


def _plot_vs_control(r, rep, columns, file_name, title):
    s, ctrl = r.series("responses"), r.series("control_responses")
    present = [(col, name) for col, name in columns if col in s]
    if not r.has_series("responses") or not present:
        return rep.skip(title, "no /responses series (cells or responses disabled?)")
    units = r.series_units("responses")
    fig, axes = _figure(1, len(present))
    for ax, (col, name) in zip(axes[0], present):
        t, tl = _time_axis(s["time_s"])
        ax.plot(t, s[col], color="C0", label="with EVs")
        if col in ctrl and len(ctrl.get("time_s", [])):
            tc = ctrl["time_s"] / (86400.0 if tl == "time (d)" else 3600.0)
            ax.plot(tc, ctrl[col], color="C1", ls="--", label="vehicle control")
        ax.set_xlabel(tl)
        ax.set_ylabel(_label(name, units.get(col, "")))
        ax.set_title(name)
        ax.legend()
        ax.grid(alpha=0.3)
    _finish(fig, title)
    caption = "Solid: with EVs (/responses); dashed: vehicle control (/control_responses)."
    if not r.has_series("control_responses"):
        caption = "No vehicle control in this result (responses.vehicle_control = false)."
    rep.add_plot(fig, file_name, title, caption)


def run_report(r, rep):
    rep.say("exoderm report: run result %s" % r.path)
    rep.say("scenario: %s, exoderm %s (%s), seed %s" % (
        r.attrs.get("scenario_name", "?"), r.attrs.get("exoderm_version", "?"), r.attrs.get("git_commit", "?"),
        r.attrs.get("seed", "?")))
    # summary
    order = [k for k in SUMMARY_FIRST if k in r.summary] + sorted(k for k in r.summary if k not in SUMMARY_FIRST)
    rep.say("summary (from /summary):")
    rows = []
    for k in order:
        units = r.summary_units.get(k, "")
        rep.say("  %s = %s %s" % (k, format_number(r.summary[k]), units) if units and units != "1" else
                "  %s = %s" % (k, format_number(r.summary[k])))
        rows.append("| `%s` | %s | %s |" % (k, format_number(r.summary[k]), units))
    summary_md = "## Summary\n\nEnd-of-run metrics as stored in `/summary` (%%.6g).\n\n" \
                 "| metric | value | units |\n|---|---:|---|\n%s\n" % "\n".join(rows)

    rep.sections.append("## Plots\n")
    _plot_depth_profile(r, rep)
    _plot_dose_balance(r, rep)
    _plot_layer_fractions(r, rep)
    _plot_penetration_depth(r, rep)
    _plot_cell_uptake(r, rep)
    _plot_vs_control(r, rep, [("tnf_alpha", "TNF-alpha"), ("il10", "IL-10"), ("repair_fraction", "repair fraction")],
                     "inflammation.png", "Inflammation: TNF-alpha, IL-10 and repair macrophage fraction")
    _plot_vs_control(r, rep, [("new_collagen_I", "new collagen I"), ("new_collagen_III", "new collagen III")],
                     "collagen.png", "New collagen I and III")

    head = "# exoderm report: %s\n\n" % os.path.basename(r.path)
    head += "| | |\n|---|---|\n"
    for key in ("scenario_name", "exoderm_version", "git_commit", "seed", "created", "command_line"):
        if key in r.attrs:
            head += "| %s | `%s` |\n" % (key, str(r.attrs[key]).replace("|", "\\|"))
    head += "| result file | `%s` |\n" % os.path.abspath(r.path)
    return head + "\n" + summary_md + "\n" + "\n".join(rep.sections)


# ------------------------------------------------------------------------------------------------
# sweep table
# ------------------------------------------------------------------------------------------------

def _group_stats(x, y):
    """Per distinct x: (x, mean, sd, min, max, n) of the finite y."""
    out = []
    for v in np.unique(x):
        sel = y[(x == v) & np.isfinite(y)]
        if sel.size == 0:
            continue
        out.append((v, sel.mean(), sel.std(ddof=1) if sel.size > 1 else 0.0, sel.min(), sel.max(), sel.size))
    return np.array(out) if out else np.zeros((0, 6))


def _metric_panels(sw):
    return [m for m in SWEEP_METRICS if sw.metric(m) is not None]


def _panel_figure(n):
    """A figure with room for n metric panels, three per row."""
    return _figure(max(1, (n + 2) // 3), 3)


def _plot_dose_response(sw, rep, k):
    key = sw.axes[k]
    title = "Dose response: %s" % key
    if not sw.axis_is_numeric(k):
        return rep.skip(title, "axis %d (%s) has values that are not numbers" % (k, key))
    metrics = _metric_panels(sw)
    x = sw.axis_values(k)
    fig, axes = _panel_figure(len(metrics))
    log_x = bool(np.all(x > 0) and x.max() / x.min() >= 100)
    for ax, m in zip(axes.flat, metrics):
        y = sw.metric(m)
        g = _group_stats(x, y)
        if g.shape[0] == 0:
            ax.text(0.5, 0.5, "no finite values", ha="center", transform=ax.transAxes)
        else:
            ax.fill_between(g[:, 0], g[:, 3], g[:, 4], color="C0", alpha=0.15, label="min-max")
            ax.fill_between(g[:, 0], g[:, 1] - g[:, 2], g[:, 1] + g[:, 2], color="C0", alpha=0.3, label="mean +- SD")
            ax.plot(g[:, 0], g[:, 1], "o-", color="C0", label="mean")
            ax.plot(x, y, ".", color="k", ms=3, alpha=0.5, label="runs")
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel(_label(key, sw.units.get(sw.axis_column(k), "")))
        ax.set_ylabel(_label(m, sw.units.get(m, "")))
        ax.set_title(m)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    if metrics:
        axes.flat[0].legend(fontsize=8)
    _finish(fig, title + " (other axes pooled; bands over replicates and other axes)")
    rep.add_plot(fig, "dose_response_axis_%d.png" % k, title,
                 "Mean, mean +- SD and min-max over the finished runs at each value of `%s`." % key)


def _categories(sw, k):
    if sw.axis_is_numeric(k):
        v = sw.axis_values(k)
        levels = np.unique(v)
        return v, levels, [format_number(l) for l in levels]
    text = sw.axis_text(k)
    levels = list(dict.fromkeys(text))
    codes = np.array([levels.index(t) for t in text], dtype=float)
    return codes, np.arange(len(levels), dtype=float), levels


def _plot_heatmap(sw, rep, i, j):
    title = "Heatmaps: %s x %s" % (sw.axes[i], sw.axes[j])
    metrics = _metric_panels(sw)
    xi, li, ti = _categories(sw, i)
    xj, lj, tj = _categories(sw, j)
    fig, axes = _panel_figure(len(metrics))
    for ax, m in zip(axes.flat, metrics):
        y = sw.metric(m)
        grid = np.full((len(lj), len(li)), np.nan)
        for a, va in enumerate(li):
            for b, vb in enumerate(lj):
                sel = y[(xi == va) & (xj == vb) & np.isfinite(y)]
                if sel.size:
                    grid[b, a] = sel.mean()
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        fig.colorbar(im, ax=ax, label=_label(m, sw.units.get(m, "")))
        ax.set_xticks(range(len(li)))
        ax.set_xticklabels(ti, rotation=30, fontsize=8)
        ax.set_yticks(range(len(lj)))
        ax.set_yticklabels(tj, fontsize=8)
        ax.set_xlabel(sw.axes[i])
        ax.set_ylabel(sw.axes[j])
        ax.set_title(m)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    _finish(fig, title + " (mean over replicates and other axes)")
    rep.add_plot(fig, "heatmap_axis_%d_%d.png" % (i, j), title,
                 "Each cell: the mean of the metric over replicates and all other axes.")


def _plot_sensitivity(sw, rep):
    title = "Sensitivity ranking"
    metrics = _metric_panels(sw)
    method, axes_idx, coeff = sensitivity(sw, metrics)
    if not axes_idx:
        rep.skip(title, "no numeric axis")
        return method, axes_idx, coeff
    fig, axes = _figure()
    ax = axes[0, 0]
    names = [m for m in metrics if m in coeff]
    width = 0.8 / max(1, len(axes_idx))
    for a, k in enumerate(axes_idx):
        vals = [coeff[m][a] for m in names]
        ax.bar(np.arange(len(names)) + (a - (len(axes_idx) - 1) / 2) * width, np.nan_to_num(vals), width,
               label=sw.axes[k])
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=15)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel(method + " coefficient")
    ax.legend(title="axis")
    ax.grid(alpha=0.3, axis="y")
    _finish(fig, "%s: %s of each axis with each key metric" % (title, method))
    caption = ("Partial rank correlation coefficients (PRCC): rank correlation of an axis with the metric after "
               "removing the linear effect of the ranks of the other axes." if method == "PRCC" else
               "One numeric axis: Spearman rank correlation (PRCC needs two or more axes).")
    rep.add_plot(fig, "sensitivity.png", title, caption)
    return method, axes_idx, coeff


def sweep_report(sw, rep):
    n_ok = int(np.sum(sw.ok))
    rep.say("exoderm report: sweep table %s" % sw.path)
    rep.say("runs: %d in the table, %d finished, %d failed (excluded)" % (sw.rows, n_ok, sw.n_failed))
    rep.say("axes: %s" % ", ".join("%d %s" % (k, a) for k, a in enumerate(sw.axes)))
    rep.sections.append("## Plots\n")
    if n_ok == 0:
        rep.skip("All plots", "no finished runs")
        method, axes_idx, coeff = "PRCC", [], {}
    else:
        for k in range(len(sw.axes)):
            _plot_dose_response(sw, rep, k)
        if len(sw.axes) >= 2:
            pairs = [(i, j) for i in range(len(sw.axes)) for j in range(i + 1, len(sw.axes))][:6]
            for i, j in pairs:
                _plot_heatmap(sw, rep, i, j)
        method, axes_idx, coeff = _plot_sensitivity(sw, rep)

    table = ""
    if coeff:
        header = "| metric | " + " | ".join("`%s`" % sw.axes[k] for k in axes_idx) + " | most sensitive to |\n"
        header += "|---|" + "---:|" * len(axes_idx) + "---|\n"
        rep.say("sensitivity (%s):" % method)
        body = ""
        for m, c in coeff.items():
            if np.all(np.isnan(c)):
                top = "-"
            else:
                order = np.argsort(-np.nan_to_num(np.abs(c), nan=-1))
                top = ", ".join(sw.axes[axes_idx[a]] for a in order if np.isfinite(c[a]))
            body += "| `%s` | %s | %s |\n" % (m, " | ".join(format_number(v) for v in c), top)
            rep.say("  %s: %s" % (m, ", ".join("%s = %s" % (sw.axes[k], format_number(v))
                                                for k, v in zip(axes_idx, c))))
        table = "## Sensitivity (%s)\n\n%s\n\n%s%s" % (
            method,
            "Ranked by |coefficient| (axes in the last column, most sensitive first); %d finished runs."
            % n_ok, header, body)

    if n_ok and is_sampled(sw):
        table += "\n" + distribution_report(sw, rep, _metric_panels(sw), _figure, _finish, _label, format_number)

    head = "# exoderm report: sweep %s\n\n" % os.path.basename(sw.path)
    head += "| | |\n|---|---|\n"
    head += "| runs | %d (%d finished, %d failed and excluded) |\n" % (sw.rows, n_ok, sw.n_failed)
    for k, a in enumerate(sw.axes):
        levels = list(dict.fromkeys(sw.axis_text(k, ok_only=False)))
        head += "| axis %d | `%s`: %s |\n" % (k, a, ", ".join(levels))
    for key in ("exoderm_version", "git_commit", "command_line"):
        if sw.attrs.get(key):
            head += "| %s | `%s` |\n" % (key, str(sw.attrs[key]).replace("|", "\\|"))
    head += "| result file | `%s` |\n" % os.path.abspath(sw.path)
    if sw.n_failed:
        head += "\nFailed runs (excluded):\n\n" + "".join("- %s\n" % e for e in sw.errors[:20])
    return head + "\n" + table + "\n" + "\n".join(rep.sections)


# ------------------------------------------------------------------------------------------------

def default_folder(path):
    base, _ = os.path.splitext(os.fspath(path))
    return base + "_report"


def make_report(result, folder=None):
    """Write the plots and report.md of a RunResult or SweepResult into folder (made if needed;
    default RESULT_report beside the result). Returns the Report."""
    folder = folder or default_folder(result.path)
    os.makedirs(folder, exist_ok=True)
    rep = Report(folder)
    if isinstance(result, SweepResult):
        text = sweep_report(result, rep)
    elif isinstance(result, RunResult):
        text = run_report(result, rep)
    else:
        raise TypeError("make_report needs a RunResult or SweepResult")
    if rep.notes:
        text += "\n## Notes\n\n" + "".join("- %s\n" % n for n in rep.notes)
    with open(os.path.join(folder, "report.md"), "w", encoding="utf-8") as out:
        out.write(text)
    rep.say("plots:")
    for name, title in rep.plots:
        rep.say("  %s" % os.path.join(folder, name))
    for n in rep.notes:
        rep.say("skipped: %s" % n)
    rep.say("report: %s" % os.path.join(folder, "report.md"))
    return rep
