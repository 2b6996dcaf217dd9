#include "solvers/responses.hpp"

#include "model/product_factors.hpp"
#include "solvers/inflammation_ode.hpp"
#include "solvers/injection.hpp"
#include "solvers/particle_rng.hpp"

#include <boost/numeric/odeint/integrate/integrate_n_steps.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta4.hpp>

#include <algorithm>
#include <cmath>

namespace exoderm {

namespace {

constexpr double kNgPerMl = 1e-24;      // kg/um^3
constexpr double kNanogram = 1e-12;     // kg
constexpr double kPerMm3PerDay = 1e-9 / 86400.0; // cells/mm^3/day -> cells/um^3/s

double share(double signal, double half) { return signal > 0.0 ? signal / (half + signal) : 0.0; }

int cells_across(double length_um, double spacing_um) {
    // At least three blocks per direction, so every diffusion line is a proper periodic or
    // no-flux line.
    return std::max(3, static_cast<int>(std::lround(length_um / spacing_um)));
}

// Inflammatory share of recruits: EV repair cargo (share e) lowers it towards alpha_min,
// contaminant cargo (share ec) raises it towards alpha_max.
double recruit_alpha(const ResponseSpec& r, double e, double ec) {
    const double alpha = r.alpha - (r.alpha - r.alpha_min) * e + std::max(0.0, r.alpha_max - r.alpha) * ec;
    return std::clamp(alpha, 0.0, 1.0);
}

} // namespace

double recruitment_per_um3_s(double tgf_kg_per_um3) {
    return std::max(0.0, waugh_sherratt_recruitment(tgf_kg_per_um3 / kNgPerMl)) * kPerMm3PerDay;
}

Responses::Responses(const Scenario& s, const Tissue& tissue)
    : scenario_(s), tissue_(tissue), tgf_diffusion_({}, false), tnf_diffusion_({}, false), il10_diffusion_({}, false),
      crowding_smoother_({}, false) {
    const Grid& g = tissue.grid();
    int first_dermis_row = g.nz;
    for (int z = 0; z < g.nz; ++z)
        if (tissue.layer_of_row(z) == Layer::Dermis) {
            first_dermis_row = z;
            break;
        }
    top_um_ = first_dermis_row * g.dz_um;
    const double thickness = std::max(g.depth_um() - top_um_, g.dz_um);
    const double h = s.responses.grid_spacing_um;
    grid_.nx = cells_across(g.size_x_um(), h);
    grid_.ny = cells_across(g.size_y_um(), h);
    grid_.nz = cells_across(thickness, h);
    grid_.dx_um = g.size_x_um() / grid_.nx;
    grid_.dy_um = g.size_y_um() / grid_.ny;
    grid_.dz_um = thickness / grid_.nz;

    // Injured share of each block from 4 x 4 x 4 sub-samples.
    injury_.assign(grid_.size(), 0.0);
    constexpr int kSub = 4;
    for (int z = 0; z < grid_.nz; ++z)
        for (int y = 0; y < grid_.ny; ++y)
            for (int x = 0; x < grid_.nx; ++x) {
                int hit = 0;
                for (int k = 0; k < kSub; ++k)
                    for (int j = 0; j < kSub; ++j)
                        for (int i = 0; i < kSub; ++i)
                            hit += injury_at((x + (i + 0.5) / kSub) * grid_.dx_um, (y + (j + 0.5) / kSub) * grid_.dy_um,
                                             top_um_ + (z + (k + 0.5) / kSub) * grid_.dz_um) > 0.5;
                injury_[grid_.index(x, y, z)] = hit / double(kSub * kSub * kSub);
            }

    const auto& r = s.responses;
    const double resident = s.cells.type(CellType::Macrophage).density_per_um3;
    state_.assign(kVarCount * grid_.size(), 0.0);
    for (std::size_t b = 0; b < grid_.size(); ++b) {
        const double f = injury_[b];
        field_mut(kPhiI)[b] = f * r.initial_inflammatory_per_um3 + (1.0 - f) * resident * r.alpha;
        field_mut(kPhiR)[b] = f * r.initial_repair_per_um3 + (1.0 - f) * resident * (1.0 - r.alpha);
        field_mut(kT)[b] = f * r.initial_tgf_kg_per_um3;
    }
    // Outside injury, recruitment that holds the resident density steady.
    resting_recruitment_ =
        std::max(0.0, resident * (r.d1_per_s - r.k1 * r.k2_per_s * (1.0 - r.k3_um3 * resident)));

    const auto uniform_rows = [&](double d) { return std::vector<double>(static_cast<std::size_t>(grid_.nz), d); };
    tgf_diffusion_ = DiffusionOperator(grid_, false);
    tgf_diffusion_.set_diffusivity(uniform_rows(r.tgf_diffusivity_um2_per_s), {});
    tnf_diffusion_ = DiffusionOperator(grid_, false);
    tnf_diffusion_.set_diffusivity(uniform_rows(r.tnf_diffusivity_um2_per_s), {});
    il10_diffusion_ = DiffusionOperator(grid_, false);
    il10_diffusion_.set_diffusivity(uniform_rows(r.il10_diffusivity_um2_per_s), {});
    // One implicit step with D dt = l^2 smooths the agent density over the length l.
    crowding_smoother_ = DiffusionOperator(grid_, false);
    crowding_smoother_.set_diffusivity(uniform_rows(r.crowding_length_um * r.crowding_length_um), {});
    const ProductFactors product = product_factors(s);
    repair_share_ = product.repair_share();
    inflammatory_share_ = product.inflammatory_share();
    crowding_density_.assign(grid_.size(), 0.0);
    macrophage_signal_.assign(grid_.size(), 0.0);
    collagen_source_[0].assign(grid_.size(), 0.0);
    collagen_source_[1].assign(grid_.size(), 0.0);
}

std::size_t Responses::block_of(double x, double y, double z) const {
    const int ix = std::clamp(static_cast<int>(x / grid_.dx_um), 0, grid_.nx - 1);
    const int iy = std::clamp(static_cast<int>(y / grid_.dy_um), 0, grid_.ny - 1);
    const int iz = std::clamp(static_cast<int>((z - top_um_) / grid_.dz_um), 0, grid_.nz - 1);
    return grid_.index(ix, iy, iz);
}

double Responses::injury_at(double x, double y, double z) const {
    if (!in_dermis(z) && z < top_um_) return 0.0;
    const auto& r = scenario_.responses;
    if (r.injury == InjurySite::Uniform) return 1.0;
    if (r.injury == InjurySite::Wound) {
        const WoundGeometry& wound = tissue_.wound();
        if (wound.in_cavity(x, y, z)) return 0.0; // no tissue left there
        return wound.distance_to_surface_um(x, y, z) <= r.injury_radius_um ? 1.0 : 0.0;
    }
    if (r.injury == InjurySite::Injection) {
        const Grid& box = tissue_.grid();
        const InjectionBolus bolus(scenario_.injection, 0.5 * box.size_x_um(), 0.5 * box.size_y_um());
        return bolus.distance_um(x, y, z) <= r.injury_radius_um ? 1.0 : 0.0;
    }
    const ChannelShape& shape = tissue_.channel_shape();
    const Grid& g = tissue_.grid();
    const bool periodic = scenario_.needles.array_nx == 0;
    for (const auto& c : tissue_.channels()) {
        double dx = x - c.x_um, dy = y - c.y_um;
        if (periodic) {
            dx -= g.size_x_um() * std::round(dx / g.size_x_um());
            dy -= g.size_y_um() * std::round(dy / g.size_y_um());
        }
        const double rho = shape.shape == NeedleShape::Cone ? std::hypot(dx, dy) : std::max(std::abs(dx), std::abs(dy));
        // Distance to the channel wall (inside the channel counts as injured too).
        double distance;
        if (z <= shape.depth_um)
            distance = std::max(0.0, rho - shape.mouth_half_width_um * (1.0 - z / shape.depth_um));
        else
            distance = std::hypot(rho, z - shape.depth_um);
        if (distance <= r.injury_radius_um) return 1.0;
    }
    return 0.0;
}

void Responses::sense(const CellPopulation& cells) {
    std::vector<double> count_sum(grid_.size(), 0.0), signal_sum(grid_.size(), 0.0);
    const bool agents = scenario_.responses.macrophages == MacrophageMode::Agents;
    auto phi_i = field_mut(kPhiI), phi_r = field_mut(kPhiR);
    if (agents) {
        std::fill(phi_i.begin(), phi_i.end(), 0.0);
        std::fill(phi_r.begin(), phi_r.end(), 0.0);
    }
    std::fill(collagen_source_[0].begin(), collagen_source_[0].end(), 0.0);
    std::fill(collagen_source_[1].begin(), collagen_source_[1].end(), 0.0);
    const auto& r = scenario_.responses;
    const double block_volume = grid_.voxel_volume_um3();
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (cells.type[i] == CellType::Keratinocyte) continue;
        const std::size_t b = block_of(cells.x_um[i], cells.y_um[i], cells.z_um[i]);
        const double e = share(repair_share_ * cells.signal[i], r.ev_half_effect);
        if (cells.type[i] == CellType::Fibroblast) {
            const double f3 = r.collagen3_fraction + (r.collagen3_fraction_ev - r.collagen3_fraction) * e;
            const double rate = r.collagen_rate_kg_per_s * (1.0 + r.collagen_ev_gain * e) / block_volume;
            collagen_source_[0][b] += rate * (1.0 - f3);
            collagen_source_[1][b] += rate * f3;
            continue;
        }
        count_sum[b] += 1.0;
        signal_sum[b] += cells.signal[i];
        if (agents) (cells.state[i] == MacrophageState::Inflammatory ? phi_i : phi_r)[b] += 1.0 / block_volume;
    }
    for (std::size_t b = 0; b < grid_.size(); ++b)
        macrophage_signal_[b] = count_sum[b] > 0.0 ? signal_sum[b] / count_sum[b] : 0.0;
    for (std::size_t b = 0; b < grid_.size(); ++b) crowding_density_[b] = phi_i[b] + phi_r[b];
    if (agents && r.crowding_length_um > 0.0) crowding_smoother_.step(crowding_density_, 1.0, nullptr);
}

