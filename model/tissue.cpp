#include "model/tissue.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace exoderm {

namespace {

int cells_for(double length_um, double spacing_um) {
    return std::max(1, static_cast<int>(std::lround(length_um / spacing_um)));
}

std::vector<Layer> rows_by_centre_depth(const Grid& grid, const Scenario& s) {
    const double sc_bottom = s.layer(Layer::StratumCorneum).thickness_um;
    const double ve_bottom = sc_bottom + s.layer(Layer::ViableEpidermis).thickness_um;
    std::vector<Layer> rows(static_cast<std::size_t>(grid.nz));
    for (int z = 0; z < grid.nz; ++z) {
        const double depth = grid.z_centre_um(z);
        rows[static_cast<std::size_t>(z)] = depth < sc_bottom   ? Layer::StratumCorneum
                                            : depth < ve_bottom ? Layer::ViableEpidermis
                                                                : Layer::Dermis;
    }
    return rows;
}

// Shortest periodic offset between two lateral coordinates.
double periodic_offset(double a, double b, double period) {
    double d = a - b;
    d -= period * std::round(d / period);
    return d;
}

} // namespace

Grid grid_for(const Scenario& s) {
    Grid g;
    g.dx_um = s.domain.dx_um;
    g.dy_um = s.domain.dx_um;
    g.dz_um = s.domain.dz_um;
    g.nx = cells_for(s.domain.size_x_um, g.dx_um);
    g.ny = cells_for(s.domain.size_y_um, g.dy_um);
    g.nz = cells_for(s.tissue_depth_um(), g.dz_um);
    return g;
}

Tissue::Tissue(const Scenario& s)
    : grid_(grid_for(s)), layer_of_row_(rows_by_centre_depth(grid_, s)),
      wound_(s.wound, grid_.size_x_um(), grid_.size_y_um(), wound_bed_depth_um(s)) {
    const auto& n = s.needles;
    if (!n.enabled) return;
    shape_.shape = n.shape;
    shape_.depth_um = n.channel_depth_um();
    shape_.mouth_half_width_um = n.mouth_half_width_um();
    shape_.tau_close_s = n.tau_close_s;
    shape_.closed_below_um = 0.5e-3 * s.product.median_diameter_nm;
    if (n.array_nx <= 0 || n.array_ny <= 0) {
        channels_.push_back({0.5 * grid_.size_x_um(), 0.5 * grid_.size_y_um()});
        return;
    }
    // An explicit patch centred in the box.
    const double x0 = 0.5 * (grid_.size_x_um() - n.pitch_um * n.array_nx);
    const double y0 = 0.5 * (grid_.size_y_um() - n.pitch_um * n.array_ny);
    for (int j = 0; j < n.array_ny; ++j)
        for (int i = 0; i < n.array_nx; ++i)
            channels_.push_back({x0 + n.pitch_um * (i + 0.5), y0 + n.pitch_um * (j + 0.5)});
}

Tissue::Tissue(const Grid& grid, std::vector<Layer> layer_of_row) : grid_(grid), layer_of_row_(std::move(layer_of_row)) {
    if (static_cast<int>(layer_of_row_.size()) != grid_.nz)
        throw std::invalid_argument("Tissue: one layer per depth row is needed");
}

double Tissue::open_half_width_um(double t_s) const {
    if (channels_.empty()) return 0.0;
    const double a = shape_.mouth_half_width_um * std::exp(-t_s / shape_.tau_close_s);
    return a < shape_.closed_below_um ? 0.0 : a;
}

void Tissue::lumen_fraction(double half_width_um, std::span<double> out) const {
    std::fill(out.begin(), out.end(), 0.0);
    wound_.add_cavity_fraction(grid_, out);
    if (half_width_um <= 0.0 || channels_.empty()) return;
    // Sub-sampling each voxel keeps the open area a smooth function of the radius, so the
    // flux falls continuously as the channel closes instead of in voxel-sized jumps.
    constexpr int kSub = 4;
    constexpr double kSampleWeight = 1.0 / (kSub * kSub * kSub);
    const Grid& g = grid_;
    const double depth = shape_.depth_um;
    const int z_end = std::min(g.nz, static_cast<int>(std::ceil(depth / g.dz_um)));
    // Never let the search window wrap onto itself (a channel wider than the box).
    const int reach_x = std::min(static_cast<int>(std::ceil(half_width_um / g.dx_um)) + 1, (g.nx - 1) / 2);
    const int reach_y = std::min(static_cast<int>(std::ceil(half_width_um / g.dy_um)) + 1, (g.ny - 1) / 2);
    for (const auto& c : channels_) {
        const int cx = static_cast<int>(std::floor(c.x_um / g.dx_um));
        const int cy = static_cast<int>(std::floor(c.y_um / g.dy_um));
        for (int z = 0; z < z_end; ++z)
            for (int jy = cy - reach_y; jy <= cy + reach_y; ++jy)
                for (int ix = cx - reach_x; ix <= cx + reach_x; ++ix) {
                    const int x = ((ix % g.nx) + g.nx) % g.nx;
                    const int y = ((jy % g.ny) + g.ny) % g.ny;
                    int inside = 0;
                    for (int sz = 0; sz < kSub; ++sz) {
                        const double pz = (z + (sz + 0.5) / kSub) * g.dz_um;
                        if (pz >= depth) continue;
                        const double half = half_width_um * (1.0 - pz / depth);
                        for (int sy = 0; sy < kSub; ++sy) {
                            const double oy = periodic_offset((jy + (sy + 0.5) / kSub) * g.dy_um, c.y_um, g.size_y_um());
                            for (int sx = 0; sx < kSub; ++sx) {
                                const double ox =
                                    periodic_offset((ix + (sx + 0.5) / kSub) * g.dx_um, c.x_um, g.size_x_um());
                                const bool in = shape_.shape == NeedleShape::Cone
                                                    ? ox * ox + oy * oy < half * half
                                                    : std::max(std::abs(ox), std::abs(oy)) < half;
                                inside += in ? 1 : 0;
                            }
                        }
                    }
                    if (inside == 0) continue;
                    double& f = out[g.index(x, y, z)];
                    f = std::min(1.0, f + inside * kSampleWeight);
                }
    }
}

} // namespace exoderm
