"""Distributions of outcomes over a sampled sweep (Latin hypercube or Sobol, e.g. batch-to-batch
variability drawn from lognormal or normal axes): histogram and empirical CDF of each key metric,
with quantiles, and the share of runs worse than the vehicle control for fold-change metrics."""

import re

import numpy as np

# Fold changes where a value above 1 is worse than the vehicle control (more inflammation);
# for the others a value below 1 is worse (less collagen or repair).
WORSE_ABOVE_ONE = ("fold_tnf_auc", "fold_tnf_peak", "fold_tnf_below_10pct_of_peak")


def design_of(sw):
    """The sweep design ("grid", "latin_hypercube", "sobol") from the table's identity attribute."""
    m = re.search(r'^design = "([a-z_]+)"', str(sw.attrs.get("identity", "")), re.M)
    return m.group(1) if m else "grid"


def is_sampled(sw):
    return design_of(sw) in ("latin_hypercube", "sobol")


def quantiles(values, probs=(0.05, 0.25, 0.5, 0.75, 0.95)):
    """Quantiles of the finite values (linear interpolation); NaN for none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.full(len(probs), np.nan)
    return np.quantile(v, probs)


def ecdf(values):
    """Sorted finite values and their empirical CDF i/n (i = 1..n)."""
    v = np.sort(np.asarray(values, dtype=float)[np.isfinite(values)])
    return v, np.arange(1, v.size + 1) / max(v.size, 1)


def worse_than_control(name, values):
    """Share of finite runs worse than the vehicle control for a fold_ metric (NaN otherwise)."""
    if not name.startswith("fold_"):
        return float("nan")
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan")
    worse = v > 1.0 if name in WORSE_ABOVE_ONE else v < 1.0
    return float(np.mean(worse))


def distribution_report(sw, rep, metrics, figure, finish, label, fmt):
    """Adds the histogram/ECDF plot and a quantile table for `metrics`; returns the Markdown table."""
    title = "Distributions of outcomes"
    present = [m for m in metrics if sw.metric(m) is not None and np.isfinite(sw.metric(m)).any()]
    if not present:
        rep.skip(title, "no finite metric values")
        return ""
    fig, axes = figure(2, len(present))
    for j, m in enumerate(present):
        y = sw.metric(m)
        y = y[np.isfinite(y)]
        top, bottom = axes[0, j], axes[1, j]
        top.hist(y, bins=max(5, min(30, int(np.sqrt(y.size)) + 1)), color="C0", alpha=0.8)
        top.set_title(m, fontsize=9)
        top.set_ylabel("runs")
        x, f = ecdf(y)
        bottom.step(x, f, where="post", color="C1")
        if m.startswith("fold_"):
            for ax in (top, bottom):
                ax.axvline(1.0, color="k", lw=0.8, ls="--")
        bottom.set_xlabel(label(m, sw.units.get(m, "")), fontsize=8)
        bottom.set_ylabel("ECDF")
        bottom.set_ylim(0, 1.02)
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7)
    finish(fig, "%s over %d sampled runs (dashed: the vehicle control, fold change 1)" % (title, int(np.sum(sw.ok))))
    rep.add_plot(fig, "distributions.png", title,
                 "Histogram (top) and empirical CDF (bottom) of each key metric over the finished runs of the "
                 "sampled design.")
    table = "## Distributions of outcomes (%s design)\n\n" % design_of(sw)
    table += "| metric | 5 % | 25 % | median | 75 % | 95 % | worse than vehicle |\n|---|---:|---:|---:|---:|---:|---:|\n"
    rep.say("distributions (5 %, median, 95 %):")
    for m in present:
        q = quantiles(sw.metric(m))
        w = worse_than_control(m, sw.metric(m))
        worse = "-" if np.isnan(w) else "%.0f %%" % (100 * w)
        table += "| `%s` | %s | %s |\n" % (m, " | ".join(fmt(v) for v in q), worse)
        rep.say("  %s: %s, %s, %s%s" % (m, fmt(q[0]), fmt(q[2]), fmt(q[4]),
                                        "" if worse == "-" else "; worse than vehicle in " + worse))
    return table + "\n"