namespace {

// The block reactions: Waugh-Sherratt with EV coupling, cytokine readouts and collagen.
struct BlockSystem {
    const ResponseSpec& r;
    std::size_t n;
    bool densities_evolve;
    const double* injury;
    const double* macrophage_signal;
    const double* collagen1_source;
    const double* collagen3_source;
    double resting_recruitment;
    double repair_share;
    double inflammatory_share;

    void operator()(const std::vector<double>& x, std::vector<double>& dxdt, double) const {
        const double proliferation = r.k1 * r.k2_per_s;
        const double tnf_decay = std::log(2.0) / r.tnf_half_life_s;
        const double il10_decay = std::log(2.0) / r.il10_half_life_s;
        const double collagen_decay = std::log(2.0) / r.collagen_half_life_s;
        for (std::size_t b = 0; b < n; ++b) {
            const double phi_i = x[b], phi_r = x[n + b], t = x[2 * n + b];
            const double e = share(repair_share * macrophage_signal[b], r.ev_half_effect);
            const double ec = share(inflammatory_share * macrophage_signal[b], r.contaminant_half_effect);
            if (densities_evolve) {
                const double alpha = recruit_alpha(r, e, ec);
                const double recruits =
                    injury[b] * recruitment_per_um3_s(t) + (1.0 - injury[b]) * resting_recruitment;
                const double crowd = 1.0 - r.k3_um3 * (phi_i + phi_r);
                const double switching = r.switch_max_per_s * e * phi_i - r.switch_back_max_per_s * ec * phi_r;
                dxdt[b] = alpha * recruits + proliferation * phi_i * crowd - r.d1_per_s * phi_i - switching;
                dxdt[n + b] = (1.0 - alpha) * recruits + proliferation * phi_r * crowd - r.d1_per_s * phi_r + switching;
            } else {
                dxdt[b] = 0.0;
                dxdt[n + b] = 0.0;
            }
            dxdt[2 * n + b] = r.tgf_secretion_kg_per_s * phi_i - r.d2_per_s * t;
            dxdt[3 * n + b] = r.tnf_secretion_kg_per_s * phi_i - tnf_decay * x[3 * n + b];
            dxdt[4 * n + b] = r.il10_secretion_kg_per_s * phi_r - il10_decay * x[4 * n + b];
            const double tgf_gain = 1.0 + r.collagen_tgf_gain * share(t, r.collagen_tgf_half_kg_per_um3);
            dxdt[5 * n + b] = collagen1_source[b] * tgf_gain - collagen_decay * x[5 * n + b];
            dxdt[6 * n + b] = collagen3_source[b] * tgf_gain - collagen_decay * x[6 * n + b];
        }
    }
};

} // namespace

