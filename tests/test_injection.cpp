// Intradermal injection (docs/wound-and-injection.md): the bolus holds exactly the dose, then
// spreads by diffusion in the dermis as the analytic solution of a uniform sphere says.
#include "model/scenario_load.hpp"
#include "model/tissue.hpp"
#include "solvers/continuum_transport.hpp"
#include "solvers/injection.hpp"
#include "solvers/metrics.hpp"
#include "solvers/responses.hpp"
#include "solvers/simulation.hpp"

#include <catch2/catch.hpp>

#include "input_error.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

using namespace exoderm;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> bolus_scenario(std::vector<std::string> extra = {}) {
    std::vector<std::string> o{"microneedles.enabled=false", "injection.enabled=true", "injection.depth=500 um",
                               "injection.radius=100 um",    "injection.volume=0.1 uL", "domain.size_x=800 um",
                               "domain.size_y=800 um",       "domain.dx=10 um",         "domain.dz=7.5 um",
                               "skin.dermis.thickness=800 um", "product.size_classes=1", "cells.enabled=false",
                               "skin.dermis.ecm_binding=0 /h"};
    o.insert(o.end(), extra.begin(), extra.end());
    return o;
}

struct Moments {
    double total = 0.0;
    double var_x = 0.0, var_y = 0.0, var_z = 0.0;
};

Moments moments(const Grid& g, std::span<const double> c) {
    double m0 = 0.0, mx = 0.0, my = 0.0, mz = 0.0;
    for (int z = 0; z < g.nz; ++z)
        for (int y = 0; y < g.ny; ++y)
            for (int x = 0; x < g.nx; ++x) {
                const double v = c[g.index(x, y, z)];
                m0 += v;
                mx += v * g.x_centre_um(x);
                my += v * (y + 0.5) * g.dy_um;
                mz += v * g.z_centre_um(z);
            }
    mx /= m0, my /= m0, mz /= m0;
    Moments m;
    for (int z = 0; z < g.nz; ++z)
        for (int y = 0; y < g.ny; ++y)
            for (int x = 0; x < g.nx; ++x) {
                const double v = c[g.index(x, y, z)] / m0;
                m.var_x += v * (g.x_centre_um(x) - mx) * (g.x_centre_um(x) - mx);
                m.var_y += v * ((y + 0.5) * g.dy_um - my) * ((y + 0.5) * g.dy_um - my);
                m.var_z += v * (g.z_centre_um(z) - mz) * (g.z_centre_um(z) - mz);
            }
    m.total = m0 * g.voxel_volume_um3();
    return m;
}

} // namespace

TEST_CASE("the injected bolus holds exactly the dose, concentration x volume, and nothing is left on the skin",
          "[injection]") {
    const Scenario s = load_scenario_text("", "inject.toml", bolus_scenario({"product.size_classes=3"}));
    const Tissue tissue(s);
    const ContinuumTransport transport(s, tissue);
    const double dose = s.product.concentration_per_um3 * s.injection.volume_um3; // 1e10 /mL x 0.1 uL = 1e6
    CHECK(dose == Approx(1e6));
    std::vector<double> total(tissue.grid().size());
    transport.total_free(total);
    const Moments m = moments(tissue.grid(), total);
    CHECK(m.total == Approx(dose).epsilon(1e-12));
    CHECK(transport.flows().applied == Approx(dose).epsilon(1e-14));
    CHECK(transport.flows().reservoir == 0.0);
    // A uniform sphere of radius R has a variance of R^2 / 5 per axis (grid sampling aside).
    CHECK(m.var_x == Approx(100.0 * 100.0 / 5.0).epsilon(0.03));
    CHECK(m.var_z == Approx(100.0 * 100.0 / 5.0).epsilon(0.03));
}

