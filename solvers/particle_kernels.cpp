// Compiled with -fno-math-errno, -fno-trapping-math and -ffp-contract=off (set for this file
// in the top-level CMakeLists.txt): sqrt and the step vectorise, and every target clone below
// (AVX-512, AVX2, baseline) rounds exactly alike, so results do not depend on the machine.
#include "solvers/particle_kernels.hpp"
#include "solvers/reactions.hpp"

#include "solvers/particle_rng.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace exoderm::particles {

// ---- ParticleArrays ----------------------------------------------------------------------------

void ParticleArrays::reserve(std::size_t n) {
    x.reserve(n);
    y.reserve(n);
    z.reserve(n);
    d0.reserve(n);
    clock.reserve(n);
    id.reserve(n);
    state.reserve(n);
    size_class.reserve(n);
}

void ParticleArrays::push_back(float px, float py, float pz, float pd0, float pclock, std::uint64_t pid, State pstate,
                               std::uint8_t pclass) {
    x.push_back(px);
    y.push_back(py);
    z.push_back(pz);
    d0.push_back(pd0);
    clock.push_back(pclock);
    id.push_back(pid);
    state.push_back(pstate);
    size_class.push_back(pclass);
}

ReactionTable reaction_table(const Scenario& scenario) {
    ReactionTable table;
    const auto rates = layer_reaction_rates(scenario);
    for (std::size_t l = 0; l < rates.size(); ++l) {
        table.degrade[l] = static_cast<float>(rates[l].k_deg_per_s);
        table.clear[l] = static_cast<float>(rates[l].k_clear_per_s);
        table.bind[l] = static_cast<float>(rates[l].k_on_per_s);
        table.release[l] = static_cast<float>(rates[l].k_off_per_s);
    }
    return table;
}

std::size_t ParticleArrays::remove_gone() {
    const std::size_t n = size();
    std::size_t out = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (!in_tissue(state[i])) continue;
        if (out != i) {
            x[out] = x[i];
            y[out] = y[i];
            z[out] = z[i];
            d0[out] = d0[i];
            clock[out] = clock[i];
            id[out] = id[i];
            state[out] = state[i];
            size_class[out] = size_class[i];
        }
        ++out;
    }
    x.resize(out);
    y.resize(out);
    z.resize(out);
    d0.resize(out);
    clock.resize(out);
    id.resize(out);
    state.resize(out);
    size_class.resize(out);
    return n - out;
}

// ---- Medium ------------------------------------------------------------------------------------

namespace {

double periodic_offset(double a, double b, double period) {
    double d = a - b;
    d -= period * std::round(d / period);
    return d;
}

} // namespace

Medium::Medium(const Tissue& tissue, const std::array<double, kLayerCount>& layer_hindrance, double lumen_hindrance,
               bool sink_bottom, double max_step_um)
    : grid_(tissue.grid()), sink_bottom_(sink_bottom), max_step_(static_cast<float>(max_step_um)),
      lumen_hindrance_(lumen_hindrance) {
    if (grid_.size() >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
        throw std::invalid_argument("particle mode: the grid has too many voxels (2^31 at most)");
    const int nz = grid_.nz;
    const std::size_t plane = grid_.plane();
    row_h_.resize(static_cast<std::size_t>(nz));
    row_layer_.resize(static_cast<std::size_t>(nz));
    for (int z = 0; z < nz; ++z) {
        const auto layer = static_cast<std::size_t>(tissue.layer_of_row(z));
        row_layer_[static_cast<std::size_t>(z)] = static_cast<std::uint8_t>(layer);
        row_h_[static_cast<std::size_t>(z)] = static_cast<float>(layer_hindrance[layer]);
    }
    // A sub-step near a change of the medium must be short against the largest D within reach of
    // its trial step (up to kFreePathSigmas rms lengths from anywhere in the voxel).
    const double reach = kFreePathSigmas * max_step_um;
    reach_x_ = static_cast<int>(std::ceil(reach / grid_.dx_um));
    reach_y_ = static_cast<int>(std::ceil(reach / grid_.dy_um));
    reach_z_ = static_cast<int>(std::ceil(reach / grid_.dz_um));
    h_.resize(grid_.size());
    h_nbr_.resize(grid_.size());
    for (int z = 0; z < nz; ++z) {
        float m = 0.0f;
        for (int zz = std::max(0, z - reach_z_); zz <= std::min(nz - 1, z + reach_z_); ++zz)
            m = std::max(m, row_h_[static_cast<std::size_t>(zz)]);
        std::fill_n(h_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(z) * plane), plane,
                    row_h_[static_cast<std::size_t>(z)]);
        std::fill_n(h_nbr_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(z) * plane), plane, m);
    }
    // Planes a sub-step must resolve: the skin surface (mouths and walls), every layer boundary
    // (hindrance and reaction rates change there) and a sink bottom. A no-flux bottom is not one:
    // mirroring a Gaussian step at a flat wall is exact.
    planes_.fill(std::numeric_limits<float>::infinity());
    int count = 0;
    planes_[static_cast<std::size_t>(count++)] = 0.0f;
    for (int z = 1; z < nz && count < kMaxPlanes - 1; ++z)
        if (row_layer_[static_cast<std::size_t>(z)] != row_layer_[static_cast<std::size_t>(z - 1)])
            planes_[static_cast<std::size_t>(count++)] = static_cast<float>(z * grid_.dz_um);
    if (sink_bottom_) planes_[static_cast<std::size_t>(count++)] = static_cast<float>(grid_.depth_um());

    const auto& channels = tissue.channels();
    has_channels_ = !channels.empty();
    axis_distance_.assign(plane, 0.0f);
    if (has_channels_) {
        const bool pyramid = tissue.channel_shape().shape == NeedleShape::Pyramid;
        for (int y = 0; y < grid_.ny; ++y)
            for (int x = 0; x < grid_.nx; ++x) {
                double best = std::numeric_limits<double>::max();
                for (const auto& c : channels) {
                    const double ox = periodic_offset(grid_.x_centre_um(x), c.x_um, grid_.size_x_um());
                    const double oy = periodic_offset(grid_.y_centre_um(y), c.y_um, grid_.size_y_um());
                    const double d = pyramid ? std::max(std::abs(ox), std::abs(oy)) : std::hypot(ox, oy);
                    best = std::min(best, d);
                }
                axis_distance_[static_cast<std::size_t>(y) * static_cast<std::size_t>(grid_.nx) +
                               static_cast<std::size_t>(x)] = static_cast<float>(best);
            }
    }
    mouth_.assign(plane, 0);
}

