// Benchmarks of the cell agents' per-step work (MODEL.md section 5): vesicle capture from the
// free field (capture_step), the bound / internalised / signal ODEs (signalling_step), and both
// together, as one transport step runs them.
//
// Problem: a transport grid of 100 x 100 x 50 voxels (dx = dy = 10 um, dz = 5 um: 1e4 voxels
// per depth row, 250 um deep, 500 um^3 per voxel) with the schema's default layers by row
// (stratum corneum rows 0-2, hindrance 0; viable epidermis rows 3-16, 0.05; dermis rows 17-49,
// 0.15). 1e5 cells placed uniformly at random in the box (fixed Philox seed), 90 % type 0
// (keratinocyte: radius 6 um, k_on 0.01 um^3/s), 8 % type 1 (fibroblast: 7.5 um, 0.01) and
// 2 % type 2 (macrophage: 7.5 um, 0.05), 1000 receptors each: 0.2 cells per voxel, ~9e4
// occupied voxels. Three size-class fields (the default lognormal split of 100 nm, gsd 1.4,
// 32 C, 0.764 mPa s) with a smooth, positive concentration around c_milli x 1e-3 vesicles per
// um^3 (c_milli = 1: ~0.5 vesicles per voxel, so the binomial draws mostly see 0 whole
// vesicles; c_milli = 100: ~50 per voxel, near a channel, where every draw is a real one).
// Stochastic uptake, transport step dt = 20 s (time.dt_max_delivery). Signalling with the
// schema's default rates (k_off 0.5 /h, k_int 1 /h, k_lys 0.05 /h, signal 2 /d, potency 1):
// 1 RK4 sub-step for dt = 20 s, 8 for dt = 1 h.
//
// capture_step depletes the fields; they are refilled from a saved copy before each timed
// call, OUTSIDE the timed region (state.PauseTiming / ResumeTiming). The refill is a 12 MB
// copy, so the timed call starts with part of the fields in cache (L3 is 32 MB); a run
// refills nothing, so this flatters the uptake figure somewhat. The cell state (B, N, S) is
// not reset: the cost of both kernels does not depend on its values.
//
// Counters:
//   items_per_second            = cells processed per second (cells x calls / wall time)
//   cell_updates_per_s          = the same
//   substep_cell_updates_per_s  = signalling only: cells x RK4 sub-steps per second
#include "model/grid.hpp"
#include "model/vesicle_sizes.hpp"
#include "solvers/cell_population.hpp"
#include "solvers/cell_signalling.hpp"
#include "solvers/cell_uptake.hpp"
#include "solvers/particle_rng.hpp"

#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace {

using namespace exoderm;

constexpr std::size_t kCells = 100'000;
constexpr double kTransportDtS = 20.0;
constexpr std::uint64_t kSeed = 20240611;

Grid cell_grid() { return Grid{100, 100, 50, 10.0, 10.0, 5.0}; }

// Rows 0-2 / 3-16 / 17-49: 15 um stratum corneum, 70 um viable epidermis, dermis (schema defaults).
double row_hindrance(int z) { return z < 3 ? 0.0 : z < 17 ? 0.05 : 0.15; }

struct CellSetup {
    Grid grid = cell_grid();
    UptakeSetup uptake;
    SignallingSetup signalling;
    CellPopulation cells;
    VoxelGroups groups;
    std::vector<std::vector<double>> saved, fields; // per size class, concentration per um^3
    std::vector<std::span<double>> field_spans;
    std::vector<double> captured, released;

    explicit CellSetup(double concentration_per_um3) {
        // Uptake: the three default cell types, stochastic mode.
        uptake.types[0] = {0.01, 1000.0, 6.0};
        uptake.types[1] = {0.01, 1000.0, 7.5};
        uptake.types[2] = {0.05, 1000.0, 7.5};
        uptake.row_hindrance.resize(static_cast<std::size_t>(grid.nz));
        for (int z = 0; z < grid.nz; ++z) uptake.row_hindrance[static_cast<std::size_t>(z)] = row_hindrance(z);
        for (const auto& k : lognormal_size_classes(100.0, 1.4, 3, 305.15, 0.764e-3))
            uptake.class_d0_um2_per_s.push_back(k.d0_um2_per_s);
        uptake.plane = grid.plane();
        uptake.voxel_volume_um3 = grid.voxel_volume_um3();
        uptake.stochastic = true;
        uptake.seed = kSeed;
        // Signalling: schema defaults, the same for every type.
        for (auto& t : signalling.types) t = {0.5 / 3600.0, 1.0 / 3600.0, 0.05 / 3600.0, 2.0 / 86400.0};
        signalling.potency = 1.0;

        // Cells: uniform in the box, 90 / 8 / 2 % of types 0 / 1 / 2, with some vesicles on
        // and in them already (mid-run state).
        prng::UniformStream u(1, kSeed, 0, prng::kTest);
        cells.reserve(kCells);
        for (std::size_t i = 0; i < kCells; ++i) {
            const double x = u.next() * grid.size_x_um(), y = u.next() * grid.size_y_um(),
                         z = u.next() * grid.depth_um();
            const double t = u.next();
            const auto type = t < 0.90 ? CellType::Keratinocyte : t < 0.98 ? CellType::Fibroblast : CellType::Macrophage;
            const auto v = grid.index(static_cast<int>(x / grid.dx_um), static_cast<int>(y / grid.dy_um),
                                      static_cast<int>(z / grid.dz_um));
            const std::size_t c = cells.add(x, y, z, type,
                                            type == CellType::Macrophage ? MacrophageState::Repair
                                                                         : MacrophageState::None,
                                            static_cast<std::uint32_t>(v));
            cells.bound[c] = 20.0 * u.next();
            cells.internalised[c] = 50.0 * u.next();
            cells.signal[c] = 30.0 * u.next();
        }
        groups = group_by_voxel(cells);

        // Fields: smooth and positive, a different pattern per class, mean about the target.
        saved.resize(uptake.class_d0_um2_per_s.size());
        for (std::size_t k = 0; k < saved.size(); ++k) {
            auto& f = saved[k];
            f.resize(grid.size());
            const double phase = 1.7 * static_cast<double>(k);
            for (int z = 0; z < grid.nz; ++z)
                for (int y = 0; y < grid.ny; ++y)
                    for (int x = 0; x < grid.nx; ++x)
                        f[grid.index(x, y, z)] =
                            concentration_per_um3 *
                            (1.0 + 0.5 * std::sin(0.13 * x + 0.21 * y + phase) * std::cos(0.17 * z - 0.3 * phase));
        }
        fields = saved;
        for (auto& f : fields) field_spans.emplace_back(f);
        captured.assign(kCells, 0.0);
        released.assign(kCells, 0.0);
    }

