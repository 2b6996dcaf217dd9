// Cell agents as a structure of arrays (MODEL.md section 5): keratinocytes in the viable
// epidermis, fibroblasts and macrophages in the dermis, placed from the seed.
//
// Per cell: position, type, macrophage state, the voxel it sits in, and its vesicle state
// (surface-bound B, internalised N, cargo signal S, and cumulative captured / released /
// digested amounts, all in vesicles). B + N + released + digested - captured is zero for
// every cell at all times: that is the cells' part of the dose balance.
#pragma once

#include "model/scenario.hpp"
#include "model/tissue.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace exoderm {

enum class MacrophageState : std::uint8_t { None = 0, Inflammatory = 1, Repair = 2 };

struct CellPopulation {
    std::vector<double> x_um, y_um, z_um;
    std::vector<CellType> type;
    std::vector<MacrophageState> state;
    std::vector<std::uint32_t> voxel; // index on the transport grid
    std::vector<std::uint64_t> id;    // unique over the run; keys the cell's random numbers
    // Vesicle state, in vesicles (signal in EV equivalents).
    std::vector<double> bound;        // B: on the surface
    std::vector<double> internalised; // N
    std::vector<double> signal;       // S
    std::vector<double> captured;     // cumulative, from the free field
    std::vector<double> released;     // cumulative, back to the free field
    std::vector<double> digested;     // cumulative, lysosomal
    std::uint64_t next_id = 0;

    std::size_t size() const { return type.size(); }
    void reserve(std::size_t n);
    // Appends a cell with no vesicles; returns its index.
    std::size_t add(double x, double y, double z, CellType t, MacrophageState s, std::uint32_t voxel_index);
    // Keeps the cells with keep[i] != 0, in their order (stable, so a run does not depend on threads).
    void compact(std::span<const std::uint8_t> keep);
};

// Where and how dense macrophages start: at a point of the dermis, the share of tissue that is
// injured (0..1). Injured tissue starts with the Waugh-Sherratt wound densities, the rest
// with the resident density of cells.macrophages (inflammatory share responses.alpha).
using InjuryMap = std::function<double(double x_um, double y_um, double z_um)>;

// Cells of every type at their scenario densities: in each layer a Poisson number of cells
// for the layer's volume, uniformly placed (outside open channel lumen at t = 0), from
// Philox draws keyed by the seed. Macrophages are placed by thinning: candidates at the
// largest density the injury map allows, kept with the local density's share.
CellPopulation place_cells(const Scenario& scenario, const Tissue& tissue, const InjuryMap& injury);

// Cells grouped by transport voxel (compressed rows), for uptake: group g is voxel
// voxels[g] holding cells order[start[g] .. start[g+1]).
struct VoxelGroups {
    std::vector<std::uint32_t> voxels;
    std::vector<std::uint32_t> start;
    std::vector<std::uint32_t> order;
    std::size_t groups() const { return voxels.size(); }
};
VoxelGroups group_by_voxel(const CellPopulation& cells);

} // namespace exoderm
