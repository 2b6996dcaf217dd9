// The product-factor scenarios of issue 7 (items 6-7) give the outcomes their headers promise:
// the shipped sweep files are run point by point (shortened), each with its vehicle control.
#include "io/sweep_runner.hpp"
#include "model/sweep_spec.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace exoderm;

namespace {

const std::filesystem::path kSweeps = std::filesystem::path(EXODERM_SOURCE_DIR) / "scenarios" / "sweeps";

std::string read(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The shipped sweep, shortened: `end` replaced (the outputs after it dropped).
SweepSpec shortened(const std::string& name, const std::string& end) {
    std::string text = read(kSweeps / (name + ".toml"));
    const std::string old_end = "end = \"7 d\"", old_outputs = "outputs = [\"0 h\", \"2 h\", \"1 d\", \"7 d\"]";
    REQUIRE(text.find(old_end) != std::string::npos);
    REQUIRE(text.find(old_outputs) != std::string::npos);
    text.replace(text.find(old_end), old_end.size(), "end = \"" + end + "\"");
    text.replace(text.find(old_outputs), old_outputs.size(), "outputs = [\"0 h\", \"2 h\", \"" + end + "\"]");
    return load_sweep_text(text, name + ".toml");
}

std::map<std::string, double> run_point(const SweepSpec& spec, std::size_t index) {
    const SweepRow row = run_sweep_run(spec, index);
    INFO(row.error);
    REQUIRE(row.ok);
    std::map<std::string, double> v;
    for (const auto& n : row.values) v[n.name] = n.value;
    return v;
}

std::size_t index_of(const SweepSpec& spec, std::size_t axis, const std::string& value) {
    for (std::size_t i = 0; i < spec.run_count(); ++i) {
        const auto run = spec.run(i);
        if (run.overrides[axis] == spec.axes[axis].key + "=" + value) return i;
    }
    FAIL("no run with " << spec.axes[axis].key << " = " << value);
    return 0;
}

// The EV benefit on inflammation: how far the TNF-alpha AUC falls below the vehicle's.
double tnf_benefit(const std::map<std::string, double>& v) { return 1.0 - v.at("fold_tnf_auc"); }

} // namespace

TEST_CASE("PRP vampire facial: the EV effect of autologous platelet EVs falls with the donor's age", "[scenarios]") {
    const SweepSpec spec = shortened("prp_donor_age", "3 d");
    const auto young = run_point(spec, index_of(spec, 0, "\"20 y\""));
    const auto old = run_point(spec, index_of(spec, 0, "\"70 y\""));
    INFO("20 y: potency " << young.at("product_repair_potency") << ", TNF AUC fold " << young.at("fold_tnf_auc")
                          << ", collagen III fold " << young.at("fold_new_collagen_III"));
    INFO("70 y: potency " << old.at("product_repair_potency") << ", TNF AUC fold " << old.at("fold_tnf_auc")
                          << ", collagen III fold " << old.at("fold_new_collagen_III"));
    // Platelet potency 0.7 x the small shelf loss of 2 h at 22 C x the donor age factor.
    CHECK(young.at("product_repair_potency") == Approx(0.7 * young.at("product_shelf_fraction")));
    CHECK(old.at("product_repair_potency") / young.at("product_repair_potency") == Approx(std::exp(-50.0 / 40.0)));
    // The same vesicles are delivered; only their cargo effect differs.
    CHECK(young.at("delivered") == Approx(old.at("delivered")).epsilon(1e-12));
    CHECK(tnf_benefit(young) > 0.0);
    CHECK(tnf_benefit(old) > 0.0);
    CHECK(tnf_benefit(young) > 1.5 * tnf_benefit(old));
    CHECK(young.at("fold_new_collagen_III") > old.at("fold_new_collagen_III"));
}

TEST_CASE("shelf life: longer and warmer storage lowers the EV effect", "[scenarios]") {
    const SweepSpec spec = shortened("shelf_life", "3 d");
    const auto at = [&](const std::string& time, const std::string& temperature) {
        for (std::size_t i = 0; i < spec.run_count(); ++i) {
            const auto run = spec.run(i);
            if (run.overrides[0] == "product.storage_time=" + time && run.overrides[1] == "product.storage_temperature=" + temperature)
                return run_point(spec, i);
        }
        FAIL("no such point");
        return std::map<std::string, double>{};
    };
    const auto fresh = at("\"0 d\"", "\"4 C\"");
    const auto month_cold = at("\"30 d\"", "\"4 C\"");
    const auto month_warm = at("\"30 d\"", "\"25 C\"");
    INFO("TNF AUC folds: fresh " << fresh.at("fold_tnf_auc") << ", 30 d at 4 C " << month_cold.at("fold_tnf_auc")
                                 << ", 30 d at 25 C " << month_warm.at("fold_tnf_auc"));
    CHECK(month_cold.at("product_shelf_fraction") == Approx(0.5));
    CHECK(month_warm.at("product_shelf_fraction") < 1e-3);
    CHECK(tnf_benefit(fresh) > tnf_benefit(month_cold));
    CHECK(tnf_benefit(month_cold) > tnf_benefit(month_warm));
    CHECK(fresh.at("fold_new_collagen_III") > month_warm.at("fold_new_collagen_III"));
}

TEST_CASE("contamination with pro-inflammatory cargo can make the outcome worse than the vehicle", "[scenarios]") {
    const SweepSpec spec = shortened("contamination", "3 d");
    const auto clean = run_point(spec, index_of(spec, 0, "0"));
    const auto dirty = run_point(spec, index_of(spec, 0, "1.0"));
    INFO("TNF AUC fold: clean " << clean.at("fold_tnf_auc") << ", all contaminated " << dirty.at("fold_tnf_auc"));
    INFO("repair fraction day 3 fold: clean " << clean.at("fold_repair_fraction_day3") << ", all contaminated "
                                              << dirty.at("fold_repair_fraction_day3"));
    CHECK(clean.at("fold_tnf_auc") < 1.0);
    CHECK(dirty.at("fold_tnf_auc") > 1.0);
    CHECK(dirty.at("fold_repair_fraction_day3") < 1.0);
}

TEST_CASE("dose escalation to 1e4-fold: uptake saturates and the effect per decade of dose shrinks", "[scenarios]") {
    const SweepSpec spec = shortened("dose_escalation", "3 d");
    std::vector<std::map<std::string, double>> runs;
    for (const std::string dose : {"1e12 /mL", "1e13 /mL", "1e14 /mL"})
        runs.push_back(run_point(spec, index_of(spec, 0, "\"" + dose + "\"")));
    const auto uptake = [](const std::map<std::string, double>& r) {
        return r.at("macrophages_internalised") + r.at("macrophages_digested");
    };
    std::ostringstream table;
    for (const auto& r : runs)
        table << "applied " << r.at("applied") << ", delivered " << r.at("delivered") << ", macrophage uptake "
              << uptake(r) << ", TNF AUC fold " << r.at("fold_tnf_auc") << "\n";
    INFO(table.str());
    // Ten times the dose delivers nearly ten times the vesicles ...
    CHECK(runs[2].at("delivered") / runs[1].at("delivered") > 8.0);
    // ... but the macrophages' uptake grows less and less (receptors fill up) ...
    const double up_low = uptake(runs[1]) / uptake(runs[0]), up_high = uptake(runs[2]) / uptake(runs[1]);
    CHECK(up_high < 5.0);
    CHECK(up_high < up_low);
    // ... and so does the benefit gained per decade.
    const double gain_low = tnf_benefit(runs[1]) - tnf_benefit(runs[0]);
    const double gain_high = tnf_benefit(runs[2]) - tnf_benefit(runs[1]);
    CHECK(gain_low > 0.0);
    CHECK(gain_high > 0.0);
    CHECK(gain_high < gain_low);
}

TEST_CASE("batch variability: lognormal dose and potency give a spread of outcomes", "[scenarios]") {
    const SweepSpec spec = shortened("batch_variability", "3 d");
    REQUIRE(spec.run_count() == 32);
    std::vector<double> folds;
    for (std::size_t i = 0; i < 4; ++i) folds.push_back(run_point(spec, i).at("fold_tnf_auc"));
    const auto [lo, hi] = std::minmax_element(folds.begin(), folds.end());
    INFO("TNF AUC folds of 4 batches: " << *lo << " .. " << *hi);
    CHECK(*hi < 1.0); // every batch helps (no contamination)
    CHECK(*hi - *lo > 0.1 * (1.0 - *lo));
}
