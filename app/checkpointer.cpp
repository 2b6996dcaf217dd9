#include "app/checkpointer.hpp"

#include <csignal>
#include <cstdlib>
#include <sstream>

namespace exoderm {

Checkpointer::Checkpointer(std::filesystem::path path, CheckpointIdentity identity, Recorder& recorder,
                           double interval_s)
    : path_(std::move(path)), identity_(std::move(identity)), recorder_(recorder), interval_s_(interval_s),
      last_(std::chrono::steady_clock::now()) {
    if (const char* hook = std::getenv("EXODERM_TEST_KILL_AFTER_SNAPSHOT")) kill_after_ = std::atoll(hook);
}

void Checkpointer::add(const std::string& name, std::function<void(StateWriter&)> save) {
    parts_.emplace_back(name, std::move(save));
}

void Checkpointer::after_output(std::size_t index, std::size_t outputs_per_phase) {
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last_).count() >= interval_s_) write_now();
    const auto global = static_cast<long long>(phase_ * outputs_per_phase + index + 1);
    if (kill_after_ > 0 && global == kill_after_) std::raise(SIGKILL);
}

void Checkpointer::write_now() {
    const auto started = std::chrono::steady_clock::now();
    // The .part must hold everything up to this point before the checkpoint says it does.
    recorder_.flush();
    const RecorderPosition at = recorder_.position();
    last_bytes_ = write_checkpoint(path_, identity_, [&](StateSink& sink) {
        StateWriter root(sink);
        root.scalar<std::uint8_t>("phase", static_cast<std::uint8_t>(phase_));
        StateWriter r = root.in("recorder");
        r.scalar<std::uint64_t>("snapshots", at.snapshots);
        std::string names;
        for (const auto& [name, rows] : at.series_rows) {
            names += name + "\n";
            r.in("series_rows").scalar<std::uint64_t>(name, rows);
        }
        r.array("series_names", std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(names.data()),
                                                               names.size()));
        for (const auto& [name, save] : parts_) {
            StateWriter part = root.in(name);
            save(part);
        }
    });
    ++written_;
    last_ = std::chrono::steady_clock::now();
    seconds_writing_ += std::chrono::duration<double>(last_ - started).count();
}

RecorderPosition Checkpointer::recorder_position(const StateReader& in) {
    RecorderPosition at;
    const StateReader r = in.in("recorder");
    at.snapshots = r.scalar<std::uint64_t>("snapshots");
    std::vector<std::uint8_t> bytes;
    r.array("series_names", bytes);
    std::istringstream names(std::string(bytes.begin(), bytes.end()));
    for (std::string name; std::getline(names, name);)
        if (!name.empty()) at.series_rows[name] = r.in("series_rows").scalar<std::uint64_t>(name);
    return at;
}

} // namespace exoderm
