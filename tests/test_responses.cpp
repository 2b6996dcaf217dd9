// Tissue responses in full runs (MODEL.md sections 6-8): the spatial Waugh-Sherratt model
// against the well-mixed ODE, reproducibility (seeds, vehicle control, threads), the dose
// balance with cells, the direction of the EV effects, and recruitment at the channel walls.
#include "model/scenario_load.hpp"
#include "solvers/inflammation_ode.hpp"
#include "solvers/metrics.hpp"
#include "solvers/response_metrics.hpp"
#include "solvers/simulation.hpp"

#include "test_size.hpp"

#include <catch2/catch.hpp>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <span>
#include <sstream>
#include <string>
#include <vector>

using namespace exoderm;

namespace {

const std::string kDefaultScenario = std::string(EXODERM_SOURCE_DIR) + "/scenarios/default.toml";
constexpr double kDay = 86400.0;
constexpr double kPerMm3 = 1e-9;  // 1 /mm^3 in cells/um^3
constexpr double kNgPerMl = 1e-24; // 1 ng/mL in kg/um^3
constexpr std::size_t kMacrophage = static_cast<std::size_t>(CellType::Macrophage);

std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& extra) {
    base.insert(base.end(), extra.begin(), extra.end());
    return base;
}

// Everything a test may compare about a run at one time.
struct Snapshot {
    double time_s = 0.0;
    ResponseReadout readout;
    std::vector<double> phi_i, phi_r, tgf, tnf, il10, col1, col3; // response grid, internal units
    CellPopulation cells;
    DoseLedger dose;
    std::vector<double> free_total; // transport grid, particles / um^3
    double dermis_volume_um3 = 0.0;
};

Snapshot snapshot(const RunView& run, bool copy_cells) {
    Snapshot s;
    s.time_s = run.time_s;
    s.dose = measure_run(run).dose;
    s.free_total.assign(run.transport.tissue().grid().size(), 0.0);
    run.transport.total_free(s.free_total);
    if (const CellModel* c = run.cells) {
        const Responses& r = c->responses();
        s.readout = c->readout();
        const auto copy = [](std::span<const double> f) { return std::vector<double>(f.begin(), f.end()); };
        s.phi_i = copy(r.inflammatory_density());
        s.phi_r = copy(r.repair_density());
        s.tgf = copy(r.tgf_beta());
        s.tnf = copy(r.tnf());
        s.il10 = copy(r.il10());
        s.col1 = copy(r.collagen1());
        s.col3 = copy(r.collagen3());
        s.dermis_volume_um3 = static_cast<double>(r.grid().size()) * r.grid().voxel_volume_um3();
        if (copy_cells) s.cells = c->cells();
    }
    return s;
}

struct Recorded : RunObserver {
    bool copy_cells = true;
    bool check_balance = false;
    std::vector<Snapshot> outputs;
    std::vector<ResponseSample> response_series; // at every response step (and t = 0)
    std::vector<double> step_balance_errors;
    double macrophage_signal_end = 0.0; // mean cargo signal of macrophages at the last output

    void on_step(const RunView& run) override {
        if (check_balance) step_balance_errors.push_back(measure_run(run).dose.balance_error_rel());
        if (run.responses_advanced && run.cells) response_series.push_back({run.time_s, run.cells->readout()});
    }
    void on_output(std::size_t, const RunView& run) override {
        if (run.cells && response_series.empty()) response_series.push_back({run.time_s, run.cells->readout()});
        outputs.push_back(snapshot(run, copy_cells));
        if (run.cells) {
            const CellPopulation& c = run.cells->cells();
            double sum = 0.0, n = 0.0;
            for (std::size_t i = 0; i < c.size(); ++i)
                if (c.type[i] == CellType::Macrophage) {
                    sum += c.signal[i];
                    n += 1.0;
                }
            macrophage_signal_end = n > 0.0 ? sum / n : 0.0;
        }
    }
};

Recorded run_scenario(const Scenario& s, bool copy_cells = true, bool check_balance = false) {
    Simulation sim(s);
    Recorded r;
    r.copy_cells = copy_cells;
    r.check_balance = check_balance;
    sim.run(r);
    return r;
}

