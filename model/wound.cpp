#include "model/wound.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace exoderm {

double wound_bed_depth_um(const Scenario& s) {
    return s.layer(Layer::StratumCorneum).thickness_um + s.layer(Layer::ViableEpidermis).thickness_um +
           s.wound.dermis_loss_um;
}

WoundGeometry::WoundGeometry(const WoundSpec& spec, double box_x_um, double box_y_um, double bed_depth_um)
    : spec_(spec), box_x_um_(box_x_um), box_y_um_(box_y_um), bed_depth_um_(bed_depth_um),
      centre_x_um_(0.5 * box_x_um), centre_y_um_(0.5 * box_y_um) {}

double WoundGeometry::area_um2() const {
    switch (spec_.shape) {
    case WoundShape::None: return 0.0;
    case WoundShape::Disk: return std::numbers::pi * spec_.radius_um * spec_.radius_um;
    case WoundShape::Strip: return spec_.width_um * spec_.length_um;
    case WoundShape::Box: return box_x_um_ * box_y_um_;
    }
    return 0.0;
}

double WoundGeometry::signed_lateral_distance_um(double x, double y) const {
    const double dx = x - centre_x_um_, dy = y - centre_y_um_;
    switch (spec_.shape) {
    case WoundShape::None: return kInfinity;
    case WoundShape::Disk: return std::hypot(dx, dy) - spec_.radius_um;
    case WoundShape::Strip: {
        // Signed distance to a rectangle.
        const double qx = std::abs(dx) - 0.5 * spec_.width_um, qy = std::abs(dy) - 0.5 * spec_.length_um;
        const double outside = std::hypot(std::max(qx, 0.0), std::max(qy, 0.0));
        return outside + std::min(std::max(qx, qy), 0.0);
    }
    case WoundShape::Box: return -std::min(x, box_x_um_ - x); // its edges are the x sides of the box
    }
    return kInfinity;
}

bool WoundGeometry::in_cavity(double x, double y, double z) const {
    return enabled() && z < bed_depth_um_ && signed_lateral_distance_um(x, y) < 0.0;
}

double WoundGeometry::distance_to_surface_um(double x, double y, double z) const {
    if (!enabled()) return kInfinity;
    const double lateral = signed_lateral_distance_um(x, y);
    const double below = z - bed_depth_um_;
    if (lateral < 0.0) return std::max(0.0, below); // under the bed (or in the cavity)
    if (below <= 0.0) return lateral;               // beside a wall
    return std::hypot(lateral, below);              // below the rim
}

void WoundGeometry::add_cavity_fraction(const Grid& g, std::span<double> out) const {
    if (!enabled()) return;
    constexpr int kSub = 4;
    constexpr double kSampleWeight = 1.0 / (kSub * kSub * kSub);
    const int z_end = std::min(g.nz, static_cast<int>(std::ceil(bed_depth_um_ / g.dz_um)));
    for (int z = 0; z < z_end; ++z)
        for (int y = 0; y < g.ny; ++y)
            for (int x = 0; x < g.nx; ++x) {
                int inside = 0;
                for (int k = 0; k < kSub; ++k)
                    for (int j = 0; j < kSub; ++j)
                        for (int i = 0; i < kSub; ++i)
                            inside += in_cavity((x + (i + 0.5) / kSub) * g.dx_um, (y + (j + 0.5) / kSub) * g.dy_um,
                                                (z + (k + 0.5) / kSub) * g.dz_um);
                if (inside == 0) continue;
                double& f = out[g.index(x, y, z)];
                f = std::max(f, inside * kSampleWeight);
            }
}

} // namespace exoderm
