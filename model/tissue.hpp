// Tissue geometry: the layered box and the microneedle channels that close in time.
#pragma once

#include "model/grid.hpp"
#include "model/scenario.hpp"
#include "model/wound.hpp"

#include <span>
#include <vector>

namespace exoderm {

struct ChannelSite {
    double x_um = 0.0;
    double y_um = 0.0;
};

struct ChannelShape {
    NeedleShape shape = NeedleShape::Cone;
    double depth_um = 0.0;
    double mouth_half_width_um = 0.0; // at t = 0
    double tau_close_s = kInfinity;
    double closed_below_um = 0.0; // a pore narrower than a vesicle radius is closed
};

class Tissue {
public:
    explicit Tissue(const Scenario& scenario);
    // For tests and benchmarks: a bare layered box with no channels.
    Tissue(const Grid& grid, std::vector<Layer> layer_of_row);

    const Grid& grid() const { return grid_; }
    Layer layer_of_row(int z) const { return layer_of_row_[static_cast<std::size_t>(z)]; }
    std::span<const Layer> layer_rows() const { return layer_of_row_; }
    const std::vector<ChannelSite>& channels() const { return channels_; }
    const ChannelShape& channel_shape() const { return shape_; }
    // The wound bed, if any: its cavity is open fluid like a channel lumen that never closes.
    const WoundGeometry& wound() const { return wound_; }

    // Mouth half-width (cone radius or pyramid half-side) at time t; 0 once closed.
    double open_half_width_um(double t_s) const;

    // Fraction of each voxel occupied by open channel lumen for a given mouth half-width, or
    // by the wound cavity. Writes zeros everywhere else; `out` has grid().size() entries.
    void lumen_fraction(double half_width_um, std::span<double> out) const;

private:
    Grid grid_;
    std::vector<Layer> layer_of_row_;
    std::vector<ChannelSite> channels_;
    ChannelShape shape_;
    WoundGeometry wound_;
};

// Grid dimensions the scenario asks for (used for memory estimates before any allocation).
Grid grid_for(const Scenario& scenario);

} // namespace exoderm
