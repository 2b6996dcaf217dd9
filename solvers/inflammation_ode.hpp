// Well-mixed inflammation core of MODEL.md section 6: Waugh & Sherratt 2006
// (Bull Math Biol 68:197), as curated in BioModels BIOMD0000000680/681.
//
//   dphi_I/dt = alpha K(T) + k1 k2 phi_I (1 - k3 (phi_I + phi_R)) - d1 phi_I
//   dphi_R/dt = (1 - alpha) K(T) + k1 k2 phi_R (1 - k3 (phi_I + phi_R)) - d1 phi_R
//   dT/dt     = k4 phi_I - d2 T
//   K(T)      = -2.47 T^3 + 21.94 T^2 + 6.41 T + 1.75
//
// Units as in the paper: macrophage densities phi_I (inflammatory) and phi_R (repair) in
// cells per volume, active TGF-beta T in the paper's concentration units, and time in DAYS
// inside this module (rates per day). Callers on the transport clock (seconds) must convert.
#pragma once

#include <array>

namespace exoderm {

// No defaults here on purpose: use waugh_sherratt_published() or set every field.
struct WaughSherrattParameters {
    double alpha; // fraction of recruited macrophages that are inflammatory (dimensionless)
    double k1;    // per day
    double k2;    // dimensionless (k1 k2 is the proliferation rate per day)
    double k3;    // per (cells per volume): inverse carrying capacity
    double k4;    // TGF-beta production per inflammatory macrophage per day
    double d1;    // macrophage death/emigration rate per day
    double d2;    // TGF-beta decay rate per day
};

struct InflammationState {
    double phi_inflammatory; // cells per volume
    double phi_repair;       // cells per volume
    double tgf_beta;         // paper's TGF-beta units
};

// Published values, Waugh & Sherratt 2006 / BioModels BIOMD0000000680 (MODEL.md section 6):
// k1 0.05, k2 0.693, k3 0.002, k4 0.07, d1 0.2, d2 9.1. alpha = 0.8 chronic (diabetic),
// alpha = 0.5 resolving. The spatial model reads the same values from the scenario (responses.*);
// this well-mixed form is the reference it is tested against.
WaughSherrattParameters waugh_sherratt_published(double alpha);

// Published initial state (200, 200, 6) (scenario keys responses.initial_*).
InflammationState waugh_sherratt_initial();

// Macrophage recruitment rate K(T).
double waugh_sherratt_recruitment(double tgf_beta);

// Right-hand side d/dt of the state (per day).
InflammationState waugh_sherratt_rhs(const WaughSherrattParameters& p, const InflammationState& s);

// Integrates the well-mixed system for `days` days with Boost.Odeint (adaptive controlled
// Dormand-Prince 5(4), absolute and relative tolerance both rel_tol).
InflammationState integrate_well_mixed(const WaughSherrattParameters& p, InflammationState start, double days,
                                       double rel_tol = 1e-10);

} // namespace exoderm
