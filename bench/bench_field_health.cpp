// What the run guard (io/run_guard.hpp) costs next to the transport step it watches, on the
// default scenario's grid (71 x 71 x 217 voxels, 3 size classes), 1 thread:
//   BM_TransportStep    one continuum transport step of 60 s (all classes, reactions, channels)
//   BM_FieldHealthScan  scan_field_health over every free and bound field (the guard's old
//                       check, now only its search for the first bad value after a failed pass)
//   BM_LastGoodCopy     Transport::total_free and total_bound (the guard's old copy)
//   BM_GuardPass        what the guard does after a transport step now: one pass per quantity
//                       that checks the classes and sums them into the spare copy
// docs/PERFORMANCE.md ("Run guard") gives the figures and the command.
#include "model/scenario_load.hpp"
#include "model/tissue.hpp"
#include "solvers/field_health.hpp"
#include "solvers/simulation.hpp"

#include <benchmark/benchmark.h>
#include <omp.h>

#include <memory>
#include <span>
#include <vector>

namespace {

using namespace exoderm;

struct DefaultRun {
    Scenario scenario = load_scenario(EXODERM_SOURCE_DIR "/scenarios/default.toml");
    Tissue tissue{scenario};
    std::unique_ptr<Transport> transport = make_transport(scenario, tissue);
    double t_s = 0.0;
    DefaultRun() {
        // Ten minutes in: the channels are open and the fields are non-zero near them.
        for (int i = 0; i < 10; ++i) step();
    }
    void step() { transport->step_to(t_s += 60.0); }
};

DefaultRun& default_run() {
    static DefaultRun run;
    return run;
}

void BM_TransportStep(benchmark::State& state) {
    omp_set_num_threads(1);
    DefaultRun& run = default_run();
    for (auto _ : state) run.step();
    state.counters["voxels"] = static_cast<double>(run.tissue.grid().size());
}
BENCHMARK(BM_TransportStep)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_FieldHealthScan(benchmark::State& state) {
    omp_set_num_threads(1);
    const Transport& t = *default_run().transport;
    const double floor = kNegativeTolerance * t.applied_concentration();
    std::size_t bad = 0;
    for (auto _ : state)
        for (std::size_t k = 0; k < t.field_classes(); ++k) {
            bad += !scan_field_health(t.free_class(k), floor).ok();
            bad += !scan_field_health(t.bound_class(k), floor).ok();
        }
    benchmark::DoNotOptimize(bad);
    const double bytes = 2.0 * static_cast<double>(t.field_classes() * t.tissue().grid().size()) * sizeof(double);
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes * static_cast<double>(state.iterations())));
    state.counters["unhealthy"] = static_cast<double>(bad);
}
BENCHMARK(BM_FieldHealthScan)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_LastGoodCopy(benchmark::State& state) {
    omp_set_num_threads(1);
    const Transport& t = *default_run().transport;
    std::vector<double> free(t.tissue().grid().size()), bound(free.size());
    for (auto _ : state) {
        t.total_free(free);
        t.total_bound(bound);
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_LastGoodCopy)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_GuardPass(benchmark::State& state) {
    omp_set_num_threads(1);
    const Transport& t = *default_run().transport;
    const double floor = kNegativeTolerance * t.applied_concentration();
    std::vector<std::span<const double>> free, bound;
    for (std::size_t k = 0; k < t.field_classes(); ++k) {
        free.push_back(t.free_class(k));
        bound.push_back(t.bound_class(k));
    }
    std::vector<double> free_total(t.tissue().grid().size()), bound_total(free_total.size());
    std::size_t healthy = 0;
    for (auto _ : state) {
        healthy += sum_classes_if_healthy(free, floor, free_total) && sum_classes_if_healthy(bound, floor, bound_total);
        benchmark::ClobberMemory();
    }
    const double bytes = (2.0 * static_cast<double>(t.field_classes()) + 2.0) * static_cast<double>(free_total.size()) * sizeof(double);
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes * static_cast<double>(state.iterations())));
    state.counters["healthy"] = static_cast<double>(healthy);
}
BENCHMARK(BM_GuardPass)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace
