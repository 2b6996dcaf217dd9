// Implicit, conservative finite-volume diffusion on the layered box (LOD splitting).
//
// Each step applies backward-Euler sweeps along x, y and z in turn; each sweep is a set of
// independent tridiagonal solves (periodic along x and y). Face diffusivities are harmonic
// means of the two voxels, which keeps the flux continuous across layers and makes a voxel
// with D = 0 a wall. Every sweep conserves mass exactly (up to round-off) apart from the
// fluxes through the top (reservoir) and bottom (sink) faces, which the step reports.
//
// The diffusivity is described as one bulk value per depth row plus a sparse list of
// voxels that differ (channel lumen, held voxels). Lines made only of bulk voxels share one
// factorisation per row (or one for all columns); only lines through channels get their
// own. That keeps the coefficient data in cache and the sweeps memory-bound on the field.
#pragma once

#include "model/grid.hpp"
#include "solvers/tridiagonal.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace exoderm {

struct VoxelOverride {
    std::size_t index = 0;
    double diffusivity_um2_per_s = 0.0;
    bool held = false;  // concentration fixed at its current value (internal Dirichlet)
    bool mouth = false; // top-row voxel whose top face opens onto the reservoir
};

// The well-mixed film on the skin that feeds open channel mouths. It is coupled implicitly:
// its concentration at the end of the step sets the mouth boundary value, so it can never
// go negative and what it loses is exactly what enters the tissue.
struct Reservoir {
    double amount = 0.0;    // particles
    double volume_um3 = 0.0;
    bool feeding = true;    // false once the film has dried
    double concentration() const { return volume_um3 > 0.0 ? amount / volume_um3 : 0.0; }
};

struct StepFluxes {
    double top_inflow = 0.0;     // particles that entered through channel mouths
    double bottom_outflow = 0.0; // particles lost through a sink bottom
};

class DiffusionOperator {
public:
    DiffusionOperator(const Grid& grid, bool bottom_sink);

    // Describes the diffusivity: bulk value per depth row plus sparse overrides. Call again
    // whenever the geometry changes; factorisations are redone lazily at the next step.
    void set_diffusivity(std::span<const double> row_diffusivity_um2_per_s, std::vector<VoxelOverride> overrides);

    // One backward-Euler LOD step of length dt on field c (grid().size() values).
    StepFluxes step(std::span<double> c, double dt_s, Reservoir* reservoir);

    const Grid& grid() const { return grid_; }

private:
    // Lines through overridden voxels are solved kGroupLanes at a time as one vector
    // recurrence: a group holds their coefficients interleaved by lane ([i][lane]) and the
    // lanes' right-hand sides are gathered into a lane-interleaved slot of a scratch buffer.
    static constexpr int kGroupLanes = 8;
    struct LineGroup {
        int lanes = 0;                                   // used lanes; the rest are padding
        bool cyclic = false;
        std::array<std::size_t, kGroupLanes> first{};    // index of each line's first voxel
        std::array<double, kGroupLanes> corner_ratio{};  // Sherman-Morrison terms (cyclic)
        std::array<double, kGroupLanes> inv_sherman_morrison{};
        std::vector<double> coefficients; // inv_denom | scaled_lower | upper_prime | q, n x lanes each
    };
    // Lane-interleaved copies of a group's lines (elements `stride` apart in c) and back; the
    // way back solves the group first.
    static void gather_group(const LineGroup& group, const double* c, std::size_t stride, std::size_t n, double* t);
    static void solve_scatter_group(const LineGroup& group, double* t, std::size_t n, double* c, std::size_t stride);
    struct SpecialColumn {
        std::size_t xy = 0;
        double top_g_dt = 0.0;    // dt * 2 D / dz^2 of the mouth face (0: closed top)
        double bottom_g_dt = 0.0; // dt * 2 D / dz^2 of a sink bottom face
        std::vector<double> unit_mouth_response; // solution for C_res = 1 and no field
    };

    void refactor(double dt_s);
    double voxel_diffusivity(std::size_t index) const;
    TridiagonalFactor factor_line(std::size_t start, std::ptrdiff_t stride, int n, double spacing_um, double dt_s,
                                  bool cyclic, double top_g_dt, double bottom_g_dt) const;
    // The x and y sweeps of one depth row (plane z), back to back while the plane is in cache.
    void sweep_xy_plane(double* c, std::size_t z);
    // The z sweep of one block of adjacent columns.
    void sweep_z_block(double* c, std::size_t block);
    StepFluxes boundary_fluxes(double* c, Reservoir* reservoir);

    Grid grid_;
    bool bottom_sink_ = false;
    std::vector<double> row_d_;
    std::vector<VoxelOverride> overrides_; // sorted by index
    std::vector<double> dense_d_;           // per voxel: NaN where the row's bulk value holds
    std::vector<std::uint8_t> dense_flags_; // kHeld | kMouth
    double factored_dt_ = -1.0;

    std::vector<TridiagonalFactor> bulk_x_; // per row z
    std::vector<TridiagonalFactor> bulk_y_; // per row z
    TridiagonalFactor bulk_z_;
    double bulk_bottom_g_dt_ = 0.0;

    std::vector<std::size_t> special_x_starts_;    // sorted first voxels of special x lines
    std::vector<std::size_t> special_x_row_begin_; // nz + 1 offsets into special_x_starts_
    std::vector<LineGroup> x_groups_;              // grouped by row z
    std::vector<std::size_t> x_group_row_begin_;   // nz + 1 offsets into x_groups_
    std::vector<LineGroup> y_groups_;              // grouped by row z
    std::vector<std::size_t> y_group_row_begin_;   // nz + 1 offsets into y_groups_
    std::vector<LineGroup> z_groups_;              // grouped by column block
    std::vector<std::size_t> z_group_block_begin_; // blocks + 1 offsets into z_groups_
    std::vector<SpecialColumn> special_z_;         // sorted by xy

    // See docs/PERFORMANCE.md. One slot (n x kGroupLanes values) per group, sized at refactor time: a group is only
    // ever touched by the thread that owns its plane or block, so nothing is shared.
    std::vector<double> x_slots_;
    std::vector<double> y_slots_;
    std::vector<double> z_slots_;
    // Periodic corrections of bulk x lines, deferred to the y sweep of the same plane
    // ([z][y]: the factor, and whether it is still to be applied).
    std::vector<double> x_factor_;
    std::vector<std::uint8_t> x_deferred_;
    // Unit mouth responses of the columns with an open mouth, row-major [z][mouth column].
    std::vector<double> mouth_response_;
    std::vector<std::size_t> mouth_xy_;
};

} // namespace exoderm
