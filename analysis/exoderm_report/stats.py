"""Sensitivity statistics: Spearman and partial rank correlation coefficients (PRCC)."""

import numpy as np
from scipy import stats as _stats


def _finite_rows(x, y):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    keep = np.isfinite(y) & np.all(np.isfinite(x), axis=1)
    return x[keep], y[keep]


def spearman(x, y):
    """Spearman rank correlation of x and y over the rows where both are finite (NaN if undefined)."""
    x, y = _finite_rows(x, y)
    if len(y) < 3 or np.ptp(x[:, 0]) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(_stats.spearmanr(x[:, 0], y).correlation)


def partial_rank_correlation(x, y):
    """PRCC of each column of x (n runs x k parameters) with y: rank-transform every column and y,
    remove the linear effect of the other ranked columns from both, and correlate the residuals.
    Returns an array of k coefficients in [-1, 1] (NaN where undefined, e.g. a constant column)."""
    x, y = _finite_rows(x, y)
    n, k = x.shape
    out = np.full(k, np.nan)
    if n < k + 2 or np.ptp(y) == 0:
        return out
    rx = np.column_stack([_stats.rankdata(x[:, j]) for j in range(k)])
    ry = _stats.rankdata(y)
    for j in range(k):
        if np.ptp(rx[:, j]) == 0:
            continue
        others = np.column_stack([np.ones(n)] + [rx[:, i] for i in range(k) if i != j and np.ptp(rx[:, i]) > 0])
        res_x = rx[:, j] - others @ np.linalg.lstsq(others, rx[:, j], rcond=None)[0]
        res_y = ry - others @ np.linalg.lstsq(others, ry, rcond=None)[0]
        sx, sy = np.sqrt(np.sum(res_x ** 2)), np.sqrt(np.sum(res_y ** 2))
        if sx <= 1e-12 * n or sy <= 1e-12 * n:
            continue
        out[j] = float(np.clip(np.sum(res_x * res_y) / (sx * sy), -1.0, 1.0))
    return out


prcc = partial_rank_correlation


def sensitivity(sweep, metrics):
    """Sensitivity of each metric to each numeric axis of a SweepResult.
    Returns (method, axis_indices, {metric: array of coefficients per axis}); method is "PRCC" with
    two or more numeric axes and "Spearman" with one."""
    axes = [k for k in range(len(sweep.axes)) if sweep.axis_is_numeric(k)]
    result = {}
    method = "PRCC" if len(axes) >= 2 else "Spearman"
    if not axes:
        return method, axes, result
    x = np.column_stack([sweep.axis_values(k) for k in axes])
    for m in metrics:
        y = sweep.metric(m)
        if y is None:
            continue
        if method == "PRCC":
            result[m] = partial_rank_correlation(x, y)
        else:
            result[m] = np.array([spearman(x[:, 0], y)])
    return method, axes, result
