// What a run reports (MODEL.md section 7), tracked by watching it: the dose ledger and
// penetration (every transport step, daily once transport has stopped, and at every output),
// the cells' uptake, and the response series. `exoderm run` records these; sweeps keep only
// the end-of-run table.
#pragma once

#include "solvers/metrics.hpp"
#include "solvers/response_metrics.hpp"
#include "solvers/simulation.hpp"

#include <array>
#include <vector>

namespace exoderm {

// Largest layer fractions and 90 % depth seen over a run (MODEL.md section 7).
struct PeakMetrics {
    double fraction_viable_epidermis = 0.0; // of the applied dose
    double fraction_dermis = 0.0;           // of the applied dose
    double fraction_dermis_time_s = 0.0;    // when the dermis held its largest share
    double depth90_um = 0.0;                // deepest 90 % depth
    void update(const PenetrationMetrics& p, double time_s);
};

class RunTracker : public RunObserver {
public:
    explicit RunTracker(const Scenario& scenario) : scenario_(scenario) {}
    void on_step(const RunView& run) override { observe(run, false); }
    void on_output(std::size_t, const RunView& run) override { observe(run, true); }

    // Whether the last step or output measured the transport / sampled the responses (for
    // recorders that write a row whenever the tracker takes one).
    bool measured_now() const { return measured_now_; }
    bool sampled_responses_now() const { return sampled_now_; }

    const TransportMetrics& last() const { return last_; }
    // Metrics at the last output within the fine transport phase (time.fine_until).
    const TransportMetrics& early() const { return early_; }
    double early_time_s() const { return early_time_s_; }
    double last_time_s() const { return last_time_s_; }
    double worst_balance_error() const { return worst_balance_error_; }
    // Extremes over every measured row of the run: what reached a layer may be cleared long
    // before the end, so the end-of-run fractions understate delivery.
    const PeakMetrics& peaks() const { return peaks_; }
    const std::vector<ResponseSample>& responses() const { return responses_; }
    const std::array<double, kCellTypeCount>& reached() const { return reached_; }
    const std::array<std::size_t, kCellTypeCount>& cell_counts() const { return counts_; }

    // End-of-run values with units: dose ledger, penetration (at the end and at the end of the
    // fine phase), cells per type, response readouts.
    std::vector<NamedValue> summary() const;

    // Checkpoints: what was tracked so far, so a resumed run reports the same.
    void save_state(StateWriter& out) const;
    void load_state(const StateReader& in);

private:
    void observe(const RunView& run, bool output);
    template <class IO>
    void exchange_state(IO& io);

    const Scenario& scenario_;
    TransportMetrics last_, early_;
    double last_time_s_ = -1.0;
    double early_time_s_ = 0.0;
    double worst_balance_error_ = 0.0;
    PeakMetrics peaks_;
    bool measured_now_ = false;
    bool sampled_now_ = false;
    std::vector<ResponseSample> responses_;
    std::array<double, kCellTypeCount> reached_{};
    std::array<std::size_t, kCellTypeCount> counts_{};
};

// The response readouts of a run against its vehicle control: control_<name> and
// fold_<name> (run / control) for each readout.
std::vector<NamedValue> control_summary(const std::vector<ResponseSample>& run,
                                        const std::vector<ResponseSample>& control);

} // namespace exoderm
