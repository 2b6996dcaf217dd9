// Vesicle capture by cells from the free field (MODEL.md section 5), one transport step at a time.
//
// A cell i in a voxel of volume V captures free vesicles of size class k with the rate
// constant k_i = kD kR / (kD + kR): the reaction-limited kR = k_on (R_max - B_i) in series
// with the diffusion limit kD = 4 pi D_k R_i (Berg-Purcell), so k_i C never exceeds
// 4 pi D R C. Over a step the voxel's vesicles survive capture with probability
// exp(-sum_i k_i dt / V) (exact for any dt), so the expected capture is N (1 - exp(...)),
// shared among the cells in proportion to k_i. Stochastic mode draws the captured whole
// vesicles as Binomial(floor N, p) and takes the fractional rest by its expectation, so a
// voxel never gives more than it holds and every captured vesicle leaves the field.
#pragma once

#include "solvers/cell_population.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace exoderm {

// Capture rate constant of one cell (um^3/s).
inline double capture_rate_constant(double k_on_um3_per_s, double free_sites, double diffusivity_um2_per_s,
                                    double radius_um) {
    const double k_reaction = k_on_um3_per_s * free_sites;
    const double k_diffusion = 4.0 * 3.14159265358979323846 * diffusivity_um2_per_s * radius_um;
    if (k_reaction <= 0.0 || k_diffusion <= 0.0) return 0.0;
    return k_diffusion * k_reaction / (k_diffusion + k_reaction);
}

struct CellTypeUptake {
    double k_on_um3_per_s = 0.0;
    double receptors = 0.0;
    double radius_um = 0.0;
};

struct UptakeSetup {
    std::array<CellTypeUptake, kCellTypeCount> types{};
    std::vector<double> row_hindrance;     // D = hindrance(row) * D0, per transport-grid row
    std::vector<double> class_d0_um2_per_s; // per size class
    std::size_t plane = 0;                  // voxels per transport-grid row
    double voxel_volume_um3 = 0.0;
    bool stochastic = true;
    std::uint64_t seed = 0;
};

UptakeSetup uptake_setup(const Scenario& scenario, const Tissue& tissue, std::span<const double> class_d0_um2_per_s);

// One step of length dt: removes captured vesicles from the class fields (concentrations,
// per um^3) and writes each cell's capture of this step (vesicles) to captured_out (size of
// the population; zero for cells that took nothing). Returns the total captured. `step`
// keys the random numbers. Parallel over voxels; the same result for any thread count.
double capture_step(const UptakeSetup& setup, const CellPopulation& cells, const VoxelGroups& groups,
                    std::span<const std::span<double>> class_fields, double dt_s, std::uint32_t step,
                    std::span<double> captured_out);

} // namespace exoderm
