#include "solvers/cell_population.hpp"

#include "solvers/particle_rng.hpp"

#include <algorithm>
#include <cmath>

namespace exoderm {

void CellPopulation::reserve(std::size_t n) {
    for (auto* v : {&x_um, &y_um, &z_um, &bound, &internalised, &signal, &captured, &released, &digested}) v->reserve(n);
    type.reserve(n);
    state.reserve(n);
    voxel.reserve(n);
    id.reserve(n);
}

std::size_t CellPopulation::add(double x, double y, double z, CellType t, MacrophageState s, std::uint32_t voxel_index) {
    x_um.push_back(x);
    y_um.push_back(y);
    z_um.push_back(z);
    type.push_back(t);
    state.push_back(s);
    voxel.push_back(voxel_index);
    id.push_back(next_id++);
    for (auto* v : {&bound, &internalised, &signal, &captured, &released, &digested}) v->push_back(0.0);
    return size() - 1;
}

namespace {
template <class T>
void compact_vector(std::vector<T>& v, std::span<const std::uint8_t> keep) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (keep[i]) v[out++] = v[i];
    v.resize(out);
}
} // namespace

void CellPopulation::compact(std::span<const std::uint8_t> keep) {
    for (auto* v : {&x_um, &y_um, &z_um, &bound, &internalised, &signal, &captured, &released, &digested})
        compact_vector(*v, keep);
    compact_vector(type, keep);
    compact_vector(state, keep);
    compact_vector(voxel, keep);
    compact_vector(id, keep);
}

namespace {
template <class T>
void permute(std::vector<T>& v, const std::vector<std::uint32_t>& order) {
    std::vector<T> out(v.size());
    for (std::size_t k = 0; k < order.size(); ++k) out[k] = v[order[k]];
    v.swap(out);
}

// Cells in voxel order, so uptake walks the fields and the cells together (ids, which key
// the cells' random numbers, move with them).
void sort_by_voxel(CellPopulation& c) {
    const std::vector<std::uint32_t> order = group_by_voxel(c).order;
    for (auto* v : {&c.x_um, &c.y_um, &c.z_um, &c.bound, &c.internalised, &c.signal, &c.captured, &c.released, &c.digested})
        permute(*v, order);
    permute(c.type, order);
    permute(c.state, order);
    permute(c.voxel, order);
    permute(c.id, order);
}
} // namespace

CellPopulation place_cells(const Scenario& s, const Tissue& tissue, const InjuryMap& injury) {
    CellPopulation cells;
    const Grid& g = tissue.grid();
    std::vector<double> lumen(g.size(), 0.0);
    tissue.lumen_fraction(tissue.open_half_width_um(0.0), lumen);
    // Depth range of each layer from the rows.
    std::array<double, kLayerCount> top{}, bottom{};
    top.fill(kInfinity);
    for (int z = 0; z < g.nz; ++z) {
        const auto l = static_cast<std::size_t>(tissue.layer_of_row(z));
        top[l] = std::min(top[l], z * g.dz_um);
        bottom[l] = std::max(bottom[l], (z + 1) * g.dz_um);
    }
    const auto& wound = s.responses;
    const double resident = s.cells.type(CellType::Macrophage).density_per_um3;
    const double wound_total = wound.initial_inflammatory_per_um3 + wound.initial_repair_per_um3;
    for (int t = 0; t < kCellTypeCount; ++t) {
        const auto type = static_cast<CellType>(t);
        const Layer layer = type == CellType::Keratinocyte ? Layer::ViableEpidermis : Layer::Dermis;
        const auto l = static_cast<std::size_t>(layer);
        if (!std::isfinite(top[l])) continue;
        const double thickness = bottom[l] - top[l];
        // Macrophages: candidates at the largest density anywhere, thinned to the local one.
        const double density = type == CellType::Macrophage ? std::max(resident, wound_total)
                                                            : s.cells.types[static_cast<std::size_t>(t)].density_per_um3;
        const double mean = density * g.size_x_um() * g.size_y_um() * thickness;
        prng::UniformStream count_draw(static_cast<std::uint32_t>(t), s.seed, 0, prng::kPlace | (t << 8));
        const std::int64_t n = prng::poisson(mean, count_draw);
        cells.reserve(cells.size() + static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i) {
            prng::UniformStream u(static_cast<std::uint32_t>(i), s.seed, static_cast<std::uint32_t>(i >> 32) + 1,
                                  prng::kPlace | (t << 8));
            const double x = u.next() * g.size_x_um();
            const double y = u.next() * g.size_y_um();
            const double z = top[l] + u.next() * thickness;
            const int ix = std::min(g.nx - 1, static_cast<int>(x / g.dx_um));
            const int iy = std::min(g.ny - 1, static_cast<int>(y / g.dy_um));
            const int iz = std::min(g.nz - 1, static_cast<int>(z / g.dz_um));
            const std::size_t v = g.index(ix, iy, iz);
            const double keep_draw = u.next();
            const double state_draw = u.next();
            if (lumen[v] > 0.5) continue; // no cells inside an open channel
            MacrophageState state = MacrophageState::None;
            if (type == CellType::Macrophage) {
                const double f = injury(x, y, z);
                const double local = f * wound_total + (1.0 - f) * resident;
                if (keep_draw * density >= local) continue;
                const double inflammatory = f * wound.initial_inflammatory_per_um3 + (1.0 - f) * resident * wound.alpha;
                state = state_draw * local < inflammatory ? MacrophageState::Inflammatory : MacrophageState::Repair;
            }
            cells.add(x, y, z, type, state, static_cast<std::uint32_t>(v));
        }
    }
    sort_by_voxel(cells);
    return cells;
}

VoxelGroups group_by_voxel(const CellPopulation& cells) {
    VoxelGroups g;
    const std::size_t n = cells.size();
    // Sort (voxel, cell index) packed in one integer: cells of a voxel stay in index order.
    std::vector<std::uint64_t> keys(n);
    for (std::size_t i = 0; i < n; ++i) keys[i] = (static_cast<std::uint64_t>(cells.voxel[i]) << 32) | i;
    std::sort(keys.begin(), keys.end());
    g.order.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
        g.order[k] = static_cast<std::uint32_t>(keys[k]);
        const auto v = static_cast<std::uint32_t>(keys[k] >> 32);
        if (g.voxels.empty() || g.voxels.back() != v) {
            g.voxels.push_back(v);
            g.start.push_back(static_cast<std::uint32_t>(k));
        }
    }
    g.start.push_back(static_cast<std::uint32_t>(n));
    return g;
}

} // namespace exoderm
