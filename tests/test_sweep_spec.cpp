// The [sweep] section of a scenario file (docs/sweeps.md): which runs a sweep makes, in which
// order, with which overrides and seeds; Latin hypercube and Sobol samples; and one clear
// message naming file:line for every mistake in the section.
#include "model/errors.hpp"
#include "model/scenario_load.hpp"
#include "model/sweep_spec.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace exoderm;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string kName = "sweeps/x.toml";

// A small base scenario (seven lines); the [sweep] text follows it.
const std::string kBase = R"([scenario]
seed = 7

[time]
end = "2 d"
outputs = ["0 h", "24 h", "2 d"]

)";

std::string file_with(const std::string& sweep) { return kBase + sweep; }

SweepSpec load(const std::string& sweep) { return load_sweep_text(file_with(sweep), kName); }

// "sweeps/x.toml:N:" for the first line of the file holding `marker`.
std::string at_line_of(const std::string& text, const std::string& marker) {
    const auto pos = text.find(marker);
    REQUIRE(pos != std::string::npos);
    return kName + ":" + std::to_string(1 + std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n')) + ":";
}

std::string error_of(const std::string& sweep) {
    try {
        load(sweep);
    } catch (const InputError& e) {
        return e.what();
    }
    FAIL("no InputError for:\n" << sweep);
    return {};
}

// The error names the line holding `marker` and says `problem`.
void check_error(const std::string& sweep, const std::string& marker, const std::string& problem) {
    const std::string message = error_of(sweep);
    INFO("[sweep] text:\n" << sweep);
    CHECK_THAT(message, StartsWith(at_line_of(file_with(sweep), marker)));
    CHECK_THAT(message, Contains(problem));
}

double unit_of(const std::string& value_text) { return std::stod(value_text.substr(1)); }

} // namespace

TEST_CASE("A grid sweep runs every combination, point-major and replicate-minor, last axis fastest", "[sweep][spec]") {
    const SweepSpec spec = load(R"([sweep]
replicates = 2

[[sweep.axis]]
key = "product.concentration"
values = ["1e9 /mL", "1e10 /mL", "1e11 /mL"]

[[sweep.axis]]
key = "microneedles.shape"
values = ["cone", "pyramid"]
)");
    CHECK(spec.design == SweepDesign::Grid);
    CHECK(spec.points == 6);
    CHECK(spec.replicates == 2);
    REQUIRE(spec.run_count() == 12);
    CHECK(spec.base_seed == 7);
    REQUIRE(spec.axes.size() == 2);
    CHECK(spec.axes[0].values == std::vector<std::string>{"\"1e9 /mL\"", "\"1e10 /mL\"", "\"1e11 /mL\""});
    CHECK(spec.axes[0].display_unit == "/mL");
    CHECK(spec.axes[1].values == std::vector<std::string>{"\"cone\"", "\"pyramid\""});
    CHECK(spec.axes[1].display_unit.empty());

    const char* concentration[] = {"1e9 /mL", "1e10 /mL", "1e11 /mL"};
    const double number[] = {1e9, 1e10, 1e11};
    const char* shape[] = {"cone", "pyramid"};
    for (std::size_t i = 0; i < spec.run_count(); ++i) {
        INFO("run " << i);
        const SweepRun run = spec.run(i);
        const std::size_t point = i / 2, c = point / 2, s = point % 2;
        CHECK(run.index == i);
        CHECK(run.point == point);
        CHECK(run.replicate == i % 2);
        REQUIRE(run.overrides.size() == 3);
        CHECK(run.overrides[0] == "product.concentration=\"" + std::string(concentration[c]) + "\"");
        CHECK(run.overrides[1] == "microneedles.shape=\"" + std::string(shape[s]) + "\"");
        CHECK(run.overrides[2] == "scenario.seed=" + std::to_string(run.seed));
        REQUIRE(run.axis_numbers.size() == 2);
        CHECK(run.axis_numbers[0] == number[c]);
        CHECK(std::isnan(run.axis_numbers[1]));
    }
    CHECK_THROWS_AS(spec.run(12), std::out_of_range);

    // A run's overrides load with the base scenario as that run's scenario.
    const SweepRun last = spec.run(11);
    const Scenario s = load_scenario_text(spec.source_text, spec.source_name, last.overrides, SweepSection::Ignore);
    CHECK(s.product.concentration_per_um3 == Approx(1e11 * 1e-12));
    CHECK(s.needles.shape == NeedleShape::Pyramid);
    CHECK(s.seed == last.seed);
}

