// Records a transport run into a Recorder: what `exoderm run` writes (docs/output-format.md).
#pragma once

#include "io/recorder.hpp"
#include "solvers/metrics.hpp"
#include "solvers/simulation.hpp"

#include <vector>

namespace exoderm {

class RunRecorder : public RunObserver {
public:
    RunRecorder(Recorder& recorder, const Scenario& scenario, const Tissue& tissue);
    void on_step(const Transport& transport) override;
    void on_output(std::size_t output_index, const Transport& transport) override;
    // Writes the end-of-run summary attributes (the last measured metrics).
    void write_summary(double wall_time_s);
    const TransportMetrics& last() const { return last_; }
    double worst_balance_error() const { return worst_balance_error_; }

private:
    void append_series(const Transport& transport);

    Recorder& recorder_;
    const Scenario& scenario_;
    std::vector<double> free_, bound_;
    TransportMetrics last_;
    double last_series_time_s_ = -1.0;
    double worst_balance_error_ = 0.0;
};

} // namespace exoderm
