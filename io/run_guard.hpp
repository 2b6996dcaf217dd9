// Watches a run step by step and stops it cleanly: on a numerical fault (NaN, Inf or a negative
// concentration beyond tolerance in any vesicle field, NaN or Inf in a response field) and when
// SIGINT or SIGTERM asked to stop (app/stop_signal.hpp; the guard asks through a callback).
//
// Stopping saves the last good state as a final snapshot (total free and bound vesicles; the
// /snapshots attribute last_good names it), writes the root attribute stopped = the reason, and
// throws NumericalFault or StopRequested. The file keeps its .part name with complete = 0.
// Put the guard first in an ObserverList, so a faulty step never reaches the recorder.
#pragma once

#include "io/recorder.hpp"
#include "solvers/simulation.hpp"

#include <functional>
#include <span>
#include <string>
#include <vector>

namespace exoderm {

class RunGuard : public RunObserver {
public:
    // recorder may be null (nothing to save). keep_last_good: copy the total fields after every
    // healthy step, so the state before a faulty step can be saved (four grid arrays of memory:
    // the last good totals and the step being checked).
    // stop_signal (may be empty) returns the signal that asked to stop, or 0.
    RunGuard(Recorder* recorder, const Simulation& simulation, std::string label, bool keep_last_good,
             std::function<int()> stop_signal = {});
    void on_step(const RunView& run) override;
    void on_output(std::size_t index, const RunView& run) override;

private:
    void check(const RunView& run);
    [[noreturn]] void stop_for_fault(const std::string& what);
    [[noreturn]] void stop_for_signal(const RunView& run, int signal_number);
    void save_state(double time_s);

    Recorder* recorder_;
    const Simulation& simulation_;
    std::string label_;
    bool keep_last_good_;
    double negative_floor_ = 0.0;
    double last_good_s_ = -1.0; // < 0: no healthy step copied yet
    std::vector<double> free_, bound_;             // the last good state (total free and bound)
    std::vector<double> spare_free_, spare_bound_; // the step being checked
    std::vector<std::span<const double>> free_classes_, bound_classes_; // reused each step
    std::function<int()> stop_signal_;
};

// "SIGTERM", "SIGINT", ...
std::string signal_name(int signal_number);

} // namespace exoderm
