// Product factors (MODEL.md section 3): source potency, first-order shelf decay with an
// Arrhenius temperature dependence, the donor age factor of autologous products, and
// contamination with pro-inflammatory cargo.
#include "command_line.hpp"
#include "model/errors.hpp"
#include "model/product_factors.hpp"
#include "model/scenario_load.hpp"
#include "model/units.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace exoderm;
using Catch::Matchers::Contains;

namespace {

Scenario scenario_with(const std::vector<std::string>& overrides) {
    return load_scenario_text("", "product.toml", overrides);
}

ProductFactors factors_with(const std::vector<std::string>& overrides) {
    return product_factors(scenario_with(overrides));
}

std::string error_of(const std::vector<std::string>& overrides) {
    try {
        load_scenario_text("", "product.toml", overrides);
    } catch (const InputError& e) {
        return e.what();
    }
    FAIL("no InputError");
    return {};
}

constexpr double kDay = units::kDay;

} // namespace

TEST_CASE("at the shelf reference temperature activity halves every half-life", "[product]") {
    const double t_half = 30 * kDay, t_ref = 277.15, ea = 80e3 * 1e12; // 80 kJ/mol in internal units
    CHECK(shelf_fraction(0.0, t_ref, t_half, t_ref, ea) == 1.0);
    CHECK(shelf_fraction(t_half, t_ref, t_half, t_ref, ea) == Approx(0.5).epsilon(1e-14));
    CHECK(shelf_fraction(3 * t_half, t_ref, t_half, t_ref, ea) == Approx(0.125).epsilon(1e-14));
}

TEST_CASE("warmer storage speeds the decay by the Arrhenius factor (Q10 about 3.2 for 80 kJ/mol near 4 C)", "[product]") {
    const double t_half = 30 * kDay, t_ref = 277.15, ea = 80e3 * 1e12;
    const double r = 8.314462618;
    // Rate ratio between 14 C and 4 C: exp(Ea/R (1/T_ref - 1/T)).
    const double q10 = std::exp(80e3 / r * (1.0 / 277.15 - 1.0 / 287.15));
    CHECK(q10 == Approx(3.33).margin(0.05));
    const double at_4 = shelf_fraction(10 * kDay, t_ref, t_half, t_ref, ea);
    const double at_14 = shelf_fraction(10 * kDay, t_ref + 10.0, t_half, t_ref, ea);
    // -ln(fraction) is the rate times the time: the ratio of the logs is the rate ratio.
    CHECK(std::log(at_14) / std::log(at_4) == Approx(q10).epsilon(1e-12));
    // Frozen (-80 C) storage keeps nearly everything for a year; a week at room temperature does not.
    CHECK(shelf_fraction(365.25 * kDay, 193.15, t_half, t_ref, ea) > 0.99);
    CHECK(shelf_fraction(7 * kDay, 298.15, t_half, t_ref, ea) < 0.5);
    // Ea = 0: no temperature dependence.
    CHECK(shelf_fraction(t_half, 310.15, t_half, t_ref, 0.0) == Approx(0.5).epsilon(1e-14));
}

TEST_CASE("the donor age factor is 1 at the reference age, falls monotonically with age, and is 1 for allogeneic products", "[product]") {
    const double year = units::kYear;
    CHECK(donor_age_factor(true, 20 * year, 20 * year, 40 * year) == 1.0);
    CHECK(donor_age_factor(true, 60 * year, 20 * year, 40 * year) == Approx(std::exp(-1.0)).epsilon(1e-14));
    double previous = 2.0;
    for (int age = 0; age <= 100; age += 10) {
        const double f = donor_age_factor(true, age * year, 20 * year, 40 * year);
        CHECK(f < previous);
        previous = f;
    }
    CHECK(donor_age_factor(false, 80 * year, 20 * year, 40 * year) == 1.0);
}

TEST_CASE("the default product is an MSC product of potency 1 with no contamination", "[product]") {
    const Scenario s = scenario_with({});
    CHECK(s.product.source == ProductSource::Msc);
    const ProductFactors f = product_factors(s);
    CHECK(f.source_potency == 1.0);
    CHECK(f.shelf == 1.0);
    CHECK(f.donor == 1.0);
    CHECK(f.repair_potency() == 1.0);
    CHECK(f.inflammatory_potency() == 0.0);
    CHECK(f.signal_potency() == 1.0);
    CHECK(f.repair_share() == 1.0);
    CHECK(f.inflammatory_share() == 0.0);
}

