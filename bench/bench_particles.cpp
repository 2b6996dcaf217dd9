// Benchmarks of the particle-mode Brownian step (docs/particles.md).
//
// Problem: the channel geometry of the default scenario (schema defaults: 707 um unit cell,
// dx 10 um, dz 5 um, one cone channel 250 um deep with a 62.5 um mouth half-width, open, the
// film dried so the mouth is a wall and the particle count stays fixed). N particles with
// the default diameter distribution start uniformly in the cylinder r < a0 + 60 um,
// z < 290 um around the channel (lumen, epidermis and upper dermis next to it: where
// sub-steps are smallest and most of a run's work is). One benchmark iteration advances all
// of them by dt = 30 s; their positions are restored between iterations (not timed).
//
// Counters:
//   items_per_second   = particle sub-steps (Gaussian moves) per second, all threads
//   steps_per_s_core   = the same per thread
//   bytes_per_particle = persistent state per particle (ParticleArrays) + its step scratch
#include "model/scenario_load.hpp"
#include "model/tissue.hpp"
#include "model/vesicle_sizes.hpp"
#include "solvers/particle_kernels.hpp"
#include "solvers/particle_rng.hpp"

#include <benchmark/benchmark.h>
#include <omp.h>

#include <cmath>
#include <vector>

namespace {

using namespace exoderm;

constexpr double kDtS = 30.0;

struct ChannelSetup {
    Scenario scenario = load_scenario_text("[product]\ndrying_time = \"1 s\"\n", "bench.toml");
    Tissue tissue{scenario};
    particles::Medium medium;
    particles::ReactionTable reactions;
    particles::ParticleArrays start;

    explicit ChannelSetup(std::size_t n)
        : medium(tissue,
                 {scenario.layers[0].hindrance, scenario.layers[1].hindrance, scenario.layers[2].hindrance},
                 scenario.lumen_hindrance, false, scenario.particles.max_step_um) {
        const Grid& g = tissue.grid();
        std::vector<double> lumen(g.size());
        const double a0 = tissue.open_half_width_um(0.0);
        tissue.lumen_fraction(a0, lumen);
        medium.set_channels(lumen, a0, false);
        reactions = particles::reaction_table(scenario);
        const auto& c = tissue.channels().front();
        const double reach = a0 + 60.0, depth = tissue.channel_shape().depth_um + 40.0;
        const double sigma = std::log(scenario.product.geometric_sd);
        prng::UniformStream u(0, 12345, 0, prng::kTest);
        std::uint64_t id = 0;
        while (start.size() < n) {
            const double r = reach * std::sqrt(u.next()), phi = 2.0 * 3.141592653589793 * u.next();
            const double x = c.x_um + r * std::cos(phi), y = c.y_um + r * std::sin(phi), z = depth * u.next();
            const std::size_t voxel = g.index(static_cast<int>(x / g.dx_um), static_cast<int>(y / g.dy_um),
                                              static_cast<int>(z / g.dz_um));
            if (!(medium.hindrance(voxel) > 0.0f)) continue; // not inside a wall
            const double diameter =
                scenario.product.median_diameter_nm * std::exp(sigma * prng::normal_quantile(u.next()));
            const double d0 = stokes_einstein_um2_per_s(diameter, scenario.product.temperature_K,
                                                        scenario.product.viscosity_Pa_s);
            start.push_back(static_cast<float>(x), static_cast<float>(y), static_cast<float>(z),
                            static_cast<float>(d0), static_cast<float>(prng::exponential(u.next())), id++,
                            particles::State::Free, 0);
        }
    }
};

void BM_ParticleStep(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const int threads = static_cast<int>(state.range(1));
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    ChannelSetup setup(n);
    const particles::MediumView view = setup.medium.view();
    particles::ParticleArrays p = setup.start;
    std::vector<float> remaining(n);
    std::int64_t substeps = 0;
    std::uint32_t step = 0;
    for (auto _ : state) {
        state.PauseTiming();
        p = setup.start;
        std::fill(remaining.begin(), remaining.end(), static_cast<float>(kDtS));
        state.ResumeTiming();
        const auto tally = particles::advance(p, remaining, view, setup.reactions, {1, step++});
        substeps += tally.substeps;
        benchmark::DoNotOptimize(p.x.data());
    }
    omp_set_num_threads(before);
    state.SetItemsProcessed(substeps);
    state.counters["steps_per_s_core"] =
        benchmark::Counter(static_cast<double>(substeps) / threads, benchmark::Counter::kIsRate);
    state.counters["bytes_per_particle"] =
        static_cast<double>(particles::ParticleArrays::kBytesPerParticle + sizeof(float));
    state.counters["substeps_per_particle"] = static_cast<double>(substeps) / static_cast<double>(n) /
                                              static_cast<double>(state.iterations());
}
BENCHMARK(BM_ParticleStep)
    ->ArgNames({"particles", "threads"})
    ->Args({100000, 1})
    ->Args({100000, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The draws alone: Philox4x32-10 and three Box-Muller Gaussians per particle sub-step.
void BM_ParticleDraws(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<std::uint64_t> ids(n);
    for (std::size_t i = 0; i < n; ++i) ids[i] = i;
    std::vector<float> g0(n), g1(n), g2(n);
    std::uint32_t substep = 0;
    for (auto _ : state) {
        particles::gaussians_for(ids, 1, 0, substep++, g0, g1, g2);
        benchmark::DoNotOptimize(g0.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_ParticleDraws)->Arg(2048);

} // namespace
