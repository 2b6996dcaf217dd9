// Quantities with units -> internal units (um, s, kg, K, mol, bytes; counts dimensionless).
#include "model/units.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace exoderm::units;
using Catch::Matchers::Contains;

namespace {
double q(const char* text) { return parse_quantity(text).value; }
std::string problem_of(const char* text, const Kind& k) {
    try {
        parse_as(text, k);
    } catch (const UnitError& e) {
        return e.what();
    }
    FAIL("no UnitError for " << text);
    return {};
}
} // namespace

TEST_CASE("lengths are read in micrometres", "[units]") {
    CHECK(q("500 um") == 500.0);
    CHECK(q("500um") == 500.0);
    CHECK(q("1.5 mm") == Approx(1500.0));
    CHECK(q("100 nm") == Approx(0.1));
    CHECK(q("1 cm") == Approx(1e4));
    CHECK(q("500 \xC2\xB5m") == 500.0); // µm
    CHECK(parse_quantity("500 um").dimension == dim::length);
}

TEST_CASE("a value in the internal unit converts exactly, so resolved scenarios read back bitwise", "[units]") {
    // um is 1e6 / 1e6 of a metre-based table: converting as x * 1e6 / 1e6 rounded twice and
    // put 1/sqrt(1001 /cm^2) = 316.06977062050697 um back as ...703 (a fuzz finding).
    for (const double x : {316.06977062050697, 0.1 + 0.2, 1.0 / 3.0, 7e-300, 123456.789})
        CHECK(to_internal(x, "um") == x);
    CHECK(to_internal(1.0 / 3.0, "s") == 1.0 / 3.0);
    CHECK(from_internal(316.06977062050697, "um") == 316.06977062050697);
    CHECK(format_quantity(316.06977062050697, "um") == "316.069770620507 um");
    CHECK(q("316.069770620507 um") == 316.06977062050697);
}

TEST_CASE("times are read in seconds: s, min, h, d, wk", "[units]") {
    CHECK(q("0.5 s") == 0.5);
    CHECK(q("250 ms") == Approx(0.25));
    CHECK(q("45 min") == 2700.0);
    CHECK(q("1.5 h") == 5400.0);
    CHECK(q("2 d") == 172800.0);
    CHECK(q("1 wk") == 604800.0);
}

TEST_CASE("a volume per area is a film height: 20 uL/cm^2 = 200 um", "[units]") {
    const Quantity v = parse_quantity("20 uL/cm^2");
    CHECK(v.value == Approx(200.0));
    CHECK(v.dimension == dim::length);
    CHECK(parse_as("20 uL/cm^2", kind::volume_per_area) == Approx(200.0));
}

TEST_CASE("a number concentration per mL is per um^3: 1e10 /mL = 0.01 /um^3", "[units]") {
    CHECK(q("1e10 /mL") == Approx(0.01));
    CHECK(q("1e10 particles/mL") == Approx(0.01));
    CHECK(q("1e10 EVs/mL") == Approx(0.01));
    CHECK(q("1e10 vesicles / mL") == Approx(0.01));
    CHECK(parse_quantity("1e10 /mL").dimension == dim::per_volume);
}

TEST_CASE("picomolar vesicles are counted via Avogadro: 1 pM = 6.022e8 /mL", "[units]") {
    CHECK(q("1 pM") == Approx(q("6.02214076e8 /mL")));
    CHECK(q("1 pM") == Approx(6.022e8 * 1e-12).epsilon(1e-3));
    CHECK(parse_quantity("1 pM").dimension == dim::per_volume);
}

TEST_CASE("temperatures: C is affine (+273.15), K is absolute", "[units]") {
    CHECK(q("32 C") == Approx(305.15));
    CHECK(q("32 \xC2\xB0" "C") == Approx(305.15)); // °C
    CHECK(q("310 K") == 310.0);
    CHECK(from_internal(305.15, "C") == Approx(32.0));
}

TEST_CASE("rates are per second: 0.2 /h", "[units]") {
    CHECK(q("0.2 /h") == Approx(0.2 / 3600.0));
    CHECK(parse_quantity("0.2 /h").dimension == dim::rate);
    CHECK(q("1 /s") == 1.0);
}

TEST_CASE("diffusivities: um^2/s is internal, 1e-7 cm^2/s = 10 um^2/s", "[units]") {
    CHECK(q("5 um^2/s") == 5.0);
    CHECK(q("1e-7 cm^2/s") == Approx(10.0));
    CHECK(q("1 cm^2/s") == Approx(1e8));
    CHECK(parse_quantity("5 um^2/s").dimension == dim::diffusivity);
    CHECK(q("5 um^2 s^-1") == 5.0);
}

