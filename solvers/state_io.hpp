// The narrow interface through which each part of a run saves and restores its state for a
// checkpoint (docs/output-format.md, "Checkpoint and resume"). A module adds state with one
// pair of methods, `save_state(StateWriter&) const` and `load_state(StateReader&)`, naming its
// arrays; the storage (an HDF5 checkpoint file, or memory in tests) stays behind StateSink and
// StateSource. Arrays are stored with their exact bits: a restored run continues bitwise.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace exoderm {

enum class StateType : std::uint8_t { F64, F32, I64, U64, U32, U8 };

template <class T>
constexpr StateType state_type_of() {
    if constexpr (std::is_enum_v<T>) return state_type_of<std::underlying_type_t<T>>();
    else if constexpr (std::is_same_v<T, double>) return StateType::F64;
    else if constexpr (std::is_same_v<T, float>) return StateType::F32;
    else if constexpr (std::is_same_v<T, std::int64_t>) return StateType::I64;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return StateType::U64;
    else if constexpr (std::is_same_v<T, std::uint32_t>) return StateType::U32;
    else {
        static_assert(std::is_same_v<T, std::uint8_t> || std::is_same_v<T, bool>, "no state type for this element");
        return StateType::U8;
    }
}

// Where named arrays go ("run/transport/free_0").
class StateSink {
public:
    virtual ~StateSink() = default;
    virtual void put(const std::string& path, StateType type, const void* data, std::size_t count) = 0;
};

// Where they come back from. Throws std::runtime_error naming the path when it is missing or
// has another type.
class StateSource {
public:
    virtual ~StateSource() = default;
    virtual std::size_t count(const std::string& path, StateType type) const = 0;
    virtual void get(const std::string& path, StateType type, void* data, std::size_t count) const = 0;
};

class StateWriter {
public:
    StateWriter(StateSink& sink, std::string prefix = {}) : sink_(sink), prefix_(std::move(prefix)) {}
    // The same sink under "<prefix>/<name>".
    StateWriter in(const std::string& name) const { return StateWriter(sink_, path(name)); }

    template <class T>
    void array(const std::string& name, std::span<const T> values) {
        static_assert(sizeof(T) == 1 || !std::is_same_v<T, bool>);
        sink_.put(path(name), state_type_of<T>(), values.data(), values.size());
    }
    template <class T>
    void array(const std::string& name, const std::vector<T>& values) {
        array(name, std::span<const T>(values));
    }
    template <class T, std::size_t N>
    void array(const std::string& name, const std::array<T, N>& values) {
        array(name, std::span<const T>(values));
    }
    // Arrays whose size the reader already knows (fields of the grid): the same as array().
    template <class T>
    void fixed(const std::string& name, const std::vector<T>& values) {
        array(name, values);
    }
    template <class T>
    void scalar(const std::string& name, T value) {
        array(name, std::span<const T>(&value, 1));
    }
    void flag(const std::string& name, bool value) { scalar<std::uint8_t>(name, value ? 1 : 0); }
    // Plain structs of numbers, as their bytes: a checkpoint is read back only by the same
    // exoderm version (checked when resuming), so the layout is the same.
    template <class T>
    void records(const std::string& name, std::span<const T> values) {
        static_assert(std::is_trivially_copyable_v<T>);
        array(name, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(values.data()),
                                                  values.size() * sizeof(T)));
    }
    template <class T>
    void records(const std::string& name, const std::vector<T>& values) {
        records(name, std::span<const T>(values));
    }
    template <class T>
    void record(const std::string& name, const T& value) {
        records(name, std::span<const T>(&value, 1));
    }

private:
    std::string path(const std::string& name) const { return prefix_.empty() ? name : prefix_ + "/" + name; }
    StateSink& sink_;
    std::string prefix_;
};

class StateReader {
public:
    StateReader(const StateSource& source, std::string prefix = {}) : source_(source), prefix_(std::move(prefix)) {}
    StateReader in(const std::string& name) const { return StateReader(source_, path(name)); }

    template <class T>
    void array(const std::string& name, std::vector<T>& out) const {
        const std::string p = path(name);
        out.resize(source_.count(p, state_type_of<T>()));
        source_.get(p, state_type_of<T>(), out.data(), out.size());
    }
    // Into storage of a fixed size: the stored array must have exactly that many values.
    template <class T>
    void array(const std::string& name, std::span<T> out) const {
        const std::string p = path(name);
        const std::size_t n = source_.count(p, state_type_of<T>());
        if (n != out.size())
            throw std::runtime_error("checkpoint: '" + p + "' has " + std::to_string(n) + " values, expected " +
                                     std::to_string(out.size()));
        source_.get(p, state_type_of<T>(), out.data(), n);
    }
    template <class T, std::size_t N>
    void array(const std::string& name, std::array<T, N>& out) const {
        array(name, std::span<T>(out));
    }
    // Into an array that already has its size (fields of the grid): a stored array of another
    // size is an error, not a resize.
    template <class T>
    void fixed(const std::string& name, std::vector<T>& out) const {
        array(name, std::span<T>(out));
    }
    template <class T>
    T scalar(const std::string& name) const {
        T value{};
        array(name, std::span<T>(&value, 1));
        return value;
    }
    template <class T>
    void scalar(const std::string& name, T& out) const {
        out = scalar<T>(name);
    }
    bool flag(const std::string& name) const { return scalar<std::uint8_t>(name) != 0; }
    void flag(const std::string& name, bool& out) const { out = flag(name); }
    template <class T>
    void records(const std::string& name, std::vector<T>& out) const {
        static_assert(std::is_trivially_copyable_v<T>);
        std::vector<std::uint8_t> bytes;
        array(name, bytes);
        if (bytes.size() % sizeof(T) != 0)
            throw std::runtime_error("checkpoint: '" + path(name) + "' does not hold whole records");
        out.resize(bytes.size() / sizeof(T));
        if (!bytes.empty()) std::memcpy(static_cast<void*>(out.data()), bytes.data(), bytes.size());
    }
    template <class T>
    void record(const std::string& name, T& out) const {
        std::vector<T> one;
        records(name, one);
        if (one.size() != 1) throw std::runtime_error("checkpoint: '" + path(name) + "' is not one record");
        out = one.front();
    }

private:
    std::string path(const std::string& name) const { return prefix_.empty() ? name : prefix_ + "/" + name; }
    const StateSource& source_;
    std::string prefix_;
};

} // namespace exoderm
