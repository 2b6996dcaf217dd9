// Re-epithelialisation: the epidermis closes a wound from its edge inwards. The front moves at
//   v = v0 (1 + a_S S / (S + K_S)),
// S the mean EV cargo signal of the dermal cells (fibroblasts, macrophages) within the sensing
// band of the front, so EVs taken up at the wound edge speed closure, saturating in S (A;
// docs/wound-and-injection.md). Disk wounds close as a shrinking circle, strips and whole-box
// wounds as two straight fronts from their long (x) edges.
#pragma once

#include "model/wound.hpp"
#include "solvers/cell_population.hpp"

namespace exoderm {

class ReepithelialisationFront {
public:
    explicit ReepithelialisationFront(const WoundGeometry& wound);

    // Radius of the open disk, or half-width of the open band.
    double open_half_size_um() const { return open_um_; }
    // Closed share of the initial wound area (1 - (r/R)^2 for a disk, 1 - w/w0 for a band).
    double closed_fraction() const;
    double speed_um_per_s(double signal) const;
    // Moves the front for dt at the speed the signal gives (never past full closure).
    void advance(double dt_s, double signal);
    // Whether a point of the tissue under the wound lies within the sensing band of the front.
    bool senses(double x_um, double y_um, double z_um) const;
    // Checkpoints (solvers/state_io.hpp): where the front stands is its only state.
    template <class IO>
    void exchange_state(IO& io) { io.scalar("open_um", open_um_); }

private:
    WoundGeometry wound_;
    double initial_um_ = 0.0;
    double open_um_ = 0.0;
};

// Mean cargo signal of the fibroblasts and macrophages the front senses (0 when none).
double front_signal(const ReepithelialisationFront& front, const CellPopulation& cells);

} // namespace exoderm
