#include "solvers/particle_rng.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace exoderm::prng {

double normal_quantile(double p) {
    // Acklam (2003): rational approximations in a central region and two tails.
    static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                   1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                   6.680131188771972e+01,  -1.328068155288572e+01};
    static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                   -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                   3.754408661907416e+00};
    constexpr double low = 0.02425, high = 1.0 - low;
    if (!(p > 0.0)) return -std::numeric_limits<double>::infinity();
    if (!(p < 1.0)) return std::numeric_limits<double>::infinity();
    if (p < low) {
        const double q = std::sqrt(-2.0 * std::log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    }
    if (p > high) {
        const double q = std::sqrt(-2.0 * std::log1p(-p));
        return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    }
    const double q = p - 0.5;
    const double r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
}

std::int64_t poisson(double mean, UniformStream& uniforms) {
    if (!(mean > 0.0)) return 0;
    if (mean < 10.0) {
        // Inversion: walk up the CDF.
        const double u = uniforms.next();
        double p = std::exp(-mean);
        double cdf = p;
        std::int64_t k = 0;
        while (u > cdf && k < 1000) {
            ++k;
            p *= mean / static_cast<double>(k);
            cdf += p;
        }
        return k;
    }
    // PTRS: W. Hoermann, "The transformed rejection method for generating Poisson random
    // variables", Insurance: Mathematics and Economics 12 (1993) 39-45.
    const double log_mean = std::log(mean);
    const double smu = std::sqrt(mean);
    const double b = 0.931 + 2.53 * smu;
    const double a = -0.059 + 0.02483 * b;
    const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    const double vr = 0.9277 - 3.6224 / (b - 2.0);
    for (;;) {
        const double u = uniforms.next() - 0.5;
        const double v = uniforms.next();
        const double us = 0.5 - std::abs(u);
        const double k = std::floor((2.0 * a / us + b) * u + mean + 0.43);
        if (us >= 0.07 && v <= vr) return static_cast<std::int64_t>(k);
        if (k < 0.0 || (us < 0.013 && v > us)) continue;
        if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <= -mean + k * log_mean - std::lgamma(k + 1.0))
            return static_cast<std::int64_t>(k);
    }
}

std::int64_t binomial(std::int64_t n, double p, UniformStream& uniforms) {
    if (n <= 0 || !(p > 0.0)) return 0;
    if (p >= 1.0) return n;
    if (p > 0.5) return n - binomial(n, 1.0 - p, uniforms);
    const double nd = static_cast<double>(n);
    if (nd * p * (1.0 - p) < 25.0) {
        // Inversion: walk up the CDF with the ratio P(k+1)/P(k) = (n-k)/(k+1) p/q.
        const double u = uniforms.next();
        const double ratio = p / (1.0 - p);
        double pk = std::exp(nd * std::log1p(-p));
        double cdf = pk;
        std::int64_t k = 0;
        while (u > cdf && k < n) {
            pk *= ratio * static_cast<double>(n - k) / static_cast<double>(k + 1);
            ++k;
            cdf += pk;
        }
        return k;
    }
    const double z = normal_quantile(uniforms.next());
    const double k = std::floor(nd * p + z * std::sqrt(nd * p * (1.0 - p)) + 0.5);
    return static_cast<std::int64_t>(std::clamp(k, 0.0, nd));
}

} // namespace exoderm::prng
