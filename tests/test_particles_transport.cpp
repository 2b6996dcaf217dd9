// Particle mode on real scenarios: the exact integer dose ledger, channels that close and a
// film that dries, reproducibility across thread counts, convergence of the particle density
// to the PDE solution of the same scenario like 1/sqrt(N), and agreement with continuum mode
// on the default scenario.
//
// Statistical checks: fixed seeds, tolerances of 4 standard errors computed in the test from
// Poisson statistics of the particle counts (a count of independent particles in a region is
// Poisson: they enter as a Poisson process and move and react independently).
#include "model/scenario_load.hpp"
#include "solvers/continuum_transport.hpp"
#include "solvers/metrics.hpp"
#include "solvers/particle_transport.hpp"
#include "solvers/simulation.hpp"
#include "solvers/time_stepping.hpp"

#include <catch2/catch.hpp>
#include <omp.h>

#include <cmath>
#include <string>
#include <vector>

using namespace exoderm;

namespace {

const std::string kDefaultScenario = std::string(EXODERM_SOURCE_DIR) + "/scenarios/default.toml";
constexpr double kSigmas = 4.0;

std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& extra) {
    base.insert(base.end(), extra.begin(), extra.end());
    return base;
}

// The default scenario in particle mode, coarser laterally (dx 20 um, 6 cells across the mouth)
// and shorter, for test speed.
std::vector<std::string> quick_particles(std::vector<std::string> extra = {}) {
    return with({"transport.mode=particles", "domain.dx=20 um", "time.end=1 h", "time.outputs=[\"0 h\", \"1 h\"]"},
                extra);
}

struct Steps : RunObserver {
    std::vector<ParticleCounts> counts;
    std::vector<double> balance_error;
    std::vector<TransportMetrics> outputs;
    void on_step(const Transport& t) override {
        counts.push_back(dynamic_cast<const ParticleTransport&>(t).counts());
        balance_error.push_back(measure(t).dose.balance_error_rel());
    }
    void on_output(std::size_t, const Transport& t) override { outputs.push_back(measure(t)); }
};

// Amount (free + bound, particles) per depth row of a transport's fields.
std::vector<double> row_amounts(const Transport& t) {
    const DepthProfile p = depth_profile(t);
    std::vector<double> a(p.free_amount.size());
    for (std::size_t z = 0; z < a.size(); ++z) a[z] = p.free_amount[z] + p.bound_amount[z];
    return a;
}

// Runs a scenario to its end and returns the transport.
std::unique_ptr<Transport> run_to_end(const Scenario& s, const Tissue& tissue) {
    auto t = make_transport(s, tissue);
    TimeStepper stepper(s.time);
    for (double target : s.time.output_times_s)
        while (t->time_s() < target) t->step_to(stepper.next(t->time_s(), target));
    return t;
}

} // namespace

TEST_CASE("Particle mode: the dose ledger balances exactly in integer counts at every step", "[particles][balance]") {
    SECTION("default physics") {
        const Scenario s = load_scenario(kDefaultScenario, quick_particles({"particles.budget=200000"}));
        Simulation sim(s);
        Steps r;
        sim.run(r);
        REQUIRE(!r.counts.empty());
        for (std::size_t i = 0; i < r.counts.size(); ++i) {
            const auto& c = r.counts[i];
            INFO("step " << i);
            REQUIRE(c.accounted() == c.applied);
            REQUIRE(c.entered - c.exited == c.free + c.bound + c.degraded + c.cleared);
            REQUIRE(r.balance_error[i] < 1e-12); // the same ledger in vesicles, from the fields
        }
        const auto& end = r.counts.back();
        CHECK(end.applied == 200000);
        CHECK(end.entered > 0);
        CHECK(end.exited > 0);
        CHECK(end.free > 0);
        CHECK(end.bound > 0);
        CHECK(end.degraded > 0);
        CHECK(end.cleared > 0);
    }
    SECTION("sink bottom under a thin dermis, deep channels, film that never dries") {
        const Scenario s = load_scenario(
            kDefaultScenario, quick_particles({"particles.budget=100000", "transport.bottom=sink",
                                               "skin.dermis.thickness=150 um", "microneedles.insertion_efficiency=0.4",
                                               "microneedles.needle_length=400 um", "product.drying_time=never"}));
        Simulation sim(s);
        Steps r;
        sim.run(r);
        for (const auto& c : r.counts) REQUIRE(c.accounted() == c.applied);
        for (double e : r.balance_error) REQUIRE(e < 1e-12);
        CHECK(r.counts.back().cleared > 0);
    }
}

