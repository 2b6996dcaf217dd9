#include "io/checkpoint_file.hpp"

#include "io/hdf5_handles.hpp"
#include "model/errors.hpp"

#include <hdf5.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace exoderm {
namespace fs = std::filesystem;

namespace {

constexpr int kCheckpointFormat = 1;

hid_t memory_type(StateType type) {
    switch (type) {
    case StateType::F64: return H5T_NATIVE_DOUBLE;
    case StateType::F32: return H5T_NATIVE_FLOAT;
    case StateType::I64: return H5T_NATIVE_INT64;
    case StateType::U64: return H5T_NATIVE_UINT64;
    case StateType::U32: return H5T_NATIVE_UINT32;
    case StateType::U8: break;
    }
    return H5T_NATIVE_UINT8;
}

hid_t file_type(StateType type) {
    switch (type) {
    case StateType::F64: return H5T_IEEE_F64LE;
    case StateType::F32: return H5T_IEEE_F32LE;
    case StateType::I64: return H5T_STD_I64LE;
    case StateType::U64: return H5T_STD_U64LE;
    case StateType::U32: return H5T_STD_U32LE;
    case StateType::U8: break;
    }
    return H5T_STD_U8LE;
}

void write_string_attribute(hid_t object, const char* name, const std::string& value) {
    h5::Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    h5::Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    h5::Handle attribute(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    const char* text = value.c_str();
    if (!attribute.valid() || H5Awrite(attribute.get(), type.get(), &text) < 0)
        throw OutputError(std::string("cannot write checkpoint attribute ") + name);
}

bool read_string_attribute(hid_t object, const char* name, std::string& out) {
    if (H5Aexists(object, name) <= 0) return false;
    h5::Handle attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
    h5::Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    char* text = nullptr;
    if (H5Aread(attribute.get(), type.get(), &text) < 0) return false;
    out = text != nullptr ? text : "";
    H5free_memory(text);
    return true;
}

class Hdf5Sink : public StateSink {
public:
    Hdf5Sink(hid_t file, std::string file_name) : file_(file), file_name_(std::move(file_name)) {}
    void put(const std::string& path, StateType type, const void* data, std::size_t count) override {
        const hsize_t n = count;
        h5::Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
        h5::Handle links(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
        H5Pset_create_intermediate_group(links.get(), 1);
        h5::Handle dataset(H5Dcreate2(file_, path.c_str(), file_type(type), space.get(), links.get(), H5P_DEFAULT,
                                      H5P_DEFAULT),
                           H5Dclose);
        const bool ok = dataset.valid() &&
                        (count == 0 || H5Dwrite(dataset.get(), memory_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0) &&
                        dataset.close();
        if (!ok) throw OutputError("cannot write '" + path + "' to checkpoint '" + file_name_ + "'");
    }

private:
    hid_t file_;
    std::string file_name_;
};

void fsync_path(const fs::path& path, int flags) {
    const int fd = ::open(path.c_str(), flags);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

} // namespace

fs::path checkpoint_path_for(const fs::path& result) {
    return result.parent_path() / (result.stem().string() + ".ckpt.h5");
}

std::uintmax_t write_checkpoint(const fs::path& path, const CheckpointIdentity& identity,
                                const std::function<void(StateSink&)>& fill) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    const fs::path tmp(path.string() + ".tmp");
    try {
        {
            h5::Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
            if (!file.valid()) throw OutputError("cannot create checkpoint '" + tmp.string() + "'");
            const hid_t root = file.get();
            write_string_attribute(root, "exoderm_version", identity.exoderm_version);
            write_string_attribute(root, "git_commit", identity.git_commit);
            write_string_attribute(root, "scenario", identity.resolved_scenario);
            write_string_attribute(root, "seed", std::to_string(identity.seed));
            write_string_attribute(root, "checkpoint_format", std::to_string(kCheckpointFormat));
            Hdf5Sink sink(root, tmp.string());
            fill(sink);
            if (!file.close()) throw OutputError("cannot close checkpoint '" + tmp.string() + "'");
        }
        // The data must be on the disk before the rename makes it the checkpoint, and the rename
        // itself before the run goes on.
        fsync_path(tmp, O_RDONLY);
        std::error_code error;
        fs::rename(tmp, path, error);
        if (error) throw OutputError("cannot rename '" + tmp.string() + "' to '" + path.string() + "': " + error.message());
        fsync_path(path.has_parent_path() ? path.parent_path() : fs::path("."), O_RDONLY | O_DIRECTORY);
    } catch (...) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
    return fs::file_size(path);
}

CheckpointFile::CheckpointFile(const fs::path& path) : path_(path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    std::error_code error;
    if (!fs::is_regular_file(path, error))
        throw InputError("no checkpoint '" + path.string() + "' to resume from");
    file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file_ < 0) throw InputError("checkpoint '" + path.string() + "' is not a readable HDF5 file");
    std::string seed;
    const bool ok = read_string_attribute(file_, "exoderm_version", identity_.exoderm_version) &&
                    read_string_attribute(file_, "git_commit", identity_.git_commit) &&
                    read_string_attribute(file_, "scenario", identity_.resolved_scenario) &&
                    read_string_attribute(file_, "seed", seed);
    if (!ok) {
        H5Fclose(file_);
        throw InputError("'" + path.string() + "' is not an exoderm checkpoint (attributes missing)");
    }
    identity_.seed = std::stoull(seed);
}

CheckpointFile::~CheckpointFile() {
    if (file_ >= 0) H5Fclose(file_);
}

std::size_t CheckpointFile::count(const std::string& path, StateType type) const {
    const std::string where = "checkpoint '" + path_.string() + "': '" + path + "'";
    if (H5Lexists(file_, path.c_str(), H5P_DEFAULT) <= 0) throw std::runtime_error(where + " is missing");
    h5::Handle dataset(H5Dopen2(file_, path.c_str(), H5P_DEFAULT), H5Dclose);
    h5::Handle stored(H5Dget_type(dataset.get()), H5Tclose);
    if (!dataset.valid() || H5Tequal(stored.get(), file_type(type)) <= 0)
        throw std::runtime_error(where + " is not of the expected type");
    h5::Handle space(H5Dget_space(dataset.get()), H5Sclose);
    return static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get()));
}

