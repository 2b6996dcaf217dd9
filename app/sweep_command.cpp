#include "app/sweep_command.hpp"

#include "app/memory_check.hpp"
#include "app/progress.hpp"
#include "app/stop_signal.hpp"
#include "io/run_guard.hpp"
#include "io/sweep_runner.hpp"
#include "io/sweep_table.hpp"
#include "model/errors.hpp"
#include "model/scenario_load.hpp"
#include "model/sweep_spec.hpp"
#include "solvers/run_tracker.hpp"
#include "solvers/simulation.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace exoderm {

namespace fs = std::filesystem;

namespace {

std::string eta_text(double seconds) {
    char buf[32];
    if (seconds < 120) std::snprintf(buf, sizeof buf, "%.0f s", seconds);
    else if (seconds < 7200) std::snprintf(buf, sizeof buf, "%.0f min", seconds / 60);
    else std::snprintf(buf, sizeof buf, "%.1f h", seconds / 3600);
    return buf;
}

// Refuses the sweep before it starts if its largest run, times the runs that go at once (one per
// thread), would not fit in memory: before the journal or anything else is written.
void check_sweep_memory(const SweepSpec& spec, const SweepOptions& o) {
    std::optional<Scenario> largest;
    double largest_bytes = -1.0;
    std::size_t runs = 0;
    for (std::size_t i = static_cast<std::size_t>(o.shard - 1); i < spec.run_count();
         i += static_cast<std::size_t>(o.shards)) {
        ++runs;
        const SweepRun run = spec.run(i);
        Scenario s;
        try {
            s = load_scenario_text(spec.source_text, spec.source_name, run.overrides, SweepSection::Ignore);
        } catch (const InputError&) {
            continue; // this run fails on its own, recorded with its error (run_sweep_run)
        }
        const double bytes = estimate_memory_bytes(s);
        if (bytes > largest_bytes) {
            largest_bytes = bytes;
            largest = std::move(s);
        }
    }
    if (!largest) return;
    const std::size_t at_once = std::min<std::size_t>(runs, static_cast<std::size_t>(omp_get_max_threads()));
    try {
        check_memory(*largest, at_once);
    } catch (const InputError& e) {
        throw InputError(std::string("sweep ") + e.what());
    }
}

} // namespace

