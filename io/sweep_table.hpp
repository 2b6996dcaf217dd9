// The result of a parameter sweep: one row per run (docs/sweeps.md, "Result file").
//
// Rows are first kept in a journal, a folder beside the result with one small text file per
// finished run, each written under a temporary name and renamed, so a killed sweep loses at
// most the runs in flight and the same command resumes it. The HDF5 table is written from the
// journal (as ".part", renamed when complete) whenever a sweep or shard finishes, and by
// `exoderm merge` from several shards.
#pragma once

#include "solvers/response_metrics.hpp"

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace exoderm {

struct SweepRow {
    std::size_t index = 0;
    std::size_t point = 0;
    std::size_t replicate = 0;
    std::uint64_t seed = 0;
    bool ok = false;
    std::string error;       // why the run failed (empty when ok)
    double wall_time_s = 0.0;
    std::vector<std::string> axis_values; // TOML text of each axis value
    std::vector<double> axis_numbers;     // numeric value of each axis in its written unit (NaN if not a number)
    std::vector<NamedValue> values;       // the run's metrics (RunTracker::summary, control folds)
};

struct SweepTable {
    std::string identity;                // equal identity: the same runs with the same seeds
    std::size_t run_count = 0;           // runs in the whole sweep
    std::vector<std::string> axis_keys;
    std::vector<std::string> axis_units; // unit of axis_numbers ("" for plain numbers)
    std::string source_text;             // the sweep file as written
    std::string source_path;
    std::string command_line;
    std::vector<SweepRow> rows;          // ascending index, each index once
};

// The journal folder of a result: "<result>.runs".
std::filesystem::path journal_folder(const std::filesystem::path& result);

class SweepJournal {
public:
    // Opens (creating it if needed) the journal of a sweep; an existing journal of another sweep
    // (different identity) throws InputError naming both.
    SweepJournal(std::filesystem::path folder, const std::string& identity);
    std::set<std::size_t> finished() const;
    // Atomically records a finished run (written as a temporary file, then renamed).
    void record(const SweepRow& row) const;
    std::vector<SweepRow> rows() const; // ascending index
    const std::filesystem::path& folder() const { return folder_; }

private:
    std::filesystem::path folder_;
};

// Writes the table to `path` (through "<path>.part", renamed when complete). Throws OutputError.
void write_sweep_table(const std::filesystem::path& path, const SweepTable& table);
// Reads a complete sweep result; throws InputError if it is not one.
SweepTable read_sweep_table(const std::filesystem::path& path);

} // namespace exoderm
