// The wound and injection scenarios give the outcomes their headers promise (coarse grids and
// shorter runs than the shipped files, same physics): a burn closes faster and resolves its
// inflammation sooner with the autologous cream than with the vehicle; a diabetic ulcer is worse
// than an acute wound and EVs move it towards repair; an intradermal injection puts far more of
// the dose into the dermis than microneedling does.
#include "model/scenario_load.hpp"
#include "solvers/response_metrics.hpp"
#include "solvers/run_tracker.hpp"
#include "solvers/simulation.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace exoderm;

namespace {

const std::string kScenarios = std::string(EXODERM_SOURCE_DIR) + "/scenarios/";

std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& extra) {
    base.insert(base.end(), extra.begin(), extra.end());
    return base;
}

ResponseSummary responses_of(const Scenario& s) {
    Simulation sim(s);
    RunTracker tracker(s);
    sim.run(tracker);
    return summarise(tracker.responses());
}

struct Pair {
    ResponseSummary evs, control;
};

Pair run_with_control(const std::string& file, const std::vector<std::string>& overrides) {
    const Scenario s = load_scenario(kScenarios + file, overrides);
    return {responses_of(s), responses_of(vehicle_control_of(s))};
}

// Share of the dose in the dermis at the last output.
double dermis_share(const Scenario& s) {
    struct Last : RunObserver {
        double dermis = 0.0;
        void on_output(std::size_t, const RunView& run) override {
            dermis = measure_run(run).penetration.fraction_of_dose[static_cast<int>(Layer::Dermis)];
        }
    } last;
    Simulation sim(s);
    sim.run(last);
    return last.dermis;
}

const std::vector<std::string> kQuick{"product.size_classes=1", "responses.dt=3 h", "skin.dermis.thickness=500 um",
                                       "time.fine_until=2 h", "responses.grid_spacing=100 um"};

} // namespace

TEST_CASE("burn with the autologous cream: the wound closes faster and inflammation resolves faster than with the "
          "vehicle",
          "[scenarios][wound]") {
    const Pair burn = run_with_control(
        "wound/burn_autologous_cream.toml",
        with(kQuick, {"domain.dx=100 um", "cells.keratinocytes.density=1e5 /mm^3", "time.end=4 d",
                      "time.outputs=[\"0 h\", \"24 h\", \"3 d\", \"4 d\"]"}));
    INFO("closure 50 %: " << burn.evs.wound_closure_50pct_s << " s with EVs, " << burn.control.wound_closure_50pct_s
                          << " s control; TNF AUC " << burn.evs.tnf_auc_ng_per_ml_day << " vs "
                          << burn.control.tnf_auc_ng_per_ml_day);
    REQUIRE(burn.evs.wound);
    // Vehicle: the front moves at v0 = 0.2 mm/d over R = 1 mm: 50 % closed at (1 - 1/sqrt 2) R / v0.
    CHECK(burn.control.wound_closure_50pct_s / 86400.0 == Approx((1.0 - std::sqrt(0.5)) * 5.0).margin(0.13));
    CHECK(burn.evs.wound_closure_50pct_s < burn.control.wound_closure_50pct_s);
    CHECK(burn.evs.wound_closure_90pct_s < burn.control.wound_closure_90pct_s);
    CHECK(burn.evs.tnf_auc_ng_per_ml_day < burn.control.tnf_auc_ng_per_ml_day);
    CHECK(burn.evs.repair_fraction_day3 > burn.control.repair_fraction_day3);
}

TEST_CASE("diabetic ulcer: the chronic baseline is worse than an acute wound, and the exosome spray moves it towards "
          "repair and closure",
          "[scenarios][wound]") {
    const std::vector<std::string> quick =
        with(kQuick, {"domain.dx=50 um", "time.end=10 d", "time.outputs=[\"0 h\", \"24 h\", \"3 d\", \"7 d\", \"10 d\"]"});
    const Pair ulcer = run_with_control("wound/diabetic_ulcer_spray.toml", quick);
    const ResponseSummary acute =
        responses_of(vehicle_control_of(load_scenario(kScenarios + "wound/diabetic_ulcer_spray.toml",
                                                      with(quick, {"responses.alpha=0.5"}))));
    INFO("TNF AUC: ulcer + EVs " << ulcer.evs.tnf_auc_ng_per_ml_day << ", ulcer vehicle "
                                 << ulcer.control.tnf_auc_ng_per_ml_day << ", acute " << acute.tnf_auc_ng_per_ml_day
                                 << "; repair day 7: " << ulcer.evs.repair_fraction_day7 << ", "
                                 << ulcer.control.repair_fraction_day7 << ", " << acute.repair_fraction_day7);
    // Chronic (alpha 0.8) against acute (alpha 0.5), both without EVs.
    CHECK(ulcer.control.tnf_auc_ng_per_ml_day > acute.tnf_auc_ng_per_ml_day);
    CHECK(ulcer.control.repair_fraction_day7 < acute.repair_fraction_day7);
    // The spray: less TNF-alpha, more repair macrophages, faster closure.
    CHECK(ulcer.evs.tnf_auc_ng_per_ml_day < ulcer.control.tnf_auc_ng_per_ml_day);
    CHECK(ulcer.evs.repair_fraction_day7 > ulcer.control.repair_fraction_day7);
    CHECK(ulcer.evs.wound_closure_50pct_s < ulcer.control.wound_closure_50pct_s);
}

TEST_CASE("intradermal injection puts far more of the dose in the dermis at 1 h than microneedling with a serum",
          "[scenarios][injection]") {
    const std::vector<std::string> one_hour{"cells.enabled=false", "product.size_classes=1", "time.end=1 h",
                                            "time.outputs=[\"0 h\", \"1 h\"]", "time.fine_until=1 h"};
    const double injected =
        dermis_share(load_scenario(kScenarios + "injection/intradermal_injection.toml", with(one_hour, {"domain.dx=50 um"})));
    const double needled = dermis_share(load_scenario(kScenarios + "default.toml", with(one_hour, {"domain.dx=20 um"})));
    INFO("dermis share at 1 h: injection " << injected << ", 0.5 mm dermapen + serum " << needled);
    CHECK(injected > 0.7);
    CHECK(injected > 100.0 * needled);
}
