#include "model/vesicle_sizes.hpp"

#include <boost/math/distributions/normal.hpp>

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace exoderm {

double stokes_einstein_um2_per_s(double diameter_nm, double temperature_K, double viscosity_Pa_s) {
    constexpr double boltzmann_J_per_K = 1.380649e-23;
    const double radius_m = 0.5 * diameter_nm * 1e-9;
    const double d_m2_per_s = boltzmann_J_per_K * temperature_K / (6.0 * std::numbers::pi * viscosity_Pa_s * radius_m);
    return d_m2_per_s * 1e12;
}

std::vector<SizeClass> lognormal_size_classes(double median_nm, double gsd, int classes, double temperature_K,
                                              double viscosity_Pa_s) {
    if (classes < 1 || median_nm <= 0.0 || gsd < 1.0)
        throw std::invalid_argument("lognormal_size_classes: need classes >= 1, median > 0, gsd >= 1");
    std::vector<SizeClass> out(static_cast<std::size_t>(classes));
    const double sigma = std::log(gsd);
    if (classes == 1 || sigma == 0.0) {
        // E[1/d] of a lognormal is exp(-mu + sigma^2/2) / 1: the effective diameter is median * exp(-sigma^2/2).
        const double d_eff = median_nm * std::exp(-0.5 * sigma * sigma);
        for (auto& c : out) {
            c.fraction = 1.0 / classes;
            c.diameter_nm = d_eff;
            c.d0_um2_per_s = stokes_einstein_um2_per_s(d_eff, temperature_K, viscosity_Pa_s);
        }
        return out;
    }
    const boost::math::normal standard;
    const double mu = std::log(median_nm);
    // E[(1/d) 1{class}] = exp(-mu + sigma^2/2) [Phi(beta + sigma) - Phi(alpha + sigma)],
    // with alpha, beta the standard-normal bounds of the class (ln d = mu + sigma z).
    auto cdf = [&](double z) { return boost::math::cdf(standard, z); };
    for (int k = 0; k < classes; ++k) {
        const double p_lo = static_cast<double>(k) / classes;
        const double p_hi = static_cast<double>(k + 1) / classes;
        const double shifted_lo = k == 0 ? 0.0 : cdf(boost::math::quantile(standard, p_lo) + sigma);
        const double shifted_hi = k + 1 == classes ? 1.0 : cdf(boost::math::quantile(standard, p_hi) + sigma);
        const double mean_inverse_d = std::exp(-mu + 0.5 * sigma * sigma) * (shifted_hi - shifted_lo) / (p_hi - p_lo);
        auto& c = out[static_cast<std::size_t>(k)];
        c.fraction = p_hi - p_lo;
        c.diameter_nm = 1.0 / mean_inverse_d;
        c.d0_um2_per_s = stokes_einstein_um2_per_s(c.diameter_nm, temperature_K, viscosity_Pa_s);
    }
    return out;
}

} // namespace exoderm
