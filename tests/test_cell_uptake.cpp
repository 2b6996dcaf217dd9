// Vesicle capture by cells and what the cells do with it (MODEL.md sections 5 and 8), checked
// against closed forms:
//
//   capture rate constant   k = kD kR / (kD + kR),  kD = 4 pi D R,  kR = k_on (R_max - B)
//   voxel survival          exp(-sum_i k_i dt / V)  over one step, for any dt
//   binding at constant C   B(t) = B_ss (1 - exp(-(k_on C + k_off + k_int) t))
//   well-mixed drain        C(t) = C0 exp(-k n t),  n = cells per volume
//
// plus the bookkeeping the dose balance relies on (a voxel never gives more than it holds, every
// captured vesicle leaves the field, B + N + released + digested = captured for every cell), the
// statistics of the stochastic draws, and independence of the thread count.
#include "model/grid.hpp"
#include "solvers/cell_population.hpp"
#include "solvers/cell_signalling.hpp"
#include "solvers/cell_uptake.hpp"
#include "solvers/particle_rng.hpp"

#include <catch2/catch.hpp>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

using namespace exoderm;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kEps = std::numeric_limits<double>::epsilon();

double rel_diff(double a, double b) {
    const double scale = std::max(std::abs(a), std::abs(b));
    return scale == 0.0 ? 0.0 : std::abs(a - b) / scale;
}

// One size class per entry of d0; every grid row with hindrance 1 unless given.
UptakeSetup make_setup(const Grid& g, std::vector<double> d0, bool stochastic, std::uint64_t seed = 12345,
                       std::vector<double> hindrance = {}) {
    UptakeSetup s;
    if (hindrance.empty()) hindrance.assign(static_cast<std::size_t>(g.nz), 1.0);
    s.row_hindrance = std::move(hindrance);
    s.class_d0_um2_per_s = std::move(d0);
    s.plane = g.plane();
    s.voxel_volume_um3 = g.voxel_volume_um3();
    s.stochastic = stochastic;
    s.seed = seed;
    return s;
}

void set_type(UptakeSetup& s, CellType t, double k_on, double receptors, double radius) {
    s.types[static_cast<std::size_t>(t)] = {k_on, receptors, radius};
}

// Spans over the class fields, as capture_step takes them.
struct Fields {
    std::vector<std::vector<double>> data;
    std::vector<std::span<double>> spans;
    Fields(std::size_t classes, std::size_t voxels, double value = 0.0)
        : data(classes, std::vector<double>(voxels, value)) {
        for (auto& d : data) spans.emplace_back(d);
    }
    std::span<const std::span<double>> view() const { return spans; }
    double amount(double volume) const {
        double sum = 0.0;
        for (const auto& d : data)
            for (double c : d) sum += c * volume;
        return sum;
    }
};

// One cell of `type` at the centre of every voxel.
CellPopulation one_cell_per_voxel(const Grid& g, CellType type) {
    CellPopulation cells;
    for (int z = 0; z < g.nz; ++z)
        for (int y = 0; y < g.ny; ++y)
            for (int x = 0; x < g.nx; ++x)
                cells.add(g.x_centre_um(x), g.y_centre_um(y), g.z_centre_um(z), type, MacrophageState::None,
                          static_cast<std::uint32_t>(g.index(x, y, z)));
    return cells;
}

