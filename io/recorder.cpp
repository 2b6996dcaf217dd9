// Recorder: HDF5 output of one run (layout: docs/output-format.md).
//
// Every HDF5 call is checked; a failure becomes an OutputError naming what was being written
// and HDF5's own innermost message (e.g. "No space left on device"). HDF5's automatic printing
// of error stacks to stderr is switched off so the exception is the one report the user sees.
#include "io/recorder.hpp"

#include <hdf5.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <set>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include <sys/mman.h> // memfd_create
#include <unistd.h>   // dup2, close

#include "exoderm_version.hpp"
#include "io/hdf5_handles.hpp"
#include "io/xdmf.hpp"
#include "model/errors.hpp"

namespace exoderm {
namespace fs = std::filesystem;

namespace {

static_assert(std::is_same_v<hid_t, h5::Id>, "io/hdf5_handles.hpp assumes hid_t is int64_t (HDF5 1.10)");
static_assert(std::is_same_v<herr_t, int>, "io/hdf5_handles.hpp assumes herr_t is int");

constexpr int kFormatVersion = 1;
constexpr int kDefaultCompressionLevel = 4;
// 3D chunks of about 1 MiB: large enough for a good gzip ratio, small enough that reading one
// slice of a big field does not decompress the whole field.
constexpr std::size_t kFieldChunkBytes = std::size_t{1} << 20;
// Series columns grow one row at a time; 1024-row chunks (8 KiB) keep the number of chunks low.
constexpr hsize_t kSeriesChunkRows = 1024;
// Rows buffered in memory before they are written; every snapshot and finish() write them too.
constexpr std::size_t kSeriesBufferRows = 1024;
constexpr hsize_t kTimeChunkRows = 256;

// Top-level groups of the layout: neither a series nor a point set may take these names.
const std::set<std::string>& layout_groups() {
    static const std::set<std::string> names{"grid", "grids", "scenario", "static", "snapshots", "summary"};
    return names;
}

// Series names: the layout's groups and "particles" (the vesicle point set, whichever the run).
const std::set<std::string>& reserved_groups() {
    static const std::set<std::string> names = [] {
        std::set<std::string> all = layout_groups();
        all.insert("particles");
        return all;
    }();
    return names;
}

// Names the main grid uses in the XDMF index (the collection "snapshots", its grids
// "snapshot_K", the untimed grid "static"): no point set or declared grid may take these, as
// ParaView's XDMFReader selects grids by name.
const std::set<std::string>& main_grid_xdmf_names() {
    static const std::set<std::string> names{"snapshots", "snapshot", "static"};
    return names;
}

// ---- errors ---------------------------------------------------------------------------------

struct ErrorEntry {
    hid_t minor = H5I_INVALID_HID;
    std::string description;
};

herr_t collect_innermost_error(unsigned position, const H5E_error2_t* error, void* client_data) {
    // Walking upward, position 0 is where HDF5 first detected the problem: the useful part.
    if (position == 0 && error != nullptr) {
        auto* entry = static_cast<ErrorEntry*>(client_data);
        entry->minor = error->min_num;
        entry->description = error->desc != nullptr ? error->desc : "";
    }
    return 0;
}

// HDF5's I/O messages carry a timestamp (with a newline), buffer addresses and byte counts around
// the operating system's reason: keep "file write failed: No space left on device".
std::string concise(const std::string& description) {
    const std::string marker = "error message = '";
    const std::size_t at = description.find(marker);
    if (at != std::string::npos) {
        const std::size_t begin = at + marker.size();
        const std::size_t end = description.find('\'', begin);
        const std::size_t colon = description.find(':');
        const std::string head = colon < at ? description.substr(0, colon) : "I/O failed";
        return head + ": " + description.substr(begin, end == std::string::npos ? end : end - begin);
    }
    std::string text;
    for (const char c : description) {
        const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
        if (!space) text += c;
        else if (!text.empty() && text.back() != ' ') text += ' ';
    }
    return text;
}

// HDF5's reason for the last failure, e.g. "file write failed: No space left on device (Write
// failed)". Must run before any other HDF5 call, which would clear the error stack.
std::string hdf5_error_detail() {
    ErrorEntry entry;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_innermost_error, &entry);
    std::string detail = concise(entry.description);
    if (entry.minor >= 0) {
        std::array<char, 160> minor{};
        if (H5Eget_msg(entry.minor, nullptr, minor.data(), minor.size()) > 0 && minor[0] != '\0') {
            detail += detail.empty() ? minor.data() : std::string(" (") + minor.data() + ")";
        }
    }
    return detail;
}

// HDF5 1.10 frees a file or dataset even when closing it fails, yet keeps its id, and then
// crashes (SIGSEGV) when the library shuts down at process exit (HDFGroup/hdf5 PR #2291, fixed
// only in 1.14.1). A close fails whenever it cannot write cached data, e.g. on a full disk, so
// one failed write would turn a clean "disk full" error into a crash. After the first failure
// the file's descriptor is therefore pointed at an anonymous in-memory file: the closes that
// follow write their cached data there and succeed, and the .part file on disk keeps what it
// had when the write failed. Linux-specific (memfd), like the rest of the build.
void detach_from_disk(hid_t file) noexcept {
    h5::Handle access(H5Fget_access_plist(file), H5Pclose);
    if (!access.valid() || H5Pget_driver(access.get()) != H5FD_SEC2) return;
    void* driver_handle = nullptr;
    if (H5Fget_vfd_handle(file, access.get(), &driver_handle) < 0 || driver_handle == nullptr) return;
    const int descriptor = *static_cast<const int*>(driver_handle); // the sec2 driver's file descriptor
    const int sink = ::memfd_create("exoderm-abandoned-output", MFD_CLOEXEC);
    if (sink < 0) return;
    ::dup2(sink, descriptor);
    ::close(sink);
}

// ---- Writer: every HDF5 write of one file, each call checked -----------------------------------

class Writer {
public:
    // Once attached, a failure detaches the file from the disk before throwing (see
    // detach_from_disk), so the closes run while the exception unwinds cannot fail.
    void attach(hid_t file) { file_ = file; }

    [[noreturn]] void fail(const std::string& what) {
        const std::string detail = hdf5_error_detail();
        if (file_ >= 0 && !detached_) {
            detach_from_disk(file_);
            detached_ = true;
        }
        throw OutputError(what + (detail.empty() ? std::string() : ": " + detail));
    }

    void check(herr_t status, const std::string& what) {
        if (status < 0) fail(what);
    }

    h5::Handle checked(hid_t id, h5::CloseFunction close, const std::string& what) {
        if (id < 0) fail(what);
        return h5::Handle(id, close);
    }

    void close(h5::Handle& handle, const std::string& what) {
        if (!handle.close()) fail(what);
    }

    // Writes a dataset's cached chunks now, where a failure can still be reported cleanly, then
    // closes it with nothing left to write.
    void flush_and_close_dataset(h5::Handle& dataset, const std::string& what) {
        check(H5Dflush(dataset.get()), what);
        close(dataset, what);
    }

