// `exoderm sweep` and `exoderm merge`: many runs of one scenario file's [sweep] section, in
// parallel, resumable, in shards or over MPI ranks, into one table (docs/sweeps.md).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace exoderm {

struct SweepOptions {
    std::filesystem::path sweep_file;
    std::filesystem::path output;
    bool restart = false;   // discard an existing journal and result of this output
    bool quiet = false;
    int shard = 1;          // this shard, 1..shards
    int shards = 1;
    int rank = 0;           // MPI rank and size (1 without MPI): runs are dealt out like shards
    int ranks = 1;
    std::string command_line;
};

// Runs the pending runs of this shard/rank; the table is written by the last one to finish
// (rank 0 under MPI, after the others). Bad specifications throw InputError, unusable
// outputs OutputError. A failed run is recorded with its error and the sweep goes on.
// Returns the number of failed runs of this call.
std::size_t run_sweep(const SweepOptions& options, void (*barrier)() = nullptr);

// Combines complete shard results of the same sweep into one table.
void merge_sweeps(const std::vector<std::filesystem::path>& inputs, const std::filesystem::path& output, bool overwrite,
                  const std::string& command_line);

} // namespace exoderm