struct MeanVar {
    double mean = 0.0, var = 0.0;
};
MeanVar mean_var(const std::vector<double>& v) {
    MeanVar m;
    for (double x : v) m.mean += x;
    m.mean /= static_cast<double>(v.size());
    for (double x : v) m.var += (x - m.mean) * (x - m.mean);
    m.var /= static_cast<double>(v.size() - 1);
    return m;
}

} // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("Binding at constant concentration follows B(t) = B_ss (1 - exp(-(k_on C + k_off + k_int) t))",
          "[uptake][cells][analytic]") {
    // One keratinocyte, mean-field, reaction-limited: D0 = 1e12 um^2/s makes kD = 4 pi D R
    // ~ 1e14 um^3/s against kR <= k_on R_max = 100 um^3/s, so k = kR to 1e-12. The concentration
    // is held constant by resetting the voxel's field to C before every step (the voxel is also
    // large, V = 1e9 um^3, so that C V (1 - exp(-k dt / V)) = k C dt to 5e-8 relative).
    //
    // Splitting error: capture uses the free sites R_max - B at the start of the step, and the
    // signalling step then carries B with a constant inflow. The scheme keeps B_ss exactly and
    // relaxes at lambda (1 + a dt / 2) instead of lambda (a = k_on C, lambda = a + k_off + k_int),
    // so the relative error in B(t) is (a dt / 2) lambda t e^(-lambda t) / (1 - e^(-lambda t))
    // <= a dt / 2: 1e-3 at dt = 1 s here, first order in dt. (RK4 with lambda h <= 0.2 adds
    // < 1e-9.)
    const double k_on = 1e-2, r_max = 1e4, radius = 7.5, c = 0.2; // k_on C = 2e-3 /s
    const double k_off = 1e-3, k_int = 1e-3;
    const double a = k_on * c, lambda = a + k_off + k_int;
    const double b_ss = a * r_max / lambda; // 5000 vesicles
    const Grid g{1, 1, 1, 1000.0, 1000.0, 1000.0};
    UptakeSetup up = make_setup(g, {1e12}, false);
    set_type(up, CellType::Keratinocyte, k_on, r_max, radius);
    SignallingSetup sig;
    sig.types[0] = {k_off, k_int, 1e-3, 1e-3};
    sig.potency = 1.0;

    const std::vector<double> times{50.0, 125.0, 250.0, 500.0, 1000.0, 2000.0}; // lambda t = 0.2 .. 8
    auto run = [&](double dt) {
        CellPopulation cells;
        cells.add(500.0, 500.0, 500.0, CellType::Keratinocyte, MacrophageState::None, 0);
        const VoxelGroups groups = group_by_voxel(cells);
        Fields f(1, 1);
        std::vector<double> captured(1), released(1);
        std::vector<double> errors;
        double t = 0.0;
        std::uint32_t step = 0;
        for (double t_check : times) {
            while (t < t_check - 1e-9) {
                f.data[0][0] = c;
                capture_step(up, cells, groups, f.view(), dt, step++, captured);
                signalling_step(sig, cells, captured, dt, released);
                t += dt;
            }
            const double exact = b_ss * (1.0 - std::exp(-lambda * t));
            errors.push_back(rel_diff(cells.bound[0], exact));
            INFO("dt " << dt << " t " << t << " B " << cells.bound[0] << " exact " << exact);
            CHECK(errors.back() <= 1.1 * a * dt / 2.0);
        }
        return errors;
    };
    const auto e1 = run(1.0);
    const auto e2 = run(0.5);
    const double worst = *std::max_element(e1.begin(), e1.end());
    INFO("max relative error dt 1 s: " << worst << " (bound a dt / 2 = " << a / 2.0 << ")");
    CHECK(worst <= 1e-3);
    CHECK(worst >= 1e-5); // the splitting error is there (the test sees it), and ...
    for (std::size_t i = 0; i < e1.size(); ++i) {
        // ... it is first order: halving dt halves it.
        INFO("t " << times[i] << " error dt 1 s " << e1[i] << " dt 0.5 s " << e2[i]);
        CHECK(e1[i] / e2[i] == Approx(2.0).epsilon(0.05));
        // and it matches the predicted (a dt / 2) lambda t e^(-lambda t) / (1 - e^(-lambda t)).
        const double lt = lambda * times[i];
        CHECK(e1[i] == Approx(a / 2.0 * lt * std::exp(-lt) / -std::expm1(-lt)).epsilon(0.05));
    }
}

TEST_CASE("First-order uptake: the voxel's survival is exp(-k dt / V) for any time step",
          "[uptake][cells][analytic]") {
    // One macrophage in a 10 um cube, mean-field; R_max = 1e12 so the free sites never change
    // (B is not advanced here), k = kD kR / (kD + kR) with kR = 100 and kD = 4 pi 5 7.5 um^3/s.
    const Grid g{1, 1, 1, 10.0, 10.0, 10.0};
    const double v = g.voxel_volume_um3();
    const double d0 = 5.0, radius = 7.5, k_on = 1e-10, r_max = 1e12;
    UptakeSetup up = make_setup(g, {d0}, false);
    set_type(up, CellType::Macrophage, k_on, r_max, radius);
    const double kd = 4.0 * kPi * d0 * radius, kr = k_on * r_max;
    const double k = capture_rate_constant(k_on, r_max, d0, radius);
    REQUIRE(k == Approx(kd * kr / (kd + kr)).epsilon(1e-14));

    CellPopulation cells;
    cells.add(5.0, 5.0, 5.0, CellType::Macrophage, MacrophageState::Inflammatory, 0);
    const VoxelGroups groups = group_by_voxel(cells);
    std::vector<double> captured(1);
    const double n0 = 123.456;

    double worst_one = 0.0, worst_split = 0.0;
    for (double x : {1e-3, 1e-2, 0.1, 1.0, 3.0, 10.0}) {
        const double dt = x * v / k;
        Fields f(1, 1, n0 / v);
        const double taken = capture_step(up, cells, groups, f.view(), dt, 0, captured);
        const double left = f.data[0][0] * v;
        const double expected = n0 * std::exp(-x);
        INFO("k dt / V " << x << " left " << left << " expected " << expected);
        worst_one = std::max(worst_one, rel_diff(left, expected));
        CHECK(rel_diff(left, expected) <= 1e-12);
        CHECK(rel_diff(taken, n0 * -std::expm1(-x)) <= 1e-12);
        CHECK(captured[0] == taken);

        // n steps of dt / n: the same survival (first-order loss composes exactly).
        for (int n : {2, 10, 1000}) {
            Fields fn(1, 1, n0 / v);
            for (int s = 0; s < n; ++s)
                capture_step(up, cells, groups, fn.view(), dt / n, static_cast<std::uint32_t>(s), captured);
            INFO("n " << n << " left " << fn.data[0][0] * v);
            worst_split = std::max(worst_split, rel_diff(fn.data[0][0] * v, expected));
            CHECK(rel_diff(fn.data[0][0] * v, expected) <= 1e-12);
        }
    }
    INFO("max relative error, one step: " << worst_one << "; n steps: " << worst_split);
    CHECK(worst_one <= 1e-12);
}