    void flush_file(const std::string& what) { check(H5Fflush(file_, H5F_SCOPE_LOCAL), what); }

    h5::Handle utf8_string_type(const std::string& what) {
        h5::Handle type = checked(H5Tcopy(H5T_C_S1), H5Tclose, what);
        check(H5Tset_size(type.get(), H5T_VARIABLE), what);
        check(H5Tset_cset(type.get(), H5T_CSET_UTF8), what);
        return type;
    }

    // Creates the attribute, or overwrites it if it exists (summary values, the complete flag).
    void attribute(hid_t object, const std::string& name, hid_t file_type, hid_t memory_type, const void* value,
                   const std::string& what) {
        const htri_t exists = H5Aexists(object, name.c_str());
        check(exists, what);
        h5::Handle attribute;
        if (exists > 0) {
            attribute = checked(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, what);
        } else {
            h5::Handle space = checked(H5Screate(H5S_SCALAR), H5Sclose, what);
            attribute = checked(
                H5Acreate2(object, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, what);
        }
        check(H5Awrite(attribute.get(), memory_type, value), what);
        close(attribute, what);
    }

    void attribute_string(hid_t object, const std::string& name, const std::string& value, const std::string& what) {
        h5::Handle type = utf8_string_type(what);
        const char* text = value.c_str();
        attribute(object, name, type.get(), type.get(), &text, what);
    }

    void attribute_double(hid_t object, const std::string& name, double value, const std::string& what) {
        attribute(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, what);
    }

    void attribute_int(hid_t object, const std::string& name, int value, const std::string& what) {
        attribute(object, name, H5T_STD_I32LE, H5T_NATIVE_INT, &value, what);
    }

    void attribute_uint64(hid_t object, const std::string& name, std::uint64_t value, const std::string& what) {
        attribute(object, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value, what);
    }

    // Groups remember creation order so tools list datasets in the order they were written.
    h5::Handle create_group(hid_t parent, const std::string& name, const std::string& what) {
        h5::Handle properties = checked(H5Pcreate(H5P_GROUP_CREATE), H5Pclose, what);
        check(H5Pset_link_creation_order(properties.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), what);
        return checked(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, properties.get(), H5P_DEFAULT), H5Gclose,
                       what);
    }

    void string_dataset(hid_t parent, const std::string& name, const std::string& text, const std::string& what) {
        h5::Handle type = utf8_string_type(what);
        h5::Handle space = checked(H5Screate(H5S_SCALAR), H5Sclose, what);
        h5::Handle dataset = checked(
            H5Dcreate2(parent, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            H5Dclose, what);
        const char* data = text.c_str();
        check(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &data), what);
        flush_and_close_dataset(dataset, what);
    }

    void vector_dataset(hid_t parent, const std::string& name, const std::vector<double>& values,
                        const std::string& units, const std::string& what) {
        array_dataset(parent, name, values, {values.size()}, units, what);
    }

    // A 1D or 2D dataset of doubles, C order (dimensions may be 0: an empty set of points).
    void array_dataset(hid_t parent, const std::string& name, std::span<const double> values,
                       const std::vector<hsize_t>& dimensions, const std::string& units, const std::string& what) {
        h5::Handle space = checked(H5Screate_simple(static_cast<int>(dimensions.size()), dimensions.data(), nullptr),
                                   H5Sclose, what);
        h5::Handle dataset = checked(
            H5Dcreate2(parent, name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            H5Dclose, what);
        if (!values.empty())
            check(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), what);
        attribute_string(dataset.get(), "units", units, what);
        flush_and_close_dataset(dataset, what);
    }

    // An empty 1D dataset that grows along its only axis (time, series rows).
    h5::Handle growing_vector(hid_t parent, const std::string& name, hsize_t chunk_rows, const std::string& units,
                              const std::string& what) {
        const hsize_t initial_size = 0;
        const hsize_t maximum_size = H5S_UNLIMITED;
        h5::Handle space = checked(H5Screate_simple(1, &initial_size, &maximum_size), H5Sclose, what);
        h5::Handle properties = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, what);
        check(H5Pset_chunk(properties.get(), 1, &chunk_rows), what);
        h5::Handle dataset = checked(H5Dcreate2(parent, name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT,
                                                properties.get(), H5P_DEFAULT),
                                     H5Dclose, what);
        attribute_string(dataset.get(), "units", units, what);
        return dataset;
    }

    void append(hid_t dataset, hsize_t old_size, std::span<const double> values, const std::string& what) {
        if (values.empty()) return;
        const hsize_t count = values.size();
        const hsize_t new_size = old_size + count;
        check(H5Dset_extent(dataset, &new_size), what);
        h5::Handle file_space = checked(H5Dget_space(dataset), H5Sclose, what);
        check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &old_size, nullptr, &count, nullptr), what);
        h5::Handle memory_space = checked(H5Screate_simple(1, &count, nullptr), H5Sclose, what);
        check(H5Dwrite(dataset, H5T_NATIVE_DOUBLE, memory_space.get(), file_space.get(), H5P_DEFAULT, values.data()),
              what);
    }

    void field_dataset(hid_t parent, const FieldView& field, const GridInfo& grid, int compression_level,
                       const std::string& what);

private:
    hid_t file_ = H5I_INVALID_HID;
    bool detached_ = false;
};

// Chunks of whole x rows and as many y rows / z planes as fit in kFieldChunkBytes.
std::array<hsize_t, 3> field_chunk(const GridInfo& grid) {
    const hsize_t nx = static_cast<hsize_t>(grid.nx);
    const hsize_t ny = static_cast<hsize_t>(grid.ny);
    const hsize_t nz = static_cast<hsize_t>(grid.nz);
    const hsize_t row_bytes = nx * sizeof(double);
    hsize_t chunk_y = ny;
    while (chunk_y > 1 && chunk_y * row_bytes > kFieldChunkBytes) chunk_y = (chunk_y + 1) / 2;
    const hsize_t plane_bytes = chunk_y * row_bytes;
    const hsize_t chunk_z = std::clamp<hsize_t>(kFieldChunkBytes / plane_bytes, 1, nz);
    return {chunk_z, chunk_y, nx};
}

void Writer::field_dataset(hid_t parent, const FieldView& field, const GridInfo& grid, int compression_level,
                           const std::string& what) {
    const std::array<hsize_t, 3> dimensions{static_cast<hsize_t>(grid.nz), static_cast<hsize_t>(grid.ny),
                                            static_cast<hsize_t>(grid.nx)};
    const std::array<hsize_t, 3> chunk = field_chunk(grid);
    h5::Handle space = checked(H5Screate_simple(3, dimensions.data(), nullptr), H5Sclose, what);
    h5::Handle properties = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, what);
    check(H5Pset_chunk(properties.get(), 3, chunk.data()), what);
    if (compression_level > 0) {
        // Shuffle groups the bytes of the doubles by significance: gzip then compresses smooth
        // fields far better.
        check(H5Pset_shuffle(properties.get()), what);
        check(H5Pset_deflate(properties.get(), static_cast<unsigned>(compression_level)), what);
    }
    h5::Handle dataset = checked(H5Dcreate2(parent, field.name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT,
                                            properties.get(), H5P_DEFAULT),
                                 H5Dclose, what);
    check(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, field.values.data()), what);
    attribute_string(dataset.get(), "units", field.units, what);
    flush_and_close_dataset(dataset, what);
}

