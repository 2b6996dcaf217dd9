#include "solvers/simulation.hpp"

#include "model/vesicle_sizes.hpp"
#include "solvers/continuum_transport.hpp"
#include "solvers/particle_transport.hpp"
#include "solvers/time_stepping.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace exoderm {

std::unique_ptr<Transport> make_transport(const Scenario& scenario, const Tissue& tissue) {
    switch (scenario.transport_mode) {
    case TransportMode::Particles: return std::make_unique<ParticleTransport>(scenario, tissue);
    case TransportMode::Continuum: break;
    }
    return std::make_unique<ContinuumTransport>(scenario, tissue);
}

MemoryEstimate estimate_memory(const Scenario& scenario) {
    MemoryEstimate e;
    const Grid g = grid_for(scenario);
    if (scenario.transport_mode == TransportMode::Particles) {
        Scenario without = scenario;
        without.particles.budget = 0;
        e.grid_bytes = estimate_particle_bytes(without);
        e.particle_bytes = estimate_particle_bytes(scenario) - e.grid_bytes;
    } else {
        e.grid_bytes = estimate_continuum_bytes(scenario);
    }
    // The run guard's copy of the last good state and of the step being checked (total free and
    // bound each).
    e.grid_bytes += 32.0 * static_cast<double>(g.size());
    // Measured: exoderm with HDF5, OpenMP and the C++ runtime is about 20 MiB resident at start.
    e.program_bytes = 20.0 * 1024 * 1024;
    e.with_control = scenario.cells.enabled && scenario.responses.vehicle_control;
    if (!scenario.cells.enabled) return e;
    // Cells: about 100 bytes each (positions, state, vesicle amounts, grouping).
    const double area = g.size_x_um() * g.size_y_um();
    const auto& c = scenario.cells;
    const double cells = area * (c.type(CellType::Keratinocyte).density_per_um3 * scenario.layer(Layer::ViableEpidermis).thickness_um +
                                 (c.type(CellType::Fibroblast).density_per_um3 + c.type(CellType::Macrophage).density_per_um3) *
                                     scenario.layer(Layer::Dermis).thickness_um);
    e.cell_bytes = 100.0 * cells;
    return e;
}

double estimate_memory_bytes(const Scenario& scenario) { return estimate_memory(scenario).total(); }

Scenario vehicle_control_of(const Scenario& scenario) {
    Scenario control = scenario;
    control.product.concentration_per_um3 = 0.0;
    control.responses.vehicle_control = false;
    return control;
}

TransportMetrics measure_run(const RunView& run) {
    TransportMetrics m = measure(run.transport);
    if (run.cells) {
        const CellLedger l = run.cells->ledger();
        m.dose.on_cells = l.on_surface;
        m.dose.internalised = l.internalised;
        m.dose.digested_in_cells = l.digested;
    }
    return m;
}

namespace {
std::unique_ptr<CellModel> make_cells(const Scenario& s, const Tissue& tissue) {
    if (!s.cells.enabled) return nullptr;
    const auto classes = lognormal_size_classes(s.product.median_diameter_nm, s.product.geometric_sd,
                                                s.product.size_classes, s.product.temperature_K,
                                                s.product.viscosity_Pa_s);
    std::vector<double> d0, fraction;
    for (const auto& c : classes) {
        d0.push_back(c.d0_um2_per_s);
        fraction.push_back(c.fraction);
    }
    return std::make_unique<CellModel>(s, tissue, d0, fraction);
}
} // namespace

Simulation::Simulation(const Scenario& scenario)
    : scenario_(scenario), tissue_(scenario), transport_(make_transport(scenario, tissue_)),
      cells_(make_cells(scenario, tissue_)), stepper_(scenario.time), transport_active_(!vesicles_gone()) {}

bool Simulation::vesicles_gone() const {
    const DoseLedger flows = transport_->flows();
    if (!(flows.applied > 0.0)) return true;
    double mobile = transport_->delivering() ? flows.reservoir : 0.0;
    const Grid& g = tissue_.grid();
    for (std::size_t k = 0; k < transport_->field_classes(); ++k) {
        double sum = 0.0;
        for (double v : transport_->free_class(k)) sum += v;
        for (double v : transport_->bound_class(k)) sum += v;
        mobile += sum * g.voxel_volume_um3();
    }
    if (cells_)
        for (double b : cells_->ledger().on_surface) mobile += b;
    return mobile < scenario_.transport_cutoff * flows.applied;
}

void Simulation::run(RunObserver& observer) {
    const TimeSpec& clock = scenario_.time;
    const double response_dt = scenario_.responses.dt_s;
    std::vector<std::span<double>> fields;
    while (next_output_ < clock.output_times_s.size()) {
        const double target = clock.output_times_s[next_output_];
        while (time_s_ < target) {
            // Responses step on a fixed grid of times (multiples of responses.dt, and the
            // outputs), whatever the transport does: a run and its vehicle control then take
            // the same response steps with the same random numbers.
            const double next_response = std::min(target, (std::floor(time_s_ / response_dt + 1e-9) + 1.0) * response_dt);
            const bool fine = transport_active_ && time_s_ < clock.fine_until_s;
            double next = next_response;
            if (fine)
                next = stepper_.next(time_s_, std::min(next_response, std::max(clock.fine_until_s, time_s_)),
                                     transport_->delivering());
            const double dt = next - time_s_;
            bool vesicles_stepped = transport_active_;
            if (transport_active_) {
                transport_->step_to(next);
                ++transport_steps_;
            }
            if (test_fault_.kind != FieldProblem::None && next >= test_fault_.time_s) {
                inject_field_fault(transport_->free_class_for_exchange(0), tissue_.grid(), test_fault_.kind,
                                   transport_->applied_concentration());
                test_fault_ = {};
                vesicles_stepped = true;
            }
            if (cells_) {
                fields.clear();
                for (std::size_t k = 0; k < transport_->field_classes(); ++k)
                    fields.push_back(transport_->free_class_for_exchange(k));
                cells_->vesicle_step(fields, dt, transport_active_);
            }
            const bool responded = cells_ && next == next_response;
            if (responded) {
                cells_->response_step(next - last_response_s_);
                last_response_s_ = next;
            }
            time_s_ = next;
            ++steps_;
            if (transport_active_ && responded && !transport_->delivering() && vesicles_gone()) transport_active_ = false;
            observer.on_step(RunView{time_s_, *transport_, cells_.get(), transport_active_, responded, vesicles_stepped});
        }
        const std::size_t index = next_output_++;
        observer.on_output(index, RunView{time_s_, *transport_, cells_.get(), transport_active_, false});
    }
}

template <class IO>
void Simulation::exchange_clocks(IO& io) {
    io.scalar("time_s", time_s_);
    io.scalar("steps", steps_);
    io.scalar("transport_steps", transport_steps_);
    io.scalar("next_output", next_output_);
    double dt_s = stepper_.dt_s();
    io.scalar("stepper_dt_s", dt_s);
    stepper_.set_dt_s(dt_s);
    io.flag("transport_active", transport_active_);
    io.scalar("last_response_s", last_response_s_);
}

void Simulation::save_state(StateWriter& out) const {
    const_cast<Simulation*>(this)->exchange_clocks(out); // a writer only reads the state
    StateWriter t = out.in("transport");
    transport_->save_state(t);
    if (cells_) {
        StateWriter c = out.in("cells");
        cells_->save_state(c);
    }
}

void Simulation::load_state(const StateReader& in) {
    exchange_clocks(in);
    transport_->load_state(in.in("transport"));
    if (cells_) cells_->load_state(in.in("cells"));
}

} // namespace exoderm
