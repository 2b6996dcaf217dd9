// What any transport model (continuum fields or vesicle particles) shows the rest of a run:
// the time, the dose ledger and vesicle concentrations on the grid. Recorders, metrics and
// progress read a run only through this interface.
#pragma once

#include "model/tissue.hpp"
#include "solvers/state_io.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace exoderm {

// Where the applied vesicles are; in particles. reservoir + free + bound + degraded +
// cleared + what cells hold or digested equals applied up to round-off at all times.
struct DoseLedger {
    double applied = 0.0;
    double reservoir = 0.0;
    double free = 0.0;
    double bound = 0.0;
    double degraded = 0.0;
    double cleared = 0.0;   // dermal clearance plus loss through a sink bottom
    double delivered = 0.0; // net amount that has entered the tissue through channel mouths
    // Per cell type (keratinocytes, fibroblasts, macrophages): on cell surfaces, internalised,
    // and digested in lysosomes (or with dead cells).
    std::array<double, kCellTypeCount> on_cells{};
    std::array<double, kCellTypeCount> internalised{};
    std::array<double, kCellTypeCount> digested_in_cells{};
    double in_cells() const;
    double accounted() const { return reservoir + free + bound + degraded + cleared + in_cells(); }
    double balance_error_rel() const;
};

// Individual vesicles of a transport mode that has them (particle mode), for output.
struct ParticleSample {
    std::vector<double> xyz;         // x, y, z per particle (um; z = depth below the surface)
    std::vector<double> diameter_nm;
    std::vector<double> state;       // 0 free, 1 bound to matrix
    std::vector<double> id;          // the particle's id (unique and stable over the run; exact below 2^53)
    std::size_t size() const { return diameter_nm.size(); }
};

class Transport {
public:
    virtual ~Transport() = default;

    // Advances to time t_next_s (> time_s()).
    virtual void step_to(double t_next_s) = 0;
    virtual double time_s() const = 0;
    virtual const Tissue& tissue() const = 0;

    // The ledger's flows (applied, reservoir, degraded, cleared, delivered); the amounts in
    // tissue (free, bound) are measured from the fields by measure() in metrics.hpp.
    virtual DoseLedger flows() const = 0;

    // Concentrations on the grid (particles / um^3), per vesicle size class.
    virtual std::size_t field_classes() const = 0;
    virtual std::span<const double> free_class(std::size_t k) const = 0;
    virtual std::span<const double> bound_class(std::size_t k) const = 0;
    // Writable free fields, for cells that take vesicles up and release them. Modes whose
    // fields are only a view of something else (particles) throw std::logic_error.
    virtual std::span<double> free_class_for_exchange(std::size_t k) = 0;
    void total_free(std::span<double> out) const;
    void total_bound(std::span<double> out) const;

    virtual std::span<const double> lumen_fraction() const = 0;
    virtual double open_half_width_um() const = 0;
    virtual double reservoir_concentration() const = 0;
    virtual double applied_concentration() const = 0;
    // True while open channels are fed by a wet film: the fast phase of a run, which the
    // time stepper resolves with time.dt_max_delivery.
    virtual bool delivering() const = 0;

    // Individual vesicles, in modes that have them: how many simulated particles are in the
    // tissue, and a sample of up to `limit` of them (all for a negative limit) that stays the
    // same particles from one call to the next as far as they are still there.
    virtual std::size_t particle_count() const { return 0; }
    virtual void sample_particles(std::int64_t /*limit*/, ParticleSample& out) const { out = {}; }

    // Everything needed to continue bitwise from here (checkpoints): load_state on a transport
    // built from the same scenario restores it.
    virtual void save_state(StateWriter& out) const = 0;
    virtual void load_state(const StateReader& in) = 0;
};

} // namespace exoderm