// ---- validation (programming errors: std::invalid_argument, nothing written) -------------------

// Names become HDF5 link names and XDMF attribute names: keep them to a safe character set.
void validate_name(const std::string& kind, const std::string& name) {
    const bool safe_characters = std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.';
    });
    if (name.empty() || name == "." || name == ".." || !safe_characters || name.size() > 200) {
        throw std::invalid_argument(kind + " name '" + name +
                                    "' is not valid: use 1-200 characters from A-Z a-z 0-9 _ - .");
    }
}

// `grid_label` names the grid in messages: "the grid" (the main one) or "grid 'responses'".
void validate_field(const FieldView& field, const GridInfo& grid, const std::string& grid_label = "the grid") {
    validate_name("field", field.name);
    const std::size_t expected = static_cast<std::size_t>(grid.nx) * static_cast<std::size_t>(grid.ny) *
                                 static_cast<std::size_t>(grid.nz);
    if (field.values.size() != expected) {
        throw std::invalid_argument("field '" + field.name + "' has " + std::to_string(field.values.size()) +
                                    " values; " + grid_label + " has nx*ny*nz = " + std::to_string(expected));
    }
}

// Fields of one grid in one snapshot: valid names, the grid's size, no name twice.
void validate_fields(const std::vector<FieldView>& fields, const GridInfo& grid, const std::string& grid_label) {
    std::set<std::string> names;
    for (const FieldView& field : fields) {
        validate_field(field, grid, grid_label);
        if (!names.insert(field.name).second) {
            throw std::invalid_argument("snapshot field '" + field.name + "' of " + grid_label + " is given twice");
        }
    }
}

void validate_grid(const GridInfo& grid, const std::string& label = "Recorder: grid") {
    const bool counts_ok = grid.nx > 0 && grid.ny > 0 && grid.nz > 0;
    const bool spacing_ok = std::isfinite(grid.dx_um) && std::isfinite(grid.dy_um) && std::isfinite(grid.dz_um) &&
                            grid.dx_um > 0 && grid.dy_um > 0 && grid.dz_um > 0;
    if (!counts_ok || !spacing_ok) {
        throw std::invalid_argument(label + " needs nx, ny, nz > 0 and dx_um, dy_um, dz_um > 0");
    }
}

void validate_points(const std::string& set_name, const PointSet& points) {
    const std::string label = "point set '" + set_name + "'";
    if (points.xyz.size() % 3 != 0) throw std::invalid_argument(label + ": xyz must hold 3 values per point");
    std::set<std::string> names{"xyz"};
    for (const PointAttribute& attribute : points.attributes) {
        validate_name("point attribute", attribute.name);
        if (!names.insert(attribute.name).second)
            throw std::invalid_argument(label + ": point attribute '" + attribute.name +
                                        "' is given twice or is named xyz");
        if (attribute.values.size() != points.count())
            throw std::invalid_argument(label + ": point attribute '" + attribute.name + "' has " +
                                        std::to_string(attribute.values.size()) + " values for " +
                                        std::to_string(points.count()) + " points");
    }
}

std::string utc_now_iso8601() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    std::array<char, 32> text{};
    const std::size_t length = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
    return std::string(text.data(), length);
}

std::string snapshot_group_name(std::size_t index) {
    std::array<char, 32> text{};
    std::snprintf(text.data(), text.size(), "%06zu", index);
    return text.data();
}

std::vector<double> cell_centres_um(int count, double spacing_um, double origin_um = 0.0) {
    std::vector<double> centres(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) centres[static_cast<std::size_t>(i)] = origin_um + (i + 0.5) * spacing_um;
    return centres;
}

// Shape, spacing and cell-centre coordinates of a uniform grid, as attributes and datasets of
// its group (the main /grid, and each declared /grids/<name> with its origin).
void write_grid_description(Writer& w, hid_t g, const GridInfo& grid, double origin_z_um, bool with_origin,
                            const std::string& what) {
    w.attribute_int(g, "nx", grid.nx, what);
    w.attribute_int(g, "ny", grid.ny, what);
    w.attribute_int(g, "nz", grid.nz, what);
    w.attribute_double(g, "dx_um", grid.dx_um, what);
    w.attribute_double(g, "dy_um", grid.dy_um, what);
    w.attribute_double(g, "dz_um", grid.dz_um, what);
    if (with_origin) {
        w.attribute_double(g, "origin_x_um", 0.0, what);
        w.attribute_double(g, "origin_y_um", 0.0, what);
        w.attribute_double(g, "origin_z_um", origin_z_um, what);
    }
    w.attribute_string(g, "units", "um", what);
    w.attribute_string(g, "index_order", "[z][y][x]", what);
    w.vector_dataset(g, "x_um", cell_centres_um(grid.nx, grid.dx_um), "um", what);
    w.vector_dataset(g, "y_um", cell_centres_um(grid.ny, grid.dy_um), "um", what);
    w.vector_dataset(g, "z_um", cell_centres_um(grid.nz, grid.dz_um, origin_z_um), "um", what);
}

// ---- crash safety and reopening -----------------------------------------------------------------

// File access for a file that a kill (SIGKILL, power loss of the process) may interrupt at any
// moment: the metadata cache never evicts, so metadata reaches the file only in flushes (after
// every snapshot), and the file on disk between flushes is the last flushed one plus raw data
// written beyond it. (SWMR would give the same guarantee but forbids creating groups and
// datasets once started, which every snapshot does.)
h5::Handle crash_safe_access(Writer& w, const std::string& what) {
    h5::Handle access = w.checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, what);
    H5AC_cache_config_t config{};
    config.version = H5AC__CURR_CACHE_CONFIG_VERSION;
    w.check(H5Pget_mdc_config(access.get(), &config), what);
    config.evictions_enabled = false;
    config.incr_mode = H5C_incr__off;
    config.flash_incr_mode = H5C_flash_incr__off;
    config.decr_mode = H5C_decr__off;
    w.check(H5Pset_mdc_config(access.get(), &config), what);
    return access;
}

herr_t collect_link_name(hid_t, const char* name, const H5L_info_t*, void* names) {
    static_cast<std::vector<std::string>*>(names)->push_back(name);
    return 0;
}

// Links of a group in creation order (every group the recorder makes tracks it).
std::vector<std::string> children(Writer& w, hid_t group, const std::string& what) {
    std::vector<std::string> names;
    w.check(H5Literate(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, collect_link_name, &names), what);
    return names;
}

