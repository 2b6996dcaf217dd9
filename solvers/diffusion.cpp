#include "solvers/diffusion.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace exoderm {

namespace {

constexpr std::uint8_t kHeld = 1;
constexpr std::uint8_t kMouth = 2;

double harmonic_mean(double a, double b) { return a + b > 0.0 ? 2.0 * a * b / (a + b) : 0.0; }

// Lines solved together by solve_group: enough independent recurrences to hide the
// latency of each (a line alone is a serial chain of dependent multiply-subtracts).
constexpr int kLanes = 8;
// Columns of a z-sweep block: 512 columns x nz rows stay in L2 between the forward and the
// backward pass. Fixed (not derived from the thread count), so the result is the same for
// any number of threads.
constexpr std::size_t kZBlock = 512;
// Columns of a y-sweep chunk: a chunk of a plane (ny x 32 values) stays in L1 across the
// forward, backward and periodic-correction passes.
constexpr std::size_t kYChunk = 32;

// Solves L lines of the same length and kind (all cyclic or none) at once, interleaving
// their recurrences. Lane j's elements are x[j][i * stride]; its factor is f[0] when Shared,
// f[j] otherwise. Per line, the arithmetic is exactly that of solve_line (same operations in
// the same order), so the result is bitwise the same.
template <int L, bool Shared>
void solve_group(const TridiagonalFactor* const* f, double* const* x, std::ptrdiff_t stride) {
    constexpr int kFactors = Shared ? 1 : L;
    const double* inv[kFactors];
    const double* lower[kFactors];
    const double* upper[kFactors];
    const int n = f[0]->n;
    for (int k = 0; k < kFactors; ++k) {
        inv[k] = f[k]->inv_denom.data();
        lower[k] = f[k]->scaled_lower.data();
        upper[k] = f[k]->upper_prime.data();
    }
    auto lane = [](int j) { return Shared ? 0 : j; };
    double prev[L];
    for (int j = 0; j < L; ++j) {
        prev[j] = x[j][0] * inv[lane(j)][0];
        x[j][0] = prev[j];
    }
    for (int i = 1; i < n; ++i) {
        const std::ptrdiff_t o = i * stride;
        for (int j = 0; j < L; ++j) {
            prev[j] = x[j][o] * inv[lane(j)][i] - lower[lane(j)][i] * prev[j];
            x[j][o] = prev[j];
        }
    }
    for (int i = n - 2; i >= 0; --i) {
        const std::ptrdiff_t o = i * stride;
        for (int j = 0; j < L; ++j) {
            prev[j] = x[j][o] - upper[lane(j)][i] * prev[j];
            x[j][o] = prev[j];
        }
    }
    if (!f[0]->cyclic) return;
    const std::ptrdiff_t last = (n - 1) * stride;
    double factor[L];
    const double* q[kFactors];
    for (int k = 0; k < kFactors; ++k) q[k] = f[k]->q.data();
    for (int j = 0; j < L; ++j) {
        const TridiagonalFactor& fj = *f[lane(j)];
        factor[j] = (x[j][0] + fj.corner_ratio * x[j][last]) * fj.inv_sherman_morrison;
    }
    for (int i = 0; i < n; ++i) {
        const std::ptrdiff_t o = i * stride;
        for (int j = 0; j < L; ++j) x[j][o] -= factor[j] * q[lane(j)][i];
    }
}

#if defined(__SSE2__)
// 2 P lines sharing one factor, elements contiguous (the x lines of a plane), solved two
// lines per SSE2 register: each pair of lines is read two elements at a time and
// transposed in registers (unpacklo/unpackhi), so the P independent recurrences run on
// (line a, line b) vectors. Per line the arithmetic is exactly that of solve_line (the same
// IEEE operations in the same order; SSE2 has no fused multiply-add). Requires n >= 2.
template <int P>
void solve_x_pairs(const TridiagonalFactor& f, double* const* x) {
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
    __m128d last[P]; // element n - 1: final already (back substitution starts from it)
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
    if (!f.cyclic) return;
    // Periodic correction x -= factor q, factor = (x_0 + corner x_{n-1}) / (1 + ...).
    const __m128d corner = _mm_set1_pd(f.corner_ratio), ism = _mm_set1_pd(f.inv_sherman_morrison);
    const double* q = f.q.data();
    for (int p = 0; p < P; ++p) {
        const __m128d factor = _mm_mul_pd(_mm_add_pd(prev[p], _mm_mul_pd(corner, last[p])), ism);
        const __m128d fa = _mm_unpacklo_pd(factor, factor), fb = _mm_unpackhi_pd(factor, factor);
        double* xa = x[2 * p];
        double* xb = x[2 * p + 1];
        int k = 0;
        for (; k + 1 < n; k += 2) {
            const __m128d qk = _mm_loadu_pd(q + k);
            _mm_storeu_pd(xa + k, _mm_sub_pd(_mm_loadu_pd(xa + k), _mm_mul_pd(fa, qk)));
            _mm_storeu_pd(xb + k, _mm_sub_pd(_mm_loadu_pd(xb + k), _mm_mul_pd(fb, qk)));
        }
        if (k < n) {
            const __m128d qk = _mm_set1_pd(q[k]);
            _mm_storel_pd(xa + k, _mm_sub_pd(_mm_load_sd(xa + k), _mm_mul_pd(fa, qk)));
            _mm_storel_pd(xb + k, _mm_sub_pd(_mm_load_sd(xb + k), _mm_mul_pd(fb, qk)));
        }
    }
}
#endif

// Any number of lines sharing one factor, elements contiguous.
void solve_x_shared(const TridiagonalFactor& f, double* const* x, int count) {
    int k = 0;
#if defined(__SSE2__)
    if (f.n >= 2) {
        for (; k + 16 <= count; k += 16) solve_x_pairs<8>(f, x + k);
        if (count - k >= 8) {
            solve_x_pairs<4>(f, x + k);
            k += 8;
        }
        if (count - k >= 4) {
            solve_x_pairs<2>(f, x + k);
            k += 4;
        }
        if (count - k >= 2) {
            solve_x_pairs<1>(f, x + k);
            k += 2;
        }
    }
#endif
    for (; k < count; ++k) solve_line(f, x[k], 1);
}

// solve_group over any number of lines (kLanes at a time, then 4, 2, 1).
template <bool Shared>
void solve_groups(const TridiagonalFactor* const* f, double* const* x, int count, std::ptrdiff_t stride) {
    int k = 0;
    auto fk = [&](int at) { return Shared ? f : f + at; };
    for (; k + kLanes <= count; k += kLanes) solve_group<kLanes, Shared>(fk(k), x + k, stride);
    if (count - k >= 4) {
        solve_group<4, Shared>(fk(k), x + k, stride);
        k += 4;
    }
    if (count - k >= 2) {
        solve_group<2, Shared>(fk(k), x + k, stride);
        k += 2;
    }
    if (count - k >= 1) solve_group<1, Shared>(fk(k), x + k, stride);
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

void DiffusionOperator::refactor(double dt_s) {
    const Grid& g = grid_;
    const std::size_t plane = g.plane();
    const double dz2 = g.dz_um * g.dz_um;
    bulk_x_.clear();
    bulk_y_.clear();
    special_x_.clear();
    special_y_.clear();
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
    special_x_row_begin_.assign(static_cast<std::size_t>(g.nz) + 1, 0);
    for (std::size_t s : x_starts) {
        special_x_.push_back({s, factor_line(s, 1, g.nx, g.dx_um, dt_s, true, 0.0, 0.0)});
        ++special_x_row_begin_[s / plane + 1];
    }
    for (int z = 0; z < g.nz; ++z)
        special_x_row_begin_[static_cast<std::size_t>(z) + 1] += special_x_row_begin_[static_cast<std::size_t>(z)];
    special_y_row_begin_.assign(static_cast<std::size_t>(g.nz) + 1, 0);
    for (std::size_t s : y_starts) {
        special_y_.push_back({s, factor_line(s, g.nx, g.ny, g.dy_um, dt_s, true, 0.0, 0.0)});
        ++special_y_row_begin_[s / plane + 1];
    }
    for (int z = 0; z < g.nz; ++z)
        special_y_row_begin_[static_cast<std::size_t>(z) + 1] += special_y_row_begin_[static_cast<std::size_t>(z)];
    for (std::size_t xy : columns) {
        SpecialColumn col;
        col.xy = xy;
        if (dense_flags_[xy] & kMouth) col.top_g_dt = dt_s * 2.0 * voxel_diffusivity(xy) / dz2;
        if (bottom_sink_) col.bottom_g_dt = dt_s * 2.0 * voxel_diffusivity(xy + (g.size() - plane)) / dz2;
        col.factor = factor_line(xy, static_cast<std::ptrdiff_t>(plane), g.nz, g.dz_um, dt_s, false, col.top_g_dt,
                                 col.bottom_g_dt);
        if (col.top_g_dt > 0.0) {
            col.unit_mouth_response.assign(static_cast<std::size_t>(g.nz), 0.0);
            col.unit_mouth_response[0] = col.top_g_dt;
            solve_line(col.factor, col.unit_mouth_response.data(), 1);
        }
        special_z_.push_back(std::move(col));
    }
    const std::size_t blocks = (plane + kZBlock - 1) / kZBlock;
    z_block_begin_.assign(blocks + 1, 0);
    for (const auto& col : special_z_) ++z_block_begin_[col.xy / kZBlock + 1];
    for (std::size_t b = 0; b < blocks; ++b) z_block_begin_[b + 1] += z_block_begin_[b];
    y_saved_.assign(special_y_.size() * static_cast<std::size_t>(g.ny), 0.0);
    z_saved_.assign(special_z_.size() * static_cast<std::size_t>(g.nz), 0.0);
    mouth_xy_.clear();
    for (const auto& col : special_z_)
        if (col.top_g_dt > 0.0) mouth_xy_.push_back(col.xy);
    mouth_response_.assign(mouth_xy_.size() * static_cast<std::size_t>(g.nz), 0.0);
    {
        std::size_t m = 0;
        for (const auto& col : special_z_) {
            if (col.top_g_dt <= 0.0) continue;
            for (std::size_t z = 0; z < static_cast<std::size_t>(g.nz); ++z)
                mouth_response_[z * mouth_xy_.size() + m] = col.unit_mouth_response[z];
            ++m;
        }
    }
    factored_dt_ = dt_s;
}

void DiffusionOperator::sweep_xy_plane(double* c, std::size_t z) {
    const Grid& g = grid_;
    const std::size_t plane = g.plane();
    const auto nx = static_cast<std::size_t>(g.nx);
    const auto ny = static_cast<std::size_t>(g.ny);
    double* base = c + z * plane;

    // x: bulk lines share the row's factor and are solved 16 at a time; special lines (sorted
    // by start, so met in order) bring their own factors and are solved kLanes at a time.
    {
        thread_local std::vector<double*> bulk_lines;
        bulk_lines.clear();
        const TridiagonalFactor* special_factors[kLanes] = {};
        double* special_lines[kLanes] = {};
        int special_count = 0;
        std::size_t s = special_x_row_begin_[z];
        const std::size_t s_end = special_x_row_begin_[z + 1];
        for (std::size_t y = 0; y < ny; ++y) {
            double* line = base + y * nx;
            if (s < s_end && special_x_[s].start == z * plane + y * nx) {
                special_factors[special_count] = &special_x_[s].factor;
                special_lines[special_count] = line;
                ++s;
                if (++special_count == kLanes) {
                    solve_group<kLanes, false>(special_factors, special_lines, 1);
                    special_count = 0;
                }
            } else {
                bulk_lines.push_back(line);
            }
        }
        solve_x_shared(bulk_x_[z], bulk_lines.data(), static_cast<int>(bulk_lines.size()));
        solve_groups<false>(special_factors, special_lines, special_count, 1);
    }

    // y: save the special lines' right-hand sides, solve the whole plane with the bulk
    // factor (vectorised across x, a chunk of columns at a time), then solve the special
    // lines in the saved (contiguous) copy and write them back over the bulk result.
    const std::size_t begin = special_y_row_begin_[z];
    const std::size_t end = special_y_row_begin_[z + 1];
    for (std::size_t s = begin; s < end; ++s) {
        const double* line = c + special_y_[s].start;
        double* saved = y_saved_.data() + s * ny;
        for (std::size_t y = 0; y < ny; ++y) saved[y] = line[y * nx];
    }
    for (std::size_t x0 = 0; x0 < nx; x0 += kYChunk)
        solve_lines(bulk_y_[z], base + x0, static_cast<std::ptrdiff_t>(nx), std::min(kYChunk, nx - x0));
    for (std::size_t s = begin; s < end; s += kLanes) {
        const int count = static_cast<int>(std::min<std::size_t>(kLanes, end - s));
        const TridiagonalFactor* factors[kLanes];
        double* lines[kLanes];
        for (int j = 0; j < count; ++j) {
            factors[j] = &special_y_[s + static_cast<std::size_t>(j)].factor;
            lines[j] = y_saved_.data() + (s + static_cast<std::size_t>(j)) * ny;
        }
        solve_groups<false>(factors, lines, count, 1);
    }
    for (std::size_t s = begin; s < end; ++s) {
        double* line = c + special_y_[s].start;
        const double* saved = y_saved_.data() + s * ny;
        for (std::size_t y = 0; y < ny; ++y) line[y * nx] = saved[y];
    }
}

void DiffusionOperator::sweep_z_block(double* c, std::size_t block) {
    const Grid& g = grid_;
    const std::size_t plane = g.plane();
    const std::size_t nz = static_cast<std::size_t>(g.nz);
    const std::size_t first = block * kZBlock;
    const std::size_t count = std::min(kZBlock, plane - first);
    // Special columns of the block keep their right-hand side aside while the bulk solve
    // runs over all columns; they are solved in the saved copy and written back after.
    const std::size_t begin = z_block_begin_[block];
    const std::size_t end = z_block_begin_[block + 1];
    for (std::size_t z = 0; z < nz; ++z) {
        const double* row = c + z * plane;
        for (std::size_t s = begin; s < end; ++s) z_saved_[s * nz + z] = row[special_z_[s].xy];
    }
    solve_lines(bulk_z_, c + first, static_cast<std::ptrdiff_t>(plane), count);
    for (std::size_t s = begin; s < end; s += kLanes) {
        const int lanes = static_cast<int>(std::min<std::size_t>(kLanes, end - s));
        const TridiagonalFactor* factors[kLanes];
        double* lines[kLanes];
        for (int j = 0; j < lanes; ++j) {
            factors[j] = &special_z_[s + static_cast<std::size_t>(j)].factor;
            lines[j] = z_saved_.data() + (s + static_cast<std::size_t>(j)) * nz;
        }
        solve_groups<false>(factors, lines, lanes, 1);
    }
    for (std::size_t z = 0; z < nz; ++z) {
        double* row = c + z * plane;
        for (std::size_t s = begin; s < end; ++s) row[special_z_[s].xy] = z_saved_[s * nz + z];
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
    if (reservoir != nullptr && reservoir->feeding && reservoir->volume_um3 > 0.0) {
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
    const auto blocks = static_cast<std::ptrdiff_t>(z_block_begin_.size() - 1);
    // Every line is solved on its own, whichever thread runs it: the result does not depend
    // on the number of threads.
#pragma omp parallel
    {
#pragma omp for schedule(static)
        for (std::ptrdiff_t z = 0; z < planes; ++z) sweep_xy_plane(data, static_cast<std::size_t>(z));
#pragma omp for schedule(static)
        for (std::ptrdiff_t b = 0; b < blocks; ++b) sweep_z_block(data, static_cast<std::size_t>(b));
    }
    return boundary_fluxes(data, reservoir);
}

} // namespace exoderm