TEST_CASE("The well-mixed drain: C0 exp(-k n t)", "[uptake][cells][analytic]") {
    // Exactly one identical fibroblast per voxel (n = 1 / V) and a uniform C0: every voxel is
    // the well-mixed tissue, and C(t) = C0 exp(-k n t) with k = kD kR / (kD + kR) for the
    // voxel's D = hindrance(row) D0(class). Rows have different hindrances and there are two
    // size classes, so k differs per (row, class). B is not advanced, and R_max is huge: within
    // a step the classes are taken in turn and each one's captures use up free sites before the
    // next, which changes the later class's kR by captured / R_max (1e-15 here, 4e-11 at
    // R_max = 1e11), so k is constant to round-off.
    const double radius = 6.0, k_on = 1e-13, r_max = 1e15; // kR = 100 um^3/s
    const std::vector<double> d0{4.0, 1.5};
    const std::vector<double> hindrance{1.0, 0.4};
    const double dt = 20.0;
    const int steps = 5;
    const double t = dt * steps;

    SECTION("mean-field: to round-off") {
        const Grid g{6, 5, 2, 12.0, 12.0, 12.0};
        const double v = g.voxel_volume_um3();
        UptakeSetup up = make_setup(g, d0, false, 1, hindrance);
        set_type(up, CellType::Fibroblast, k_on, r_max, radius);
        const CellPopulation cells = one_cell_per_voxel(g, CellType::Fibroblast);
        const VoxelGroups groups = group_by_voxel(cells);
        REQUIRE(groups.groups() == g.size());
        const double c0 = 3.7e-3;
        Fields f(d0.size(), g.size(), c0);
        std::vector<double> captured(cells.size());
        for (int s = 0; s < steps; ++s)
            capture_step(up, cells, groups, f.view(), dt, static_cast<std::uint32_t>(s), captured);
        double worst = 0.0;
        for (std::size_t k = 0; k < d0.size(); ++k)
            for (int z = 0; z < g.nz; ++z) {
                const double rate = capture_rate_constant(k_on, r_max, hindrance[z] * d0[k], radius);
                const double expected = c0 * std::exp(-rate * (1.0 / v) * t);
                for (int y = 0; y < g.ny; ++y)
                    for (int x = 0; x < g.nx; ++x) worst = std::max(worst, rel_diff(f.data[k][g.index(x, y, z)], expected));
            }
        INFO("max relative error " << worst);
        CHECK(worst <= 1e-12);
    }

    SECTION("stochastic: the mean over voxels within 4 standard errors") {
        const Grid g{30, 30, 2, 12.0, 12.0, 12.0};
        const double v = g.voxel_volume_um3();
        UptakeSetup up = make_setup(g, {d0[0]}, true, 987654321, hindrance);
        set_type(up, CellType::Fibroblast, k_on, r_max, radius);
        const CellPopulation cells = one_cell_per_voxel(g, CellType::Fibroblast);
        const VoxelGroups groups = group_by_voxel(cells);
        const double n0 = 20000.4; // vesicles per voxel: almost all whole
        Fields f(1, g.size(), n0 / v);
        std::vector<double> captured(cells.size());
        for (int s = 0; s < steps; ++s)
            capture_step(up, cells, groups, f.view(), dt, static_cast<std::uint32_t>(s), captured);
        for (int z = 0; z < g.nz; ++z) {
            const double rate = capture_rate_constant(k_on, r_max, hindrance[z] * d0[0], radius);
            const double survival = std::exp(-rate * t / v);
            std::vector<double> left;
            for (std::size_t i = 0; i < g.plane(); ++i) left.push_back(f.data[0][z * g.plane() + i] * v);
            const MeanVar m = mean_var(left);
            // The whole vesicles are thinned binomially: variance N0 S (1 - S) per voxel.
            const double var = n0 * survival * (1.0 - survival);
            const double se = std::sqrt(var / static_cast<double>(left.size()));
            INFO("row " << z << " survival " << survival << " mean left " << m.mean << " expected " << n0 * survival
                        << " SE " << se << " variance " << m.var << " expected " << var);
            CHECK(std::abs(m.mean - n0 * survival) <= 4.0 * se);
            CHECK(m.var == Approx(var).epsilon(0.25)); // 900 samples: 5 SE of a sample variance
            CHECK(*std::min_element(left.begin(), left.end()) >= 0.0);
        }
    }
}

