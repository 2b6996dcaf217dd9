// Particle-mode kernels against exact results (MODEL.md section 8): the counter-based draws,
// Brownian motion (MSD = 2 D t per axis and 6 D t in 3D, kurtosis 3), the mean first-passage
// time (L^2 - x0^2) / (2 D) from a reflecting wall to a sink, and the predictor-corrector rule
// at a jump of the diffusivity (a uniform density stays uniform).
//
// Statistical checks use fixed seeds and a tolerance of 4 standard errors computed from the
// sample itself (or from the exact Gaussian value where stated), so they are neither loose
// nor flaky: a correct kernel fails one of them with probability ~6e-5.
#include "model/tissue.hpp"
#include "solvers/particle_kernels.hpp"
#include "solvers/particle_rng.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

using namespace exoderm;
using namespace exoderm::particles;

namespace {

constexpr double kSigmas = 4.0; // tolerance in standard errors

// Mean and standard error of a sample.
struct Estimate {
    double mean = 0.0;
    double se = 0.0;
};

Estimate estimate(const std::vector<double>& v) {
    const double n = static_cast<double>(v.size());
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
    double ss = 0.0;
    for (double x : v) ss += (x - mean) * (x - mean);
    return {mean, std::sqrt(ss / (n - 1.0) / n)};
}

// A box of nz rows of dz over nx x ny columns of dx, with the layer of each row given.
Tissue box(int nx, int ny, int nz, double dx, double dz, const std::vector<Layer>& rows) {
    Grid g;
    g.nx = nx;
    g.ny = ny;
    g.nz = nz;
    g.dx_um = g.dy_um = dx;
    g.dz_um = dz;
    return Tissue(g, rows);
}

// A medium with the given hindrance per layer, no channels, closed surface.
Medium medium_of(const Tissue& t, std::array<double, kLayerCount> h, bool sink, double max_step) {
    Medium m(t, h, 1.0, sink, max_step);
    std::vector<double> no_lumen(t.grid().size(), 0.0);
    m.set_channels(no_lumen, 0.0, false);
    return m;
}

void add_particles(ParticleArrays& p, std::size_t n, float x, float y, float z, float d0) {
    for (std::size_t i = 0; i < n; ++i)
        p.push_back(x, y, z, d0, 1.0f, static_cast<std::uint32_t>(p.size()), State::Free, 0);
}

} // namespace