TEST_CASE("linspace and logspace give evenly spaced values, both ends included, that read back exactly", "[sweep][spec]") {
    const SweepSpec spec = load(R"([sweep]
[[sweep.axis]]
key = "microneedles.needle_length"
linspace = ["250 um", "1000 um"]
count = 4

[[sweep.axis]]
key = "product.concentration"
logspace = ["1e9 /mL", "1e12 /mL"]
count = 4

[[sweep.axis]]
key = "skin.dermis.hindrance"
linspace = [0.1, 0.3]
count = 3

[[sweep.axis]]
key = "microneedles.base_width"
logspace = ["100 um", "1000 um"]
count = 3
)");
    REQUIRE(spec.axes.size() == 4);
    CHECK(spec.axes[0].values == std::vector<std::string>{"\"250 um\"", "\"500 um\"", "\"750 um\"", "\"1000 um\""});
    CHECK(spec.axes[0].numbers == std::vector<double>{250, 500, 750, 1000});
    CHECK(spec.axes[0].display_unit == "um");
    CHECK(spec.axes[1].values == std::vector<std::string>{"\"1e9 /mL\"", "\"1e10 /mL\"", "\"1e11 /mL\"", "\"1e12 /mL\""});
    CHECK(spec.axes[1].numbers == std::vector<double>{1e9, 1e10, 1e11, 1e12});
    CHECK(spec.axes[1].display_unit == "/mL");
    // 0.1 + 0.5 * 0.2 is 0.20000000000000001 in binary; the value is written 0.2.
    CHECK(spec.axes[2].values == std::vector<std::string>{"0.1", "0.2", "0.3"});
    CHECK(spec.axes[2].numbers == std::vector<double>{0.1, 0.2, 0.3});
    CHECK(spec.axes[2].display_unit.empty());
    // Log midpoint of 100 and 1000 um: sqrt(10) * 100 um, in the unit the endpoints were written in.
    REQUIRE(spec.axes[3].values.size() == 3);
    CHECK_THAT(spec.axes[3].values[1], StartsWith("\"316.22776"));
    CHECK(unit_of(spec.axes[3].values[1]) == Approx(100 * std::sqrt(10.0)).epsilon(1e-12));
    CHECK_THAT(spec.axes[3].values[1], Contains(" um\""));
    CHECK(spec.points == 4 * 4 * 3 * 3);

    const SweepRun run = spec.run(spec.run_count() - 1);
    CHECK(run.axis_numbers == std::vector<double>{1000, 1e12, 0.3, 1000});
}

TEST_CASE("Axes of every sweepable type: quantity, never, number, integer, boolean, text and choice", "[sweep][spec]") {
    const SweepSpec spec = load(R"([sweep]
[[sweep.axis]]
key = "product.drying_time"
values = ["30 min", "1 h", "never"]

[[sweep.axis]]
key = "product.gsd"
values = [1.2, 2]

[[sweep.axis]]
key = "product.size_classes"
values = [1, 4]

[[sweep.axis]]
key = "microneedles.occluded"
values = [false, true]

[[sweep.axis]]
key = "scenario.description"
values = ["a \"quoted\" word"]

[[sweep.axis]]
key = "transport.bottom"
values = ["no_flux", "sink"]
)");
    REQUIRE(spec.axes.size() == 6);
    // Different units in one values list: numbers in the key's display unit.
    CHECK(spec.axes[0].display_unit == "min");
    CHECK(spec.axes[0].numbers == std::vector<double>{30, 60, INFINITY});
    CHECK(spec.axes[1].values == std::vector<std::string>{"1.2", "2"});
    CHECK(spec.axes[1].numbers == std::vector<double>{1.2, 2});
    CHECK(spec.axes[2].values == std::vector<std::string>{"1", "4"});
    CHECK(spec.axes[3].values == std::vector<std::string>{"false", "true"});
    CHECK(std::isnan(spec.axes[3].numbers[1]));
    CHECK(spec.axes[4].values == std::vector<std::string>{"\"a \\\"quoted\\\" word\""});
    CHECK(spec.axes[5].values == std::vector<std::string>{"\"no_flux\"", "\"sink\""});
    CHECK(spec.points == 3 * 2 * 2 * 2 * 1 * 2);

    const SweepRun run = spec.run(spec.run_count() - 1);
    const Scenario s = load_scenario_text(spec.source_text, spec.source_name, run.overrides, SweepSection::Ignore);
    CHECK(std::isinf(s.product.drying_time_s));
    CHECK(s.product.geometric_sd == 2.0);
    CHECK(s.product.size_classes == 4);
    CHECK(s.needles.occluded);
    CHECK(s.description == "a \"quoted\" word");
    CHECK(s.domain.bottom == BottomBoundary::Sink);
}