TEST_CASE("Capture never exceeds the diffusion-limited ceiling 4 pi D R C", "[uptake][cells][analytic]") {
    // k_on R_max swept from 1e-6 to 1e9 times kD: from reaction-limited to diffusion-limited.
    const Grid g{1, 1, 1, 20.0, 20.0, 20.0};
    const double v = g.voxel_volume_um3();
    const double d0 = 5.0, hindrance = 0.6, radius = 7.5, r_max = 1e5;
    const double d = hindrance * d0;
    const double kd = 4.0 * kPi * d * radius; // the ceiling per unit concentration
    const double c = 0.05, dt = 2.0;
    CellPopulation cells;
    cells.add(10.0, 10.0, 10.0, CellType::Keratinocyte, MacrophageState::None, 0);
    const VoxelGroups groups = group_by_voxel(cells);
    std::vector<double> captured(1);
    double closest = 0.0;
    for (int e = -6; e <= 9; ++e) {
        const double kr = kd * std::pow(10.0, e);
        const double k_on = kr / r_max;
        const double k = capture_rate_constant(k_on, r_max, d, radius);
        INFO("kR / kD = 1e" << e << ": k / kD = " << k / kd);
        CHECK(k <= kd);
        // k = kR kD / (kD + kR): below both, and the deficit from the ceiling is kD / (kD + kR).
        CHECK(k <= kr);
        CHECK(1.0 - k / kd == Approx(kd / (kd + kr)).epsilon(1e-9).margin(4 * kEps));
        if (e <= -4) CHECK(k == Approx(kr).epsilon(2e-4)); // reaction-limited: k -> kR
        if (e >= 3) CHECK(k >= kd * (1.0 - 1.01 * kd / kr)); // diffusion-limited: k -> kD

        UptakeSetup up = make_setup(g, {d0}, false, 1, {hindrance});
        set_type(up, CellType::Keratinocyte, k_on, r_max, radius);
        Fields f(1, 1, c);
        const double taken = capture_step(up, cells, groups, f.view(), dt, 0, captured);
        const double ceiling = kd * c * dt;
        INFO("captured " << taken << " ceiling 4 pi D R C dt " << ceiling);
        CHECK(taken <= ceiling);
        CHECK(taken == Approx(c * v * -std::expm1(-k * dt / v)).epsilon(1e-12));
        closest = std::max(closest, taken / ceiling);
    }
    // Approaches the ceiling when k_on R_max >> 4 pi D R: only the voxel's own depletion over
    // the step, 1 - exp(-x) vs x with x = kD dt / V, keeps it below.
    const double x = kd * dt / v;
    INFO("largest captured / ceiling " << closest << " (depletion limit " << -std::expm1(-x) / x << ")");
    CHECK(closest == Approx(-std::expm1(-x) / x).epsilon(1e-8));
    CHECK(closest > 0.95);
}

TEST_CASE("A voxel never gives more than it holds, and every captured vesicle leaves the field",
          "[uptake][cells]") {
    // Stochastic, fractional contents, three cells per voxel of all three types (one nearly
    // saturated) and huge rates (p = 1 - exp(-k dt / V) ~ 1), two size classes.
    const Grid g{3, 4, 2, 10.0, 10.0, 10.0};
    const double v = g.voxel_volume_um3();
    UptakeSetup up = make_setup(g, {5.0, 2.0}, true, 77, {1.0, 0.3});
    set_type(up, CellType::Keratinocyte, 10.0, 50.0, 7.5);
    set_type(up, CellType::Fibroblast, 1.0, 4.0, 9.0);
    set_type(up, CellType::Macrophage, 100.0, 2.5, 10.0);
    CellPopulation cells;
    for (std::uint32_t vox = 0; vox < g.size(); ++vox) {
        cells.add(0, 0, 0, CellType::Keratinocyte, MacrophageState::None, vox);
        cells.add(0, 0, 0, CellType::Fibroblast, MacrophageState::None, vox);
        cells.add(0, 0, 0, CellType::Macrophage, MacrophageState::Repair, vox);
    }
    const VoxelGroups groups = group_by_voxel(cells);
    const std::vector<double> contents{0.3, 1.7, 5.2, 0.0, 12.9, 2.0, 0.999, 40.5, 7.3, 1e-9, 3.0, 0.5};
    std::vector<double> captured(cells.size());
    double worst_balance = 0.0;
    int saturated = 0;
    for (std::uint32_t round = 0; round < 200; ++round) {
        // Fresh contents every round; bound amounts leave 0 .. R_max free sites.
        Fields f(2, g.size());
        for (std::size_t vox = 0; vox < g.size(); ++vox) {
            f.data[0][vox] = contents[(vox + round) % contents.size()] / v;
            f.data[1][vox] = contents[(vox * 7 + round * 3) % contents.size()] / v;
        }
        prng::UniformStream u(round, 5, 0, prng::kTest);
        for (std::size_t i = 0; i < cells.size(); ++i) {
            const double r = up.types[static_cast<std::size_t>(cells.type[i])].receptors;
            cells.bound[i] = r * (u.next() < 0.2 ? 1.0 : u.next());
        }
        const Fields before = f;
        const double dt = round % 2 ? 1e3 : 0.7;
        const double total = capture_step(up, cells, groups, f.view(), dt, round, captured);

        double field_drop = 0.0, cell_sum = 0.0;
        for (std::size_t vox = 0; vox < g.size(); ++vox) {
            double drop = 0.0, held = 0.0;
            for (std::size_t k = 0; k < 2; ++k) {
                REQUIRE(f.data[k][vox] >= 0.0);
                CHECK(f.data[k][vox] <= before.data[k][vox]);
                drop += (before.data[k][vox] - f.data[k][vox]) * v;
                held += before.data[k][vox] * v;
            }
            double mine = 0.0;
            for (std::size_t j = groups.start[vox]; j < groups.start[vox + 1]; ++j) mine += captured[groups.order[j]];
            CHECK(groups.voxels[vox] == vox);
            INFO("round " << round << " voxel " << vox << " held " << held << " field drop " << drop << " captured "
                          << mine);
            CHECK(drop <= held * (1.0 + 1e-15));
            CHECK(std::abs(drop - mine) <= 1e-12 * std::max(1.0, held));
            worst_balance = std::max(worst_balance, std::abs(drop - mine) / std::max(1.0, held));
            field_drop += drop;
            cell_sum += mine;
        }
        CHECK(std::abs(field_drop - cell_sum) <= 1e-12 * std::max(1.0, cell_sum));
        CHECK(std::abs(total - cell_sum) <= 1e-12 * std::max(1.0, cell_sum));
        for (std::size_t i = 0; i < cells.size(); ++i) {
            const double free = up.types[static_cast<std::size_t>(cells.type[i])].receptors - cells.bound[i];
            CHECK(captured[i] >= 0.0);
            CHECK(captured[i] <= free * (1.0 + 1e-15) + 1e-300);
            if (free > 0.0 && captured[i] >= free * (1.0 - 1e-12)) ++saturated;
        }
    }
    INFO("max |field drop - captured| / held: " << worst_balance << "; captures limited by free sites: " << saturated);
    CHECK(worst_balance <= 1e-12);
    CHECK(saturated > 0); // the free-site limit was exercised
}

