// Matrix binding, degradation and clearance of vesicles, solved exactly per voxel.
//
//   dC/dt = -(k_deg + k_clear + k_on) C + k_off B
//   dB/dt =   k_on C - (k_off + k_deg) B
//
// The system is linear with constant rates in a layer, so a step is a 2x2 matrix
// exponential and the amounts degraded and cleared are exact time integrals (they follow
// from the row totals alone, which keeps the dose ledger exact at no cost per voxel).
#pragma once

#include "model/scenario.hpp"

#include <array>
#include <span>

namespace exoderm {

struct ReactionRates {
    double k_deg_per_s = 0.0;
    double k_clear_per_s = 0.0;
    double k_on_per_s = 0.0;
    double k_off_per_s = 0.0;
};

struct ReactionPropagator {
    std::array<double, 4> step{};     // [C', B'] = step * [C, B], row-major 2x2
    std::array<double, 4> integral{}; // [int C dt, int B dt] = integral * [C, B]
};

// The rates of each skin layer as the scenario gives them (shared by every transport mode).
std::array<ReactionRates, kLayerCount> layer_reaction_rates(const Scenario& scenario);

ReactionPropagator make_reaction_propagator(const ReactionRates& rates, double dt_s);

struct ReactionLosses {
    double degraded = 0.0;
    double cleared = 0.0;
};

// Applies the propagator to a set of voxels (free and bound concentrations) and returns
// the losses as concentration sums (multiply by the voxel volume for amounts).
ReactionLosses apply_reactions(const ReactionPropagator& p, const ReactionRates& rates, std::span<double> free,
                               std::span<double> bound);

} // namespace exoderm
