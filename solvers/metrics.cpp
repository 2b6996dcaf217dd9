#include "solvers/metrics.hpp"

#include <algorithm>

namespace exoderm {

DepthProfile depth_profile(const Transport& t) {
    const Grid& g = t.tissue().grid();
    const std::size_t plane = g.plane();
    const auto rows = static_cast<std::size_t>(g.nz);
    DepthProfile p;
    p.free_amount.assign(rows, 0.0);
    p.bound_amount.assign(rows, 0.0);
    p.max_free_concentration.assign(rows, 0.0);
    // Rows are independent and each is summed in a fixed order: thread-count independent.
#pragma omp parallel
    {
        std::vector<double> free_row(plane);
#pragma omp for schedule(static)
        for (std::ptrdiff_t zi = 0; zi < static_cast<std::ptrdiff_t>(rows); ++zi) {
            const auto z = static_cast<std::size_t>(zi);
            std::fill(free_row.begin(), free_row.end(), 0.0);
            double free_sum = 0.0, bound_sum = 0.0;
            for (std::size_t k = 0; k < t.field_classes(); ++k) {
                const auto f = t.free_class(k).subspan(z * plane, plane);
                const auto b = t.bound_class(k).subspan(z * plane, plane);
                for (std::size_t i = 0; i < plane; ++i) {
                    free_row[i] += f[i];
                    free_sum += f[i];
                    bound_sum += b[i];
                }
            }
            p.free_amount[z] = free_sum * g.voxel_volume_um3();
            p.bound_amount[z] = bound_sum * g.voxel_volume_um3();
            p.max_free_concentration[z] = *std::max_element(free_row.begin(), free_row.end());
        }
    }
    return p;
}

double depth_holding(const std::vector<double>& row_amount, double dz_um, double fraction) {
    double total = 0.0;
    for (double a : row_amount) total += a;
    if (total <= 0.0) return 0.0;
    const double target = fraction * total;
    double cumulative = 0.0;
    for (std::size_t z = 0; z < row_amount.size(); ++z) {
        if (cumulative + row_amount[z] >= target && row_amount[z] > 0.0)
            return (static_cast<double>(z) + (target - cumulative) / row_amount[z]) * dz_um;
        cumulative += row_amount[z];
    }
    return static_cast<double>(row_amount.size()) * dz_um;
}

double depth_reaching(const std::vector<double>& row_value, double dz_um, double threshold) {
    for (std::size_t z = row_value.size(); z-- > 0;) {
        if (row_value[z] < threshold) continue;
        const double centre = (static_cast<double>(z) + 0.5) * dz_um;
        if (z + 1 == row_value.size()) return centre;
        const double above = row_value[z];
        const double below = row_value[z + 1];
        return centre + dz_um * (above - threshold) / (above - below);
    }
    return 0.0;
}

TransportMetrics measure(const Transport& t) {
    const Tissue& tissue = t.tissue();
    const double dz = tissue.grid().dz_um;
    TransportMetrics m;
    m.profile = depth_profile(t);
    m.dose = t.flows();
    std::vector<double> amount(m.profile.free_amount.size());
    for (std::size_t z = 0; z < amount.size(); ++z) {
        m.dose.free += m.profile.free_amount[z];
        m.dose.bound += m.profile.bound_amount[z];
        amount[z] = m.profile.free_amount[z] + m.profile.bound_amount[z];
        m.penetration.fraction_of_dose[static_cast<std::size_t>(tissue.layer_of_row(static_cast<int>(z)))] += amount[z];
    }
    if (m.dose.applied > 0.0)
        for (double& f : m.penetration.fraction_of_dose) f /= m.dose.applied;
    m.penetration.depth90_um = depth_holding(amount, dz, 0.9);
    m.penetration.depth_1pct_um = depth_reaching(m.profile.max_free_concentration, dz, 0.01 * t.applied_concentration());
    m.mouth_concentration_per_um3 = t.reservoir_concentration();
    m.open_half_width_um = t.open_half_width_um();
    return m;
}

} // namespace exoderm
