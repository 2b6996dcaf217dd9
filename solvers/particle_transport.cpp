#include "solvers/particle_transport.hpp"

#include "solvers/particle_rng.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

namespace exoderm {

namespace {

constexpr double kDiameterCutSigmas = 4.0; // diameters beyond +-4 geometric SDs are not drawn

std::array<double, kLayerCount> layer_hindrance(const Scenario& s) {
    std::array<double, kLayerCount> h{};
    for (int l = 0; l < kLayerCount; ++l) h[static_cast<std::size_t>(l)] = s.layers[static_cast<std::size_t>(l)].hindrance;
    return h;
}

// A fixed mix of the id, for choosing the particles written to output.
std::uint64_t sample_rank(std::uint64_t id, std::uint64_t seed) {
    std::uint64_t h = id ^ (seed * 0x9E3779B97F4A7C15ull);
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return h;
}

} // namespace

ParticleTransport::ParticleTransport(const Scenario& s, const Tissue& tissue)
    : tissue_(tissue), grid_(tissue.grid()),
      classes_(lognormal_size_classes(s.product.median_diameter_nm, s.product.geometric_sd, s.product.size_classes,
                                      s.product.temperature_K, s.product.viscosity_Pa_s)),
      seed_(s.seed), median_nm_(s.product.median_diameter_nm), sigma_ln_(std::log(s.product.geometric_sd)),
      temperature_K_(s.product.temperature_K), viscosity_Pa_s_(s.product.viscosity_Pa_s),
      drying_time_s_(s.product.drying_time_s), applied_concentration_(s.product.concentration_per_um3),
      max_step_um_(s.particles.max_step_um),
      medium_(tissue, layer_hindrance(s), s.lumen_hindrance, s.domain.bottom == BottomBoundary::Sink,
              s.particles.max_step_um),
      lumen_(grid_.size(), 0.0) {
    if (classes_.size() > particles::kMaxSizeClasses)
        throw std::invalid_argument("particle mode supports at most 16 size classes");
    if (s.particles.budget < 1) throw std::invalid_argument("particles.budget must be at least 1");
    film_volume_um3_ = s.product.volume_per_area_um * grid_.size_x_um() * grid_.size_y_um();
    const double applied = s.product.concentration_per_um3 * film_volume_um3_;
    budget_ = s.particles.budget;
    weight_ = applied / static_cast<double>(budget_);
    // Equal-probability classes: the budget split evenly, the remainder to the first classes.
    const auto K = static_cast<std::int64_t>(classes_.size());
    for (std::int64_t k = 0; k < K; ++k)
        reservoir_[static_cast<std::size_t>(k)] = budget_ / K + (k < budget_ % K ? 1 : 0);
    for (std::int64_t k = 0; k < K; ++k) {
        const double lo = k == 0 ? -kDiameterCutSigmas : prng::normal_quantile(static_cast<double>(k) / K);
        const double hi = k + 1 == K ? kDiameterCutSigmas : prng::normal_quantile(static_cast<double>(k + 1) / K);
        class_z_bounds_.push_back({std::max(lo, -kDiameterCutSigmas), std::min(hi, kDiameterCutSigmas)});
    }
    // E[sqrt(D0)] over each class (its diameters cut at +-4 geometric SDs): D0 = A / d with d =
    // median exp(sigma z), so E[d^(-1/2)] = median^(-1/2) exp(sigma^2 / 8) [Phi(hi + sigma/2) -
    // Phi(lo + sigma/2)] / [Phi(hi) - Phi(lo)].
    const double sqrt_a = std::sqrt(stokes_einstein_um2_per_s(1.0, temperature_K_, viscosity_Pa_s_));
    for (std::int64_t k = 0; k < K; ++k) {
        const auto [lo, hi] = class_z_bounds_[static_cast<std::size_t>(k)];
        const double s = sigma_ln_;
        const double mass = prng::normal_cdf(hi) - prng::normal_cdf(lo);
        const double mean_inv_sqrt_d =
            s == 0.0 ? 1.0 / std::sqrt(median_nm_)
                     : std::exp(s * s / 8.0) * (prng::normal_cdf(hi + 0.5 * s) - prng::normal_cdf(lo + 0.5 * s)) /
                           (mass * std::sqrt(median_nm_));
        class_mean_sqrt_d0_.push_back(sqrt_a * mean_inv_sqrt_d);
    }
    reactions_ = particles::reaction_table(s);
    for (std::size_t k = 0; k < classes_.size(); ++k) {
        free_.emplace_back(grid_.size(), 0.0);
        bound_.emplace_back(grid_.size(), 0.0);
    }
    touched_flag_.assign(grid_.size(), 0);
    update_geometry(0.0);
}

void ParticleTransport::update_geometry(double t_s) {
    const double a = tissue_.open_half_width_um(t_s);
    const bool wet = t_s < drying_time_s_;
    if (a == half_width_um_ && wet == mouths_wet_) return;
    set_geometry(a, wet);
}

void ParticleTransport::set_geometry(double a, bool wet) {
    half_width_um_ = a;
    mouths_wet_ = wet;
    tissue_.lumen_fraction(a, lumen_);
    medium_.set_channels(lumen_, a, wet);
}

double ParticleTransport::entrant_diameter_nm(std::size_t k, double u) const {
    if (sigma_ln_ == 0.0) return median_nm_;
    // Entrants of a class follow its lognormal weighted by sqrt(D0) ~ d^(-1/2): in ln d the
    // lognormal shifted by -sigma^2 / 2.
    const double shift = 0.5 * sigma_ln_;
    const double lo = class_z_bounds_[k][0] + shift, hi = class_z_bounds_[k][1] + shift;
    const double p_lo = prng::normal_cdf(lo), p_hi = prng::normal_cdf(hi);
    const double z = std::clamp(prng::normal_quantile(p_lo + u * (p_hi - p_lo)), lo, hi) - shift;
    return median_nm_ * std::exp(sigma_ln_ * z);
}

void ParticleTransport::emit(double dt_s, const particles::StepInput& input) {
    const auto& mouths = medium_.mouth_voxels();
    if (mouths.empty()) return;
    // The mouth face is held at the reservoir concentration c (the continuum Dirichlet condition)
    // with the voxel's medium continuing above it. Particles inside are absorbed when their path
    // touches an open mouth (Brownian-bridge test in the step kernel). For that absorbed process
    // the exact contribution of the boundary over an interval tau, seen at the interval's end,
    // is the profile 2 c Q(z / sigma) with sigma = sqrt(2 D tau) and Q the normal tail:
    // 2 c sigma / sqrt(2 pi) particles per area at depths sigma * Rayleigh * uniform. The step is
    // cut into m equal intervals (sigma about max_step at the class's mean D0) and each entrant
    // joins at the end of one of them, so the state at the end of the step is exact for a flat
    // mouth: the particles from the last interval have just arrived. Per vesicle the count goes
    // as sqrt(D0), so entrants' diameters follow the lognormal weighted by d^(-1/2).
    const double face = grid_.dx_um * grid_.dy_um;
    const double inv_sqrt_2pi = 1.0 / std::sqrt(2.0 * std::numbers::pi);
    const std::size_t plane = grid_.plane();
    const particles::MediumView view = medium_.view();
    // The reservoir concentration for the whole step is the one at its start: most entrants
    // leave again within a few sub-steps (they return at the step's end), and that churn must
    // not thin the reservoir the later mouth voxels see.
    std::array<double, particles::kMaxSizeClasses> concentration{};
    for (std::size_t k = 0; k < classes_.size(); ++k)
        concentration[k] = static_cast<double>(reservoir_[k]) / film_volume_um3_;
    const double max_step2 = max_step_um_ * max_step_um_;
    for (std::size_t v : mouths) {
        const double h = medium_.hindrance(v);
        const double h_nbr = medium_.hindrance_nbr(v);
        if (!(h > 0.0)) continue;
        const int ix = static_cast<int>(v % static_cast<std::size_t>(grid_.nx));
        const int iy = static_cast<int>((v % plane) / static_cast<std::size_t>(grid_.nx));
        for (std::size_t k = 0; k < classes_.size(); ++k) {
            std::int64_t& reservoir = reservoir_[k];
            if (concentration[k] == 0.0) continue;
            const double intervals = std::max(1.0, std::ceil(dt_s * 2.0 * classes_[k].d0_um2_per_s * h_nbr / max_step2));
            const double tau = dt_s / intervals;
            const double mean = intervals * 2.0 * concentration[k] * face * std::sqrt(2.0 * h * tau) *
                                class_mean_sqrt_d0_[k] * inv_sqrt_2pi;
            prng::UniformStream draws(static_cast<std::uint32_t>(v), seed_, input.step,
                                      prng::kEmit | static_cast<std::uint32_t>(k << 8));
            // Most entrants leave again within the step: the reservoir lends them and is repaid
            // by the exits at the step's end (step_to settles what is not repaid).
            const std::int64_t n = prng::poisson(mean, draws);
            for (std::int64_t j = 0; j < n; ++j) {
                if (next_id_ > prng::kMaxParticleId)
                    throw std::runtime_error("particle mode ran out of particle ids (2^56 entries); lower particles.budget");
                const std::uint64_t id = next_id_++;
                prng::UniformStream u(prng::id_low(id), seed_, input.step, prng::id_purpose(id, prng::kCreate));
                // Joins at the end of interval 1..m.
                const double interval = std::min(intervals, std::floor(u.next() * intervals) + 1.0);
                const double remaining = std::max(0.0, dt_s - interval * tau);
                const double x = (ix + u.next()) * grid_.dx_um;
                const double y = (iy + u.next()) * grid_.dy_um;
                const double diameter = entrant_diameter_nm(k, u.next());
                const double d0 = stokes_einstein_um2_per_s(diameter, temperature_K_, viscosity_Pa_s_);
                const double sigma = std::sqrt(2.0 * d0 * h * tau);
                const double depth = sigma * std::sqrt(-2.0 * std::log(u.next())) * u.next();
                const double clock = prng::exponential(u.next());
                const auto fx = static_cast<float>(x), fy = static_cast<float>(y), fz = static_cast<float>(depth);
                const int cz = std::min(static_cast<int>(fz * view.inv_dz), grid_.nz - 1);
                if (!(medium_.hindrance(static_cast<std::size_t>(cz) * plane + (v % plane)) > 0.0f)) continue;
                particles_.push_back(fx, fy, fz, static_cast<float>(d0), static_cast<float>(clock), id,
                                     particles::State::Free, static_cast<std::uint8_t>(k));
                remaining_.push_back(static_cast<float>(remaining));
                --reservoir;
                ++entered_;
            }
        }
    }
}

void ParticleTransport::step_to(double t_next_s) {
    const double dt_s = t_next_s - time_s_;
    if (!(dt_s > 0.0)) throw std::invalid_argument("ParticleTransport::step_to: time must advance");
    update_geometry(time_s_ + 0.5 * dt_s);
    const particles::StepInput input{seed_, step_};
    remaining_.assign(particles_.size(), static_cast<float>(dt_s));
    const std::size_t first_entrant = particles_.size();
    emit(dt_s, input);
    const particles::StepTally tally =
        particles::advance(particles_, remaining_, medium_.view(), reactions_, input);
    for (std::size_t k = 0; k < classes_.size(); ++k) {
        reservoir_[k] += tally.exited[k];
        exited_ += tally.exited[k];
    }
    degraded_ += tally.degraded;
    cleared_ += tally.cleared;
    substeps_ += tally.substeps;
    settle_overdraft(first_entrant);
    particles_.remove_gone();
    deposit();
    time_s_ = t_next_s;
    ++step_;
}

void ParticleTransport::settle_overdraft(std::size_t first_entrant) {
    // A reservoir that lent more entrants than came back went below zero: the step was long for
    // what was left in the film (the continuum couples the reservoir implicitly and cannot
    // overdraw). The latest entrants of the step still in the tissue did not enter after all.
    auto& p = particles_;
    for (std::size_t k = 0; k < classes_.size(); ++k) {
        for (std::size_t i = p.size(); reservoir_[k] < 0 && i-- > first_entrant;) {
            if (p.size_class[i] != k || !particles::in_tissue(p.state[i])) continue;
            p.state[i] = particles::State::Exited;
            ++reservoir_[k];
            --entered_;
            ++overdrafts_;
        }
        if (reservoir_[k] < 0) throw std::logic_error("particle reservoir overdrawn beyond this step's entrants");
    }
}

void ParticleTransport::deposit() {
    const std::size_t K = classes_.size();
    for (std::size_t v : touched_) {
        for (std::size_t k = 0; k < K; ++k) {
            free_[k][v] = 0.0;
            bound_[k][v] = 0.0;
        }
        touched_flag_[v] = 0;
    }
    touched_.clear();
    const double amount = weight_ / grid_.voxel_volume_um3();
    const auto& p = particles_;
    const float inv_dx = static_cast<float>(1.0 / grid_.dx_um), inv_dy = static_cast<float>(1.0 / grid_.dy_um),
                inv_dz = static_cast<float>(1.0 / grid_.dz_um);
    for (std::size_t i = 0; i < p.size(); ++i) {
        const int x = std::clamp(static_cast<int>(p.x[i] * inv_dx), 0, grid_.nx - 1);
        const int y = std::clamp(static_cast<int>(p.y[i] * inv_dy), 0, grid_.ny - 1);
        const int z = std::clamp(static_cast<int>(p.z[i] * inv_dz), 0, grid_.nz - 1);
        const std::size_t v = grid_.index(x, y, z);
        if (!touched_flag_[v]) {
            touched_flag_[v] = 1;
            touched_.push_back(v);
        }
        auto& field = p.state[i] == particles::State::Bound ? bound_ : free_;
        field[p.size_class[i]][v] += amount;
    }
}

template <class IO>
void ParticleTransport::exchange_state(IO& io) {
    io.scalar("time_s", time_s_);
    io.scalar("half_width_um", half_width_um_);
    io.flag("mouths_wet", mouths_wet_);
    io.array("reservoir", reservoir_);
    io.scalar("degraded", degraded_);
    io.scalar("cleared", cleared_);
    io.scalar("entered", entered_);
    io.scalar("exited", exited_);
    io.scalar("next_id", next_id_);
    io.scalar("step", step_); // keys the Philox streams of the next step
    io.scalar("substeps", substeps_);
    io.scalar("overdrafts", overdrafts_);
    auto p = io.in("particles");
    p.array("x", particles_.x);
    p.array("y", particles_.y);
    p.array("z", particles_.z);
    p.array("d0", particles_.d0);
    p.array("clock", particles_.clock);
    p.array("id", particles_.id);
    p.array("state", particles_.state);
    p.array("size_class", particles_.size_class);
}

void ParticleTransport::save_state(StateWriter& out) const {
    const_cast<ParticleTransport*>(this)->exchange_state(out); // a writer only reads the state
}

void ParticleTransport::load_state(const StateReader& in) {
    exchange_state(in);
    const std::size_t n = particles_.size();
    if (particles_.y.size() != n || particles_.z.size() != n || particles_.d0.size() != n ||
        particles_.clock.size() != n || particles_.id.size() != n || particles_.state.size() != n ||
        particles_.size_class.size() != n)
        throw std::runtime_error("checkpoint: particle arrays of different lengths");
    set_geometry(half_width_um_, mouths_wet_);
    // The fields are the particles' deposit, summed in particle order as after every step.
    for (std::size_t k = 0; k < classes_.size(); ++k) {
        std::fill(free_[k].begin(), free_[k].end(), 0.0);
        std::fill(bound_[k].begin(), bound_[k].end(), 0.0);
    }
    std::fill(touched_flag_.begin(), touched_flag_.end(), std::uint8_t{0});
    touched_.clear();
    deposit();
}

ParticleCounts ParticleTransport::counts() const {
    ParticleCounts c;
    c.applied = budget_;
    for (std::size_t k = 0; k < classes_.size(); ++k) c.reservoir += reservoir_[k];
    for (auto s : particles_.state) (s == particles::State::Bound ? c.bound : c.free) += 1;
    c.degraded = degraded_;
    c.cleared = cleared_;
    c.entered = entered_;
    c.exited = exited_;
    return c;
}

DoseLedger ParticleTransport::flows() const {
    const ParticleCounts c = counts();
    DoseLedger d;
    d.applied = static_cast<double>(c.applied) * weight_;
    d.reservoir = static_cast<double>(c.reservoir) * weight_;
    d.degraded = static_cast<double>(c.degraded) * weight_;
    d.cleared = static_cast<double>(c.cleared) * weight_;
    d.delivered = static_cast<double>(c.entered - c.exited) * weight_;
    return d;
}

double ParticleTransport::reservoir_concentration() const {
    std::int64_t n = 0;
    for (std::size_t k = 0; k < classes_.size(); ++k) n += reservoir_[k];
    return static_cast<double>(n) * weight_ / film_volume_um3_;
}

void ParticleTransport::sample_particles(std::int64_t limit, ParticleSample& out) const {
    out = {};
    const auto& p = particles_;
    const std::size_t n = p.size();
    std::vector<std::size_t> chosen;
    if (limit < 0 || static_cast<std::size_t>(limit) >= n) {
        chosen.resize(n);
        for (std::size_t i = 0; i < n; ++i) chosen[i] = i;
    } else if (limit > 0) {
        // The particles with the smallest ranks: the same particles from snapshot to snapshot.
        std::vector<std::pair<std::uint64_t, std::uint64_t>> ranked(n);
        for (std::size_t i = 0; i < n; ++i) ranked[i] = {sample_rank(p.id[i], seed_), p.id[i]};
        const auto keep = static_cast<std::size_t>(limit);
        std::nth_element(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep - 1), ranked.end());
        const auto cut = ranked[keep - 1];
        for (std::size_t i = 0; i < n; ++i)
            if (std::pair{sample_rank(p.id[i], seed_), p.id[i]} <= cut) chosen.push_back(i);
    }
    const double se_1nm = stokes_einstein_um2_per_s(1.0, temperature_K_, viscosity_Pa_s_); // D0 d = const
    for (std::size_t i : chosen) {
        out.xyz.insert(out.xyz.end(), {p.x[i], p.y[i], p.z[i]});
        out.diameter_nm.push_back(se_1nm / p.d0[i]);
        out.state.push_back(p.state[i] == particles::State::Bound ? 1.0 : 0.0);
        out.id.push_back(static_cast<double>(p.id[i]));
    }
}

double estimate_particle_bytes(const Scenario& s) {
    const Grid g = grid_for(s);
    const double voxels = static_cast<double>(g.size());
    const double classes = s.product.size_classes;
    // Per voxel: free + bound deposit per class, lumen fraction, touched flag, and the dense
    // hindrance arrays (2 floats; an upper bound: they cover only the rows with channels).
    const double per_voxel = classes * 16.0 + 8.0 + 1.0 + 8.0;
    // Per particle: its arrays, its remaining time in the step, and vector growth (x 1.5 on average).
    const double per_particle = 1.5 * (static_cast<double>(particles::ParticleArrays::kBytesPerParticle) + 4.0);
    return voxels * per_voxel + static_cast<double>(s.particles.budget) * per_particle;
}

} // namespace exoderm