// "NNNNNN" snapshot names, as their index; -1 for anything else.
long long snapshot_index(const std::string& name) {
    if (name.size() != 6 || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return -1;
    return std::stoll(name);
}

double read_double_attribute(Writer& w, hid_t object, const char* name, const std::string& what) {
    h5::Handle attribute = w.checked(H5Aopen(object, name, H5P_DEFAULT), H5Aclose, what);
    double value = 0.0;
    w.check(H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value), what);
    return value;
}

int read_int_attribute(Writer& w, hid_t object, const char* name, const std::string& what) {
    h5::Handle attribute = w.checked(H5Aopen(object, name, H5P_DEFAULT), H5Aclose, what);
    int value = 0;
    w.check(H5Aread(attribute.get(), H5T_NATIVE_INT, &value), what);
    return value;
}

hsize_t dataset_length(Writer& w, hid_t dataset, const std::string& what) {
    h5::Handle space = w.checked(H5Dget_space(dataset), H5Sclose, what);
    hsize_t size = 0;
    w.check(H5Sget_simple_extent_dims(space.get(), &size, nullptr) < 0 ? -1 : 0, what);
    return size;
}

// Cuts a growing vector back to `rows`; it must hold at least that many.
void truncate_vector(Writer& w, hid_t dataset, hsize_t rows, const std::string& what) {
    const hsize_t have = dataset_length(w, dataset, what);
    if (have < rows)
        throw OutputError(what + ": it holds " + std::to_string(have) + " rows, the checkpoint expects " +
                          std::to_string(rows));
    w.check(H5Dset_extent(dataset, &rows), what);
}

// Drops the snapshot groups NNNNNN >= keep under `group`; returns the kept names in order.
std::vector<std::string> drop_snapshots_after(Writer& w, hid_t group, std::uint64_t keep, const std::string& what) {
    std::vector<std::string> kept;
    for (const std::string& name : children(w, group, what)) {
        const long long index = snapshot_index(name);
        if (index < 0) continue;
        if (static_cast<std::uint64_t>(index) >= keep) w.check(H5Ldelete(group, name.c_str(), H5P_DEFAULT), what);
        else kept.push_back(name);
    }
    return kept;
}

} // namespace

// ---- Impl -------------------------------------------------------------------------------------

struct Recorder::Impl {
    struct Series {
        h5::Handle group;
        std::vector<SeriesColumn> columns;
        std::vector<h5::Handle> datasets;         // one per column
        std::vector<std::vector<double>> pending; // per column: rows not yet written
        hsize_t rows_written = 0;
    };

    fs::path final_path;
    fs::path part_path;
    GridInfo grid;
    int compression_level = kDefaultCompressionLevel;
    Writer writer;

    // Declared before the objects inside the file so it is closed after them.
    h5::Handle file;
    h5::Handle static_group;
    h5::Handle snapshots_group;
    h5::Handle time_dataset;
    h5::Handle summary_group;
    std::map<std::string, Series> series;
    // "/<name>" of each point set, made by the first snapshot that carries the set.
    struct PointGroup {
        h5::Handle group;
        std::size_t collection = 0; // index in point_collections
    };
    std::map<std::string, PointGroup> point_groups;
    // "/grids/<name>" of each grid declared with declare_grid; "/grids" is made by the first.
    struct DeclaredGrid {
        GridInfo grid;
        h5::Handle group;
        std::size_t collection = 0; // index in grid_collections
    };
    h5::Handle grids_group;
    std::map<std::string, DeclaredGrid> grids;

    // What the XDMF index will list: completed snapshots only.
    std::vector<xdmf::FieldRef> static_fields;
    std::vector<xdmf::Step> steps;
    std::vector<xdmf::PointCollection> point_collections; // in order of first appearance
    std::vector<xdmf::SubGrid> grid_collections;          // in order of declaration

    bool finished = false;
    bool resumed = false;                // reopened from a checkpoint: declarations reopen
    std::map<std::string, std::uint64_t> resume_rows; // series rows kept, by group
    std::string failure; // first OutputError; the file is not trusted after it

    // "'<object>' in '<file>.part'" for messages.
    std::string in_file(const std::string& object) const {
        return "'" + object + "' in '" + part_path.string() + "'";
    }

    // Runs one public operation: refuses after finish() or after an earlier write failure, and
    // remembers a failure so finish() cannot later mark a damaged file complete.
    template <class Body>
    void run(const char* operation, Body&& body) {
        if (finished) {
            throw std::logic_error(std::string("Recorder::") + operation + " called after finish()");
        }
        if (!failure.empty()) {
            throw OutputError("output '" + part_path.string() + "' is unusable after an earlier write error: " +
                              failure);
        }
        // The automatic error printing is per thread in thread-safe HDF5 builds: switch it off
        // for whichever thread writes.
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        try {
            body();
        } catch (const OutputError& error) {
            failure = error.what();
            throw;
        }
    }

    void write_pending_rows(const std::string& group_name, Series& entry) {
        if (entry.pending.empty() || entry.pending.front().empty()) return;
        const std::size_t rows = entry.pending.front().size();
        for (std::size_t c = 0; c < entry.columns.size(); ++c) {
            writer.append(entry.datasets[c].get(), entry.rows_written, entry.pending[c],
                          "cannot append series rows to " + in_file("/" + group_name + "/" + entry.columns[c].name));
            entry.pending[c].clear();
        }
        entry.rows_written += rows;
    }

    void flush_everything() {
        for (auto& [name, entry] : series) write_pending_rows(name, entry);
        writer.flush_file("cannot flush '" + part_path.string() + "' to disk");
    }

    // Closes every object, then the file. Called after a successful flush, so nothing is left to
    // write; the checks are for the unexpected.
    void close_all() {
        for (auto& [name, entry] : series) {
            for (std::size_t c = 0; c < entry.datasets.size(); ++c) {
                writer.close(entry.datasets[c], "cannot close " + in_file("/" + name + "/" + entry.columns[c].name));
            }
            writer.close(entry.group, "cannot close " + in_file("/" + name));
        }
        for (auto& [name, entry] : point_groups) writer.close(entry.group, "cannot close " + in_file("/" + name));
        for (auto& [name, entry] : grids) writer.close(entry.group, "cannot close " + in_file("/grids/" + name));
        writer.close(grids_group, "cannot close " + in_file("/grids"));
        writer.close(summary_group, "cannot close " + in_file("/summary"));
        writer.close(time_dataset, "cannot close " + in_file("/snapshots/time_s"));
        writer.close(snapshots_group, "cannot close " + in_file("/snapshots"));
        writer.close(static_group, "cannot close " + in_file("/static"));
        writer.close(file, "cannot close '" + part_path.string() + "'");
    }

    void create_file(const RunInfo& info);
    void reopen_file(const RecorderPosition& at);
};