void Responses::integrate_blocks(const CellPopulation&, double dt_s) {
    namespace odeint = boost::numeric::odeint;
    const auto& r = scenario_.responses;
    const bool evolve = r.macrophages == MacrophageMode::MeanField;
    const BlockSystem system{r,
                             grid_.size(),
                             evolve,
                             injury_.data(),
                             macrophage_signal_.data(),
                             collagen_source_[0].data(),
                             collagen_source_[1].data(),
                             resting_recruitment_,
                             repair_share_,
                             inflammatory_share_};
    const double fastest = std::max({r.d2_per_s, std::log(2.0) / r.tnf_half_life_s, std::log(2.0) / r.il10_half_life_s,
                                     r.d1_per_s + r.switch_max_per_s + r.switch_back_max_per_s + r.k1 * r.k2_per_s});
    const int substeps = std::max(1, static_cast<int>(std::ceil(dt_s * fastest / 0.1)));
    odeint::runge_kutta4<std::vector<double>> stepper;
    odeint::integrate_n_steps(stepper, system, state_, 0.0, dt_s / substeps, substeps);
}

void Responses::step(CellPopulation& cells, double dt_s, std::uint32_t step_index,
                     std::array<double, kCellTypeCount>& retired_out) {
    sense(cells);
    const std::vector<double> tgf_start(field(kT).begin(), field(kT).end());
    integrate_blocks(cells, dt_s);
    tgf_diffusion_.step(field_mut(kT), dt_s, nullptr);
    tnf_diffusion_.step(field_mut(kTnf), dt_s, nullptr);
    il10_diffusion_.step(field_mut(kIl10), dt_s, nullptr);
    if (scenario_.responses.macrophages == MacrophageMode::Agents)
        macrophage_events(cells, dt_s, step_index, tgf_start, retired_out);
}