TEST_CASE("Integer axes: linspace values are rounded, and a count that repeats an integer is refused", "[sweep][spec]") {
    const SweepSpec spec = load(R"([sweep]
[[sweep.axis]]
key = "product.size_classes"
linspace = [1, 16]
count = 4
)");
    CHECK(spec.axes[0].values == std::vector<std::string>{"1", "6", "11", "16"});
    check_error(R"([sweep]
[[sweep.axis]]
key = "product.size_classes"
linspace = [1, 3]
count = 5
)",
                "linspace", "gives 2 twice after rounding to integers");
}

TEST_CASE("Independent seeds differ for every run, common seeds are shared by all points of a replicate", "[sweep][spec]") {
    const std::string axes = R"(
[[sweep.axis]]
key = "product.concentration"
values = ["1e9 /mL", "1e10 /mL", "1e11 /mL"]

[[sweep.axis]]
key = "skin.dermis.hindrance"
values = [0.1, 0.2]
)";
    const SweepSpec independent = load("[sweep]\nreplicates = 3\n" + axes);
    const SweepSpec common = load("[sweep]\nreplicates = 3\nseeds = \"common\"\n" + axes);
    CHECK(independent.seeds == SweepSeeds::Independent);
    CHECK(common.seeds == SweepSeeds::Common);
    REQUIRE(independent.run_count() == 18);

    std::set<std::uint64_t> all;
    for (std::size_t i = 0; i < independent.run_count(); ++i) {
        const std::uint64_t seed = independent.run(i).seed;
        CHECK(seed < (std::uint64_t{1} << 63)); // a TOML integer
        all.insert(seed);
    }
    CHECK(all.size() == 18);

    std::set<std::uint64_t> per_replicate;
    for (std::size_t r = 0; r < 3; ++r) {
        const std::uint64_t first = common.run(r).seed;
        per_replicate.insert(first);
        for (std::size_t p = 0; p < common.points; ++p) {
            const SweepRun run = common.run(p * 3 + r);
            CHECK(run.replicate == r);
            CHECK(run.seed == first);
        }
    }
    CHECK(per_replicate.size() == 3);
    CHECK(sweep_seed(7, SweepSeeds::Common, 4, 1) == common.run(1).seed);
    CHECK(sweep_seed(7, SweepSeeds::Independent, 4, 1) == independent.run(4 * 3 + 1).seed);
    // The two schemes never hand out the same seed for the same replicate.
    CHECK(common.run(0).seed != independent.run(0).seed);
}

