#include "solvers/cell_uptake.hpp"

#include "solvers/particle_rng.hpp"

#include <algorithm>
#include <cmath>

namespace exoderm {

UptakeSetup uptake_setup(const Scenario& s, const Tissue& tissue, std::span<const double> class_d0_um2_per_s) {
    UptakeSetup u;
    for (int t = 0; t < kCellTypeCount; ++t) {
        const auto& c = s.cells.types[static_cast<std::size_t>(t)];
        u.types[static_cast<std::size_t>(t)] = {c.k_on_um3_per_s, c.receptors, c.radius_um};
    }
    const Grid& g = tissue.grid();
    u.row_hindrance.resize(static_cast<std::size_t>(g.nz));
    for (int z = 0; z < g.nz; ++z)
        u.row_hindrance[static_cast<std::size_t>(z)] = s.layer(tissue.layer_of_row(z)).hindrance;
    u.class_d0_um2_per_s.assign(class_d0_um2_per_s.begin(), class_d0_um2_per_s.end());
    u.plane = g.plane();
    u.voxel_volume_um3 = g.voxel_volume_um3();
    u.stochastic = s.cells.uptake == UptakeMode::Stochastic;
    u.seed = s.seed;
    return u;
}

double capture_step(const UptakeSetup& setup, const CellPopulation& cells, const VoxelGroups& groups,
                    std::span<const std::span<double>> class_fields, double dt_s, std::uint32_t step,
                    std::span<double> captured_out) {
    std::fill(captured_out.begin(), captured_out.end(), 0.0);
    const auto n_groups = static_cast<std::ptrdiff_t>(groups.groups());
    const double volume = setup.voxel_volume_um3;
#pragma omp parallel for schedule(dynamic, 256)
    for (std::ptrdiff_t gi = 0; gi < n_groups; ++gi) {
        const auto g = static_cast<std::size_t>(gi);
        const std::uint32_t voxel = groups.voxels[g];
        const std::uint32_t begin = groups.start[g], end = groups.start[g + 1];
        const double d_scale = setup.row_hindrance[voxel / setup.plane];
        const std::uint32_t count = end - begin;
        thread_local std::vector<double> rate, free_sites;
        if (rate.size() < count) {
            rate.resize(count);
            free_sites.resize(count);
        }
        for (std::uint32_t j = 0; j < count; ++j) {
            const std::uint32_t i = groups.order[begin + j];
            const auto& type = setup.types[static_cast<std::size_t>(cells.type[i])];
            free_sites[j] = std::max(0.0, type.receptors - cells.bound[i]);
        }
        for (std::size_t k = 0; k < class_fields.size(); ++k) {
            double& c = class_fields[k][voxel];
            if (!(c > 0.0)) continue;
            const double d = d_scale * setup.class_d0_um2_per_s[k];
            double hazard = 0.0;
            for (std::uint32_t j = 0; j < count; ++j) {
                const std::uint32_t i = groups.order[begin + j];
                const auto& type = setup.types[static_cast<std::size_t>(cells.type[i])];
                rate[j] = capture_rate_constant(type.k_on_um3_per_s, free_sites[j], d, type.radius_um);
                hazard += rate[j];
            }
            if (!(hazard > 0.0)) continue;
            const double held = c * volume;
            const double p = -std::expm1(-hazard * dt_s / volume);
            double taken = 0.0;
            if (setup.stochastic) {
                prng::UniformStream u(voxel, setup.seed, step, prng::kUptake | static_cast<std::uint32_t>(k << 8));
                const double whole = std::floor(held);
                const double rest = held - whole;
                // Whole vesicles: Binomial(floor N, p), shared by conditional binomials in
                // proportion to the rates; the fractional rest by its expectation.
                std::int64_t remaining = prng::binomial(static_cast<std::int64_t>(whole), p, u);
                double weight_left = hazard;
                for (std::uint32_t j = 0; j < count; ++j) {
                    const std::uint32_t i = groups.order[begin + j];
                    std::int64_t mine = remaining;
                    if (j + 1 < count && weight_left > 0.0)
                        mine = prng::binomial(remaining, std::min(1.0, rate[j] / weight_left), u);
                    remaining -= mine;
                    weight_left -= rate[j];
                    double amount = static_cast<double>(mine) + rest * p * rate[j] / hazard;
                    amount = std::min(amount, free_sites[j]);
                    free_sites[j] -= amount;
                    captured_out[i] += amount;
                    taken += amount;
                }
            } else {
                for (std::uint32_t j = 0; j < count; ++j) {
                    const std::uint32_t i = groups.order[begin + j];
                    const double amount = std::min(held * p * rate[j] / hazard, free_sites[j]);
                    free_sites[j] -= amount;
                    captured_out[i] += amount;
                    taken += amount;
                }
            }
            // Never below zero, whatever the round-off of the shares.
            taken = std::min(taken, held);
            c = (held - taken) / volume;
        }
    }
    // Summed in cell order: the same total for any number of threads.
    double total = 0.0;
    for (double v : captured_out) total += v;
    return total;
}

} // namespace exoderm
