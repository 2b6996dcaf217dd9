// Running the runs of a sweep: each run (and its vehicle control) from the base scenario with
// the run's overrides, into a table row; many runs in parallel over OpenMP threads, each
// recorded in the journal as soon as it finishes (docs/sweeps.md).
#pragma once

#include "io/sweep_table.hpp"
#include "model/sweep_spec.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace exoderm {

// One run of the sweep: the row (status failed with the error message if the run throws).
// Runs whose fields the sweep keeps (SweepSpec::keeps_fields) also write them to
// <fields_folder>/run_NNNNNNNNN.h5 (+ .xmf), like `exoderm run` but only the chosen fields and times.
SweepRow run_sweep_run(const SweepSpec& spec, std::size_t index, const std::filesystem::path& fields_folder = {});

// The table of a sweep with these rows (identity, run count, axes and the sweep file from the spec).
SweepTable sweep_table(const SweepSpec& spec, std::vector<SweepRow> rows);

// Where run `index` keeps its fields.
std::filesystem::path sweep_run_file(const std::filesystem::path& fields_folder, std::size_t index);

// Runs `indices` in parallel (runs across threads, the threads left over inside the runs),
// records each row in the journal when it is done and calls on_done(row) (serialised).
// Every run is the same for any number of threads, so the journal is too. When stop() says so
// (a signal), runs not yet started are skipped. A journal write that fails (disk full) stops
// further runs and is rethrown once the runs in progress are done.
void run_sweep_runs(const SweepSpec& spec, const std::vector<std::size_t>& indices, const SweepJournal& journal,
                    const std::function<void(const SweepRow&)>& on_done, const std::function<bool()>& stop = {});

} // namespace exoderm