TEST_CASE("source potencies follow MODEL.md section 3 and the keys resolve units", "[product]") {
    CHECK(factors_with({"product.source=\"umbilical_cord\""}).repair_potency() == 1.2);
    CHECK(factors_with({"product.source=\"platelet\""}).repair_potency() == 0.7);
    CHECK(factors_with({"product.source=\"plant\""}).repair_potency() == 0.2);
    CHECK(factors_with({"product.source=\"plant\"", "product.potency_plant=0.5"}).repair_potency() == 0.5);
    // 30 d at 4 C halves it; 2 years in years, Kelvin and J/mol are all accepted.
    CHECK(factors_with({"product.storage_time=\"30 d\""}).shelf == Approx(0.5).epsilon(1e-12));
    CHECK(factors_with({"product.storage_time=\"720 h\"", "product.storage_temperature=\"277.15 K\"",
                        "product.shelf_activation_energy=\"80000 J/mol\""})
              .shelf == Approx(0.5).epsilon(1e-12));
    const auto old = factors_with({"product.autologous=true", "product.donor_age=\"60 yr\""});
    CHECK(old.donor == Approx(std::exp(-1.0)).epsilon(1e-12));
    CHECK(old.repair_potency() == Approx(std::exp(-1.0)).epsilon(1e-12));
    CHECK(factors_with({"product.donor_age=\"60 y\""}).donor == 1.0); // not autologous
}

TEST_CASE("contamination 0 changes nothing, contamination moves cargo from repair to pro-inflammatory", "[product]") {
    const auto clean = factors_with({"product.contamination=0", "product.contaminant_potency=5"});
    CHECK(clean.repair_potency() == 1.0);
    CHECK(clean.inflammatory_potency() == 0.0);
    CHECK(clean.inflammatory_share() == 0.0);
    const auto dirty = factors_with({"product.contamination=0.2", "product.contaminant_potency=2"});
    CHECK(dirty.repair_potency() == Approx(0.8));
    CHECK(dirty.inflammatory_potency() == Approx(0.4));
    CHECK(dirty.repair_share() + dirty.inflammatory_share() == Approx(1.0));
    CHECK(dirty.inflammatory_share() == Approx(0.4 / 1.2));
    // All contaminated, and a batch of zero potency: nothing carries cargo, shares are 0.
    const auto none = factors_with({"product.contamination=1", "product.contaminant_potency=0"});
    CHECK(none.signal_potency() == 0.0);
    CHECK(none.repair_share() == 0.0);
    CHECK(none.inflammatory_share() == 0.0);
}

TEST_CASE("bad product values are rejected with a message naming the key", "[product]") {
    CHECK_THAT(error_of({"product.storage_time=\"-1 d\""}), Contains("product.storage_time") && Contains("out of range"));
    CHECK_THAT(error_of({"product.contamination=1.5"}), Contains("product.contamination") && Contains("out of range"));
    CHECK_THAT(error_of({"product.source=\"bovine\""}), Contains("product.source") && Contains("\"msc\"") &&
                                                        Contains("\"umbilical_cord\"") && Contains("\"plant\""));
    CHECK_THAT(error_of({"product.shelf_activation_energy=\"80 kJ\""}), Contains("product.shelf_activation_energy"));
    CHECK_THAT(error_of({"product.donor_age=\"40\""}), Contains("product.donor_age") && Contains("unit"));
    CHECK_THAT(error_of({"product.shelf_half_life=\"0 d\""}), Contains("product.shelf_half_life"));
}

TEST_CASE("exoderm check exits with code 2 on an unknown product source and prints the resolved factors otherwise", "[product][cli]") {
    exoderm::testing::TempDir dir("product");
    const auto bad = exoderm::testing::run_exoderm(dir.path(), "check --set product.source=\\\"bovine\\\" '" +
                                                                   std::string(EXODERM_SOURCE_DIR) + "/scenarios/default.toml'");
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Contains("product.source"));
    const auto good = exoderm::testing::run_exoderm(
        dir.path(), "check --set 'product.source=\"platelet\"' --set product.autologous=true --set 'product.donor_age=\"60 y\"' '" +
                        std::string(EXODERM_SOURCE_DIR) + "/scenarios/default.toml'");
    CHECK(good.exit_code == 0);
    CHECK_THAT(good.out, Contains("# product: source platelet 0.7") && Contains("donor age 0.3679"));
}