TEST_CASE("Stochastic capture is unbiased", "[uptake][cells][analytic]") {
    // 20000 voxels, each holding N vesicles, a keratinocyte and a macrophage (different k).
    // Expected capture per voxel N (1 - exp(-(k1 + k2) dt / V)), shared in proportion to k.
    // Small N exercises the binomial's inversion, large N its normal approximation.
    const Grid g{100, 200, 1, 10.0, 10.0, 10.0};
    const double v = g.voxel_volume_um3();
    UptakeSetup up = make_setup(g, {5.0}, true, 2024);
    set_type(up, CellType::Keratinocyte, 1e-9, 1e11, 7.5); // kR = 100
    set_type(up, CellType::Macrophage, 1e-9, 3e11, 10.0);  // kR = 300
    CellPopulation cells;
    for (std::uint32_t vox = 0; vox < g.size(); ++vox) {
        cells.add(0, 0, 0, CellType::Keratinocyte, MacrophageState::None, vox);
        cells.add(0, 0, 0, CellType::Macrophage, MacrophageState::Inflammatory, vox);
    }
    const VoxelGroups groups = group_by_voxel(cells);
    const double k1 = capture_rate_constant(1e-9, 1e11, 5.0, 7.5);
    const double k2 = capture_rate_constant(1e-9, 3e11, 5.0, 10.0);
    const double dt = 0.5 * v / (k1 + k2); // p = 1 - e^-0.5 = 0.39
    const double p = -std::expm1(-(k1 + k2) * dt / v);
    std::vector<double> captured(cells.size());
    for (double n : {12.6, 4000.3}) {
        Fields f(1, g.size(), n / v);
        const double total = capture_step(up, cells, groups, f.view(), dt, 3, captured);
        std::vector<double> per_voxel(g.size()), first(g.size()), second(g.size());
        for (std::size_t vox = 0; vox < g.size(); ++vox) {
            first[vox] = captured[2 * vox];
            second[vox] = captured[2 * vox + 1];
            per_voxel[vox] = first[vox] + second[vox];
        }
        const double m = static_cast<double>(g.size());
        const double whole = std::floor(n);
        const MeanVar all = mean_var(per_voxel), a = mean_var(first), b = mean_var(second);
        // Only the whole vesicles are random: Binomial(floor N, p), and each cell's share is
        // Binomial(floor N, p k_i / K) when thinned in proportion.
        const double q1 = p * k1 / (k1 + k2), q2 = p * k2 / (k1 + k2);
        const double se = std::sqrt(whole * p * (1 - p) / m);
        const double se1 = std::sqrt(whole * q1 * (1 - q1) / m), se2 = std::sqrt(whole * q2 * (1 - q2) / m);
        INFO("N " << n << ": mean captured " << all.mean << " expected " << n * p << " SE " << se << "; cell 1 "
                  << a.mean << " vs " << n * q1 << "; cell 2 " << b.mean << " vs " << n * q2 << "; variance "
                  << all.var << " vs " << whole * p * (1 - p));
        CHECK(std::abs(all.mean - n * p) <= 4.0 * se);
        CHECK(std::abs(a.mean - n * q1) <= 4.0 * se1);
        CHECK(std::abs(b.mean - n * q2) <= 4.0 * se2);
        CHECK(all.var == Approx(whole * p * (1 - p)).epsilon(0.05)); // 20000 samples: ~5 SE
        CHECK(total == Approx(all.mean * m).epsilon(1e-12 * std::sqrt(static_cast<double>(m)))); // summed in another order
    }
}

