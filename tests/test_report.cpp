// exoderm report: plots and report.md of a run result and of a sweep table, made by the Python
// package analysis/exoderm_report through the exoderm binary. Checks the PNGs (signature, size in
// pixels), that report.md links them, that the numbers printed equal those stored in /summary,
// and that bad input gives exit code 2 with one message naming the file.
#include "command_line.hpp"
#include "result_file.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <hdf5.h>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

using exoderm::testing::Outcome;
using exoderm::testing::run_exoderm;
using exoderm::testing::slurp;
using exoderm::testing::summary_attribute;

const std::string kSource = EXODERM_SOURCE_DIR;
constexpr std::uint32_t kWidth = 1200, kHeight = 800;

// The shipped quick sweep (scenarios/sweeps/quick_dose_depth.toml) cut to 2 axes x 2 levels x
// 2 replicates.
std::string report_sweep() {
    std::string text = slurp(fs::path(kSource) / "scenarios" / "sweeps" / "quick_dose_depth.toml");
    const std::string levels = "values = [0.4, 0.6, 0.8]";
    text.replace(text.find(levels), levels.size(), "values = [0.4, 0.8]");
    return text;
}

std::uint32_t big_endian(const std::string& bytes, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
}

// A valid PNG of kWidth x kHeight pixels with more than a blank image's worth of bytes.
void check_png(const fs::path& file) {
    INFO(file.string());
    REQUIRE(fs::exists(file));
    const std::string bytes = slurp(file);
    REQUIRE(bytes.size() > 24);
    CHECK(bytes.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    CHECK(bytes.substr(12, 4) == "IHDR");
    CHECK(big_endian(bytes, 16) == kWidth);
    CHECK(big_endian(bytes, 20) == kHeight);
    CHECK(bytes.size() > 20000);
}

// The value printed on the stdout line "  <name> = <value> [units]".
double printed_value(const std::string& out, const std::string& name) {
    const std::string key = "\n  " + name + " = ";
    const auto at = out.find(key);
    REQUIRE(at != std::string::npos);
    const auto start = at + key.size();
    return std::stod(out.substr(start, out.find_first_of(" \n", start) - start));
}

void check_report(const fs::path& folder, const std::vector<std::string>& plots) {
    const std::string md = slurp(folder / "report.md");
    REQUIRE_FALSE(md.empty());
    for (const auto& p : plots) {
        check_png(folder / p);
        CHECK_THAT(md, Catch::Matchers::Contains("](" + p + ")"));
    }
}

} // namespace

TEST_CASE("exoderm report of a run result: plots, report.md and the summary numbers", "[report]") {
    exoderm::testing::TempDir dir("report_run");
    const Outcome run = run_exoderm(dir.path(), "run '" + kSource +
                                                "/scenarios/default.toml' -o run.h5 -q --threads 2"
                                                " --set 'time.end=1 d' --set 'time.outputs=[\"0 h\", \"4 h\", \"1 d\"]'"
                                                " --set 'domain.dx=20 um'");
    INFO(run.err);
    REQUIRE(run.exit_code == 0);

    const Outcome o = run_exoderm(dir.path(), "report run.h5 -o rep");
    INFO(o.out);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    check_report(dir.path() / "rep", {"depth_profile.png", "dose_balance.png", "layer_fractions.png",
                                      "penetration_depth.png", "cell_uptake.png", "inflammation.png", "collagen.png"});
    for (const std::string name : {"applied", "delivered", "fraction_delivered", "depth90_um", "new_collagen_I",
                                   "fold_new_collagen_I", "keratinocytes_reached_fraction"}) {
        INFO(name);
        const double stored = summary_attribute(dir.path() / "run.h5", name);
        const double printed = printed_value(o.out, name);
        CHECK(printed == Approx(stored).epsilon(1e-5)); // %.6g: 6 significant digits
        char text[64];
        std::snprintf(text, sizeof text, "| `%s` | %.6g |", name.c_str(), stored);
        CHECK_THAT(slurp(dir.path() / "rep" / "report.md"), Catch::Matchers::Contains(text));
    }
}

