// Checkpoint files: the complete state of a run in HDF5 (docs/output-format.md, "Checkpoint
// and resume"). Written atomically: "<name>.tmp" is written, fsynced and renamed over the old
// checkpoint, so a kill at any moment leaves either the previous checkpoint or the new one.
#pragma once

#include "solvers/state_io.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace exoderm {

// What a checkpoint must match to be resumed: the same program and the same scenario.
struct CheckpointIdentity {
    std::string exoderm_version;
    std::string git_commit;
    std::string resolved_scenario; // TOML text with units
    std::uint64_t seed = 0;
};

// "RESULT.ckpt.h5" beside RESULT.h5.
std::filesystem::path checkpoint_path_for(const std::filesystem::path& result);

// Writes identity and whatever `fill` puts into the sink to `path`, atomically. Returns the
// bytes written. Throws OutputError on failure (the previous checkpoint is then untouched).
std::uintmax_t write_checkpoint(const std::filesystem::path& path, const CheckpointIdentity& identity,
                                const std::function<void(StateSink&)>& fill);

// A checkpoint opened for reading.
class CheckpointFile : public StateSource {
public:
    // Throws InputError if the file is missing or not a checkpoint.
    explicit CheckpointFile(const std::filesystem::path& path);
    ~CheckpointFile() override;
    CheckpointFile(const CheckpointFile&) = delete;
    CheckpointFile& operator=(const CheckpointFile&) = delete;

    const CheckpointIdentity& identity() const { return identity_; }
    std::size_t count(const std::string& path, StateType type) const override;
    void get(const std::string& path, StateType type, void* data, std::size_t count) const override;

private:
    std::filesystem::path path_;
    std::int64_t file_ = -1;
    CheckpointIdentity identity_;
};

// Empty when `found` can resume a run of `expected`; otherwise one message naming what differs
// (version, commit, seed, or the first scenario line that differs).
std::string checkpoint_mismatch(const CheckpointIdentity& expected, const CheckpointIdentity& found);

} // namespace exoderm
