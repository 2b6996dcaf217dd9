#include "solvers/continuum_transport.hpp"

#include "solvers/injection.hpp"

#include <algorithm>
#include <cmath>

namespace exoderm {

ContinuumTransport::ContinuumTransport(const Scenario& s, const Tissue& tissue)
    : tissue_(tissue), grid_(tissue.grid()),
      classes_(lognormal_size_classes(s.product.median_diameter_nm, s.product.geometric_sd, s.product.size_classes,
                                      s.product.temperature_K, s.product.viscosity_Pa_s)),
      rates_(layer_reaction_rates(s)), lumen_hindrance_(s.lumen_hindrance), drying_time_s_(s.product.drying_time_s),
      applied_concentration_(s.product.concentration_per_um3), lumen_(grid_.size(), 0.0) {
    for (std::size_t l = 0; l < hindrance_.size(); ++l) hindrance_[l] = s.layers[l].hindrance;
    // An injected product has no film on the skin: the whole dose starts in the bolus.
    const double film_volume =
        s.injection.enabled ? 0.0 : s.product.volume_per_area_um * grid_.size_x_um() * grid_.size_y_um();
    const double bolus = s.injection.enabled ? s.product.concentration_per_um3 * s.injection.volume_um3 : 0.0;
    applied_ = s.product.concentration_per_um3 * film_volume + bolus;
    const bool sink = s.domain.bottom == BottomBoundary::Sink;
    const InjectionBolus injection(s.injection, 0.5 * grid_.size_x_um(), 0.5 * grid_.size_y_um());
    for (const auto& c : classes_) {
        free_.emplace_back(grid_.size(), 0.0);
        bound_.emplace_back(grid_.size(), 0.0);
        operators_.emplace_back(grid_, sink);
        reservoirs_.push_back({s.product.concentration_per_um3 * film_volume * c.fraction, film_volume, true});
        if (s.injection.enabled) injection.add_to_field(grid_, bolus * c.fraction, free_.back());
    }
    update_geometry(0.0);
}

void ContinuumTransport::update_geometry(double t_s) {
    const double a = tissue_.open_half_width_um(t_s);
    // A dried film no longer wets the mouths: their top faces become walls.
    const bool feeding = t_s < drying_time_s_;
    if (a == half_width_um_ && feeding == mouths_open_) return;
    set_geometry(a, feeding);
}

void ContinuumTransport::set_geometry(double a, bool feeding) {
    half_width_um_ = a;
    mouths_open_ = feeding;
    tissue_.lumen_fraction(a, lumen_);
    const std::size_t plane = grid_.plane();
    std::vector<std::size_t> lumen_voxels;
    for (std::size_t i = 0; i < lumen_.size(); ++i)
        if (lumen_[i] > 0.0) lumen_voxels.push_back(i);
    std::vector<double> row_hindrance(static_cast<std::size_t>(grid_.nz));
    for (int z = 0; z < grid_.nz; ++z)
        row_hindrance[static_cast<std::size_t>(z)] = hindrance_[static_cast<std::size_t>(tissue_.layer_of_row(z))];
    for (std::size_t k = 0; k < classes_.size(); ++k) {
        const double d0 = classes_[k].d0_um2_per_s;
        std::vector<double> row_d(row_hindrance.size());
        std::transform(row_hindrance.begin(), row_hindrance.end(), row_d.begin(), [d0](double h) { return d0 * h; });
        std::vector<VoxelOverride> overrides;
        overrides.reserve(lumen_voxels.size());
        for (std::size_t i : lumen_voxels) {
            const double phi = lumen_[i];
            // Lumen and tissue share the voxel in proportion to the open volume.
            const double h = phi * lumen_hindrance_ + (1.0 - phi) * row_hindrance[i / plane];
            overrides.push_back({i, d0 * h, false, feeding && i < plane});
        }
        operators_[k].set_diffusivity(row_d, std::move(overrides));
    }
}

const ReactionPropagator& ContinuumTransport::propagator(Layer layer, double dt_s) {
    if (dt_s != propagator_dt_) {
        for (int l = 0; l < kLayerCount; ++l)
            propagators_[static_cast<std::size_t>(l)] = make_reaction_propagator(rates_[static_cast<std::size_t>(l)], dt_s);
        propagator_dt_ = dt_s;
    }
    return propagators_[static_cast<std::size_t>(layer)];
}

void ContinuumTransport::step_to(double t_next_s) {
    const double dt_s = t_next_s - time_s_;
    // Geometry at mid-step: the channel radius changes continuously, and the midpoint keeps
    // the delivered amount second-order accurate in dt.
    update_geometry(time_s_ + 0.5 * dt_s);
    const bool feeding = mouths_open_;
    const std::size_t plane = grid_.plane();
    const double voxel_volume = grid_.voxel_volume_um3();
    for (int l = 0; l < kLayerCount; ++l) propagator(static_cast<Layer>(l), dt_s);
    std::vector<ReactionLosses> row_losses(static_cast<std::size_t>(grid_.nz));
    for (std::size_t k = 0; k < classes_.size(); ++k) {
        reservoirs_[k].feeding = feeding;
        const StepFluxes fluxes = operators_[k].step(free_[k], dt_s, &reservoirs_[k]);
        delivered_ += fluxes.top_inflow;
        cleared_ += fluxes.bottom_outflow;
        const auto rows = static_cast<std::ptrdiff_t>(grid_.nz);
#pragma omp parallel for schedule(static)
        for (std::ptrdiff_t z = 0; z < rows; ++z) {
            const Layer layer = tissue_.layer_of_row(static_cast<int>(z));
            const auto offset = static_cast<std::size_t>(z) * plane;
            row_losses[static_cast<std::size_t>(z)] =
                apply_reactions(propagators_[static_cast<std::size_t>(layer)], rates_[static_cast<std::size_t>(layer)],
                                std::span<double>(free_[k]).subspan(offset, plane),
                                std::span<double>(bound_[k]).subspan(offset, plane));
        }
        // Summed in row order: the same result for any number of threads.
        for (const auto& loss : row_losses) {
            degraded_ += loss.degraded * voxel_volume;
            cleared_ += loss.cleared * voxel_volume;
        }
    }
    time_s_ = t_next_s;
}

template <class IO>
void ContinuumTransport::exchange_state(IO& io) {
    io.scalar("time_s", time_s_);
    io.scalar("applied", applied_);
    io.scalar("degraded", degraded_);
    io.scalar("cleared", cleared_);
    io.scalar("delivered", delivered_);
    io.scalar("half_width_um", half_width_um_);
    io.flag("mouths_open", mouths_open_);
    for (std::size_t k = 0; k < classes_.size(); ++k) {
        auto c = io.in("class_" + std::to_string(k));
        c.fixed("free", free_[k]);
        c.fixed("bound", bound_[k]);
        c.scalar("reservoir_amount", reservoirs_[k].amount);
        c.scalar("reservoir_volume_um3", reservoirs_[k].volume_um3);
        c.flag("reservoir_feeding", reservoirs_[k].feeding);
    }
}

void ContinuumTransport::save_state(StateWriter& out) const {
    const_cast<ContinuumTransport*>(this)->exchange_state(out); // a writer only reads the state
}

void ContinuumTransport::load_state(const StateReader& in) {
    exchange_state(in);
    // The operators' diffusivities follow the geometry of the last step; factorisations are
    // redone from them exactly as in the uninterrupted run.
    set_geometry(half_width_um_, mouths_open_);
}

DoseLedger ContinuumTransport::flows() const {
    DoseLedger d;
    d.applied = applied_;
    for (const auto& r : reservoirs_) d.reservoir += r.amount;
    d.degraded = degraded_;
    d.cleared = cleared_;
    d.delivered = delivered_;
    return d;
}

double ContinuumTransport::reservoir_concentration() const {
    double amount = 0.0;
    for (const auto& r : reservoirs_) amount += r.amount;
    return reservoirs_.empty() ? 0.0 : amount / reservoirs_.front().volume_um3;
}

double estimate_continuum_bytes(const Scenario& s) {
    const Grid g = grid_for(s);
    const double voxels = static_cast<double>(g.size());
    const double classes = s.product.size_classes;
    // Per class: free + bound fields and the operator's dense override lookup (8 + 1 bytes);
    // shared: lumen fraction, and two output buffers (totals) when fields are written.
    const double per_voxel = classes * (8.0 + 8.0 + 9.0) + 8.0 + 16.0;
    return voxels * per_voxel;
}

} // namespace exoderm
