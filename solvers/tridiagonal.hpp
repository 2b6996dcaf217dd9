// Tridiagonal (and periodic tridiagonal) systems factorised once and solved many times.
//
// The implicit diffusion sweeps solve the same matrix for every line of a layer at every
// step with the same dt, so the factorisation (and its divisions) is paid once and a solve
// is two multiply-add recurrences. Periodic lines use Sherman-Morrison on top of the
// plain factorisation.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace exoderm {

struct TridiagonalFactor {
    int n = 0;
    bool cyclic = false;
    std::vector<double> scaled_lower; // a_i / denom_i
    std::vector<double> inv_denom;    // 1 / denom_i
    std::vector<double> upper_prime;  // c_i / denom_i
    // Periodic corners: x = y - (y_0 + corner_ratio y_{n-1}) / (1 + q_0 + corner_ratio q_{n-1}) q
    std::vector<double> q;
    double corner_ratio = 0.0;
    double inv_sherman_morrison = 0.0;
};

// Row i reads a[i] x[i-1] + b[i] x[i] + c[i] x[i+1] = d[i]. For a cyclic system a[0]
// couples x[0] to x[n-1] and c[n-1] couples x[n-1] to x[0]; otherwise they are ignored.
// Requires a diagonally dominant matrix (as implicit diffusion gives).
TridiagonalFactor factor_tridiagonal(std::span<const double> a, std::span<const double> b, std::span<const double> c,
                                     bool cyclic);

// Solves in place for one line whose elements are `stride` apart.
void solve_line(const TridiagonalFactor& f, double* x, std::ptrdiff_t stride);

// Solves `count` adjacent lines at once (line j starts at x + j, elements `stride` apart):
// the inner loop runs over contiguous memory and vectorises.
void solve_lines(const TridiagonalFactor& f, double* x, std::ptrdiff_t stride, std::size_t count);

} // namespace exoderm
