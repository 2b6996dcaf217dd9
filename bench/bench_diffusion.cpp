// Benchmarks of the implicit LOD diffusion step and of the reaction kernel.
//
// Problem: a 100^3 box (dx = dy = dz = 5 um) with three bulk layers (stratum corneum D = 0,
// viable epidermis 0.29, dermis 0.88 um^2/s for rows 0-2 / 3-16 / 17-99) and one cone-shaped
// microneedle channel (radius 60 um at the surface tapering to 0 at 250 um, D = 5.85 um^2/s
// in the lumen) whose top-row voxels open onto a feeding reservoir; dt = 60 s.
//
// Counters (see docs/PERFORMANCE.md):
//   items_per_second = voxel-updates per second = voxels x fields x steps / wall time
//   bytes_per_second = items_per_second x kBytesPerUpdate, the minimum-traffic model of an
//                      LOD step: two streaming read+write passes over the field
//                      (fused x/y sweep per plane, then the z sweep) = 2 x (8 + 8) bytes.
#include "model/grid.hpp"
#include "solvers/diffusion.hpp"
#include "solvers/reactions.hpp"

#include <benchmark/benchmark.h>
#include <omp.h>

#include <cmath>
#include <cstddef>
#include <memory>
#include <vector>

namespace {

using namespace exoderm;

constexpr int kN = 100;
constexpr double kSpacingUm = 5.0;
constexpr double kDtS = 60.0;
constexpr double kBytesPerUpdate = 32.0; // 2 passes x (8 B read + 8 B write), in place

Grid bench_grid() { return Grid{kN, kN, kN, kSpacingUm, kSpacingUm, kSpacingUm}; }

// Bulk diffusivity per depth row: 0 / 0.29 / 0.88 um^2/s for rows 0-2 / 3-16 / rest,
// scaled by the size class factor (larger vesicles diffuse slower).
std::vector<double> row_diffusivity(const Grid& g, double scale) {
    std::vector<double> d(static_cast<std::size_t>(g.nz));
    for (int z = 0; z < g.nz; ++z) d[static_cast<std::size_t>(z)] = scale * (z < 3 ? 0.0 : z < 17 ? 0.29 : 0.88);
    return d;
}

// One cone channel centred in the box: radius 60 um at the surface, 0 at 250 um depth.
// A voxel is lumen when its centre lies inside the cone; its top-row voxels are mouths.
std::vector<VoxelOverride> cone_channel(const Grid& g, double scale) {
    constexpr double kMouthRadiusUm = 60.0, kDepthUm = 250.0, kLumenD = 5.85;
    const double cx = 0.5 * g.size_x_um(), cy = 0.5 * g.size_y_um();
    std::vector<VoxelOverride> out;
    for (int z = 0; z < g.nz; ++z) {
        const double depth = g.z_centre_um(z);
        if (depth >= kDepthUm) break;
        const double radius = kMouthRadiusUm * (1.0 - depth / kDepthUm);
        for (int y = 0; y < g.ny; ++y)
            for (int x = 0; x < g.nx; ++x)
                if (std::hypot(g.x_centre_um(x) - cx, g.y_centre_um(y) - cy) < radius)
                    out.push_back({g.index(x, y, z), scale * kLumenD, false, z == 0});
    }
    return out;
}

// One size class: its own operator (own factorisations), field and reservoir.
struct SizeClass {
    DiffusionOperator op;
    std::vector<double> c;
    Reservoir reservoir;
    SizeClass(const Grid& g, double scale) : op(g, true), c(g.size()) {
        op.set_diffusivity(row_diffusivity(g, scale), cone_channel(g, scale));
        // A smooth positive field (no zeros, no subnormals), representative of mid-run.
        for (int z = 0; z < g.nz; ++z)
            for (int y = 0; y < g.ny; ++y)
                for (int x = 0; x < g.nx; ++x)
                    c[g.index(x, y, z)] = 1.0 + 0.5 * std::sin(0.1 * x + 0.2 * y) * std::exp(-0.01 * z);
        const double film_volume = 20.0 * g.size_x_um() * g.size_y_um(); // a 20 um film
        reservoir = {10.0 * film_volume, film_volume, true};
    }
};

void BM_DiffusionStep(benchmark::State& state) {
    const int fields = static_cast<int>(state.range(0));
    const int threads = static_cast<int>(state.range(1));
    const int previous_threads = omp_get_max_threads();
    omp_set_num_threads(threads);
    const Grid g = bench_grid();
    // Size classes differ by their free diffusivity, as Transport's classes do.
    const double class_scale[] = {1.0, 0.72, 0.52, 0.37};
    std::vector<std::unique_ptr<SizeClass>> classes;
    for (int k = 0; k < fields; ++k) classes.push_back(std::make_unique<SizeClass>(g, class_scale[k % 4]));
    // Warm-up step: factorises (lazily, on the first step) and pages in the fields.
    for (auto& k : classes) k->op.step(k->c, kDtS, &k->reservoir);

    double inflow = 0.0;
    for (auto _ : state) {
        for (auto& k : classes) inflow += k->op.step(k->c, kDtS, &k->reservoir).top_inflow;
        benchmark::ClobberMemory();
    }
    benchmark::DoNotOptimize(inflow);
    const auto updates = static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(g.size()) * fields;
    state.SetItemsProcessed(updates);
    state.SetBytesProcessed(static_cast<std::int64_t>(static_cast<double>(updates) * kBytesPerUpdate));
    state.counters["fields"] = fields;
    state.counters["threads"] = threads;
    state.counters["ns_per_update"] = benchmark::Counter(
        static_cast<double>(updates), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    omp_set_num_threads(previous_threads);
}
BENCHMARK(BM_DiffusionStep)
    ->ArgNames({"fields", "threads"})
    ->Args({1, 1})
    ->Args({1, 2})
    ->Args({4, 1})
    ->Args({4, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The reaction kernel on 1e6 voxels, called per depth row of 1e4 voxels as Transport does
// (rows split statically over the threads; losses summed in row order).
void BM_ApplyReactions(benchmark::State& state) {
    const int threads = static_cast<int>(state.range(0));
    const int previous_threads = omp_get_max_threads();
    omp_set_num_threads(threads);
    constexpr std::size_t kVoxels = 1'000'000, kRow = 10'000;
    constexpr auto kRows = static_cast<std::ptrdiff_t>(kVoxels / kRow);
    // Slow degradation: the fields barely decay over millions of calls (no subnormals).
    const ReactionRates rates{1e-7, 1e-7, 2e-3, 1e-3};
    const ReactionPropagator p = make_reaction_propagator(rates, kDtS);
    std::vector<double> free(kVoxels), bound(kVoxels);
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t r = 0; r < kRows; ++r)
        for (std::size_t i = static_cast<std::size_t>(r) * kRow; i < static_cast<std::size_t>(r + 1) * kRow; ++i) {
            free[i] = 1.0 + 1e-6 * static_cast<double>(i % 1000);
            bound[i] = 0.5;
        }
    std::vector<ReactionLosses> losses(static_cast<std::size_t>(kRows));
    double total = 0.0;
    for (auto _ : state) {
#pragma omp parallel for schedule(static)
        for (std::ptrdiff_t r = 0; r < kRows; ++r) {
            const auto offset = static_cast<std::size_t>(r) * kRow;
            losses[static_cast<std::size_t>(r)] = apply_reactions(
                p, rates, std::span<double>(free).subspan(offset, kRow), std::span<double>(bound).subspan(offset, kRow));
        }
        for (const auto& l : losses) total += l.degraded + l.cleared;
        benchmark::ClobberMemory();
    }
    benchmark::DoNotOptimize(total);
    const auto voxels = static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(kVoxels);
    state.SetItemsProcessed(voxels);
    state.SetBytesProcessed(voxels * 32); // free and bound: 8 B read + 8 B write each
    state.counters["threads"] = threads;
    omp_set_num_threads(previous_threads);
}
BENCHMARK(BM_ApplyReactions)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();

} // namespace