void Recorder::Impl::create_file(const RunInfo& info) {
    Writer& w = writer;
    const std::string file_what = "cannot create HDF5 file '" + part_path.string() + "'";
    h5::Handle creation = w.checked(H5Pcreate(H5P_FILE_CREATE), H5Pclose, file_what);
    w.check(H5Pset_link_creation_order(creation.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), file_what);
    // Freed space is never reused within a session: what the last flushed metadata points to is
    // never overwritten before the next flush (see crash_safe_access).
    w.check(H5Pset_file_space_strategy(creation.get(), H5F_FSPACE_STRATEGY_NONE, 0, 1), file_what);
    h5::Handle access = crash_safe_access(w, file_what);
    file = w.checked(H5Fcreate(part_path.c_str(), H5F_ACC_TRUNC, creation.get(), access.get()), H5Fclose, file_what);
    w.attach(file.get());
    const hid_t root = file.get();

    const std::string root_what = "cannot write root attributes of '" + part_path.string() + "'";
    w.attribute_string(root, "exoderm_version", kVersion, root_what);
    w.attribute_string(root, "git_commit", kGitCommit, root_what);
    w.attribute_uint64(root, "seed", info.seed, root_what);
    w.attribute_string(root, "scenario_name", info.scenario_name, root_what);
    w.attribute_string(root, "command_line", info.command_line, root_what);
    w.attribute_string(root, "source_path", info.source_path, root_what);
    w.attribute_string(root, "created", utc_now_iso8601(), root_what);
    w.attribute_int(root, "complete", 0, root_what);
    w.attribute_int(root, "format_version", kFormatVersion, root_what);

    {
        const std::string what = "cannot write " + in_file("/scenario");
        h5::Handle scenario = w.create_group(root, "scenario", what);
        w.string_dataset(scenario.get(), "resolved", info.resolved_scenario, what);
        w.string_dataset(scenario.get(), "source", info.source_scenario, what);
        w.close(scenario, what);
    }
    {
        const std::string what = "cannot write " + in_file("/grid");
        h5::Handle grid_group = w.create_group(root, "grid", what);
        const hid_t g = grid_group.get();
        write_grid_description(w, g, grid, 0.0, false, what);
        w.attribute_string(g, "z_axis", "depth into the skin: z = 0 at the skin surface, increasing downwards",
                           what);
        w.close(grid_group, what);
    }
    static_group = w.create_group(root, "static", "cannot create " + in_file("/static"));
    snapshots_group = w.create_group(root, "snapshots", "cannot create " + in_file("/snapshots"));
    time_dataset = w.growing_vector(snapshots_group.get(), "time_s", kTimeChunkRows, "s",
                                    "cannot create " + in_file("/snapshots/time_s"));
    summary_group = w.create_group(root, "summary", "cannot create " + in_file("/summary"));
    // A run killed before its first snapshot still leaves a readable file with its metadata.
    w.flush_file("cannot flush '" + part_path.string() + "' to disk");
}

void Recorder::Impl::reopen_file(const RecorderPosition& at) {
    Writer& w = writer;
    const std::string file_what = "cannot reopen '" + part_path.string() + "' to resume";
    h5::Handle access = crash_safe_access(w, file_what);
    file = w.checked(H5Fopen(part_path.c_str(), H5F_ACC_RDWR, access.get()), H5Fclose, file_what);
    w.attach(file.get());
    const hid_t root = file.get();
    if (read_int_attribute(w, root, "complete", file_what) != 0)
        throw OutputError("'" + part_path.string() + "' is marked complete: nothing to resume");
    w.attribute_string(root, "resumed", utc_now_iso8601(), file_what);
    static_group = w.checked(H5Gopen2(root, "static", H5P_DEFAULT), H5Gclose, file_what);
    snapshots_group = w.checked(H5Gopen2(root, "snapshots", H5P_DEFAULT), H5Gclose, file_what);
    time_dataset = w.checked(H5Dopen2(snapshots_group.get(), "time_s", H5P_DEFAULT), H5Dclose, file_what);
    summary_group = w.checked(H5Gopen2(root, "summary", H5P_DEFAULT), H5Gclose, file_what);
    // The summary is written at the very end: a run killed after it starts over without it.
    while (true) {
        const int attributes = static_cast<int>(H5Aget_num_attrs(summary_group.get()));
        if (attributes <= 0) break;
        std::array<char, 256> name{};
        w.check(H5Aget_name_by_idx(summary_group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, 0, name.data(), name.size(),
                                   H5P_DEFAULT) < 0 ? -1 : 0, file_what);
        w.check(H5Adelete(summary_group.get(), name.data()), file_what);
    }
    for (const std::string& name : children(w, static_group.get(), file_what))
        static_fields.push_back({name, "/static/" + name});

    truncate_vector(w, time_dataset.get(), at.snapshots, "cannot resume " + in_file("/snapshots/time_s"));
    std::vector<double> times(at.snapshots);
    if (!times.empty())
        w.check(H5Dread(time_dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, times.data()), file_what);
    for (const std::string& name : drop_snapshots_after(w, snapshots_group.get(), at.snapshots, file_what)) {
        h5::Handle group = w.checked(H5Gopen2(snapshots_group.get(), name.c_str(), H5P_DEFAULT), H5Gclose, file_what);
        xdmf::Step step{times[static_cast<std::size_t>(snapshot_index(name))], {}};
        for (const std::string& field : children(w, group.get(), file_what))
            step.fields.push_back({field, "/snapshots/" + name + "/" + field});
        steps.push_back(std::move(step));
    }
    if (steps.size() != at.snapshots)
        throw OutputError(file_what + ": it holds " + std::to_string(steps.size()) + " snapshots, the checkpoint expects " +
                          std::to_string(at.snapshots));

    // Point sets and series are the other top-level groups (series carry a "columns" attribute).
    for (const std::string& name : children(w, root, file_what)) {
        if (layout_groups().count(name) != 0) continue;
        h5::Handle group = w.checked(H5Gopen2(root, name.c_str(), H5P_DEFAULT), H5Gclose, file_what);
        if (H5Aexists(group.get(), "columns") > 0) continue; // reopened by declare_series
        PointGroup entry;
        entry.collection = point_collections.size();
        xdmf::PointCollection collection{name, {}};
        for (const std::string& step_name : drop_snapshots_after(w, group.get(), at.snapshots, file_what)) {
            const std::string path = "/" + name + "/" + step_name;
            h5::Handle step_group = w.checked(H5Gopen2(group.get(), step_name.c_str(), H5P_DEFAULT), H5Gclose, file_what);
            xdmf::PointStep step;
            step.time_s = read_double_attribute(w, step_group.get(), "time_s", file_what);
            step.snapshot = static_cast<std::size_t>(snapshot_index(step_name));
            std::uint64_t count = 0;
            {
                h5::Handle attribute = w.checked(H5Aopen(step_group.get(), "count", H5P_DEFAULT), H5Aclose, file_what);
                w.check(H5Aread(attribute.get(), H5T_NATIVE_UINT64, &count), file_what);
            }
            step.count = static_cast<std::size_t>(count);
            step.xyz_object = path + "/xyz";
            for (const std::string& attribute : children(w, step_group.get(), file_what))
                if (attribute != "xyz") step.attributes.push_back({attribute, path + "/" + attribute});
            collection.steps.push_back(std::move(step));
        }
        point_collections.push_back(std::move(collection));
        entry.group = std::move(group);
        point_groups.emplace(name, std::move(entry));
    }

    if (H5Lexists(root, "grids", H5P_DEFAULT) > 0) {
        grids_group = w.checked(H5Gopen2(root, "grids", H5P_DEFAULT), H5Gclose, file_what);
        for (const std::string& name : children(w, grids_group.get(), file_what)) {
            h5::Handle group = w.checked(H5Gopen2(grids_group.get(), name.c_str(), H5P_DEFAULT), H5Gclose, file_what);
            const hid_t g = group.get();
            GridInfo info{read_int_attribute(w, g, "nx", file_what), read_int_attribute(w, g, "ny", file_what),
                          read_int_attribute(w, g, "nz", file_what), read_double_attribute(w, g, "dx_um", file_what),
                          read_double_attribute(w, g, "dy_um", file_what), read_double_attribute(w, g, "dz_um", file_what)};
            xdmf::SubGrid sub{name, info, read_double_attribute(w, g, "origin_z_um", file_what), {}};
            for (const std::string& step_name : drop_snapshots_after(w, g, at.snapshots, file_what)) {
                const std::string path = "/grids/" + name + "/" + step_name;
                h5::Handle step_group = w.checked(H5Gopen2(g, step_name.c_str(), H5P_DEFAULT), H5Gclose, file_what);
                xdmf::GridStep step{read_double_attribute(w, step_group.get(), "time_s", file_what),
                                    static_cast<std::size_t>(snapshot_index(step_name)), {}};
                for (const std::string& field : children(w, step_group.get(), file_what))
                    step.fields.push_back({field, path + "/" + field});
                sub.steps.push_back(std::move(step));
            }
            const std::size_t collection = grid_collections.size();
            grid_collections.push_back(std::move(sub));
            grids.emplace(name, DeclaredGrid{info, std::move(group), collection});
        }
    }
    resumed = true;
    resume_rows = at.series_rows;
    w.flush_file(file_what);
}

