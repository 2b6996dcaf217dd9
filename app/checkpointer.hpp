// Checkpoints of `exoderm run` (docs/output-format.md, "Checkpoint and resume"): after an
// output, at most every output.checkpoint_interval of wall-clock time, the state of every part
// of the run that registered itself, with the Recorder's position, goes to RESULT.ckpt.h5
// (atomically). `--resume` reads it back.
#pragma once

#include "io/checkpoint_file.hpp"
#include "io/recorder.hpp"
#include "solvers/simulation.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace exoderm {

class Checkpointer {
public:
    Checkpointer(std::filesystem::path path, CheckpointIdentity identity, Recorder& recorder, double interval_s);

    // A part of the run saved under `name` in every checkpoint from now on.
    void add(const std::string& name, std::function<void(StateWriter&)> save);
    // Which run the outputs belong to: 0 the run, 1 its vehicle control (saved as "phase").
    void set_phase(int phase) { phase_ = phase; }

    // Called after output `index` of the current phase has been recorded: writes a checkpoint
    // when output.checkpoint_interval has passed since the last one (or the start), then honours the test hook
    // EXODERM_TEST_KILL_AFTER_SNAPSHOT=N (SIGKILL after the N-th output, counted over both
    // phases), which tests use to interrupt a run at a known point.
    void after_output(std::size_t index, std::size_t outputs_per_phase);

    void write_now();
    std::size_t written() const { return written_; }
    double seconds_writing() const { return seconds_writing_; }
    std::uintmax_t last_bytes() const { return last_bytes_; }
    const std::filesystem::path& path() const { return path_; }

    // The Recorder position stored in a checkpoint, to reopen the output where it stood.
    static RecorderPosition recorder_position(const StateReader& in);

private:
    std::filesystem::path path_;
    CheckpointIdentity identity_;
    Recorder& recorder_;
    double interval_s_;
    int phase_ = 0;
    long long kill_after_ = -1;
    std::vector<std::pair<std::string, std::function<void(StateWriter&)>>> parts_;
    std::chrono::steady_clock::time_point last_;
    std::size_t written_ = 0;
    double seconds_writing_ = 0.0;
    std::uintmax_t last_bytes_ = 0;
};

// Passes a run's events on to `inner`, then lets the checkpointer act after each output.
class CheckpointObserver : public RunObserver {
public:
    CheckpointObserver(RunObserver& inner, Checkpointer& checkpointer, std::size_t outputs)
        : inner_(inner), checkpointer_(checkpointer), outputs_(outputs) {}
    void on_step(const RunView& run) override { inner_.on_step(run); }
    void on_output(std::size_t index, const RunView& run) override {
        inner_.on_output(index, run);
        checkpointer_.after_output(index, outputs_);
    }

private:
    RunObserver& inner_;
    Checkpointer& checkpointer_;
    std::size_t outputs_;
};

} // namespace exoderm