Recorded run_default(const std::vector<std::string>& overrides, bool copy_cells = true, bool check_balance = false) {
    return run_scenario(load_scenario(kDefaultScenario, overrides), copy_cells, check_balance);
}

double mean(const std::vector<double>& v) {
    return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double rel_err(double value, double reference) { return std::abs(value - reference) / std::abs(reference); }

// A small box of uniformly wounded dermis without EVs: the well-mixed limit of the responses.
std::vector<std::string> uniform_wound(const std::string& macrophages, double alpha, double days) {
    const std::string end = std::to_string(static_cast<int>(days)) + " d";
    return {"microneedles.enabled=false",
            "product.concentration=0 /mL",
            "responses.vehicle_control=false",
            "responses.injury=uniform",
            "responses.macrophages=" + macrophages,
            "responses.alpha=" + std::to_string(alpha),
            "time.end=" + end,
            "time.outputs=[\"0 d\", \"1 d\", \"5 d\", \"" + end + "\"]"};
}

// The default scenario, coarse, short and with longer transport steps: the physics is the same.
std::vector<std::string> short_default(const std::string& end = "2 d") {
    return {"domain.dx=25 um",          "domain.dz=5 um",      "responses.vehicle_control=false",
            "time.fine_until=12 h",     "time.dt_max=10 min",  "time.dt_max_delivery=60 s",
            "time.end=" + end,          "time.outputs=[\"0 h\", \"1 d\", \"" + end + "\"]"};
}

// The default scenario with a real dose (agents, stochastic uptake) on 2 threads, with the dose
// balance measured at every step; run once and shared by the tests that need it.
const std::vector<std::string>& dosed_overrides() {
    static const std::vector<std::string> o = with(short_default(), {"product.concentration=1e12 /mL"});
    return o;
}
const Recorded& dosed_run_two_threads() {
    static const Recorded r = [] {
        const int before = omp_get_max_threads();
        omp_set_num_threads(2);
        Recorded out = run_default(dosed_overrides(), true, true);
        omp_set_num_threads(before);
        return out;
    }();
    return r;
}

// Number of entries that differ (bitwise ==), or the larger size when the sizes differ; keeps
// failure messages short.
template <class T>
std::size_t mismatches(const std::vector<T>& a, const std::vector<T>& b) {
    if (a.size() != b.size()) return std::max(a.size(), b.size());
    std::size_t n = 0;
    for (std::size_t i = 0; i < a.size(); ++i) n += !(a[i] == b[i]);
    return n;
}

void require_same_cells(const CellPopulation& a, const CellPopulation& b) {
    REQUIRE(a.size() == b.size());
    CHECK(mismatches(a.x_um, b.x_um) == 0);
    CHECK(mismatches(a.y_um, b.y_um) == 0);
    CHECK(mismatches(a.z_um, b.z_um) == 0);
    CHECK(mismatches(a.type, b.type) == 0);
    CHECK(mismatches(a.state, b.state) == 0);
    CHECK(mismatches(a.voxel, b.voxel) == 0);
    CHECK(mismatches(a.id, b.id) == 0);
    CHECK(mismatches(a.bound, b.bound) == 0);
    CHECK(mismatches(a.internalised, b.internalised) == 0);
    CHECK(mismatches(a.signal, b.signal) == 0);
    CHECK(mismatches(a.captured, b.captured) == 0);
    CHECK(mismatches(a.released, b.released) == 0);
    CHECK(mismatches(a.digested, b.digested) == 0);
    CHECK(a.next_id == b.next_id);
}

void require_same_readout(const ResponseReadout& a, const ResponseReadout& b) {
    CHECK(a.inflammatory == b.inflammatory);
    CHECK(a.repair == b.repair);
    CHECK(a.repair_fraction == b.repair_fraction);
    CHECK(a.tgf_beta_ng_per_ml == b.tgf_beta_ng_per_ml);
    CHECK(a.tnf_ng_per_ml == b.tnf_ng_per_ml);
    CHECK(a.il10_ng_per_ml == b.il10_ng_per_ml);
    CHECK(a.collagen1_ng == b.collagen1_ng);
    CHECK(a.collagen3_ng == b.collagen3_ng);
}

void require_same_dose(const DoseLedger& a, const DoseLedger& b) {
    CHECK(a.applied == b.applied);
    CHECK(a.reservoir == b.reservoir);
    CHECK(a.free == b.free);
    CHECK(a.bound == b.bound);
    CHECK(a.degraded == b.degraded);
    CHECK(a.cleared == b.cleared);
    CHECK(a.delivered == b.delivered);
    CHECK(a.on_cells == b.on_cells);
    CHECK(a.internalised == b.internalised);
    CHECK(a.digested_in_cells == b.digested_in_cells);
}

void require_same_snapshot(const Snapshot& a, const Snapshot& b) {
    CHECK(a.time_s == b.time_s);
    require_same_readout(a.readout, b.readout);
    CHECK(mismatches(a.phi_i, b.phi_i) == 0);
    CHECK(mismatches(a.phi_r, b.phi_r) == 0);
    CHECK(mismatches(a.tgf, b.tgf) == 0);
    CHECK(mismatches(a.tnf, b.tnf) == 0);
    CHECK(mismatches(a.il10, b.il10) == 0);
    CHECK(mismatches(a.col1, b.col1) == 0);
    CHECK(mismatches(a.col3, b.col3) == 0);
    CHECK(mismatches(a.free_total, b.free_total) == 0);
    require_same_dose(a.dose, b.dose);
    require_same_cells(a.cells, b.cells);
}

void require_same_run(const Recorded& a, const Recorded& b) {
    REQUIRE(a.outputs.size() == b.outputs.size());
    for (std::size_t k = 0; k < a.outputs.size(); ++k) {
        INFO("output " << k << " at t = " << a.outputs[k].time_s / 3600.0 << " h");
        require_same_snapshot(a.outputs[k], b.outputs[k]);
    }
    REQUIRE(a.response_series.size() == b.response_series.size());
    for (std::size_t k = 0; k < a.response_series.size(); ++k) {
        CHECK(a.response_series[k].time_s == b.response_series[k].time_s);
        require_same_readout(a.response_series[k].readout, b.response_series[k].readout);
    }
}

} // namespace

