// Faults met by the real binary, as on a shared machine or a batch system: a numerical fault, a
// stop signal, a full disk, an unwritable folder, a run too large for memory and bad input to
// every command. Each ends with one clear message, its exit code (app/exit_codes.hpp) and no
// earlier result lost (docs/RELIABILITY.md lists them).
#include "io/run_guard.hpp"
#include "io/sweep_table.hpp"
#include "model/errors.hpp"
#include "model/scenario_load.hpp"
#include "solvers/run_tracker.hpp"

#include "command_line.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace exoderm;
using testing::Outcome;
using testing::run_exoderm;
using testing::shell;
using testing::slurp;
using testing::write_file;
namespace fs = std::filesystem;

namespace {

const std::string kBinary = EXODERM_BINARY;
const fs::path kSource = EXODERM_SOURCE_DIR;

// A small scenario (a 316 um unit cell, 300 um dermis) that runs 3 h in about a second, with
// 3D fields at every output.
const std::string kQuick = R"(
[scenario]
name = "quick"
seed = 7
[skin.dermis]
thickness = "300 um"
[microneedles]
density = "1000 /cm^2"
base_width = "150 um"
needle_length = "300 um"
[domain]
dx = "15 um"
dz = "5 um"
[time]
end = "3 h"
outputs = ["0 h", "1 h", "2 h", "3 h"]
fine_until = "2 h"
dt_max = "10 min"
[responses]
dt = "3 h"
)";

std::size_t lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

// What a result file says about itself (read with h5py, as a user's script would).
std::map<std::string, std::string> probe(const fs::path& file) {
    const fs::path script = file.parent_path() / "probe.py";
    write_file(file.parent_path(), "probe.py", R"(import sys, h5py
f = h5py.File(sys.argv[1], "r")
s = f["snapshots"]
print("complete=%d" % int(f.attrs["complete"]))
print("stopped=%s" % f.attrs.get("stopped", "-"))
last = int(s.attrs["last_good"]) if "last_good" in s.attrs else -1
print("last_good=%d" % last)
print("times=%s" % " ".join("%g" % t for t in s["time_s"][:]))
print("last_has_fields=%d" % (last >= 0 and "free" in s["%06d" % last] and "bound" in s["%06d" % last]))
)");
    const Outcome o = shell(file.parent_path(), "/usr/bin/python3 probe.py '" + file.string() + "'");
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    std::map<std::string, std::string> values;
    std::istringstream in(o.out);
    for (std::string line; std::getline(in, line);) {
        const auto eq = line.find('=');
        if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return values;
}

std::vector<double> numbers(const std::string& text) {
    std::vector<double> out;
    std::istringstream in(text);
    for (double v; in >> v;) out.push_back(v);
    return out;
}

// The binary started in dir with stdout and stderr to out.txt and err.txt; `setup` runs in the
// child before exec (limits, signals).
pid_t spawn(const fs::path& dir, std::vector<std::string> args, const std::function<void()>& setup = {}) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (::chdir(dir.c_str()) != 0) ::_exit(99);
        const int out = ::open("out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int err = ::open("err.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(out, 1);
        ::dup2(err, 2);
        if (setup) setup();
        std::vector<char*> argv{const_cast<char*>(kBinary.c_str())};
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(kBinary.c_str(), argv.data());
        ::_exit(98);
    }
    return child;
}

struct Ended {
    int exit_code = -1;
    long peak_rss_kib = 0;
    std::string err;
};

Ended wait_for(pid_t child, const fs::path& dir) {
    int status = 0;
    struct rusage usage {};
    REQUIRE(::wait4(child, &status, 0, &usage) == child);
    Ended e;
    e.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    e.peak_rss_kib = usage.ru_maxrss;
    e.err = slurp(dir / "err.txt");
    return e;
}

bool wait_until(const std::function<bool()>& condition, int seconds = 180) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

} // namespace

// ---- numerical faults --------------------------------------------------------------------------