// ---- Recorder ---------------------------------------------------------------------------------

Recorder::Recorder(std::filesystem::path path, bool overwrite, const RunInfo& info, const GridInfo& grid)
    : impl_(std::make_unique<Impl>()) {
    validate_grid(grid);
    if (path.empty()) throw OutputPathError("output path is empty");
    if (path.extension() == ".xmf" || path.extension() == ".part") {
        throw OutputPathError("output '" + path.string() + "' must not end in " + path.extension().string() +
                          ": that name is used for the index / the file being written");
    }

    // Everything below is checked before the first byte is written.
    std::error_code error;
    const fs::file_status status = fs::symlink_status(path, error);
    if (fs::exists(status)) {
        if (!overwrite) throw OutputPathError("output '" + path.string() + "' exists; use --force to overwrite");
        if (fs::is_directory(status)) throw OutputPathError("output '" + path.string() + "' is a folder, not a file");
    }
    const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
    if (!fs::is_directory(folder, error)) {
        throw OutputPathError("output folder '" + folder.string() + "' does not exist or is not a folder");
    }

    impl_->final_path = path;
    impl_->part_path = fs::path(path.string() + ".part");
    impl_->grid = grid;

    // A .part left by an earlier killed run is not worth keeping once a new run starts.
    // (Only if there is one: on a read-only file system removing nothing fails too, and the
    // probe below then names the real problem.)
    error.clear();
    std::error_code absent; // ENOENT here just means there is nothing to remove
    if (fs::exists(fs::symlink_status(impl_->part_path, absent))) fs::remove(impl_->part_path, error);
    if (error) {
        throw OutputPathError("cannot remove stale '" + impl_->part_path.string() + "': " + error.message());
    }
    // Probe with a plain file first: access(W_OK) says yes to root even on read-only places, and
    // the errno here gives a clearer message than HDF5's.
    if (std::FILE* probe = std::fopen(impl_->part_path.c_str(), "wb")) {
        std::fclose(probe);
    } else {
        const int probe_errno = errno;
        throw OutputPathError("output folder '" + folder.string() + "' is not writable: cannot create '" +
                          impl_->part_path.string() + "' (" + std::strerror(probe_errno) + ")");
    }

    // Failures are reported through OutputError messages, not printed by HDF5 to stderr.
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    try {
        impl_->create_file(info);
    } catch (...) {
        // Leave nothing that looks like output behind when the file could not even be set up.
        const fs::path part = impl_->part_path;
        impl_.reset();
        std::error_code ignored;
        fs::remove(part, ignored);
        throw;
    }
}

Recorder::Recorder(std::filesystem::path path, const RecorderPosition& at, const GridInfo& grid)
    : impl_(std::make_unique<Impl>()) {
    validate_grid(grid);
    impl_->final_path = path;
    impl_->part_path = fs::path(path.string() + ".part");
    impl_->grid = grid;
    std::error_code error;
    if (!fs::is_regular_file(impl_->part_path, error))
        throw OutputError("no interrupted output '" + impl_->part_path.string() + "' to resume");
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    impl_->run("resume", [&] { impl_->reopen_file(at); });
}

RecorderPosition Recorder::position() const {
    RecorderPosition at;
    at.snapshots = impl_->steps.size();
    for (const auto& [name, entry] : impl_->series)
        at.series_rows[name] = entry.rows_written + (entry.pending.empty() ? 0 : entry.pending.front().size());
    return at;
}

Recorder::~Recorder() {
    if (!impl_ || impl_->finished) return;
    // Not finished (an exception or an early return in the caller): keep what was recorded, with
    // complete = 0, under the .part name. Errors cannot be reported from a destructor.
    if (impl_->failure.empty()) {
        try {
            impl_->flush_everything();
        } catch (...) {
        }
    }
    impl_.reset(); // closes datasets and groups, then the file
}

void Recorder::set_compression(int level) {
    if (level < 0 || level > 9) {
        throw std::invalid_argument("compression level " + std::to_string(level) + " is outside 0..9");
    }
    impl_->compression_level = level;
}

void Recorder::write_static_field(const FieldView& field) {
    validate_field(field, impl_->grid);
    const bool duplicate = std::any_of(impl_->static_fields.begin(), impl_->static_fields.end(),
                                       [&](const xdmf::FieldRef& existing) { return existing.name == field.name; });
    if (duplicate && impl_->resumed) return; // written before the interruption
    if (duplicate) throw std::invalid_argument("static field '" + field.name + "' was already written");

    impl_->run("write_static_field", [&] {
        const std::string object = "/static/" + field.name;
        impl_->writer.field_dataset(impl_->static_group.get(), field, impl_->grid, impl_->compression_level,
                                    "cannot write static field " + impl_->in_file(object));
        impl_->static_fields.push_back({field.name, object});
    });
}

