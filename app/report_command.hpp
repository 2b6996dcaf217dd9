// exoderm report RESULT.h5 [-o FOLDER]: plots and a Markdown summary of a run result or a sweep
// table, made by the Python package analysis/exoderm_report (run with /usr/bin/python3).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace exoderm {

struct ReportOptions {
    std::string result;  // RESULT.h5 (a run result or a sweep table)
    std::string output;  // report folder; empty: RESULT_report/ beside the result
    std::string python = "/usr/bin/python3";
};

// Adds the `report` subcommand to app, filling options when parsed.
CLI::App* add_report_subcommand(CLI::App& app, ReportOptions& options);

// Locates analysis/report.py: $EXODERM_ANALYSIS_DIR, then analysis/ next to (or above) the
// executable, then the source tree this file was compiled from. Empty if none has report.py.
std::string find_analysis_dir();

// Runs the Python report; returns its exit code (2 for bad input, 1 for a fault).
int run_report(const ReportOptions& options);

} // namespace exoderm