TEST_CASE("Binomial draws have mean n p and variance n p (1 - p)", "[uptake][cells][rng]") {
    prng::UniformStream edge(2, 1, 0, prng::kTest);
    CHECK(prng::binomial(0, 0.3, edge) == 0);
    CHECK(prng::binomial(17, 0.0, edge) == 0);
    CHECK(prng::binomial(17, 1.0, edge) == 17);
    CHECK(prng::binomial(-3, 0.5, edge) == 0);

    struct Case {
        std::int64_t n;
        double p;
        const char* what;
    };
    // n p (1 - p): 4.2 and 1.6 (inversion, the second through the p > 1/2 mirror), 2400 and
    // 3.6e5 (normal approximation).
    // Each case has its own seed: with common uniforms the four means would move together.
    std::uint64_t seed = 1000;
    for (const Case c : {Case{20, 0.3, "inversion"}, Case{10, 0.8, "inversion, mirrored"},
                         Case{10000, 0.4, "normal approximation"}, Case{2000000, 0.2, "normal approximation"}}) {
        ++seed;
        const int draws = 200000;
        const double nd = static_cast<double>(c.n);
        const double mean = nd * c.p, var = nd * c.p * (1 - c.p);
        std::vector<double> x(draws);
        std::vector<int> histogram(static_cast<std::size_t>(std::min<std::int64_t>(c.n, 100)) + 1, 0);
        for (int i = 0; i < draws; ++i) {
            prng::UniformStream u(static_cast<std::uint32_t>(i), seed, 7, prng::kTest);
            const std::int64_t k = prng::binomial(c.n, c.p, u);
            REQUIRE(k >= 0);
            REQUIRE(k <= c.n);
            x[static_cast<std::size_t>(i)] = static_cast<double>(k);
            if (c.n <= 100) ++histogram[static_cast<std::size_t>(k)];
        }
        const MeanVar m = mean_var(x);
        // SE of the mean sqrt(var / M); of the sample variance var sqrt((kurtosis - 1) / M), the
        // binomial's kurtosis being 3 + (1 - 6 p q) / (n p q).
        const double se_mean = std::sqrt(var / draws);
        const double kurtosis = 3.0 + (1.0 - 6.0 * c.p * (1 - c.p)) / var;
        const double se_var = var * std::sqrt((kurtosis - 1.0) / draws);
        INFO(c.what << " n " << c.n << " p " << c.p << ": mean " << m.mean << " vs " << mean << " (SE " << se_mean
                    << "), variance " << m.var << " vs " << var << " (SE " << se_var << ")");
        CHECK(std::abs(m.mean - mean) <= 4.0 * se_mean);
        CHECK(std::abs(m.var - var) <= 4.0 * se_var);
        if (c.n <= 100) {
            // Inversion is exact: every count's frequency matches the probability mass.
            double pk = std::pow(1 - c.p, nd);
            for (std::int64_t k = 0; k <= c.n; ++k) {
                const double expected = draws * pk;
                INFO("k " << k << " count " << histogram[static_cast<std::size_t>(k)] << " expected " << expected);
                CHECK(std::abs(histogram[static_cast<std::size_t>(k)] - expected) <=
                      5.0 * std::sqrt(expected * (1 - pk)) + 1.0);
                pk *= (nd - k) / (k + 1.0) * c.p / (1 - c.p);
            }
        }
    }
}

