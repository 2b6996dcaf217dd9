// Wound bed geometry: where stratum corneum, viable epidermis and the lost upper dermis are
// missing. The cavity is open fluid that the applied product fills, so the film couples to
// the tissue across the whole wound bed and its walls (docs/wound-and-injection.md).
#pragma once

#include "model/grid.hpp"
#include "model/scenario.hpp"

#include <span>

namespace exoderm {

class WoundGeometry {
public:
    WoundGeometry() = default;
    WoundGeometry(const WoundSpec& spec, double box_x_um, double box_y_um, double bed_depth_um);

    bool enabled() const { return spec_.enabled(); }
    const WoundSpec& spec() const { return spec_; }
    double bed_depth_um() const { return bed_depth_um_; }
    double centre_x_um() const { return centre_x_um_; }
    double centre_y_um() const { return centre_y_um_; }
    double area_um2() const;

    // Lateral distance from (x, y) to the wound outline: negative inside, positive outside.
    double signed_lateral_distance_um(double x_um, double y_um) const;
    bool in_cavity(double x_um, double y_um, double z_um) const;
    // Distance from a point to the exposed wound surface (bed and walls); 0 inside the cavity.
    double distance_to_surface_um(double x_um, double y_um, double z_um) const;

    // Share of each voxel inside the cavity (sub-sampled, so areas follow the outline
    // smoothly); combined with what `out` holds by taking the larger value.
    void add_cavity_fraction(const Grid& grid, std::span<double> out) const;

private:
    WoundSpec spec_;
    double box_x_um_ = 0.0, box_y_um_ = 0.0;
    double bed_depth_um_ = 0.0;
    double centre_x_um_ = 0.0, centre_y_um_ = 0.0;
};

// Depth of the wound bed: stratum corneum, viable epidermis and the lost upper dermis.
double wound_bed_depth_um(const Scenario& scenario);

} // namespace exoderm