TEST_CASE("A uniform wound without EVs reproduces Waugh-Sherratt in mean-field mode (within 1 %)",
          "[responses][analytic]") {
    // Every block of the dermis is injured and no vesicle is applied: the block ODEs are the
    // well-mixed Waugh-Sherratt system, and diffusion of uniform cytokines does nothing.
    struct Case {
        double alpha, days;
    };
    for (const Case c : {Case{0.5, 20.0}, Case{0.8, 30.0}}) {
        const Scenario s =
            load_scenario(kDefaultScenario, with(uniform_wound("mean_field", c.alpha, c.days),
                                                 {"domain.size_x=200 um", "domain.size_y=200 um", "domain.dx=25 um",
                                                  "cells.keratinocytes.density=0 /mm^3"}));
        const Recorded r = run_scenario(s, false);
        REQUIRE(r.outputs.size() == 4);
        const auto p = waugh_sherratt_published(c.alpha);
        for (const Snapshot& o : r.outputs) {
            const double days = o.time_s / kDay;
            const auto ode = integrate_well_mixed(p, waugh_sherratt_initial(), days);
            // Readout counts are cells in the (fully injured) dermis: per mm^3 over its volume.
            const double phi_i = o.readout.inflammatory / o.dermis_volume_um3 / kPerMm3;
            const double phi_r = o.readout.repair / o.dermis_volume_um3 / kPerMm3;
            const double tgf = o.readout.tgf_beta_ng_per_ml;
            INFO("alpha " << c.alpha << " day " << days << ": phi_I " << phi_i << " (ODE " << ode.phi_inflammatory
                          << "), phi_R " << phi_r << " (ODE " << ode.phi_repair << "), T " << tgf << " (ODE "
                          << ode.tgf_beta << "); relative errors " << rel_err(phi_i, ode.phi_inflammatory) << ", "
                          << rel_err(phi_r, ode.phi_repair) << ", " << rel_err(tgf, ode.tgf_beta));
            CHECK(rel_err(phi_i, ode.phi_inflammatory) < 0.01);
            CHECK(rel_err(phi_r, ode.phi_repair) < 0.01);
            CHECK(rel_err(tgf, ode.tgf_beta) < 0.01);
            // The fields themselves: uniform, and the same means.
            CHECK(rel_err(mean(o.phi_i) / kPerMm3, ode.phi_inflammatory) < 0.01);
            CHECK(rel_err(mean(o.phi_r) / kPerMm3, ode.phi_repair) < 0.01);
            CHECK(rel_err(mean(o.tgf) / kNgPerMl, ode.tgf_beta) < 0.01);
            // RK4 on the response clock is far better than that (measured ~2e-8).
            CHECK(rel_err(phi_i, ode.phi_inflammatory) < 1e-6);
            CHECK(rel_err(phi_r, ode.phi_repair) < 1e-6);
            CHECK(rel_err(tgf, ode.tgf_beta) < 1e-6);
            const auto [lo, hi] = std::minmax_element(o.phi_i.begin(), o.phi_i.end());
            CHECK(*hi - *lo <= 1e-9 * *hi);
        }
        // The end state is the published one (MODEL.md section 8).
        const Snapshot& end = r.outputs.back();
        const double phi_i = mean(end.phi_i) / kPerMm3, phi_r = mean(end.phi_r) / kPerMm3;
        const double tgf = end.readout.tgf_beta_ng_per_ml;
        INFO("alpha " << c.alpha << " end: " << phi_i << ", " << phi_r << ", " << tgf);
        if (c.alpha == 0.8) {
            CHECK(phi_i == Approx(905.7).epsilon(0.01));
            CHECK(phi_r == Approx(226.6).epsilon(0.01));
            CHECK(tgf == Approx(6.97).epsilon(0.01));
        } else {
            CHECK(phi_i == Approx(43.85).epsilon(0.01));
            CHECK(phi_r == Approx(43.85).epsilon(0.01));
            CHECK(tgf == Approx(0.341).epsilon(0.01));
        }
    }
}

