// Health of a concentration field: the first NaN, Inf or negative value beyond tolerance.
//
// A run scans every vesicle field after every step (app/run_guard.hpp) and stops with a
// NumericalFault naming time, voxel and quantity instead of writing numbers that are not. The
// scan is one streaming pass, cheap next to a transport step (docs/PERFORMANCE.md).
#pragma once

#include "model/grid.hpp"
#include "model/tissue.hpp"

#include <cstddef>
#include <span>
#include <string>

namespace exoderm {

// Negative concentrations are tolerated down to -kNegativeTolerance x the applied concentration.
// Why this value: the implicit solves are positivity-preserving in exact arithmetic; round-off
// leaves undershoots of order 1e-16 relative per step, which stay below 1e-12 over the ~1e3
// steps of a run. A real instability grows to order 1 within a few steps, so 1e-9 separates the
// two by three orders of magnitude either way.
inline constexpr double kNegativeTolerance = 1e-9;

enum class FieldProblem { None, NaN, Inf, Negative };

struct FieldHealth {
    FieldProblem problem = FieldProblem::None;
    std::size_t index = 0; // the first bad value (flat grid index)
    double value = 0.0;
    bool ok() const { return problem == FieldProblem::None; }
};

// Finds the first value that is NaN, +-Inf or below -negative_floor (>= 0; pass +infinity to
// check finiteness only).
FieldHealth scan_field_health(std::span<const double> values, double negative_floor);

const char* field_problem_name(FieldProblem problem); // "NaN", "Inf", "negative"

// The run guard's pass over the size classes of one quantity: true when every value of every
// class is healthy (as scan_field_health), and, when total is not empty, total[i] = 0 + sum over
// classes in class order (bitwise what Transport::total_free and total_bound give). One read of
// each class and one write of total, split over the OpenMP threads; on false, scan each class
// with scan_field_health to name the first bad value.
bool sum_classes_if_healthy(std::span<const std::span<const double>> classes, double negative_floor,
                            std::span<double> total);

// The same for the listed voxels only (the run guard after a step in which only the cells'
// release changed the fields): checks each class at those voxels and sets total there.
bool sum_classes_at_if_healthy(std::span<const std::span<const double>> classes, double negative_floor,
                               std::span<const std::size_t> voxels, std::span<double> total);

// "<quantity> is NaN (nan) at t = 3600 s (1 h) in voxel 1234 (ix .., iy .., iz ..; x .., y .., z .. um;
// dermis)". tissue gives the layer of the voxel's row; without it (the response grid over the
// dermis, whose rows start at origin_z_um) the layer is the dermis.
std::string describe_field_fault(const FieldHealth& health, const std::string& quantity, double time_s,
                                 const Grid& grid, const Tissue* tissue, double origin_z_um = 0.0);

// A fault put into a field on purpose, to test the whole path from detection to exit code:
// EXODERM_TEST_FAULT=<nan|inf|negative>@<time_s> (test-only, docs/RELIABILITY.md).
struct InjectedFault {
    FieldProblem kind = FieldProblem::None;
    double time_s = 0.0;
};

// Parses "<nan|inf|negative>@<time_s>"; kind None for an empty or malformed text.
InjectedFault parse_injected_fault(const std::string& text);

// Puts the fault into the voxel at the centre of the box (x, y) at mid depth: NaN, +Inf, or
// -reference (a negative concentration far beyond tolerance).
void inject_field_fault(std::span<double> values, const Grid& grid, FieldProblem kind, double reference);

} // namespace exoderm