TEST_CASE("Particle mode: closed channels and a dried film stop the exchange; trapped particles stay", "[particles][channels]") {
    SECTION("channels closing in 10 min") {
        // The 62.5 um mouth is narrower than a vesicle radius after 10 min * ln(1250) = 71 min.
        const Scenario s = load_scenario(
            kDefaultScenario,
            with({"transport.mode=particles", "domain.dx=20 um", "particles.budget=200000", "time.end=2 h",
                  "time.outputs=[\"0 h\", \"75 min\", \"2 h\"]", "microneedles.closure_time=10 min",
                  "product.drying_time=never"},
                 {}));
        const Tissue tissue(s);
        ParticleTransport t(s, tissue);
        TimeStepper stepper(s.time);
        while (t.time_s() < 75 * 60.0) t.step_to(stepper.next(t.time_s(), 75 * 60.0));
        REQUIRE(t.open_half_width_um() == 0.0);
        const ParticleCounts closed = t.counts();
        CHECK(closed.entered > 0);
        // Particles left in the stratum corneum rows by the closing channel are trapped there.
        const double sc = s.layers[0].thickness_um;
        std::vector<std::pair<std::uint32_t, float>> trapped;
        const auto& p = t.particles();
        for (std::size_t i = 0; i < p.size(); ++i)
            if (p.z[i] < sc) trapped.emplace_back(p.id[i], p.z[i]);
        CHECK(!trapped.empty());
        while (t.time_s() < s.time.end_s) t.step_to(stepper.next(t.time_s(), s.time.end_s));
        const ParticleCounts later = t.counts();
        CHECK(later.entered == closed.entered);
        CHECK(later.exited == closed.exited);
        CHECK(later.reservoir == closed.reservoir);
        std::size_t still = 0;
        for (std::size_t i = 0; i < p.size(); ++i)
            for (const auto& [id, z] : trapped)
                if (p.id[i] == id) {
                    CHECK(p.z[i] == z);
                    ++still;
                }
        CHECK(still > 0);
    }
    SECTION("a film drying at 30 min") {
        const Scenario s = load_scenario(kDefaultScenario,
                                         quick_particles({"particles.budget=200000", "product.drying_time=30 min",
                                                          "microneedles.closure_time=30 h",
                                                          "time.outputs=[\"0 h\", \"31 min\", \"1 h\"]"}));
        Simulation sim(s);
        Steps r;
        sim.run(r);
        CHECK(r.outputs[2].dose.delivered == r.outputs[1].dose.delivered);
        CHECK(r.outputs[2].dose.reservoir == r.outputs[1].dose.reservoir);
        CHECK(r.outputs[1].dose.delivered > 0.0);
    }
    SECTION("intact skin") {
        const Scenario s = load_scenario(kDefaultScenario, quick_particles({"microneedles.enabled=false"}));
        Simulation sim(s);
        Steps r;
        sim.run(r);
        CHECK(r.counts.back().entered == 0);
        CHECK(r.counts.back().reservoir == r.counts.back().applied);
    }
}

TEST_CASE("Particle mode gives bitwise identical results on 1 and 2 threads", "[particles][reproducible]") {
    const Scenario s = load_scenario(kDefaultScenario, quick_particles({"particles.budget=300000"}));
    const Tissue tissue(s);
    const int before = omp_get_max_threads();
    omp_set_num_threads(1);
    const auto one = run_to_end(s, tissue);
    omp_set_num_threads(2);
    const auto two = run_to_end(s, tissue);
    omp_set_num_threads(before);
    const auto& a = dynamic_cast<const ParticleTransport&>(*one);
    const auto& b = dynamic_cast<const ParticleTransport&>(*two);
    REQUIRE(a.particles().size() > 1000);
    CHECK(a.particles().x == b.particles().x);
    CHECK(a.particles().y == b.particles().y);
    CHECK(a.particles().z == b.particles().z);
    CHECK(a.particles().id == b.particles().id);
    CHECK(a.particles().clock == b.particles().clock);
    CHECK(a.particles().state == b.particles().state);
    const auto ca = a.counts(), cb = b.counts();
    CHECK(ca.entered == cb.entered);
    CHECK(ca.degraded == cb.degraded);
    CHECK(ca.cleared == cb.cleared);
    CHECK(a.substeps_taken() == b.substeps_taken());
    for (std::size_t k = 0; k < a.field_classes(); ++k) {
        CHECK(std::equal(a.free_class(k).begin(), a.free_class(k).end(), b.free_class(k).begin()));
        CHECK(std::equal(a.bound_class(k).begin(), a.bound_class(k).end(), b.bound_class(k).begin()));
    }
}
