#include "solvers/run_tracker.hpp"

#include "model/product_factors.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace exoderm {

void PeakMetrics::update(const PenetrationMetrics& p, double time_s) {
    fraction_viable_epidermis = std::max(fraction_viable_epidermis, p.fraction_of_dose[1]);
    if (p.fraction_of_dose[2] > fraction_dermis) {
        fraction_dermis = p.fraction_of_dose[2];
        fraction_dermis_time_s = time_s;
    }
    depth90_um = std::max(depth90_um, p.depth90_um);
}

void RunTracker::observe(const RunView& run, bool output) {
    measured_now_ = false;
    sampled_now_ = false;
    // Once transport has stopped the vesicle fields hardly change: a daily row is enough.
    const bool daily = std::fmod(run.time_s, 86400.0) < 1.0;
    if ((output || run.transport_active || daily) && run.time_s != last_time_s_) {
        last_time_s_ = run.time_s;
        last_ = measure_run(run);
        worst_balance_error_ = std::max(worst_balance_error_, last_.dose.balance_error_rel());
        peaks_.update(last_.penetration, run.time_s);
        if (run.cells) {
            reached_ = run.cells->reached_fraction();
            counts_ = run.cells->counts();
        }
        measured_now_ = true;
    }
    if (output && run.time_s <= scenario_.time.fine_until_s) {
        early_ = last_;
        early_time_s_ = run.time_s;
    }
    if (run.cells && (output || run.responses_advanced) &&
        (responses_.empty() || responses_.back().time_s != run.time_s)) {
        responses_.push_back({run.time_s, run.cells->readout()});
        sampled_now_ = true;
    }
}

namespace {
template <class IO, class Metrics>
void exchange_metrics(IO io, Metrics& m) {
    io.array("profile_free_amount", m.profile.free_amount);
    io.array("profile_bound_amount", m.profile.bound_amount);
    io.array("profile_max_free_concentration", m.profile.max_free_concentration);
    io.record("dose", m.dose);
    io.record("penetration", m.penetration);
    io.scalar("mouth_concentration_per_um3", m.mouth_concentration_per_um3);
    io.scalar("open_half_width_um", m.open_half_width_um);
}
} // namespace

template <class IO>
void RunTracker::exchange_state(IO& io) {
    exchange_metrics(io.in("last"), last_);
    exchange_metrics(io.in("early"), early_);
    io.scalar("last_time_s", last_time_s_);
    io.scalar("early_time_s", early_time_s_);
    io.scalar("worst_balance_error", worst_balance_error_);
    io.records("responses", responses_);
    io.array("reached", reached_);
    io.array("cell_counts", counts_);
    auto peaks = io.in("peaks");
    peaks.scalar("fraction_viable_epidermis", peaks_.fraction_viable_epidermis);
    peaks.scalar("fraction_dermis", peaks_.fraction_dermis);
    peaks.scalar("fraction_dermis_time_s", peaks_.fraction_dermis_time_s);
    peaks.scalar("depth90_um", peaks_.depth90_um);
}

void RunTracker::save_state(StateWriter& out) const {
    const_cast<RunTracker*>(this)->exchange_state(out); // a writer only reads the state
}

void RunTracker::load_state(const StateReader& in) {
    exchange_state(in);
    measured_now_ = sampled_now_ = false;
}

std::vector<NamedValue> RunTracker::summary() const {
    const auto& d = last_.dose;
    const auto& p = last_.penetration;
    const auto& e = early_.penetration;
    std::vector<NamedValue> v{
        {"applied", d.applied, "particles"},
        {"reservoir", d.reservoir, "particles"},
        {"free", d.free, "particles"},
        {"bound", d.bound, "particles"},
        {"degraded", d.degraded, "particles"},
        {"cleared", d.cleared, "particles"},
        {"delivered", d.delivered, "particles"},
        {"fraction_delivered", d.applied > 0 ? d.delivered / d.applied : 0.0, "1"},
        {"balance_error_rel_max", worst_balance_error_, "1"},
        {"fraction_stratum_corneum", p.fraction_of_dose[0], "1"},
        {"fraction_viable_epidermis", p.fraction_of_dose[1], "1"},
        {"fraction_dermis", p.fraction_of_dose[2], "1"},
        {"depth90_um", p.depth90_um, "um"},
        {"depth_1pct_um", p.depth_1pct_um, "um"},
        {"early_time_s", early_time_s_, "s"},
        {"early_fraction_viable_epidermis", e.fraction_of_dose[1], "1"},
        {"early_fraction_dermis", e.fraction_of_dose[2], "1"},
        {"early_depth90_um", e.depth90_um, "um"},
        {"early_depth_1pct_um", e.depth_1pct_um, "um"},
        {"peak_fraction_viable_epidermis", peaks_.fraction_viable_epidermis, "1"},
        {"peak_fraction_dermis", peaks_.fraction_dermis, "1"},
        {"peak_fraction_dermis_time_s", peaks_.fraction_dermis_time_s, "s"},
        {"max_depth90_um", peaks_.depth90_um, "um"}};
    if (!responses_.empty()) {
        for (int t = 0; t < kCellTypeCount; ++t) {
            const std::string type(kCellTypeKeys[t]);
            v.push_back({type + "_count", static_cast<double>(counts_[t]), "cells"});
            v.push_back({type + "_on_surface", d.on_cells[t], "particles"});
            v.push_back({type + "_internalised", d.internalised[t], "particles"});
            v.push_back({type + "_digested", d.digested_in_cells[t], "particles"});
            v.push_back({type + "_reached_fraction", reached_[t], "1"});
        }
        for (auto& r : readout_table(summarise(responses_))) v.push_back(std::move(r));
        // The resolved product factors (model/product_factors.hpp), so every result says what potency it ran with.
        const ProductFactors f = product_factors(scenario_);
        v.push_back({"product_source_potency", f.source_potency, "1"});
        v.push_back({"product_shelf_fraction", f.shelf, "1"});
        v.push_back({"product_donor_factor", f.donor, "1"});
        v.push_back({"product_contamination", f.contamination, "1"});
        v.push_back({"product_batch_potency", f.batch, "1"});
        v.push_back({"product_repair_potency", f.repair_potency(), "1"});
        v.push_back({"product_inflammatory_potency", f.inflammatory_potency(), "1"});
    }
    return v;
}

std::vector<NamedValue> control_summary(const std::vector<ResponseSample>& run,
                                        const std::vector<ResponseSample>& control) {
    std::vector<NamedValue> v;
    for (const auto& f : fold_changes(summarise(run), summarise(control))) {
        v.push_back({"control_" + f.name, f.control, f.units});
        v.push_back({"fold_" + f.name, f.ratio, "1"});
    }
    return v;
}

} // namespace exoderm
