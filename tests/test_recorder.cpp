// Recorder: writes a small synthetic run and reads it back with the HDF5 C API.
#include <catch2/catch.hpp>

#include <hdf5.h>
#include <sched.h>     // unshare
#include <signal.h>
#include <sys/mount.h> // mount
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "exoderm_version.hpp"
#include "io/hdf5_handles.hpp"
#include "io/recorder.hpp"
#include "temp_dir.hpp"
#include "model/errors.hpp"

namespace fs = std::filesystem;
using namespace exoderm;

namespace {

class TempDir : public testing::TempDir {
public:
    TempDir() : testing::TempDir("io") {}
};

constexpr int kNx = 8, kNy = 6, kNz = 5;
constexpr double kDxUm = 10.0, kDyUm = 12.0, kDzUm = 5.0;

GridInfo test_grid() { return GridInfo{kNx, kNy, kNz, kDxUm, kDyUm, kDzUm}; }

RunInfo test_info() {
    RunInfo info;
    info.scenario_name = "blob test";
    info.resolved_scenario = "[grid]\ndx = \"10 um\"\n";
    info.source_scenario = "# as written\n[grid]\ndx = \"0.01 mm\"\n";
    info.source_path = "scenarios/blob.toml";
    info.command_line = "exoderm run scenarios/blob.toml -o out.h5";
    info.seed = 18446744073709551557ULL; // above 2^63: checks the unsigned 64-bit type
    return info;
}

// A Gaussian blob centred in the box, amplitude `peak`; index (z * ny + y) * nx + x.
std::vector<double> gaussian_blob(double peak) {
    std::vector<double> values(kNx * kNy * kNz);
    const double cx = 0.5 * kNx * kDxUm, cy = 0.5 * kNy * kDyUm, cz = 0.5 * kNz * kDzUm;
    const double sigma_um = 15.0;
    for (int z = 0; z < kNz; ++z)
        for (int y = 0; y < kNy; ++y)
            for (int x = 0; x < kNx; ++x) {
                const double dx = (x + 0.5) * kDxUm - cx, dy = (y + 0.5) * kDyUm - cy, dz = (z + 0.5) * kDzUm - cz;
                values[(z * kNy + y) * kNx + x] =
                    peak * std::exp(-(dx * dx + dy * dy + dz * dz) / (2 * sigma_um * sigma_um));
            }
    return values;
}

std::vector<double> layer_field() {
    std::vector<double> values(kNx * kNy * kNz);
    for (int z = 0; z < kNz; ++z)
        for (int i = 0; i < kNx * kNy; ++i) values[z * kNx * kNy + i] = z == 0 ? 0.0 : (z < 3 ? 1.0 : 2.0);
    return values;
}

std::string read_text(const fs::path& path) {
    std::ifstream stream(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>());
}

// ---- HDF5 read helpers (tests only) ---------------------------------------------------------

h5::Handle open_file(const fs::path& path) {
    h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    REQUIRE(file.valid());
    return file;
}

h5::Handle open_object(hid_t location, const std::string& name) {
    h5::Handle object(H5Oopen(location, name.c_str(), H5P_DEFAULT), H5Oclose);
    INFO("object " << name);
    REQUIRE(object.valid());
    return object;
}

h5::Handle open_attribute(hid_t object, const std::string& name) {
    h5::Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
    INFO("attribute " << name);
    REQUIRE(attribute.valid());
    return attribute;
}

template <class T>
T read_attribute(hid_t object, const std::string& name, hid_t memory_type) {
    h5::Handle attribute = open_attribute(object, name);
    T value{};
    REQUIRE(H5Aread(attribute.get(), memory_type, &value) >= 0);
    return value;
}

int read_int(hid_t object, const std::string& name) { return read_attribute<int>(object, name, H5T_NATIVE_INT); }
double read_double(hid_t object, const std::string& name) {
    return read_attribute<double>(object, name, H5T_NATIVE_DOUBLE);
}

h5::Handle variable_string_type() {
    h5::Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    REQUIRE(H5Tset_size(type.get(), H5T_VARIABLE) >= 0);
    // HDF5 does not convert between character sets: read UTF-8 as UTF-8.
    REQUIRE(H5Tset_cset(type.get(), H5T_CSET_UTF8) >= 0);
    return type;
}

std::string read_string_attribute(hid_t object, const std::string& name) {
    h5::Handle attribute = open_attribute(object, name);
    h5::Handle type = variable_string_type();
    char* text = nullptr;
    REQUIRE(H5Aread(attribute.get(), type.get(), &text) >= 0);
    std::string value = text != nullptr ? text : "";
    H5free_memory(text);
    return value;
}

std::string read_string_dataset(hid_t file, const std::string& name) {
    h5::Handle dataset = open_object(file, name);
    h5::Handle type = variable_string_type();
    char* text = nullptr;
    REQUIRE(H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &text) >= 0);
    std::string value = text != nullptr ? text : "";
    H5free_memory(text);
    return value;
}

struct DoubleArray {
    std::vector<hsize_t> dimensions;
    std::vector<double> values;
};

DoubleArray read_doubles(hid_t file, const std::string& name) {
    h5::Handle dataset = open_object(file, name);
    h5::Handle space(H5Dget_space(dataset.get()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    REQUIRE(rank >= 1);
    DoubleArray array;
    array.dimensions.resize(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), array.dimensions.data(), nullptr);
    array.values.resize(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get())));
    REQUIRE(H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.values.data()) >= 0);
    return array;
}

// H5Lexists needs every intermediate group to exist, so walk the path one component at a time.
bool object_exists(hid_t file, const std::string& path) {
    std::string prefix;
    std::size_t start = 1;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        prefix.push_back('/');
        prefix.append(path, start, end - start);
        if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
        start = end + 1;
    }
    return true;
}

bool has_filter(hid_t dataset, H5Z_filter_t filter) {
    h5::Handle properties(H5Dget_create_plist(dataset), H5Pclose);
    unsigned flags = 0;
    std::size_t count = 0;
    unsigned values[4]{};
    return H5Pget_filter_by_id2(properties.get(), filter, &flags, &count, values, 0, nullptr, nullptr) >= 0;
}

