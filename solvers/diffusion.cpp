#include "solvers/diffusion.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi" // vector values only cross always-inline helpers
#endif

// x86-64 with GCC: the hot kernels also exist in AVX2 and AVX-512 versions, chosen at run
// time from the CPU (target_clones for whole sweeps, an explicit check for the hand-written
// kernels). Floating-point contraction is turned off in all of them: AVX-512 has fused
// multiply-add, and contracting would change the rounding. So every version performs the
// same IEEE operations in the same order and gives bitwise the same result.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(EXODERM_NO_MULTIVERSIONING)
#define EXODERM_X86_DISPATCH 1
#include <immintrin.h>
#define EXODERM_KERNEL __attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off"), flatten))
#define EXODERM_AVX2 __attribute__((target("avx2"), optimize("fp-contract=off"), flatten))
#define EXODERM_AVX512 __attribute__((target("avx512f"), optimize("fp-contract=off"), flatten))
#else
#define EXODERM_X86_DISPATCH 0
#define EXODERM_KERNEL
#endif

namespace exoderm {

namespace {

constexpr std::uint8_t kHeld = 1;
constexpr std::uint8_t kMouth = 2;

double harmonic_mean(double a, double b) { return a + b > 0.0 ? 2.0 * a * b / (a + b) : 0.0; }

#if EXODERM_X86_DISPATCH
bool cpu_has_avx2() {
    static const bool has = __builtin_cpu_supports("avx2");
    return has;
}
bool cpu_has_avx512() {
    static const bool has = __builtin_cpu_supports("avx512f");
    return has;
}
#endif

// Element-wise vectors of 2, 4 and 8 doubles (GCC/Clang vector extension); each compiles to
// the widest instructions of the function it is inlined into.
using V2 = double __attribute__((vector_size(2 * sizeof(double))));
using V4 = double __attribute__((vector_size(4 * sizeof(double))));
using V8 = double __attribute__((vector_size(8 * sizeof(double))));
template <typename V>
[[gnu::always_inline]] inline V vload(const double* p) {
    V v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}
template <typename V>
[[gnu::always_inline]] inline void vstore(double* p, const V& v) {
    __builtin_memcpy(p, &v, sizeof v);
}

// Performance notes (docs/PERFORMANCE.md). Every kernel below performs, per line, exactly
// the IEEE operations of solve_line in the same order (no reassociation; the default x86-64
// target has no fused multiply-add), so the result is bitwise that of solving the lines one
// by one, and it does not depend on how lines are grouped or which thread solves them.

// Tuning constants, measured on the benchmark of docs/PERFORMANCE.md. None of them changes
// the arithmetic, and none depends on the number of threads.
// Columns of a z-sweep block: 512 columns x nz rows stay in L2 between the forward and the
// backward pass.
constexpr std::size_t kZBlock = 512;
// Bulk x lines solved together: pairs of lines per SSE2 register, quads per AVX2 register.
constexpr int kXPairs = 2;
constexpr int kXQuads = 2;

#if defined(__SSE2__)
// 2 P periodic lines sharing one factor, elements contiguous (the bulk x lines of a plane),
// solved two lines per SSE2 register: each pair of lines is read two elements at a time and
// transposed in registers, so P independent recurrences on (line a, line b) vectors hide
// each other's latency. Requires n >= 2 and f.cyclic. Writes the lines' periodic
// correction factors to factors[0 .. 2P) instead of applying them.
template <int P>
void solve_x_pairs(const TridiagonalFactor& f, double* const* x, double* factors) {
    const int n = f.n;
    const double* inv = f.inv_denom.data();
    const double* lower = f.scaled_lower.data();
    const double* upper = f.upper_prime.data();
    __m128d prev[P];
    // Forward elimination.
    {
        const __m128d inv0 = _mm_set1_pd(inv[0]);
        for (int p = 0; p < P; ++p) {
            prev[p] = _mm_mul_pd(_mm_set_pd(x[2 * p + 1][0], x[2 * p][0]), inv0);
            _mm_storel_pd(x[2 * p], prev[p]);
            _mm_storeh_pd(x[2 * p + 1], prev[p]);
        }
    }
    int i = 1;
    for (; i + 1 < n; i += 2) {
        const __m128d inv0 = _mm_set1_pd(inv[i]), inv1 = _mm_set1_pd(inv[i + 1]);
        const __m128d low0 = _mm_set1_pd(lower[i]), low1 = _mm_set1_pd(lower[i + 1]);
        for (int p = 0; p < P; ++p) {
            double* xa = x[2 * p] + i;
            double* xb = x[2 * p + 1] + i;
            const __m128d a = _mm_loadu_pd(xa), b = _mm_loadu_pd(xb);
            const __m128d e0 = _mm_sub_pd(_mm_mul_pd(_mm_unpacklo_pd(a, b), inv0), _mm_mul_pd(low0, prev[p]));
            const __m128d e1 = _mm_sub_pd(_mm_mul_pd(_mm_unpackhi_pd(a, b), inv1), _mm_mul_pd(low1, e0));
            prev[p] = e1;
            _mm_storeu_pd(xa, _mm_unpacklo_pd(e0, e1));
            _mm_storeu_pd(xb, _mm_unpackhi_pd(e0, e1));
        }
    }
    if (i < n) {
        const __m128d inv0 = _mm_set1_pd(inv[i]), low0 = _mm_set1_pd(lower[i]);
        for (int p = 0; p < P; ++p) {
            const __m128d e = _mm_set_pd(x[2 * p + 1][i], x[2 * p][i]);
            prev[p] = _mm_sub_pd(_mm_mul_pd(e, inv0), _mm_mul_pd(low0, prev[p]));
            _mm_storel_pd(x[2 * p] + i, prev[p]);
            _mm_storeh_pd(x[2 * p + 1] + i, prev[p]);
        }
    }
    __m128d last[P]; // element n - 1, final already (back substitution starts from it)
    for (int p = 0; p < P; ++p) last[p] = prev[p];
    // Back substitution, elements (i - 1, i) at a time.
    i = n - 2;
    for (; i >= 1; i -= 2) {
        const __m128d up1 = _mm_set1_pd(upper[i]), up0 = _mm_set1_pd(upper[i - 1]);
        for (int p = 0; p < P; ++p) {
            double* xa = x[2 * p] + i - 1;
            double* xb = x[2 * p + 1] + i - 1;
            const __m128d a = _mm_loadu_pd(xa), b = _mm_loadu_pd(xb);
            const __m128d e1 = _mm_sub_pd(_mm_unpackhi_pd(a, b), _mm_mul_pd(up1, prev[p]));
            const __m128d e0 = _mm_sub_pd(_mm_unpacklo_pd(a, b), _mm_mul_pd(up0, e1));
            prev[p] = e0;
            _mm_storeu_pd(xa, _mm_unpacklo_pd(e0, e1));
            _mm_storeu_pd(xb, _mm_unpackhi_pd(e0, e1));
        }
    }
    if (i == 0) {
        const __m128d up0 = _mm_set1_pd(upper[0]);
        for (int p = 0; p < P; ++p) {
            const __m128d e = _mm_set_pd(x[2 * p + 1][0], x[2 * p][0]);
            prev[p] = _mm_sub_pd(e, _mm_mul_pd(up0, prev[p]));
            _mm_storel_pd(x[2 * p], prev[p]);
            _mm_storeh_pd(x[2 * p + 1], prev[p]);
        }
    }
    // The periodic correction x -= factor q is left to the y sweep (it is applied to each
    // element as that sweep reads it, see solve_y_columns); only the factors are returned.
    const __m128d corner = _mm_set1_pd(f.corner_ratio), ism = _mm_set1_pd(f.inv_sherman_morrison);
    for (int p = 0; p < P; ++p)
        _mm_storeu_pd(factors + 2 * p, _mm_mul_pd(_mm_add_pd(prev[p], _mm_mul_pd(corner, last[p])), ism));
}
#endif

#if EXODERM_X86_DISPATCH
// 4 Q periodic lines sharing one factor, elements contiguous: the AVX2 counterpart of
// solve_x_pairs, four lines per register. The forward pass reads four elements of each line
// at a time, transposes them 4 x 4 in registers and keeps its results in that transposed
// form in t (row i: element i of the 4 Q lines); the back substitution runs on t and
// transposes back on the way to memory. Same arithmetic per line; writes the 4 Q
// correction factors instead of applying them. Requires n >= 2 and t of n x 4 Q values.
template <int Q>
EXODERM_AVX2 void solve_x_quads(const TridiagonalFactor& f, double* const* x, double* factors, double* t) {
    constexpr int kL = 4 * Q; // lines
    const int n = f.n;
    const double* inv = f.inv_denom.data();
    const double* lower = f.scaled_lower.data();
    const double* upper = f.upper_prime.data();
    auto transpose = [](__m256d& r0, __m256d& r1, __m256d& r2, __m256d& r3) {
        const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
        const __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
        r0 = _mm256_permute2f128_pd(t0, t2, 0x20);
        r1 = _mm256_permute2f128_pd(t1, t3, 0x20);
        r2 = _mm256_permute2f128_pd(t0, t2, 0x31);
        r3 = _mm256_permute2f128_pd(t1, t3, 0x31);
    };
    auto gather = [&](int q, int i) {
        return _mm256_set_pd(x[4 * q + 3][i], x[4 * q + 2][i], x[4 * q + 1][i], x[4 * q][i]);
    };
    auto row = [&](int i, int q) { return t + static_cast<std::ptrdiff_t>(i) * kL + 4 * q; };
    __m256d prev[Q];
    for (int q = 0; q < Q; ++q) {
        prev[q] = _mm256_mul_pd(gather(q, 0), _mm256_set1_pd(inv[0]));
        _mm256_storeu_pd(row(0, q), prev[q]);
    }
    int i = 1;
    for (; i + 3 < n; i += 4) {
        for (int q = 0; q < Q; ++q) {
            __m256d r0 = _mm256_loadu_pd(x[4 * q] + i), r1 = _mm256_loadu_pd(x[4 * q + 1] + i);
            __m256d r2 = _mm256_loadu_pd(x[4 * q + 2] + i), r3 = _mm256_loadu_pd(x[4 * q + 3] + i);
            transpose(r0, r1, r2, r3); // r_k: element i + k of the four lines
            r0 = _mm256_sub_pd(_mm256_mul_pd(r0, _mm256_set1_pd(inv[i])), _mm256_mul_pd(_mm256_set1_pd(lower[i]), prev[q]));
            r1 = _mm256_sub_pd(_mm256_mul_pd(r1, _mm256_set1_pd(inv[i + 1])), _mm256_mul_pd(_mm256_set1_pd(lower[i + 1]), r0));
            r2 = _mm256_sub_pd(_mm256_mul_pd(r2, _mm256_set1_pd(inv[i + 2])), _mm256_mul_pd(_mm256_set1_pd(lower[i + 2]), r1));
            r3 = _mm256_sub_pd(_mm256_mul_pd(r3, _mm256_set1_pd(inv[i + 3])), _mm256_mul_pd(_mm256_set1_pd(lower[i + 3]), r2));
            prev[q] = r3;
            _mm256_storeu_pd(row(i, q), r0);
            _mm256_storeu_pd(row(i + 1, q), r1);
            _mm256_storeu_pd(row(i + 2, q), r2);
            _mm256_storeu_pd(row(i + 3, q), r3);
        }
    }
    for (; i < n; ++i)
        for (int q = 0; q < Q; ++q) {
            prev[q] = _mm256_sub_pd(_mm256_mul_pd(gather(q, i), _mm256_set1_pd(inv[i])),
                                    _mm256_mul_pd(_mm256_set1_pd(lower[i]), prev[q]));
            _mm256_storeu_pd(row(i, q), prev[q]);
        }
    __m256d last[Q]; // element n - 1, final already
    for (int q = 0; q < Q; ++q) last[q] = prev[q];
    // Back substitution in t. The elements n - 1 - (n - 1) % 4 .. n - 1 (a partial group of
    // four at the end) and whole groups of four below them are written back to x.
    auto write_back = [&](int first) { // elements first .. first + 3
        for (int q = 0; q < Q; ++q) {
            __m256d r0 = _mm256_loadu_pd(row(first, q)), r1 = _mm256_loadu_pd(row(first + 1, q));
            __m256d r2 = _mm256_loadu_pd(row(first + 2, q)), r3 = _mm256_loadu_pd(row(first + 3, q));
            transpose(r0, r1, r2, r3);
            _mm256_storeu_pd(x[4 * q] + first, r0);
            _mm256_storeu_pd(x[4 * q + 1] + first, r1);
            _mm256_storeu_pd(x[4 * q + 2] + first, r2);
            _mm256_storeu_pd(x[4 * q + 3] + first, r3);
        }
    };
    const int tail = n % 4; // elements n - tail .. n - 1 go back one at a time
    for (i = n - 2; i >= 0; --i) {
        const __m256d up = _mm256_set1_pd(upper[i]);
        for (int q = 0; q < Q; ++q) {
            prev[q] = _mm256_sub_pd(_mm256_loadu_pd(row(i, q)), _mm256_mul_pd(up, prev[q]));
            _mm256_storeu_pd(row(i, q), prev[q]);
        }
        if (i % 4 == 0 && i + 3 < n - tail) write_back(i);
    }
    for (int k = n - tail; k < n; ++k)
        for (int l = 0; l < kL; ++l) x[l][k] = t[static_cast<std::ptrdiff_t>(k) * kL + l];
    const __m256d corner = _mm256_set1_pd(f.corner_ratio), ism = _mm256_set1_pd(f.inv_sherman_morrison);
    for (int q = 0; q < Q; ++q)
        _mm256_storeu_pd(factors + 4 * q, _mm256_mul_pd(_mm256_add_pd(prev[q], _mm256_mul_pd(corner, last[q])), ism));
}
#endif

// Solves the bulk y lines of K W adjacent columns of a plane (line j at x + j, elements
// `stride` apart) like solve_lines, holding the previous row in registers (K vectors V of
// W doubles) rather than reloading it. It first applies the periodic correction left over
// from the x sweep: row y of the plane is x line y, corrected as x -= fx[y] qx[j] where
// deferred[y] (qx: the x factor's q at these columns, or null when nothing is deferred).
template <typename V, int K>
[[gnu::always_inline]] inline void solve_y_columns(const TridiagonalFactor& f, double* x, std::ptrdiff_t stride,
                                                   const double* qx, const double* fx, const std::uint8_t* deferred) {
    constexpr int kW = static_cast<int>(sizeof(V) / sizeof(double));
    const int n = f.n;
    V q[K], prev[K];
    for (int k = 0; k < K; ++k) q[k] = qx != nullptr ? vload<V>(qx + kW * k) : V{};
    {
        const double inv0 = f.inv_denom[0];
        const double fx0 = fx[0];
        for (int k = 0; k < K; ++k) {
            const V xk = vload<V>(x + kW * k);
            prev[k] = (deferred[0] ? xk - fx0 * q[k] : xk) * inv0;
            vstore(x + kW * k, prev[k]);
        }
    }
    for (int i = 1; i < n; ++i) {
        double* row = x + i * stride;
        const double inv = f.inv_denom[static_cast<std::size_t>(i)];
        const double lower = f.scaled_lower[static_cast<std::size_t>(i)];
        if (deferred[i]) {
            const double fxi = fx[i];
            for (int k = 0; k < K; ++k) {
                prev[k] = (vload<V>(row + kW * k) - fxi * q[k]) * inv - lower * prev[k];
                vstore(row + kW * k, prev[k]);
            }
        } else {
            for (int k = 0; k < K; ++k) {
                prev[k] = vload<V>(row + kW * k) * inv - lower * prev[k];
                vstore(row + kW * k, prev[k]);
            }
        }
    }
    for (int i = n - 2; i >= 0; --i) {
        double* row = x + i * stride;
        const double upper = f.upper_prime[static_cast<std::size_t>(i)];
        for (int k = 0; k < K; ++k) {
            prev[k] = vload<V>(row + kW * k) - upper * prev[k];
            vstore(row + kW * k, prev[k]);
        }
    }
    if (!f.cyclic) return;
    // prev holds row 0 now.
    const double* last_row = x + (n - 1) * stride;
    V factor[K];
    for (int k = 0; k < K; ++k)
        factor[k] = (prev[k] + f.corner_ratio * vload<V>(last_row + kW * k)) * f.inv_sherman_morrison;
    for (int i = 0; i < n; ++i) {
        double* row = x + i * stride;
        const double qi = f.q[static_cast<std::size_t>(i)];
        for (int k = 0; k < K; ++k) vstore(row + kW * k, vload<V>(row + kW * k) - factor[k] * qi);
    }
}

// The bulk y solve of a whole plane (nx columns): K W columns at a time, the rest with
// narrower vectors.
template <typename V, int K>
[[gnu::always_inline]] inline void solve_y_plane_with(const TridiagonalFactor& f, double* base, std::size_t nx,
                                                      const double* qx, const double* fx,
                                                      const std::uint8_t* deferred) {
    constexpr auto kW = sizeof(V) / sizeof(double);
    const auto stride = static_cast<std::ptrdiff_t>(nx);
    auto q_at = [&](std::size_t x0) { return qx != nullptr ? qx + x0 : nullptr; };
    std::size_t x0 = 0;
    for (; x0 + K * kW <= nx; x0 += K * kW) solve_y_columns<V, K>(f, base + x0, stride, q_at(x0), fx, deferred);
    for (; x0 + kW <= nx; x0 += kW) solve_y_columns<V, 1>(f, base + x0, stride, q_at(x0), fx, deferred);
    for (; x0 + 2 <= nx; x0 += 2) solve_y_columns<V2, 1>(f, base + x0, stride, q_at(x0), fx, deferred);
    for (; x0 < nx; ++x0) solve_y_columns<double, 1>(f, base + x0, stride, q_at(x0), fx, deferred);
}

#if EXODERM_X86_DISPATCH
EXODERM_AVX512 void solve_y_plane_avx512(const TridiagonalFactor& f, double* base, std::size_t nx, const double* qx,
                                         const double* fx, const std::uint8_t* deferred) {
    solve_y_plane_with<V8, 4>(f, base, nx, qx, fx, deferred);
}
EXODERM_AVX2 void solve_y_plane_avx2(const TridiagonalFactor& f, double* base, std::size_t nx, const double* qx,
                                     const double* fx, const std::uint8_t* deferred) {
    solve_y_plane_with<V4, 4>(f, base, nx, qx, fx, deferred);
}
#endif

void solve_y_plane(const TridiagonalFactor& f, double* base, std::size_t nx, const double* qx, const double* fx,
                   const std::uint8_t* deferred) {
#if EXODERM_X86_DISPATCH
    if (cpu_has_avx512()) return solve_y_plane_avx512(f, base, nx, qx, fx, deferred);
    if (cpu_has_avx2()) return solve_y_plane_avx2(f, base, nx, qx, fx, deferred);
#endif
    solve_y_plane_with<V2, 4>(f, base, nx, qx, fx, deferred);
}

} // namespace

DiffusionOperator::DiffusionOperator(const Grid& grid, bool bottom_sink)
    : grid_(grid), bottom_sink_(bottom_sink), row_d_(static_cast<std::size_t>(grid.nz), 0.0),
      dense_d_(grid.size(), std::numeric_limits<double>::quiet_NaN()), dense_flags_(grid.size(), 0) {}

void DiffusionOperator::set_diffusivity(std::span<const double> row_diffusivity_um2_per_s,
                                        std::vector<VoxelOverride> overrides) {
    if (static_cast<int>(row_diffusivity_um2_per_s.size()) != grid_.nz)
        throw std::invalid_argument("DiffusionOperator: one bulk diffusivity per depth row is needed");
    for (const auto& o : overrides_) {
        dense_d_[o.index] = std::numeric_limits<double>::quiet_NaN();
        dense_flags_[o.index] = 0;
    }
    row_d_.assign(row_diffusivity_um2_per_s.begin(), row_diffusivity_um2_per_s.end());
    std::sort(overrides.begin(), overrides.end(),
              [](const VoxelOverride& a, const VoxelOverride& b) { return a.index < b.index; });
    overrides_ = std::move(overrides);
    for (const auto& o : overrides_) {
        if (o.index >= grid_.size()) throw std::out_of_range("DiffusionOperator: override outside the grid");
        if (o.mouth && o.index >= grid_.plane())
            throw std::invalid_argument("DiffusionOperator: a channel mouth must be in the top row");
        dense_d_[o.index] = o.diffusivity_um2_per_s;
        dense_flags_[o.index] = static_cast<std::uint8_t>((o.held ? kHeld : 0) | (o.mouth ? kMouth : 0));
    }
    factored_dt_ = -1.0;
}

double DiffusionOperator::voxel_diffusivity(std::size_t index) const {
    const double d = dense_d_[index];
    return std::isnan(d) ? row_d_[index / grid_.plane()] : d;
}

TridiagonalFactor DiffusionOperator::factor_line(std::size_t start, std::ptrdiff_t stride, int n, double spacing_um,
                                                 double dt_s, bool cyclic, double top_g_dt,
                                                 double bottom_g_dt) const {
    std::vector<double> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(n)), c(static_cast<std::size_t>(n));
    const double scale = dt_s / (spacing_um * spacing_um);
    auto at = [&](int i) { return start + static_cast<std::size_t>(static_cast<std::ptrdiff_t>(i) * stride); };
    // r[i] = dt * D_face / h^2 for the face between i and i+1 (the last one wraps when cyclic).
    std::vector<double> r(static_cast<std::size_t>(n), 0.0);
    for (int i = 0; i < n; ++i) {
        const bool has_next = i + 1 < n || cyclic;
        if (!has_next) continue;
        const int next = (i + 1) % n;
        r[static_cast<std::size_t>(i)] = scale * harmonic_mean(voxel_diffusivity(at(i)), voxel_diffusivity(at(next)));
    }
    for (int i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(i);
        const double r_before = i > 0 ? r[k - 1] : (cyclic ? r[static_cast<std::size_t>(n - 1)] : 0.0);
        const double r_after = r[k];
        if (dense_flags_[at(i)] & kHeld) {
            a[k] = 0.0;
            b[k] = 1.0;
            c[k] = 0.0;
            continue;
        }
        a[k] = -r_before;
        c[k] = -r_after;
        b[k] = 1.0 + r_before + r_after;
        if (i == 0) b[k] += top_g_dt;
        if (i == n - 1) b[k] += bottom_g_dt;
    }
    return factor_tridiagonal(a, b, c, cyclic);
}


