// Vesicles on and in each cell, and the cargo signal they raise (MODEL.md section 5):
//
//   dB/dt = J - (k_off + k_int) B        J: this step's capture, at a constant rate
//   dN/dt = k_int B - k_lys N
//   dS/dt = k_sig (potency N - S)        S: cargo signal in EV equivalents (the E of section 6)
//
// plus the cumulative released (k_off B, back to the free field) and digested (k_lys N)
// amounts, so B + N + released + digested = captured holds for every cell (Runge-Kutta keeps
// linear invariants exactly). Integrated with Boost.Odeint (classic RK4, fixed sub-steps of
// at most 0.2 / fastest rate) over chunks of cells, which are independent of each other.
#pragma once

#include "solvers/cell_population.hpp"

#include <array>
#include <span>

namespace exoderm {

struct CellTypeSignalling {
    double k_off_per_s = 0.0;
    double k_int_per_s = 0.0;
    double k_lys_per_s = 0.0;
    double k_signal_per_s = 0.0;
};

struct SignallingSetup {
    std::array<CellTypeSignalling, kCellTypeCount> types{};
    double potency = 0.0;
};

SignallingSetup signalling_setup(const Scenario& scenario);

// Sub-steps RK4 needs for a step of dt: the fastest rate times the sub-step stays below 0.2.
int signalling_substeps(const SignallingSetup& setup, double dt_s);

// Advances every cell over dt. captured[i] (vesicles) arrived at a constant rate during the
// step (and is added to cells.captured); released_out[i] receives what cell i released to the
// free field during the step. Parallel over fixed chunks: bitwise the same for any thread count.
void signalling_step(const SignallingSetup& setup, CellPopulation& cells, std::span<const double> captured,
                     double dt_s, std::span<double> released_out);

} // namespace exoderm
