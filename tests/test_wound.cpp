// Wound bed and re-epithelialisation (docs/wound-and-injection.md): the cavity geometry, the
// film coupling to the exposed dermis, the closing front against its analytic closed
// fraction, and the input errors of wound scenarios.
#include "model/scenario_load.hpp"
#include "model/tissue.hpp"
#include "model/wound.hpp"
#include "solvers/continuum_transport.hpp"
#include "solvers/metrics.hpp"
#include "solvers/reepithelialisation.hpp"
#include "solvers/response_metrics.hpp"
#include "solvers/simulation.hpp"

#include <catch2/catch.hpp>

#include "input_error.hpp"

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

using namespace exoderm;
using Catch::Matchers::Contains;

namespace {

constexpr double kDay = 86400.0;

WoundSpec disk_spec(double radius_um) {
    WoundSpec w;
    w.shape = WoundShape::Disk;
    w.radius_um = radius_um;
    w.front_speed_um_per_s = 200.0 / kDay; // 0.2 mm/d
    w.ev_acceleration = 1.0;
    w.signal_half = 10.0;
    w.sense_band_um = 100.0;
    return w;
}

// A small disk wound in a transport-only box (cells off) for geometry and coupling checks.
std::vector<std::string> small_disk_wound(std::vector<std::string> extra = {}) {
    std::vector<std::string> o{"microneedles.enabled=false", "wound.shape=disk", "wound.radius=100 um",
                               "domain.size_x=400 um", "domain.size_y=400 um", "domain.dx=20 um", "domain.dz=5 um",
                               "skin.dermis.thickness=300 um", "cells.enabled=false", "product.size_classes=1"};
    o.insert(o.end(), extra.begin(), extra.end());
    return o;
}

struct LastView : RunObserver {
    TransportMetrics metrics;
    double worst_balance = 0.0;
    void on_step(const RunView& run) override {
        worst_balance = std::max(worst_balance, measure_run(run).dose.balance_error_rel());
    }
    void on_output(std::size_t, const RunView& run) override { metrics = measure_run(run); }
};

} // namespace

TEST_CASE("a disk wound front at constant signal closes at the analytic speed: closed = 1 - (1 - v t / R)^2",
          "[wound]") {
    const double radius = 1000.0;
    for (double signal : {0.0, 10.0, 1e6}) {
        ReepithelialisationFront front(WoundGeometry(disk_spec(radius), 3000.0, 3000.0, 85.0));
        const double v = 200.0 / kDay * (1.0 + signal / (10.0 + signal));
        CHECK(front.speed_um_per_s(signal) == Approx(v).epsilon(1e-14));
        double previous = front.closed_fraction();
        CHECK(previous == 0.0);
        for (int hour = 1; hour <= 24 * 12; ++hour) {
            front.advance(3600.0, signal);
            const double t = hour * 3600.0;
            const double open = std::max(0.0, 1.0 - v * t / radius);
            REQUIRE(front.closed_fraction() == Approx(1.0 - open * open).margin(1e-12));
            REQUIRE(front.closed_fraction() >= previous); // closure never reverses
            previous = front.closed_fraction();
        }
    }
}

TEST_CASE("a scratch closes linearly from both edges, and EVs at the front make it close faster", "[wound]") {
    WoundSpec w = disk_spec(0.0);
    w.shape = WoundShape::Strip;
    w.width_um = 500.0;
    w.length_um = 2000.0;
    const WoundGeometry geometry(w, 1500.0, 3000.0, 85.0);
    ReepithelialisationFront control(geometry), treated(geometry);
    const double v0 = w.front_speed_um_per_s;
    double t50_control = 0.0, t50_treated = 0.0;
    for (int minute = 1; minute <= 60 * 24 * 3; ++minute) {
        control.advance(60.0, 0.0);
        treated.advance(60.0, 30.0); // S = 3 K_S: 1.75 x faster
        const double t = minute * 60.0;
        REQUIRE(control.closed_fraction() == Approx(std::min(1.0, v0 * t / 250.0)).margin(1e-12));
        if (t50_control == 0.0 && control.closed_fraction() >= 0.5 - 1e-12) t50_control = t;
        if (t50_treated == 0.0 && treated.closed_fraction() >= 0.5 - 1e-12) t50_treated = t;
    }
    CHECK(t50_control == Approx(0.5 * 250.0 / v0).margin(60.0));
    CHECK(t50_treated < t50_control);
    CHECK(t50_control / t50_treated == Approx(1.75).epsilon(0.005));
}

