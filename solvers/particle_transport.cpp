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
std::uint32_t sample_rank(std::uint32_t id, std::uint64_t seed) {
    std::uint32_t h = id ^ static_cast<std::uint32_t>(seed * 0x9E3779B97F4A7C15ull >> 32);
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
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
    for (int l = 0; l < kLayerCount; ++l) {
        const auto& spec = s.layers[static_cast<std::size_t>(l)];
        reactions_.degrade[static_cast<std::size_t>(l)] = static_cast<float>(s.degradation.k_per_s());
        reactions_.clear[static_cast<std::size_t>(l)] = static_cast<float>(spec.k_clear_per_s);
        reactions_.bind[static_cast<std::size_t>(l)] = static_cast<float>(spec.k_on_ecm_per_s);
        reactions_.release[static_cast<std::size_t>(l)] = static_cast<float>(spec.k_off_ecm_per_s);
    }
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
    half_width_um_ = a;
    mouths_wet_ = wet;
    tissue_.lumen_fraction(a, lumen_);
    medium_.set_channels(lumen_, a, wet);
}

double ParticleTransport::entrant_diameter_nm(std::size_t k, double u) const {
    if (sigma_ln_ == 0.0) return median_nm_;
    // Entry rate is proportional to D0 ~ 1/d: the entrants of a class follow the lognormal
    // weighted by 1/d, which is the lognormal shifted by -sigma^2 in ln d.
    const double lo = class_z_bounds_[k][0] + sigma_ln_, hi = class_z_bounds_[k][1] + sigma_ln_;
    const double p_lo = prng::normal_cdf(lo), p_hi = prng::normal_cdf(hi);
    const double z = std::clamp(prng::normal_quantile(p_lo + u * (p_hi - p_lo)), lo, hi) - sigma_ln_;
    return median_nm_ * std::exp(sigma_ln_ * z);
}

void ParticleTransport::emit(double dt_s, const particles::StepInput& input) {
    const auto& mouths = medium_.mouth_voxels();
    if (mouths.empty()) return;
    // A ghost layer of reservoir fluid above each open mouth voxel, continuing the voxel's
    // medium at the reservoir concentration: of a uniform half-space at concentration c taking
    // Gaussian steps of rms sigma, c sigma / sqrt(2 pi) per area end up below the face per step,
    // i.e. 2 c D / (sqrt(2 pi) sigma) per area and time. sigma is the rms step a particle in that
    // voxel takes (max_step sqrt(h / h_nbr), whatever its D0), so entries and exits balance when
    // the voxel is at the reservoir concentration: the continuum Dirichlet condition.
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
    for (std::size_t v : mouths) {
        const double h = medium_.hindrance(v);
        const double h_nbr = medium_.hindrance_nbr(v);
        if (!(h > 0.0)) continue;
        const double sigma = max_step_um_ * std::sqrt(h / h_nbr);
        const int ix = static_cast<int>(v % static_cast<std::size_t>(grid_.nx));
        const int iy = static_cast<int>((v % plane) / static_cast<std::size_t>(grid_.nx));
        for (std::size_t k = 0; k < classes_.size(); ++k) {
            std::int64_t& reservoir = reservoir_[k];
            if (reservoir == 0) continue;
            const double mean = concentration[k] * face * 2.0 * classes_[k].d0_um2_per_s * h * dt_s * inv_sqrt_2pi / sigma;
            prng::UniformStream draws(static_cast<std::uint32_t>(v), seed_, input.step,
                                      prng::kEmit | static_cast<std::uint32_t>(k << 8));
            const std::int64_t n = std::min(prng::poisson(mean, draws), reservoir);
            for (std::int64_t j = 0; j < n; ++j) {
                if (next_id_ == std::numeric_limits<std::uint32_t>::max())
                    throw std::runtime_error("particle mode ran out of particle ids (2^32 entries); lower particles.budget");
                const std::uint32_t id = next_id_++;
                prng::UniformStream u(id, seed_, input.step, prng::kCreate);
                const double remaining = (1.0 - u.next()) * dt_s; // entered at a uniform time in the step
                const double x = (ix + u.next()) * grid_.dx_um;
                const double y = (iy + u.next()) * grid_.dy_um;
                // Depth below the face after the entering step: sigma * Rayleigh * uniform.
                const double depth = sigma * std::sqrt(-2.0 * std::log(u.next())) * u.next();
                const double diameter = entrant_diameter_nm(k, u.next());
                const double clock = prng::exponential(u.next());
                const auto fx = static_cast<float>(x), fy = static_cast<float>(y), fz = static_cast<float>(depth);
                const int cz = std::min(static_cast<int>(fz * view.inv_dz), grid_.nz - 1);
                if (!(medium_.hindrance(static_cast<std::size_t>(cz) * plane + (v % plane)) > 0.0f)) continue;
                const double d0 = stokes_einstein_um2_per_s(diameter, temperature_K_, viscosity_Pa_s_);
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
    particles_.remove_gone();
    deposit();
    time_s_ = t_next_s;
    ++step_;
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
        std::vector<std::pair<std::uint32_t, std::uint32_t>> ranked(n);
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
        out.id.push_back(p.id[i]);
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