TEST_CASE("The same sweep file gives the same runs, seeds and identity, another base seed gives other seeds", "[sweep][spec]") {
    const std::string sweep = R"([sweep]
replicates = 2
[[sweep.axis]]
key = "product.concentration"
logspace = ["1e9 /mL", "1e12 /mL"]
count = 4
)";
    const SweepSpec a = load(sweep), b = load(sweep);
    CHECK(a.identity == b.identity);
    CHECK_THAT(a.identity, Contains("product.concentration"));
    CHECK_THAT(a.identity, Contains("seed = 7"));
    for (std::size_t i = 0; i < a.run_count(); ++i) {
        CHECK(a.run(i).overrides == b.run(i).overrides);
        CHECK(a.run(i).seed == b.run(i).seed);
    }

    std::string other_seed = file_with(sweep);
    other_seed.replace(other_seed.find("seed = 7"), 8, "seed = 8");
    const SweepSpec c = load_sweep_text(other_seed, kName);
    CHECK(c.base_seed == 8);
    CHECK(c.identity != a.identity);
    for (std::size_t i = 0; i < a.run_count(); ++i) CHECK(c.run(i).seed != a.run(i).seed);

    // Common seeds, more replicates, another design or other values: another identity.
    CHECK(load("[sweep]\nseeds = \"common\"\n" + sweep.substr(8)).identity != a.identity);
    std::string three = sweep;
    three.replace(three.find("replicates = 2"), 14, "replicates = 3");
    CHECK(load(three).identity != a.identity);
    std::string five = sweep;
    five.replace(five.find("count = 4"), 9, "count = 5");
    CHECK(load(five).identity != a.identity);
    // Which fields are kept is not part of the identity: the runs are the same.
    CHECK(load("[sweep]\nfields = [\"free\"]\n" + sweep.substr(8)).identity == a.identity);
}

TEST_CASE("Latin hypercube: exactly one sample per stratum on every axis, log ranges inside [lo, hi]", "[sweep][spec]") {
    const std::string sweep = R"([sweep]
design = "latin_hypercube"
samples = 50
replicates = 2

[[sweep.axis]]
key = "skin.dermis.hindrance"
range = [0.05, 0.5]
scale = "log"

[[sweep.axis]]
key = "microneedles.needle_length"
range = ["250 um", "1000 um"]

[[sweep.axis]]
key = "product.concentration"
range = ["1e9 /mL", "1e12 /mL"]
scale = "log"
)";
    const SweepSpec spec = load(sweep);
    CHECK(spec.design == SweepDesign::LatinHypercube);
    CHECK(spec.points == 50);
    CHECK(spec.run_count() == 100);
    struct Range {
        double lo, hi;
        bool log;
    };
    const Range ranges[] = {{0.05, 0.5, true}, {250, 1000, false}, {1e9, 1e12, true}};
    for (std::size_t j = 0; j < 3; ++j) {
        INFO("axis " << spec.axes[j].key);
        REQUIRE(spec.axes[j].values.size() == 50);
        REQUIRE(spec.axes[j].numbers.size() == 50);
        std::vector<int> per_stratum(50, 0);
        for (double v : spec.axes[j].numbers) {
            const Range& r = ranges[j];
            REQUIRE(v >= r.lo);
            REQUIRE(v <= r.hi);
            const double u = r.log ? std::log(v / r.lo) / std::log(r.hi / r.lo) : (v - r.lo) / (r.hi - r.lo);
            ++per_stratum[std::min(49, static_cast<int>(u * 50))];
        }
        CHECK(std::all_of(per_stratum.begin(), per_stratum.end(), [](int n) { return n == 1; }));
    }
    CHECK(spec.axes[1].display_unit == "um");
    CHECK_THAT(spec.axes[1].values[0], Contains(" um\""));
    // The strata are shuffled independently per axis, not in step.
    CHECK(spec.axes[0].numbers != spec.axes[2].numbers);

    // Every replicate of a point has the point's values; the samples depend on the base seed only.
    const SweepRun r0 = spec.run(6), r1 = spec.run(7);
    CHECK(r0.point == 3);
    CHECK(r1.point == 3);
    CHECK(std::vector(r0.overrides.begin(), r0.overrides.end() - 1) == std::vector(r1.overrides.begin(), r1.overrides.end() - 1));
    CHECK(r0.axis_numbers[1] == spec.axes[1].numbers[3]);
    CHECK(load(sweep).axes[0].values == spec.axes[0].values);
    std::string other_seed = file_with(sweep);
    other_seed.replace(other_seed.find("seed = 7"), 8, "seed = 8");
    CHECK(load_sweep_text(other_seed, kName).axes[0].values != spec.axes[0].values);
}