void Responses::macrophage_events(CellPopulation& cells, double dt_s, std::uint32_t step_index,
                                  std::span<const double> tgf_start, std::array<double, kCellTypeCount>& retired_out) {
    const auto& r = scenario_.responses;
    const std::uint64_t seed = scenario_.seed;
    const Grid& tg = tissue_.grid();
    const double bottom = top_um_ + grid_.depth_um();
    const double sigma = std::sqrt(2.0 * scenario_.cells.macrophage_motility_um2_per_s * dt_s);
    const double death_p = -std::expm1(-r.d1_per_s * dt_s);
    const auto wrap = [](double v, double size) {
        v = std::fmod(v, size);
        return v < 0.0 ? v + size : v;
    };
    const auto reflect = [&](double z) {
        for (int k = 0; k < 4 && (z < top_um_ || z >= bottom); ++k) z = z < top_um_ ? 2.0 * top_um_ - z : 2.0 * bottom - z;
        return std::clamp(z, top_um_, std::nextafter(bottom, top_um_));
    };
    const auto voxel_of = [&](double x, double y, double z) {
        const int ix = std::clamp(static_cast<int>(x / tg.dx_um), 0, tg.nx - 1);
        const int iy = std::clamp(static_cast<int>(y / tg.dy_um), 0, tg.ny - 1);
        const int iz = std::clamp(static_cast<int>(z / tg.dz_um), 0, tg.nz - 1);
        return static_cast<std::uint32_t>(tg.index(ix, iy, iz));
    };

    struct Newborn {
        double x, y, z;
        MacrophageState state;
        double bound, internalised, signal, captured, released, digested;
    };
    std::vector<Newborn> born;
    std::vector<std::uint8_t> keep(cells.size(), 1);
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (cells.type[i] != CellType::Macrophage) continue;
        const std::uint64_t id = cells.id[i];
        prng::UniformStream u(prng::id_low(id), seed, step_index, prng::id_purpose(id, prng::kFate));
        const std::size_t b = block_of(cells.x_um[i], cells.y_um[i], cells.z_um[i]);
        const double growth = r.k1 * r.k2_per_s * (1.0 - r.k3_um3 * crowding_density_[b]);
        const double u_death = u.next(), u_growth = u.next(), u_switch = u.next();
        const double g0 = prng::normal_quantile(u.next()), g1 = prng::normal_quantile(u.next()),
                     g2 = prng::normal_quantile(u.next());
        bool dies = u_death < death_p;
        bool divides = false;
        if (growth > 0.0) divides = !dies && u_growth < -std::expm1(-growth * dt_s);
        else dies = dies || u_growth < -std::expm1(growth * dt_s);
        if (dies) {
            keep[i] = 0;
            retired_out[static_cast<std::size_t>(CellType::Macrophage)] +=
                cells.bound[i] + cells.internalised[i] + cells.digested[i];
            continue;
        }
        if (cells.state[i] == MacrophageState::Inflammatory) {
            const double s = r.switch_max_per_s * share(repair_share_ * cells.signal[i], r.ev_half_effect);
            if (u_switch < -std::expm1(-s * dt_s)) cells.state[i] = MacrophageState::Repair;
        } else {
            const double s = r.switch_back_max_per_s * share(inflammatory_share_ * cells.signal[i], r.contaminant_half_effect);
            if (u_switch < -std::expm1(-s * dt_s)) cells.state[i] = MacrophageState::Inflammatory;
        }
        cells.x_um[i] = wrap(cells.x_um[i] + sigma * g0, tg.size_x_um());
        cells.y_um[i] = wrap(cells.y_um[i] + sigma * g1, tg.size_y_um());
        cells.z_um[i] = reflect(cells.z_um[i] + sigma * g2);
        cells.voxel[i] = voxel_of(cells.x_um[i], cells.y_um[i], cells.z_um[i]);
        if (divides) {
            // The daughter takes half of the vesicles; both keep the cargo signal.
            for (auto* v : {&cells.bound, &cells.internalised, &cells.captured, &cells.released, &cells.digested})
                (*v)[i] *= 0.5;
            born.push_back({cells.x_um[i], cells.y_um[i], cells.z_um[i], cells.state[i], cells.bound[i],
                            cells.internalised[i], cells.signal[i], cells.captured[i], cells.released[i],
                            cells.digested[i]});
        }
    }
    // Recruits per block, from the TGF-beta at the start of the step.
    const double block_volume = grid_.voxel_volume_um3();
    for (int z = 0; z < grid_.nz; ++z)
        for (int y = 0; y < grid_.ny; ++y)
            for (int x = 0; x < grid_.nx; ++x) {
                const std::size_t b = grid_.index(x, y, z);
                const double rate =
                    injury_[b] * recruitment_per_um3_s(tgf_start[b]) + (1.0 - injury_[b]) * resting_recruitment_;
                prng::UniformStream u(static_cast<std::uint32_t>(b), seed, step_index, prng::kRecruit);
                const std::int64_t n = prng::poisson(rate * block_volume * dt_s, u);
                const double e = share(repair_share_ * macrophage_signal_[b], r.ev_half_effect);
                const double ec = share(inflammatory_share_ * macrophage_signal_[b], r.contaminant_half_effect);
                const double alpha = recruit_alpha(r, e, ec);
                for (std::int64_t k = 0; k < n; ++k) {
                    const double px = (x + u.next()) * grid_.dx_um;
                    const double py = (y + u.next()) * grid_.dy_um;
                    const double pz = reflect(top_um_ + (z + u.next()) * grid_.dz_um);
                    const auto state = u.next() < alpha ? MacrophageState::Inflammatory : MacrophageState::Repair;
                    born.push_back({px, py, pz, state, 0, 0, 0, 0, 0, 0});
                }
            }
    cells.compact(keep);
    for (const auto& nb : born) {
        const std::size_t i =
            cells.add(nb.x, nb.y, nb.z, CellType::Macrophage, nb.state, voxel_of(nb.x, nb.y, nb.z));
        cells.bound[i] = nb.bound;
        cells.internalised[i] = nb.internalised;
        cells.signal[i] = nb.signal;
        cells.captured[i] = nb.captured;
        cells.released[i] = nb.released;
        cells.digested[i] = nb.digested;
    }
}