namespace {

constexpr int kGL = 8; // DiffusionOperator::kGroupLanes

// Solves the lanes of a packed group in place in its slot t (row i holds element i of every
// lane, t[i * kGL + lane]); coefficients are laid out the same way, so every row is kGL / W
// whole-vector operations with vectors V of W doubles.
template <typename V>
[[gnu::always_inline]] inline void solve_packed_with(const double* coefficients, const double* corner_ratio,
                                                     const double* inv_sherman_morrison, bool cyclic, int n, double* t) {
    constexpr int kW = static_cast<int>(sizeof(V) / sizeof(double));
    constexpr int kV = kGL / kW;
    const auto rows = static_cast<std::size_t>(n) * kGL;
    const double* inv = coefficients;
    const double* lower = coefficients + rows;
    const double* upper = coefficients + 2 * rows;
    const double* q = coefficients + 3 * rows;
    V prev[kV];
    for (int v = 0; v < kV; ++v) {
        prev[v] = vload<V>(t + kW * v) * vload<V>(inv + kW * v);
        vstore(t + kW * v, prev[v]);
    }
    for (std::size_t i = kGL; i < rows; i += kGL)
        for (int v = 0; v < kV; ++v) {
            const std::size_t k = i + static_cast<std::size_t>(kW * v);
            prev[v] = vload<V>(t + k) * vload<V>(inv + k) - vload<V>(lower + k) * prev[v];
            vstore(t + k, prev[v]);
        }
    for (std::size_t i = rows - kGL; i > 0;) {
        i -= kGL;
        for (int v = 0; v < kV; ++v) {
            const std::size_t k = i + static_cast<std::size_t>(kW * v);
            prev[v] = vload<V>(t + k) - vload<V>(upper + k) * prev[v];
            vstore(t + k, prev[v]);
        }
    }
    if (!cyclic) return;
    V factor[kV];
    for (int v = 0; v < kV; ++v)
        factor[v] = (prev[v] + vload<V>(corner_ratio + kW * v) * vload<V>(t + rows - kGL + kW * v)) *
                    vload<V>(inv_sherman_morrison + kW * v);
    for (std::size_t i = 0; i < rows; i += kGL)
        for (int v = 0; v < kV; ++v) {
            const std::size_t k = i + static_cast<std::size_t>(kW * v);
            vstore(t + k, vload<V>(t + k) - factor[v] * vload<V>(q + k));
        }
}

#if EXODERM_X86_DISPATCH
EXODERM_AVX512 void solve_packed_avx512(const double* coefficients, const double* corner_ratio,
                                        const double* inv_sherman_morrison, bool cyclic, int n, double* t) {
    solve_packed_with<V8>(coefficients, corner_ratio, inv_sherman_morrison, cyclic, n, t);
}
EXODERM_AVX2 void solve_packed_avx2(const double* coefficients, const double* corner_ratio,
                                    const double* inv_sherman_morrison, bool cyclic, int n, double* t) {
    solve_packed_with<V4>(coefficients, corner_ratio, inv_sherman_morrison, cyclic, n, t);
}
#endif

void solve_packed(const double* coefficients, const double* corner_ratio, const double* inv_sherman_morrison,
                  bool cyclic, int n, double* t) {
#if EXODERM_X86_DISPATCH
    if (cpu_has_avx512()) return solve_packed_avx512(coefficients, corner_ratio, inv_sherman_morrison, cyclic, n, t);
    if (cpu_has_avx2()) return solve_packed_avx2(coefficients, corner_ratio, inv_sherman_morrison, cyclic, n, t);
#endif
    solve_packed_with<V2>(coefficients, corner_ratio, inv_sherman_morrison, cyclic, n, t);
}

} // namespace