TEST_CASE("Sobol points follow the standard sequence of Joe & Kuo's direction numbers", "[sweep][spec]") {
    // Points 1..5 in Gray-code order (point 0 is the origin).
    const double dim1[] = {0.5, 0.75, 0.25, 0.375, 0.875};
    const double dim2[] = {0.5, 0.25, 0.75, 0.375, 0.875};
    const double dim3[] = {0.5, 0.25, 0.75, 0.625, 0.125};
    for (int n = 1; n <= 5; ++n) {
        CHECK(sobol_coordinate(n, 0) == dim1[n - 1]);
        CHECK(sobol_coordinate(n, 1) == dim2[n - 1]);
        CHECK(sobol_coordinate(n, 2) == dim3[n - 1]);
    }
    for (std::size_t d = 0; d < kSobolMaxDimensions; ++d) CHECK(sobol_coordinate(0, d) == 0.0);

    // Each coordinate of the first 2^m points is a permutation of k / 2^m: every dimension's
    // direction numbers are well formed.
    for (std::size_t d = 0; d < kSobolMaxDimensions; ++d) {
        INFO("dimension " << d + 1);
        std::set<double> seen;
        for (int n = 0; n < 1024; ++n) seen.insert(sobol_coordinate(n, d) * 1024);
        REQUIRE(seen.size() == 1024);
        CHECK(*seen.rbegin() == 1023.0);
        CHECK(std::all_of(seen.begin(), seen.end(), [](double x) { return x == std::floor(x); }));
    }
    // Any two dimensions of the first 256 points fill all 16 x 16 squares once each ((t, s)-sequence
    // property with t = 0 for these pairs of low dimensions in 16 x 16 boxes).
    for (std::size_t a = 0; a < 3; ++a)
        for (std::size_t b = a + 1; b < 3; ++b) {
            std::set<std::pair<int, int>> cells;
            for (int n = 0; n < 256; ++n)
                cells.insert({static_cast<int>(sobol_coordinate(n, a) * 16), static_cast<int>(sobol_coordinate(n, b) * 16)});
            CHECK(cells.size() == 256);
        }
    CHECK_THROWS(sobol_coordinate(1, kSobolMaxDimensions));

    // A design maps points 1..N to each axis' range: linear, log, integer.
    const SweepSpec spec = load(R"([sweep]
design = "sobol"
samples = 4

[[sweep.axis]]
key = "microneedles.needle_length"
range = ["200 um", "1000 um"]

[[sweep.axis]]
key = "product.concentration"
range = ["1e8 /mL", "1e12 /mL"]
scale = "log"

[[sweep.axis]]
key = "product.size_classes"
range = [1, 8]
)");
    CHECK(spec.points == 4);
    CHECK(spec.axes[0].numbers == std::vector<double>{600, 800, 400, 500});
    CHECK(std::vector(spec.axes[1].values.begin(), spec.axes[1].values.end() - 1) ==
          std::vector<std::string>{"\"1e10 /mL\"", "\"1e9 /mL\"", "\"1e11 /mL\""});
    CHECK(spec.axes[1].numbers[3] == Approx(std::pow(10.0, 9.5)).epsilon(1e-12)); // 0.375 of the way in log
    CHECK(spec.axes[2].values == std::vector<std::string>{"5", "3", "7", "6"});
}

TEST_CASE("Field selection: names, output times of the base scenario and run indices", "[sweep][spec]") {
    const SweepSpec spec = load(R"([sweep]
replicates = 4
fields = ["free", "lumen_fraction"]
field_times = ["1 d", "0 h"]
field_runs = [3, 0]
)");
    CHECK(spec.points == 1);
    CHECK(spec.run_count() == 4);
    CHECK(spec.run(2).overrides.size() == 1);
    CHECK(spec.fields == std::vector<std::string>{"free", "lumen_fraction"});
    CHECK(spec.field_times_s == std::vector<double>{0.0, 86400.0});
    CHECK_FALSE(spec.field_all_runs);
    CHECK(spec.field_runs == std::vector<std::size_t>{0, 3});
    CHECK(spec.keeps_fields(3));
    CHECK_FALSE(spec.keeps_fields(2));

    const SweepSpec defaults = load("[sweep]\nreplicates = 2\n");
    CHECK(defaults.fields.empty());
    CHECK_FALSE(defaults.keeps_fields(0));
    CHECK(defaults.field_times_s == std::vector<double>{0.0, 86400.0, 172800.0});
    CHECK(defaults.field_all_runs);
    CHECK(load("[sweep]\nreplicates = 2\nfields = [\"bound\"]\nfield_runs = \"all\"\n").keeps_fields(1));
}

