// Particle-mode vesicle transport (docs/particles.md): individual simulated vesicles, each
// standing for w = applied / budget real ones, with their own diameters, taking Gaussian
// sub-steps through the layered tissue, fed by the same well-mixed reservoir as continuum mode
// through the open channel mouths, and reacting (binding, release, degradation, clearance) as
// Poisson events. The counts are integers and the dose ledger balances exactly.
//
// The rest of a run sees it through Transport: the particles are deposited on the grid as
// per-size-class free and bound concentrations after every step, so metrics, recorders and
// progress work unchanged.
#pragma once

#include "model/scenario.hpp"
#include "model/tissue.hpp"
#include "model/vesicle_sizes.hpp"
#include "solvers/particle_kernels.hpp"
#include "solvers/transport.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

namespace exoderm {

// Where the simulated particles are, as exact integer counts.
struct ParticleCounts {
    std::int64_t applied = 0; // the budget
    std::int64_t reservoir = 0;
    std::int64_t free = 0;
    std::int64_t bound = 0;
    std::int64_t degraded = 0;
    std::int64_t cleared = 0;
    std::int64_t entered = 0; // through channel mouths, in total
    std::int64_t exited = 0;  // back out through channel mouths, in total
    std::int64_t accounted() const { return reservoir + free + bound + degraded + cleared; }
};

class ParticleTransport final : public Transport {
public:
    ParticleTransport(const Scenario& scenario, const Tissue& tissue);

    void step_to(double t_next_s) override;
    double time_s() const override { return time_s_; }
    const Tissue& tissue() const override { return tissue_; }
    DoseLedger flows() const override;

    std::size_t field_classes() const override { return classes_.size(); }
    std::span<const double> free_class(std::size_t k) const override { return free_[k]; }
    std::span<const double> bound_class(std::size_t k) const override { return bound_[k]; }
    // The fields are deposits of the particles: cells cannot exchange with them (yet).
    std::span<double> free_class_for_exchange(std::size_t) override {
        throw std::logic_error("particle transport: cells cannot take vesicles from the deposited fields");
    }
    std::span<const double> lumen_fraction() const override { return lumen_; }
    double open_half_width_um() const override { return half_width_um_; }
    bool delivering() const override { return mouths_wet_ && half_width_um_ > 0.0; }
    double reservoir_concentration() const override;
    double applied_concentration() const override { return applied_concentration_; }
    std::size_t particle_count() const override { return particles_.size(); }
    void sample_particles(std::int64_t limit, ParticleSample& out) const override;
    void save_state(StateWriter& out) const override;
    void load_state(const StateReader& in) override;

    // Vesicles per simulated particle.
    double weight() const { return weight_; }
    ParticleCounts counts() const;
    const particles::ParticleArrays& particles() const { return particles_; }
    const std::vector<SizeClass>& size_classes() const { return classes_; }
    std::int64_t substeps_taken() const { return substeps_; }
    // Entrants taken back because the reservoir ran dry within a step (see settle_overdraft).
    std::int64_t overdrafts() const { return overdrafts_; }
    std::uint32_t steps_taken() const { return step_; }

private:
    void update_geometry(double t_s);
    void set_geometry(double half_width_um, bool wet);
    // The state a checkpoint carries, listed once for saving and loading (StateWriter or StateReader).
    template <class IO>
    void exchange_state(IO& io);
    void emit(double dt_s, const particles::StepInput& input);
    void deposit();
    void settle_overdraft(std::size_t first_entrant);
    double entrant_diameter_nm(std::size_t k, double u) const;

    const Tissue& tissue_;
    Grid grid_;
    std::vector<SizeClass> classes_;
    std::uint64_t seed_ = 0;
    double median_nm_ = 0, sigma_ln_ = 0, temperature_K_ = 0, viscosity_Pa_s_ = 0;
    std::vector<std::array<double, 2>> class_z_bounds_; // standard-normal bounds of each class (cut at +-4)
    std::vector<double> class_mean_sqrt_d0_;            // E[sqrt(D0)] over each class (um/s^0.5)
    double drying_time_s_ = kInfinity;
    double applied_concentration_ = 0;
    double film_volume_um3_ = 0;
    double weight_ = 1;
    double max_step_um_ = 2;

    particles::Medium medium_;
    particles::ReactionTable reactions_;
    particles::ParticleArrays particles_;
    std::vector<float> remaining_;

    std::int64_t budget_ = 0;
    std::array<std::int64_t, particles::kMaxSizeClasses> reservoir_{};
    std::int64_t degraded_ = 0, cleared_ = 0, entered_ = 0, exited_ = 0;
    std::uint64_t next_id_ = 0;
    std::uint32_t step_ = 0;
    std::int64_t substeps_ = 0;
    std::int64_t overdrafts_ = 0;

    std::vector<double> lumen_;
    double half_width_um_ = -1.0;
    bool mouths_wet_ = true;

    std::vector<std::vector<double>> free_, bound_;
    std::vector<std::uint8_t> touched_flag_;
    std::vector<std::size_t> touched_;

    double time_s_ = 0.0;
};

// Bytes the particle transport state of this scenario may need, at most (every simulated
// particle in the tissue at once), checked before anything is allocated.
double estimate_particle_bytes(const Scenario& scenario);

} // namespace exoderm
