"""exoderm_report: read exoderm results (HDF5) and make plots and a Markdown report.

From a notebook::

    import sys; sys.path.insert(0, "analysis")
    import exoderm_report as er
    r = er.load("result.h5")          # RunResult or SweepResult
    r.summary["fraction_delivered"]    # RunResult: the /summary attributes
    r.series("dose")["free"]           # RunResult: a series group as {column: array}
    er.make_report(r, "result_report")  # PNG plots + report.md; returns the Report

Command line: ``python3 analysis/report.py RESULT.h5 [-o FOLDER]`` or ``exoderm report``.
"""

from .data import ReportError, RunResult, SweepResult, load
from .stats import partial_rank_correlation, prcc, sensitivity, spearman
from .report import Report, make_report, format_number

__all__ = [
    "ReportError",
    "RunResult",
    "SweepResult",
    "load",
    "prcc",
    "partial_rank_correlation",
    "spearman",
    "sensitivity",
    "Report",
    "make_report",
    "format_number",
]
