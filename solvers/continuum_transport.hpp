// Continuum vesicle transport: free and matrix-bound vesicles per size class as fields in
// the layered tissue, fed by a depleting reservoir through microneedle channels that close
// in time (docs/transport.md).
#pragma once

#include "model/scenario.hpp"
#include "model/tissue.hpp"
#include "model/vesicle_sizes.hpp"
#include "solvers/diffusion.hpp"
#include "solvers/reactions.hpp"
#include "solvers/transport.hpp"

#include <span>
#include <vector>

namespace exoderm {

class ContinuumTransport final : public Transport {
public:
    ContinuumTransport(const Scenario& scenario, const Tissue& tissue);

    // One implicit step from time_s() to t_next_s.
    void step_to(double t_next_s) override;
    double time_s() const override { return time_s_; }
    const Tissue& tissue() const override { return tissue_; }
    DoseLedger flows() const override;

    const std::vector<SizeClass>& size_classes() const { return classes_; }
    std::size_t field_classes() const override { return classes_.size(); }
    std::span<const double> free_class(std::size_t k) const override { return free_[k]; }
    std::span<const double> bound_class(std::size_t k) const override { return bound_[k]; }
    std::span<double> free_class_for_exchange(std::size_t k) override { return free_[k]; }
    std::span<const double> lumen_fraction() const override { return lumen_; }
    double open_half_width_um() const override { return half_width_um_; }
    double reservoir_concentration() const override;
    double applied_concentration() const override { return applied_concentration_; }
    bool delivering() const override { return mouths_open_ && (half_width_um_ > 0.0 || tissue_.wound().enabled()); }
    void save_state(StateWriter& out) const override;
    void load_state(const StateReader& in) override;

private:
    void update_geometry(double t_s);
    void set_geometry(double half_width_um, bool feeding);
    // The state a checkpoint carries, listed once for saving and loading (StateWriter or StateReader).
    template <class IO>
    void exchange_state(IO& io);
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

// Bytes the continuum transport state of this scenario needs (checked before anything is allocated).
double estimate_continuum_bytes(const Scenario& scenario);

} // namespace exoderm