TEST_CASE("A uniform wound without EVs follows Waugh-Sherratt in agents mode within sampling error",
          "[responses][analytic][stochastic][heavy]") {
    // Macrophage agents in 4 mm^3 of uniformly wounded dermis (1600 cells at the start), eight
    // seeds. Crowding sees the mean density (smoothing length 1 mm) and TGF-beta diffuses fast
    // enough (1e4 um^2/s: ~10 mm in its 2.6 h lifetime) to be well mixed, so the expected agent
    // densities follow the ODE. The standard error is the scatter of the seed means / sqrt(8).
    // (Sanitizer suite, tests/test_size.hpp: 1 mm^3, 400 cells; the standard error is measured
    // from the seeds, so it widens with the smaller sample.)
    const auto p = waugh_sherratt_published(0.5);
    constexpr int kSeeds = 8;
    const double kVolumeMm3 = testing::by_test_size(4.0, 1.0);
    const std::string side = testing::by_test_size<std::string>("2000 um", "1000 um");
    std::vector<std::vector<double>> phi_i(4), phi_r(4), tgf(4); // per output, per seed (/mm^3, ng/mL)
    std::vector<double> times;
    for (int seed = 1; seed <= kSeeds; ++seed) {
        const Scenario s = load_scenario(
            kDefaultScenario,
            with(uniform_wound("agents", 0.5, 20.0),
                 {"domain.size_x=" + side, "domain.size_y=" + side, "domain.dx=100 um", "domain.dz=7.5 um",
                  "responses.grid_spacing=100 um", "responses.crowding_length=1000 um",
                  "responses.tgf_beta_diffusivity=10000 um^2/s", "cells.macrophage_motility=0.01 um^2/s",
                  "cells.keratinocytes.density=0 /mm^3", "cells.fibroblasts.density=0 /mm^3",
                  "scenario.seed=" + std::to_string(seed)}));
        const Recorded r = run_scenario(s, false);
        REQUIRE(r.outputs.size() == 4);
        // 4 mm^3 up to the layer boundaries falling on the 7.5 um rows.
        REQUIRE(r.outputs[0].dermis_volume_um3 * kPerMm3 == Approx(kVolumeMm3).epsilon(0.01));
        times.clear();
        for (std::size_t k = 0; k < 4; ++k) {
            const Snapshot& o = r.outputs[k];
            times.push_back(o.time_s);
            phi_i[k].push_back(o.readout.inflammatory / o.dermis_volume_um3 / kPerMm3);
            phi_r[k].push_back(o.readout.repair / o.dermis_volume_um3 / kPerMm3);
            tgf[k].push_back(o.readout.tgf_beta_ng_per_ml);
        }
    }
    const auto stats = [](const std::vector<double>& v) {
        const double m = mean(v);
        double ss = 0.0;
        for (double x : v) ss += (x - m) * (x - m);
        const double sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
        return std::pair{m, sd / std::sqrt(static_cast<double>(v.size()))};
    };
    for (std::size_t k = 1; k < 4; ++k) {
        const double days = times[k] / kDay;
        const auto ode = integrate_well_mixed(p, waugh_sherratt_initial(), days);
        const auto [mi, se_i] = stats(phi_i[k]);
        const auto [mr, se_r] = stats(phi_r[k]);
        const auto [mt, se_t] = stats(tgf[k]);
        // Poisson error of the pooled count, for comparison with the replicate SE.
        const double poisson_se = std::sqrt(mi / (kVolumeMm3 * kSeeds));
        INFO("day " << days << ": phi_I " << mi << " +- " << se_i << " (Poisson " << poisson_se << ", ODE "
                    << ode.phi_inflammatory << ", " << (mi - ode.phi_inflammatory) / se_i << " SE), phi_R " << mr
                    << " +- " << se_r << " (ODE " << ode.phi_repair << ", " << (mr - ode.phi_repair) / se_r
                    << " SE), T " << mt << " +- " << se_t << " (ODE " << ode.tgf_beta << ", "
                    << (mt - ode.tgf_beta) / se_t << " SE)");
        CHECK(std::abs(mi - ode.phi_inflammatory) < 4.0 * se_i);
        CHECK(std::abs(mr - ode.phi_repair) < 4.0 * se_r);
        CHECK(std::abs(mt - ode.tgf_beta) < 4.0 * se_t);
        // Not vacuous: the standard errors are a few percent (up to ~8 % at day 20, when ~40
        // cells/mm^3 remain and the seed-to-seed scatter of this branching process is ~3x Poisson)
        // in 4 mm^3, and scale as 1 / sqrt(volume).
        const double bound = (days < 10.0 ? 0.05 : 0.1) * std::sqrt(4.0 / kVolumeMm3);
        CHECK(se_i < bound * ode.phi_inflammatory);
        CHECK(se_r < bound * ode.phi_repair);
        CHECK(se_t < bound * ode.tgf_beta);
    }
}