TEST_CASE("Cells conserve their vesicles: B + N + released + digested = captured", "[uptake][cells][analytic]") {
    SignallingSetup sig;
    sig.types[0] = {1e-3, 2e-3, 5e-4, 1e-3};
    sig.types[1] = {2e-4, 5e-4, 1e-4, 3e-4};
    sig.types[2] = {5e-3, 1e-2, 2e-3, 2e-2};
    sig.potency = 0.7;
    const std::vector<double> inputs{0.0, 0.37, 12.5, 1e3, 3.3e5, 1e-7};

    SECTION("for step sizes from seconds to hours, to round-off") {
        double worst = 0.0, worst_b = 0.0;
        for (double dt : {1.0, 60.0, 600.0, 3600.0, 6.0 * 3600.0}) {
            CellPopulation cells;
            for (int i = 0; i < 9; ++i)
                cells.add(0, 0, 0, static_cast<CellType>(i % 3), MacrophageState::None, 0);
            std::vector<double> captured(cells.size()), released(cells.size());
            const int substeps = signalling_substeps(sig, dt);
            INFO("dt " << dt << " s: " << substeps << " RK4 sub-steps");
            CHECK(substeps * 0.2 >= dt * 1.5e-2); // fastest rate k_off + k_int = 1.5e-2 /s
            for (int step = 0; step < 12; ++step) {
                for (std::size_t i = 0; i < cells.size(); ++i)
                    captured[i] = inputs[(i + static_cast<std::size_t>(step)) % inputs.size()] * (1.0 + 0.1 * i);
                const std::vector<double> b0 = cells.bound, rel0 = cells.released;
                signalling_step(sig, cells, captured, dt, released);
                for (std::size_t i = 0; i < cells.size(); ++i) {
                    const double held = cells.bound[i] + cells.internalised[i] + cells.released[i] + cells.digested[i];
                    INFO("cell " << i << " step " << step << " B+N+rel+dig " << held << " captured "
                                 << cells.captured[i]);
                    CHECK(std::abs(held - cells.captured[i]) <= 1e-12 * cells.captured[i]);
                    worst = std::max(worst, rel_diff(held, cells.captured[i]));
                    CHECK(cells.bound[i] >= 0.0);
                    CHECK(cells.internalised[i] >= 0.0);
                    CHECK(cells.signal[i] >= 0.0);
                    CHECK(released[i] >= 0.0);
                    CHECK(std::abs(cells.released[i] - rel0[i] - released[i]) <= 1e-13 * cells.captured[i]);
                    // B over the step has the closed form B0 e^(-mu dt) + J/mu (1 - e^(-mu dt)),
                    // mu = k_off + k_int, J = captured / dt; RK4 at mu h <= 0.2 is within
                    // 3.1e-6 per sub-step of the decay factor, < 1e-5 of the scale overall.
                    const auto& r = sig.types[static_cast<std::size_t>(cells.type[i])];
                    const double mu = r.k_off_per_s + r.k_int_per_s;
                    const double exact =
                        b0[i] * std::exp(-mu * dt) + captured[i] / dt / mu * -std::expm1(-mu * dt);
                    const double scale = std::max(b0[i], captured[i] / dt / mu) + 1e-300;
                    CHECK(std::abs(cells.bound[i] - exact) <= 1e-5 * scale);
                    worst_b = std::max(worst_b, std::abs(cells.bound[i] - exact) / scale);
                }
            }
        }
        INFO("max relative balance error " << worst << "; max B error vs closed form " << worst_b);
        CHECK(worst <= 1e-12);
    }

    SECTION("with k_off = k_int = k_lys = 0, B grows by exactly the captured amount") {
        // With no signal either, one RK4 step of a constant inflow: B + dt/6 (J + 2J + 2J + J),
        // exact up to the rounding of the weights (a few eps). With a cargo signal rate the
        // step is cut into ceil(dt k_sig / 0.2) sub-steps, each adding J h with one rounding:
        // B then grows by the captured amount to substeps x eps.
        for (double k_signal : {0.0, 1e-3}) {
            SignallingSetup still;
            for (auto& t : still.types) t = {0.0, 0.0, 0.0, k_signal};
            still.potency = 1.0;
            CellPopulation cells;
            for (int i = 0; i < 6; ++i) cells.add(0, 0, 0, static_cast<CellType>(i % 3), MacrophageState::None, 0);
            std::vector<double> captured(cells.size()), released(cells.size());
            double worst = 0.0;
            for (double dt : {1.0, 3600.0, 86400.0}) {
                const int substeps = signalling_substeps(still, dt);
                const double tolerance = 4.0 * kEps * substeps;
                for (int step = 0; step < 5; ++step) {
                    for (std::size_t i = 0; i < cells.size(); ++i)
                        captured[i] = inputs[(i + static_cast<std::size_t>(step)) % inputs.size()];
                    const std::vector<double> b0 = cells.bound;
                    signalling_step(still, cells, captured, dt, released);
                    for (std::size_t i = 0; i < cells.size(); ++i) {
                        INFO("k_signal " << k_signal << " dt " << dt << " (" << substeps << " sub-steps) B before "
                                         << b0[i] << " captured " << captured[i] << " B after " << cells.bound[i]);
                        CHECK(rel_diff(cells.bound[i], b0[i] + captured[i]) <= tolerance);
                        worst = std::max(worst, rel_diff(cells.bound[i], b0[i] + captured[i]) / (kEps * substeps));
                        CHECK(cells.internalised[i] == 0.0);
                        CHECK(cells.released[i] == 0.0);
                        CHECK(cells.digested[i] == 0.0);
                        CHECK(released[i] == 0.0);
                        CHECK(rel_diff(cells.captured[i], cells.bound[i]) <= 1e-12); // the balance, N = released = digested = 0
                    }
                }
            }
            INFO("k_signal " << k_signal << ": max deviation of B from B0 + captured, in eps x sub-steps: " << worst);
            CHECK(worst <= 4.0);
        }
    }
}

