// How much repair cargo, and how much pro-inflammatory cargo, one applied vesicle carries
// (MODEL.md section 3). The repair potency is
//
//   P = potency_<source> x shelf fraction x donor age factor x (1 - contamination) x batch
//
//   shelf fraction    exp(-k(T) t_storage),  k(T) = ln 2 / t_half x exp(-Ea/R (1/T - 1/T_ref))
//   donor age factor  exp(-(age - age_ref) / age_scale) for autologous products, else 1
//   batch             cells.potency (1: the nominal product; batch-to-batch variability)
//
// and the pro-inflammatory weight is Q = contamination x contaminant_potency (contaminant
// cargo does not decay on the shelf: pro-inflammatory contaminants such as endotoxin are stable).
// Both cargos ride on the same internalised vesicles, so a cell's signal S (which follows
// (P + Q) N, solvers/cell_signalling.hpp) splits into repair P/(P+Q) S and inflammatory Q/(P+Q) S.
#pragma once

#include "model/scenario.hpp"

#include <string>

namespace exoderm {

// Activity left after storing for storage_time_s at temperature_K (first order, Arrhenius).
double shelf_fraction(double storage_time_s, double temperature_K, double half_life_s, double reference_K,
                      double activation_energy_internal);
// exp(-(age - reference) / scale) when autologous, else 1.
double donor_age_factor(bool autologous, double age_s, double reference_s, double scale_s);

struct ProductFactors {
    double source_potency = 0.0;  // potency_<source>
    double shelf = 1.0;           // shelf fraction
    double donor = 1.0;           // donor age factor
    double contamination = 0.0;
    double batch = 1.0;           // cells.potency
    double contaminant_potency = 0.0;

    // Repair cargo per vesicle, P.
    double repair_potency() const { return source_potency * shelf * donor * (1.0 - contamination) * batch; }
    // Pro-inflammatory cargo per vesicle, Q.
    double inflammatory_potency() const { return contamination * contaminant_potency; }
    // Weight of the cell signal S: P + Q.
    double signal_potency() const { return repair_potency() + inflammatory_potency(); }
    // Shares of S that are repair and inflammatory cargo (0 when nothing carries cargo).
    double repair_share() const;
    double inflammatory_share() const;
};

ProductFactors product_factors(const Scenario& scenario);

// "source msc 1 x shelf 1 x donor 1 x (1 - contamination 0) x batch 1 = potency 1; inflammatory 0"
std::string describe(const ProductFactors& f, const Scenario& scenario);

} // namespace exoderm
