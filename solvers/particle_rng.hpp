// Counter-based random numbers for particle mode (docs/particles.md).
//
// Every random number is Random123's Philox4x32-10 of a key and a counter, so a draw depends
// only on what it is for, never on which thread made it or in which order: a run is bitwise
// the same for any number of threads and can be replayed.
//
//   key     = (particle id bits 0-31, seed bits 0-31)   or (voxel index, seed bits 0-31)
//   counter = (step, sub-step, purpose | particle id bits 32-55 << 8, seed bits 32-63)
//
// philox() calls Random123's Philox4x32-10; philox_lanes() is the same algorithm written
// over arrays so the compiler vectorises it (tests check the two agree bit for bit).
// Uniforms, Gaussians (Box-Muller with a polynomial log and sin/cos in float, written out so
// the result does not depend on the C library) and Poisson counts are built on top.
#pragma once

#include <Random123/philox.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace exoderm::prng {

// What a draw is for: the third counter word, so different uses never share numbers.
enum Purpose : std::uint32_t {
    kMove = 1,     // the Gaussian step of one sub-step
    kEvent = 2,    // which reaction fires, and the next exponential clock
    kCreate = 3,   // a new particle's entry time, position, diameter and first clock
    kEmit = 4,     // how many particles enter through one mouth voxel (| class << 8)
    kBridge = 5,   // Brownian-bridge crossing test at a sink
    kPlace = 6,    // where a cell agent is placed (| cell type << 8)
    kUptake = 7,   // captures in one voxel (| size class << 8)
    kFate = 8,     // a macrophage's death, division and switching in one response step
    kRecruit = 9,  // recruits of one response-grid block in one response step
    kTest = 15,    // tests and benchmarks
};

using Block = std::array<std::uint32_t, 4>;

inline std::uint32_t seed_low(std::uint64_t seed) { return static_cast<std::uint32_t>(seed); }
inline std::uint32_t seed_high(std::uint64_t seed) { return static_cast<std::uint32_t>(seed >> 32); }

// Random123 Philox4x32-10.
inline Block philox(std::uint32_t key0, std::uint32_t key1, std::uint32_t c0, std::uint32_t c1,
                        std::uint32_t c2, std::uint32_t c3) {
    r123::Philox4x32 generator;
    const r123::Philox4x32::ctr_type counter = {{c0, c1, c2, c3}};
    const r123::Philox4x32::key_type key = {{key0, key1}};
    const auto out = generator(counter, key);
    return {out[0], out[1], out[2], out[3]};
}

// Particle ids have 56 bits: the low 32 are the key's first word, the high 24 go into the
// counter's purpose word above the purpose (purposes are < 256).
inline constexpr std::uint64_t kMaxParticleId = (std::uint64_t{1} << 56) - 1;
inline std::uint32_t id_low(std::uint64_t id) { return static_cast<std::uint32_t>(id); }
inline std::uint32_t id_purpose(std::uint64_t id, std::uint32_t purpose) {
    return purpose | static_cast<std::uint32_t>((id >> 32) << 8);
}

// The draw of one particle for one purpose at (step, sub-step).
inline Block particle_block(std::uint64_t seed, std::uint64_t id, std::uint32_t step, std::uint32_t substep,
                            std::uint32_t purpose) {
    return philox(id_low(id), seed_low(seed), step, substep, id_purpose(id, purpose), seed_high(seed));
}

// The ten Philox4x32 rounds on one block, in place: the same arithmetic as Random123's
// philox4x32 (checked against it in tests), written to inline into vectorised loops.
[[gnu::always_inline]] inline void philox_rounds(std::uint32_t& x0, std::uint32_t& x1, std::uint32_t& x2,
                                                 std::uint32_t& x3, std::uint32_t k0, std::uint32_t k1) {
    constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u, kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
    for (int round = 0; round < 10; ++round) {
        const std::uint64_t p0 = static_cast<std::uint64_t>(kM0) * x0;
        const std::uint64_t p1 = static_cast<std::uint64_t>(kM1) * x2;
        x0 = static_cast<std::uint32_t>(p1 >> 32) ^ x1 ^ k0;
        x1 = static_cast<std::uint32_t>(p1);
        x2 = static_cast<std::uint32_t>(p0 >> 32) ^ x3 ^ k1;
        x3 = static_cast<std::uint32_t>(p0);
        k0 += kW0;
        k1 += kW1;
    }
}

// Philox4x32-10 for n lanes with keys (key0[i], key1) and counters (c0, c1, c2[i], c3),
// written so that the loop vectorises. out{0..3}[i] is word 0..3 of lane i.
inline void philox_lanes(std::size_t n, const std::uint32_t* __restrict key0, std::uint32_t key1,
                         std::uint32_t c0, std::uint32_t c1, const std::uint32_t* __restrict c2, std::uint32_t c3,
                         std::uint32_t* __restrict out0, std::uint32_t* __restrict out1,
                         std::uint32_t* __restrict out2, std::uint32_t* __restrict out3) {
    for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t x0 = c0, x1 = c1, x2 = c2[i], x3 = c3;
        philox_rounds(x0, x1, x2, x3, key0[i], key1);
        out0[i] = x0;
        out1[i] = x1;
        out2[i] = x2;
        out3[i] = x3;
    }
}

// --- conversions -----------------------------------------------------------------------------