TEST_CASE("Mistakes in [sweep] settings name file:line and what was expected", "[sweep][spec]") {
    const std::string axis = "\n[[sweep.axis]]\nkey = \"skin.dermis.hindrance\"\nvalues = [0.1, 0.2]\n";
    check_error("[sweep]\ndesign = \"lhs\"\n" + axis, "design", "expected one of \"grid\", \"latin_hypercube\", \"sobol\"");
    check_error("[sweep]\ndesing = \"grid\"\n" + axis, "desing", "unknown key 'desing' in [sweep]; did you mean 'design'?");
    check_error("[sweep]\nsamples = 10\n" + axis, "samples", "samples is for sampled designs");
    check_error("[sweep]\ndesign = \"sobol\"\n\n[[sweep.axis]]\nkey = \"skin.dermis.hindrance\"\nrange = [0.1, 0.2]\n",
                "design", "design = \"sobol\" needs samples = N");
    check_error("[sweep]\nreplicates = 0\n" + axis, "replicates", "replicates = 0: expected an integer >= 1");
    check_error("[sweep]\nseeds = \"shared\"\n" + axis, "seeds", "expected one of \"independent\", \"common\"");
    check_error("[sweep]\n", "[sweep]", "nothing to sweep");
    check_error("[sweep]\ndesign = \"latin_hypercube\"\nsamples = 8\n", "[sweep]", "there is no [[sweep.axis]]");
    check_error("[sweep]\n[sweep.axis]\nkey = \"product.gsd\"\n", "[sweep.axis]", "[[sweep.axis]] (double brackets)");

    // 21 number keys: one more than Sobol's direction numbers cover.
    std::string many = "[sweep]\ndesign = \"sobol\"\nsamples = 8\n";
    std::vector<std::string> keys{"skin.channel_lumen_hindrance", "responses.collagen_tgf_gain", "cells.potency",
                                  "responses.alpha",              "responses.k1",      "responses.alpha_min",
                                  "responses.collagen3_fraction", "responses.collagen3_fraction_ev",
                                  "responses.collagen_ev_gain"};
    for (const char* layer : {"stratum_corneum", "viable_epidermis", "dermis"})
        for (const char* key : {"hindrance", "clearance", "ecm_binding", "ecm_release"})
            keys.push_back("skin." + std::string(layer) + "." + key);
    REQUIRE(keys.size() == 21);
    for (const auto& key : keys) {
        const bool rate = key.find("clearance") != std::string::npos || key.find("ecm_") != std::string::npos;
        many += "\n[[sweep.axis]]\nkey = \"" + key + "\"\nrange = " + (rate ? "[\"0.1 /h\", \"0.2 /h\"]" : "[0.1, 0.2]") + "\n";
    }
    const std::string message = error_of(many);
    CHECK_THAT(message, Contains("design = \"sobol\" supports at most 20 axes"));
    CHECK_THAT(message, Contains("this sweep has 21"));
    CHECK_THAT(message, StartsWith(at_line_of(file_with(many), "[[sweep.axis]]\nkey = \"skin.dermis.ecm_release\"")));
}

