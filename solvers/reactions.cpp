#include "solvers/reactions.hpp"

#include <Eigen/Dense>
#include <unsupported/Eigen/MatrixFunctions>

namespace exoderm {

std::array<ReactionRates, kLayerCount> layer_reaction_rates(const Scenario& s) {
    std::array<ReactionRates, kLayerCount> rates{};
    for (std::size_t l = 0; l < rates.size(); ++l)
        rates[l] = {s.degradation.k_per_s(), s.layers[l].k_clear_per_s, s.layers[l].k_on_ecm_per_s,
                    s.layers[l].k_off_ecm_per_s};
    return rates;
}

ReactionPropagator make_reaction_propagator(const ReactionRates& r, double dt_s) {
    // The integral of exp(A s) over [0, dt] is the upper-right block of exp([[A, I], [0, 0]] dt),
    // which stays well defined when A is singular (no loss at all).
    Eigen::Matrix4d augmented = Eigen::Matrix4d::Zero();
    augmented(0, 0) = -(r.k_deg_per_s + r.k_clear_per_s + r.k_on_per_s);
    augmented(0, 1) = r.k_off_per_s;
    augmented(1, 0) = r.k_on_per_s;
    augmented(1, 1) = -(r.k_off_per_s + r.k_deg_per_s);
    augmented(0, 2) = 1.0;
    augmented(1, 3) = 1.0;
    const Eigen::Matrix4d e = (augmented * dt_s).exp();
    ReactionPropagator p;
    p.step = {e(0, 0), e(0, 1), e(1, 0), e(1, 1)};
    p.integral = {e(0, 2), e(0, 3), e(1, 2), e(1, 3)};
    return p;
}

ReactionLosses apply_reactions(const ReactionPropagator& p, const ReactionRates& r, std::span<double> free,
                               std::span<double> bound) {
    double sum_free = 0.0;
    double sum_bound = 0.0;
    const double s00 = p.step[0], s01 = p.step[1], s10 = p.step[2], s11 = p.step[3];
    const std::size_t n = free.size();
    double* __restrict c = free.data();
    double* __restrict b = bound.data();
    for (std::size_t i = 0; i < n; ++i) {
        const double ci = c[i];
        const double bi = b[i];
        sum_free += ci;
        sum_bound += bi;
        c[i] = s00 * ci + s01 * bi;
        b[i] = s10 * ci + s11 * bi;
    }
    const double int_free = p.integral[0] * sum_free + p.integral[1] * sum_bound;
    const double int_bound = p.integral[2] * sum_free + p.integral[3] * sum_bound;
    return {r.k_deg_per_s * (int_free + int_bound), r.k_clear_per_s * int_free};
}

} // namespace exoderm