TEST_CASE("early on the bolus spreads in the dermis as the analytic solution: variance + 2 D t per axis, "
          "centre at erf(a) - 2a/sqrt(pi) exp(-a^2) of the initial level",
          "[injection]") {
    const Scenario s = load_scenario_text("", "inject.toml", bolus_scenario());
    const Tissue tissue(s);
    ContinuumTransport transport(s, tissue);
    const Grid& g = tissue.grid();
    const double d = s.layer(Layer::Dermis).hindrance * transport.size_classes().front().d0_um2_per_s;
    const Moments start = moments(g, transport.free_class(0));
    double t = 0.0;
    const double end = 3600.0;
    while (t < end) {
        t = std::min(end, t + 60.0);
        transport.step_to(t);
    }
    const Moments m = moments(g, transport.free_class(0));
    // Backward Euler keeps the second moment exact in time: the only errors are the walls,
    // which the plume has not reached.
    CHECK(m.var_x - start.var_x == Approx(2.0 * d * end).epsilon(0.01));
    CHECK(m.var_y - start.var_y == Approx(2.0 * d * end).epsilon(0.01));
    CHECK(m.var_z - start.var_z == Approx(2.0 * d * end).epsilon(0.02));
    // Centre of a diffusing uniform sphere (radius R, level C0): C0 [erf(a) - 2a/sqrt(pi) e^(-a^2)],
    // a = R / (2 sqrt(D t)). Losses (clearance, degradation) are uniform in the dermis, so the
    // level is the sphere's share of what is left.
    const double radius = s.injection.radius_um;
    const double level = m.total / (4.0 / 3.0 * std::numbers::pi * radius * radius * radius);
    const double a = radius / (2.0 * std::sqrt(d * end));
    const double centre = level * (std::erf(a) - 2.0 * a / std::sqrt(std::numbers::pi) * std::exp(-a * a));
    const auto f = transport.free_class(0);
    const double peak = *std::max_element(f.begin(), f.end());
    CHECK(peak == Approx(centre).epsilon(0.05));
    CHECK(m.total < start.total); // dermal clearance and degradation act
}

TEST_CASE("an injection run keeps the dose balance and puts nearly the whole dose in the dermis", "[injection]") {
    const Scenario s = load_scenario_text("", "inject.toml",
                                          bolus_scenario({"time.end=1 h", "time.outputs=[\"0 h\", \"1 h\"]",
                                                          "domain.dx=20 um", "domain.dz=7.5 um"}));
    struct View : RunObserver {
        double worst = 0.0;
        TransportMetrics last;
        void on_step(const RunView& run) override { worst = std::max(worst, measure_run(run).dose.balance_error_rel()); }
        void on_output(std::size_t, const RunView& run) override { last = measure_run(run); }
    } view;
    Simulation sim(s);
    sim.run(view);
    CHECK(view.worst < 1e-12);
    const auto& fraction = view.last.penetration.fraction_of_dose;
    CHECK(fraction[static_cast<int>(Layer::StratumCorneum)] == 0.0);
    CHECK(fraction[static_cast<int>(Layer::Dermis)] > 0.7); // the rest is cleared or degraded
    CHECK(fraction[static_cast<int>(Layer::Dermis)] + view.last.dose.cleared / view.last.dose.applied +
              view.last.dose.degraded / view.last.dose.applied ==
          Approx(1.0).epsilon(1e-3));
}

TEST_CASE("injection injury is the tissue around the bolus", "[injection]") {
    const Scenario s = load_scenario_text(
        "", "inject.toml",
        bolus_scenario({"responses.injury=injection", "responses.injury_radius=50 um", "domain.dx=20 um"}));
    const Tissue tissue(s);
    const Responses responses(s, tissue);
    CHECK(responses.injury_at(400.0, 400.0, 500.0) == 1.0);
    CHECK(responses.injury_at(400.0 + 140.0, 400.0, 500.0) == 1.0);
    CHECK(responses.injury_at(400.0 + 160.0, 400.0, 500.0) == 0.0);
    CHECK(responses.injury_at(400.0, 400.0, 700.0) == 0.0);
}

TEST_CASE("injection scenarios reject particle transport, needle channels and a bolus outside the tissue",
          "[injection]") {
    CHECK_THAT(input_error_of(bolus_scenario({"transport.mode=particles"})), Contains("does not support an injection"));
    CHECK_THAT(input_error_of(bolus_scenario({"microneedles.enabled=true", "microneedles.pitch=800 um"})),
               Contains("no film on the skin"));
    CHECK_THAT(input_error_of(bolus_scenario({"injection.depth=80 um"})), Contains("must lie below the stratum corneum"));
    CHECK_THAT(input_error_of(bolus_scenario({"responses.injury=injection", "injection.enabled=false"})),
               Contains("needs injection.enabled"));
}
