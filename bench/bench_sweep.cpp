// Benchmarks of `exoderm sweep` (docs/sweeps.md): a 64-run sweep of small scenarios on 1 and 2
// threads (runs in parallel across threads), and the sweep's own cost per run (loading the
// run's scenario, journaling its row, writing the table) against running the same 64
// simulations directly.
//
// Scenario: a 316 um unit cell (1000 channels/cm^2), 300 um dermis, dx 15 um (21 x 21 x 77
// voxels), cells and responses for 12 h with the vehicle control; 8 doses x 8 replicates.
#include "io/sweep_runner.hpp"
#include "io/sweep_table.hpp"
#include "model/scenario_load.hpp"
#include "model/sweep_spec.hpp"
#include "solvers/run_tracker.hpp"
#include "solvers/simulation.hpp"

#include <benchmark/benchmark.h>
#include <omp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

using namespace exoderm;
namespace fs = std::filesystem;

// The shipped quick sweep's base scenario (scenarios/sweeps/quick_dose_depth.toml), 12 h long,
// swept over 8 doses x 8 replicates.
std::string sweep_text() {
    std::ifstream in(fs::path(EXODERM_SOURCE_DIR) / "scenarios" / "sweeps" / "quick_dose_depth.toml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text = text.substr(0, text.find("[sweep]"));
    const auto replace = [&](const std::string& from, const std::string& to) { text.replace(text.find(from), from.size(), to); };
    replace("end = \"1 d\"", "end = \"12 h\"");
    replace("outputs = [\"0 h\", \"12 h\", \"1 d\"]", "outputs = [\"0 h\", \"12 h\"]");
    return text + "[sweep]\nreplicates = 8\n[[sweep.axis]]\nkey = \"product.concentration\"\n"
                  "logspace = [\"1e9 /mL\", \"1e12 /mL\"]\ncount = 8\n";
}

fs::path scratch() {
    const fs::path dir = fs::temp_directory_path() / "exoderm_bench_sweep";
    fs::create_directories(dir);
    return dir;
}

// The whole sweep as `exoderm sweep` does it: 64 runs into a fresh journal, then the table.
double sweep_seconds(const SweepSpec& spec, const fs::path& dir) {
    fs::remove_all(journal_folder(dir / "t.h5"));
    const auto started = std::chrono::steady_clock::now();
    const SweepJournal journal(journal_folder(dir / "t.h5"), spec.identity);
    std::vector<std::size_t> all(spec.run_count());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    run_sweep_runs(spec, all, journal, [](const SweepRow&) {});
    write_sweep_table(dir / "t.h5", sweep_table(spec, journal.rows()));
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void BM_Sweep64(benchmark::State& state) {
    const int threads = static_cast<int>(state.range(0));
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    const SweepSpec spec = load_sweep_text(sweep_text(), "bench_sweep.toml");
    const fs::path dir = scratch();
    for (auto _ : state) state.SetIterationTime(sweep_seconds(spec, dir));
    state.counters["runs_per_s"] = benchmark::Counter(static_cast<double>(spec.run_count()) * state.iterations(),
                                                      benchmark::Counter::kIsRate);
    state.counters["threads"] = threads;
    omp_set_num_threads(before);
}
BENCHMARK(BM_Sweep64)->ArgName("threads")->Arg(1)->Arg(2)->UseManualTime()->Unit(benchmark::kSecond)->Iterations(1);

// Overhead: the sweep against the same 64 simulations (scenarios loaded beforehand, no
// journal, no table), both on one thread.
void BM_SweepOverhead(benchmark::State& state) {
    const int before = omp_get_max_threads();
    omp_set_num_threads(1);
    const SweepSpec spec = load_sweep_text(sweep_text(), "bench_sweep.toml");
    std::vector<Scenario> scenarios;
    for (std::size_t i = 0; i < spec.run_count(); ++i)
        scenarios.push_back(load_scenario_text(spec.source_text, spec.source_name, spec.run(i).overrides,
                                               SweepSection::Ignore));
    const fs::path dir = scratch();
    double direct = 0.0, swept = 0.0;
    for (auto _ : state) {
        const auto started = std::chrono::steady_clock::now();
        for (const Scenario& s : scenarios) {
            Simulation simulation(s);
            RunTracker tracker(s);
            simulation.run(tracker);
            const Scenario control = vehicle_control_of(s);
            Simulation control_simulation(control);
            RunTracker control_tracker(control);
            control_simulation.run(control_tracker);
            benchmark::DoNotOptimize(tracker.summary());
        }
        direct = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        swept = sweep_seconds(spec, dir);
        state.SetIterationTime(swept);
    }
    state.counters["direct_s"] = direct;
    state.counters["sweep_s"] = swept;
    state.counters["overhead_per_run_ms"] = 1e3 * (swept - direct) / static_cast<double>(spec.run_count());
    state.counters["overhead_fraction"] = (swept - direct) / direct;
    omp_set_num_threads(before);
}
BENCHMARK(BM_SweepOverhead)->UseManualTime()->Unit(benchmark::kSecond)->Iterations(1);

// The sweep's own work per run without the simulation: the run's overrides and seed, loading
// its scenario, journaling its row (a real row of ~70 values), and its share of writing the
// table. Compared with the time of one run (BM_SweepOverhead's direct_s / 64), this is the
// per-run overhead without the noise of timing two long runs against each other.
void BM_SweepMachinery(benchmark::State& state) {
    const SweepSpec spec = load_sweep_text(sweep_text(), "bench_sweep.toml");
    const fs::path dir = scratch();
    SweepRow example = run_sweep_run(spec, 0);
    for (auto _ : state) {
        fs::remove_all(journal_folder(dir / "m.h5"));
        const SweepJournal journal(journal_folder(dir / "m.h5"), spec.identity);
        for (std::size_t i = 0; i < spec.run_count(); ++i) {
            const SweepRun run = spec.run(i);
            const Scenario loaded = load_scenario_text(spec.source_text, spec.source_name, run.overrides, SweepSection::Ignore);
            benchmark::DoNotOptimize(loaded.seed);
            example.index = i;
            journal.record(example);
        }
        write_sweep_table(dir / "m.h5", sweep_table(spec, journal.rows()));
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(spec.run_count()) * state.iterations());
}
BENCHMARK(BM_SweepMachinery)->Unit(benchmark::kMillisecond);

} // namespace
