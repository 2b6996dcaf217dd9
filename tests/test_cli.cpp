// The command line as a user meets it: bad input gets one clear message naming where and
// what, exit code 2, and nothing is written; good input gives a complete result file.
#include "command_line.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

using exoderm::testing::Outcome;
using exoderm::testing::run_exoderm;
using exoderm::testing::slurp;

const std::string kSource = EXODERM_SOURCE_DIR;

// A fresh folder per test case, so outputs from one case never satisfy another.
fs::path scratch(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("exoderm_cli_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}


// The default scenario with one line replaced (or appended), written to dir/s.toml.
fs::path scenario_with(const fs::path& dir, const std::string& find, const std::string& replace) {
    std::string text = slurp(kSource + "/scenarios/default.toml");
    if (!find.empty()) {
        const auto at = text.find(find);
        REQUIRE(at != std::string::npos);
        text.replace(at, find.size(), replace);
    } else {
        text += "\n" + replace + "\n";
    }
    std::ofstream(dir / "s.toml") << text;
    return dir / "s.toml";
}

// Bad input: exit 2, the message names the file, line and key, no result written.
void expect_rejected(const std::string& name, const std::string& find, const std::string& replace,
                     const std::vector<std::string>& message_parts) {
    const fs::path dir = scratch(name);
    scenario_with(dir, find, replace);
    const Outcome o = run_exoderm(dir, "run s.toml -o out.h5");
    INFO(o.err);
    CHECK(o.exit_code == 2);
    for (const auto& part : message_parts) CHECK_THAT(o.err, Catch::Matchers::Contains(part));
    CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1); // one message, one line
    CHECK_FALSE(fs::exists(dir / "out.h5"));
    CHECK_FALSE(fs::exists(dir / "out.h5.part"));
    CHECK_FALSE(fs::exists(dir / "out.xmf"));
}

} // namespace

TEST_CASE("An unknown key is rejected with a did-you-mean", "[cli][bad-input]") {
    expect_rejected("unknown_key", "needle_length = ", "neddle_length = ",
                    {"s.toml:", "neddle_length", "did you mean", "needle_length"});
}

TEST_CASE("A value of the wrong type is rejected", "[cli][bad-input]") {
    expect_rejected("wrong_type", "enabled = true", "enabled = \"yes\"", {"s.toml:", "microneedles.enabled"});
}

TEST_CASE("A missing unit is rejected", "[cli][bad-input]") {
    expect_rejected("missing_unit", "concentration = \"1e10 /mL\"", "concentration = \"1e10\"",
                    {"s.toml:", "product.concentration", "unit", "/mL"});
}

TEST_CASE("A unit of the wrong kind is rejected", "[cli][bad-input]") {
    expect_rejected("wrong_unit", "needle_length = \"500 um\"", "needle_length = \"1.5 h\"",
                    {"s.toml:", "microneedles.needle_length", "length"});
}

TEST_CASE("A negative layer thickness is rejected", "[cli][bad-input]") {
    expect_rejected("negative_thickness", "thickness = \"70 um\"", "thickness = \"-70 um\"",
                    {"s.toml:", "skin.viable_epidermis.thickness"});
}

TEST_CASE("A channel deeper than the box is rejected", "[cli][bad-input]") {
    expect_rejected("deep_channel", "needle_length = \"500 um\"", "needle_length = \"3000 um\"",
                    {"s.toml", "microneedles.needle_length", "too deep"});
}

TEST_CASE("A grid too coarse to resolve a layer is rejected", "[cli][bad-input]") {
    expect_rejected("coarse_grid", "dz = \"5 um\"", "dz = \"10 um\"", {"s.toml:", "skin.stratum_corneum", "dz"});
}

TEST_CASE("A run that would not fit in memory is refused with the estimate", "[cli][bad-input]") {
    expect_rejected("memory", "memory_limit = \"0 GiB\"", "memory_limit = \"10 MiB\"",
                    {"s.toml", "GiB", "domain.memory_limit"});
}

TEST_CASE("A TOML syntax error names the line", "[cli][bad-input]") {
    const std::string text = slurp(kSource + "/scenarios/default.toml");
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(text.find("gsd = 1.4")), '\n');
    expect_rejected("syntax", "gsd = 1.4", "gsd = = 1.4", {"s.toml:" + std::to_string(line) + ":", "syntax error"});
}

TEST_CASE("A bad --set override names the override", "[cli][bad-input]") {
    const fs::path dir = scratch("bad_set");
    const Outcome o = run_exoderm(dir, "run " + kSource + "/scenarios/default.toml -o out.h5 --set product.concentraton=1e9/mL");
    CHECK(o.exit_code == 2);
    CHECK_THAT(o.err, Catch::Matchers::Contains("--set product.concentraton"));
    CHECK_FALSE(fs::exists(dir / "out.h5"));
}

TEST_CASE("A bad command line exits with 2", "[cli][bad-input]") {
    const fs::path dir = scratch("bad_cli");
    CHECK(run_exoderm(dir, "run").exit_code == 2);
    CHECK(run_exoderm(dir, "frobnicate x.toml").exit_code == 2);
    const Outcome missing = run_exoderm(dir, "run no_such_file.toml -o out.h5");
    CHECK(missing.exit_code == 2);
    CHECK_THAT(missing.err, Catch::Matchers::Contains("no_such_file.toml"));
}

TEST_CASE("An existing result is never overwritten without --force", "[cli][output]") {
    const fs::path dir = scratch("exists");
    std::ofstream(dir / "out.h5") << "precious";
    const std::string quick = " --set domain.dx=\"20 um\" --set time.end=\"10 min\" --set time.outputs='[\"0 h\", \"10 min\"]'";
    const Outcome o = run_exoderm(dir, "run " + kSource + "/scenarios/default.toml -o out.h5" + quick);
    CHECK(o.exit_code == 2);
    CHECK_THAT(o.err, Catch::Matchers::Contains("--force"));
    CHECK(slurp(dir / "out.h5") == "precious");
    const Outcome forced = run_exoderm(dir, "run " + kSource + "/scenarios/default.toml -o out.h5 --force" + quick);
    CHECK(forced.exit_code == 0);
    CHECK(slurp(dir / "out.h5") != "precious");
    CHECK(fs::exists(dir / "out.xmf"));
}

TEST_CASE("check prints the fully resolved scenario with units", "[cli]") {
    const fs::path dir = scratch("check");
    const Outcome o = run_exoderm(dir, "check " + kSource + "/scenarios/default.toml --set product.concentration=\"1e11 /mL\"");
    CHECK(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::Matchers::Contains("concentration = \"1e11 /mL\""));
    CHECK_THAT(o.out, Catch::Matchers::Contains("thickness = \"15 um\""));
    CHECK_THAT(o.out, Catch::Matchers::Contains("size class 0"));
}