TEST_CASE("Mistakes on a sweep axis name file:line, the key and what was expected", "[sweep][spec]") {
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"product.concentraton\"\nvalues = [\"1e9 /mL\"]\n", "key =",
                "unknown scenario key; did you mean 'product.concentration'?");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"product\"\nvalues = [1]\n", "key =", "'product' is a section");
    check_error("[sweep]\n[[sweep.axis]]\nvalues = [1]\n", "[[sweep.axis]]", "[[sweep.axis]] without key");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"product.gsd\"\nvaluse = [1.2]\n", "valuse",
                "unknown key 'valuse' in [[sweep.axis]]; did you mean 'values'?");
    check_error(R"([sweep]
[[sweep.axis]]
key = "product.gsd"
values = [1.2, 1.4]

[[sweep.axis]]
key = "product.gsd"
values = [2.0]
)",
                "key = \"product.gsd\"\nvalues = [2.0]", "sweep axis \"product.gsd\": swept twice (first at sweeps/x.toml:10)");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"scenario.seed\"\nvalues = [1, 2]\n", "key =",
                "scenario.seed cannot be swept");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"time.outputs\"\nvalues = [1]\n", "key =",
                "holds a list of times, which cannot be swept");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"product.gsd\"\n", "key =", "no values; expected one of values");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"product.gsd\"\nvalues = [1.2]\nlinspace = [1.2, 2]\ncount = 3\n",
                "linspace", "values and linspace are both given");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"product.gsd\"\nlinspace = [1.2, 2]\n", "linspace",
                "linspace needs count = N");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"product.gsd\"\nlinspace = [1.2, 2]\ncount = 1\n", "count",
                "count = 1: expected an integer >= 2");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"product.gsd\"\nvalues = [1.2]\ncount = 3\n", "count",
                "count goes with linspace or logspace");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"microneedles.needle_length\"\nlinspace = [\"250 um\", \"1 mm\"]\ncount = 3\n",
                "linspace", "the endpoints are in different units (\"um\" and \"mm\")");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"microneedles.needle_length\"\nlinspace = [\"250 um\", \"3 h\"]\ncount = 3\n",
                "linspace", "linspace[1] = \"3 h\": this is a time, not a length");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"microneedles.needle_length\"\nlinspace = [250, 1000]\ncount = 3\n",
                "linspace", "linspace[0] = 250: expected a length such as \"500 um\" (a quoted string with a unit)");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"skin.dermis.hindrance\"\nlogspace = [0, 0.5]\ncount = 3\n", "logspace",
                "logspace needs positive endpoints");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"microneedles.shape\"\nlinspace = [\"cone\", \"pyramid\"]\ncount = 2\n",
                "linspace", "linspace needs a key holding a quantity, a number or an integer");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"product.gsd\"\nrange = [1.2, 2]\n", "range",
                "range is for sampled designs");
    check_error("[sweep]\ndesign = \"sobol\"\nsamples = 4\n[[sweep.axis]]\nkey = \"product.gsd\"\nvalues = [1.2, 2]\n",
                "values", "values is for design = \"grid\"");
    check_error("[sweep]\ndesign = \"sobol\"\nsamples = 4\n[[sweep.axis]]\nkey = \"product.gsd\"\nrange = [1.2, 2]\nscale = \"ln\"\n",
                "scale", "scale = \"ln\": expected one of \"linear\", \"log\"");
    check_error("[sweep]\ndesign = \"sobol\"\nsamples = 4\n[[sweep.axis]]\nkey = \"cells.potency\"\nrange = [0, 2]\nscale = \"log\"\n",
                "range", "scale = \"log\" needs positive endpoints");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"product.gsd\"\nvalues = [1.2, 1.2]\n", "values",
                "value 1.2 is listed twice");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"microneedles.shape\"\nvalues = [\"cone\", 3]\n", "values",
                "value 3: expected one of \"cone\", \"pyramid\", got an integer");
}

TEST_CASE("A value the key does not accept is reported with the scenario loader's reason", "[sweep][spec]") {
    // Out of the key's range.
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"skin.dermis.thickness\"\nvalues = [\"1000 um\",\n  \"-5 um\"]\n", "\"-5 um\"",
                "sweep axis \"skin.dermis.thickness\": value \"-5 um\": out of range; expected a length above 0 um, up to 10000 um");
    // The wrong kind of quantity, and a number without a unit.
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"skin.dermis.thickness\"\nvalues = [\"2 h\"]\n", "values",
                "value \"2 h\": this is a time, not a length");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"skin.dermis.thickness\"\nvalues = [800]\n", "values", "value 800: missing unit");
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"microneedles.shape\"\nvalues = [\"cone\", \"pyramd\"]\n", "values",
                "value \"pyramd\": not a known choice; expected one of \"cone\", \"pyramid\"; did you mean \"pyramid\"?");
    // Allowed for the key, but not with the rest of the base scenario (a generated linspace value).
    check_error("[sweep]\n[[sweep.axis]]\nkey = \"microneedles.needle_length\"\nlinspace = [\"500 um\", \"3000 um\"]\ncount = 2\n",
                "linspace", "value \"3000 um\": microneedle channel too deep");
    // Both ends of a sampled range.
    check_error("[sweep]\ndesign = \"latin_hypercube\"\nsamples = 4\n[[sweep.axis]]\nkey = \"skin.dermis.hindrance\"\nrange = [0.1, 2]\n",
                "range", "value 2: out of range; expected a number from 0 to 1");
}