TEST_CASE("Uptake is the same on 1 and 2 threads, bit for bit", "[uptake][cells][threads]") {
    // ~20000 cells placed at random over a 40 x 40 x 12 grid (many voxels with several cells,
    // some with none), random fields in three size classes, random bound amounts; five steps of
    // capture + signalling, stochastic and mean-field.
    const Grid g{40, 40, 12, 8.0, 8.0, 8.0};
    std::vector<double> hindrance(static_cast<std::size_t>(g.nz));
    for (int z = 0; z < g.nz; ++z) hindrance[static_cast<std::size_t>(z)] = z < 4 ? 0.3 : 0.9;
    SignallingSetup sig;
    sig.types[0] = {1e-3, 2e-3, 5e-4, 1e-3};
    sig.types[1] = {2e-4, 5e-4, 1e-4, 3e-4};
    sig.types[2] = {5e-3, 1e-2, 2e-3, 2e-2};
    sig.potency = 0.7;

    struct Outcome {
        CellPopulation cells;
        std::vector<std::vector<double>> fields;
        std::vector<double> captured, released, totals;
    };
    auto run = [&](int threads, bool stochastic) {
        omp_set_num_threads(threads);
        UptakeSetup up = make_setup(g, {4.0, 2.5, 1.0}, stochastic, 0xC0FFEE1234ull, hindrance);
        set_type(up, CellType::Keratinocyte, 2e-3, 5e3, 7.5);
        set_type(up, CellType::Fibroblast, 1e-2, 1e3, 9.0);
        set_type(up, CellType::Macrophage, 5e-2, 2e4, 10.0);
        Outcome out;
        prng::UniformStream u(0, 31, 0, prng::kTest);
        for (int i = 0; i < 20000; ++i) {
            const double x = u.next() * g.size_x_um(), y = u.next() * g.size_y_um();
            // Crowd the top rows: up to tens of cells per voxel there.
            const double z = std::pow(u.next(), 3.0) * g.depth_um();
            const int ix = std::min(g.nx - 1, static_cast<int>(x / g.dx_um));
            const int iy = std::min(g.ny - 1, static_cast<int>(y / g.dy_um));
            const int iz = std::min(g.nz - 1, static_cast<int>(z / g.dz_um));
            const auto type = static_cast<CellType>(static_cast<int>(u.next() * 3.0) % 3);
            const std::size_t c = out.cells.add(x, y, z, type, MacrophageState::None,
                                                static_cast<std::uint32_t>(g.index(ix, iy, iz)));
            out.cells.bound[c] = u.next() * up.types[static_cast<std::size_t>(type)].receptors;
        }
        const VoxelGroups groups = group_by_voxel(out.cells);
        Fields f(3, g.size());
        for (auto& d : f.data)
            for (double& c : d) c = u.next() < 0.1 ? 0.0 : u.next() * 0.05; // up to 25 vesicles per voxel
        std::vector<double> captured(out.cells.size()), released(out.cells.size());
        for (std::uint32_t step = 0; step < 5; ++step) {
            out.totals.push_back(capture_step(up, out.cells, groups, f.view(), 30.0, step, captured));
            signalling_step(sig, out.cells, captured, 30.0, released);
            out.captured.insert(out.captured.end(), captured.begin(), captured.end());
            out.released.insert(out.released.end(), released.begin(), released.end());
        }
        out.fields = f.data;
        return out;
    };
    const auto same = [](const std::vector<double>& a, const std::vector<double>& b) {
        return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
    };
    const int before = omp_get_max_threads();
    for (bool stochastic : {true, false}) {
        const Outcome one = run(1, stochastic);
        for (int repeat = 0; repeat < 2; ++repeat) {
            const Outcome two = run(2, stochastic);
            INFO((stochastic ? "stochastic" : "mean-field") << ", repeat " << repeat);
            CHECK(one.cells.size() == two.cells.size());
            CHECK(same(one.captured, two.captured));
            CHECK(same(one.released, two.released));
            for (std::size_t k = 0; k < one.fields.size(); ++k) CHECK(same(one.fields[k], two.fields[k]));
            CHECK(same(one.cells.bound, two.cells.bound));
            CHECK(same(one.cells.internalised, two.cells.internalised));
            CHECK(same(one.cells.signal, two.cells.signal));
            CHECK(same(one.cells.captured, two.cells.captured));
            CHECK(same(one.cells.released, two.cells.released));
            CHECK(same(one.cells.digested, two.cells.digested));
            // The returned totals (one per step) are an output too.
            for (std::size_t s = 0; s < one.totals.size(); ++s) {
                INFO("step " << s << " total on 1 thread " << one.totals[s] << ", on 2 threads " << two.totals[s]
                             << " (difference " << one.totals[s] - two.totals[s] << ")");
                CHECK(std::memcmp(&one.totals[s], &two.totals[s], sizeof(double)) == 0);
            }
        }
        const double captured_sum = std::accumulate(one.cells.captured.begin(), one.cells.captured.end(), 0.0);
        INFO("vesicles captured over the run " << captured_sum);
        CHECK(captured_sum > 100.0); // the run did something
    }
    omp_set_num_threads(before);
}