// Writes the standard synthetic run into `path` (not finished).
void record_synthetic_run(Recorder& recorder) {
    const std::vector<double> layer = layer_field();
    recorder.write_static_field({"layer", "1", layer});
    const std::vector<double> free0 = gaussian_blob(1.0), bound0 = gaussian_blob(0.25);
    const std::vector<double> free1 = gaussian_blob(0.5), bound1 = gaussian_blob(0.75);
    recorder.declare_series("dose", {{"time_s", "s"}, {"free", "particles"}, {"bound", "particles"}});
    recorder.append_series("dose", std::vector<double>{0.0, 100.0, 0.0});
    recorder.append_series("dose", std::vector<double>{30.0, 90.0, 10.0});
    recorder.write_snapshot(0.0, {{"free", "particles/um^3", free0}, {"bound", "particles/um^3", bound0}});
    recorder.append_series("dose", std::vector<double>{60.0, 70.0, 30.0});
    recorder.append_series("dose", std::vector<double>{90.0, 50.0, 50.0});
    recorder.write_snapshot(90.0, {{"free", "particles/um^3", free1}, {"bound", "particles/um^3", bound1}});
    recorder.write_summary("depth90_um", 42.5, "um");
    recorder.write_summary("balance_error_rel", 1e-12, "1");
}

} // namespace

