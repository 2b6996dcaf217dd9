// The implicit diffusion step must not depend on the number of OpenMP threads (every line is
// solved on its own, whichever thread takes it) and must conserve mass exactly in a closed
// box. Both are checked on the benchmark geometry: a 100^3 layered box with a cone channel.
#include "model/grid.hpp"
#include "solvers/diffusion.hpp"

#include <catch2/catch.hpp>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <vector>

using namespace exoderm;

namespace {

Grid box() { return Grid{100, 100, 100, 5.0, 5.0, 5.0}; }

std::vector<double> layered_rows(const Grid& g) {
    std::vector<double> d(static_cast<std::size_t>(g.nz));
    for (int z = 0; z < g.nz; ++z) d[static_cast<std::size_t>(z)] = z < 3 ? 0.0 : z < 17 ? 0.29 : 0.88;
    return d;
}

// A cone of lumen (radius 60 um at the surface, 0 at 250 um, D = 5.85 um^2/s) centred off the
// box's symmetry axes, plus a ring of held voxels when asked; mouths on the top row when asked.
std::vector<VoxelOverride> cone(const Grid& g, bool mouths, bool held) {
    std::vector<VoxelOverride> out;
    const double cx = 0.5 * g.size_x_um() + 12.0, cy = 0.5 * g.size_y_um() - 31.0;
    for (int z = 0; z < g.nz; ++z) {
        const double depth = g.z_centre_um(z);
        if (depth >= 250.0) break;
        const double radius = 60.0 * (1.0 - depth / 250.0);
        for (int y = 0; y < g.ny; ++y)
            for (int x = 0; x < g.nx; ++x) {
                const double r = std::hypot(g.x_centre_um(x) - cx, g.y_centre_um(y) - cy);
                if (r < radius)
                    out.push_back({g.index(x, y, z), 5.85, held && z > 5 && r > radius - 6.0, mouths && z == 0});
            }
    }
    return out;
}

std::vector<double> initial_field(const Grid& g) {
    std::vector<double> c(g.size());
    for (std::size_t i = 0; i < c.size(); ++i) c[i] = 1.0 + 0.5 * std::sin(0.37 * static_cast<double>(i));
    return c;
}

struct Run {
    std::vector<double> field;
    std::vector<double> ledger; // per step: inflow, outflow, reservoir amount
};

// Steps with a feeding reservoir and a sink bottom, changing dt and the geometry mid-run.
Run run_with_threads(int threads) {
    const int previous = omp_get_max_threads();
    omp_set_num_threads(threads);
    const Grid g = box();
    DiffusionOperator op(g, true);
    op.set_diffusivity(layered_rows(g), cone(g, true, true));
    Run run{initial_field(g), {}};
    Reservoir reservoir{1e3 * g.size_x_um() * g.size_y_um(), 20.0 * g.size_x_um() * g.size_y_um(), true};
    for (int step = 0; step < 6; ++step) {
        if (step == 3) op.set_diffusivity(layered_rows(g), cone(g, true, false));
        const StepFluxes f = op.step(run.field, step < 4 ? 60.0 : 17.5, &reservoir);
        run.ledger.insert(run.ledger.end(), {f.top_inflow, f.bottom_outflow, reservoir.amount});
    }
    omp_set_num_threads(previous);
    return run;
}

bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

double total(const std::vector<double>& c) {
    double sum = 0.0;
    for (double v : c) sum += v;
    return sum;
}

} // namespace

TEST_CASE("A diffusion step gives bitwise the same result for any number of threads", "[transport][threads]") {
    const Run one = run_with_threads(1);
    for (int threads : {2, 3}) {
        INFO(threads << " threads");
        const Run many = run_with_threads(threads);
        CHECK(bitwise_equal(one.field, many.field));
        CHECK(bitwise_equal(one.ledger, many.ledger));
    }
}

TEST_CASE("A closed box conserves mass to round-off, with channels and any number of threads", "[transport][threads]") {
    const Grid g = box();
    for (int threads : {1, 2}) {
        INFO(threads << " threads");
        const int previous = omp_get_max_threads();
        omp_set_num_threads(threads);
        // No mouths, no sink, no held voxels: periodic sides and closed top and bottom.
        DiffusionOperator op(g, false);
        op.set_diffusivity(layered_rows(g), cone(g, false, false));
        std::vector<double> c = initial_field(g);
        const double before = total(c);
        for (int step = 0; step < 5; ++step) {
            const StepFluxes f = op.step(c, 60.0, nullptr);
            CHECK(f.top_inflow == 0.0);
            CHECK(f.bottom_outflow == 0.0);
        }
        omp_set_num_threads(previous);
        CHECK(std::abs(total(c) - before) <= 1e-12 * before);
    }
}

TEST_CASE("With a reservoir and a sink, what the tissue gains is inflow minus outflow", "[transport][threads]") {
    const Grid g = box();
    DiffusionOperator op(g, true);
    op.set_diffusivity(layered_rows(g), cone(g, true, false));
    std::vector<double> c = initial_field(g);
    const double volume = g.voxel_volume_um3();
    Reservoir reservoir{1e3 * g.size_x_um() * g.size_y_um(), 20.0 * g.size_x_um() * g.size_y_um(), true};
    const double start = total(c) * volume + reservoir.amount;
    double outflow = 0.0;
    for (int step = 0; step < 5; ++step) outflow += op.step(c, 60.0, &reservoir).bottom_outflow;
    CHECK(outflow > 0.0);
    CHECK(reservoir.amount < 1e3 * g.size_x_um() * g.size_y_um());
    const double end = total(c) * volume + reservoir.amount + outflow;
    CHECK(std::abs(end - start) <= 1e-12 * start);
}