TEST_CASE("Zero dose equals the vehicle control exactly", "[responses][reproducible]") {
    // The vehicle control is the same scenario and seed with no vesicles (app/run_command.cpp
    // builds it by setting the concentration to 0). The same inputs give bitwise the same run:
    // the zero-dose scenario twice, and the control built as the app builds it.
    const Scenario zero = load_scenario(kDefaultScenario, with(short_default(), {"product.concentration=0 /mL"}));
    Scenario control = load_scenario(kDefaultScenario, short_default());
    control.product.concentration_per_um3 = 0.0;
    const Recorded a = run_scenario(zero);
    const Recorded b = run_scenario(zero);
    const Recorded c = run_scenario(control);
    {
        INFO("zero-dose scenario, run twice");
        require_same_run(a, b);
    }
    {
        INFO("zero-dose scenario against the control built as the app builds it");
        require_same_run(a, c);
    }
    // No vesicle anywhere without a dose, and a real dose does change the cells.
    const Snapshot& end = a.outputs.back();
    CHECK(end.dose.applied == 0.0);
    CHECK(end.dose.in_cells() == 0.0);
    for (double v : end.cells.captured) REQUIRE(v == 0.0);
    for (double v : end.cells.signal) REQUIRE(v == 0.0);
    const Snapshot& dosed = dosed_run_two_threads().outputs.back();
    double captured = 0.0;
    for (double v : dosed.cells.captured) captured += v;
    INFO("captured with 1e12 /mL: " << captured << " of " << dosed.dose.applied << " applied");
    CHECK(captured > 0.0);
    CHECK(dosed.dose.in_cells() > 0.0);
    CHECK(*std::max_element(dosed.cells.signal.begin(), dosed.cells.signal.end()) > 0.0);
}

