// Every input the scenario fuzzer ever crashed on (tests/fuzz_regressions/, copied there by
// scripts/fuzz.sh) now loads or is refused with one clear message saying where, through the
// same entry the fuzzer calls (fuzz/scenario_input.hpp). A crash, a sanitizer report or a
// broken invariant inside that entry fails this test (in the sanitizer suite) or aborts it.
#include "fuzz/scenario_input.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace {

const std::filesystem::path kRegressions = std::filesystem::path(EXODERM_SOURCE_DIR) / "tests" / "fuzz_regressions";

std::vector<std::filesystem::path> regression_files() {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(kRegressions))
        if (entry.is_regular_file() && entry.path().filename() != "README.md") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

std::string bytes_of(const std::filesystem::path& file) {
    REQUIRE(std::filesystem::is_regular_file(file));
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

TEST_CASE("every input the fuzzer once crashed on now loads or is refused with a clear message", "[fuzz][scenario]") {
    const auto files = regression_files();
    REQUIRE_FALSE(files.empty());
    for (const auto& file : files) {
        INFO("fuzz regression " << file.filename().string());
        const auto outcome = exoderm::fuzz::read_scenario_input(bytes_of(file));
        if (!outcome.accepted) {
            CHECK_FALSE(outcome.message.empty());
            CHECK((outcome.message.starts_with("fuzz.toml") || outcome.message.starts_with("--set ")));
        }
    }
}

TEST_CASE("the fuzz entry accepts the shipped scenarios and refuses broken TOML by line", "[fuzz][scenario]") {
    const std::filesystem::path scenarios = std::filesystem::path(EXODERM_SOURCE_DIR) / "scenarios";
    for (const auto& name : {"default.toml", "topical/cream_intact_skin.toml", "sweeps/quick_dose_depth.toml"}) {
        INFO(name);
        const auto outcome = exoderm::fuzz::read_scenario_input(bytes_of(scenarios / name));
        CHECK(outcome.accepted);
        CHECK(outcome.message.empty());
    }
    const auto broken = exoderm::fuzz::read_scenario_input("[product]\nconcentration = \"1e10 /mL\n");
    REQUIRE_FALSE(broken.accepted);
    CHECK(broken.message.starts_with("fuzz.toml:2:"));
    const auto overridden = exoderm::fuzz::read_scenario_input("#set product.concentration=1e11 /furlong\n");
    REQUIRE_FALSE(overridden.accepted);
    CHECK(overridden.message.starts_with("--set product.concentration"));
}
