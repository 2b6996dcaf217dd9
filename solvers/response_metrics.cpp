#include "solvers/response_metrics.hpp"

#include <cmath>
#include <limits>

namespace exoderm {

namespace {
constexpr double kDay = 86400.0;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double interpolate_at(const std::vector<ResponseSample>& s, double t, double ResponseReadout::*member) {
    for (std::size_t i = 1; i < s.size(); ++i)
        if (s[i].time_s >= t && s[i - 1].time_s <= t) {
            const double span = s[i].time_s - s[i - 1].time_s;
            const double w = span > 0.0 ? (t - s[i - 1].time_s) / span : 1.0;
            return (1.0 - w) * s[i - 1].readout.*member + w * s[i].readout.*member;
        }
    return kNaN;
}

// First time a rising member reaches `level` (linear between samples; NaN: never).
double first_reaching(const std::vector<ResponseSample>& s, double level, double ResponseReadout::*member) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i].readout.*member < level) continue;
        if (i == 0) return s[0].time_s;
        const double a = s[i - 1].readout.*member, b = s[i].readout.*member;
        const double w = b > a ? (level - a) / (b - a) : 1.0;
        return s[i - 1].time_s + w * (s[i].time_s - s[i - 1].time_s);
    }
    return kNaN;
}

double area(const std::vector<ResponseSample>& s, double ResponseReadout::*member) {
    double sum = 0.0;
    for (std::size_t i = 1; i < s.size(); ++i)
        sum += 0.5 * (s[i].readout.*member + s[i - 1].readout.*member) * (s[i].time_s - s[i - 1].time_s);
    return sum / kDay;
}
} // namespace

ResponseSummary summarise(const std::vector<ResponseSample>& s) {
    ResponseSummary out;
    if (s.empty()) return out;
    const auto& last = s.back().readout;
    out.collagen1_ng = last.collagen1_ng;
    out.collagen3_ng = last.collagen3_ng;
    out.collagen3_to_1 = last.collagen1_ng > 0.0 ? last.collagen3_ng / last.collagen1_ng : kNaN;
    out.tnf_auc_ng_per_ml_day = area(s, &ResponseReadout::tnf_ng_per_ml);
    out.il10_auc_ng_per_ml_day = area(s, &ResponseReadout::il10_ng_per_ml);
    std::size_t peak = 0;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (s[i].readout.tnf_ng_per_ml > s[peak].readout.tnf_ng_per_ml) peak = i;
    out.tnf_peak_ng_per_ml = s[peak].readout.tnf_ng_per_ml;
    // Resolution: the first time after the peak when TNF-alpha has fallen below 10 % of its
    // peak height above the level it settles at (its value at the end of the run); macrophages
    // never vanish in Waugh-Sherratt, so TNF-alpha itself never falls to 10 % of its peak.
    out.tnf_below_10pct_day = kNaN;
    const double floor_level = s.back().readout.tnf_ng_per_ml;
    const double threshold = floor_level + 0.1 * (out.tnf_peak_ng_per_ml - floor_level);
    if (out.tnf_peak_ng_per_ml > floor_level)
        for (std::size_t i = peak + 1; i < s.size(); ++i)
            if (s[i].readout.tnf_ng_per_ml <= threshold) {
                // Linear crossing between the samples.
                const double a = s[i - 1].readout.tnf_ng_per_ml, b = s[i].readout.tnf_ng_per_ml;
                const double w = a > b ? (a - threshold) / (a - b) : 1.0;
                out.tnf_below_10pct_day = (s[i - 1].time_s + w * (s[i].time_s - s[i - 1].time_s)) / kDay;
                break;
            }
    out.repair_fraction_day3 = interpolate_at(s, 3 * kDay, &ResponseReadout::repair_fraction);
    out.repair_fraction_day7 = interpolate_at(s, 7 * kDay, &ResponseReadout::repair_fraction);
    out.wound = last.wound;
    out.wound_closure_50pct_s = first_reaching(s, 0.5, &ResponseReadout::wound_closed_fraction);
    out.wound_closure_90pct_s = first_reaching(s, 0.9, &ResponseReadout::wound_closed_fraction);
    return out;
}

std::vector<NamedValue> readout_table(const ResponseSummary& r) {
    std::vector<NamedValue> table{{"new_collagen_I", r.collagen1_ng, "ng"},
            {"new_collagen_III", r.collagen3_ng, "ng"},
            {"collagen_III_to_I", r.collagen3_to_1, "1"},
            {"tnf_auc", r.tnf_auc_ng_per_ml_day, "ng/mL d"},
            {"tnf_peak", r.tnf_peak_ng_per_ml, "ng/mL"},
            {"il10_auc", r.il10_auc_ng_per_ml_day, "ng/mL d"},
            {"repair_fraction_day3", r.repair_fraction_day3, "1"},
            {"repair_fraction_day7", r.repair_fraction_day7, "1"},
            {"tnf_below_10pct_of_peak", r.tnf_below_10pct_day, "d"}};
    if (r.wound) {
        table.push_back({"wound_closure_50pct_time_s", r.wound_closure_50pct_s, "s"});
        table.push_back({"wound_closure_90pct_time_s", r.wound_closure_90pct_s, "s"});
    }
    return table;
}

std::vector<FoldChange> fold_changes(const ResponseSummary& e, const ResponseSummary& c) {
    const auto with_evs = readout_table(e), control = readout_table(c);
    std::vector<FoldChange> out;
    for (std::size_t i = 0; i < with_evs.size(); ++i) {
        const double a = with_evs[i].value, b = control[i].value;
        const double ratio = (b != 0.0 && std::isfinite(a) && std::isfinite(b)) ? a / b : kNaN;
        out.push_back({with_evs[i].name, a, b, ratio, with_evs[i].units});
    }
    return out;
}

} // namespace exoderm
