// A run: transport from application to the end time, reporting at every output time.
#pragma once

#include "model/scenario.hpp"
#include "model/tissue.hpp"
#include "solvers/metrics.hpp"
#include "solvers/transport.hpp"

#include <cstddef>
#include <memory>

namespace exoderm {

// What the run hands to whoever records or displays it (a Recorder, a progress bar, a test).
class RunObserver {
public:
    virtual ~RunObserver() = default;
    virtual void on_output(std::size_t output_index, const Transport& transport) = 0;
    virtual void on_step(const Transport& /*transport*/) {}
};

// The transport model the scenario asks for.
std::unique_ptr<Transport> make_transport(const Scenario& scenario, const Tissue& tissue);

// Bytes the run's state will need, estimated before anything is allocated.
double estimate_memory_bytes(const Scenario& scenario);

class Simulation {
public:
    explicit Simulation(const Scenario& scenario);
    void run(RunObserver& observer);

    const Scenario& scenario() const { return scenario_; }
    const Tissue& tissue() const { return tissue_; }
    const Transport& transport() const { return *transport_; }
    std::size_t steps_taken() const { return steps_; }

private:
    const Scenario& scenario_;
    Tissue tissue_;
    std::unique_ptr<Transport> transport_;
    std::size_t steps_ = 0;
};

} // namespace exoderm