void DiffusionOperator::refactor(double dt_s) {
    static_assert(kGroupLanes == kGL);
    const Grid& g = grid_;
    const std::size_t plane = g.plane();
    const double dz2 = g.dz_um * g.dz_um;
    bulk_x_.clear();
    bulk_y_.clear();
    special_z_.clear();

    // Bulk lines: every voxel at the row's bulk value. Built from a row of bulk voxels, so
    // the same factor_line code serves bulk and special lines alike.
    auto bulk_line = [&](int n, double spacing, double d, bool cyclic) {
        std::vector<double> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(n)), c(static_cast<std::size_t>(n));
        const double r = n > 1 || cyclic ? dt_s * d / (spacing * spacing) : 0.0;
        for (int i = 0; i < n; ++i) {
            const auto k = static_cast<std::size_t>(i);
            const double before = i > 0 || cyclic ? r : 0.0;
            const double after = i + 1 < n || cyclic ? r : 0.0;
            a[k] = -before;
            c[k] = -after;
            b[k] = 1.0 + before + after;
        }
        return factor_tridiagonal(a, b, c, cyclic);
    };
    for (int z = 0; z < g.nz; ++z) {
        const double d = row_d_[static_cast<std::size_t>(z)];
        bulk_x_.push_back(bulk_line(g.nx, g.dx_um, d, true));
        bulk_y_.push_back(bulk_line(g.ny, g.dy_um, d, true));
    }
    {
        std::vector<double> a(static_cast<std::size_t>(g.nz)), b(static_cast<std::size_t>(g.nz)),
            c(static_cast<std::size_t>(g.nz));
        for (int z = 0; z < g.nz; ++z) {
            const auto k = static_cast<std::size_t>(z);
            const double before = z > 0 ? dt_s * harmonic_mean(row_d_[k - 1], row_d_[k]) / dz2 : 0.0;
            const double after = z + 1 < g.nz ? dt_s * harmonic_mean(row_d_[k], row_d_[k + 1]) / dz2 : 0.0;
            a[k] = -before;
            c[k] = -after;
            b[k] = 1.0 + before + after;
        }
        bulk_bottom_g_dt_ = bottom_sink_ ? dt_s * 2.0 * row_d_.back() / dz2 : 0.0;
        b.back() += bulk_bottom_g_dt_;
        bulk_z_ = factor_tridiagonal(a, b, c, false);
    }

    // Lines through overridden voxels get their own factorisation.
    std::vector<std::size_t> x_starts, y_starts, columns;
    for (const auto& o : overrides_) {
        const std::size_t z = o.index / plane;
        const std::size_t xy = o.index % plane;
        const std::size_t x = xy % static_cast<std::size_t>(g.nx);
        const std::size_t y = xy / static_cast<std::size_t>(g.nx);
        x_starts.push_back(z * plane + y * static_cast<std::size_t>(g.nx));
        y_starts.push_back(z * plane + x);
        columns.push_back(xy);
    }
    auto unique_sorted = [](std::vector<std::size_t>& v) {
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
    };
    unique_sorted(x_starts);
    unique_sorted(y_starts);
    unique_sorted(columns);

    // Packs sorted lines into groups of kGroupLanes that never straddle a key (the row z for
    // x and y lines, the column block for z); offsets[k] is the first group of key k.
    auto build_groups = [&](const std::vector<std::size_t>& firsts, std::size_t keys, auto key_of,
                            auto factor_of, std::vector<LineGroup>& groups, std::vector<std::size_t>& offsets) {
        groups.clear();
        offsets.assign(keys + 1, 0);
        std::size_t previous_key = keys;
        for (std::size_t line : firsts) {
            const std::size_t key = key_of(line);
            if (groups.empty() || key != previous_key || groups.back().lanes == kGroupLanes) {
                groups.emplace_back();
                ++offsets[key + 1];
                previous_key = key;
            }
            LineGroup& group = groups.back();
            const TridiagonalFactor f = factor_of(line);
            const auto n = static_cast<std::size_t>(f.n);
            if (group.coefficients.empty()) group.coefficients.assign(4 * n * kGroupLanes, 0.0);
            const auto lane = static_cast<std::size_t>(group.lanes);
            // Padding lanes (filled below) repeat lane 0, so their arithmetic stays finite.
            for (std::size_t fill = lane; fill < (lane == 0 ? std::size_t{kGroupLanes} : lane + 1); ++fill) {
                for (std::size_t i = 0; i < n; ++i) {
                    double* row = group.coefficients.data() + i * kGroupLanes + fill;
                    row[0] = f.inv_denom[i];
                    row[n * kGroupLanes] = f.scaled_lower[i];
                    row[2 * n * kGroupLanes] = f.upper_prime[i];
                    row[3 * n * kGroupLanes] = f.cyclic ? f.q[i] : 0.0;
                }
                group.corner_ratio[fill] = f.corner_ratio;
                group.inv_sherman_morrison[fill] = f.inv_sherman_morrison;
            }
            group.cyclic = f.cyclic;
            group.first[lane] = line;
            ++group.lanes;
        }
        for (std::size_t k = 0; k < keys; ++k) offsets[k + 1] += offsets[k];
    };
    const auto rows = static_cast<std::size_t>(g.nz);
    auto row_of = [plane](std::size_t first) { return first / plane; };
    special_x_starts_ = x_starts;
    special_x_row_begin_.assign(rows + 1, 0);
    for (std::size_t s : x_starts) ++special_x_row_begin_[s / plane + 1];
    for (std::size_t z = 0; z < rows; ++z) special_x_row_begin_[z + 1] += special_x_row_begin_[z];
    build_groups(
        x_starts, rows, row_of, [&](std::size_t s) { return factor_line(s, 1, g.nx, g.dx_um, dt_s, true, 0.0, 0.0); },
        x_groups_, x_group_row_begin_);
    build_groups(
        y_starts, rows, row_of,
        [&](std::size_t s) { return factor_line(s, g.nx, g.ny, g.dy_um, dt_s, true, 0.0, 0.0); }, y_groups_,
        y_group_row_begin_);

    for (std::size_t xy : columns) {
        SpecialColumn col;
        col.xy = xy;
        if (dense_flags_[xy] & kMouth) col.top_g_dt = dt_s * 2.0 * voxel_diffusivity(xy) / dz2;
        if (bottom_sink_) col.bottom_g_dt = dt_s * 2.0 * voxel_diffusivity(xy + (g.size() - plane)) / dz2;
        special_z_.push_back(std::move(col));
    }
    std::size_t column = 0; // factor_of is called once per column, in order
    auto column_factor = [&](std::size_t xy) {
        SpecialColumn& col = special_z_[column++];
        TridiagonalFactor f = factor_line(xy, static_cast<std::ptrdiff_t>(plane), g.nz, g.dz_um, dt_s, false,
                                          col.top_g_dt, col.bottom_g_dt);
        if (col.top_g_dt > 0.0) {
            col.unit_mouth_response.assign(static_cast<std::size_t>(g.nz), 0.0);
            col.unit_mouth_response[0] = col.top_g_dt;
            solve_line(f, col.unit_mouth_response.data(), 1);
        }
        return f;
    };
    const std::size_t blocks = (plane + kZBlock - 1) / kZBlock;
    build_groups(
        columns, blocks, [](std::size_t xy) { return xy / kZBlock; }, column_factor, z_groups_,
        z_group_block_begin_);

    x_factor_.assign(rows * static_cast<std::size_t>(g.ny), 0.0);
    x_deferred_.assign(rows * static_cast<std::size_t>(g.ny), 0);
    x_slots_.assign(x_groups_.size() * static_cast<std::size_t>(g.nx) * kGroupLanes, 0.0);
    y_slots_.assign(y_groups_.size() * static_cast<std::size_t>(g.ny) * kGroupLanes, 0.0);
    z_slots_.assign(z_groups_.size() * rows * kGroupLanes, 0.0);
    mouth_xy_.clear();
    for (const auto& col : special_z_)
        if (col.top_g_dt > 0.0) mouth_xy_.push_back(col.xy);
    mouth_response_.assign(mouth_xy_.size() * rows, 0.0);
    {
        std::size_t m = 0;
        for (const auto& col : special_z_) {
            if (col.top_g_dt <= 0.0) continue;
            for (std::size_t z = 0; z < rows; ++z) mouth_response_[z * mouth_xy_.size() + m] = col.unit_mouth_response[z];
            ++m;
        }
    }
    factored_dt_ = dt_s;
}

