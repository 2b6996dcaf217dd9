// Crash-safe output, checkpoints and `exoderm run --resume` (docs/output-format.md,
// "Checkpoint and resume"): the real binary is killed with SIGKILL at a known output (the test
// hook EXODERM_TEST_KILL_AFTER_SNAPSHOT), its .part is read back with the HDF5 C API, and a
// resumed run must end with a file whose every dataset is byte for byte that of an
// uninterrupted run.
#include "command_line.hpp"
#include "hdf5_compare.hpp"
#include "temp_dir.hpp"
#include "test_size.hpp"

#include <catch2/catch.hpp>

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

using namespace exoderm::testing;
namespace fs = std::filesystem;

namespace {

const std::string kScenario = std::string(EXODERM_SOURCE_DIR) + "/scenarios/default.toml";

// Attributes that record when and how a file was written, not what the run computed.
const std::set<std::string> kTimingAttributes{"created", "resumed", "command_line", "/summary@wall_time_s"};

// A short transport-only run with four outputs, checkpointed at every one.
std::string continuum_args() {
    return " --set cells.enabled=false --set domain.dx='\"30 um\"' --set time.end='\"10 min\"'"
           " --set time.outputs='[\"0 min\", \"2 min\", \"5 min\", \"10 min\"]'"
           " --set output.checkpoint_interval='\"0 min\"'";
}

std::string particle_args() { return continuum_args() + " --set transport.mode=particles --set particles.budget=20000"; }

// Cells, responses and the vehicle control over half a day: three outputs per phase.
std::string cells_args() {
    return " --set domain.dx='\"30 um\"' --set time.end='\"12 h\"' --set time.outputs='[\"0 h\", \"6 h\", \"12 h\"]'"
           " --set time.fine_until='\"20 min\"' --set time.dt_max='\"20 min\"'"
           " --set output.checkpoint_interval='\"0 min\"'";
}

Outcome run_killed_after(const fs::path& dir, int snapshot, const std::string& args, const std::string& extra = "",
                         const std::string& scenario = kScenario) {
    return shell(dir, "EXODERM_TEST_KILL_AFTER_SNAPSHOT=" + std::to_string(snapshot) + " '" +
                          std::string(EXODERM_BINARY) + "' run '" + scenario + "' -o out.h5 -q" + args + extra);
}

int root_int_attribute(hid_t file, const char* name) {
    exoderm::h5::Handle attribute(H5Aopen(file, name, H5P_DEFAULT), H5Aclose);
    int value = -1;
    H5Aread(attribute.get(), H5T_NATIVE_INT, &value);
    return value;
}

// For each of `kill_points`: kills a run after that output, resumes it (with `resume_extra`
// options) and checks the result against an uninterrupted run, dataset by dataset.
void check_resume_is_bitwise(const std::string& label, const std::string& args, std::vector<int> kill_points,
                             const std::string& first_extra = "", const std::string& resume_extra = "",
                             const std::string& scenario = kScenario) {
    TempDir dir("ckpt_" + label);
    const Outcome whole = run_exoderm(dir.path(), "run '" + scenario + "' -o whole.h5 -q" + args);
    REQUIRE(whole.exit_code == 0);
    for (const int kill_after : kill_points) {
    INFO("killed after output " << kill_after);
    const Outcome killed = run_killed_after(dir.path(), kill_after, args, first_extra, scenario);
    INFO(killed.err);
    REQUIRE(killed.exit_code != 0);
    REQUIRE(fs::exists(dir.path() / "out.h5.part"));
    REQUIRE(fs::exists(dir.path() / "out.ckpt.h5"));
    REQUIRE_FALSE(fs::exists(dir.path() / "out.h5"));

    const Outcome resumed =
        run_exoderm(dir.path(), "run '" + scenario + "' -o out.h5 -q --resume" + args + resume_extra);
    INFO(resumed.err);
    REQUIRE(resumed.exit_code == 0);
    REQUIRE(fs::exists(dir.path() / "out.h5"));
    CHECK_FALSE(fs::exists(dir.path() / "out.h5.part"));
    CHECK_FALSE(fs::exists(dir.path() / "out.ckpt.h5")); // a complete result needs no checkpoint

    const auto differences = compare_hdf5(dir.path() / "whole.h5", dir.path() / "out.h5", kTimingAttributes);
    for (const auto& d : differences) UNSCOPED_INFO(d);
    CHECK(differences.empty());
    // The comparison covered the snapshots and the series.
    exoderm::h5::Handle file(H5Fopen((dir.path() / "out.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    std::vector<std::string> datasets;
    list_datasets(file.get(), "", datasets);
    CHECK(std::count(datasets.begin(), datasets.end(), "/dose/time_s") == 1);
    CHECK(std::count(datasets.begin(), datasets.end(), "/snapshots/000002/free") == 1);
    CHECK(root_int_attribute(file.get(), "complete") == 1);
    file.close();
    fs::remove(dir.path() / "out.h5");
    fs::remove(dir.path() / "out.xmf");
    }
}

} // namespace

TEST_CASE("A run killed with SIGKILL leaves a .part that opens with every completed snapshot, marked incomplete",
          "[checkpoint][crash]") {
    TempDir dir("ckpt_kill");
    const Outcome killed = run_killed_after(dir.path(), 3, continuum_args());
    CHECK(killed.exit_code == 128 + 9); // the shell's report of SIGKILL
    const fs::path part = dir.path() / "out.h5.part";
    REQUIRE(fs::exists(part));
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    exoderm::h5::Handle file(H5Fopen(part.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    REQUIRE(file.valid());
    CHECK(root_int_attribute(file.get(), "complete") == 0);
    exoderm::h5::Handle times(H5Dopen2(file.get(), "/snapshots/time_s", H5P_DEFAULT), H5Dclose);
    REQUIRE(times.valid());
    exoderm::h5::Handle space(H5Dget_space(times.get()), H5Sclose);
    hsize_t snapshots = 0;
    H5Sget_simple_extent_dims(space.get(), &snapshots, nullptr);
    CHECK(snapshots == 3);
    std::vector<double> t(snapshots);
    REQUIRE(H5Dread(times.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data()) >= 0);
    CHECK(t == std::vector<double>{0.0, 120.0, 300.0});
    // Every dataset of every completed snapshot reads back whole, with finite values.
    for (hsize_t i = 0; i < snapshots; ++i) {
        char group[32];
        std::snprintf(group, sizeof group, "/snapshots/%06llu", static_cast<unsigned long long>(i));
        for (const char* field : {"free", "bound", "lumen_fraction"}) {
            exoderm::h5::Handle d(H5Dopen2(file.get(), (std::string(group) + "/" + field).c_str(), H5P_DEFAULT), H5Dclose);
            REQUIRE(d.valid());
            exoderm::h5::Handle s(H5Dget_space(d.get()), H5Sclose);
            std::vector<double> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(s.get())));
            REQUIRE(H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
            CHECK(std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); }));
        }
    }
    // The series hold the rows up to the last snapshot.
    exoderm::h5::Handle dose(H5Dopen2(file.get(), "/dose/time_s", H5P_DEFAULT), H5Dclose);
    REQUIRE(dose.valid());
    exoderm::h5::Handle dose_space(H5Dget_space(dose.get()), H5Sclose);
    CHECK(H5Sget_simple_extent_npoints(dose_space.get()) > 3);
}

TEST_CASE("Resuming a continuum run killed after snapshot 2 ends bitwise identical to an uninterrupted run",
          "[checkpoint][resume]") {
    check_resume_is_bitwise("continuum", continuum_args(), {2});
}

TEST_CASE("Resuming a particle-mode run ends bitwise identical to an uninterrupted run (Philox counters restored)",
          "[checkpoint][resume][particles]") {
    check_resume_is_bitwise("particles", particle_args(), {3});
}

TEST_CASE("Resuming a run with cells and responses killed in the run or in its vehicle control is bitwise",
          "[checkpoint][resume][cells]") {
    check_resume_is_bitwise("cells", cells_args(), {2, 5});
}

TEST_CASE("Resuming a closing scratch wound is bitwise: the re-epithelialisation front is part of the checkpoint",
          "[checkpoint][resume][wound][heavy]") {
    // (Sanitizer suite, tests/test_size.hpp: 100 um voxels, 5 across the scratch, and one kill.)
    const std::string dx = by_test_size<std::string>("50 um", "100 um");
    check_resume_is_bitwise("wound", cells_args() + " --set domain.dx='\"" + dx + "\"' --set output.fields=true",
                            by_test_size(std::vector<int>{2, 5}, std::vector<int>{2}), "", "",
                            std::string(EXODERM_SOURCE_DIR) + "/scenarios/wound/scratch_autologous_cream.toml");
}

TEST_CASE("A run killed on 2 threads and resumed on 1 is bitwise identical to an uninterrupted run",
          "[checkpoint][resume][threads]") {
    check_resume_is_bitwise("threads", continuum_args(), {2}, " --threads 2", " --threads 1");
}

TEST_CASE("Resuming when there is nothing to resume is a clear error, exit code 2", "[checkpoint][bad-input]") {
    TempDir dir("ckpt_nothing");
    const Outcome o = run_exoderm(dir.path(), "run '" + kScenario + "' -o out.h5 -q --resume" + continuum_args());
    CHECK(o.exit_code == 2);
    CHECK_THAT(o.err, Catch::Matchers::Contains("nothing to resume"));
    CHECK_FALSE(fs::exists(dir.path() / "out.h5"));
    CHECK_FALSE(fs::exists(dir.path() / "out.h5.part"));
}

TEST_CASE("Resuming a complete result says so and changes nothing", "[checkpoint][bad-input]") {
    TempDir dir("ckpt_complete");
    REQUIRE(run_exoderm(dir.path(), "run '" + kScenario + "' -o out.h5 -q" + continuum_args()).exit_code == 0);
    const std::string before = slurp(dir.path() / "out.h5");
    const Outcome o = run_exoderm(dir.path(), "run '" + kScenario + "' -o out.h5 -q --resume" + continuum_args());
    CHECK(o.exit_code == 2);
    CHECK_THAT(o.err, Catch::Matchers::Contains("is complete: nothing to resume"));
    CHECK(slurp(dir.path() / "out.h5") == before);
}

TEST_CASE("Resuming refuses a checkpoint written by another exoderm version or commit, naming both", "[checkpoint][bad-input]") {
    // A checkpoint holds the solver state as this build lays it out; another build may lay it
    // out or step it differently, so a resume that could not be bitwise is refused.
    TempDir dir("ckpt_version");
    REQUIRE(run_killed_after(dir.path(), 2, continuum_args()).exit_code != 0);
    const fs::path checkpoint = dir.path() / "out.ckpt.h5";
    REQUIRE(fs::exists(checkpoint));
    for (const char* attribute : {"exoderm_version", "git_commit"}) {
        INFO(attribute);
        {
            // Stand in for an older build: rewrite the attribute.
            H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
            exoderm::h5::Handle file(H5Fopen(checkpoint.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
            REQUIRE(file.valid());
            REQUIRE(H5Adelete(file.get(), attribute) >= 0);
            exoderm::h5::Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
            H5Tset_size(type.get(), H5T_VARIABLE);
            H5Tset_cset(type.get(), H5T_CSET_UTF8);
            exoderm::h5::Handle space(H5Screate(H5S_SCALAR), H5Sclose);
            exoderm::h5::Handle a(H5Acreate2(file.get(), attribute, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
            const char* older = "0.0.1-older";
            REQUIRE(H5Awrite(a.get(), type.get(), &older) >= 0);
        }
        const std::string part_before = slurp(dir.path() / "out.h5.part");
        const std::string checkpoint_before = slurp(checkpoint);
        const Outcome o = run_exoderm(dir.path(), "run '" + kScenario + "' -o out.h5 -q --resume" + continuum_args());
        CHECK(o.exit_code == 2);
        CHECK_THAT(o.err, Catch::Matchers::Contains("the checkpoint was written by exoderm") &&
                              Catch::Matchers::Contains("0.0.1-older"));
        CHECK(slurp(dir.path() / "out.h5.part") == part_before); // nothing was touched
        CHECK(slurp(checkpoint) == checkpoint_before);
        CHECK_FALSE(fs::exists(dir.path() / "out.h5"));
    }
}

TEST_CASE("Resuming refuses a checkpoint of another seed or scenario, naming what differs", "[checkpoint][bad-input]") {
    TempDir dir("ckpt_mismatch");
    REQUIRE(run_killed_after(dir.path(), 2, continuum_args()).exit_code != 0);
    const std::string part_before = slurp(dir.path() / "out.h5.part");
    const Outcome seed =
        run_exoderm(dir.path(), "run '" + kScenario + "' -o out.h5 -q --resume" + continuum_args() + " --set scenario.seed=7");
    CHECK(seed.exit_code == 2);
    CHECK_THAT(seed.err, Catch::Matchers::Contains("seed 1") && Catch::Matchers::Contains("seed 7"));
    const Outcome changed = run_exoderm(dir.path(), "run '" + kScenario + "' -o out.h5 -q --resume" + continuum_args() +
                                                        " --set skin.dermis.hindrance=0.2");
    CHECK(changed.exit_code == 2);
    CHECK_THAT(changed.err, Catch::Matchers::Contains("scenario differs") && Catch::Matchers::Contains("hindrance"));
    CHECK(slurp(dir.path() / "out.h5.part") == part_before); // nothing was touched
}