TEST_CASE("Recorder writes a run that reads back with the HDF5 C API", "[io]") {
    TempDir folder;
    const fs::path output = folder.path() / "run.h5";
    {
        Recorder recorder(output, false, test_info(), test_grid());
        CHECK(recorder.path() == output);
        CHECK(fs::exists(recorder.part_path()));
        CHECK_FALSE(fs::exists(output));
        recorder.set_compression(6);
        record_synthetic_run(recorder);
        recorder.finish();
    }
    REQUIRE(fs::exists(output));
    CHECK_FALSE(fs::exists(folder.path() / "run.h5.part"));
    CHECK(fs::exists(folder.path() / "run.xmf"));
    CHECK_FALSE(fs::exists(folder.path() / "run.xmf.part"));

    h5::Handle file = open_file(output);
    const hid_t root = file.get();

    SECTION("root attributes") {
        CHECK(read_int(root, "complete") == 1);
        CHECK(read_int(root, "format_version") == 1);
        CHECK(read_attribute<std::uint64_t>(root, "seed", H5T_NATIVE_UINT64) == test_info().seed);
        CHECK(read_string_attribute(root, "exoderm_version") == kVersion);
        CHECK(read_string_attribute(root, "git_commit") == kGitCommit);
        CHECK(read_string_attribute(root, "scenario_name") == "blob test");
        CHECK(read_string_attribute(root, "command_line") == test_info().command_line);
        CHECK(read_string_attribute(root, "source_path") == "scenarios/blob.toml");
        const std::string created = read_string_attribute(root, "created");
        CHECK(std::regex_match(created, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
        CHECK(read_string_dataset(root, "/scenario/resolved") == test_info().resolved_scenario);
        CHECK(read_string_dataset(root, "/scenario/source") == test_info().source_scenario);
    }

    SECTION("grid") {
        h5::Handle grid = open_object(root, "/grid");
        CHECK(read_int(grid.get(), "nx") == kNx);
        CHECK(read_int(grid.get(), "ny") == kNy);
        CHECK(read_int(grid.get(), "nz") == kNz);
        CHECK(read_double(grid.get(), "dx_um") == kDxUm);
        CHECK(read_double(grid.get(), "dy_um") == kDyUm);
        CHECK(read_double(grid.get(), "dz_um") == kDzUm);
        const DoubleArray x = read_doubles(root, "/grid/x_um");
        const DoubleArray z = read_doubles(root, "/grid/z_um");
        REQUIRE(x.values.size() == kNx);
        REQUIRE(z.values.size() == kNz);
        CHECK(x.values.front() == Approx(5.0));
        CHECK(x.values.back() == Approx(75.0));
        CHECK(z.values.back() == Approx(22.5));
        CHECK(read_doubles(root, "/grid/y_um").values.size() == kNy);
        h5::Handle z_dataset = open_object(root, "/grid/z_um");
        CHECK(read_string_attribute(z_dataset.get(), "units") == "um");
    }

    SECTION("static field") {
        const DoubleArray layer = read_doubles(root, "/static/layer");
        CHECK(layer.dimensions == std::vector<hsize_t>{kNz, kNy, kNx});
        CHECK(layer.values == layer_field());
        h5::Handle dataset = open_object(root, "/static/layer");
        CHECK(read_string_attribute(dataset.get(), "units") == "1");
    }

    SECTION("snapshots") {
        const DoubleArray times = read_doubles(root, "/snapshots/time_s");
        CHECK(times.values == std::vector<double>{0.0, 90.0});
        h5::Handle second = open_object(root, "/snapshots/000001");
        CHECK(read_double(second.get(), "time_s") == 90.0);

        const DoubleArray free0 = read_doubles(root, "/snapshots/000000/free");
        CHECK(free0.dimensions == std::vector<hsize_t>{kNz, kNy, kNx});
        CHECK(free0.values == gaussian_blob(1.0)); // lossless: exact
        CHECK(read_doubles(root, "/snapshots/000001/bound").values == gaussian_blob(0.75));

        h5::Handle dataset = open_object(root, "/snapshots/000001/free");
        CHECK(read_string_attribute(dataset.get(), "units") == "particles/um^3");
        h5::Handle properties(H5Dget_create_plist(dataset.get()), H5Pclose);
        CHECK(H5Pget_layout(properties.get()) == H5D_CHUNKED);
        CHECK(has_filter(dataset.get(), H5Z_FILTER_DEFLATE));
        CHECK(has_filter(dataset.get(), H5Z_FILTER_SHUFFLE));
        CHECK_FALSE(object_exists(root, "/snapshots/000002"));
    }

    SECTION("series") {
        CHECK(read_doubles(root, "/dose/time_s").values == std::vector<double>{0, 30, 60, 90});
        CHECK(read_doubles(root, "/dose/free").values == std::vector<double>{100, 90, 70, 50});
        CHECK(read_doubles(root, "/dose/bound").values == std::vector<double>{0, 10, 30, 50});
        h5::Handle free = open_object(root, "/dose/free");
        CHECK(read_string_attribute(free.get(), "units") == "particles");
        h5::Handle dose = open_object(root, "/dose");
        CHECK(read_string_attribute(dose.get(), "columns") == "time_s free bound");
    }

    SECTION("summary") {
        h5::Handle summary = open_object(root, "/summary");
        CHECK(read_double(summary.get(), "depth90_um") == 42.5);
        CHECK(read_string_attribute(summary.get(), "depth90_um_units") == "um");
        CHECK(read_double(summary.get(), "balance_error_rel") == 1e-12);
        CHECK(read_string_attribute(summary.get(), "balance_error_rel_units") == "1");
    }

    SECTION("the XDMF index points at datasets that exist") {
        const std::string xmf = read_text(folder.path() / "run.xmf");
        CHECK(xmf.find("CollectionType=\"Temporal\"") != std::string::npos);
        CHECK(xmf.find("TopologyType=\"3DCoRectMesh\" Dimensions=\"6 7 9\"") != std::string::npos);
        CHECK(xmf.find(">5 12 10</DataItem>") != std::string::npos); // spacing dz dy dx
        CHECK(xmf.find("<Time Value=\"90\"/>") != std::string::npos);

        const std::regex reference(R"(>([^<>:]+):(/[^<]+)</DataItem>)");
        std::set<std::string> objects;
        for (auto match = std::sregex_iterator(xmf.begin(), xmf.end(), reference); match != std::sregex_iterator();
             ++match) {
            CHECK((*match)[1] == "run.h5"); // relative: the pair can be moved together
            objects.insert((*match)[2]);
            INFO("XDMF references " << (*match)[2]);
            CHECK(object_exists(root, (*match)[2]));
        }
        // 2 snapshots x (free, bound, layer), layer shared.
        CHECK(objects == std::set<std::string>{"/snapshots/000000/free", "/snapshots/000000/bound",
                                               "/snapshots/000001/free", "/snapshots/000001/bound", "/static/layer"});
        CHECK(std::distance(std::sregex_iterator(xmf.begin(), xmf.end(), reference), std::sregex_iterator()) == 6);
    }
}

TEST_CASE("Recorder refuses to overwrite an existing output without overwrite", "[io]") {
    TempDir folder;
    const fs::path output = folder.path() / "kept.h5";
    const std::string precious = "not an HDF5 file, but somebody's result\n";
    std::ofstream(output, std::ios::binary) << precious;

    try {
        Recorder recorder(output, false, test_info(), test_grid());
        FAIL("expected OutputError");
    } catch (const OutputError& error) {
        const std::string message = error.what();
        CHECK(message.find(output.string()) != std::string::npos);
        CHECK(message.find("exists; use --force to overwrite") != std::string::npos);
    }
    CHECK(read_text(output) == precious); // byte-identical
    CHECK_FALSE(fs::exists(folder.path() / "kept.h5.part"));

    SECTION("with overwrite the old file stays until finish() replaces it") {
        Recorder recorder(output, true, test_info(), test_grid());
        record_synthetic_run(recorder);
        CHECK(read_text(output) == precious);
        recorder.finish();
        h5::Handle file = open_file(output);
        CHECK(read_int(file.get(), "complete") == 1);
    }
}

TEST_CASE("Recorder reports an unusable output folder as OutputError", "[io]") {
    TempDir folder;
    SECTION("missing folder") {
        const fs::path output = folder.path() / "no_such_folder" / "run.h5";
        CHECK_THROWS_WITH(Recorder(output, false, test_info(), test_grid()),
                          Catch::Contains("no_such_folder") && Catch::Contains("does not exist"));
    }
    SECTION("parent is a file") {
        std::ofstream(folder.path() / "plain_file") << "x";
        const fs::path output = folder.path() / "plain_file" / "run.h5";
        CHECK_THROWS_AS(Recorder(output, false, test_info(), test_grid()), OutputError);
    }
    SECTION("folder that cannot be written, even by root") {
        // /proc refuses new files for every user; a chmod-ed folder would not stop root.
        CHECK_THROWS_WITH(Recorder("/proc/exoderm_test_run.h5", false, test_info(), test_grid()),
                          Catch::Contains("'/proc'") && Catch::Contains("not writable"));
    }
    SECTION("read-only folder (non-root users only)") {
        if (::geteuid() == 0) return; // root writes regardless of permissions
        const fs::path locked = folder.path() / "locked";
        fs::create_directory(locked);
        fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
        CHECK_THROWS_WITH(Recorder(locked / "run.h5", false, test_info(), test_grid()),
                          Catch::Contains("not writable"));
        fs::permissions(locked, fs::perms::owner_all);
    }
}

TEST_CASE("Recorder destroyed without finish leaves an incomplete .part file", "[io]") {
    TempDir folder;
    const fs::path output = folder.path() / "aborted.h5";
    {
        Recorder recorder(output, false, test_info(), test_grid());
        const std::vector<double> blob = gaussian_blob(1.0);
        recorder.declare_series("dose", {{"time_s", "s"}, {"free", "particles"}, {"bound", "particles"}});
        recorder.write_snapshot(0.0, {{"free", "particles/um^3", blob}});
        recorder.append_series("dose", std::vector<double>{1.0, 2.0, 3.0}); // buffered, written by the destructor
    }
    CHECK_FALSE(fs::exists(output));
    CHECK_FALSE(fs::exists(folder.path() / "aborted.xmf"));
    REQUIRE(fs::exists(folder.path() / "aborted.h5.part"));

    h5::Handle file = open_file(folder.path() / "aborted.h5.part");
    CHECK(read_int(file.get(), "complete") == 0);
    CHECK(read_doubles(file.get(), "/snapshots/000000/free").values == gaussian_blob(1.0));
    CHECK(read_doubles(file.get(), "/dose/bound").values == std::vector<double>{3.0});
}

TEST_CASE("A killed run keeps its completed snapshots", "[io]") {
    TempDir folder;
    const fs::path output = folder.path() / "killed.h5";
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // Child: record two snapshots, then die without any cleanup, like kill -9 or an OOM kill.
        try {
            Recorder recorder(output, false, test_info(), test_grid());
            recorder.write_snapshot(0.0, {{"free", "particles/um^3", gaussian_blob(1.0)}});
            recorder.write_snapshot(60.0, {{"free", "particles/um^3", gaussian_blob(2.0)}});
            ::raise(SIGKILL);
        } catch (...) {
        }
        ::_exit(3);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);

    REQUIRE(fs::exists(folder.path() / "killed.h5.part"));
    h5::Handle file = open_file(folder.path() / "killed.h5.part");
    CHECK(read_int(file.get(), "complete") == 0);
    CHECK(read_doubles(file.get(), "/snapshots/time_s").values == std::vector<double>{0.0, 60.0});
    CHECK(read_doubles(file.get(), "/snapshots/000001/free").values == gaussian_blob(2.0));
}

namespace {

constexpr int kCannotMount = 77;

// In a forked child: a private mount namespace with a 256 KiB tmpfs over `folder`, visible to
// this process only. Root needs only the mount namespace; other users get one through a user
// namespace. Returns false where neither is allowed (e.g. some containers).
bool mount_tiny_tmpfs(const fs::path& folder) {
    if (::unshare(CLONE_NEWNS) != 0) {
        const uid_t uid = ::getuid();
        const gid_t gid = ::getgid();
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return false;
        std::ofstream("/proc/self/setgroups") << "deny";
        std::ofstream("/proc/self/uid_map") << "0 " << uid << " 1";
        std::ofstream("/proc/self/gid_map") << "0 " << gid << " 1";
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
    return ::mount("tmpfs", folder.c_str(), "tmpfs", 0, "size=256k") == 0;
}

} // namespace

TEST_CASE("A full disk becomes an OutputError, and the process still exits cleanly", "[io]") {
    // HDF5 1.10 crashes at exit after a close that failed to write (see detach_from_disk in
    // io/recorder.cpp), so the run happens in a child that shuts HDF5 down and exits normally.
    TempDir folder;
    const fs::path disk = folder.path() / "disk";
    const fs::path report = folder.path() / "report.txt";
    fs::create_directory(disk);

    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (!mount_tiny_tmpfs(disk)) ::_exit(kCannotMount);
        std::ofstream out(report);
        try {
            const GridInfo grid{64, 64, 16, 1.0, 1.0, 1.0}; // 512 KiB per field: more than the disk
            std::vector<double> noise(64 * 64 * 16);
            std::mt19937_64 random(7);
            for (double& value : noise) value = std::uniform_real_distribution<double>(0.0, 1.0)(random);
            auto recorder = std::make_unique<Recorder>(disk / "full.h5", false, test_info(), grid);
            recorder->set_compression(0);
            // Fill what is left, so even the metadata written when closing finds no space.
            {
                std::ofstream filler(disk / "filler", std::ios::binary);
                const std::vector<char> block(4096, 'x');
                while (filler.write(block.data(), block.size()) && filler.flush()) {
                }
            }
            try {
                recorder->write_snapshot(0.0, {{"free", "particles/um^3", noise}});
                out << "no error\n";
            } catch (const OutputError& error) {
                out << "error: " << error.what() << "\n";
            }
            try {
                recorder->finish();
                out << "finish: succeeded\n";
            } catch (const OutputError& error) {
                out << "finish: refused\n";
            }
            recorder.reset();
            out << "part kept: " << fs::exists(disk / "full.h5.part") << "\n";
            out << "final absent: " << !fs::exists(disk / "full.h5") << "\n";
        } catch (const std::exception& error) {
            out << "unexpected: " << error.what() << "\n";
        }
        out.close();
        H5close(); // what exit() would do; it crashed here before the fix
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    if (WIFEXITED(status) && WEXITSTATUS(status) == kCannotMount) {
        WARN("not run: cannot mount a small tmpfs here (needs root or user namespaces)");
        return;
    }
    const std::string text = read_text(report);
    INFO("child report:\n" << text);
    CHECK(WIFEXITED(status)); // not killed by SIGSEGV in HDF5's shutdown
    CHECK(text.find("error: cannot write snapshot field '/snapshots/000000/free'") != std::string::npos);
    CHECK(text.find("full.h5.part") != std::string::npos);
    CHECK(text.find("No space left on device") != std::string::npos); // HDF5's reason is passed on
    CHECK(text.find("finish: refused") != std::string::npos); // a damaged file is never marked complete
    CHECK(text.find("part kept: 1") != std::string::npos);
    CHECK(text.find("final absent: 1") != std::string::npos);
}

TEST_CASE("Recorder rejects malformed calls with std::invalid_argument", "[io]") {
    TempDir folder;
    Recorder recorder(folder.path() / "bad.h5", false, test_info(), test_grid());
    const std::vector<double> short_field(7, 0.0);
    CHECK_THROWS_AS(recorder.write_static_field({"layer", "1", short_field}), std::invalid_argument);
    CHECK_THROWS_AS(recorder.write_snapshot(0.0, {{"a/b", "1", gaussian_blob(1.0)}}), std::invalid_argument);
    CHECK_THROWS_AS(recorder.set_compression(10), std::invalid_argument);
    CHECK_THROWS_AS(recorder.append_series("dose", std::vector<double>{1.0}), std::invalid_argument);
    CHECK_THROWS_AS(recorder.declare_series("snapshots", {{"t", "s"}}), std::invalid_argument);
    recorder.declare_series("dose", {{"time_s", "s"}, {"free", "particles"}, {"bound", "particles"}});
    CHECK_THROWS_AS(recorder.declare_series("dose", {{"t", "s"}}), std::invalid_argument);
    CHECK_THROWS_AS(recorder.append_series("dose", std::vector<double>{1.0, 2.0}), std::invalid_argument);
    CHECK_THROWS_AS(recorder.append_series("dose", std::vector<double>{1.0, 2.0, 3.0, 4.0}), std::invalid_argument);
    recorder.append_series("dose", std::vector<double>{1.0, 2.0, 3.0});
    recorder.finish();
    CHECK_THROWS_AS(recorder.append_series("dose", std::vector<double>{1.0, 2.0, 3.0}), std::logic_error);
}

TEST_CASE("Recorder writes point sets beside the fields, with an XDMF Polyvertex grid", "[io][particles]") {
    TempDir folder;
    const fs::path output = folder.path() / "points.h5";
    const std::vector<double> xyz{10.0, 20.0, 5.0, 30.5, 40.0, 12.5, 70.0, 60.0, 22.0};
    const std::vector<double> diameter{90.0, 110.0, 130.0}, state{0.0, 1.0, 0.0};
    {
        Recorder recorder(output, false, test_info(), test_grid());
        recorder.write_static_field({"layer", "1", layer_field()});
        // No points yet at t = 0 (an empty set), three at t = 60 s.
        recorder.write_snapshot(0.0, {{"free", "particles/um^3", gaussian_blob(1.0)}},
                                PointSet{{}, {{"diameter_nm", "nm", {}}, {"state", "1", {}}}});
        recorder.write_snapshot(60.0, {{"free", "particles/um^3", gaussian_blob(0.5)}},
                                PointSet{xyz, {{"diameter_nm", "nm", diameter}, {"state", "1", state}}});
        recorder.finish();
    }
    h5::Handle file = open_file(output);
    const hid_t root = file.get();

    SECTION("HDF5 layout") {
        const DoubleArray empty = read_doubles(root, "/particles/000000/xyz");
        CHECK(empty.dimensions == std::vector<hsize_t>{0, 3});
        const DoubleArray points = read_doubles(root, "/particles/000001/xyz");
        CHECK(points.dimensions == std::vector<hsize_t>{3, 3});
        CHECK(points.values == xyz);
        CHECK(read_doubles(root, "/particles/000001/diameter_nm").values == diameter);
        CHECK(read_doubles(root, "/particles/000001/state").values == state);
        h5::Handle group = open_object(root, "/particles/000001");
        CHECK(read_double(group.get(), "time_s") == 60.0);
        CHECK(read_attribute<std::uint64_t>(group.get(), "count", H5T_NATIVE_UINT64) == 3);
        h5::Handle dataset = open_object(root, "/particles/000001/xyz");
        CHECK(read_string_attribute(dataset.get(), "units") == "um");
        h5::Handle diameters = open_object(root, "/particles/000001/diameter_nm");
        CHECK(read_string_attribute(diameters.get(), "units") == "nm");
    }

    SECTION("XDMF: a temporal collection of point grids beside the field grids") {
        const std::string xmf = read_text(folder.path() / "points.xmf");
        CHECK(xmf.find("<Grid Name=\"particles\" GridType=\"Collection\" CollectionType=\"Temporal\">") !=
              std::string::npos);
        CHECK(xmf.find("TopologyType=\"Polyvertex\" NumberOfElements=\"3\" NodesPerElement=\"1\"") != std::string::npos);
        CHECK(xmf.find("<Geometry GeometryType=\"XYZ\">") != std::string::npos);
        CHECK(xmf.find("Dimensions=\"3 3\"") != std::string::npos);
        CHECK(xmf.find("<Attribute Name=\"diameter_nm\" AttributeType=\"Scalar\" Center=\"Node\">") != std::string::npos);
        // The empty set at t = 0 is left out (readers do not take a grid of zero points).
        CHECK(xmf.find("NumberOfElements=\"0\"") == std::string::npos);
        const std::regex reference(R"(>([^<>:]+):(/[^<]+)</DataItem>)");
        std::set<std::string> objects;
        for (auto match = std::sregex_iterator(xmf.begin(), xmf.end(), reference); match != std::sregex_iterator();
             ++match) {
            CHECK((*match)[1] == "points.h5");
            INFO("XDMF references " << (*match)[2]);
            CHECK(object_exists(root, (*match)[2]));
            objects.insert((*match)[2]);
        }
        CHECK(objects.count("/particles/000001/xyz") == 1);
        CHECK(objects.count("/particles/000001/state") == 1);
        CHECK(objects.count("/particles/000000/xyz") == 0);
    }
}

TEST_CASE("Recorder rejects malformed point sets with std::invalid_argument", "[io][particles]") {
    TempDir folder;
    Recorder recorder(folder.path() / "bad_points.h5", false, test_info(), test_grid());
    const std::vector<double> field = gaussian_blob(1.0);
    const std::vector<double> four{1.0, 2.0, 3.0, 4.0}, one{1.0}, xyz{1.0, 2.0, 3.0};
    CHECK_THROWS_AS(recorder.write_snapshot(0.0, {{"free", "1", field}}, PointSet{four, {}}), std::invalid_argument);
    CHECK_THROWS_AS(recorder.write_snapshot(0.0, {{"free", "1", field}}, PointSet{xyz, {{"d", "nm", four}}}),
                    std::invalid_argument);
    CHECK_THROWS_AS(recorder.write_snapshot(0.0, {{"free", "1", field}}, PointSet{xyz, {{"xyz", "um", one}}}),
                    std::invalid_argument);
    CHECK_THROWS_AS(recorder.write_snapshot(0.0, {{"free", "1", field}}, PointSet{xyz, {{"a/b", "1", one}}}),
                    std::invalid_argument);
    CHECK_THROWS_AS(recorder.declare_series("particles", {{"t", "s"}}), std::invalid_argument);
}

// ---- named point sets and declared grids --------------------------------------------------------

namespace {

// A coarse grid over the lower part of the test box (z from 10 to 25 um), like the dermal
// "responses" grid of a run with cells.
constexpr double kResponsesOriginZUm = 10.0;
GridInfo responses_grid() { return GridInfo{4, 3, 2, 20.0, 24.0, 7.5}; }

std::vector<double> ramp(std::size_t count, double start, double step) {
    std::vector<double> values(count);
    for (std::size_t i = 0; i < count; ++i) values[i] = start + step * static_cast<double>(i);
    return values;
}

std::size_t link_count(hid_t file, const std::string& group_path) {
    h5::Handle group = open_object(file, group_path);
    H5G_info_t info{};
    REQUIRE(H5Gget_info(group.get(), &info) >= 0);
    return static_cast<std::size_t>(info.nlinks);
}

// Every "file:/object" reference of an XDMF text, each checked to exist in `file`.
std::set<std::string> xdmf_references(const std::string& xmf, hid_t file, const std::string& file_name) {
    const std::regex reference(R"(>([^<>:]+):(/[^<]+)</DataItem>)");
    std::set<std::string> objects;
    for (auto match = std::sregex_iterator(xmf.begin(), xmf.end(), reference); match != std::sregex_iterator();
         ++match) {
        CHECK((*match)[1] == file_name);
        INFO("XDMF references " << (*match)[2]);
        CHECK(object_exists(file, (*match)[2]));
        objects.insert((*match)[2]);
    }
    return objects;
}

} // namespace

TEST_CASE("Recorder writes named point sets and a declared grid beside the main grid", "[io][particles]") {
    TempDir folder;
    const fs::path output = folder.path() / "cells.h5";
    const std::size_t sub_cells = 4 * 3 * 2;
    const std::vector<double> tnf0 = ramp(sub_cells, 0.0, 1.0), tnf1 = ramp(sub_cells, 100.0, 0.5);
    const std::vector<double> il10 = ramp(sub_cells, 7.0, -0.25);
    const std::vector<double> cells0_xyz{10.0, 20.0, 5.0, 30.0, 40.0, 12.5, 70.0, 60.0, 20.0};
    const std::vector<double> type0{0.0, 1.0, 2.0}, state0{0.0, 0.0, 1.0}, internalised0{0.0, 2.5, 10.0};
    const std::vector<double> cells1_xyz{11.0, 21.0, 6.0, 31.0, 41.0, 13.5};
    const std::vector<double> type1{0.0, 1.0}, state1{1.0, 1.0}, internalised1{3.0, 12.0};
    const std::vector<double> particle_xyz{40.0, 36.0, 2.5}, diameter{120.0};
    {
        Recorder recorder(output, false, test_info(), test_grid());
        recorder.write_static_field({"layer", "1", layer_field()});
        recorder.declare_series("cell_counts", {{"time_s", "s"}, {"count", "cells"}});
        recorder.declare_grid("responses", responses_grid(), kResponsesOriginZUm);

        Snapshot first;
        first.time_s = 0.0;
        const std::vector<double> free = gaussian_blob(1.0); // FieldView only views the values
        first.fields = {{"free", "particles/um^3", free}};
        first.point_sets = {{"particles", PointSet{particle_xyz, {{"diameter_nm", "nm", diameter}}}},
                            {"cells", PointSet{cells0_xyz,
                                               {{"type", "1", type0},
                                                {"state", "1", state0},
                                                {"internalised", "particles", internalised0}}}}};
        first.grid_fields = {{"responses", {{"tnf_alpha", "ng/mL", tnf0}, {"il10", "ng/mL", il10}}}};
        recorder.write_snapshot(first);
        recorder.append_series("cell_counts", std::vector<double>{0.0, 3.0});

        // No fields on the main grid this time, and no particles (an empty set).
        Snapshot second;
        second.time_s = 3600.0;
        second.point_sets = {{"cells", PointSet{cells1_xyz,
                                                {{"type", "1", type1},
                                                 {"state", "1", state1},
                                                 {"internalised", "particles", internalised1}}}},
                             {"particles", PointSet{{}, {{"diameter_nm", "nm", {}}}}}};
        second.grid_fields = {{"responses", {{"tnf_alpha", "ng/mL", tnf1}}}};
        recorder.write_snapshot(second);
        recorder.finish();
    }
    REQUIRE(fs::exists(output));
    CHECK_FALSE(fs::exists(folder.path() / "cells.h5.part"));
    REQUIRE(fs::exists(folder.path() / "cells.xmf"));
    h5::Handle file = open_file(output);
    const hid_t root = file.get();
    CHECK(read_int(root, "complete") == 1);

    SECTION("main snapshots: the one without fields still has its group and time") {
        CHECK(read_doubles(root, "/snapshots/time_s").values == std::vector<double>{0.0, 3600.0});
        CHECK(read_doubles(root, "/snapshots/000000/free").values == gaussian_blob(1.0));
        h5::Handle second = open_object(root, "/snapshots/000001");
        CHECK(read_double(second.get(), "time_s") == 3600.0);
        CHECK(link_count(root, "/snapshots/000001") == 0);
        CHECK(read_doubles(root, "/cell_counts/count").values == std::vector<double>{3.0});
    }

    SECTION("two named point sets in the same snapshot") {
        const DoubleArray xyz = read_doubles(root, "/cells/000000/xyz");
        CHECK(xyz.dimensions == std::vector<hsize_t>{3, 3});
        CHECK(xyz.values == cells0_xyz);
        CHECK(read_doubles(root, "/cells/000000/type").values == type0);
        CHECK(read_doubles(root, "/cells/000000/state").values == state0);
        CHECK(read_doubles(root, "/cells/000000/internalised").values == internalised0);
        h5::Handle cells0 = open_object(root, "/cells/000000");
        CHECK(read_double(cells0.get(), "time_s") == 0.0);
        CHECK(read_attribute<std::uint64_t>(cells0.get(), "count", H5T_NATIVE_UINT64) == 3);
        h5::Handle internalised = open_object(root, "/cells/000000/internalised");
        CHECK(read_string_attribute(internalised.get(), "units") == "particles");

        const DoubleArray xyz1 = read_doubles(root, "/cells/000001/xyz");
        CHECK(xyz1.dimensions == std::vector<hsize_t>{2, 3});
        CHECK(xyz1.values == cells1_xyz);
        CHECK(read_doubles(root, "/cells/000001/internalised").values == internalised1);
        h5::Handle cells1 = open_object(root, "/cells/000001");
        CHECK(read_double(cells1.get(), "time_s") == 3600.0);
        CHECK(read_attribute<std::uint64_t>(cells1.get(), "count", H5T_NATIVE_UINT64) == 2);

        CHECK(read_doubles(root, "/particles/000000/xyz").values == particle_xyz);
        CHECK(read_doubles(root, "/particles/000000/diameter_nm").values == diameter);
    }

    SECTION("an empty point set is written as 0 rows") {
        CHECK(read_doubles(root, "/particles/000001/xyz").dimensions == std::vector<hsize_t>{0, 3});
        CHECK(read_doubles(root, "/particles/000001/diameter_nm").dimensions == std::vector<hsize_t>{0});
        h5::Handle group = open_object(root, "/particles/000001");
        CHECK(read_attribute<std::uint64_t>(group.get(), "count", H5T_NATIVE_UINT64) == 0);
    }

    SECTION("the declared grid: attributes and the fields of two snapshots") {
        h5::Handle grid = open_object(root, "/grids/responses");
        CHECK(read_int(grid.get(), "nx") == 4);
        CHECK(read_int(grid.get(), "ny") == 3);
        CHECK(read_int(grid.get(), "nz") == 2);
        CHECK(read_double(grid.get(), "dx_um") == 20.0);
        CHECK(read_double(grid.get(), "dy_um") == 24.0);
        CHECK(read_double(grid.get(), "dz_um") == 7.5);
        CHECK(read_double(grid.get(), "origin_x_um") == 0.0);
        CHECK(read_double(grid.get(), "origin_y_um") == 0.0);
        CHECK(read_double(grid.get(), "origin_z_um") == kResponsesOriginZUm);
        CHECK(read_string_attribute(grid.get(), "index_order") == "[z][y][x]");
        CHECK(read_doubles(root, "/grids/responses/x_um").values == std::vector<double>{10.0, 30.0, 50.0, 70.0});
        CHECK(read_doubles(root, "/grids/responses/z_um").values == std::vector<double>{13.75, 21.25});

        const DoubleArray tnf = read_doubles(root, "/grids/responses/000000/tnf_alpha");
        CHECK(tnf.dimensions == std::vector<hsize_t>{2, 3, 4});
        CHECK(tnf.values == tnf0);
        CHECK(read_doubles(root, "/grids/responses/000000/il10").values == il10);
        CHECK(read_doubles(root, "/grids/responses/000001/tnf_alpha").values == tnf1);
        CHECK_FALSE(object_exists(root, "/grids/responses/000001/il10"));
        h5::Handle second = open_object(root, "/grids/responses/000001");
        CHECK(read_double(second.get(), "time_s") == 3600.0);

        h5::Handle dataset = open_object(root, "/grids/responses/000001/tnf_alpha");
        CHECK(read_string_attribute(dataset.get(), "units") == "ng/mL");
        h5::Handle properties(H5Dget_create_plist(dataset.get()), H5Pclose);
        CHECK(H5Pget_layout(properties.get()) == H5D_CHUNKED);
        CHECK(has_filter(dataset.get(), H5Z_FILTER_DEFLATE));
        CHECK(has_filter(dataset.get(), H5Z_FILTER_SHUFFLE));
    }

    SECTION("XDMF: one temporal collection per point set and per declared grid") {
        const std::string xmf = read_text(folder.path() / "cells.xmf");
        for (const char* name : {"snapshots", "particles", "cells", "responses"}) {
            INFO("collection " << name);
            CHECK(xmf.find(std::string("<Grid Name=\"") + name +
                           "\" GridType=\"Collection\" CollectionType=\"Temporal\">") != std::string::npos);
        }
        CHECK(xmf.find("<Grid Name=\"snapshots\"") < xmf.find("<Grid Name=\"particles\""));
        // Main grid: unchanged, at the origin.
        CHECK(xmf.find("TopologyType=\"3DCoRectMesh\" Dimensions=\"6 7 9\"") != std::string::npos);
        CHECK(xmf.find("Format=\"XML\">0 0 0</DataItem>") != std::string::npos);
        CHECK(xmf.find(">5 12 10</DataItem>") != std::string::npos);
        // Declared grid: node dimensions nz+1 ny+1 nx+1, origin and spacing in Z Y X order.
        CHECK(xmf.find("<Grid Name=\"responses_1\" GridType=\"Uniform\">") != std::string::npos);
        CHECK(xmf.find("TopologyType=\"3DCoRectMesh\" Dimensions=\"3 4 5\"") != std::string::npos);
        CHECK(xmf.find("Format=\"XML\">10 0 0</DataItem>") != std::string::npos);
        CHECK(xmf.find(">7.5 24 20</DataItem>") != std::string::npos);
        CHECK(xmf.find("<DataItem Dimensions=\"2 3 4\"") != std::string::npos);
        // Point grids named after their snapshot; the empty particle set is left out.
        CHECK(xmf.find("<Grid Name=\"cells_1\" GridType=\"Uniform\">") != std::string::npos);
        CHECK(xmf.find("NumberOfElements=\"2\" NodesPerElement=\"1\"") != std::string::npos);
        CHECK(xmf.find("<Grid Name=\"particles_0\"") != std::string::npos);
        CHECK(xmf.find("<Grid Name=\"particles_1\"") == std::string::npos);
        CHECK(xmf.find("NumberOfElements=\"0\"") == std::string::npos);

        const std::set<std::string> objects = xdmf_references(xmf, root, "cells.h5");
        CHECK(objects == std::set<std::string>{"/snapshots/000000/free",
                                               "/static/layer",
                                               "/particles/000000/xyz",
                                               "/particles/000000/diameter_nm",
                                               "/cells/000000/xyz",
                                               "/cells/000000/type",
                                               "/cells/000000/state",
                                               "/cells/000000/internalised",
                                               "/cells/000001/xyz",
                                               "/cells/000001/type",
                                               "/cells/000001/state",
                                               "/cells/000001/internalised",
                                               "/grids/responses/000000/tnf_alpha",
                                               "/grids/responses/000000/il10",
                                               "/grids/responses/000001/tnf_alpha"});
    }
}

TEST_CASE("Recorder rejects undeclared grids and reserved point-set names with std::invalid_argument",
          "[io][particles]") {
    TempDir folder;
    const fs::path output = folder.path() / "bad_sets.h5";
    Recorder recorder(output, false, test_info(), test_grid());
    const std::vector<double> field = gaussian_blob(1.0), sub(4 * 3 * 2, 1.0), xyz{1.0, 2.0, 3.0};
    auto with_points = [&](const std::string& name) {
        Snapshot snapshot;
        snapshot.point_sets = {{name, PointSet{xyz, {}}}};
        return snapshot;
    };
    auto with_grid = [&](const std::string& grid, std::span<const double> values) {
        Snapshot snapshot;
        snapshot.grid_fields = {{grid, {{"tnf_alpha", "ng/mL", values}}}};
        return snapshot;
    };

    CHECK_THROWS_WITH(recorder.write_snapshot(with_grid("responses", sub)),
                      Catch::Contains("grid 'responses' was not declared"));
    recorder.declare_series("dose", {{"time_s", "s"}});
    for (const char* reserved : {"grid", "grids", "scenario", "static", "snapshots", "snapshot", "summary"}) {
        INFO("point set " << reserved);
        CHECK_THROWS_WITH(recorder.write_snapshot(with_points(reserved)), Catch::Contains("reserved"));
    }
    CHECK_THROWS_WITH(recorder.write_snapshot(with_points("dose")), Catch::Contains("series group /dose"));
    CHECK_THROWS_AS(recorder.write_snapshot(with_points("a/b")), std::invalid_argument);
    CHECK_THROWS_AS(recorder.write_snapshot(with_points("")), std::invalid_argument);
    {
        Snapshot twice = with_points("cells");
        twice.point_sets.push_back({"cells", PointSet{xyz, {}}});
        CHECK_THROWS_WITH(recorder.write_snapshot(twice), Catch::Contains("given twice"));
    }
    {
        Snapshot bad_attribute = with_points("cells");
        bad_attribute.point_sets[0].points.attributes = {{"type", "1", field}};
        CHECK_THROWS_WITH(recorder.write_snapshot(bad_attribute), Catch::Contains("point set 'cells'"));
    }

    CHECK_THROWS_AS(recorder.declare_grid("snapshots", responses_grid(), 0.0), std::invalid_argument);
    CHECK_THROWS_AS(recorder.declare_grid("a/b", responses_grid(), 0.0), std::invalid_argument);
    CHECK_THROWS_AS(recorder.declare_grid("responses", GridInfo{0, 3, 2, 20.0, 24.0, 7.5}, 0.0),
                    std::invalid_argument);
    CHECK_THROWS_AS(recorder.declare_grid("responses", responses_grid(), std::nan("")), std::invalid_argument);
    recorder.declare_grid("responses", responses_grid(), kResponsesOriginZUm);
    CHECK_THROWS_WITH(recorder.declare_grid("responses", responses_grid(), 0.0),
                      Catch::Contains("already declared"));
    // Fields of the declared grid have its size, not the main grid's.
    CHECK_THROWS_WITH(recorder.write_snapshot(with_grid("responses", field)),
                      Catch::Contains("tnf_alpha") && Catch::Contains("grid 'responses'"));
    CHECK_THROWS_WITH(recorder.write_snapshot(with_points("responses")), Catch::Contains("declared grid"));
    {
        Snapshot main_field_wrong_size;
        main_field_wrong_size.fields = {{"free", "1", sub}};
        CHECK_THROWS_AS(recorder.write_snapshot(main_field_wrong_size), std::invalid_argument);
    }

    // Nothing above was written; a valid snapshot is then number 000000.
    Snapshot good = with_points("cells");
    good.grid_fields = {{"responses", {{"tnf_alpha", "ng/mL", sub}}}};
    recorder.write_snapshot(good);
    // A point-set name in use cannot become a series group or a grid, nor the other way round.
    CHECK_THROWS_WITH(recorder.declare_series("cells", {{"time_s", "s"}}), Catch::Contains("point set /cells"));
    CHECK_THROWS_WITH(recorder.declare_grid("cells", responses_grid(), 0.0), Catch::Contains("point set"));
    recorder.finish();
    CHECK_THROWS_AS(recorder.declare_grid("late", responses_grid(), 0.0), std::logic_error);

    REQUIRE(fs::exists(output));
    CHECK_FALSE(fs::exists(folder.path() / "bad_sets.h5.part"));
    h5::Handle file = open_file(output);
    CHECK(read_int(file.get(), "complete") == 1);
    CHECK(read_doubles(file.get(), "/snapshots/time_s").values == std::vector<double>{0.0});
    CHECK(object_exists(file.get(), "/cells/000000/xyz"));
    CHECK(object_exists(file.get(), "/grids/responses/000000/tnf_alpha"));
    for (const char* absent :
         {"/cells/000001", "/grids/responses/000001", "/snapshots/000001", "/dose/000000", "/snapshot", "/responses"}) {
        INFO(absent);
        CHECK_FALSE(object_exists(file.get(), absent));
    }
}

namespace {

// Prints, for each XDMF collection and time, what ParaView's XDMFReader reads: the reader lists
// the grids of all collections by name ("cells_0", "responses_1", "snapshot_0", ...), so each
// collection is selected through the names of its grids.
constexpr const char* kParaViewProbe = R"(import sys
from paraview import simple as pv
reader = pv.XDMFReader(FileNames=[sys.argv[1]])
reader.UpdatePipelineInformation()
grids = [str(name) for name in list(reader.GetProperty("GridInfo") or [])[0::2]]
times = list(reader.TimestepValues)
for collection in sorted(set(name.rsplit("_", 1)[0] for name in grids)):
    reader.GridStatus = [name for name in grids if name.rsplit("_", 1)[0] == collection]
    reader.UpdatePipelineInformation()
    for t in times:
        reader.UpdatePipeline(t)
        data = reader.GetDataInformation()
        bounds = data.GetBounds()
        arrays = sorted(list(reader.CellData.keys()) + list(reader.PointData.keys()))
        print("grid %s t=%g points=%d cells=%d z=%g..%g arrays=%s" % (collection, t, data.GetNumberOfPoints(),
              data.GetNumberOfCells(), bounds[4], bounds[5], ",".join(arrays)))
print("probe done")
)";

std::string shell_quoted(const fs::path& path) {
    std::string text = "'";
    for (const char c : path.string()) text += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return text + "'";
}

int run_shell(const std::string& command) {
    const int status = std::system(command.c_str());
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace

TEST_CASE("Recorder output with cells and a declared grid reads in ParaView's XDMFReader", "[io][paraview]") {
    // Reading needs no display (only rendering does: see tests/test_paraview.cpp).
    if (run_shell("command -v pvbatch >/dev/null 2>&1") != 0) {
        FAIL("pvbatch is not installed: install paraview and python3-paraview "
             "(scripts/dev.sh deps --paraview, or apt-get install paraview python3-paraview)");
    }
    TempDir folder;
    const fs::path output = folder.path() / "cells_pv.h5";
    const std::vector<double> tnf0 = ramp(4 * 3 * 2, 0.0, 1.0), tnf1 = ramp(4 * 3 * 2, 5.0, 1.0);
    const std::vector<double> xyz0{10.0, 20.0, 5.0, 30.0, 40.0, 12.5, 70.0, 60.0, 20.0}, type0{0.0, 1.0, 2.0};
    const std::vector<double> xyz1{11.0, 21.0, 6.0, 31.0, 41.0, 13.5}, type1{0.0, 1.0};
    {
        // A run with cells and responses but no 3D fields on the main grid (and no static ones).
        Recorder recorder(output, false, test_info(), test_grid());
        recorder.declare_grid("responses", responses_grid(), kResponsesOriginZUm);
        Snapshot snapshot;
        snapshot.point_sets = {{"cells", PointSet{xyz0, {{"type", "1", type0}, {"state", "1", type0}}}},
                               {"particles", PointSet{}}};
        snapshot.grid_fields = {{"responses", {{"tnf_alpha", "ng/mL", tnf0}}}};
        recorder.write_snapshot(snapshot);
        snapshot.time_s = 3600.0;
        snapshot.point_sets = {{"cells", PointSet{xyz1, {{"type", "1", type1}, {"state", "1", type1}}}},
                               {"particles", PointSet{}}};
        snapshot.grid_fields = {{"responses", {{"tnf_alpha", "ng/mL", tnf1}}}};
        recorder.write_snapshot(snapshot);
        recorder.finish();
    }
    const fs::path script = folder.path() / "probe.py";
    std::ofstream(script) << kParaViewProbe;
    const fs::path log = folder.path() / "probe.log";
    int code = -1;
    for (int attempt = 1; attempt <= 2 && code != 0; ++attempt) { // pvbatch aborts rarely: retry once
        code = run_shell("env -u DISPLAY pvbatch " + shell_quoted(script) + " " +
                         shell_quoted(folder.path() / "cells_pv.xmf") + " > " + shell_quoted(log) + " 2>&1");
    }
    const std::string text = read_text(log);
    INFO("pvbatch output:\n" << text);
    REQUIRE(code == 0);
    REQUIRE(text.find("probe done") != std::string::npos);
    // Main grid 8 x 6 x 5 cells (9 x 7 x 6 nodes) from z = 0 to 25 um, no arrays.
    CHECK(text.find("grid snapshot t=0 points=378 cells=240 z=0..25 arrays=\n") != std::string::npos);
    CHECK(text.find("grid snapshot t=3600 points=378 cells=240 z=0..25 arrays=\n") != std::string::npos);
    // Cells: one vertex per point, at the written depths.
    CHECK(text.find("grid cells t=0 points=3 cells=3 z=5..20 arrays=state,type\n") != std::string::npos);
    CHECK(text.find("grid cells t=3600 points=2 cells=2 z=6..13.5 arrays=state,type\n") != std::string::npos);
    // Responses: 4 x 3 x 2 cells (5 x 4 x 3 nodes) from z = 10 to 25 um, below the surface.
    CHECK(text.find("grid responses t=0 points=60 cells=24 z=10..25 arrays=tnf_alpha\n") != std::string::npos);
    CHECK(text.find("grid responses t=3600 points=60 cells=24 z=10..25 arrays=tnf_alpha\n") != std::string::npos);
    // Always-empty particles: no collection at all.
    CHECK(text.find("grid particles") == std::string::npos);
}