TEST_CASE("EVs without cargo effect leave the responses exactly as in the vehicle control",
          "[responses][reproducible]") {
    // cells.potency = 0: vesicles are captured but raise no cargo signal, so the responses see
    // nothing the zero-dose control does not (same seed, agents). A matched control then gives
    // the same macrophages, cytokines and collagen; fold changes of an inert product are 1.
    // (The macrophage events are keyed by seed, cell and response-step index, so this holds
    // only if both runs take the same response steps.)
    const auto base = with(short_default(), {"cells.potency=0"});
    const Recorded control = run_default(with(base, {"product.concentration=0 /mL"}));
    const Recorded inert = run_default(with(base, {"product.concentration=1e12 /mL"}));
    REQUIRE(control.outputs.size() == inert.outputs.size());
    // Response clocks: the times of the first response steps of each run.
    std::ostringstream clocks;
    for (std::size_t k = 0; k < std::min<std::size_t>(4, control.response_series.size()); ++k)
        clocks << control.response_series[k].time_s / 3600.0 << " h / "
               << inert.response_series[std::min(k, inert.response_series.size() - 1)].time_s / 3600.0 << " h; ";
    INFO("first response steps (control / inert EVs): " << clocks.str());
    for (double v : inert.outputs.back().cells.signal) REQUIRE(v == 0.0);
    CHECK(inert.outputs.back().dose.in_cells() > 0.0);
    for (std::size_t k = 0; k < control.outputs.size(); ++k) {
        const Snapshot& a = control.outputs[k];
        const Snapshot& b = inert.outputs[k];
        const auto macrophages = [](const CellPopulation& c) {
            std::array<std::size_t, 3> n{};
            for (std::size_t i = 0; i < c.size(); ++i)
                if (c.type[i] == CellType::Macrophage) ++n[static_cast<std::size_t>(c.state[i])];
            return n;
        };
        const auto ma = macrophages(a.cells), mb = macrophages(b.cells);
        INFO("t = " << a.time_s / kDay << " d: macrophages inflammatory/repair " << ma[1] << "/" << ma[2] << " vs "
                    << mb[1] << "/" << mb[2] << "; repair fraction at the injury " << a.readout.repair_fraction
                    << " vs " << b.readout.repair_fraction << "; TNF " << a.readout.tnf_ng_per_ml << " vs "
                    << b.readout.tnf_ng_per_ml << " ng/mL; collagen I " << a.readout.collagen1_ng << " vs "
                    << b.readout.collagen1_ng << " ng");
        CHECK(ma == mb);
        CHECK(mismatches(a.phi_i, b.phi_i) == 0);
        CHECK(mismatches(a.phi_r, b.phi_r) == 0);
        CHECK(a.readout.repair_fraction == b.readout.repair_fraction);
        CHECK(a.readout.tnf_ng_per_ml == b.readout.tnf_ng_per_ml);
        CHECK(a.readout.collagen1_ng == b.readout.collagen1_ng);
        CHECK(a.readout.collagen3_ng == b.readout.collagen3_ng);
    }
}