void CheckpointFile::get(const std::string& path, StateType type, void* data, std::size_t count) const {
    if (this->count(path, type) != count)
        throw std::runtime_error("checkpoint '" + path_.string() + "': '" + path + "' changed size");
    if (count == 0) return;
    h5::Handle dataset(H5Dopen2(file_, path.c_str(), H5P_DEFAULT), H5Dclose);
    if (H5Dread(dataset.get(), memory_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        throw std::runtime_error("checkpoint '" + path_.string() + "': cannot read '" + path + "'");
}

std::string checkpoint_mismatch(const CheckpointIdentity& expected, const CheckpointIdentity& found) {
    if (found.exoderm_version != expected.exoderm_version || found.git_commit != expected.git_commit)
        return "the checkpoint was written by exoderm " + found.exoderm_version + " (" + found.git_commit +
               "), this is " + expected.exoderm_version + " (" + expected.git_commit + ")";
    if (found.seed != expected.seed)
        return "the checkpoint has seed " + std::to_string(found.seed) + ", the scenario has seed " +
               std::to_string(expected.seed);
    if (found.resolved_scenario != expected.resolved_scenario) {
        std::istringstream a(expected.resolved_scenario), b(found.resolved_scenario);
        std::string line_a, line_b;
        for (int line = 1;; ++line) {
            const bool more_a = static_cast<bool>(std::getline(a, line_a));
            const bool more_b = static_cast<bool>(std::getline(b, line_b));
            if (!more_a && !more_b) break;
            if (!more_a) line_a = "(end)";
            if (!more_b) line_b = "(end)";
            if (line_a != line_b)
                return "the scenario differs from the checkpoint's at resolved line " + std::to_string(line) +
                       ": now '" + line_a + "', checkpoint '" + line_b + "'";
        }
    }
    return {};
}

} // namespace exoderm
