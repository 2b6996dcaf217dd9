// Intradermal injection: the product placed at t = 0 as a uniform sphere of tissue at a given
// depth (MODEL.md section 2, A), then transported like any delivered vesicles.
#pragma once

#include "model/grid.hpp"
#include "model/wound_spec.hpp"

#include <span>

namespace exoderm {

class InjectionBolus {
public:
    // The bolus centred laterally at (centre_x, centre_y).
    InjectionBolus(const InjectionSpec& spec, double centre_x_um, double centre_y_um);

    const InjectionSpec& spec() const { return spec_; }
    // Distance from a point to the bolus sphere; 0 inside it.
    double distance_um(double x_um, double y_um, double z_um) const;

    // Adds `amount` particles spread uniformly over the sphere to the concentration field c
    // (particles / um^3). Voxels are sub-sampled for their share of the sphere, and the
    // shares are normalised so the field gains exactly `amount`.
    void add_to_field(const Grid& grid, double amount, std::span<double> c) const;

private:
    InjectionSpec spec_;
    double centre_x_um_ = 0.0, centre_y_um_ = 0.0;
};

} // namespace exoderm