void Recorder::declare_grid(const std::string& name, const GridInfo& grid, double origin_z_um) {
    validate_name("grid", name);
    if (main_grid_xdmf_names().count(name) != 0) {
        throw std::invalid_argument("grid name '" + name + "' is reserved: the main grid uses it in the XDMF index");
    }
    if (impl_->resumed && impl_->grids.count(name) != 0) return; // declared before the interruption
    if (impl_->grids.count(name) != 0) throw std::invalid_argument("grid '" + name + "' was already declared");
    if (impl_->point_groups.count(name) != 0) {
        throw std::invalid_argument("grid name '" + name +
                                    "' is already used by a point set (both are XDMF collections)");
    }
    validate_grid(grid, "grid '" + name + "'");
    if (!std::isfinite(origin_z_um)) {
        throw std::invalid_argument("grid '" + name + "': origin_z_um is not finite");
    }

    impl_->run("declare_grid", [&] {
        Writer& w = impl_->writer;
        if (!impl_->grids_group.valid())
            impl_->grids_group = w.create_group(impl_->file.get(), "grids", "cannot create " + impl_->in_file("/grids"));
        const std::string what = "cannot write " + impl_->in_file("/grids/" + name);
        h5::Handle group = w.create_group(impl_->grids_group.get(), name, what);
        const hid_t g = group.get();
        write_grid_description(w, g, grid, origin_z_um, true, what);
        const std::size_t collection = impl_->grid_collections.size();
        impl_->grid_collections.push_back({name, grid, origin_z_um, {}});
        impl_->grids.emplace(name, Impl::DeclaredGrid{grid, std::move(group), collection});
    });
}

void Recorder::write_snapshot(double t_s, const std::vector<FieldView>& fields) {
    Snapshot snapshot;
    snapshot.time_s = t_s;
    snapshot.fields = fields;
    write_snapshot(snapshot);
}

void Recorder::write_snapshot(double t_s, const std::vector<FieldView>& fields, const PointSet& points) {
    Snapshot snapshot;
    snapshot.time_s = t_s;
    snapshot.fields = fields;
    snapshot.point_sets.push_back({"particles", points});
    write_snapshot(snapshot);
}

void Recorder::write_snapshot(const Snapshot& snapshot) {
    // Everything is checked before the first byte is written.
    const double t_s = snapshot.time_s;
    if (!std::isfinite(t_s)) throw std::invalid_argument("snapshot time is not finite");
    validate_fields(snapshot.fields, impl_->grid, "the grid");
    std::set<std::string> set_names;
    for (const NamedPointSet& set : snapshot.point_sets) {
        validate_name("point set", set.name);
        if (layout_groups().count(set.name) != 0 || main_grid_xdmf_names().count(set.name) != 0)
            throw std::invalid_argument("point set name '" + set.name + "' is reserved for the file layout");
        if (impl_->series.count(set.name) != 0)
            throw std::invalid_argument("point set name '" + set.name + "' is already used by the series group /" +
                                        set.name);
        if (impl_->grids.count(set.name) != 0)
            throw std::invalid_argument("point set name '" + set.name +
                                        "' is already used by a declared grid (both are XDMF collections)");
        if (!set_names.insert(set.name).second)
            throw std::invalid_argument("point set '" + set.name + "' is given twice in one snapshot");
        validate_points(set.name, set.points);
    }
    std::set<std::string> grid_names;
    for (const GridFields& entry : snapshot.grid_fields) {
        const auto found = impl_->grids.find(entry.grid);
        if (found == impl_->grids.end())
            throw std::invalid_argument("grid '" + entry.grid + "' was not declared (Recorder::declare_grid)");
        if (!grid_names.insert(entry.grid).second)
            throw std::invalid_argument("grid '" + entry.grid + "' is given twice in one snapshot");
        validate_fields(entry.fields, found->second.grid, "grid '" + entry.grid + "'");
    }

    impl_->run("write_snapshot", [&] {
        Writer& w = impl_->writer;
        const std::size_t index = impl_->steps.size();
        const std::string group_name = snapshot_group_name(index);
        const std::string group_path = "/snapshots/" + group_name;
        h5::Handle group = w.create_group(impl_->snapshots_group.get(), group_name,
                                          "cannot create snapshot " + impl_->in_file(group_path));
        w.attribute_double(group.get(), "time_s", t_s, "cannot write " + impl_->in_file(group_path + " time_s"));

        xdmf::Step step{t_s, {}};
        for (const FieldView& field : snapshot.fields) {
            const std::string object = group_path + "/" + field.name;
            w.field_dataset(group.get(), field, impl_->grid, impl_->compression_level,
                            "cannot write snapshot field " + impl_->in_file(object));
            step.fields.push_back({field.name, object});
        }
        w.close(group, "cannot write snapshot " + impl_->in_file(group_path));

        // Point sets: /<name>/NNNNNN.
        std::vector<std::pair<std::size_t, xdmf::PointStep>> point_steps; // (collection, step)
        for (const NamedPointSet& set : snapshot.point_sets) {
            auto found = impl_->point_groups.find(set.name);
            if (found == impl_->point_groups.end()) {
                Impl::PointGroup entry;
                entry.group = w.create_group(impl_->file.get(), set.name,
                                             "cannot create " + impl_->in_file("/" + set.name));
                entry.collection = impl_->point_collections.size();
                impl_->point_collections.push_back({set.name, {}});
                found = impl_->point_groups.emplace(set.name, std::move(entry)).first;
            }
            const PointSet& points = set.points;
            const std::string points_path = "/" + set.name + "/" + group_name;
            const std::string what = "cannot write points " + impl_->in_file(points_path);
            h5::Handle point_group = w.create_group(found->second.group.get(), group_name, what);
            const auto count = static_cast<hsize_t>(points.count());
            w.attribute_double(point_group.get(), "time_s", t_s, what);
            w.attribute_uint64(point_group.get(), "count", count, what);
            w.array_dataset(point_group.get(), "xyz", points.xyz, {count, 3}, "um", what);
            xdmf::PointStep point_step{t_s, index, points.count(), points_path + "/xyz", {}};
            for (const PointAttribute& attribute : points.attributes) {
                w.array_dataset(point_group.get(), attribute.name, attribute.values, {count}, attribute.units, what);
                point_step.attributes.push_back({attribute.name, points_path + "/" + attribute.name});
            }
            w.close(point_group, what);
            point_steps.emplace_back(found->second.collection, std::move(point_step));
        }

        // Fields of declared grids: /grids/<grid>/NNNNNN.
        std::vector<std::pair<std::size_t, xdmf::GridStep>> grid_steps; // (collection, step)
        for (const GridFields& entry : snapshot.grid_fields) {
            Impl::DeclaredGrid& declared = impl_->grids.at(entry.grid);
            const std::string grid_path = "/grids/" + entry.grid + "/" + group_name;
            const std::string what = "cannot write grid snapshot " + impl_->in_file(grid_path);
            h5::Handle grid_group = w.create_group(declared.group.get(), group_name, what);
            w.attribute_double(grid_group.get(), "time_s", t_s, what);
            xdmf::GridStep grid_step{t_s, index, {}};
            for (const FieldView& field : entry.fields) {
                const std::string object = grid_path + "/" + field.name;
                w.field_dataset(grid_group.get(), field, declared.grid, impl_->compression_level,
                                "cannot write grid field " + impl_->in_file(object));
                grid_step.fields.push_back({field.name, object});
            }
            w.close(grid_group, what);
            grid_steps.emplace_back(declared.collection, std::move(grid_step));
        }

        // time_s grows last: a snapshot counts as complete iff its index < len(/snapshots/time_s).
        w.append(impl_->time_dataset.get(), index, std::span<const double>(&t_s, 1),
                 "cannot append to " + impl_->in_file("/snapshots/time_s"));
        impl_->flush_everything();
        impl_->steps.push_back(std::move(step));
        for (auto& [collection, point_step] : point_steps)
            impl_->point_collections[collection].steps.push_back(std::move(point_step));
        for (auto& [collection, grid_step] : grid_steps)
            impl_->grid_collections[collection].steps.push_back(std::move(grid_step));
    });
}