    void refill() {
        for (std::size_t k = 0; k < fields.size(); ++k) std::copy(saved[k].begin(), saved[k].end(), fields[k].begin());
    }
    std::span<const std::span<double>> spans() const { return field_spans; }
};

void cell_rate_counters(benchmark::State& state, int threads) {
    const auto updates = static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(kCells);
    state.SetItemsProcessed(updates);
    state.counters["cell_updates_per_s"] = benchmark::Counter(static_cast<double>(updates), benchmark::Counter::kIsRate);
    state.counters["threads"] = threads;
}

// capture_step on 1e5 cells, 3 size classes, dt = 20 s. Fields refilled outside the timing.
void BM_CellUptake(benchmark::State& state) {
    const double concentration = 1e-3 * static_cast<double>(state.range(0));
    const int threads = static_cast<int>(state.range(1));
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    CellSetup setup(concentration);
    std::uint32_t step = 0;
    // Warm-up call: sizes the thread_local scratch and pages everything in.
    capture_step(setup.uptake, setup.cells, setup.groups, setup.spans(), kTransportDtS, step++, setup.captured);
    double total = 0.0;
    for (auto _ : state) {
        state.PauseTiming();
        setup.refill();
        state.ResumeTiming();
        total += capture_step(setup.uptake, setup.cells, setup.groups, setup.spans(), kTransportDtS, step++,
                              setup.captured);
        benchmark::ClobberMemory();
    }
    benchmark::DoNotOptimize(total);
    omp_set_num_threads(before);
    cell_rate_counters(state, threads);
    state.counters["occupied_voxels"] = static_cast<double>(setup.groups.groups());
    state.counters["captured_per_call"] = total / static_cast<double>(state.iterations());
}
BENCHMARK(BM_CellUptake)
    ->ArgNames({"c_milli", "threads"})
    ->Args({1, 1})
    ->Args({1, 2})
    ->Args({100, 1})
    ->Args({100, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// signalling_step on 1e5 cells; dt = 20 s (1 RK4 sub-step) or 3600 s (8 sub-steps). The
// captures fed in are one uptake step's (c = 1e-3 per um^3), the same every call.
void BM_CellSignalling(benchmark::State& state) {
    const auto dt = static_cast<double>(state.range(0));
    const int threads = static_cast<int>(state.range(1));
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    CellSetup setup(1e-3);
    capture_step(setup.uptake, setup.cells, setup.groups, setup.spans(), kTransportDtS, 0, setup.captured);
    const int substeps = signalling_substeps(setup.signalling, dt);
    signalling_step(setup.signalling, setup.cells, setup.captured, dt, setup.released); // warm-up
    for (auto _ : state) {
        signalling_step(setup.signalling, setup.cells, setup.captured, dt, setup.released);
        benchmark::ClobberMemory();
    }
    benchmark::DoNotOptimize(setup.cells.signal.data());
    omp_set_num_threads(before);
    cell_rate_counters(state, threads);
    state.counters["substeps"] = substeps;
    state.counters["substep_cell_updates_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(kCells) * substeps,
                           benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CellSignalling)
    ->ArgNames({"dt_s", "threads"})
    ->Args({20, 1})
    ->Args({20, 2})
    ->Args({3600, 1})
    ->Args({3600, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// One transport step's cell work: capture_step then signalling_step, dt = 20 s,
// c = 1e-3 per um^3. Fields refilled outside the timing.
void BM_CellStep(benchmark::State& state) {
    const int threads = static_cast<int>(state.range(0));
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    CellSetup setup(1e-3);
    std::uint32_t step = 0;
    capture_step(setup.uptake, setup.cells, setup.groups, setup.spans(), kTransportDtS, step++, setup.captured);
    signalling_step(setup.signalling, setup.cells, setup.captured, kTransportDtS, setup.released);
    double total = 0.0;
    for (auto _ : state) {
        state.PauseTiming();
        setup.refill();
        state.ResumeTiming();
        total += capture_step(setup.uptake, setup.cells, setup.groups, setup.spans(), kTransportDtS, step++,
                              setup.captured);
        signalling_step(setup.signalling, setup.cells, setup.captured, kTransportDtS, setup.released);
        benchmark::ClobberMemory();
    }
    benchmark::DoNotOptimize(total);
    omp_set_num_threads(before);
    cell_rate_counters(state, threads);
}
BENCHMARK(BM_CellStep)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace
