// TOML allows non-ASCII characters only in strings and comments. The loader screens the text
// before toml++ 3.3 sees it, because toml++ reaches undefined behaviour on some of them outside
// strings (docs/FUZZING.md); the screen must never refuse valid TOML.
#include "model/errors.hpp"
#include "model/scenario_load.hpp"
#include "model/toml_screen.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace exoderm;

TEST_CASE("Non-ASCII text inside every kind of TOML string and in comments passes the screen", "[toml][scenario]") {
    const std::string valid = "# Kommentar: Hautoberfläche ˴\n"
                              "name = \"Exosomen für die Haut ˴\" # und hier ü\n"
                              "escaped = \"a \\\" still inside é\"\n"
                              "path = 'C:\\Temp\\ü'\n"
                              "\"quoted key ü\" = 1\n"
                              "multi = \"\"\"\nzwei Zeilen ü\n\"\" mit Anführung ˴\"\"\"\n"
                              "closing = \"\"\"quotes at the end\"\"\"\"\"\n"
                              "literal = '''\n  ''ü''\n'''''\n"
                              "continued = \"\"\"eins \\\n   zwei ü\"\"\"\n";
    CHECK_FALSE(find_non_ascii_outside_strings(valid));
    CHECK_FALSE(find_non_ascii_outside_strings(""));
}

TEST_CASE("A non-ASCII character outside strings is found with line, column and code point", "[toml][scenario]") {
    SECTION("after a bare key (the toml++ 3.3 undefined-behaviour case)") {
        const auto hit = find_non_ascii_outside_strings("ok = 1\nhypercu˴e = 2\n");
        REQUIRE(hit);
        CHECK(hit->line == 2);
        CHECK(hit->column == 8);
        CHECK(hit->code_point == U'\u02F4');
        CHECK(describe(*hit) == "non-ASCII character U+02F4 outside a string or comment (TOML allows it only there)");
    }
    SECTION("after a closed string, counting columns in characters") {
        const auto hit = find_non_ascii_outside_strings("a = \"ü\" ü\n");
        REQUIRE(hit);
        CHECK(hit->line == 1);
        CHECK(hit->column == 9);
        CHECK(hit->code_point == U'ü');
    }
    SECTION("a single-line string ends at the line's end") {
        const auto hit = find_non_ascii_outside_strings("a = \"open\nb = é\n");
        REQUIRE(hit);
        CHECK(hit->line == 2);
        CHECK(hit->column == 5);
    }
    SECTION("bytes that are not UTF-8") {
        const auto hit = find_non_ascii_outside_strings("a = \xff\n");
        REQUIRE(hit);
        CHECK(hit->code_point == 0xFFFD);
    }
}

TEST_CASE("The loader refuses non-ASCII outside strings as a syntax error naming file, line and column",
          "[toml][scenario]") {
    try {
        (void)load_scenario_text("[scenario]\nseed = 1\nname˴ = \"x\"\n", "screen.toml");
        FAIL("accepted");
    } catch (const InputError& e) {
        CHECK(std::string(e.what()) ==
              "screen.toml:3:5: TOML syntax error: non-ASCII character U+02F4 outside a string or comment (TOML allows it only there)");
    }
}

TEST_CASE("A --set value with non-ASCII characters is taken as text, not parsed as TOML", "[toml][scenario]") {
    const Scenario s = load_scenario_text("[scenario]\nseed = 1\n", "screen.toml", {"scenario.name=Haut˴creme"});
    CHECK(s.name == "Haut˴creme");
}