void Medium::set_channels(std::span<const double> lumen_fraction, double half_width_um, bool mouths_wet) {
    if (lumen_fraction.size() != grid_.size()) throw std::invalid_argument("Medium: lumen fraction of the wrong size");
    const std::size_t plane = grid_.plane();
    const int nz = grid_.nz;
    half_width_um_ = half_width_um;
    // Rows holding lumen, and the rows below them whose neighbourhood reaches it.
    int last_lumen_row = -1;
    for (std::size_t i = 0; i < lumen_fraction.size(); ++i)
        if (lumen_fraction[i] > 0.0) last_lumen_row = std::max(last_lumen_row, static_cast<int>(i / plane));
    const int rows = last_lumen_row < 0 ? 0 : std::min(nz, last_lumen_row + 1 + reach_z_);
    // Rewrite every row that held channel values before or does now.
    const int rewrite = std::max(rows, channel_rows_);
    channel_rows_ = rows;
    for (int z = 0; z < rewrite; ++z) {
        const double bulk = row_h_[static_cast<std::size_t>(z)];
        for (std::size_t c = 0; c < plane; ++c) {
            const std::size_t i = static_cast<std::size_t>(z) * plane + c;
            const double phi = lumen_fraction[i];
            // As in continuum mode: lumen and tissue share the voxel in proportion to the open volume.
            h_[i] = static_cast<float>(phi > 0.0 ? phi * lumen_hindrance_ + (1.0 - phi) * bulk : bulk);
        }
    }
    // Neighbourhood maximum over the reach box: along x and y (periodic), then along z.
    if (rewrite > 0) {
        const int nx = grid_.nx, ny = grid_.ny;
        const int lateral_rows = std::min(nz, rewrite + reach_z_);
        std::vector<float> along_x(plane), lateral(static_cast<std::size_t>(lateral_rows) * plane);
        for (int z = 0; z < lateral_rows; ++z) {
            const float* h = h_.data() + static_cast<std::size_t>(z) * plane;
            float* out = lateral.data() + static_cast<std::size_t>(z) * plane;
            for (int y = 0; y < ny; ++y)
                for (int x = 0; x < nx; ++x) {
                    float m = 0.0f;
                    for (int d = -std::min(reach_x_, nx); d <= std::min(reach_x_, nx); ++d)
                        m = std::max(m, h[static_cast<std::size_t>(y) * static_cast<std::size_t>(nx) +
                                          static_cast<std::size_t>(((x + d) % nx + nx) % nx)]);
                    along_x[static_cast<std::size_t>(y) * static_cast<std::size_t>(nx) + static_cast<std::size_t>(x)] = m;
                }
            for (int y = 0; y < ny; ++y)
                for (int x = 0; x < nx; ++x) {
                    float m = 0.0f;
                    for (int d = -std::min(reach_y_, ny); d <= std::min(reach_y_, ny); ++d)
                        m = std::max(m, along_x[static_cast<std::size_t>(((y + d) % ny + ny) % ny) *
                                                    static_cast<std::size_t>(nx) +
                                                static_cast<std::size_t>(x)]);
                    out[static_cast<std::size_t>(y) * static_cast<std::size_t>(nx) + static_cast<std::size_t>(x)] = m;
                }
        }
        for (int z = 0; z < rewrite; ++z)
            for (std::size_t c = 0; c < plane; ++c) {
                float m = 0.0f;
                for (int zz = std::max(0, z - reach_z_); zz < std::min(lateral_rows, z + reach_z_ + 1); ++zz)
                    m = std::max(m, lateral[static_cast<std::size_t>(zz) * plane + c]);
                h_nbr_[static_cast<std::size_t>(z) * plane + c] = m;
            }
    }
    mouth_voxels_.clear();
    std::fill(mouth_.begin(), mouth_.end(), std::uint8_t{0});
    if (mouths_wet)
        for (std::size_t c = 0; c < plane; ++c)
            if (lumen_fraction[c] > 0.0) {
                mouth_[c] = 1;
                mouth_voxels_.push_back(c);
            }
}