TEST_CASE("The vectorised Philox lanes are Random123's Philox4x32-10 bit for bit", "[particles][rng]") {
    // Particle ids above 2^32 too: their high bits go into the counter's purpose word.
    std::vector<std::uint64_t> ids(1000);
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = i * 2654435761u + (i % 3 == 0 ? (std::uint64_t{i} << 40) : 0);
    std::vector<std::uint32_t> keys(ids.size()), counters(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        keys[i] = prng::id_low(ids[i]);
        counters[i] = prng::id_purpose(ids[i], prng::kMove);
    }
    std::vector<std::uint32_t> w0(keys.size()), w1(keys.size()), w2(keys.size()), w3(keys.size());
    prng::philox_lanes(keys.size(), keys.data(), 0xDEADBEEF, 7, 11, counters.data(), 3, w0.data(), w1.data(),
                       w2.data(), w3.data());
    std::vector<float> g0(keys.size()), g1(keys.size()), g2(keys.size());
    const std::uint64_t seed = (std::uint64_t{3} << 32) | 0xDEADBEEF;
    gaussians_for(ids, seed, 7, 11, g0, g1, g2);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto ref = prng::philox(keys[i], 0xDEADBEEF, 7, 11, counters[i], 3);
        REQUIRE(ref == prng::particle_block(seed, ids[i], 7, 11, prng::kMove));
        REQUIRE(w0[i] == ref[0]);
        REQUIRE(w1[i] == ref[1]);
        REQUIRE(w2[i] == ref[2]);
        REQUIRE(w3[i] == ref[3]);
        // The step kernel's draws are the Box-Muller transform of exactly this block.
        float r0, r1, r2;
        prng::gaussians3(ref[0], ref[1], ref[2], ref[3], r0, r1, r2);
        REQUIRE(g0[i] == r0);
        REQUIRE(g1[i] == r1);
        REQUIRE(g2[i] == r2);
    }
    // Random123's known-answer vector for Philox4x32-10 (kat_vectors: pi digits).
    const auto kat = prng::philox(0xa4093822, 0x299f31d0, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344);
    CHECK(kat == prng::Block{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("The float log and sin/cos behind the Gaussians are accurate to 3e-7", "[particles][rng]") {
    double worst_log = 0.0, worst_trig = 0.0;
    for (std::uint32_t k = 1; k < (1u << 24); k += 97) {
        const float u = prng::uniform_open_f(k << 8);
        worst_log = std::max(worst_log, std::abs(prng::log_f(u) - std::log(static_cast<double>(u))) /
                                            std::max(1e-30, std::abs(std::log(static_cast<double>(u)))));
        float c, s;
        prng::cos_sin_2pi_f(u, c, s);
        const double a = 2.0 * 3.14159265358979323846 * static_cast<double>(u);
        worst_trig = std::max({worst_trig, std::abs(c - std::cos(a)), std::abs(s - std::sin(a))});
    }
    CHECK(worst_log < 3e-7);
    CHECK(worst_trig < 3e-7);
    CHECK(prng::log_f(1.0f) == 0.0f);
}

TEST_CASE("The Gaussian draws have mean 0, variance 1 and kurtosis 3", "[particles][rng]") {
    constexpr std::size_t kN = 1 << 20;
    std::vector<std::uint64_t> ids(kN);
    std::iota(ids.begin(), ids.end(), std::uint64_t{0});
    std::vector<float> g0(kN), g1(kN), g2(kN);
    gaussians_for(ids, 42, 0, 0, g0, g1, g2);
    for (const auto* g : {&g0, &g1, &g2}) {
        double m1 = 0, m2 = 0, m4 = 0;
        for (float v : *g) {
            m1 += v;
            m2 += double(v) * v;
            m4 += double(v) * v * v * v;
        }
        m1 /= kN, m2 /= kN, m4 /= kN;
        // Exact Gaussian standard errors: mean 1/sqrt(N), variance sqrt(2/N), kurtosis sqrt(24/N).
        CHECK(std::abs(m1) < kSigmas / std::sqrt(double(kN)));
        CHECK(std::abs(m2 - 1.0) < kSigmas * std::sqrt(2.0 / kN));
        CHECK(std::abs(m4 / (m2 * m2) - 3.0) < kSigmas * std::sqrt(24.0 / kN));
    }
    // The three draws of a lane are uncorrelated.
    double c01 = 0, c02 = 0;
    for (std::size_t i = 0; i < kN; ++i) c01 += double(g0[i]) * g1[i], c02 += double(g0[i]) * g2[i];
    CHECK(std::abs(c01 / kN) < kSigmas / std::sqrt(double(kN)));
    CHECK(std::abs(c02 / kN) < kSigmas / std::sqrt(double(kN)));
}

TEST_CASE("Poisson counts have the right mean and variance", "[particles][rng]") {
    for (double mean : {0.3, 3.7, 250.0}) {
        INFO("mean " << mean);
        std::vector<double> draws;
        for (std::uint32_t i = 0; i < 40000; ++i) {
            prng::UniformStream u(i, 9, 1, prng::kTest);
            draws.push_back(static_cast<double>(prng::poisson(mean, u)));
        }
        const Estimate e = estimate(draws);
        CHECK(std::abs(e.mean - mean) < kSigmas * e.se);
        double var = 0;
        for (double d : draws) var += (d - e.mean) * (d - e.mean);
        var /= static_cast<double>(draws.size() - 1);
        // SE of a sample variance of Poisson(mean) values: sqrt((mean + 2 mean^2) / N).
        CHECK(std::abs(var - mean) < kSigmas * std::sqrt((mean + 2 * mean * mean) / draws.size()));
    }
}

TEST_CASE("Brownian particles: MSD = 2 D t per axis, 6 D t in 3D, per-axis kurtosis 3", "[particles][brownian]") {
    // A 1280 um cube, uniform D = 0.8 um^2/s (two layers of equal hindrance meet at 640 um, so
    // particles starting there take max_step sub-steps, and longer ones as they move away).
    constexpr int kN = 64;
    std::vector<Layer> rows(kN, Layer::Dermis);
    for (int z = 0; z < kN / 2; ++z) rows[static_cast<std::size_t>(z)] = Layer::ViableEpidermis;
    const Tissue t = box(kN, kN, kN, 20.0, 20.0, rows);
    const Medium m = medium_of(t, {0.0, 0.4, 0.4}, false, 1.0);
    const double d0 = 2.0, D = 0.4 * d0, T = 150.0;
    ParticleArrays p;
    constexpr std::size_t kParticles = 200000;
    add_particles(p, kParticles, 640.0f, 640.0f, 640.0f, static_cast<float>(d0));
    std::vector<float> remaining(kParticles, static_cast<float>(T));
    const StepTally tally = advance(p, remaining, m.view(), ReactionTable{}, {2024, 0});
    INFO("sub-steps per particle " << double(tally.substeps) / kParticles);
    CHECK(tally.substeps > 5 * static_cast<std::int64_t>(kParticles)); // sub-stepping did happen
    std::vector<double> sq[3], r2(kParticles), fourth[3];
    for (std::size_t i = 0; i < kParticles; ++i) {
        const double d[3] = {p.x[i] - 640.0, p.y[i] - 640.0, p.z[i] - 640.0};
        r2[i] = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        for (int a = 0; a < 3; ++a) sq[a].push_back(d[a] * d[a]);
        REQUIRE(remaining[i] == 0.0f);
    }
    for (int a = 0; a < 3; ++a) {
        INFO("axis " << a);
        const Estimate msd = estimate(sq[a]);
        CHECK(std::abs(msd.mean - 2 * D * T) < kSigmas * msd.se);
        double m4 = 0;
        for (double s : sq[a]) m4 += s * s;
        m4 /= kParticles;
        CHECK(std::abs(m4 / (msd.mean * msd.mean) - 3.0) < kSigmas * std::sqrt(24.0 / kParticles));
    }
    const Estimate msd3 = estimate(r2);
    CHECK(std::abs(msd3.mean - 6 * D * T) < kSigmas * msd3.se);
}

TEST_CASE("Mean first-passage time from a reflecting wall to a sink is (L^2 - x0^2) / (2 D)", "[particles][brownian]") {
    // One 10 x 10 um column, 60 um deep: reflecting surface at z = 0, sink at z = L = 60 um.
    constexpr int kRows = 60;
    const Tissue t = box(1, 1, kRows, 10.0, 1.0, std::vector<Layer>(kRows, Layer::Dermis));
    const Medium m = medium_of(t, {0.0, 0.0, 1.0}, true, 1.0);
    const double D = 1.5, L = 60.0, x0 = 20.0;
    ParticleArrays p;
    constexpr std::size_t kParticles = 20000;
    add_particles(p, kParticles, 5.0f, 5.0f, static_cast<float>(x0), static_cast<float>(D));
    std::vector<double> passage; // exit time, taken at the middle of the step it happened in
    const double dt = 20.0;
    std::vector<float> remaining;
    std::size_t left = kParticles;
    for (std::uint32_t step = 0; left > 0 && step < 5000; ++step) {
        remaining.assign(p.size(), static_cast<float>(dt));
        const StepTally tally = advance(p, remaining, m.view(), ReactionTable{}, {77, step});
        for (std::int64_t k = 0; k < tally.cleared; ++k) passage.push_back((step + 0.5) * dt);
        left -= static_cast<std::size_t>(tally.cleared);
        p.remove_gone();
    }
    REQUIRE(left == 0);
    const Estimate mfpt = estimate(passage);
    const double exact = (L * L - x0 * x0) / (2 * D);
    INFO("mean first passage " << mfpt.mean << " +- " << mfpt.se << " s, exact " << exact);
    // Binning the exit times into steps adds dt^2/12 to the variance, not a bias.
    CHECK(std::abs(mfpt.mean - exact) < kSigmas * std::sqrt(mfpt.se * mfpt.se + dt * dt / 12.0 / kParticles));
}

TEST_CASE("Across a jump of the diffusivity a uniform density stays uniform (div D grad, not Ito)", "[particles][brownian]") {
    // Two layers, D 0.2 above and 1.8 below 100 um, closed box: the equilibrium of
    // div(D grad C) is uniform; a plain Ito walk would pile up 9x in the slow layer.
    constexpr int kRows = 40;
    std::vector<Layer> rows(kRows, Layer::Dermis);
    for (int z = 0; z < kRows / 2; ++z) rows[static_cast<std::size_t>(z)] = Layer::ViableEpidermis;
    const Tissue t = box(4, 4, kRows, 10.0, 5.0, rows);
    const Medium m = medium_of(t, {0.0, 0.2, 1.8}, false, 1.0);
    ParticleArrays p;
    constexpr std::size_t kParticles = 40000;
    prng::UniformStream u(0, 5, 0, prng::kTest);
    for (std::size_t i = 0; i < kParticles; ++i)
        p.push_back(static_cast<float>(40 * u.next()), static_cast<float>(40 * u.next()),
                    static_cast<float>(200 * u.next()), 1.0f, 1.0f, static_cast<std::uint32_t>(i), State::Free, 0);
    std::vector<float> remaining(kParticles, 2000.0f);
    advance(p, remaining, m.view(), ReactionTable{}, {3, 0});
    std::size_t upper = 0;
    for (float z : p.z) upper += z < 100.0f ? 1 : 0;
    const double fraction = static_cast<double>(upper) / kParticles;
    // Binomial standard error of the fraction in the upper half, 0.5 expected.
    CHECK(std::abs(fraction - 0.5) < kSigmas * std::sqrt(0.25 / kParticles));
}

TEST_CASE("A particle in a wall voxel does not move, and none enters a wall", "[particles][walls]") {
    // Stratum corneum (h = 0) in the top 4 rows: particles inside stay put; particles below
    // never enter it.
    constexpr int kRows = 20;
    std::vector<Layer> rows(kRows, Layer::ViableEpidermis);
    for (int z = 0; z < 4; ++z) rows[static_cast<std::size_t>(z)] = Layer::StratumCorneum;
    const Tissue t = box(4, 4, kRows, 5.0, 5.0, rows);
    const Medium m = medium_of(t, {0.0, 1.0, 1.0}, false, 1.0);
    ParticleArrays p;
    add_particles(p, 1000, 10.0f, 10.0f, 7.5f, 1.0f);  // trapped in the stratum corneum
    add_particles(p, 5000, 10.0f, 10.0f, 21.0f, 1.0f); // 1 um below it
    std::vector<float> remaining(p.size(), 200.0f);
    advance(p, remaining, m.view(), ReactionTable{}, {1, 0});
    for (std::size_t i = 0; i < 1000; ++i) REQUIRE(p.z[i] == 7.5f);
    for (std::size_t i = 1000; i < p.size(); ++i) REQUIRE(p.z[i] >= 20.0f);
}
