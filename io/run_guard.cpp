#include "io/run_guard.hpp"

#include "model/errors.hpp"
#include "solvers/field_health.hpp"

#include <cstdio>
#include <cstring>
#include <limits>

namespace exoderm {

std::string signal_name(int signal_number) {
    const char* abbreviation = sigabbrev_np(signal_number);
    return abbreviation ? std::string("SIG") + abbreviation : "signal " + std::to_string(signal_number);
}

RunGuard::RunGuard(Recorder* recorder, const Simulation& simulation, std::string label, bool keep_last_good,
                   std::function<int()> stop_signal)
    : recorder_(recorder), simulation_(simulation), label_(std::move(label)),
      keep_last_good_(keep_last_good && recorder != nullptr),
      negative_floor_(kNegativeTolerance * simulation.transport().applied_concentration()),
      stop_signal_(std::move(stop_signal)) {
    if (keep_last_good_) {
        free_.resize(simulation.tissue().grid().size());
        bound_.resize(free_.size());
        spare_free_.resize(free_.size());
        spare_bound_.resize(free_.size());
    }
}

void RunGuard::on_step(const RunView& run) { check(run); }

void RunGuard::on_output(std::size_t, const RunView& run) {
    if (const int sig = stop_signal_ ? stop_signal_() : 0) stop_for_signal(run, sig);
}

void RunGuard::check(const RunView& run) {
    const Transport& t = run.transport;
    auto& free = free_classes_;
    auto& bound = bound_classes_;
    free.clear();
    bound.clear();
    for (std::size_t k = 0; k < t.field_classes(); ++k) {
        free.push_back(t.free_class(k));
        bound.push_back(t.bound_class(k));
    }
    // One pass checks the classes and sums them into the spare copy; only a healthy step makes
    // the spare the last good state, so a faulty step never overwrites it. A step in which
    // transport stood still changed only the free fields where cells released vesicles: those
    // voxels are all there is to check and to copy (once a full copy exists).
    const bool everywhere = run.vesicles_stepped || (keep_last_good_ && last_good_s_ < 0.0);
    bool healthy = true;
    if (everywhere) {
        healthy = sum_classes_if_healthy(free, negative_floor_, spare_free_) &&
                  sum_classes_if_healthy(bound, negative_floor_, spare_bound_);
        if (healthy && keep_last_good_) {
            free_.swap(spare_free_);
            bound_.swap(spare_bound_);
        }
    } else if (run.cells) {
        const auto voxels = run.cells->released_voxels();
        healthy = sum_classes_at_if_healthy(free, negative_floor_, voxels, {});
        if (healthy && keep_last_good_) sum_classes_at_if_healthy(free, negative_floor_, voxels, free_);
    }
    if (!healthy) {
        const Grid& grid = simulation_.tissue().grid();
        for (std::size_t k = 0; k < t.field_classes(); ++k) {
            const std::string suffix = " (size class " + std::to_string(k) + ", particles/um^3)";
            FieldHealth h = scan_field_health(free[k], negative_floor_);
            if (!h.ok())
                stop_for_fault(describe_field_fault(h, "free vesicle concentration" + suffix, run.time_s, grid,
                                                    &simulation_.tissue()));
            h = scan_field_health(bound[k], negative_floor_);
            if (!h.ok())
                stop_for_fault(describe_field_fault(h, "bound vesicle concentration" + suffix, run.time_s, grid,
                                                    &simulation_.tissue()));
        }
    }
    if (run.cells && run.responses_advanced) {
        // Response fields: finiteness only; their solvers clip at zero by construction.
        const Responses& r = run.cells->responses();
        const std::pair<const char*, std::span<const double>> fields[] = {
            {"injury", r.injury()},           {"inflammatory macrophages", r.inflammatory_density()},
            {"repair macrophages", r.repair_density()}, {"TGF-beta", r.tgf_beta()},
            {"TNF-alpha", r.tnf()},           {"IL-10", r.il10()},
            {"new collagen I", r.collagen1()}, {"new collagen III", r.collagen3()}};
        for (const auto& [name, values] : fields) {
            const FieldHealth h = scan_field_health(values, std::numeric_limits<double>::infinity());
            if (!h.ok())
                stop_for_fault(describe_field_fault(h, name, run.time_s, r.grid(), nullptr, r.origin_z_um()));
        }
    }
    if (const int sig = stop_signal_ ? stop_signal_() : 0) stop_for_signal(run, sig);
    if (keep_last_good_) last_good_s_ = run.time_s;
}

void RunGuard::save_state(double time_s) {
    Snapshot snap;
    snap.time_s = time_s;
    snap.fields = {{"free", "particles/um^3", free_}, {"bound", "particles/um^3", bound_}};
    recorder_->write_snapshot(snap);
}

void RunGuard::stop_for_fault(const std::string& what) {
    std::string message = label_ + ": " + what;
    if (recorder_) {
        const bool saved = keep_last_good_ && last_good_s_ >= 0.0;
        if (saved) save_state(last_good_s_);
        recorder_->mark_stopped("numerical fault: " + message, saved);
        char when[64];
        std::snprintf(when, sizeof when, "%g s", last_good_s_);
        message += "; kept in " + recorder_->part_path().string() + " (complete = 0)" +
                   (saved ? std::string(", last good state at t = ") + when + " as the last snapshot" : "");
    }
    throw NumericalFault(message);
}

void RunGuard::stop_for_signal(const RunView& run, int signal_number) {
    char text[160];
    std::snprintf(text, sizeof text, "%s received; %s stopped at t = %g s (%.4g h)", signal_name(signal_number).c_str(),
                  label_.c_str(), run.time_s, run.time_s / 3600.0);
    std::string message = text;
    if (recorder_) {
        // The state now is healthy (checked just before): it is the last good state.
        const bool saved = keep_last_good_;
        if (saved) {
            run.transport.total_free(free_);
            run.transport.total_bound(bound_);
            save_state(run.time_s);
        }
        recorder_->mark_stopped(message, saved);
        message += "; kept in " + recorder_->part_path().string() + " (complete = 0)";
    }
    throw StopRequested(signal_number, message);
}

} // namespace exoderm