std::size_t run_sweep(const SweepOptions& o, void (*barrier)()) {
    const SweepSpec spec = load_sweep(o.sweep_file);
    check_sweep_memory(spec, o);
    const fs::path journal_path = journal_folder(o.output);
    if (o.restart && o.rank == 0) {
        std::error_code ec;
        fs::remove_all(journal_path, ec);
        fs::remove(o.output, ec);
    }
    // Rank 0 creates the journal (and its identity) before the others open it.
    std::optional<SweepJournal> first;
    if (o.rank == 0) first.emplace(journal_path, spec.identity);
    if (barrier) barrier();
    const SweepJournal journal = first ? *first : SweepJournal(journal_path, spec.identity);

    // This shard's runs are those with index % shards == shard - 1; under MPI the ranks deal
    // them out in turn. Runs already in the journal are skipped.
    const auto shards = static_cast<std::size_t>(o.shards);
    const auto ranks = static_cast<std::size_t>(o.ranks);
    const std::set<std::size_t> done = journal.finished();
    std::vector<std::size_t> pending;
    std::size_t mine = 0;
    for (std::size_t i = static_cast<std::size_t>(o.shard - 1); i < spec.run_count(); i += shards) {
        if ((i / shards) % ranks != static_cast<std::size_t>(o.rank)) continue;
        ++mine;
        if (!done.count(i)) pending.push_back(i);
    }
    const bool show = !o.quiet && o.rank == 0 && stderr_is_terminal();
    if (!o.quiet && o.rank == 0)
        std::fprintf(stderr, "exoderm sweep: %zu runs in all, %zu in this %s, %zu already done, %zu to run\n",
                     spec.run_count(), mine, o.ranks > 1 ? "rank" : (o.shards > 1 ? "shard" : "sweep"),
                     mine - pending.size(), pending.size());

    std::size_t finished = 0, failed = 0;
    const auto started = std::chrono::steady_clock::now();
    run_sweep_runs(spec, pending, journal, [&](const SweepRow& row) {
        ++finished;
        if (!row.ok) {
            ++failed;
            if (!o.quiet)
                std::fprintf(stderr, "%srun %zu failed: %s\n", show ? "\r\033[K" : "", row.index, row.error.c_str());
        }
        if (show) {
            const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            const double eta = elapsed / static_cast<double>(finished) * static_cast<double>(pending.size() - finished);
            std::fprintf(stderr, "\r\033[K  %zu / %zu runs, %zu failed, %s left", finished, pending.size(), failed,
                         eta_text(eta).c_str());
        }
    }, [] { return stop_signal() != 0; });
    if (show) std::fputs("\n", stderr);
    if (barrier) barrier();
    if (const int sig = stop_signal()) {
        // No table yet (it would look finished): the journal keeps every finished run, and the same
        // command again resumes the sweep.
        throw StopRequested(sig, signal_name(sig) + " received; the sweep stopped after its current runs (" +
                                     std::to_string(finished) + " of " + std::to_string(pending.size()) +
                                     " finished, kept in " + journal_path.string() +
                                     "); run the same command again to resume it");
    }
    if (o.rank != 0) return failed;

    // The table of this shard (with MPI: of all ranks): what the journal holds for it.
    std::vector<SweepRow> rows;
    for (auto& r : journal.rows())
        if (r.index % shards == static_cast<std::size_t>(o.shard - 1)) rows.push_back(std::move(r));
    SweepTable table = sweep_table(spec, std::move(rows));
    table.command_line = o.command_line;
    write_sweep_table(o.output, table);
    if (!o.quiet) {
        std::size_t bad = 0;
        for (const auto& r : read_sweep_table(o.output).rows) bad += r.ok ? 0 : 1;
        std::fprintf(stdout, "wrote %s: %zu of %zu runs of the sweep (%zu failed)\n", o.output.string().c_str(),
                     read_sweep_table(o.output).rows.size(), spec.run_count(), bad);
    }
    return failed;
}

void merge_sweeps(const std::vector<fs::path>& inputs, const fs::path& output, bool overwrite,
                  const std::string& command_line) {
    if (inputs.empty()) throw InputError("merge: no input files");
    if (fs::exists(output) && !overwrite)
        throw OutputError(output.string() + " exists; use --force to overwrite it");
    SweepTable merged = read_sweep_table(inputs.front());
    std::map<std::size_t, SweepRow> rows;
    for (std::size_t f = 0; f < inputs.size(); ++f) {
        SweepTable t = f == 0 ? merged : read_sweep_table(inputs[f]);
        if (t.identity != merged.identity)
            throw InputError(inputs[f].string() + ": a different sweep than " + inputs.front().string() +
                             " (other axes, values, seeds or base scenario); only shards of one sweep merge");
        for (auto& r : t.rows) {
            const auto [it, inserted] = rows.emplace(r.index, r);
            if (!inserted && it->second.ok != r.ok)
                throw InputError(inputs[f].string() + ": run " + std::to_string(r.index) +
                                 " is also in another input with a different outcome");
        }
    }
    merged.rows.clear();
    for (auto& [index, r] : rows) merged.rows.push_back(std::move(r));
    merged.command_line = command_line;
    write_sweep_table(output, merged);
    std::fprintf(stdout, "wrote %s: %zu of %zu runs of the sweep%s\n", output.string().c_str(), merged.rows.size(),
                 merged.run_count, merged.rows.size() < merged.run_count ? " (some shards are missing)" : "");
}

} // namespace exoderm