MediumView Medium::view() const {
    MediumView v;
    v.nx = grid_.nx;
    v.ny = grid_.ny;
    v.nz = grid_.nz;
    v.dx = static_cast<float>(grid_.dx_um);
    v.dy = static_cast<float>(grid_.dy_um);
    v.dz = static_cast<float>(grid_.dz_um);
    v.inv_dx = static_cast<float>(1.0 / grid_.dx_um);
    v.inv_dy = static_cast<float>(1.0 / grid_.dy_um);
    v.inv_dz = static_cast<float>(1.0 / grid_.dz_um);
    v.size_x = static_cast<float>(grid_.size_x_um());
    v.size_y = static_cast<float>(grid_.size_y_um());
    v.depth = static_cast<float>(grid_.depth_um());
    v.inv_size_x = static_cast<float>(1.0 / grid_.size_x_um());
    v.inv_size_y = static_cast<float>(1.0 / grid_.size_y_um());
    v.sink_bottom = sink_bottom_;
    v.h = h_;
    v.h_nbr = h_nbr_;
    v.row_layer = row_layer_;
    if (!mouth_voxels_.empty()) v.mouth = mouth_;
    v.planes = planes_;
    v.axis_distance = axis_distance_;
    v.channel_reach_r = -std::numeric_limits<float>::infinity();
    v.channel_reach_z = 0.0f;
    if (has_channels_ && channel_rows_ > 0) {
        // Voxels whose hindrance differs from their row's lie within half a voxel diagonal of the
        // channel, those whose neighbourhood maximum does within the reach box beyond that; the
        // column distance is taken at the voxel centre (another half diagonal).
        const double diagonal = std::hypot(grid_.dx_um, grid_.dy_um);
        const double reach = std::hypot(reach_x_ * grid_.dx_um, reach_y_ * grid_.dy_um);
        v.channel_reach_r = static_cast<float>(half_width_um_ + reach + 1.5 * diagonal);
        v.channel_reach_z = static_cast<float>(channel_rows_ * grid_.dz_um);
    }
    v.max_step = max_step_;
    v.inv_free_path_sigmas = 1.0f / kFreePathSigmas;
    return v;
}

// ---- kernels -----------------------------------------------------------------------------------

void StepTally::add(const StepTally& o) {
    for (std::size_t k = 0; k < exited.size(); ++k) exited[k] += o.exited[k];
    degraded += o.degraded;
    cleared += o.cleared;
    substeps += o.substeps;
    rounds = std::max(rounds, o.rounds);
}

namespace {

constexpr std::size_t kChunk = 4096;
constexpr std::uint32_t kMaxRounds = 100'000'000;

// The distance bound of a point (see free_path_um); the same expression in the vector pass.
[[gnu::always_inline]] inline float free_path(const MediumView& m, const float* planes, float z, float axis) {
    float d = std::abs(z - planes[0]);
    for (int p = 1; p < kMaxPlanes; ++p) d = std::min(d, std::abs(z - planes[p]));
    const float zone = std::max(axis - m.channel_reach_r, z - m.channel_reach_z);
    return std::min(d, std::max(zone, 0.0f));
}

} // namespace

float free_path_um(const MediumView& m, float z, std::size_t column) {
    return free_path(m, m.planes.data(), z, m.axis_distance[column]);
}

