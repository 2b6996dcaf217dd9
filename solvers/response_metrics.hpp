// The response readouts MODEL.md section 7 asks for, from the response time series of a run,
// and their fold changes against the matched vehicle control.
#pragma once

#include "solvers/responses.hpp"

#include <string>
#include <vector>

namespace exoderm {

struct ResponseSample {
    double time_s = 0.0;
    ResponseReadout readout;
};

struct ResponseSummary {
    double collagen1_ng = 0.0; // new collagen at the end of the run
    double collagen3_ng = 0.0;
    double collagen3_to_1 = 0.0;
    double tnf_auc_ng_per_ml_day = 0.0;  // area under the dermis-mean TNF-alpha curve
    double tnf_peak_ng_per_ml = 0.0;
    // First time after the peak when TNF-alpha is below 10 % of its peak height above its
    // end-of-run level (NaN: never, or no peak above that level).
    double tnf_below_10pct_day = 0.0;
    double il10_auc_ng_per_ml_day = 0.0;
    double repair_fraction_day3 = 0.0;   // interpolated (NaN if the run is shorter)
    double repair_fraction_day7 = 0.0;
    // With a wound: first times the closed share reaches 50 % and 90 % (NaN: not in the run).
    bool wound = false;
    double wound_closure_50pct_s = 0.0;
    double wound_closure_90pct_s = 0.0;
};

// Summary of a series sampled in time order (trapezoidal areas, linear interpolation).
ResponseSummary summarise(const std::vector<ResponseSample>& series);

// The summary as named values with units (the order of the printed and stored tables).
struct NamedValue {
    std::string name;
    double value = 0.0;
    std::string units;
};
std::vector<NamedValue> readout_table(const ResponseSummary& summary);

struct FoldChange {
    std::string name;
    double with_evs = 0.0;
    double control = 0.0;
    double ratio = 0.0; // with_evs / control (NaN when the control is 0 or either is NaN)
    std::string units;
};

// EV run against the matched vehicle control: collagen I, III, III:I, TNF-alpha AUC and peak,
// IL-10 AUC, repair fraction at days 3 and 7, time for TNF-alpha to fall below 10 % of its peak.
std::vector<FoldChange> fold_changes(const ResponseSummary& with_evs, const ResponseSummary& control);

} // namespace exoderm