ResponseReadout Responses::readout(const CellPopulation& cells) const {
    ResponseReadout out;
    const double block_volume = grid_.voxel_volume_um3();
    // Concentrations and macrophage states are read where the injury is (weighted by the
    // injured share of each block), or over the whole dermis when nothing is injured.
    double injured = 0.0;
    for (double f : injury_) injured += f;
    const auto weight = [&](std::size_t b) { return injured > 0.0 ? injury_[b] : 1.0; };
    double weight_sum = 0.0;
    for (std::size_t b = 0; b < grid_.size(); ++b) weight_sum += weight(b);
    if (scenario_.responses.macrophages == MacrophageMode::Agents) {
        for (std::size_t i = 0; i < cells.size(); ++i) {
            if (cells.type[i] != CellType::Macrophage) continue;
            const double w = weight(block_of(cells.x_um[i], cells.y_um[i], cells.z_um[i]));
            (cells.state[i] == MacrophageState::Inflammatory ? out.inflammatory : out.repair) += w;
        }
    } else {
        for (std::size_t b = 0; b < grid_.size(); ++b) {
            out.inflammatory += field(kPhiI)[b] * block_volume * weight(b);
            out.repair += field(kPhiR)[b] * block_volume * weight(b);
        }
    }
    const double total = out.inflammatory + out.repair;
    out.repair_fraction = total > 0.0 ? out.repair / total : 0.0;
    const auto mean_ng_per_ml = [&](std::span<const double> f) {
        double sum = 0.0;
        for (std::size_t b = 0; b < f.size(); ++b) sum += f[b] * weight(b);
        return weight_sum > 0.0 ? sum / weight_sum / kNgPerMl : 0.0;
    };
    const auto amount_ng = [&](std::span<const double> f) {
        double sum = 0.0;
        for (double v : f) sum += v;
        return sum * block_volume / kNanogram;
    };
    out.tgf_beta_ng_per_ml = mean_ng_per_ml(field(kT));
    out.tnf_ng_per_ml = mean_ng_per_ml(field(kTnf));
    out.il10_ng_per_ml = mean_ng_per_ml(field(kIl10));
    out.collagen1_ng = amount_ng(field(kCol1));
    out.collagen3_ng = amount_ng(field(kCol3));
    return out;
}

template <class IO>
void Responses::exchange_state(IO& io) {
    io.fixed("injury", injury_);
    io.fixed("state", state_);
    io.fixed("crowding_density", crowding_density_);
    io.fixed("macrophage_signal", macrophage_signal_);
    io.fixed("collagen_source_I", collagen_source_[0]);
    io.fixed("collagen_source_III", collagen_source_[1]);
}

void Responses::save_state(StateWriter& out) const {
    const_cast<Responses*>(this)->exchange_state(out); // a writer only reads the state
}

void Responses::load_state(const StateReader& in) { exchange_state(in); }

} // namespace exoderm
