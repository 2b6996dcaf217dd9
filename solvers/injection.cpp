#include "solvers/injection.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace exoderm {

InjectionBolus::InjectionBolus(const InjectionSpec& spec, double centre_x_um, double centre_y_um)
    : spec_(spec), centre_x_um_(centre_x_um), centre_y_um_(centre_y_um) {}

double InjectionBolus::distance_um(double x, double y, double z) const {
    const double r = std::sqrt((x - centre_x_um_) * (x - centre_x_um_) + (y - centre_y_um_) * (y - centre_y_um_) +
                               (z - spec_.depth_um) * (z - spec_.depth_um));
    return std::max(0.0, r - spec_.radius_um);
}

void InjectionBolus::add_to_field(const Grid& g, double amount, std::span<double> c) const {
    if (amount == 0.0) return;
    constexpr int kSub = 4;
    const double rad = spec_.radius_um;
    const auto lo = [](double v, double h) { return std::max(0, static_cast<int>(std::floor(v / h))); };
    const int x0 = lo(centre_x_um_ - rad, g.dx_um), y0 = lo(centre_y_um_ - rad, g.dy_um), z0 = lo(spec_.depth_um - rad, g.dz_um);
    const int x1 = std::min(g.nx - 1, static_cast<int>(std::floor((centre_x_um_ + rad) / g.dx_um)));
    const int y1 = std::min(g.ny - 1, static_cast<int>(std::floor((centre_y_um_ + rad) / g.dy_um)));
    const int z1 = std::min(g.nz - 1, static_cast<int>(std::floor((spec_.depth_um + rad) / g.dz_um)));
    std::vector<std::pair<std::size_t, int>> hits;
    long total = 0;
    for (int z = z0; z <= z1; ++z)
        for (int y = y0; y <= y1; ++y)
            for (int x = x0; x <= x1; ++x) {
                int inside = 0;
                for (int k = 0; k < kSub; ++k)
                    for (int j = 0; j < kSub; ++j)
                        for (int i = 0; i < kSub; ++i)
                            inside += distance_um((x + (i + 0.5) / kSub) * g.dx_um, (y + (j + 0.5) / kSub) * g.dy_um,
                                                  (z + (k + 0.5) / kSub) * g.dz_um) <= 0.0;
                if (inside == 0) continue;
                hits.emplace_back(g.index(x, y, z), inside);
                total += inside;
            }
    if (total == 0) throw std::invalid_argument("injection bolus: the sphere covers no grid point; refine the grid");
    // Normalising by the sampled volume makes the placed total exact whatever the grid.
    const double per_sample = amount / (static_cast<double>(total) * g.voxel_volume_um3() / (kSub * kSub * kSub));
    for (const auto& [index, inside] : hits) c[index] += per_sample * inside / (kSub * kSub * kSub);
}

} // namespace exoderm
