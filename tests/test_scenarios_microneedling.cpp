// The shipped microneedling and topical scenarios (issue 7 items 1-2) answer their questions:
// deeper needles put more of the serum deeper into the dermis, occlusion delivers more, intact
// stratum corneum lets essentially nothing through, and every run keeps its dose balance.
// The runs use the shipped files on a coarse lateral grid, cut to their first 2 hours (no
// physics changed), so that the whole file runs in about a minute on a 2-core machine.
#include "command_line.hpp"
#include "result_file.hpp"
#include "temp_dir.hpp"
#include "test_size.hpp"

#include "model/scenario_load.hpp"
#include "solvers/run_tracker.hpp"
#include "solvers/simulation.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

using namespace exoderm;

namespace {

const std::string kScenarios = std::string(EXODERM_SOURCE_DIR) + "/scenarios/";

// A coarse lateral grid (30 um: 4 cells across a channel mouth, the fewest exoderm accepts) and the first 2 hours (the
// open channels have closed, the films have dried and the dermis has passed its peak share by
// then); the skin, needles and product are those of the file.
// (Sanitizer suite, tests/test_size.hpp: the first hour, while the open channels still close.)
const std::vector<std::string> kCoarse =
    exoderm::testing::by_test_size(std::vector<std::string>{"domain.dx=30 um", "time.end=2 h", "time.outputs=[\"0 h\", \"1 h\", \"2 h\"]"},
                                   std::vector<std::string>{"domain.dx=30 um", "time.end=1 h", "time.outputs=[\"0 h\", \"30 min\", \"1 h\"]"});

struct Outcome {
    PeakMetrics peak;
    double fraction_delivered = 0.0;
    double worst_balance_error = 0.0;
};

// Each shipped scenario runs once per test process, whichever test asks first.
const Outcome& run_shipped(const std::string& file) {
    static std::map<std::string, Outcome> done;
    if (auto it = done.find(file); it != done.end()) return it->second;
    const Scenario s = load_scenario(kScenarios + file, kCoarse);
    Simulation sim(s);
    RunTracker tracker(s);
    sim.run(tracker);
    Outcome o;
    o.peak = tracker.peaks();
    const DoseLedger& d = tracker.last().dose;
    o.fraction_delivered = d.delivered / d.applied;
    o.worst_balance_error = tracker.worst_balance_error();
    return done.emplace(file, o).first->second;
}

const std::vector<std::string> kRollers{"microneedling/roller_0p25mm.toml", "microneedling/roller_0p5mm.toml",
                                        "microneedling/roller_1p0mm.toml", "microneedling/roller_1p5mm.toml"};

} // namespace

TEST_CASE("Longer roller needles put more of the serum into the dermis and deeper (0.25 to 1.5 mm)",
          "[scenarios]") {
    std::vector<Outcome> o;
    for (const auto& f : kRollers) o.push_back(run_shipped(f));
    for (std::size_t k = 0; k + 1 < o.size(); ++k) {
        INFO(kRollers[k] << " -> " << kRollers[k + 1]);
        INFO("peak dermis " << o[k].peak.fraction_dermis << " -> " << o[k + 1].peak.fraction_dermis);
        INFO("max depth90 " << o[k].peak.depth90_um << " -> " << o[k + 1].peak.depth90_um << " um");
        CHECK(o[k + 1].peak.fraction_dermis > o[k].peak.fraction_dermis);
        CHECK(o[k + 1].peak.depth90_um > o[k].peak.depth90_um);
    }
    // Even the shortest roller opens channels through the epidermis (125 um deep, the dermis
    // starts at 85 um), so some of the serum reaches the dermis.
    CHECK(o.front().peak.fraction_dermis > 0.0);
}

TEST_CASE("Occlusion (channels close over 30 h, the film stays wet) delivers more than open needling (0.5 mm)",
          "[scenarios]") {
    const Outcome& open = run_shipped("microneedling/roller_0p5mm.toml");
    const Outcome& covered = run_shipped("microneedling/roller_0p5mm_occluded.toml");
    INFO("delivered " << open.fraction_delivered << " open, " << covered.fraction_delivered << " occluded; peak dermis "
                      << open.peak.fraction_dermis << " open, " << covered.peak.fraction_dermis << " occluded");
    CHECK(covered.fraction_delivered > 1.2 * open.fraction_delivered);
    CHECK(covered.peak.fraction_dermis > open.peak.fraction_dermis);
}

TEST_CASE("A dermapen at 0.5 mm delivers into the dermis, more deeply than a 0.5 mm roller", "[scenarios]") {
    // Its channels go 350 um deep (insertion 0.7) against the roller's 250 um (0.5).
    const Outcome& pen = run_shipped("microneedling/dermapen_0p5mm.toml");
    const Outcome& roller = run_shipped("microneedling/roller_0p5mm.toml");
    CHECK(pen.peak.fraction_dermis > 0.0);
    CHECK(pen.peak.depth90_um > roller.peak.depth90_um);
}

TEST_CASE("Serum or cream on intact skin: less than 1e-4 of the dose reaches the dermis", "[scenarios]") {
    for (const std::string file : {"topical/serum_intact_skin.toml", "topical/cream_intact_skin.toml"}) {
        INFO(file);
        const Outcome& o = run_shipped(file);
        CHECK(o.peak.fraction_dermis < 1e-4);
        CHECK(o.peak.fraction_viable_epidermis < 1e-4);
        CHECK(o.fraction_delivered < 1e-4);
    }
}

TEST_CASE("The dose balance of every shipped microneedling and topical scenario closes", "[scenarios]") {
    for (const std::string file :
         {"microneedling/roller_0p25mm.toml", "microneedling/roller_0p5mm.toml", "microneedling/roller_1p0mm.toml",
          "microneedling/roller_1p5mm.toml", "microneedling/dermapen_0p5mm.toml",
          "microneedling/roller_0p5mm_occluded.toml",
          "topical/serum_intact_skin.toml", "topical/cream_intact_skin.toml"}) {
        INFO(file);
        CHECK(run_shipped(file).worst_balance_error < 1e-9);
    }
}

TEST_CASE("exoderm run prints the peak layer fractions and deepest 90 % depth it stores in /summary",
          "[scenarios][cli]") {
    exoderm::testing::TempDir dir("scenario_peaks");
    const auto o = exoderm::testing::run_exoderm(
        dir.path(), "run '" + kScenarios + "microneedling/roller_0p25mm.toml' -o r.h5 --threads 2"
                    " --set 'domain.dx=30 um' --set 'time.end=1 h' --set 'time.outputs=[\"0 h\", \"1 h\"]'");
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    const auto file = dir.path() / "r.h5";
    const double epidermis = exoderm::testing::summary_attribute(file, "peak_fraction_viable_epidermis");
    const double dermis = exoderm::testing::summary_attribute(file, "peak_fraction_dermis");
    const double when_s = exoderm::testing::summary_attribute(file, "peak_fraction_dermis_time_s");
    const double depth = exoderm::testing::summary_attribute(file, "max_depth90_um");
    CHECK(dermis > 0.0);
    CHECK(when_s > 0.0);
    CHECK(depth >= exoderm::testing::summary_attribute(file, "depth90_um"));
    char line[256];
    std::snprintf(line, sizeof line,
                  "over the run: peak viable epidermis %8.4f %%, peak dermis %8.4f %% of the applied dose (at %.3g h); "
                  "deepest 90 %% depth %.1f um",
                  100 * epidermis, 100 * dermis, when_s / 3600, depth);
    INFO(o.out);
    CHECK_THAT(o.out, Catch::Matchers::Contains(line));
}