TEST_CASE("More EVs never reduce the EV effects", "[responses][monotonic][heavy]") {
    // Deterministic runs (mean-field uptake and macrophages), injury at the channel walls,
    // doses 0 to 1e13 /mL, 3 days.
    const auto base =
        with(short_default("3 d"), {"responses.macrophages=mean_field", "cells.uptake=mean_field",
                                    "time.outputs=[\"0 h\", \"1 d\", \"3 d\"]"});
    struct Result {
        double dose;
        ResponseSummary summary;
        double repair_fraction_end, macrophage_signal, fibroblast_signal;
    };
    std::vector<Result> results;
    // (Sanitizer suite, tests/test_size.hpp: every second decade.)
    const auto doses = testing::by_test_size(std::vector<double>{0.0, 1e10, 1e11, 1e12, 1e13},
                                             std::vector<double>{0.0, 1e11, 1e13});
    for (double dose : doses) {
        char value[64];
        std::snprintf(value, sizeof value, "product.concentration=%g /mL", dose);
        const Recorded r = run_default(with(base, {value}));
        const Snapshot& end = r.outputs.back();
        double fib = 0.0, nf = 0.0;
        for (std::size_t i = 0; i < end.cells.size(); ++i)
            if (end.cells.type[i] == CellType::Fibroblast) {
                fib += end.cells.signal[i];
                nf += 1.0;
            }
        results.push_back({dose, summarise(r.response_series), end.readout.repair_fraction, r.macrophage_signal_end,
                           nf > 0.0 ? fib / nf : 0.0});
        const Result& x = results.back();
        UNSCOPED_INFO("dose " << dose << " /mL: collagen I " << x.summary.collagen1_ng << " ng, III "
                              << x.summary.collagen3_ng << " ng, III:I " << x.summary.collagen3_to_1 << ", TNF AUC "
                              << x.summary.tnf_auc_ng_per_ml_day << " ng/mL d, repair fraction "
                              << x.repair_fraction_end << ", macrophage signal " << x.macrophage_signal
                              << ", fibroblast signal " << x.fibroblast_signal);
    }
    // Non-strict monotonicity, up to round-off.
    constexpr double kTol = 1e-12;
    for (std::size_t k = 1; k < results.size(); ++k) {
        const Result& lo = results[k - 1];
        const Result& hi = results[k];
        INFO("from " << lo.dose << " to " << hi.dose << " /mL");
        CHECK(hi.summary.collagen1_ng + hi.summary.collagen3_ng >=
              (lo.summary.collagen1_ng + lo.summary.collagen3_ng) * (1.0 - kTol));
        CHECK(hi.summary.collagen3_to_1 >= lo.summary.collagen3_to_1 * (1.0 - kTol));
        CHECK(hi.summary.tnf_auc_ng_per_ml_day <= lo.summary.tnf_auc_ng_per_ml_day * (1.0 + kTol));
        CHECK(hi.repair_fraction_end >= lo.repair_fraction_end * (1.0 - kTol));
        CHECK(hi.macrophage_signal >= lo.macrophage_signal);
        CHECK(hi.fibroblast_signal >= lo.fibroblast_signal);
    }
    // The highest dose has a visible effect (0.1 % or more) on every readout.
    const Result& none = results.front();
    const Result& most = results.back();
    CHECK(most.macrophage_signal > 0.0);
    CHECK(most.fibroblast_signal > 0.0);
    CHECK(most.summary.collagen1_ng + most.summary.collagen3_ng >
          (none.summary.collagen1_ng + none.summary.collagen3_ng) * 1.001);
    CHECK(most.summary.collagen3_to_1 > none.summary.collagen3_to_1 * 1.001);
    CHECK(most.repair_fraction_end > none.repair_fraction_end * 1.001);
    CHECK(most.summary.tnf_auc_ng_per_ml_day < none.summary.tnf_auc_ng_per_ml_day * 0.999);
}

TEST_CASE("The same seed gives bitwise identical results on 1 and 2 threads", "[responses][reproducible]") {
    // Agents, stochastic uptake and a dose high enough that many cells capture vesicles.
    const int before = omp_get_max_threads();
    omp_set_num_threads(1);
    const Recorded one = run_default(dosed_overrides(), true, true);
    omp_set_num_threads(before);
    const Recorded& two = dosed_run_two_threads();
    require_same_run(one, two);
    CHECK(mismatches(one.step_balance_errors, two.step_balance_errors) == 0);
    // Not vacuous: cells took vesicles up, and macrophages were born and died.
    const Snapshot& end = one.outputs.back();
    CHECK(end.dose.in_cells() > 0.0);
    CHECK(end.cells.next_id > end.cells.size());
}

