// Records a run into a Recorder: what `exoderm run` writes (docs/output-format.md).
#pragma once

#include "io/recorder.hpp"
#include "solvers/run_tracker.hpp"
#include "solvers/simulation.hpp"

#include <array>
#include <string>
#include <vector>

namespace exoderm {

class RunRecorder : public RunObserver {
public:
    RunRecorder(Recorder& recorder, const Scenario& scenario, const Simulation& simulation);
    void on_step(const RunView& run) override;
    void on_output(std::size_t output_index, const RunView& run) override;
    // Writes the end-of-run summary attributes, and extra values (e.g. against the control).
    void write_summary(double wall_time_s, const std::vector<NamedValue>& extra = {});
    const RunTracker& tracker() const { return tracker_; }
    // Checkpoints: what the tracker has seen (the file's rows are the Recorder's).
    void save_state(StateWriter& out) const { tracker_.save_state(out); }
    void load_state(const StateReader& in) { tracker_.load_state(in); }
    // Writes only these vesicle fields ("free", "bound", "lumen_fraction"), and only at these
    // output times (empty: all); cells and response fields only at those times. For sweeps.
    void select_fields(std::vector<std::string> names, std::vector<double> times_s);

private:
    void write_rows(const RunView& run);
    void fill_cell_points(const CellModel& cells);
    void fill_response_fields(const Responses& responses);

    Recorder& recorder_;
    const Scenario& scenario_;
    RunTracker tracker_;
    bool with_cells_ = false;
    std::vector<double> free_, bound_;
    bool selected_ = false;
    std::vector<std::string> selected_names_;
    std::vector<double> selected_times_s_;
    std::vector<double> cell_xyz_;
    std::array<std::vector<double>, 6> cell_attributes_;
    std::array<std::vector<double>, 8> response_fields_;
};

// Records only the response series of a run under a series group: the vehicle control
// ("control_responses") beside the main run.
class ResponseRecorder : public RunObserver {
public:
    ResponseRecorder(Recorder& recorder, const Scenario& scenario, std::string group);
    void on_step(const RunView& run) override;
    void on_output(std::size_t index, const RunView& run) override;
    const RunTracker& tracker() const { return tracker_; }
    void save_state(StateWriter& out) const { tracker_.save_state(out); }
    void load_state(const StateReader& in) { tracker_.load_state(in); }

private:
    Recorder& recorder_;
    std::string group_;
    RunTracker tracker_;
};

} // namespace exoderm
