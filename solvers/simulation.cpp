#include "solvers/simulation.hpp"

#include "solvers/continuum_transport.hpp"
#include "solvers/particle_transport.hpp"
#include "solvers/time_stepping.hpp"

namespace exoderm {

std::unique_ptr<Transport> make_transport(const Scenario& scenario, const Tissue& tissue) {
    switch (scenario.transport_mode) {
    case TransportMode::Particles: return std::make_unique<ParticleTransport>(scenario, tissue);
    case TransportMode::Continuum: break;
    }
    return std::make_unique<ContinuumTransport>(scenario, tissue);
}

double estimate_memory_bytes(const Scenario& scenario) {
    return scenario.transport_mode == TransportMode::Particles ? estimate_particle_bytes(scenario)
                                                               : estimate_continuum_bytes(scenario);
}

Simulation::Simulation(const Scenario& scenario)
    : scenario_(scenario), tissue_(scenario), transport_(make_transport(scenario, tissue_)) {}

void Simulation::run(RunObserver& observer) {
    TimeStepper stepper(scenario_.time);
    std::size_t index = 0;
    for (double target : scenario_.time.output_times_s) {
        while (transport_->time_s() < target) {
            transport_->step_to(stepper.next(transport_->time_s(), target, transport_->delivering()));
            ++steps_;
            observer.on_step(*transport_);
        }
        observer.on_output(index++, *transport_);
    }
}

} // namespace exoderm
