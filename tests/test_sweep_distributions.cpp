// Sampled sweep axes drawn from lognormal and normal distributions (batch-to-batch
// variability): reproducible from the base seed, with the medians, spreads and truncation
// asked for, and clear errors for a malformed distribution.
#include "model/errors.hpp"
#include "model/sweep_spec.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace exoderm;
using Catch::Matchers::Contains;

namespace {

const std::string kBase = "[scenario]\nseed = 11\n[time]\nend = \"1 d\"\noutputs = [\"0 h\", \"1 d\"]\n";

SweepSpec sweep_of(const std::string& sweep) { return load_sweep_text(kBase + sweep, "sweeps/x.toml"); }

std::string error_of(const std::string& sweep) {
    try {
        sweep_of(sweep);
    } catch (const InputError& e) {
        return e.what();
    }
    FAIL("no InputError for\n" << sweep);
    return {};
}

double median_of(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

const std::string kLognormal = R"([sweep]
design = "latin_hypercube"
samples = 400
[[sweep.axis]]
key = "product.concentration"
distribution = "lognormal"
median = "1e11 /mL"
gsd = 2
[[sweep.axis]]
key = "product.contamination"
distribution = "normal"
mean = 0.05
sd = 0.02
range = [0, 0.2]
)";

} // namespace

TEST_CASE("a lognormal sweep axis has the asked median and geometric SD, a normal one its mean and SD", "[sweep]") {
    const SweepSpec spec = sweep_of(kLognormal);
    REQUIRE(spec.points == 400);
    const auto& conc = spec.axes[0].numbers;
    const auto& contamination = spec.axes[1].numbers;
    REQUIRE(conc.size() == 400);
    CHECK(spec.axes[0].display_unit == "/mL");
    std::vector<double> logs;
    for (double c : conc) logs.push_back(std::log(c));
    double mean = 0, var = 0;
    for (double l : logs) mean += l / logs.size();
    for (double l : logs) var += (l - mean) * (l - mean) / (logs.size() - 1);
    // A Latin hypercube stratifies the probabilities, so the sample moments are close.
    CHECK(std::exp(median_of(logs)) == Approx(1e11).epsilon(0.02));
    CHECK(std::exp(std::sqrt(var)) == Approx(2.0).epsilon(0.03));
    double m = 0, v = 0;
    for (double c : contamination) m += c / contamination.size();
    for (double c : contamination) v += (c - m) * (c - m) / (contamination.size() - 1);
    CHECK(m == Approx(0.05).epsilon(0.02));
    CHECK(std::sqrt(v) == Approx(0.02).epsilon(0.05));
    CHECK(*std::min_element(contamination.begin(), contamination.end()) >= 0.0);
}

TEST_CASE("distribution samples are reproducible from the base seed and change with it", "[sweep]") {
    const SweepSpec a = sweep_of(kLognormal), b = sweep_of(kLognormal);
    CHECK(a.axes[0].values == b.axes[0].values);
    CHECK(a.run(17).overrides == b.run(17).overrides);
    std::string other = kBase + kLognormal;
    other.replace(other.find("seed = 11"), 9, "seed = 12");
    const SweepSpec c = load_sweep_text(other, "sweeps/x.toml");
    CHECK(c.axes[0].values != a.axes[0].values);
    CHECK(a.identity != c.identity);
}

TEST_CASE("a truncated distribution keeps every sample inside its range", "[sweep]") {
    const SweepSpec spec = sweep_of(R"([sweep]
design = "sobol"
samples = 64
[[sweep.axis]]
key = "cells.potency"
distribution = "lognormal"
median = 1
gsd = 3
range = [0.5, 1.5]
)");
    for (double v : spec.axes[0].numbers) {
        CHECK(v >= 0.5);
        CHECK(v <= 1.5);
    }
}

TEST_CASE("malformed distributions get one message naming the axis and what is wrong", "[sweep]") {
    const std::string head = "[sweep]\ndesign = \"latin_hypercube\"\nsamples = 8\n[[sweep.axis]]\nkey = \"cells.potency\"\n";
    CHECK_THAT(error_of(head + "distribution = \"weibull\"\n"), Contains("expected one of \"lognormal\", \"normal\""));
    CHECK_THAT(error_of(head + "distribution = \"lognormal\"\nmedian = 1\n"), Contains("needs median and gsd"));
    CHECK_THAT(error_of(head + "distribution = \"lognormal\"\nmedian = 1\ngsd = 0.5\n"), Contains("above 1"));
    CHECK_THAT(error_of(head + "distribution = \"normal\"\nmean = 1\nsd = -1\n"), Contains("sd = -1"));
    CHECK_THAT(error_of(head + "distribution = \"normal\"\nmedian = 1\ngsd = 2\n"), Contains("takes mean and sd"));
    CHECK_THAT(error_of(head + "gsd = 2\nrange = [0.5, 1]\n"), Contains("goes with distribution"));
    // Samples outside the key's allowed values are caught up front (potency is 0-100).
    CHECK_THAT(error_of(head + "distribution = \"normal\"\nmean = 0.1\nsd = 1\n"),
               Contains("cells.potency") && Contains("out of range"));
    // Grids list their values.
    CHECK_THAT(error_of("[sweep]\n[[sweep.axis]]\nkey = \"cells.potency\"\ndistribution = \"lognormal\"\nmedian = 1\ngsd = 2\n"),
               Contains("sampled designs"));
}
