// Vesicle transport: free and matrix-bound vesicles per size class in the layered tissue,
// fed by a depleting reservoir through microneedle channels that close in time.
#pragma once

#include "model/scenario.hpp"
#include "model/tissue.hpp"
#include "model/vesicle_sizes.hpp"
#include "solvers/diffusion.hpp"
#include "solvers/reactions.hpp"

#include <span>
#include <vector>

namespace exoderm {

// Where the applied vesicles are; in particles. reservoir + free + bound + degraded +
// cleared equals applied up to round-off at all times.
struct DoseLedger {
    double applied = 0.0;
    double reservoir = 0.0;
    double free = 0.0;
    double bound = 0.0;
    double degraded = 0.0;
    double cleared = 0.0;   // dermal clearance plus loss through a sink bottom
    double delivered = 0.0; // everything that has entered the tissue through channel mouths
    double accounted() const { return reservoir + free + bound + degraded + cleared; }
    double balance_error_rel() const;
};

class Transport {
public:
    Transport(const Scenario& scenario, const Tissue& tissue);

    // Advances to time t_next_s (> time_s()) in one implicit step.
    void step_to(double t_next_s);
    double time_s() const { return time_s_; }

    // The ledger's flows (applied, reservoir, degraded, cleared, delivered); the amounts in
    // tissue (free, bound) are measured from the fields by measure() in metrics.hpp.
    DoseLedger flows() const;
    const std::vector<SizeClass>& size_classes() const { return classes_; }
    std::span<const double> free_class(std::size_t k) const { return free_[k]; }
    std::span<const double> bound_class(std::size_t k) const { return bound_[k]; }
    void total_free(std::span<double> out) const;
    void total_bound(std::span<double> out) const;
    std::span<const double> lumen_fraction() const { return lumen_; }
    double open_half_width_um() const { return half_width_um_; }
    double reservoir_concentration() const;
    double applied_concentration() const { return applied_concentration_; }
    bool reservoir_feeding() const;
    const Tissue& tissue() const { return tissue_; }

private:
    void update_geometry(double t_s);
    const ReactionPropagator& propagator(Layer layer, double dt_s);

    const Tissue& tissue_;
    Grid grid_;
    std::vector<SizeClass> classes_;
    std::array<double, kLayerCount> hindrance_{};
    std::array<ReactionRates, kLayerCount> rates_{};
    double lumen_hindrance_ = 1.0;
    double drying_time_s_ = kInfinity;
    double applied_concentration_ = 0.0;

    std::vector<std::vector<double>> free_, bound_;
    std::vector<DiffusionOperator> operators_;
    std::vector<Reservoir> reservoirs_;
    std::vector<double> lumen_;
    double half_width_um_ = -1.0;
    bool mouths_open_ = true;

    std::array<ReactionPropagator, kLayerCount> propagators_{};
    double propagator_dt_ = -1.0;

    double time_s_ = 0.0;
    double applied_ = 0.0;
    double degraded_ = 0.0;
    double cleared_ = 0.0;
    double delivered_ = 0.0;
};

// Bytes the transport state of this scenario needs (checked before anything is allocated).
double estimate_transport_bytes(const Scenario& scenario);

} // namespace exoderm