namespace {

// Draws of one round: Philox per lane, then Box-Muller. One loop so that it vectorises.
[[gnu::target_clones("avx512f", "avx2", "default")]]
void gaussian_lanes(std::size_t n, const std::uint32_t* __restrict id_lo, const std::uint32_t* __restrict id_hi,
                    std::uint32_t seed_lo, std::uint32_t step, std::uint32_t substep, std::uint32_t seed_hi,
                    float* __restrict g0, float* __restrict g1, float* __restrict g2) {
    for (std::size_t i = 0; i < n; ++i) {
        // Philox4x32-10, key (id bits 0-31, seed_lo), counter
        // (step, substep, kMove | id bits 32-55 << 8, seed_hi): prng::particle_block(.., kMove).
        std::uint32_t x0 = step, x1 = substep, x2 = prng::kMove | (id_hi[i] << 8), x3 = seed_hi;
        prng::philox_rounds(x0, x1, x2, x3, id_lo[i], seed_lo);
        prng::gaussians3(x0, x1, x2, x3, g0[i], g1[i], g2[i]);
    }
}

enum Where : int { kInside = 0, kAboveMouth = 1, kBelowSink = 2 };

inline int clamp_index(float v, float inv, int n) {
    const int i = static_cast<int>(v * inv);
    return i < 0 ? 0 : (i < n ? i : n - 1);
}

inline float wrap(float v, float size, float inv_size) {
    if (v < 0.0f || v >= size) v -= size * std::floor(v * inv_size);
    return v;
}

struct Cell {
    std::size_t column = 0;
    std::size_t voxel = 0;
};

inline Cell cell_of(const MediumView& m, float x, float y, float z) {
    const auto ix = static_cast<std::size_t>(clamp_index(x, m.inv_dx, m.nx));
    const auto iy = static_cast<std::size_t>(clamp_index(y, m.inv_dy, m.ny));
    const auto iz = static_cast<std::size_t>(clamp_index(z, m.inv_dz, m.nz));
    const std::size_t column = iy * static_cast<std::size_t>(m.nx) + ix;
    return {column, iz * static_cast<std::size_t>(m.nx) * static_cast<std::size_t>(m.ny) + column};
}

// A proposed position after the periodic sides, the skin surface (an open mouth lets the particle
// out, elsewhere the surface mirrors it) and the bottom (a sink takes it, no flux mirrors it).
// For kAboveMouth / kBelowSink the cell is the top / bottom voxel of the column: the medium
// continues across a mouth or a sink face, so its hindrance is the one to use there.
inline int resolve(const MediumView& m, float& x, float& y, float& z, Cell& cell) {
    x = wrap(x, m.size_x, m.inv_size_x);
    y = wrap(y, m.size_y, m.inv_size_y);
    const std::size_t plane = static_cast<std::size_t>(m.nx) * static_cast<std::size_t>(m.ny);
    const auto ix = static_cast<std::size_t>(clamp_index(x, m.inv_dx, m.nx));
    const auto iy = static_cast<std::size_t>(clamp_index(y, m.inv_dy, m.ny));
    cell.column = iy * static_cast<std::size_t>(m.nx) + ix;
    if (z < 0.0f) {
        if (!m.mouth.empty() && m.mouth[cell.column]) {
            cell.voxel = cell.column;
            return kAboveMouth;
        }
        z = -z;
    }
    if (z >= m.depth) {
        if (m.sink_bottom) {
            cell.voxel = static_cast<std::size_t>(m.nz - 1) * plane + cell.column;
            return kBelowSink;
        }
        z = 2.0f * m.depth - z;
    }
    // Only a step longer than the box could still be outside: keep it in.
    if (!(z >= 0.0f)) z = 0.0f;
    if (z >= m.depth) z = std::nextafter(m.depth, 0.0f);
    cell.voxel = static_cast<std::size_t>(clamp_index(z, m.inv_dz, m.nz)) * plane + cell.column;
    return kInside;
}

// The particles of one chunk that still have time left, copied into contiguous lanes.
struct Lanes {
    std::vector<std::uint32_t> index; // into ParticleArrays
    std::vector<float> x, y, z, d0, clock, rem, kind;
    std::vector<std::uint64_t> id;
    std::vector<std::uint32_t> id_lo, id_hi; // the draws' key and counter words, refreshed per round
    std::vector<std::int32_t> size_class, flag;
    std::vector<float> g0, g1, g2;
    std::size_t n = 0;

