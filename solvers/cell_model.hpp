// The cells of a run: agents, their vesicle uptake and signalling on the transport clock, and
// the tissue responses on the response clock (MODEL.md sections 5-6; docs/cells.md).
#pragma once

#include "solvers/cell_population.hpp"
#include "solvers/cell_signalling.hpp"
#include "solvers/cell_uptake.hpp"
#include "solvers/reepithelialisation.hpp"
#include "solvers/responses.hpp"
#include "solvers/state_io.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace exoderm {

// Vesicles held by cells, per cell type (the cells' part of the dose balance).
struct CellLedger {
    std::array<double, kCellTypeCount> on_surface{};   // B: bound to the cell surface
    std::array<double, kCellTypeCount> internalised{};  // N
    std::array<double, kCellTypeCount> digested{};      // lysosomal, and with dead macrophages
    double total() const;
};

class CellModel {
public:
    // class_d0 and class_fraction: diffusivity in free solution and share of the applied
    // vesicles of each transported size class.
    CellModel(const Scenario& scenario, const Tissue& tissue, std::span<const double> class_d0_um2_per_s,
              std::span<const double> class_fraction);

    // After a transport step of length dt: cells capture from the free class fields
    // (particles / um^3, changed in place) when `capture`, their vesicle state advances, and
    // what they release returns to the fields at their voxel (shared by the classes' applied
    // fractions). Without capture (transport stopped) the state still advances.
    void vesicle_step(std::span<const std::span<double>> class_fields, double dt_s, bool capture);
    // One step of the responses on their clock.
    void response_step(double dt_s);

    CellLedger ledger() const;
    // Share of each cell type that has captured at least one whole vesicle.
    std::array<double, kCellTypeCount> reached_fraction() const;
    std::array<std::size_t, kCellTypeCount> counts() const;
    // The responses, and the closed share of the wound when there is one.
    ResponseReadout readout() const;

    const CellPopulation& cells() const { return cells_; }
    const Responses& responses() const { return responses_; }
    std::size_t vesicle_steps() const { return vesicle_steps_; }
    // The voxels whose free fields the last vesicle_step's release changed (a voxel may repeat).
    std::span<const std::size_t> released_voxels() const { return released_voxels_; }
    std::size_t response_steps() const { return response_steps_; }

    // Checkpoints: the agents, their vesicle state, the response fields and the step counters
    // that key the cells' random numbers.
    void save_state(StateWriter& out) const;
    void load_state(const StateReader& in);

private:
    template <class IO>
    void exchange_state(IO& io);

    const Scenario& scenario_;
    const Tissue& tissue_;
    Responses responses_;
    CellPopulation cells_;
    std::optional<ReepithelialisationFront> front_; // with a wound only
    VoxelGroups groups_;
    bool groups_stale_ = false;
    UptakeSetup uptake_;
    SignallingSetup signalling_;
    std::vector<double> class_fraction_;
    std::vector<double> captured_step_, released_step_;
    std::vector<std::size_t> released_voxels_;
    std::array<double, kCellTypeCount> retired_{}; // vesicles of cells that died (booked as digested)
    std::uint32_t vesicle_steps_ = 0;
    std::uint32_t response_steps_ = 0;
};

} // namespace exoderm