void DiffusionOperator::gather_group(const LineGroup& group, const double* c, std::size_t stride, std::size_t n,
                                     double* t) {
    for (std::size_t i = 0; i < n; ++i) {
        const double* row = c + i * stride;
        for (int j = 0; j < group.lanes; ++j)
            t[i * kGroupLanes + static_cast<std::size_t>(j)] = row[group.first[static_cast<std::size_t>(j)]];
    }
}

void DiffusionOperator::solve_scatter_group(const LineGroup& group, double* t, std::size_t n, double* c,
                                            std::size_t stride) {
    solve_packed(group.coefficients.data(), group.corner_ratio.data(), group.inv_sherman_morrison.data(), group.cyclic,
                 static_cast<int>(n), t);
    for (std::size_t i = 0; i < n; ++i) {
        double* row = c + i * stride;
        for (int j = 0; j < group.lanes; ++j)
            row[group.first[static_cast<std::size_t>(j)]] = t[i * kGroupLanes + static_cast<std::size_t>(j)];
    }
}

EXODERM_KERNEL void DiffusionOperator::sweep_xy_plane(double* c, std::size_t z) {
    const Grid& g = grid_;
    const std::size_t plane = g.plane();
    const auto nx = static_cast<std::size_t>(g.nx);
    const auto ny = static_cast<std::size_t>(g.ny);
    double* base = c + z * plane;
    const std::size_t lane_rows_x = nx * kGroupLanes;
    const std::size_t lane_rows_y = ny * kGroupLanes;

    // x, bulk lines: the row's shared factor, kBatch lines at a time (special lines are
    // skipped here; they are sorted, so a cursor finds them). Their periodic correction is
    // deferred to the y sweep: fx[y] holds line y's factor where deferred[y] is set.
    double* fx = x_factor_.data() + z * ny;
    std::uint8_t* deferred = x_deferred_.data() + z * ny;
    std::fill(deferred, deferred + ny, std::uint8_t{0});
    {
        const TridiagonalFactor& f = bulk_x_[z];
        constexpr int kBatch = std::max(2 * kXPairs, 4 * kXQuads);
        double* batch[kBatch] = {};
        [[maybe_unused]] std::size_t batch_y[kBatch] = {};
        [[maybe_unused]] double factors[kBatch] = {};
        int count = 0;
        auto flush = [&](int lines) { // solves batch[0 .. lines)
            int k = 0;
#if defined(__SSE2__)
            if (f.cyclic && f.n >= 2) {
#if EXODERM_X86_DISPATCH
                if (cpu_has_avx2()) {
                    thread_local std::vector<double> scratch;
                    if (scratch.size() < nx * 4 * kXQuads) scratch.resize(nx * 4 * kXQuads);
                    for (; k + 4 * kXQuads <= lines; k += 4 * kXQuads)
                        solve_x_quads<kXQuads>(f, batch + k, factors + k, scratch.data());
                    for (; k + 4 <= lines; k += 4) solve_x_quads<1>(f, batch + k, factors + k, scratch.data());
                }
#endif
                for (; k + 2 * kXPairs <= lines; k += 2 * kXPairs) solve_x_pairs<kXPairs>(f, batch + k, factors + k);
                for (; k + 2 <= lines; k += 2) solve_x_pairs<1>(f, batch + k, factors + k);
                for (int l = 0; l < k; ++l) {
                    fx[batch_y[l]] = factors[l];
                    deferred[batch_y[l]] = 1;
                }
            }
#endif
            for (; k < lines; ++k) solve_line(f, batch[k], 1);
        };
        std::size_t s = special_x_row_begin_[z];
        const std::size_t s_end = special_x_row_begin_[z + 1];
        for (std::size_t y = 0; y < ny; ++y) {
            if (s < s_end && special_x_starts_[s] == z * plane + y * nx) {
                ++s;
                continue;
            }
            batch[count] = base + y * nx;
            batch_y[count] = y;
            if (++count == kBatch) {
                flush(kBatch);
                count = 0;
            }
        }
        flush(count);
    }
    // x, special lines: gather, solve as a group, scatter.
    for (std::size_t k = x_group_row_begin_[z]; k < x_group_row_begin_[z + 1]; ++k) {
        const LineGroup& group = x_groups_[k];
        double* t = x_slots_.data() + k * lane_rows_x;
        gather_group(group, c, 1, nx, t);
        solve_scatter_group(group, t, nx, c, 1);
    }

    // y: gather the special lines' right-hand sides, solve the whole plane with the bulk
    // factor (vectorised across x, a chunk of columns at a time), then solve the special
    // groups and scatter them over the bulk result.
    const std::size_t begin = y_group_row_begin_[z];
    const std::size_t end = y_group_row_begin_[z + 1];
    const double* qx = bulk_x_[z].q.data(); // read only where deferred (a periodic line, n >= 2)
    for (std::size_t k = begin; k < end; ++k) {
        const LineGroup& group = y_groups_[k];
        double* t = y_slots_.data() + k * lane_rows_y;
        for (std::size_t y = 0; y < ny; ++y) {
            const double* row = c + y * nx;
            for (int j = 0; j < group.lanes; ++j) {
                const std::size_t at = group.first[static_cast<std::size_t>(j)];
                t[y * kGroupLanes + static_cast<std::size_t>(j)] = deferred[y] ? row[at] - fx[y] * qx[at - z * plane] : row[at];
            }
        }
    }
    solve_y_plane(bulk_y_[z], base, nx, bulk_x_[z].q.empty() ? nullptr : qx, fx, deferred);
    for (std::size_t k = begin; k < end; ++k) {
        const LineGroup& group = y_groups_[k];
        double* t = y_slots_.data() + k * lane_rows_y;
        solve_scatter_group(group, t, ny, c, nx);
    }
}

