#include "solvers/tridiagonal.hpp"

#include <stdexcept>

// solve_lines is compiled for AVX-512 and AVX2 as well as the baseline target, picked at
// load time by the CPU (GCC function multiversioning). Floating-point contraction is off in
// it: AVX-512 has fused multiply-add, and contracting would change the rounding, so every
// version performs the same IEEE operations and gives bitwise the same result.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(EXODERM_NO_MULTIVERSIONING)
#define EXODERM_KERNEL __attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off")))
#else
#define EXODERM_KERNEL
#endif

namespace exoderm {

namespace {

// Plain Thomas factorisation of rows with lower a, diagonal b, upper c.
void factor_plain(TridiagonalFactor& f, std::span<const double> a, std::span<const double> b,
                  std::span<const double> c) {
    const int n = f.n;
    double previous_upper = 0.0;
    for (int i = 0; i < n; ++i) {
        const double lower = i == 0 ? 0.0 : a[static_cast<std::size_t>(i)];
        const double upper = i == n - 1 ? 0.0 : c[static_cast<std::size_t>(i)];
        const double denom = b[static_cast<std::size_t>(i)] - lower * previous_upper;
        if (denom == 0.0) throw std::runtime_error("factor_tridiagonal: singular system");
        const double inv = 1.0 / denom;
        f.inv_denom[static_cast<std::size_t>(i)] = inv;
        f.scaled_lower[static_cast<std::size_t>(i)] = lower * inv;
        f.upper_prime[static_cast<std::size_t>(i)] = upper * inv;
        previous_upper = f.upper_prime[static_cast<std::size_t>(i)];
    }
}

void solve_plain(const TridiagonalFactor& f, double* x, std::ptrdiff_t stride) {
    const int n = f.n;
    double prev = x[0] * f.inv_denom[0];
    x[0] = prev;
    for (int i = 1; i < n; ++i) {
        double& xi = x[i * stride];
        prev = xi * f.inv_denom[static_cast<std::size_t>(i)] - f.scaled_lower[static_cast<std::size_t>(i)] * prev;
        xi = prev;
    }
    for (int i = n - 2; i >= 0; --i) {
        double& xi = x[i * stride];
        prev = xi - f.upper_prime[static_cast<std::size_t>(i)] * prev;
        xi = prev;
    }
}

} // namespace

TridiagonalFactor factor_tridiagonal(std::span<const double> a, std::span<const double> b, std::span<const double> c,
                                     bool cyclic) {
    TridiagonalFactor f;
    f.n = static_cast<int>(b.size());
    f.cyclic = cyclic && f.n > 1;
    if (f.n == 0 || a.size() != b.size() || c.size() != b.size())
        throw std::invalid_argument("factor_tridiagonal: a, b, c must have the same non-zero length");
    f.scaled_lower.resize(b.size());
    f.inv_denom.resize(b.size());
    f.upper_prime.resize(b.size());
    if (f.n == 1) {
        // A periodic line of one cell exchanges only with itself: the off-diagonals fold onto b.
        const double diag = cyclic ? b[0] + a[0] + c[0] : b[0];
        f.inv_denom[0] = 1.0 / diag;
        return f;
    }
    if (!f.cyclic) {
        factor_plain(f, a, b, c);
        return f;
    }
    // Sherman-Morrison: A = T + u v^T with u = (gamma, 0.., c_{n-1}), v = (1, 0.., a_0 / gamma).
    const std::size_t last = b.size() - 1;
    const double gamma = -b[0];
    std::vector<double> b_modified(b.begin(), b.end());
    b_modified[0] -= gamma;
    b_modified[last] -= a[0] * c[last] / gamma;
    factor_plain(f, a, b_modified, c);
    f.corner_ratio = a[0] / gamma;
    f.q.assign(b.size(), 0.0);
    f.q[0] = gamma;
    f.q[last] = c[last];
    solve_plain(f, f.q.data(), 1);
    f.inv_sherman_morrison = 1.0 / (1.0 + f.q[0] + f.corner_ratio * f.q[last]);
    return f;
}

void solve_line(const TridiagonalFactor& f, double* x, std::ptrdiff_t stride) {
    if (f.n == 1) {
        x[0] *= f.inv_denom[0];
        return;
    }
    solve_plain(f, x, stride);
    if (!f.cyclic) return;
    const std::ptrdiff_t last = f.n - 1;
    const double factor = (x[0] + f.corner_ratio * x[last * stride]) * f.inv_sherman_morrison;
    for (int i = 0; i < f.n; ++i) x[i * stride] -= factor * f.q[static_cast<std::size_t>(i)];
}

EXODERM_KERNEL void solve_lines(const TridiagonalFactor& f, double* x, std::ptrdiff_t stride, std::size_t count) {
    const int n = f.n;
    const std::ptrdiff_t m = static_cast<std::ptrdiff_t>(count);
    if (n == 1) {
        const double inv = f.inv_denom[0];
        for (std::ptrdiff_t j = 0; j < m; ++j) x[j] *= inv;
        return;
    }
    {
        const double inv0 = f.inv_denom[0];
        for (std::ptrdiff_t j = 0; j < m; ++j) x[j] *= inv0;
    }
    for (int i = 1; i < n; ++i) {
        double* __restrict row = x + i * stride;
        const double* __restrict above = x + (i - 1) * stride;
        const double inv = f.inv_denom[static_cast<std::size_t>(i)];
        const double lower = f.scaled_lower[static_cast<std::size_t>(i)];
        for (std::ptrdiff_t j = 0; j < m; ++j) row[j] = row[j] * inv - lower * above[j];
    }
    for (int i = n - 2; i >= 0; --i) {
        double* __restrict row = x + i * stride;
        const double* __restrict below = x + (i + 1) * stride;
        const double upper = f.upper_prime[static_cast<std::size_t>(i)];
        for (std::ptrdiff_t j = 0; j < m; ++j) row[j] -= upper * below[j];
    }
    if (!f.cyclic) return;
    const std::ptrdiff_t last = n - 1;
    // The correction factor differs per line; it is applied row by row to stay contiguous,
    // a chunk of lines at a time so that the factors fit in a stack buffer (no allocation).
    constexpr std::ptrdiff_t kChunk = 256;
    double factor[kChunk];
    for (std::ptrdiff_t j0 = 0; j0 < m; j0 += kChunk) {
        const std::ptrdiff_t width = m - j0 < kChunk ? m - j0 : kChunk;
        const double* first_row = x + j0;
        const double* last_row = x + j0 + last * stride;
        for (std::ptrdiff_t j = 0; j < width; ++j)
            factor[j] = (first_row[j] + f.corner_ratio * last_row[j]) * f.inv_sherman_morrison;
        for (int i = 0; i < n; ++i) {
            double* __restrict row = x + j0 + i * stride;
            const double qi = f.q[static_cast<std::size_t>(i)];
            for (std::ptrdiff_t j = 0; j < width; ++j) row[j] -= factor[j] * qi;
        }
    }
}

} // namespace exoderm
