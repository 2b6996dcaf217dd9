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

#include "test_size.hpp"

#include <catch2/catch.hpp>
#include <omp.h>

#include <cmath>
#include <string>
#include <vector>

using namespace exoderm;

namespace {

const std::string kDefaultScenario = std::string(EXODERM_SOURCE_DIR) + "/scenarios/default.toml";
constexpr double kSigmas = 4.0;

// Transport only: cells need continuum fields.
std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& extra) {
    base.insert(base.begin(), "cells.enabled=false");
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
    void on_step(const RunView& run) override {
        counts.push_back(dynamic_cast<const ParticleTransport&>(run.transport).counts());
        balance_error.push_back(measure(run.transport).dose.balance_error_rel());
    }
    void on_output(std::size_t, const RunView& run) override { outputs.push_back(measure(run.transport)); }
};

// Amount (free + bound, vesicles) per depth row of a transport's fields.
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
        while (t->time_s() < target) t->step_to(stepper.next(t->time_s(), target, t->delivering()));
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

TEST_CASE("Particle mode: closed channels and a dried film stop the exchange, trapped particles stay", "[particles][channels]") {
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
        while (t.time_s() < 75 * 60.0) t.step_to(stepper.next(t.time_s(), 75 * 60.0, t.delivering()));
        REQUIRE(t.open_half_width_um() == 0.0);
        const ParticleCounts closed = t.counts();
        CHECK(closed.entered > 0);
        // Particles left in the stratum corneum rows by the closing channel are trapped there.
        const double sc = s.layers[0].thickness_um;
        std::vector<std::pair<std::uint64_t, float>> trapped;
        const auto& p = t.particles();
        for (std::size_t i = 0; i < p.size(); ++i)
            if (p.z[i] < sc) trapped.emplace_back(p.id[i], p.z[i]);
        CHECK(!trapped.empty());
        while (t.time_s() < s.time.end_s) t.step_to(stepper.next(t.time_s(), s.time.end_s, t.delivering()));
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

namespace {

// Runs with one OpenMP thread in scope: the heavy comparisons below run beside another test
// process under ctest -j2, and results do not depend on the thread count anyway.
struct OneThread {
    int before = omp_get_max_threads();
    OneThread() { omp_set_num_threads(1); }
    ~OneThread() { omp_set_num_threads(before); }
};

// A scenario where the PDE on its grid is accurate, so that the comparison measures the
// particles and not the PDE's discretisation: the default scenario with the whole skin surface
// one open mouth (a 700 um pyramid channel in a 700 um cell, open for the whole run) and every
// layer, the stratum corneum and the lumen at the same hindrance 0.15 (no jumps of D), one
// vesicle size, 30 min. It is a 1D problem run through the full 3D machinery (reservoir
// coupling, sub-steps, binding, release, degradation, clearance per layer), so dx = 100 um;
// dz = 1 um makes the PDE accurate to ~0.1 % near the mouth.
// (On the default geometry the PDE on the default grid is itself 1-2 % off in the dose
// delivered: docs/particles.md, "Agreement with continuum mode".)
std::vector<std::string> open_surface_scenario(std::vector<std::string> extra) {
    return with({"microneedles.pitch=700 um", "microneedles.shape=pyramid", "microneedles.base_width=699 um",
                 "microneedles.insertion_efficiency=1", "microneedles.closure_time=1000 h",
                 "skin.stratum_corneum.hindrance=0.15", "skin.viable_epidermis.hindrance=0.15",
                 "skin.channel_lumen_hindrance=0.15", "product.gsd=1", "product.size_classes=1", "domain.dx=100 um",
                 "domain.dz=1 um",
                 "time.end=30 min", "time.outputs=[\"0 h\", \"30 min\"]", "particles.output_sample=0"},
                extra);
}

} // namespace

TEST_CASE("The particle density converges to the PDE solution of the same scenario like 1/sqrt(N)", "[particles][pde][heavy]") {
    OneThread one;
    // PDE reference: continuum mode with steps of at most 5 s (with the default 5 min steps the
    // continuum is a few % off in the dose delivered).
    // (Sanitizer suite, tests/test_size.hpp: steps of at most 10 s; its smaller particle counts
    // see sampling errors far above the reference's step error.)
    const std::string dt_max = testing::by_test_size<std::string>("5 s", "10 s");
    const Scenario pde_s =
        load_scenario(kDefaultScenario, open_surface_scenario({"time.dt_initial=0.05 s", "time.dt_max=" + dt_max}));
    const Tissue pde_tissue(pde_s);
    const auto pde = run_to_end(pde_s, pde_tissue);
    const std::vector<double> reference = row_amounts(*pde); // vesicles per depth row
    // Compare rows holding at least 0.5 % of what is in the tissue.
    double in_tissue = 0;
    for (double a : reference) in_tissue += a;
    std::vector<std::size_t> rows;
    for (std::size_t z = 0; z < reference.size(); ++z)
        if (reference[z] > 0.005 * in_tissue) rows.push_back(z);
    REQUIRE(rows.size() >= 15);

    // From ~2,000 to ~120,000 particles in the tissue. max_step 1 um: with the default 2 um the
    // particles' own discretisation error becomes visible above ~1e5 particles (chi^2 per row
    // 1.7 at 1.2e5; docs/particles.md).
    // (Sanitizer suite, tests/test_size.hpp: 5e3 to 8e4, a 16x range.)
    const std::vector<double> budgets =
        testing::by_test_size(std::vector<double>{1e4, 4e4, 1.6e5, 6.4e5}, std::vector<double>{5e3, 2e4, 8e4});
    std::vector<double> rms_error;
    for (double budget : budgets) {
        const Scenario s = load_scenario(kDefaultScenario,
                                         open_surface_scenario({"transport.mode=particles", "particles.max_step=1 um",
                                                                "particles.budget=" + std::to_string(std::llround(budget))}));
        const Tissue tissue(s);
        const auto run = run_to_end(s, tissue);
        const double w = dynamic_cast<const ParticleTransport&>(*run).weight();
        const std::vector<double> amounts = row_amounts(*run);
        // Counts per row are Poisson with mean reference / w: chi^2 per row averages 1.
        double chi2 = 0, squared = 0;
        for (std::size_t z : rows) {
            const double expected = reference[z] / w, observed = amounts[z] / w;
            chi2 += (observed - expected) * (observed - expected) / expected;
            squared += (amounts[z] - reference[z]) * (amounts[z] - reference[z]);
        }
        chi2 /= static_cast<double>(rows.size());
        rms_error.push_back(std::sqrt(squared) / in_tissue);
        INFO("budget " << budget << ": particles in tissue " << in_tissue / w << ", chi2 per row " << chi2
                       << ", relative L2 error " << rms_error.back());
        // The mean of R chi^2(1) terms has standard error sqrt(2 / R): the deviation from the
        // PDE is sampling error alone, at every N.
        CHECK(std::abs(chi2 - 1.0) < kSigmas * std::sqrt(2.0 / static_cast<double>(rows.size())));
    }
    // Error ~ N^slope: -0.5 for sampling error. The L2 error over R >= 15 rows has a relative
    // scatter of at most 1/sqrt(2 R) = 0.18, so the slope between the ends of a range of N
    // scatters by at most sqrt(2) 0.18 / ln(range) (0.06 for the 64x range): 4 of those.
    const double range = budgets.back() / budgets.front();
    const double slope = std::log(rms_error.back() / rms_error.front()) / std::log(range);
    INFO("errors " << rms_error.front() << " ... " << rms_error.back() << ", slope " << slope);
    CHECK(std::abs(slope + 0.5) < 4.0 * std::sqrt(2.0) * 0.18 / std::log(range));
}

// At max_step = 1 um (the default; written out because the comparison depends on it). At 2 um
// the first-order error of the sub-step rule at the 20x jump of D across the channel wall adds
// ~2 % to the delivered dose (docs/particles.md, "Open problem ... resolved").

TEST_CASE("On the default scenario particles and continuum agree on layer fractions and depth", "[particles][pde][heavy]") {
    OneThread one;
    // The default scenario, shortened to 30 min (the film is still wet, the channels open);
    // continuum steps of at most 10 s (see above); 1e6 particles (~12,000 enter the tissue).
    // (Sanitizer suite, tests/test_size.hpp: 10 min and 2.5e5 particles; the tolerances are
    // standard errors of the count, so they widen accordingly.)
    const std::string end = testing::by_test_size<std::string>("30 min", "10 min");
    const std::string budget = testing::by_test_size<std::string>("1000000", "250000");
    const std::vector<std::string> common{"time.end=" + end, "time.outputs=[\"0 h\", \"" + end + "\"]",
                                          "particles.output_sample=0"};
    const Scenario cs = load_scenario(kDefaultScenario, with(common, {"time.dt_initial=0.05 s", "time.dt_max=10 s"}));
    const Tissue tissue(cs);
    const auto continuum = run_to_end(cs, tissue);
    const Scenario ps = load_scenario(kDefaultScenario, with(common, {"transport.mode=particles", "particles.budget=" + budget, "particles.max_step=1 um"}));
    const auto particle_run = run_to_end(ps, tissue);
    const auto& p = dynamic_cast<const ParticleTransport&>(*particle_run);
    const TransportMetrics c = measure(*continuum), m = measure(p);
    const double w = p.weight();
    // A layer's count of particles is Poisson: the fraction's standard error is sqrt(n) w / applied.
    for (int layer = 0; layer < kLayerCount; ++layer) {
        const double f = m.penetration.fraction_of_dose[static_cast<std::size_t>(layer)];
        const double se = std::sqrt(f * m.dose.applied / w) * w / m.dose.applied;
        INFO(kLayerKeys[static_cast<std::size_t>(layer)] << ": particles " << f << ", continuum "
                                                         << c.penetration.fraction_of_dose[static_cast<std::size_t>(layer)]
                                                         << ", standard error " << se);
        CHECK(f > 0.0);
        CHECK(std::abs(f - c.penetration.fraction_of_dose[static_cast<std::size_t>(layer)]) < kSigmas * se);
    }
    const double delivered_se = std::sqrt(m.dose.delivered / w) * w;
    CHECK(std::abs(m.dose.delivered - c.dose.delivered) < kSigmas * delivered_se);
    // Depth holding 90 %: a sample quantile, standard error sqrt(0.9 0.1 / n) / density there.
    const auto profile = row_amounts(p);
    double total = 0;
    for (double a : profile) total += a;
    const double dz = tissue.grid().dz_um;
    const auto row = static_cast<std::size_t>(m.penetration.depth90_um / dz);
    const double density = profile[row] / (total * dz); // per um
    const double depth_se = std::sqrt(0.09 / (total / w)) / density;
    INFO("depth90: particles " << m.penetration.depth90_um << " um, continuum " << c.penetration.depth90_um
                               << " um, standard error " << depth_se << " um");
    CHECK(std::abs(m.penetration.depth90_um - c.penetration.depth90_um) < kSigmas * depth_se);
}

TEST_CASE("A fully open surface takes up M = 2 C0 sqrt(D t / pi): the mouth is exact", "[particles][analytic]") {
    OneThread one;
    // The whole surface one open mouth, D uniform (0.15 D0 everywhere), no reactions, a 10 mm
    // film (1000 uL/cm^2) that barely depletes, 10 min: the constant-source solution of
    // MODEL.md section 8, with the depletion of the film to first order: M = M0 (1 - pi/4 M0/A0),
    // M0 = 2 C0 sqrt(D t / pi) x area, A0 the applied dose.
    const Scenario s = load_scenario(
        kDefaultScenario,
        {"transport.mode=particles", "cells.enabled=false", "particles.budget=40000000", "particles.output_sample=0",
         "microneedles.pitch=700 um", "microneedles.shape=pyramid", "microneedles.base_width=699 um",
         "microneedles.insertion_efficiency=1", "microneedles.closure_time=1000 h", "product.drying_time=never",
         "product.gsd=1", "product.size_classes=1", "product.volume=1000 uL/cm^2",
         "skin.stratum_corneum.hindrance=0.15", "skin.viable_epidermis.hindrance=0.15",
         "skin.channel_lumen_hindrance=0.15", "skin.viable_epidermis.ecm_binding=0 /h",
         "skin.dermis.ecm_binding=0 /h", "skin.dermis.clearance=0 /h", "transport.degradation_half_life=3650 d",
         "time.end=10 min", "time.outputs=[\"0 h\", \"10 min\"]"});
    const Tissue tissue(s);
    const auto run = run_to_end(s, tissue);
    const auto& p = dynamic_cast<const ParticleTransport&>(*run);
    const ParticleCounts c = p.counts();
    const double D = 0.15 * p.size_classes()[0].d0_um2_per_s, t = s.time.end_s;
    const Grid& g = tissue.grid();
    const double area = g.size_x_um() * g.size_y_um();
    const double m0 = 2.0 * s.product.concentration_per_um3 * std::sqrt(D * t / 3.14159265358979323846) * area;
    const double applied = static_cast<double>(c.applied) * p.weight();
    const double exact = m0 * (1.0 - 0.25 * 3.14159265358979323846 * m0 / applied);
    const double delivered = static_cast<double>(c.entered - c.exited) * p.weight();
    // The particles in the tissue are a thinned Poisson process: SE = sqrt(n) w.
    const double se = std::sqrt(static_cast<double>(c.entered - c.exited)) * p.weight();
    INFO("delivered " << delivered << " (" << c.entered - c.exited << " particles), exact " << exact << ", ratio "
                      << delivered / exact << " +- " << se / exact);
    CHECK(std::abs(delivered - exact) < kSigmas * se);
    CHECK(p.overdrafts() == 0);
}
