// Tissue responses on their own clock (MODEL.md section 6), on a coarse response grid over
// the dermis:
//
// - Macrophages follow Waugh & Sherratt 2006 in space: recruitment at K(T) per volume in
//   injured tissue (around the needle channel walls), logistic proliferation with crowding
//   k3, death d1; recruits are inflammatory with probability alpha(E) and switch to repair
//   at s_max E / (E + K_E), E = the cargo signal of internalised EVs. In agents mode each
//   macrophage is a cell agent with stochastic events; in mean-field mode the densities are
//   fields and the same equations are integrated per block (the placed macrophage agents then
//   only sense the vesicles and give E).
// - Active TGF-beta (made by inflammatory macrophages, decays at d2), TNF-alpha (inflammatory)
//   and IL-10 (repair) are diffusing fields.
// - Fibroblasts deposit new collagen I and III into non-diffusing fields, raised by TGF-beta
//   and by their own EV cargo signal, which also raises the type III share.
//
// Per step: block reaction ODEs integrated with Boost.Odeint (RK4, all blocks at once), then
// implicit diffusion of the cytokines, then the agents' events drawn from Philox streams keyed
// by agent id or block (the same for any thread count).
#pragma once

#include "model/grid.hpp"
#include "model/scenario.hpp"
#include "model/tissue.hpp"
#include "solvers/cell_population.hpp"
#include "solvers/diffusion.hpp"
#include "solvers/state_io.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace exoderm {

// The responses at one time. Macrophages and cytokines are read at the injury (each block
// weighted by its injured share; the whole dermis when nothing is injured); new collagen is
// the amount in the whole box.
struct ResponseReadout {
    double inflammatory = 0.0; // macrophages at the injury (cells, injury-weighted)
    double repair = 0.0;
    double repair_fraction = 0.0;
    double tgf_beta_ng_per_ml = 0.0; // means at the injury
    double tnf_ng_per_ml = 0.0;
    double il10_ng_per_ml = 0.0;
    double collagen1_ng = 0.0; // new collagen in the box
    double collagen3_ng = 0.0;
    bool wound = false;                 // a wound is closing (solvers/reepithelialisation.hpp)
    double wound_closed_fraction = 0.0; // closed share of the initial wound area
};

// K(T) of Waugh & Sherratt (cells/mm^3/day for T in ng/mL), in internal units: recruits per um^3 per s.
double recruitment_per_um3_s(double tgf_kg_per_um3);

class Responses {
public:
    Responses(const Scenario& scenario, const Tissue& tissue);

    const Grid& grid() const { return grid_; }
    double origin_z_um() const { return top_um_; } // depth of the response grid's top (the dermis top)
    bool in_dermis(double z_um) const { return z_um >= top_um_ && z_um < top_um_ + grid_.depth_um(); }
    // Response-grid block holding a point of the dermis.
    std::size_t block_of(double x_um, double y_um, double z_um) const;
    // Injured share of the tissue at a point (0 outside the dermis).
    double injury_at(double x_um, double y_um, double z_um) const;

    // Advances the responses by dt. Agents mode: macrophage agents in `cells` die, divide,
    // switch, move and are recruited (their voxel indices on the transport grid are updated;
    // dead macrophages' vesicles are returned through retired_out as digested amounts per type).
    void step(CellPopulation& cells, double dt_s, std::uint32_t step_index, std::array<double, kCellTypeCount>& retired_out);

    ResponseReadout readout(const CellPopulation& cells) const;
    // Takes in the agents: macrophage EV signal and (agents mode) densities per block, and the
    // fibroblasts' collagen sources. Called after every change of the cells.
    void sense(const CellPopulation& cells);

    // Fields on the response grid (internal units: kg/um^3, cells/um^3).
    std::span<const double> injury() const { return injury_; }
    std::span<const double> tgf_beta() const { return field(kT); }
    std::span<const double> tnf() const { return field(kTnf); }
    std::span<const double> il10() const { return field(kIl10); }
    std::span<const double> collagen1() const { return field(kCol1); }
    std::span<const double> collagen3() const { return field(kCol3); }
    // Macrophage densities: the mean-field state, or the agents binned to blocks.
    std::span<const double> inflammatory_density() const { return field(kPhiI); }
    std::span<const double> repair_density() const { return field(kPhiR); }

    // Fluxes used by the step (exposed for tests): resting recruitment per um^3 per s that keeps
    // the resident macrophage density steady outside injured tissue.
    double resting_recruitment() const { return resting_recruitment_; }

    // Checkpoints: the fields and what the last sense() left for the next step.
    void save_state(StateWriter& out) const;
    void load_state(const StateReader& in);

private:
    enum Var : std::size_t { kPhiI = 0, kPhiR, kT, kTnf, kIl10, kCol1, kCol3, kVarCount };
    std::span<const double> field(Var v) const {
        return std::span<const double>(state_).subspan(v * grid_.size(), grid_.size());
    }
    std::span<double> field_mut(Var v) { return std::span<double>(state_).subspan(v * grid_.size(), grid_.size()); }
    void integrate_blocks(const CellPopulation& cells, double dt_s);
    template <class IO>
    void exchange_state(IO& io);
    void macrophage_events(CellPopulation& cells, double dt_s, std::uint32_t step_index,
                           std::span<const double> tgf_start, std::array<double, kCellTypeCount>& retired_out);

    const Scenario& scenario_;
    const Tissue& tissue_;
    Grid grid_;
    double top_um_ = 0.0;
    std::vector<double> injury_;
    std::vector<double> state_; // kVarCount fields of grid_.size(), variable-major
    std::vector<double> crowding_density_;
    std::vector<double> macrophage_signal_;   // mean E of macrophage agents per block
    std::vector<double> collagen_source_[2];  // per block, kg/um^3/s before the TGF-beta factor
    DiffusionOperator tgf_diffusion_, tnf_diffusion_, il10_diffusion_, crowding_smoother_;
    double resting_recruitment_ = 0.0;
    // Shares of a cell's cargo signal that are repair and pro-inflammatory cargo (product factors).
    double repair_share_ = 0.0;
    double inflammatory_share_ = 0.0;
};

} // namespace exoderm
