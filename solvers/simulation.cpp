#include "solvers/simulation.hpp"

#include "solvers/time_stepping.hpp"

namespace exoderm {

Simulation::Simulation(const Scenario& scenario)
    : scenario_(scenario), tissue_(scenario), transport_(scenario, tissue_) {}

void Simulation::run(RunObserver& observer) {
    TimeStepper stepper(scenario_.time);
    std::size_t index = 0;
    for (double target : scenario_.time.output_times_s) {
        while (transport_.time_s() < target) {
            transport_.step_to(stepper.next(transport_.time_s(), target));
            ++steps_;
            observer.on_step(transport_);
        }
        observer.on_output(index++, transport_);
    }
}

} // namespace exoderm