TEST_CASE("viscosity: mPa s, mPa*s and cP are the same", "[units]") {
    const double v = q("0.764 mPa s");
    CHECK(parse_quantity("0.764 mPa s").dimension == dim::viscosity);
    CHECK(q("0.764 mPa*s") == Approx(v));
    CHECK(q("0.764 cP") == Approx(v));
    CHECK(from_internal(v, "Pa s") == Approx(0.764e-3));
}

TEST_CASE("areal density, molar energy and memory sizes", "[units]") {
    CHECK(q("200 /cm^2") == Approx(200.0 / 1e8));
    CHECK(parse_quantity("200 /cm^2").dimension == dim::per_area);
    CHECK(parse_quantity("80 kJ/mol").dimension == dim::molar_energy);
    CHECK(q("80 kJ/mol") == Approx(80e3 * 1e12)); // kg um^2 s^-2 mol^-1
    CHECK(q("4 GiB") == 4.0 * 1024 * 1024 * 1024);
    CHECK(q("500 MB") == 5e8);
    CHECK(q("1 KiB") == 1024.0);
}

TEST_CASE("everything after a single '/' is the denominator", "[units]") {
    CHECK(parse_quantity("1 J/mol K").dimension == Dimension{{2, -2, 1, -1, -1, 0}});
    CHECK_THROWS_AS(parse_quantity("1 m/s/s"), UnitError);
}

TEST_CASE("a unit is always required", "[units]") {
    CHECK_THROWS_WITH(parse_quantity("1e10"), Contains("missing unit"));
    CHECK_THROWS_WITH(parse_quantity("0"), Contains("missing unit"));
    CHECK_THAT(problem_of("1e10", kind::concentration), Contains("missing unit"));
}

TEST_CASE("a unit of the wrong kind is rejected and named", "[units]") {
    CHECK_THAT(problem_of("1.5 h", kind::length), Contains("this is a time, not a length"));
    CHECK_THAT(problem_of("500 um", kind::concentration), Contains("this is a length, not a concentration"));
    CHECK_THAT(problem_of("5 kg", kind::time), Contains("a mass"));
}

TEST_CASE("malformed quantities say what is wrong", "[units]") {
    CHECK_THROWS_WITH(parse_quantity("12 furlongs"), Contains("unknown unit 'furlongs'"));
    CHECK_THROWS_WITH(parse_quantity("um 500"), Contains("not a number"));
    CHECK_THROWS_WITH(parse_quantity(""), Contains("empty"));
    CHECK_THROWS_WITH(parse_quantity("5 C/h"), Contains("Celsius"));
    CHECK_THROWS_WITH(parse_quantity("5 um^"), Contains("bad power"));
    CHECK_THROWS_WITH(parse_quantity("5 /"), Contains("nothing after '/'"));
}

TEST_CASE("values are formatted back in a display unit and read back identically", "[units]") {
    CHECK(format_quantity(q("0.764 mPa s"), "mPa s") == "0.764 mPa s");
    CHECK(format_quantity(q("32 C"), "C") == "32 C");
    CHECK(format_quantity(q("1e10 /mL"), "/mL") == "1e10 /mL");
    CHECK(format_quantity(q("20 uL/cm^2"), "uL/cm^2") == "20 uL/cm^2");
    CHECK(format_quantity(q("45 min"), "h") == "0.75 h");
    CHECK(format_quantity(0.764e-3, "mPa s", "Pa s") == "0.764 mPa s");
    for (const double v : {1.0 / std::sqrt(200.0 / 1e8), 0.1 + 0.2, 1234.5678e-9, 3.0e5}) {
        const std::string text = format_quantity(v, "mm");
        CHECK(parse_quantity(text).value == v);
    }
    CHECK(format_number(1e10) == "1e10");
    CHECK(format_number(5e-5) == "5e-5");
    CHECK(format_number(0.05) == "0.05");
}

TEST_CASE("kinds describe themselves for error messages", "[units]") {
    CHECK(expectation(kind::length) == "a length such as \"500 um\"");
    CHECK(expectation(kind::time) == "a time such as \"1.5 h\"");
    CHECK(expectation(kind::concentration) == "a concentration such as \"1e10 /mL\"");
    CHECK(expectation(kind::volume_per_area) == "a volume per area such as \"20 uL/cm^2\"");
    CHECK(expectation(kind::rate) == "a rate such as \"0.2 /h\"");
    CHECK(expectation(kind::temperature) == "a temperature such as \"32 C\"");
    CHECK(expectation(kind::viscosity) == "a viscosity such as \"0.764 mPa s\"");
    CHECK(expectation(kind::areal_density) == "an areal density such as \"200 /cm^2\"");
    CHECK(expectation(kind::memory_size) == "a memory size such as \"4 GiB\"");
}