EXODERM_KERNEL void DiffusionOperator::sweep_z_block(double* c, std::size_t block) {
    const Grid& g = grid_;
    const std::size_t plane = g.plane();
    const std::size_t nz = static_cast<std::size_t>(g.nz);
    const std::size_t first = block * kZBlock;
    const std::size_t count = std::min(kZBlock, plane - first);
    const std::size_t lane_rows = nz * kGroupLanes;
    // Special columns of the block: right-hand sides set aside while the bulk solve runs
    // over all columns, then solved as groups and scattered over the bulk result.
    const std::size_t begin = z_group_block_begin_[block];
    const std::size_t end = z_group_block_begin_[block + 1];
    for (std::size_t k = begin; k < end; ++k) {
        const LineGroup& group = z_groups_[k];
        gather_group(group, c, plane, nz, z_slots_.data() + k * lane_rows);
    }
    solve_lines(bulk_z_, c + first, static_cast<std::ptrdiff_t>(plane), count);
    for (std::size_t k = begin; k < end; ++k) {
        const LineGroup& group = z_groups_[k];
        solve_scatter_group(group, z_slots_.data() + k * lane_rows, nz, c, plane);
    }
}

StepFluxes DiffusionOperator::boundary_fluxes(double* c, Reservoir* reservoir) {
    const Grid& g = grid_;
    const std::size_t plane = g.plane();
    const std::size_t nz = static_cast<std::size_t>(g.nz);
    StepFluxes fluxes;
    const double voxel_volume = g.voxel_volume_um3();
    // Implicit reservoir: with y the solution for an empty reservoir and w the response to a
    // unit mouth value, x = y + C_res w and the inflow is sum g dt (C_res - x_0) per voxel
    // volume. Solving for the end-of-step amount N' = N - inflow(N'/V) gives N' in closed form.
    // An open mouth without a feeding reservoir would act as an unbooked sink (value 0).
    if (!mouth_xy_.empty() && (reservoir == nullptr || !reservoir->feeding || reservoir->volume_um3 <= 0.0))
        throw std::logic_error("DiffusionOperator: open channel mouths need a feeding reservoir");
    if (!mouth_xy_.empty()) {
        double sum_g_y0 = 0.0;
        double sum_g_open = 0.0;
        for (const auto& col : special_z_) {
            if (col.top_g_dt <= 0.0) continue;
            sum_g_y0 += col.top_g_dt * c[col.xy];
            sum_g_open += col.top_g_dt * (1.0 - col.unit_mouth_response[0]);
        }
        if (sum_g_open > 0.0) {
            const double mouth_value = (reservoir->amount + voxel_volume * sum_g_y0) /
                                       (reservoir->volume_um3 + voxel_volume * sum_g_open);
            // The inflow is booked directly (not as a difference of reservoir amounts), so a
            // reservoir far larger than the inflow still gets its exact share.
            const double inflow = voxel_volume * (mouth_value * sum_g_open - sum_g_y0);
            const std::size_t mouths = mouth_xy_.size();
            const auto rows = static_cast<std::ptrdiff_t>(nz);
            // Every voxel is updated once, on its own: any split over threads gives the same.
#pragma omp parallel for schedule(static) if (mouths * nz > 16384)
            for (std::ptrdiff_t zi = 0; zi < rows; ++zi) {
                const auto z = static_cast<std::size_t>(zi);
                double* row = c + z * plane;
                const double* response = mouth_response_.data() + z * mouths;
                for (std::size_t m = 0; m < mouths; ++m) row[mouth_xy_[m]] += mouth_value * response[m];
            }
            reservoir->amount -= inflow;
            fluxes.top_inflow = inflow;
        }
    }
    if (bottom_sink_) {
        const double* bottom = c + (nz - 1) * plane;
        double sum = 0.0;
        for (std::size_t xy = 0; xy < plane; ++xy) sum += bottom[xy];
        double outflow = bulk_bottom_g_dt_ * sum;
        for (const auto& col : special_z_) outflow += (col.bottom_g_dt - bulk_bottom_g_dt_) * bottom[col.xy];
        fluxes.bottom_outflow = outflow * voxel_volume;
    }
    return fluxes;
}

StepFluxes DiffusionOperator::step(std::span<double> c, double dt_s, Reservoir* reservoir) {
    if (c.size() != grid_.size()) throw std::invalid_argument("DiffusionOperator::step: field size mismatch");
    if (dt_s != factored_dt_) refactor(dt_s);
    double* data = c.data();
    const auto planes = static_cast<std::ptrdiff_t>(grid_.nz);
    const auto blocks = static_cast<std::ptrdiff_t>(z_group_block_begin_.size() - 1);
    // Every line is solved on its own, whichever thread runs it: the result does not depend
    // on the number of threads.
    // Planes and blocks are handed out one at a time (dynamic): the planes and blocks crossed
    // by channels cost more, and a static split would leave them all to one thread.
#pragma omp parallel
    {
#pragma omp for schedule(dynamic, 1)
        for (std::ptrdiff_t z = 0; z < planes; ++z) sweep_xy_plane(data, static_cast<std::size_t>(z));
#pragma omp for schedule(dynamic, 1)
        for (std::ptrdiff_t b = 0; b < blocks; ++b) sweep_z_block(data, static_cast<std::size_t>(b));
    }
    return boundary_fluxes(data, reservoir);
}

} // namespace exoderm
