// TOML allows non-ASCII characters only in strings and comments. The loader screens the text
// before toml++ 3.3 sees it, because toml++ reaches undefined behaviour on some of them outside
// strings (docs/FUZZING.md); the screen must never refuse valid TOML.
#include "model/errors.hpp"
#include "model/scenario_load.hpp"
#include "model/toml_screen.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <toml++/toml.h>

using namespace exoderm;

namespace {
bool ascii_only(const std::string& text) {
    for (const char c : text)
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
}
std::string ascii_of(std::string_view text) {
    std::string ascii;
    REQUIRE_FALSE(to_ascii_toml(text, ascii));
    CHECK(ascii_only(ascii));
    return ascii;
}
} // namespace

TEST_CASE("Non-ASCII text in every kind of TOML string and in comments becomes the same document in ASCII",
          "[toml][scenario]") {
    const std::string valid = "# Kommentar: Hautoberfläche ˴\n"
                              "name = \"Exosomen für die Haut ˴\" # und hier ü\n"
                              "escaped = \"a \\\" still inside é \\u00e9\"\n"
                              "path = 'C:\\Temp\\ü \"quoted\"'\n"
                              "\"quoted key ü\" = 1\n"
                              "'literal key ˴' = 2\n"
                              "multi = \"\"\"\nzwei Zeilen ü\n\"\" mit Anführung ˴\"\"\"\n"
                              "closing = \"\"\"quotes at the end ü\"\"\"\"\"\n"
                              "literal = '''\n  ''ü'' \\ \"\"\"\n'''''\n"
                              "plain = \"ascii stays as it is\"\n"
                              "list = [\"α\", 'β', \"\"\"γ\"\"\"]\n";
    const std::string ascii = ascii_of(valid);
    CHECK(ascii.find("plain = \"ascii stays as it is\"") != std::string::npos);
    CHECK(toml::parse(ascii) == toml::parse(valid));
    CHECK(ascii_of("").empty());
}

TEST_CASE("After a line-ending backslash the next character may be non-ASCII (toml++ 3.3 would test it for whitespace)",
          "[toml][scenario]") {
    const std::string ascii = ascii_of("continued = \"\"\"eins \\\n   ˴zwei\"\"\"\n");
    const toml::table doc = toml::parse(ascii);
    CHECK(doc["continued"].value_or(std::string()) == "eins ˴zwei");
}

TEST_CASE("A non-ASCII character outside strings is found with line, column and code point", "[toml][scenario]") {
    std::string ascii;
    SECTION("after a bare key (the toml++ 3.3 undefined-behaviour case)") {
        const auto hit = to_ascii_toml("ok = 1\nhypercu˴e = 2\n", ascii);
        REQUIRE(hit);
        CHECK(hit->line == 2);
        CHECK(hit->column == 8);
        CHECK(hit->code_point == U'\u02F4');
        CHECK(describe(*hit) == "non-ASCII character U+02F4 outside a string or comment (TOML allows it only there)");
    }
    SECTION("after a string holding non-ASCII, counting columns in characters") {
        const auto hit = to_ascii_toml("a = \"ü\"\nb = 'ü' ü\n", ascii);
        REQUIRE(hit);
        CHECK(hit->line == 2);
        CHECK(hit->column == 9);
        CHECK(hit->code_point == U'ü');
    }
    SECTION("a single-line string ends at the line's end") {
        const auto hit = to_ascii_toml("a = \"open\nb = é\n", ascii);
        REQUIRE(hit);
        CHECK(hit->line == 2);
        CHECK(hit->column == 5);
    }
    SECTION("bytes that are not UTF-8, outside or inside strings and comments") {
        for (const std::string text : {"a = \xff\n", "a = \"ok \xb0\"\n", "# \xc3\n", "a = 'overlong \xc0\x80'\n",
                                       "a = \"surrogate \xed\xa0\x80\"\n"}) {
            INFO(text);
            const auto hit = to_ascii_toml(text, ascii);
            REQUIRE(hit);
            CHECK(hit->not_utf8);
            CHECK(describe(*hit) == "bytes that are not UTF-8 (TOML files are UTF-8 text)");
        }
        CHECK_FALSE(is_utf8("name \xb0"));
        CHECK(is_utf8("Haut˴creme"));
    }
}

TEST_CASE("Whatever the input, toml++ is handed ASCII only: broken quoting cannot smuggle a character past",
          "[toml][scenario]") {
    // The second fuzz finding: quotes in a bare value, then U+03DC (toml++ scanned it as part of
    // the bad value). Here and in any text the result is ASCII or a refusal.
    for (const std::string text : {"linspace = [0.''''''''''''''''''''''\xcf\x9cro = 3\n", "a =\"\"\"\xcf\x9c\n",
                                   "x = '''\xcf\x9c''''''\xcf\x9c\n", "\"\\\xcf\x9c\" = 1\n", "a = \"\\\n\xcf\x9c\"\n"}) {
        INFO(text);
        std::string ascii;
        if (!to_ascii_toml(text, ascii)) CHECK(ascii_only(ascii));
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

TEST_CASE("A --set value with non-ASCII characters is taken as text, not parsed as TOML, one that is not UTF-8 is refused",
          "[toml][scenario]") {
    const Scenario s = load_scenario_text("[scenario]\nseed = 1\n", "screen.toml", {"scenario.name=Haut˴creme"});
    CHECK(s.name == "Haut˴creme");
    // A fuzz finding: the raw byte 0xB0 became a name that the resolved scenario could not carry.
    try {
        (void)load_scenario_text("[scenario]\nseed = 1\n", "screen.toml", {"scenario.name=#set dz=\xb0" "e-7 um"});
        FAIL("accepted");
    } catch (const InputError& e) {
        CHECK(std::string(e.what()) == "--set scenario.name: the value has bytes that are not UTF-8");
    }
}

TEST_CASE("An escaped non-ASCII character in a basic string stays an error", "[toml][scenario]") {
    std::string ascii;
    REQUIRE_FALSE(to_ascii_toml("a = \"\\ü\"\n", ascii));
    CHECK_THROWS_AS(toml::parse(ascii), toml::parse_error);
}