    void resize(std::size_t capacity) {
        for (auto* v : {&x, &y, &z, &d0, &clock, &rem, &kind, &g0, &g1, &g2}) v->resize(capacity);
        for (auto* v : {&size_class, &flag}) v->resize(capacity);
        index.resize(capacity);
        id.resize(capacity);
        id_lo.resize(capacity);
        id_hi.resize(capacity);
    }
    void move(std::size_t from, std::size_t to) {
        index[to] = index[from];
        x[to] = x[from];
        y[to] = y[from];
        z[to] = z[from];
        d0[to] = d0[from];
        clock[to] = clock[from];
        rem[to] = rem[from];
        id[to] = id[from];
        kind[to] = kind[from];
        size_class[to] = size_class[from];
    }
};

// A lane's state as a float (the State code), so that the vector pass compares floats only.
constexpr float kind_of(State s) { return static_cast<float>(static_cast<int>(s)); }
constexpr float kFreeKind = kind_of(State::Free);
constexpr float kBoundKind = kind_of(State::Bound);

inline bool lane_active(const Lanes& l, std::size_t j) {
    return l.rem[j] > 0.0f && l.kind[j] <= kBoundKind;
}

// Which reaction ends a free particle's clock, for u uniform in [0, free_total(layer)): the
// competing Poisson channels in turn.
//
// HOOK for uptake by cell agents (MODEL.md section 5; cells do not exist yet, so there is no
// such channel). When they do, uptake is one more channel here: the cells near the particle give
// it a rate (k_on of each cell's free receptors, summed over the cells within reach), added to
// the clock's total rate in act_scalar and act_vector (a per-voxel rate field beside
// MediumView::h), and the particle ends in a new state Internalised that the cell agent owning
// it records, with its own column in the dose ledger.
State free_particle_event(const ReactionTable& r, int layer, float u) {
    if (u < r.degrade[layer]) return State::Degraded;
    if (u < r.degrade[layer] + r.clear[layer]) return State::Cleared;
    return State::Bound;
}

// One action of lane j in round `round`, handling every case: a sub-step (free) or a wait
// (bound), ending at the next reaction event if that comes first.
void act_scalar(const MediumView& m, const ReactionTable& r, const StepInput& in, std::uint32_t round, Lanes& l,
                std::size_t j, StepTally& tally) {
    const float x0 = l.x[j], y0 = l.y[j], z0 = l.z[j];
    const Cell here = cell_of(m, x0, y0, z0);
    const int layer = m.row_layer[here.voxel / (static_cast<std::size_t>(m.nx) * static_cast<std::size_t>(m.ny))];
    float rem = l.rem[j];
    float& clock = l.clock[j];
    if (l.kind[j] == kBoundKind) {
        const float k = r.bound_total(layer);
        if (!(k > 0.0f) || clock > k * rem) {
            clock -= k * rem;
            l.rem[j] = 0.0f;
            return;
        }
        rem -= clock / k;
        const auto b = prng::particle_block(in.seed, l.id[j], in.step, round, prng::kEvent);
        const float u = prng::uniform_f(b[0]) * k;
        clock = -prng::log_f(prng::uniform_open_f(b[1]));
        l.rem[j] = rem > 0.0f ? rem : 0.0f;
        if (u < r.degrade[layer]) {
            l.kind[j] = kind_of(State::Degraded);
            ++tally.degraded;
        } else {
            l.kind[j] = kFreeKind;
        }
        return;
    }

    // Free: the sub-step's length.
    const float h = m.h[here.voxel];
    const float d0 = l.d0[j];
    // As in act_vector: a wall voxel (h = 0) waits in steps of its neighbourhood's length too.
    const float sigma = std::max(m.max_step, free_path(m, m.planes.data(), z0, m.axis_distance[here.column]) *
                                                 m.inv_free_path_sigmas);
    float tau = std::min(rem, sigma * sigma / (2.0f * d0 * m.h_nbr[here.voxel]));
    const float k = r.free_total(layer);
    bool event = false;
    if (k > 0.0f && clock <= k * tau) {
        tau = clock / k;
        event = true;
    } else {
        clock -= k * tau;
    }
    rem = tau >= rem ? 0.0f : rem - tau;
    l.rem[j] = rem;

    if (h > 0.0f && tau > 0.0f) {
        ++tally.substeps;
        // Predictor-corrector for a diffusivity that jumps (LaBolle et al. 2000): the step is
        // scaled by D at the point the plain step would reach, which solves div(D grad C).
        const float g0 = l.g0[j], g1 = l.g1[j], g2 = l.g2[j];
        const float s1 = std::sqrt(2.0f * d0 * h * tau);
        float px = x0 + s1 * g0, py = y0 + s1 * g1, pz = z0 + s1 * g2;
        Cell c;
        resolve(m, px, py, pz, c);
        const float hp = m.h[c.voxel];
        if (hp > 0.0f) {
            const float s2 = hp == h ? s1 : std::sqrt(2.0f * d0 * hp * tau);
            float ex = x0 + s2 * g0, ey = y0 + s2 * g1, ez = z0 + s2 * g2;
            const int where = resolve(m, ex, ey, ez, c);
            if (where == kAboveMouth) {
                l.kind[j] = kind_of(State::Exited);
                ++tally.exited[static_cast<std::size_t>(l.size_class[j])];
                return;
            }
            if (where == kBelowSink) {
                l.kind[j] = kind_of(State::Cleared);
                ++tally.cleared;
                return;
            }
            if (m.h[c.voxel] > 0.0f) { // else the end point is in a wall: the particle stays (rejection)
                // Did the path touch an open mouth or the sink between two points inside? The
                // Brownian bridge between them crosses a plane at distances a and b with
                // probability exp(-2 a b / sigma^2): with this test the surface and a sink absorb
                // exactly, whatever the sub-step length.
                if (!m.mouth.empty() && m.mouth[c.column]) {
                    const float exponent = 2.0f * z0 * ez / (s2 * s2);
                    if (exponent < 20.0f) {
                        const auto blk = prng::particle_block(in.seed, l.id[j], in.step, round, prng::kBridge);
                        if (prng::uniform_f(blk[1]) < std::exp(-exponent)) {
                            l.kind[j] = kind_of(State::Exited);
                            ++tally.exited[static_cast<std::size_t>(l.size_class[j])];
                            return;
                        }
                    }
                }
                if (m.sink_bottom) {
                    const float a = m.depth - z0, b = m.depth - ez;
                    const float exponent = 2.0f * a * b / (s2 * s2);
                    if (exponent < 20.0f) {
                        const auto blk = prng::particle_block(in.seed, l.id[j], in.step, round, prng::kBridge);
                        if (prng::uniform_f(blk[0]) < std::exp(-exponent)) {
                            l.kind[j] = kind_of(State::Cleared);
                            ++tally.cleared;
                            return;
                        }
                    }
                }
                l.x[j] = ex;
                l.y[j] = ey;
                l.z[j] = ez;
            }
        }
    }

    if (event) {
        // The reaction happens where the sub-step ended, with the rates of the layer it started in.
        const auto b = prng::particle_block(in.seed, l.id[j], in.step, round, prng::kEvent);
        clock = -prng::log_f(prng::uniform_open_f(b[1]));
        const State next = free_particle_event(r, layer, prng::uniform_f(b[0]) * k);
        l.kind[j] = kind_of(next);
        tally.degraded += next == State::Degraded ? 1 : 0;
        tally.cleared += next == State::Cleared ? 1 : 0;
    }
}

// The common case of every lane at once, as straight-line code that vectorises: a free
// particle whose sub-step has no reaction event, whose two trial points stay inside the box
// (below the surface, above the bottom, at most one box width to the side) and, with a sink
// bottom, is too far from it for the bridge test. Those lanes are finished here (flag 0);
// inactive lanes get flag 0 and are left alone; every other lane gets flag 1 and is left
// untouched for act_scalar, which handles it completely. The arithmetic is act_scalar's.
[[gnu::target_clones("avx512f", "avx2", "default")]]
void act_vector(const MediumView& m, const float* __restrict H, const float* __restrict HN,
                        const float* __restrict AX, const float* __restrict row_k_free, std::size_t n,
                        float* __restrict lx, float* __restrict ly, float* __restrict lz, const float* __restrict ld0,
                        float* __restrict lclock, float* __restrict lrem, const float* __restrict lkind,
                        const float* __restrict lg0, const float* __restrict lg1, const float* __restrict lg2,
                        std::int32_t* __restrict lflag) {
    const int nx = m.nx, ny = m.ny, nz = m.nz, plane = nx * ny;
    const float inv_dx = m.inv_dx, inv_dy = m.inv_dy, inv_dz = m.inv_dz;
    const float sx = m.size_x, sy = m.size_y, depth = m.depth;
    const float max_step = m.max_step, inv_k = m.inv_free_path_sigmas;
    const float reach_r = m.channel_reach_r, reach_z = m.channel_reach_z;
    // With a sink the bridge test is needed where 2 a b < 20 sigma^2 (see act_scalar); written as a
    // factor so the loop holds no loop-invariant bool.
    const float bridge_factor = m.sink_bottom ? 20.0f : 0.0f;
    const float surface_factor = m.mouth.empty() ? 0.0f : 20.0f;
    float planes[kMaxPlanes];
    for (int p = 0; p < kMaxPlanes; ++p) planes[p] = m.planes[static_cast<std::size_t>(p)];
    // A trial position wrapped into the periodic box, whether it left the box through the top or
    // bottom, and the medium's h there (predictor and corrector alike).
    struct Trial {
        float x, y, z, h;
        bool out;
    };
    const auto trial = [&](float x, float y, float z) {
        const float x_up = x + sx, y_up = y + sy;
        x = x < 0.0f ? x_up : x;
        y = y < 0.0f ? y_up : y;
        const float x_down = x - sx, y_down = y - sy;
        x = x >= sx ? x_down : x;
        y = y >= sy ? y_down : y;
        const bool out = !((x >= 0.0f) & (x < sx) & (y >= 0.0f) & (y < sy) & (z >= 0.0f) & (z < depth));
        int kx = static_cast<int>(x * inv_dx), ky = static_cast<int>(y * inv_dy), kz = static_cast<int>(z * inv_dz);
        kx = std::min(std::max(kx, 0), nx - 1);
        ky = std::min(std::max(ky, 0), ny - 1);
        kz = std::min(std::max(kz, 0), nz - 1);
        return Trial{x, y, z, H[kz * plane + ky * nx + kx], out};
    };
    for (std::size_t j = 0; j < n; ++j) {
        const float x0 = lx[j], y0 = ly[j], z0 = lz[j], rem = lrem[j], d0 = ld0[j], clock = lclock[j];
        const float kind = lkind[j];
        const bool active = (rem > 0.0f) & (kind <= kBoundKind);
        int ix = static_cast<int>(x0 * inv_dx), iy = static_cast<int>(y0 * inv_dy), iz = static_cast<int>(z0 * inv_dz);
        ix = std::min(std::max(ix, 0), nx - 1);
        iy = std::min(std::max(iy, 0), ny - 1);
        iz = std::min(std::max(iz, 0), nz - 1);
        const int column = iy * nx + ix;
        const int voxel = iz * plane + column;
        const float h = H[voxel];
        const float hn = HN[voxel];
        const float k = row_k_free[iz];
        // Sub-step length (free_path, inlined by hand so the loop stays one basic block).
        float d = std::abs(z0 - planes[0]);
        for (int p = 1; p < kMaxPlanes; ++p) d = std::min(d, std::abs(z0 - planes[p]));
        const float zone = std::max(AX[column] - reach_r, z0 - reach_z);
        d = std::min(d, std::max(zone, 0.0f));
        const float sigma = std::max(max_step, d * inv_k);
        // hn = 0 (a wall and its neighbours) gives +inf and so tau = rem; tau <= rem, and rem - tau
        // is exactly 0 when tau = rem.
        const float tau = std::min(rem, sigma * sigma / (2.0f * d0 * hn));
        const float k_tau = k * tau;
        const bool event = (k > 0.0f) & (clock <= k_tau);
        const float new_clock = clock - k_tau;
        const float new_rem = rem - tau;
        const bool moves = (h > 0.0f) & (rem > 0.0f); // tau > 0 exactly when rem > 0
        // Predictor (s1 = 0 in a wall, h = 0).
        const float s1 = std::sqrt(2.0f * d0 * h * tau);
        const Trial predicted = trial(x0 + s1 * lg0[j], y0 + s1 * lg1[j], z0 + s1 * lg2[j]);
        const float hp = predicted.h;
        const bool p_out = predicted.out;
        // Corrector.
        // Equal to s1 (the same expression) where hp = h.
        const float s2 = std::sqrt(2.0f * d0 * hp * tau);
        const Trial end = trial(x0 + s2 * lg0[j], y0 + s2 * lg1[j], z0 + s2 * lg2[j]);
        const float ex = end.x, ey = end.y, ez = end.z, he = end.h;
        const bool e_out = end.out;
        const float to_sink = 2.0f * (depth - z0) * (depth - ez);
        const float to_surface = 2.0f * z0 * ez;
        const float sink_limit = bridge_factor * (s2 * s2);
        const float surface_limit = surface_factor * (s2 * s2);
        // Bridge tests (act_scalar) near a sink or near the surface while mouths are open; never
        // true otherwise unless e_out.
        const bool bridge = (to_sink < sink_limit) | (to_surface < surface_limit);
        const bool scalar = (kind != kFreeKind) | event | (moves & (p_out | ((hp > 0.0f) & (e_out | bridge))));
        const bool done_here = active & !scalar;
        const bool accept = moves & (hp > 0.0f) & (he > 0.0f);
        // 1: for act_scalar; 2: finished here with a move; 0: finished here without one, or inactive.
        lflag[j] = active & scalar ? 1 : (done_here & moves ? 2 : 0);
        lx[j] = done_here & accept ? ex : x0;
        ly[j] = done_here & accept ? ey : y0;
        lz[j] = done_here & accept ? ez : z0;
        lclock[j] = done_here ? new_clock : clock;
        lrem[j] = done_here ? new_rem : rem;
    }
}

struct Counts {
    std::int64_t moved = 0;    // lanes the vector pass moved (flag 2)
    std::int64_t finished = 0; // lanes with no time left or no longer in the tissue
};

[[gnu::target_clones("avx512f", "avx2", "default")]]
Counts count_lanes(std::size_t n, const std::int32_t* __restrict flag, const float* __restrict rem,
                   const float* __restrict kind) {
    std::int32_t moved = 0, finished = 0;
    for (std::size_t j = 0; j < n; ++j) {
        moved += flag[j] == 2 ? 1 : 0;
        finished += (rem[j] > 0.0f) & (kind[j] <= kBoundKind) ? 0 : 1;
    }
    return {moved, finished};
}

StepTally advance_chunk(const MediumView& m, const ReactionTable& r, const float* row_k_free, const StepInput& in,
                        ParticleArrays& p, std::span<float> remaining, std::size_t begin, std::size_t end,
                        Lanes& l) {
    StepTally tally;
    l.resize(end - begin);
    std::size_t n = 0;
    for (std::size_t i = begin; i < end; ++i) {
        if (!in_tissue(p.state[i]) || !(remaining[i] > 0.0f)) continue;
        l.index[n] = static_cast<std::uint32_t>(i);
        l.x[n] = p.x[i];
        l.y[n] = p.y[i];
        l.z[n] = p.z[i];
        l.d0[n] = p.d0[i];
        l.clock[n] = p.clock[i];
        l.rem[n] = remaining[i];
        l.id[n] = p.id[i];
        l.kind[n] = kind_of(p.state[i]);
        l.size_class[n] = p.size_class[i];
        ++n;
    }
    const auto write_back = [&](std::size_t j) {
        const std::size_t i = l.index[j];
        p.x[i] = l.x[j];
        p.y[i] = l.y[j];
        p.z[i] = l.z[j];
        p.clock[i] = l.clock[j];
        p.state[i] = static_cast<State>(static_cast<int>(l.kind[j]));
        remaining[i] = l.rem[j];
    };
    std::uint32_t round = 0;
    while (n > 0) {
        for (std::size_t j = 0; j < n; ++j) {
            l.id_lo[j] = static_cast<std::uint32_t>(l.id[j]);
            l.id_hi[j] = static_cast<std::uint32_t>(l.id[j] >> 32);
        }
        gaussian_lanes(n, l.id_lo.data(), l.id_hi.data(), prng::seed_low(in.seed), in.step, round,
                       prng::seed_high(in.seed), l.g0.data(), l.g1.data(), l.g2.data());
        act_vector(m, m.h.data(), m.h_nbr.data(), m.axis_distance.data(), row_k_free, n, l.x.data(), l.y.data(), l.z.data(), l.d0.data(),
                                     l.clock.data(), l.rem.data(), l.kind.data(), l.g0.data(), l.g1.data(),
                                     l.g2.data(), l.flag.data());
        const std::int32_t* flag = l.flag.data();
        for (std::size_t j = 0; j < n; ++j)
            if (flag[j] == 1) act_scalar(m, r, in, round, l, j, tally);
        const Counts counts = count_lanes(n, flag, l.rem.data(), l.kind.data());
        tally.substeps += counts.moved;
        const std::size_t finished = static_cast<std::size_t>(counts.finished);
        ++round;
        if (round > kMaxRounds) throw std::runtime_error("particle step did not finish (sub-step too small)");
        // Finished lanes do nothing in later rounds; drop them once they are an eighth of the lanes.
        if (finished > 0 && (8 * finished >= n || finished == n)) {
            std::size_t kept = 0;
            for (std::size_t j = 0; j < n; ++j) {
                if (lane_active(l, j)) {
                    if (kept != j) l.move(j, kept);
                    ++kept;
                } else {
                    write_back(j);
                }
            }
            n = kept;
        }
    }
    tally.rounds = round;
    return tally;
}

} // namespace