TEST_CASE("the front senses dermal cells near it and under the bed only", "[wound]") {
    const WoundGeometry geometry(disk_spec(1000.0), 3000.0, 3000.0, 85.0);
    ReepithelialisationFront front(geometry);
    CellPopulation cells;
    cells.add(1500.0 + 1000.0, 1500.0, 120.0, CellType::Fibroblast, MacrophageState::None, 0); // at the front
    cells.add(1500.0, 1500.0, 120.0, CellType::Fibroblast, MacrophageState::None, 0);          // wound centre
    cells.add(1500.0 - 1000.0, 1500.0, 60.0, CellType::Keratinocyte, MacrophageState::None, 0); // epidermis
    cells.signal = {8.0, 100.0, 100.0};
    CHECK(front_signal(front, cells) == 8.0);
    front.advance(500.0 / (200.0 / kDay), 0.0); // front now at r = 500 um
    CHECK(front.open_half_size_um() == Approx(500.0));
    CHECK(front_signal(front, cells) == 0.0);
}

TEST_CASE("closure times are read where the closed fraction crosses 50 % and 90 %", "[wound]") {
    std::vector<ResponseSample> series;
    for (int d = 0; d <= 10; ++d) {
        ResponseSample s;
        s.time_s = d * kDay;
        s.readout.wound = true;
        s.readout.wound_closed_fraction = std::min(1.0, 0.1 * d);
        series.push_back(s);
    }
    const ResponseSummary summary = summarise(series);
    CHECK(summary.wound_closure_50pct_s == Approx(5 * kDay));
    CHECK(summary.wound_closure_90pct_s == Approx(9 * kDay));
    bool named = false;
    for (const auto& v : readout_table(summary)) named = named || v.name == "wound_closure_90pct_time_s";
    CHECK(named);
    series.resize(4); // never reaches 50 %
    CHECK(std::isnan(summarise(series).wound_closure_50pct_s));
}

TEST_CASE("the wound cavity replaces stratum corneum, epidermis and lost dermis over the wound area", "[wound]") {
    const Scenario s = load_scenario_text("", "wound.toml", small_disk_wound({"wound.dermis_loss=50 um"}));
    const Tissue tissue(s);
    const Grid& g = tissue.grid();
    std::vector<double> lumen(g.size());
    tissue.lumen_fraction(0.0, lumen);
    double volume = 0.0;
    for (double f : lumen) volume += f * g.voxel_volume_um3();
    const double bed = 15.0 + 70.0 + 50.0;
    CHECK(tissue.wound().bed_depth_um() == bed);
    // Sub-sampled outline: the cavity volume follows pi R^2 depth to within a few percent.
    CHECK(volume == Approx(std::numbers::pi * 100.0 * 100.0 * bed).epsilon(0.03));
    CHECK(lumen[g.index(10, 10, 0)] == 1.0);                    // centre, stratum corneum row
    CHECK(lumen[g.index(10, 10, static_cast<int>(bed / 5) - 1)] == 1.0); // just above the bed
    CHECK(lumen[g.index(10, 10, static_cast<int>(bed / 5) + 1)] == 0.0); // dermis below the bed
    CHECK(lumen[g.index(0, 0, 0)] == 0.0);                     // intact skin in the corner
    CHECK(tissue.wound().distance_to_surface_um(200.0, 200.0, bed + 30.0) == Approx(30.0));
    CHECK(tissue.wound().distance_to_surface_um(200.0 + 140.0, 200.0, 40.0) == Approx(40.0));
}

TEST_CASE("the film feeds the dermis through the wound bed, with the dose balance closed, intact skin gets nothing",
          "[wound]") {
    const auto run = [](std::vector<std::string> extra) {
        const Scenario s = load_scenario_text("", "wound.toml", small_disk_wound(std::move(extra)));
        Simulation sim(s);
        LastView view;
        sim.run(view);
        return view;
    };
    const std::vector<std::string> short_run{"time.end=1 h", "time.outputs=[\"0 h\", \"1 h\"]"};
    const LastView wound = run(short_run);
    CHECK(wound.worst_balance < 1e-12);
    CHECK(wound.metrics.dose.delivered > 0.0);
    CHECK(wound.metrics.penetration.fraction_of_dose[static_cast<int>(Layer::Dermis)] > 1e-4);
    std::vector<std::string> intact = short_run;
    intact.push_back("wound.shape=none");
    const LastView skin = run(intact);
    CHECK(skin.metrics.dose.delivered == 0.0);
    CHECK(skin.metrics.penetration.fraction_of_dose[static_cast<int>(Layer::Dermis)] == 0.0);
}

TEST_CASE("wound scenarios reject particle transport, a wound larger than the box and a wound injury without a wound",
          "[wound]") {
    CHECK_THAT(input_error_of(small_disk_wound({"transport.mode=particles"})),
               Contains("transport.mode") && Contains("does not support a wound bed"));
    CHECK_THAT(input_error_of(small_disk_wound({"wound.radius=250 um"})), Contains("must fit inside the box"));
    CHECK_THAT(input_error_of(small_disk_wound({"wound.dermis_loss=295 um"})), Contains("wound.dermis_loss"));
    CHECK_THAT(input_error_of({"responses.injury=wound"}), Contains("needs a wound"));
}