TEST_CASE("exoderm report of a sweep table: dose responses, heatmap and PRCC ranking", "[report]") {
    exoderm::testing::TempDir dir("report_sweep");
    std::ofstream(dir.path() / "tiny.toml") << report_sweep();
    const Outcome sweep = run_exoderm(dir.path(), "sweep tiny.toml -o grid.h5 -q --threads 2");
    INFO(sweep.err);
    REQUIRE(sweep.exit_code == 0);

    const Outcome o = run_exoderm(dir.path(), "report grid.h5"); // default folder: grid_report
    INFO(o.out);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    check_report(dir.path() / "grid_report",
                 {"dose_response_axis_0.png", "dose_response_axis_1.png", "heatmap_axis_0_1.png", "sensitivity.png"});
    CHECK_THAT(o.out, Catch::Matchers::Contains("8 finished, 0 failed"));
    CHECK_THAT(o.out, Catch::Matchers::Contains("sensitivity (PRCC)"));
    const std::string md = slurp(dir.path() / "grid_report" / "report.md");
    CHECK_THAT(md, Catch::Matchers::Contains("## Sensitivity (PRCC)"));
    CHECK_THAT(md, !Catch::Matchers::Contains("Distributions of outcomes")); // a grid is not a sample
    for (const std::string metric : {"fraction_delivered", "keratinocytes_reached_fraction", "fold_new_collagen_I",
                                     "fold_new_collagen_III", "fold_tnf_auc", "depth90_um"})
        CHECK_THAT(md, Catch::Matchers::Contains("| `" + metric + "` |"));
}

TEST_CASE("exoderm report of a sampled sweep: histograms and ECDFs of the outcomes with their quantiles", "[report]") {
    exoderm::testing::TempDir dir("report_distributions");
    // The quick sweep's base with a Latin hypercube of 6 batches: lognormal dose and potency.
    std::string text = slurp(fs::path(kSource) / "scenarios" / "sweeps" / "quick_dose_depth.toml");
    text = text.substr(0, text.find("[sweep]")) + R"([sweep]
design = "latin_hypercube"
samples = 6
[[sweep.axis]]
key = "product.concentration"
distribution = "lognormal"
median = "1e12 /mL"
gsd = 3
[[sweep.axis]]
key = "cells.potency"
distribution = "normal"
mean = 1
sd = 0.3
range = [0.2, 2]
)";
    std::ofstream(dir.path() / "batches.toml") << text;
    const Outcome sweep = run_exoderm(dir.path(), "sweep batches.toml -o batches.h5 -q --threads 2");
    INFO(sweep.err);
    REQUIRE(sweep.exit_code == 0);
    const Outcome o = run_exoderm(dir.path(), "report batches.h5 -o rep");
    INFO(o.out);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    check_report(dir.path() / "rep", {"distributions.png", "sensitivity.png"});
    CHECK_THAT(o.out, Catch::Matchers::Contains("distributions (5 %, median, 95 %):"));
    const std::string md = slurp(dir.path() / "rep" / "report.md");
    CHECK_THAT(md, Catch::Matchers::Contains("## Distributions of outcomes (latin_hypercube design)"));
    CHECK_THAT(md, Catch::Matchers::Contains("| `fold_tnf_auc` |"));
}

TEST_CASE("exoderm report refuses bad input with exit code 2 and one message naming the file", "[report]") {
    exoderm::testing::TempDir dir("report_bad");
    SECTION("missing file") {
        const Outcome o = run_exoderm(dir.path(), "report missing.h5");
        CHECK(o.exit_code == 2);
        CHECK_THAT(o.err, Catch::Matchers::Contains("missing.h5"));
        CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
        CHECK_FALSE(fs::exists(dir.path() / "missing_report"));
    }
    SECTION("not an HDF5 file") {
        std::ofstream(dir.path() / "notes.h5") << "not hdf5\n";
        const Outcome o = run_exoderm(dir.path(), "report notes.h5");
        CHECK(o.exit_code == 2);
        CHECK_THAT(o.err, Catch::Matchers::Contains("notes.h5"));
        CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
    }
    SECTION("an HDF5 file that is not an exoderm result") {
        const hid_t f = H5Fcreate((dir.path() / "other.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        REQUIRE(f >= 0);
        H5Fclose(f);
        const Outcome o = run_exoderm(dir.path(), "report other.h5");
        CHECK(o.exit_code == 2);
        CHECK_THAT(o.err, Catch::Matchers::Contains("other.h5"));
        CHECK_THAT(o.err, Catch::Matchers::Contains("not an exoderm result"));
    }
}
