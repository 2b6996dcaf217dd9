// A run: transport from application on, cells and responses on their own clock, reporting at
// every output time.
//
// Clocks (docs/cells.md): transport steps start at time.dt_initial and grow to time.dt_max
// (time.dt_max_delivery while channels are fed) until time.fine_until; after that the run
// moves in steps of responses.dt. Transport stops altogether once the mobile vesicles
// (tissue, cell surfaces, a reservoir still feeding) fall below transport.cutoff of the
// applied dose; the rest of the run steps the cells and responses only.
#pragma once

#include "model/scenario.hpp"
#include "model/tissue.hpp"
#include "solvers/cell_model.hpp"
#include "solvers/field_health.hpp"
#include "solvers/metrics.hpp"
#include "solvers/state_io.hpp"
#include "solvers/time_stepping.hpp"
#include "solvers/transport.hpp"

#include <cstddef>
#include <memory>
#include <vector>

namespace exoderm {

// What an observer sees of a run after a step or at an output time.
struct RunView {
    double time_s = 0.0;
    const Transport& transport;
    const CellModel* cells = nullptr; // null without cells
    bool transport_active = true;     // false once the vesicles are gone
    bool responses_advanced = false;  // the responses took a step ending at time_s
    // The step may have changed any vesicle value (transport stepped). When false, only the free
    // fields at cells->released_voxels() changed (or nothing, without cells).
    bool vesicles_stepped = true;
};

// What the run hands to whoever records or displays it (a Recorder, a progress bar, a test).
class RunObserver {
public:
    virtual ~RunObserver() = default;
    virtual void on_output(std::size_t output_index, const RunView& run) = 0;
    virtual void on_step(const RunView& /*run*/) {}
};

// Several observers watching one run, in order.
class ObserverList : public RunObserver {
public:
    explicit ObserverList(std::vector<RunObserver*> observers) : observers_(std::move(observers)) {}
    void on_step(const RunView& run) override {
        for (auto* o : observers_) o->on_step(run);
    }
    void on_output(std::size_t index, const RunView& run) override {
        for (auto* o : observers_) o->on_output(index, run);
    }

private:
    std::vector<RunObserver*> observers_;
};

// The matched vehicle control of a scenario: the same scenario and seed without vesicles.
Scenario vehicle_control_of(const Scenario& scenario);

// The transport model the scenario asks for.
std::unique_ptr<Transport> make_transport(const Scenario& scenario, const Tissue& tissue);

// Bytes a run will need, estimated before anything is allocated, by part.
struct MemoryEstimate {
    double grid_bytes = 0.0;     // vesicle fields, operators, output and run-guard copies
    double particle_bytes = 0.0; // simulated vesicles (particle mode)
    double cell_bytes = 0.0;     // cell agents and the response grid
    double program_bytes = 0.0;  // the program and its libraries, resident before the run
    bool with_control = false;   // the vehicle control runs while the run's state is still held
    // Control: grid and cells twice (it has no vesicles, so no particles).
    double total() const {
        return program_bytes + particle_bytes + (with_control ? 2.0 : 1.0) * (grid_bytes + cell_bytes);
    }
};
MemoryEstimate estimate_memory(const Scenario& scenario);
double estimate_memory_bytes(const Scenario& scenario); // estimate_memory(scenario).total()

// Transport metrics with the cells' share of the dose ledger filled in.
TransportMetrics measure_run(const RunView& run);

class Simulation {
public:
    explicit Simulation(const Scenario& scenario);
    // Runs from where the run stands (the start, or a restored state) to time.end.
    void run(RunObserver& observer);
    // Test-only: corrupts a free field at the first step ending at or after fault.time_s.
    void inject_test_fault(const InjectedFault& fault) { test_fault_ = fault; }

    // Checkpoints (docs/output-format.md): everything to continue bitwise, taken between steps
    // (in practice at an output time, after the observers have seen it).
    void save_state(StateWriter& out) const;
    void load_state(const StateReader& in);
    // Outputs reached so far: the run continues with output time number outputs_done().
    std::size_t outputs_done() const { return next_output_; }

    const Scenario& scenario() const { return scenario_; }
    const Tissue& tissue() const { return tissue_; }
    const Transport& transport() const { return *transport_; }
    const CellModel* cells() const { return cells_.get(); }
    std::size_t steps_taken() const { return steps_; }
    std::size_t transport_steps() const { return transport_steps_; }
    double time_s() const { return time_s_; }

private:
    bool vesicles_gone() const;
    template <class IO>
    void exchange_clocks(IO& io);

    const Scenario& scenario_;
    Tissue tissue_;
    std::unique_ptr<Transport> transport_;
    std::unique_ptr<CellModel> cells_;
    std::size_t steps_ = 0;
    std::size_t transport_steps_ = 0;
    double time_s_ = 0.0;
    InjectedFault test_fault_;
    // The clocks of the run loop, kept here so a checkpoint can carry them.
    TimeStepper stepper_;
    bool transport_active_ = true;
    double last_response_s_ = 0.0;
    std::size_t next_output_ = 0;
};

} // namespace exoderm
