// A uniform, cell-centred grid over the simulation box.
// Index order is C order [z][y][x]: x fastest, z (depth into the skin, 0 at the surface)
// slowest, so a depth row (fixed z) is one contiguous plane.
#pragma once

#include <cstddef>

namespace exoderm {

struct Grid {
    int nx = 1, ny = 1, nz = 1;
    double dx_um = 1.0, dy_um = 1.0, dz_um = 1.0;

    std::size_t plane() const { return static_cast<std::size_t>(nx) * static_cast<std::size_t>(ny); }
    std::size_t size() const { return plane() * static_cast<std::size_t>(nz); }
    std::size_t index(int x, int y, int z) const {
        return (static_cast<std::size_t>(z) * static_cast<std::size_t>(ny) + static_cast<std::size_t>(y)) *
                   static_cast<std::size_t>(nx) +
               static_cast<std::size_t>(x);
    }
    double voxel_volume_um3() const { return dx_um * dy_um * dz_um; }
    double x_centre_um(int x) const { return (x + 0.5) * dx_um; }
    double y_centre_um(int y) const { return (y + 0.5) * dy_um; }
    double z_centre_um(int z) const { return (z + 0.5) * dz_um; }
    double size_x_um() const { return nx * dx_um; }
    double size_y_um() const { return ny * dy_um; }
    double depth_um() const { return nz * dz_um; }
};

} // namespace exoderm
