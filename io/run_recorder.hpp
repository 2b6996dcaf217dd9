// Records a run into a Recorder: what `exoderm run` writes (docs/output-format.md).
#pragma once

#include "io/recorder.hpp"
#include "solvers/metrics.hpp"
#include "solvers/response_metrics.hpp"
#include "solvers/simulation.hpp"

#include <optional>
#include <string>
#include <vector>

namespace exoderm {

// The response time series of a run under one series group ("responses", or
// "control_responses" for the vehicle control), also kept in memory for the summary.
class ResponseSeries {
public:
    ResponseSeries(Recorder& recorder, std::string group);
    // Appends the run's readout (once per time).
    void add(const RunView& run);
    const std::vector<ResponseSample>& samples() const { return samples_; }

private:
    Recorder& recorder_;
    std::string group_;
    std::vector<ResponseSample> samples_;
};

// Records only the responses of a run: the vehicle control beside the main run.
class ResponseRecorder : public RunObserver {
public:
    ResponseRecorder(Recorder& recorder, std::string group) : series_(recorder, std::move(group)) {}
    void on_step(const RunView& run) override {
        if (run.responses_advanced) series_.add(run);
    }
    void on_output(std::size_t, const RunView& run) override { series_.add(run); }
    const std::vector<ResponseSample>& samples() const { return series_.samples(); }

private:
    ResponseSeries series_;
};

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
    const std::vector<ResponseSample>& responses() const;
    const std::array<double, kCellTypeCount>& reached() const { return reached_; }

private:
    void append_series(const RunView& run);
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
    std::optional<ResponseSeries> responses_;
    std::array<double, kCellTypeCount> reached_{};
    std::vector<double> cell_xyz_;
    std::array<std::vector<double>, 6> cell_attributes_;
    std::array<std::vector<double>, 8> response_fields_;
};

// Fold changes of a run against its vehicle control, as attributes of /summary/fold_changes
// and as a series-like table /fold_changes (name, with_evs, control, ratio).
void write_fold_changes(Recorder& recorder, const std::vector<FoldChange>& folds);

} // namespace exoderm