TEST_CASE("A NaN, Inf or negative concentration stops the run with exit 3, naming time, voxel, place and "
          "quantity, and keeps the last good state",
          "[faults][numerical][cli]") {
    testing::TempDir dir("numerical");
    write_file(dir.path(), "quick.toml", kQuick);
    const auto [fault, word] = GENERATE(std::pair<std::string, std::string>{"nan", "is NaN"},
                                        std::pair<std::string, std::string>{"inf", "is Inf"},
                                        std::pair<std::string, std::string>{"negative", "is negative beyond tolerance"});
    const Outcome o = shell(dir.path(), "EXODERM_TEST_FAULT=" + fault + "@5400 '" + kBinary + "' run quick.toml -o out.h5 -q");
    INFO(o.err);
    CHECK(o.exit_code == 3);
    CHECK(lines(o.err) == 1);
    CHECK_THAT(o.err, Catch::Contains("exoderm: numerical fault: run: free vesicle concentration (size class 0"));
    CHECK_THAT(o.err, Catch::Contains(word));
    CHECK_THAT(o.err, Catch::Contains("at t = 5"));
    CHECK_THAT(o.err, Catch::Contains(" um; dermis)")); // the injected voxel: box centre, mid depth
    CHECK_THAT(o.err, Catch::Contains("out.h5.part (complete = 0)"));
    // Never renamed to look complete, no ParaView index of a finished run.
    CHECK_FALSE(fs::exists(dir.path() / "out.h5"));
    CHECK_FALSE(fs::exists(dir.path() / "out.xmf"));
    auto p = probe(dir.path() / "out.h5.part");
    CHECK(p["complete"] == "0");
    CHECK_THAT(p["stopped"], Catch::StartsWith("numerical fault: run: free vesicle concentration"));
    // The completed snapshots (0 h, 1 h) stay; the last good state (the step before 1.5 h) follows.
    const auto times = numbers(p["times"]);
    REQUIRE(times.size() == 3);
    CHECK(times[0] == 0.0);
    CHECK(times[1] == 3600.0);
    CHECK(times[2] > 3600.0);
    CHECK(times[2] < 5400.0);
    CHECK(p["last_good"] == "2");
    CHECK(p["last_has_fields"] == "1");
}

TEST_CASE("A malformed EXODERM_TEST_FAULT is bad input, not silently ignored", "[faults][numerical][cli]") {
    testing::TempDir dir("numerical_bad");
    write_file(dir.path(), "quick.toml", kQuick);
    const Outcome o = shell(dir.path(), "EXODERM_TEST_FAULT=nan@soon '" + kBinary + "' run quick.toml -o out.h5 -q");
    CHECK(o.exit_code == 2);
    CHECK_THAT(o.err, Catch::Contains("EXODERM_TEST_FAULT=nan@soon"));
    CHECK_FALSE(fs::exists(dir.path() / "out.h5.part"));
}

TEST_CASE("The run guard of sweep runs throws NumericalFault naming the run, without a file to save to",
          "[faults][numerical]") {
    const Scenario scenario = load_scenario_text(kQuick, "quick.toml", {}, SweepSection::Ignore);
    Simulation simulation(scenario);
    simulation.inject_test_fault({FieldProblem::Inf, 1800.0});
    RunTracker tracker(scenario);
    RunGuard guard(nullptr, simulation, "run 7", false);
    ObserverList observers({&guard, &tracker});
    try {
        simulation.run(observers);
        FAIL("the fault was not detected");
    } catch (const NumericalFault& fault) {
        const std::string text = fault.what();
        INFO(text);
        CHECK_THAT(text, Catch::StartsWith("run 7: free vesicle concentration (size class 0, particles/um^3) is Inf"));
        CHECK(simulation.time_s() >= 1800.0);
        CHECK(simulation.time_s() < 1800.0 + scenario.time.dt_max_s + 1e-9);
    }
}

// ---- signals -------------------------------------------------------------------------------------

