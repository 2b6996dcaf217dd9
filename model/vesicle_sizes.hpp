// Vesicle sizes and their free diffusivity.
#pragma once

#include <vector>

namespace exoderm {

// Stokes-Einstein D0 = kT / (6 pi eta r) in um^2/s.
double stokes_einstein_um2_per_s(double diameter_nm, double temperature_K, double viscosity_Pa_s);

// One class of an equal-probability split of the lognormal diameter distribution.
struct SizeClass {
    double fraction = 0.0;      // share of the vesicles (1 / classes)
    double diameter_nm = 0.0;   // 1 / E[1/d] within the class: the diameter whose D is the class mean D
    double d0_um2_per_s = 0.0;  // free diffusivity of the class
};

// Splits lognormal(median, gsd) into `classes` equal-probability classes. The class
// diameters are chosen so that the mean of D over the classes equals the exact mean of D
// over the distribution (D ~ 1/d), which keeps the early-time dose uptake right.
std::vector<SizeClass> lognormal_size_classes(double median_nm, double gsd, int classes, double temperature_K,
                                              double viscosity_Pa_s);

} // namespace exoderm
