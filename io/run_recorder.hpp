// Records a run into a Recorder: what `exoderm run` writes (docs/output-format.md).
#pragma once

#include "io/recorder.hpp"
#include "solvers/metrics.hpp"
#include "solvers/response_metrics.hpp"
#include "solvers/simulation.hpp"

#include <vector>

namespace exoderm {

class RunRecorder : public RunObserver {
public:
    RunRecorder(Recorder& recorder, const Scenario& scenario, const Simulation& simulation);
    void on_step(const RunView& run) override;
    void on_output(std::size_t output_index, const RunView& run) override;
    // Writes the end-of-run summary attributes (the last measured metrics).
    void write_summary(double wall_time_s);
    const TransportMetrics& last() const { return last_; }
    // Metrics at the last output time within the fine transport phase (time.fine_until).
    const TransportMetrics& early() const { return early_; }
    double early_time_s() const { return early_time_s_; }
    double worst_balance_error() const { return worst_balance_error_; }
    // The response series (empty without cells), for summaries and fold changes.
    const std::vector<ResponseSample>& responses() const { return responses_; }
    const std::array<double, kCellTypeCount>& reached() const { return reached_; }

private:
    void append_series(const RunView& run);
    void append_responses(const RunView& run);
    void fill_cell_points(const CellModel& cells);
    void fill_response_fields(const Responses& responses);

    Recorder& recorder_;
    const Scenario& scenario_;
    std::vector<double> free_, bound_;
    TransportMetrics last_;
    TransportMetrics early_;
    double early_time_s_ = 0.0;
    double last_series_time_s_ = -1.0;
    double worst_balance_error_ = 0.0;
    std::vector<ResponseSample> responses_;
    std::array<double, kCellTypeCount> reached_{};
    std::vector<double> cell_xyz_;
    std::array<std::vector<double>, 6> cell_attributes_;
    std::array<std::vector<double>, 8> response_fields_;
};

// Fold changes of a run against its vehicle control, as attributes of /summary/fold_changes
// and as a series-like table /fold_changes (name, with_evs, control, ratio).
void write_fold_changes(Recorder& recorder, const std::vector<FoldChange>& folds);

} // namespace exoderm