void gaussians_for(std::span<const std::uint64_t> ids, std::uint64_t seed, std::uint32_t step, std::uint32_t substep,
                   std::span<float> g0, std::span<float> g1, std::span<float> g2) {
    std::vector<std::uint32_t> lo(ids.size()), hi(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        lo[i] = static_cast<std::uint32_t>(ids[i]);
        hi[i] = static_cast<std::uint32_t>(ids[i] >> 32);
    }
    gaussian_lanes(ids.size(), lo.data(), hi.data(), prng::seed_low(seed), step, substep, prng::seed_high(seed),
                   g0.data(), g1.data(), g2.data());
}

StepTally advance(ParticleArrays& particles, std::span<float> remaining, const MediumView& medium,
                  const ReactionTable& reactions, const StepInput& input) {
    const std::size_t n = particles.size();
    if (remaining.size() != n) throw std::invalid_argument("advance: one remaining time per particle is needed");
    std::vector<float> row_k_free(static_cast<std::size_t>(medium.nz));
    for (std::size_t z = 0; z < row_k_free.size(); ++z) row_k_free[z] = reactions.free_total(medium.row_layer[z]);
    const std::size_t chunks = (n + kChunk - 1) / kChunk;
    std::vector<StepTally> tallies(chunks);
    bool failed = false;
#pragma omp parallel
    {
        Lanes lanes;
#pragma omp for schedule(dynamic, 1)
        for (std::ptrdiff_t c = 0; c < static_cast<std::ptrdiff_t>(chunks); ++c) {
            const std::size_t begin = static_cast<std::size_t>(c) * kChunk;
            try {
                tallies[static_cast<std::size_t>(c)] = advance_chunk(medium, reactions, row_k_free.data(), input,
                                                                     particles, remaining, begin,
                                                                     std::min(n, begin + kChunk), lanes);
            } catch (...) {
#pragma omp atomic write
                failed = true;
            }
        }
    }
    if (failed) throw std::runtime_error("particle step did not finish (sub-step too small)");
    StepTally total;
    for (const auto& t : tallies) total.add(t);
    return total;
}

} // namespace exoderm::particles