// Uniform in (0, 1] from the top 24 bits (float): never 0, so log() is finite.
inline float uniform_open_f(std::uint32_t bits) {
    return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f) + (0.5f / 16777216.0f);
}
// Uniform in [0, 1) from the top 24 bits (float).
inline float uniform_f(std::uint32_t bits) { return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f); }
// Uniform in (0, 1) from 53 bits of two words (double).
inline double uniform_open_d(std::uint32_t hi, std::uint32_t lo) {
    const std::uint64_t bits = (static_cast<std::uint64_t>(hi) << 21) ^ (lo >> 11); // 53 bits
    return (static_cast<double>(bits) + 0.5) * 0x1p-53;
}

// Natural log for x in (0, 1] (Cephes logf polynomial; |relative error| < 3e-7). Branch-free.
inline float log_f(float x) {
    std::uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    int e = static_cast<int>((bits >> 23) & 0xffu) - 126;
    bits = (bits & 0x007fffffu) | 0x3f000000u; // mantissa in [0.5, 1)
    float m;
    std::memcpy(&m, &bits, sizeof m);
    const bool small = m < 0.707106781186547524f;
    e = small ? e - 1 : e;
    float f = small ? m + m - 1.0f : m - 1.0f;
    const float z = f * f;
    float y = 7.0376836292E-2f;
    y = y * f - 1.1514610310E-1f;
    y = y * f + 1.1676998740E-1f;
    y = y * f - 1.2420140846E-1f;
    y = y * f + 1.4249322787E-1f;
    y = y * f - 1.6668057665E-1f;
    y = y * f + 2.0000714765E-1f;
    y = y * f - 2.4999993993E-1f;
    y = y * f + 3.3333331174E-1f;
    y = y * f * z;
    const float fe = static_cast<float>(e);
    y += -2.12194440e-4f * fe;
    y += -0.5f * z;
    f = f + y;
    f += 0.693359375f * fe;
    return f;
}

// cos and sin of 2 pi u for u in [0, 1] (quadrant reduction, Cephes polynomials; error < 2e-7).
inline void cos_sin_2pi_f(float u, float& c, float& s) {
    const float t = u * 4.0f;
    const int quadrant = static_cast<int>(t + 0.5f);
    const float a = (t - static_cast<float>(quadrant)) * 1.57079632679489661923f; // [-pi/4, pi/4]
    const float a2 = a * a;
    const float sa = a + a * a2 * (-1.6666654611E-1f + a2 * (8.3321608736E-3f + a2 * -1.9515295891E-4f));
    const float ca =
        1.0f - 0.5f * a2 + a2 * a2 * (4.166664568298827E-2f + a2 * (-1.388731625493765E-3f + a2 * 2.443315711809948E-5f));
    const int q = quadrant & 3;
    c = q == 0 ? ca : q == 1 ? -sa : q == 2 ? -ca : sa;
    s = q == 0 ? sa : q == 1 ? ca : q == 2 ? -sa : -ca;
}

// Three standard Gaussians from one Philox block: Box-Muller on words (0, 1) and (2, 3).
// The tails are cut at sqrt(2 ln 2^25) = 5.9 standard deviations (24-bit uniforms).
inline void gaussians3(std::uint32_t w0, std::uint32_t w1, std::uint32_t w2, std::uint32_t w3, float& g0, float& g1,
                       float& g2) {
    const float r0 = std::sqrt(-2.0f * log_f(uniform_open_f(w0)));
    const float r1 = std::sqrt(-2.0f * log_f(uniform_open_f(w2)));
    float c0, s0, c1, s1;
    cos_sin_2pi_f(uniform_f(w1), c0, s0);
    cos_sin_2pi_f(uniform_f(w3), c1, s1);
    g0 = r0 * c0;
    g1 = r0 * s0;
    g2 = r1 * c1;
}

// Standard exponential from a uniform in (0, 1).
inline double exponential(double u_open) { return -std::log(u_open); }

// Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9).
double normal_quantile(double p);
// Standard normal CDF.
inline double normal_cdf(double z) { return 0.5 * std::erfc(-z * 0.70710678118654752440); }

// A sequence of uniforms from consecutive Philox blocks: counter word 1 counts the blocks.
class UniformStream {
public:
    UniformStream(std::uint32_t key0, std::uint64_t seed, std::uint32_t c0, std::uint32_t purpose)
        : key0_(key0), seed_(seed), c0_(c0), purpose_(purpose) {}
    // Uniform in (0, 1), 53 bits.
    double next() {
        if (used_ >= 2) {
            block_ = philox(key0_, seed_low(seed_), c0_, blocks_++, purpose_, seed_high(seed_));
            used_ = 0;
        }
        const double u = uniform_open_d(block_[2 * used_], block_[2 * used_ + 1]);
        ++used_;
        return u;
    }

private:
    std::uint32_t key0_;
    std::uint64_t seed_;
    std::uint32_t c0_, purpose_;
    std::uint32_t blocks_ = 0;
    Block block_{};
    int used_ = 2;
};

// Poisson(mean) count: inversion below mean 10, Hoermann's PTRS transformed rejection above.
std::int64_t poisson(double mean, UniformStream& uniforms);

// Binomial(n, p) count: inversion when the variance n p (1 - p) is below 25, otherwise the
// normal approximation with continuity correction, clamped to [0, n].
std::int64_t binomial(std::int64_t n, double p, UniformStream& uniforms);

} // namespace exoderm::prng
