#include "model/product_factors.hpp"

#include "model/units.hpp"

#include <cmath>
#include <sstream>

namespace exoderm {

double shelf_fraction(double storage_time_s, double temperature_K, double half_life_s, double reference_K,
                      double activation_energy_internal) {
    const double arrhenius =
        std::exp(-activation_energy_internal / units::kGasConstant * (1.0 / temperature_K - 1.0 / reference_K));
    return std::exp(-std::log(2.0) / half_life_s * arrhenius * storage_time_s);
}

double donor_age_factor(bool autologous, double age_s, double reference_s, double scale_s) {
    return autologous ? std::exp(-(age_s - reference_s) / scale_s) : 1.0;
}

double ProductFactors::repair_share() const {
    const double total = signal_potency();
    return total > 0.0 ? repair_potency() / total : 0.0;
}

double ProductFactors::inflammatory_share() const {
    const double total = signal_potency();
    return total > 0.0 ? inflammatory_potency() / total : 0.0;
}

ProductFactors product_factors(const Scenario& s) {
    const ProductSpec& p = s.product;
    ProductFactors f;
    f.source_potency = p.source_potency[static_cast<std::size_t>(p.source)];
    f.shelf = shelf_fraction(p.storage_time_s, p.storage_temperature_K, p.shelf_half_life_s,
                             p.shelf_reference_temperature_K, p.shelf_activation_energy);
    f.donor = donor_age_factor(p.autologous, p.donor_age_s, p.donor_age_reference_s, p.donor_age_scale_s);
    f.contamination = p.contamination;
    f.batch = s.cells.potency;
    f.contaminant_potency = p.contaminant_potency;
    return f;
}

std::string describe(const ProductFactors& f, const Scenario& s) {
    std::ostringstream out;
    out.precision(4);
    out << "source " << kProductSourceKeys[static_cast<std::size_t>(s.product.source)] << " " << f.source_potency
        << " x shelf " << f.shelf << " x donor age " << f.donor << " x (1 - contamination " << f.contamination
        << ") x batch " << f.batch << " = repair potency " << f.repair_potency() << "; pro-inflammatory "
        << f.inflammatory_potency();
    return out.str();
}

} // namespace exoderm