TEST_CASE("Mistakes in the field selection name file:line and the valid choices", "[sweep][spec]") {
    const std::string sweep = "[sweep]\nreplicates = 3\n";
    check_error(sweep + "fields = [\"free\", \"boundd\"]\n", "fields", "\"boundd\": unknown field; expected one of \"free\", \"bound\", \"lumen_fraction\"; did you mean \"bound\"?");
    check_error(sweep + "fields = [\"free\"]\nfield_times = [\"12 h\"]\n", "field_times",
                "\"12 h\": not one of the output times of the base scenario; time.outputs = [\"0 h\", \"24 h\", \"48 h\"]");
    check_error(sweep + "fields = [\"free\"]\nfield_times = [\"12 um\"]\n", "field_times", "this is a length, not a time");
    check_error(sweep + "fields = [\"free\"]\nfield_runs = [0, 3]\n", "field_runs",
                "3: expected a run index from 0 to 2 (this sweep has 3 runs)");
    check_error(sweep + "fields = [\"free\"]\nfield_runs = \"some\"\n", "field_runs", "expected \"all\" or an array of run indices");
}

TEST_CASE("A file without [sweep] is not a sweep, base scenario mistakes are the loader's messages", "[sweep][spec]") {
    try {
        load_sweep_text(kBase, kName);
        FAIL("no InputError");
    } catch (const InputError& e) {
        CHECK_THAT(std::string(e.what()), StartsWith(kName + ": no [sweep] section"));
    }
    try {
        load_sweep_text("[product]\nconcentration = \"1e10\"\n[sweep]\nreplicates = 2\n", kName);
        FAIL("no InputError");
    } catch (const InputError& e) {
        CHECK_THAT(std::string(e.what()), StartsWith(kName + ":2: product.concentration = \"1e10\": missing unit"));
    }
}

TEST_CASE("exoderm run and check refuse a file with a [sweep] section and say to use exoderm sweep", "[sweep][spec]") {
    const std::string text = file_with("[sweep]\nreplicates = 2\n");
    const std::string expected = kName + ":8: this file has a [sweep] section: run it with \"exoderm sweep " + kName +
                                 "\" (or remove the section to run the base scenario)";
    CHECK_THROWS_WITH(load_scenario_text(text, kName), expected);
    CHECK_THROWS_WITH(load_scenario_text(text, kName, {"product.gsd=1.5"}), expected);
    CHECK_NOTHROW(load_scenario_text(text, kName, {}, SweepSection::Ignore));
    // Only [[sweep.axis]], no [sweep] header: still a sweep file.
    CHECK_THROWS_WITH(load_scenario_text(kBase + "[[sweep.axis]]\nkey = \"product.gsd\"\nvalues = [1.5]\n", kName),
                      Contains(":8: this file has a [sweep] section"));

    exoderm::testing::TempDir dir("sweep_spec");
    const auto file = dir.path() / "s.toml";
    std::ofstream(file) << text;
    CHECK_THROWS_WITH(load_scenario(file), Contains("s.toml:8: this file has a [sweep] section: run it with \"exoderm sweep "));
    CHECK(load_sweep(file).run_count() == 2);

    // The command line: exit code 2 and the message on stderr.
    std::string cmd = "'";
    cmd.append(EXODERM_BINARY).append("' check '").append(file.string()).append("' > '");
    cmd.append((dir.path() / "out.txt").string()).append("' 2> '").append((dir.path() / "err.txt").string()).append("'");
    const int status = std::system(cmd.c_str());
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
    std::ifstream err(dir.path() / "err.txt");
    std::stringstream message;
    message << err.rdbuf();
    CHECK_THAT(message.str(), Contains("s.toml:8: this file has a [sweep] section: run it with \"exoderm sweep "));
}
