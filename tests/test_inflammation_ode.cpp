// Well-mixed Waugh & Sherratt 2006 inflammation core (MODEL.md sections 6 and 8).
#include "solvers/inflammation_ode.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace exoderm;

namespace {
double rel_diff(double a, double b) { return std::abs(a - b) / std::max(std::abs(a), std::abs(b)); }
} // namespace

TEST_CASE("chronic wound (alpha 0.8) settles at the published inflammatory state by day 30",
          "[responses][analytic]") {
    const auto s = integrate_well_mixed(waugh_sherratt_published(0.8), waugh_sherratt_initial(), 30.0);
    INFO("phi_I " << s.phi_inflammatory << " phi_R " << s.phi_repair << " T " << s.tgf_beta);
    CHECK(s.phi_inflammatory == Approx(905.7).epsilon(0.01));
    CHECK(s.phi_repair == Approx(226.6).epsilon(0.01));
    CHECK(s.tgf_beta == Approx(6.97).epsilon(0.01));
}

TEST_CASE("resolving wound (alpha 0.5) falls to the published low state at day 20", "[responses][analytic]") {
    const auto s = integrate_well_mixed(waugh_sherratt_published(0.5), waugh_sherratt_initial(), 20.0);
    INFO("phi_I " << s.phi_inflammatory << " phi_R " << s.phi_repair << " T " << s.tgf_beta);
    CHECK(s.phi_inflammatory == Approx(43.85).epsilon(0.01));
    CHECK(s.phi_repair == Approx(43.85).epsilon(0.01));
    CHECK(s.tgf_beta == Approx(0.341).epsilon(0.01));
}

TEST_CASE("with alpha 0.5 inflammatory and repair macrophages stay equal at all times", "[responses][analytic]") {
    const auto p = waugh_sherratt_published(0.5);
    auto s = waugh_sherratt_initial();
    for (int day = 1; day <= 30; ++day) {
        s = integrate_well_mixed(p, s, 1.0);
        INFO("day " << day << " phi_I " << s.phi_inflammatory << " phi_R " << s.phi_repair);
        CHECK(rel_diff(s.phi_inflammatory, s.phi_repair) < 1e-9);
    }
}

TEST_CASE("the day-30 chronic state is converged in the integrator tolerance", "[responses][analytic]") {
    const auto p = waugh_sherratt_published(0.8);
    const auto a = integrate_well_mixed(p, waugh_sherratt_initial(), 30.0, 1e-10);
    const auto b = integrate_well_mixed(p, waugh_sherratt_initial(), 30.0, 1e-12);
    CHECK(rel_diff(a.phi_inflammatory, b.phi_inflammatory) < 1e-6);
    CHECK(rel_diff(a.phi_repair, b.phi_repair) < 1e-6);
    CHECK(rel_diff(a.tgf_beta, b.tgf_beta) < 1e-6);
}