TEST_CASE("SIGTERM or SIGINT stops a run at the next step: a valid file marked incomplete, exit 128 + signal",
          "[faults][signal][cli]") {
    testing::TempDir dir("signal_run");
    const auto [signal_number, name] =
        GENERATE(std::pair<int, std::string>{SIGTERM, "SIGTERM"}, std::pair<int, std::string>{SIGINT, "SIGINT"});
    // The default scenario takes about 20 s: the signal arrives long before its end.
    const pid_t child = spawn(dir.path(), {"run", (kSource / "scenarios" / "default.toml").string(), "-o", "out.h5", "-q"});
    const fs::path part = dir.path() / "out.h5.part";
    REQUIRE(wait_until([&] { return fs::exists(part) && fs::file_size(part) > 0; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(300)); // a few steps into the run
    ::kill(child, signal_number);
    const auto asked = std::chrono::steady_clock::now();
    const Ended e = wait_for(child, dir.path());
    const double stop_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
    INFO(e.err);
    CHECK(e.exit_code == 128 + signal_number);
    CHECK(stop_s < 30.0); // one step, even on a loaded machine
    CHECK(lines(e.err) == 1);
    CHECK_THAT(e.err, Catch::Contains("exoderm: stopped: " + name + " received; run stopped at t = "));
    CHECK_FALSE(fs::exists(dir.path() / "out.h5"));
    auto p = probe(part);
    CHECK(p["complete"] == "0");
    CHECK_THAT(p["stopped"], Catch::StartsWith(name + " received; run stopped at t = "));
    const auto times = numbers(p["times"]);
    REQUIRE(!times.empty());
    CHECK(p["last_good"] == std::to_string(times.size() - 1));
    CHECK(p["last_has_fields"] == "1");
}

TEST_CASE("SIGTERM stops a sweep after its current runs, the same command again finishes it",
          "[faults][signal][sweep]") {
    testing::TempDir dir("signal_sweep");
    write_file(dir.path(), "tiny.toml", slurp(kSource / "scenarios" / "sweeps" / "quick_dose_depth.toml"));
    const fs::path journal = dir.path() / "t.h5.runs";
    const auto journaled = [&] { return testing::journaled_runs(journal); };
    const pid_t child = spawn(dir.path(), {"sweep", "tiny.toml", "-o", "t.h5", "-q", "--threads", "1"});
    REQUIRE(wait_until([&] { return journaled() >= 1; }));
    ::kill(child, SIGTERM);
    const Ended e = wait_for(child, dir.path());
    INFO(e.err);
    CHECK(e.exit_code == 128 + SIGTERM);
    CHECK(lines(e.err) == 1);
    CHECK_THAT(e.err, Catch::Contains("SIGTERM received; the sweep stopped after its current runs"));
    CHECK_THAT(e.err, Catch::Contains("run the same command again to resume it"));
    const std::size_t done = journaled();
    CHECK(done >= 1);
    CHECK(done < 12);
    CHECK_FALSE(fs::exists(dir.path() / "t.h5")); // no table that would look finished

    const Outcome resumed = run_exoderm(dir.path(), "sweep tiny.toml -o t.h5 --threads 2");
    INFO(resumed.err);
    REQUIRE(resumed.exit_code == 0);
    CHECK_THAT(resumed.err, Catch::Contains(std::to_string(done) + " already done"));
    CHECK(read_sweep_table(dir.path() / "t.h5").rows.size() == 12);
}

// ---- disk full -------------------------------------------------------------------------------------

namespace {

// The run's verdict when its output cannot grow: exit 4, one message naming the .part file and
// the reason, and the earlier result of the same name untouched.
void expect_disk_full_handled(const Outcome& o, const std::string& earlier, const fs::path& result,
                              const std::string& part_name, const std::string& reason) {
    INFO(o.err);
    CHECK(o.exit_code == 4);
    CHECK(lines(o.err) == 1);
    CHECK_THAT(o.err, Catch::Contains("exoderm: output failed: "));
    CHECK_THAT(o.err, Catch::Contains(part_name));
    CHECK_THAT(o.err, Catch::Contains(reason));
    CHECK(slurp(result) == earlier); // the earlier result of that name is never clobbered
}

} // namespace

TEST_CASE("A file size limit (RLIMIT_FSIZE, EFBIG) ends the run with exit 4, the earlier result stays",
          "[faults][disk][cli]") {
    testing::TempDir dir("fsize");
    write_file(dir.path(), "quick.toml", kQuick);
    const std::string earlier = "an earlier result of the same name\n";
    write_file(dir.path(), "out.h5", earlier);
    // `trap '' XFSZ`: an ignored signal stays ignored across exec, so write() fails with EFBIG.
    const Outcome o = shell(dir.path(), "trap '' XFSZ; ulimit -f 256; exec '" + kBinary +
                                            "' run quick.toml -o out.h5 --force -q");
    expect_disk_full_handled(o, earlier, dir.path() / "out.h5", "'out.h5.part'", "File too large");
    if (fs::exists(dir.path() / "out.h5.part")) CHECK(probe(dir.path() / "out.h5.part")["complete"] == "0");
}

TEST_CASE("A full disk (a 256 KiB tmpfs) ends the run with exit 4, the earlier result stays", "[faults][disk][cli]") {
    testing::TempDir dir("tmpfs");
    write_file(dir.path(), "quick.toml", kQuick);
    fs::create_directory(dir.path() / "disk");
    // A private mount namespace: the tmpfs exists for this command only and vanishes with it.
    const std::string earlier = "an earlier result of the same name\n";
    const Outcome o = shell(
        dir.path(), "unshare -m sh -c 'mount -t tmpfs -o size=256k tmpfs disk || exit 77; printf \"" +
                        std::string("an earlier result of the same name\\n") + "\" > disk/out.h5; \"" + kBinary +
                        "\" run quick.toml -o disk/out.h5 --force -q; code=$?; cp disk/out.h5 kept.h5; "
                        "ls disk > listing.txt; exit $code'");
    if (o.exit_code == 77 || (o.exit_code == 1 && o.err.find("unshare") != std::string::npos)) {
        WARN("not run: cannot mount a tmpfs here; the RLIMIT_FSIZE test covers the same path");
        return;
    }
    expect_disk_full_handled(o, earlier, dir.path() / "kept.h5", "'disk/out.h5.part'", "No space left on device");
    CHECK_THAT(slurp(dir.path() / "listing.txt"), !Catch::Contains("out.xmf"));
}

// ---- unwritable output folder ---------------------------------------------------------------------

TEST_CASE("An unusable output folder gets one message naming it, exit 2, and nothing written anywhere",
          "[faults][output][cli]") {
    testing::TempDir dir("unwritable");
    write_file(dir.path(), "quick.toml", kQuick);
    write_file(dir.path(), "a_file", "x");
    const auto before = [&] {
        std::vector<std::string> names;
        for (const auto& e : fs::recursive_directory_iterator(dir.path())) names.push_back(e.path().string());
        std::sort(names.begin(), names.end());
        return names;
    };
    const auto files_before = before();
    SECTION("a folder under a regular file (ENOTDIR)") {
        const Outcome o = run_exoderm(dir.path(), "run quick.toml -o a_file/out.h5 -q");
        CHECK(o.exit_code == 2);
        CHECK(lines(o.err) == 1);
        CHECK_THAT(o.err, Catch::Contains("output folder 'a_file' does not exist or is not a folder"));
    }
    SECTION("a folder that root cannot write either (/proc)") {
        const Outcome o = run_exoderm(dir.path(), "run quick.toml -o /proc/out.h5 -q");
        CHECK(o.exit_code == 2);
        CHECK(lines(o.err) == 1);
        CHECK_THAT(o.err, Catch::Contains("output folder '/proc' is not writable"));
    }
    SECTION("a read-only bind mount (EROFS)") {
        fs::create_directory(dir.path() / "ro");
        const Outcome o = shell(dir.path(), "unshare -m sh -c 'mount --bind ro ro && mount -o remount,bind,ro ro || "
                                            "exit 77; exec \"" + kBinary + "\" run quick.toml -o ro/out.h5 -q'");
        if (o.exit_code == 77) {
            WARN("read-only bind mount not allowed here");
        } else {
            CHECK(o.exit_code == 2);
            CHECK(lines(o.err) == 1);
            CHECK_THAT(o.err, Catch::Contains("output folder 'ro' is not writable"));
            CHECK_THAT(o.err, Catch::Contains("Read-only file system"));
        }
        fs::remove(dir.path() / "ro");
    }
    std::vector<std::string> after;
    for (const auto& e : fs::recursive_directory_iterator(dir.path()))
        if (e.path().filename() != "out.txt" && e.path().filename() != "err.txt") after.push_back(e.path().string());
    std::sort(after.begin(), after.end());
    CHECK(after == files_before);
}

// ---- memory ------------------------------------------------------------------------------------

TEST_CASE("A run or a sweep too large for this machine is refused at once with the estimate by part",
          "[faults][memory][cli]") {
    testing::TempDir dir("memory");
    // 1 um x 0.5 um voxels over the default box: about 2e9 voxels, hundreds of GiB.
    const auto started = std::chrono::steady_clock::now();
    const Outcome o = run_exoderm(dir.path(), "run '" + (kSource / "scenarios" / "default.toml").string() +
                                                  "' --set domain.dx=\"1 um\" --set domain.dz=\"0.5 um\" -o out.h5");
    INFO(o.err);
    CHECK(o.exit_code == 2);
    CHECK(lines(o.err) == 1);
    for (const char* part : {"needs about", "GiB, more than", "grid of", "size classes", "+ cells",
                             "(grid and cells x2: the vehicle control)", "+ program"})
        CHECK_THAT(o.err, Catch::Contains(part));
    CHECK((o.err.find("MemAvailable") != std::string::npos || o.err.find("cgroup") != std::string::npos));
    CHECK_FALSE(fs::exists(dir.path() / "out.h5.part"));

    std::string sweep = slurp(kSource / "scenarios" / "sweeps" / "quick_dose_depth.toml");
    const auto at = sweep.find("dx = \"15 um\"");
    REQUIRE(at != std::string::npos);
    sweep.replace(at, 12, "dx = \"1 um\"");
    const auto dz = sweep.find("dz = \"5 um\"");
    REQUIRE(dz != std::string::npos);
    sweep.replace(dz, 11, "dz = \"0.02 um\"");
    write_file(dir.path(), "big.toml", sweep);
    const Outcome s = run_exoderm(dir.path(), "sweep big.toml -o big_sweep.h5 --threads 2");
    INFO(s.err);
    CHECK(s.exit_code == 2);
    CHECK_THAT(s.err, Catch::Contains("sweep "));
    CHECK_THAT(s.err, Catch::Contains("x 2 runs at once"));
    CHECK_FALSE(fs::exists(dir.path() / "big_sweep.h5.runs")); // refused before the journal exists
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() < 20.0);
}

TEST_CASE("The memory estimate is within a factor 1.5 of the real peak memory of a run", "[faults][memory][cli][rss]") {
    testing::TempDir dir("rss");
    // The default grid (1.1 million voxels, cells, the vehicle control) for one minute.
    const std::string scenario = (kSource / "scenarios" / "default.toml").string();
    const std::vector<std::string> sets{"--set", "time.end=\"1 min\"", "--set", "time.outputs=[\"0 h\", \"1 min\"]"};
    std::vector<std::string> check{"check", scenario};
    check.insert(check.end(), sets.begin(), sets.end());
    const Ended described = wait_for(spawn(dir.path(), check), dir.path());
    REQUIRE(described.exit_code == 0);
    const std::string text = slurp(dir.path() / "out.txt");
    const auto at = text.find("# memory estimate: ");
    REQUIRE(at != std::string::npos);
    const double estimate_mib = std::stod(text.substr(at + 19));
    std::vector<std::string> run{"run", scenario, "-o", "out.h5", "-q", "--threads", "2"};
    run.insert(run.end(), sets.begin(), sets.end());
    const Ended e = wait_for(spawn(dir.path(), run), dir.path());
    INFO(e.err);
    REQUIRE(e.exit_code == 0);
    const double peak_mib = static_cast<double>(e.peak_rss_kib) / 1024.0;
    INFO("estimate " << estimate_mib << " MiB, peak RSS " << peak_mib << " MiB");
    CHECK(peak_mib < 1.5 * estimate_mib);
    CHECK(estimate_mib < 1.5 * peak_mib);
}

// ---- bad input for every command -------------------------------------------------------------

TEST_CASE("Truncated scenario files are refused by check, run and sweep with the file and line", "[faults][bad-input]") {
    testing::TempDir dir("truncated");
    const std::string full = slurp(kSource / "scenarios" / "default.toml");
    // Cut inside a quoted value, as a copy interrupted part-way would.
    const auto quote = full.find("= \"", full.size() / 2);
    REQUIRE(quote != std::string::npos);
    write_file(dir.path(), "cut.toml", full.substr(0, quote + 4));
    for (const char* command : {"check cut.toml", "run cut.toml -o out.h5", "sweep cut.toml -o out.h5"}) {
        const Outcome o = run_exoderm(dir.path(), command);
        INFO(command << ": " << o.err);
        CHECK(o.exit_code == 2);
        CHECK(lines(o.err) == 1);
        CHECK_THAT(o.err, Catch::Contains("cut.toml:60:")); // file:line:column of the cut
        CHECK_THAT(o.err, Catch::Contains("TOML syntax error"));
    }
    CHECK_FALSE(fs::exists(dir.path() / "out.h5.part"));
    CHECK_FALSE(fs::exists(dir.path() / "out.h5.runs"));
}

TEST_CASE("Bad command-line values get one message and exit 2 for every command", "[faults][bad-input]") {
    testing::TempDir dir("bad_values");
    write_file(dir.path(), "quick.toml", kQuick);
    for (const char* command :
         {"run quick.toml --threads 0", "run quick.toml --threads many", "run quick.toml -o", "run quick.toml --bogus",
          "sweep quick.toml --threads -1", "sweep quick.toml --shard 0/3", "check", "check quick.toml extra.toml",
          "keys extra", "merge", "merge a.h5", "report", "report r.h5 --bogus", "frobnicate"}) {
        const Outcome o = run_exoderm(dir.path(), command);
        INFO(command << ": " << o.err);
        CHECK(o.exit_code == 2);
        CHECK(lines(o.err) == 1);
        CHECK_THAT(o.err, Catch::StartsWith("exoderm: "));
    }
    CHECK_FALSE(fs::exists(dir.path() / "quick.h5"));
    CHECK_FALSE(fs::exists(dir.path() / "quick.h5.part"));
}

TEST_CASE("merge and report refuse missing, corrupt or truncated inputs and overwrite nothing", "[faults][bad-input]") {
    testing::TempDir dir("bad_inputs");
    write_file(dir.path(), "tiny.toml", slurp(kSource / "scenarios" / "sweeps" / "quick_dose_depth.toml"));
    REQUIRE(run_exoderm(dir.path(), "sweep tiny.toml -q --shard 1/2 -o s1.h5").exit_code == 0);
    const std::string good = slurp(dir.path() / "s1.h5");
    write_file(dir.path(), "merged.h5", "an earlier merged table\n");
    write_file(dir.path(), "text.h5", "not hdf5\n");
    write_file(dir.path(), "half.h5", good.substr(0, good.size() / 2));
    for (const std::string input : {"missing.h5", "text.h5", "half.h5"}) {
        const Outcome m = run_exoderm(dir.path(), "merge s1.h5 " + input + " -o merged.h5 --force");
        INFO("merge " << input << ": " << m.err);
        CHECK(m.exit_code == 2);
        CHECK(lines(m.err) == 1);
        CHECK_THAT(m.err, Catch::Contains(input));
        CHECK(slurp(dir.path() / "merged.h5") == "an earlier merged table\n");

        const Outcome r = run_exoderm(dir.path(), "report " + input + " -o rep");
        INFO("report " << input << ": " << r.err);
        CHECK(r.exit_code == 2);
        CHECK(lines(r.err) == 1);
        CHECK_THAT(r.err, Catch::Contains(input));
        CHECK_FALSE(fs::exists(dir.path() / "rep"));
    }
}