TEST_CASE("The dose balance including cells closes to 1e-9 at every step", "[responses][balance]") {
    const Recorded& r = dosed_run_two_threads();
    REQUIRE(!r.step_balance_errors.empty());
    const double worst = *std::max_element(r.step_balance_errors.begin(), r.step_balance_errors.end());
    const DoseLedger& end = r.outputs.back().dose;
    INFO(r.step_balance_errors.size() << " steps, worst relative balance error " << worst << "; at the end "
                                      << end.in_cells() / end.applied << " of the dose is in or on cells, "
                                      << end.digested_in_cells[kMacrophage] / end.applied
                                      << " digested by macrophages");
    CHECK(worst < 1e-9);
    CHECK(end.in_cells() > 0.0);
    CHECK(end.digested_in_cells[kMacrophage] > 0.0);
}

TEST_CASE("Macrophages are recruited around the channel walls", "[responses][spatial]") {
    // Default geometry without vesicles, mean-field macrophages (deterministic: the injured
    // region holds only a few agents per unit cell). After 1 and 2 days the macrophage density
    // in blocks that are mostly injured should exceed the density in blocks with no injury and
    // no injured neighbour.
    const auto check_recruitment = [](const std::vector<std::string>& extra) {
        const auto overrides = with(short_default(), {"product.concentration=0 /mL", "responses.macrophages=mean_field",
                                                      "cells.keratinocytes.density=0 /mm^3"});
        const Scenario s = load_scenario(kDefaultScenario, with(overrides, extra));
        Simulation sim(s);
        Recorded r;
        r.copy_cells = false;
        sim.run(r);
        const Responses& resp = sim.cells()->responses();
        const Grid& g = resp.grid();
        const auto inj = resp.injury();
        std::vector<std::uint8_t> far(g.size(), 0);
        for (int z = 0; z < g.nz; ++z)
            for (int y = 0; y < g.ny; ++y)
                for (int x = 0; x < g.nx; ++x) {
                    bool clear = true;
                    for (int dz = -1; dz <= 1; ++dz)
                        for (int dy = -1; dy <= 1; ++dy)
                            for (int dx = -1; dx <= 1; ++dx) {
                                const int zz = z + dz;
                                if (zz < 0 || zz >= g.nz) continue;
                                const int yy = (y + dy + g.ny) % g.ny, xx = (x + dx + g.nx) % g.nx;
                                if (inj[g.index(xx, yy, zz)] > 0.0) clear = false;
                            }
                    far[g.index(x, y, z)] = clear;
                }
        for (std::size_t k = 1; k < r.outputs.size(); ++k) {
            const Snapshot& o = r.outputs[k];
            double near_sum = 0.0, near_n = 0.0, far_sum = 0.0, far_n = 0.0;
            for (std::size_t b = 0; b < g.size(); ++b) {
                const double density = (o.phi_i[b] + o.phi_r[b]) / kPerMm3;
                if (inj[b] > 0.5) {
                    near_sum += density;
                    near_n += 1.0;
                } else if (far[b]) {
                    far_sum += density;
                    far_n += 1.0;
                }
            }
            REQUIRE(near_n > 0.0);
            REQUIRE(far_n > 0.0);
            const double near = near_sum / near_n, distant = far_sum / far_n;
            INFO("day " << o.time_s / kDay << ": " << near << " /mm^3 in " << near_n << " injured blocks, " << distant
                        << " /mm^3 in " << far_n << " distant blocks");
            CHECK(near > distant);
        }
    };
    {
        INFO("default resident density (500 /mm^3)");
        check_recruitment({});
    }
    {
        INFO("low resident density (300 /mm^3)");
        check_recruitment({"cells.macrophages.density=300 /mm^3"});
    }
}
