// Invariants of the full transport model on real scenarios: the dose balance, channels
// that close, intact skin, linearity in dose and reproducibility across thread counts.
#include "model/scenario_load.hpp"
#include "solvers/metrics.hpp"
#include "solvers/simulation.hpp"

#include <catch2/catch.hpp>
#include <omp.h>

#include <string>
#include <vector>

using namespace exoderm;

namespace {

const std::string kDefaultScenario = std::string(EXODERM_SOURCE_DIR) + "/scenarios/default.toml";

// A coarser, shorter default scenario keeps the suite fast; the physics is the same.
std::vector<std::string> quick(std::vector<std::string> extra = {}) {
    std::vector<std::string> o{"cells.enabled=false", "domain.dx=20 um", "domain.dz=5 um", "time.end=4 h",
                               "time.outputs=[\"0 h\", \"1 h\", \"2 h\", \"4 h\"]"};
    o.insert(o.end(), extra.begin(), extra.end());
    return o;
}

struct Recorded : RunObserver {
    std::vector<TransportMetrics> at_outputs;
    std::vector<double> step_balance_errors;
    std::vector<double> final_free;
    void on_step(const RunView& run) override {
        step_balance_errors.push_back(measure(run.transport).dose.balance_error_rel());
    }
    void on_output(std::size_t, const RunView& run) override {
        const Transport& t = run.transport;
        at_outputs.push_back(measure(t));
        final_free.assign(t.tissue().grid().size(), 0.0);
        t.total_free(final_free);
    }
};

Recorded run(const std::vector<std::string>& overrides) {
    const Scenario s = load_scenario(kDefaultScenario, overrides);
    Simulation sim(s);
    Recorded r;
    sim.run(r);
    return r;
}

} // namespace

TEST_CASE("The dose balance closes to 1e-9 of the applied dose at every step", "[transport][balance]") {
    SECTION("no-flux bottom") {
        const auto r = run(quick());
        for (double e : r.step_balance_errors) REQUIRE(e < 1e-9);
        const auto& end = r.at_outputs.back().dose;
        CHECK(end.delivered > 0.0);
        CHECK(end.free + end.bound > 0.0);
        CHECK(end.degraded > 0.0);
        CHECK(end.cleared > 0.0);
    }
    SECTION("sink bottom with a thin dermis (vesicles reach the sink)") {
        const auto r = run(quick({"transport.bottom=sink", "skin.dermis.thickness=300 um",
                                  "microneedles.insertion_efficiency=0.6"}));
        for (double e : r.step_balance_errors) REQUIRE(e < 1e-9);
    }
}

TEST_CASE("Closed channels stop the flux while the reservoir still holds vesicles", "[transport][channels]") {
    // tau = 10 min: the 62.5 um mouth is narrower than a vesicle radius after ~ 10 min * ln(1250) = 71 min.
    const auto r = run(quick({"microneedles.closure_time=10 min", "product.drying_time=never"}));
    const auto& at2h = r.at_outputs[2];
    const auto& at4h = r.at_outputs[3];
    CHECK(at2h.open_half_width_um == 0.0);
    CHECK(at4h.dose.reservoir > 0.5 * at4h.dose.applied);
    CHECK(at4h.dose.delivered == at2h.dose.delivered);
    CHECK(at4h.dose.reservoir == at2h.dose.reservoir);
    // While open, the channels did deliver.
    CHECK(at2h.dose.delivered > 0.0);
}

TEST_CASE("A drying film stops feeding the channels", "[transport][channels]") {
    const auto r = run(quick({"product.drying_time=30 min", "microneedles.closure_time=30 h"}));
    CHECK(r.at_outputs[2].open_half_width_um > 0.0);
    CHECK(r.at_outputs[3].dose.delivered == r.at_outputs[1].dose.delivered);
}

TEST_CASE("Intact skin delivers nothing: the stratum corneum is a wall", "[transport][channels]") {
    const auto r = run(quick({"microneedles.enabled=false"}));
    for (const auto& m : r.at_outputs) {
        CHECK(m.dose.delivered == 0.0);
        CHECK(m.dose.free + m.dose.bound == 0.0);
        CHECK(m.dose.reservoir == m.dose.applied);
    }
}

TEST_CASE("Transport is linear in the applied concentration", "[transport][dose]") {
    const auto low = run(quick({"product.concentration=1e9 /mL"}));
    const auto high = run(quick({"product.concentration=1e10 /mL"}));
    const auto& a = low.at_outputs.back();
    const auto& b = high.at_outputs.back();
    CHECK(b.dose.delivered / a.dose.delivered == Approx(10.0).epsilon(1e-9));
    CHECK(b.penetration.fraction_of_dose[2] == Approx(a.penetration.fraction_of_dose[2]).epsilon(1e-9));
}

TEST_CASE("Deeper, longer-open channels deliver more and deeper", "[transport][monotonic]") {
    const auto shallow = run(quick({"microneedles.needle_length=250 um"}));
    const auto deep = run(quick({"microneedles.needle_length=1000 um"}));
    CHECK(deep.at_outputs.back().penetration.fraction_of_dose[2] >
          shallow.at_outputs.back().penetration.fraction_of_dose[2]);
    CHECK(deep.at_outputs.back().penetration.depth90_um > shallow.at_outputs.back().penetration.depth90_um);
    const auto quick_close = run(quick({"microneedles.closure_time=20 min"}));
    const auto slow_close = run(quick({"microneedles.closure_time=3 h"}));
    CHECK(slow_close.at_outputs.back().dose.delivered > quick_close.at_outputs.back().dose.delivered);
}

TEST_CASE("The same scenario gives bitwise identical fields on 1 and 2 threads", "[transport][reproducible]") {
    const int before = omp_get_max_threads();
    omp_set_num_threads(1);
    const auto one = run(quick());
    omp_set_num_threads(2);
    const auto two = run(quick());
    omp_set_num_threads(before);
    REQUIRE(one.final_free.size() == two.final_free.size());
    CHECK(one.final_free == two.final_free);
    CHECK(one.at_outputs.back().dose.degraded == two.at_outputs.back().dose.degraded);
    CHECK(one.at_outputs.back().dose.delivered == two.at_outputs.back().dose.delivered);
}
