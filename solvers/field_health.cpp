#include "solvers/field_health.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace exoderm {

namespace {

// NaN fails both comparisons, +-Inf the second, negatives beyond the floor the first (with an
// infinite floor only non-finite values fail).
inline bool healthy(double v, double floor) { return v >= -floor && std::fabs(v) <= DBL_MAX; }

// Blocks are checked without an early exit; only a failing block is searched for its first bad
// value. The block kernels are compiled for AVX-512F, AVX2 and baseline x86-64 and picked at
// run time (as the diffusion kernels, docs/PERFORMANCE.md); without trapping math the
// comparisons vectorise (no floating-point traps are enabled anywhere in exoderm).
constexpr std::size_t kBlock = 1024;

[[gnu::target_clones("avx512f", "avx2", "default"), gnu::optimize("no-trapping-math"), gnu::noinline]]
std::size_t count_unhealthy(const double* __restrict v, std::size_t n, double floor) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) bad += !(v[i] >= -floor) | !(std::fabs(v[i]) <= DBL_MAX);
    return bad;
}

// sum[i] += v[i], counting the unhealthy values of v.
[[gnu::target_clones("avx512f", "avx2", "default"), gnu::optimize("no-trapping-math"), gnu::noinline]]
std::size_t add_counting_unhealthy(const double* __restrict v, std::size_t n, double floor, double* __restrict sum) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
        bad += !(v[i] >= -floor) | !(std::fabs(v[i]) <= DBL_MAX);
        sum[i] += v[i];
    }
    return bad;
}

} // namespace

FieldHealth scan_field_health(std::span<const double> values, double negative_floor) {
    const double* v = values.data();
    const std::size_t n = values.size();
    for (std::size_t start = 0; start < n; start += kBlock) {
        const std::size_t end = std::min(n, start + kBlock);
        if (count_unhealthy(v + start, end - start, negative_floor) == 0) continue;
        for (std::size_t i = start; i < end; ++i) {
            if (healthy(v[i], negative_floor)) continue;
            FieldHealth h;
            h.index = i;
            h.value = v[i];
            h.problem = std::isnan(v[i]) ? FieldProblem::NaN : std::isinf(v[i]) ? FieldProblem::Inf : FieldProblem::Negative;
            return h;
        }
    }
    return {};
}

bool sum_classes_if_healthy(std::span<const std::span<const double>> classes, double negative_floor,
                            std::span<double> total) {
    const std::size_t n = classes.empty() ? 0 : classes[0].size();
    const bool write_total = !total.empty();
    const auto blocks = static_cast<std::ptrdiff_t>((n + kBlock - 1) / kBlock);
    std::size_t bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : bad)
    for (std::ptrdiff_t b = 0; b < blocks; ++b) {
        const std::size_t start = static_cast<std::size_t>(b) * kBlock;
        const std::size_t count = std::min(n, start + kBlock) - start;
        if (!write_total) {
            for (const auto& c : classes) bad += count_unhealthy(c.data() + start, count, negative_floor);
            continue;
        }
        double* sum = total.data() + start;
        std::fill(sum, sum + count, 0.0);
        for (const auto& c : classes) bad += add_counting_unhealthy(c.data() + start, count, negative_floor, sum);
    }
    return bad == 0;
}

bool sum_classes_at_if_healthy(std::span<const std::span<const double>> classes, double negative_floor,
                               std::span<const std::size_t> voxels, std::span<double> total) {
    bool all = true;
    for (const std::size_t i : voxels) {
        double sum = 0.0;
        for (const auto& c : classes) {
            all &= healthy(c[i], negative_floor);
            sum += c[i];
        }
        if (!total.empty()) total[i] = sum;
    }
    return all;
}

const char* field_problem_name(FieldProblem problem) {
    switch (problem) {
    case FieldProblem::NaN: return "NaN";
    case FieldProblem::Inf: return "Inf";
    case FieldProblem::Negative: return "negative";
    case FieldProblem::None: break;
    }
    return "healthy";
}

std::string describe_field_fault(const FieldHealth& h, const std::string& quantity, double time_s, const Grid& g,
                                 const Tissue* tissue, double origin_z_um) {
    const auto plane = g.plane();
    const int z = static_cast<int>(h.index / plane);
    const int y = static_cast<int>((h.index % plane) / static_cast<std::size_t>(g.nx));
    const int x = static_cast<int>(h.index % static_cast<std::size_t>(g.nx));
    char buf[400];
    const char* what = h.problem == FieldProblem::Negative ? "negative beyond tolerance" : field_problem_name(h.problem);
    std::snprintf(buf, sizeof buf,
                  "%s is %s (%g) at t = %g s (%.4g h) in voxel %zu (ix %d, iy %d, iz %d; x %.4g, y %.4g, z %.4g um; %s)",
                  quantity.c_str(), what, h.value, time_s, time_s / 3600.0, h.index, x, y, z, g.x_centre_um(x),
                  g.y_centre_um(y), origin_z_um + g.z_centre_um(z),
                  tissue ? kLayerKeys[static_cast<std::size_t>(tissue->layer_of_row(z))] : "dermis");
    return buf;
}

InjectedFault parse_injected_fault(const std::string& text) {
    const auto at = text.find('@');
    if (at == std::string::npos) return {};
    const std::string kind = text.substr(0, at);
    InjectedFault f;
    if (kind == "nan") f.kind = FieldProblem::NaN;
    else if (kind == "inf") f.kind = FieldProblem::Inf;
    else if (kind == "negative") f.kind = FieldProblem::Negative;
    else return {};
    char* end = nullptr;
    const std::string time = text.substr(at + 1);
    f.time_s = std::strtod(time.c_str(), &end);
    if (time.empty() || end != time.c_str() + time.size() || !std::isfinite(f.time_s)) return {};
    return f;
}

void inject_field_fault(std::span<double> values, const Grid& g, FieldProblem kind, double reference) {
    const std::size_t i = g.index(g.nx / 2, g.ny / 2, g.nz / 2);
    if (i >= values.size()) return;
    switch (kind) {
    case FieldProblem::NaN: values[i] = std::numeric_limits<double>::quiet_NaN(); break;
    case FieldProblem::Inf: values[i] = std::numeric_limits<double>::infinity(); break;
    case FieldProblem::Negative: values[i] = -reference; break;
    case FieldProblem::None: break;
    }
}

} // namespace exoderm