void Recorder::declare_series(const std::string& group, const std::vector<SeriesColumn>& columns) {
    validate_name("series group", group);
    if (reserved_groups().count(group) != 0) {
        throw std::invalid_argument("series group name '" + group + "' is reserved for the file layout");
    }
    if (impl_->series.count(group) != 0) {
        throw std::invalid_argument("series group '" + group + "' was already declared");
    }
    if (impl_->point_groups.count(group) != 0) {
        throw std::invalid_argument("series group name '" + group + "' is already used by the point set /" + group);
    }
    if (columns.empty()) throw std::invalid_argument("series group '" + group + "' has no columns");
    std::set<std::string> names;
    for (const SeriesColumn& column : columns) {
        validate_name("series column", column.name);
        if (!names.insert(column.name).second) {
            throw std::invalid_argument("series group '" + group + "' lists column '" + column.name + "' twice");
        }
    }

    impl_->run("declare_series", [&] {
        Writer& w = impl_->writer;
        if (impl_->resumed && H5Lexists(impl_->file.get(), group.c_str(), H5P_DEFAULT) > 0) {
            // Declared before the interruption: reopen, keeping the rows up to the checkpoint.
            const std::string what = "cannot resume series " + impl_->in_file("/" + group);
            Impl::Series entry;
            entry.group = w.checked(H5Gopen2(impl_->file.get(), group.c_str(), H5P_DEFAULT), H5Gclose, what);
            const auto kept = impl_->resume_rows.find(group);
            const hsize_t rows = kept == impl_->resume_rows.end() ? 0 : kept->second;
            for (const SeriesColumn& column : columns) {
                entry.datasets.push_back(
                    w.checked(H5Dopen2(entry.group.get(), column.name.c_str(), H5P_DEFAULT), H5Dclose, what));
                truncate_vector(w, entry.datasets.back().get(), rows, what + " column " + column.name);
            }
            entry.rows_written = rows;
            entry.columns = columns;
            entry.pending.resize(columns.size());
            impl_->series.emplace(group, std::move(entry));
            return;
        }
        const std::string what = "cannot create series " + impl_->in_file("/" + group);
        Impl::Series entry;
        entry.group = w.create_group(impl_->file.get(), group, what);
        std::string column_list;
        for (const SeriesColumn& column : columns) {
            entry.datasets.push_back(
                w.growing_vector(entry.group.get(), column.name, kSeriesChunkRows, column.units, what));
            column_list += (column_list.empty() ? "" : " ") + column.name;
        }
        // Column order for readers that list datasets alphabetically.
        w.attribute_string(entry.group.get(), "columns", column_list, what);
        entry.columns = columns;
        entry.pending.resize(columns.size());
        impl_->series.emplace(group, std::move(entry));
    });
}

void Recorder::append_series(const std::string& group, std::span<const double> row) {
    const auto found = impl_->series.find(group);
    if (found == impl_->series.end()) {
        throw std::invalid_argument("series group '" + group + "' was not declared");
    }
    Impl::Series& entry = found->second;
    if (row.size() != entry.columns.size()) {
        throw std::invalid_argument("series group '" + group + "' has " + std::to_string(entry.columns.size()) +
                                    " columns; the row has " + std::to_string(row.size()) + " values");
    }
    impl_->run("append_series", [&] {
        for (std::size_t c = 0; c < row.size(); ++c) entry.pending[c].push_back(row[c]);
        if (entry.pending.front().size() >= kSeriesBufferRows) impl_->write_pending_rows(group, entry);
    });
}

void Recorder::write_summary(const std::string& name, double value, const std::string& units) {
    validate_name("summary", name);
    const std::string suffix = "_units";
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        throw std::invalid_argument("summary name '" + name + "' must not end in _units (used for the units)");
    }
    impl_->run("write_summary", [&] {
        const std::string what = "cannot write summary " + impl_->in_file("/summary " + name);
        impl_->writer.attribute_double(impl_->summary_group.get(), name, value, what);
        impl_->writer.attribute_string(impl_->summary_group.get(), name + suffix, units, what);
    });
}

void Recorder::flush() {
    impl_->run("flush", [&] { impl_->flush_everything(); });
}

void Recorder::mark_stopped(const std::string& reason, bool last_snapshot_is_last_good) {
    impl_->run("mark_stopped", [&] {
        const std::string what = "cannot mark '" + impl_->part_path.string() + "' stopped";
        impl_->flush_everything();
        impl_->writer.attribute_string(impl_->file.get(), "stopped", reason, what);
        if (last_snapshot_is_last_good && !impl_->steps.empty())
            impl_->writer.attribute_uint64(impl_->snapshots_group.get(), "last_good", impl_->steps.size() - 1, what);
        impl_->writer.flush_file(what);
    });
}

void Recorder::finish() {
    impl_->run("finish", [&] {
        // Everything reaches the disk while complete is still 0; only then is the flag set, so a
        // failure part-way can never leave a damaged file marked complete.
        impl_->flush_everything();
        impl_->writer.attribute_int(impl_->file.get(), "complete", 1,
                                    "cannot mark '" + impl_->part_path.string() + "' complete");
        impl_->writer.flush_file("cannot mark '" + impl_->part_path.string() + "' complete");
        impl_->close_all();
    });
    impl_->finished = true;

    std::error_code error;
    fs::rename(impl_->part_path, impl_->final_path, error);
    if (error) {
        throw OutputError("cannot rename '" + impl_->part_path.string() + "' to '" + impl_->final_path.string() +
                          "': " + error.message());
    }
    xdmf::Document document;
    document.grid = impl_->grid;
    document.hdf5_file_name = impl_->final_path.filename().string();
    document.static_fields = impl_->static_fields;
    document.steps = impl_->steps;
    document.point_sets = impl_->point_collections;
    document.grids = impl_->grid_collections;
    xdmf::write_file(xdmf_path(), document);
}

const std::filesystem::path& Recorder::path() const { return impl_->final_path; }

std::filesystem::path Recorder::part_path() const { return impl_->part_path; }

std::filesystem::path Recorder::xdmf_path() const {
    const fs::path& final_path = impl_->final_path;
    return final_path.parent_path() / (final_path.stem().string() + ".xmf");
}

} // namespace exoderm
