// The field health scan that stops a run on a numerical fault: it finds the first NaN, Inf or
// negative value beyond tolerance, wherever it is, and lets round-off through.
#include "solvers/field_health.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <span>
#include <limits>
#include <vector>

using namespace exoderm;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
} // namespace

TEST_CASE("A healthy field passes the scan, including round-off undershoots within tolerance", "[faults][health]") {
    std::vector<double> field(5000, 1e-3);
    field[17] = 0.0;
    field[4999] = -1e-12 * 1e-3; // round-off of a positivity-preserving solve
    CHECK(scan_field_health(field, kNegativeTolerance * 1e-3).ok());
    CHECK(scan_field_health({}, 0.0).ok());
}

TEST_CASE("The scan names the first NaN, Inf or negative value and its index", "[faults][health]") {
    std::vector<double> field(3000, 2.0); // three blocks of the scan and a partial one
    SECTION("NaN") {
        field[2049] = kNaN;
        field[2500] = -kInf;
        const FieldHealth h = scan_field_health(field, 0.0);
        CHECK(h.problem == FieldProblem::NaN);
        CHECK(h.index == 2049);
    }
    SECTION("+Inf and -Inf") {
        field[1023] = kInf;
        CHECK(scan_field_health(field, 1.0).problem == FieldProblem::Inf);
        CHECK(scan_field_health(field, 1.0).index == 1023);
        field[1023] = -kInf;
        CHECK(scan_field_health(field, 1.0).problem == FieldProblem::Inf);
    }
    SECTION("negative beyond tolerance, in the last partial block") {
        field[2999] = -1e-6;
        CHECK(scan_field_health(field, 1e-7).problem == FieldProblem::Negative);
        CHECK(scan_field_health(field, 1e-7).value == -1e-6);
        CHECK(scan_field_health(field, 1e-5).ok());
    }
    SECTION("an infinite floor checks finiteness only") {
        field[5] = -1e300;
        CHECK(scan_field_health(field, kInf).ok());
        field[4] = -kInf;
        CHECK(scan_field_health(field, kInf).index == 4);
        field[4] = 2.0;
        field[6] = kNaN;
        CHECK(scan_field_health(field, kInf).index == 6);
    }
}

TEST_CASE("A fault is described by time, voxel, position in um and layer", "[faults][health]") {
    Grid g;
    g.nx = 4;
    g.ny = 3;
    g.nz = 5;
    g.dx_um = 10;
    g.dy_um = 20;
    g.dz_um = 2;
    const Tissue tissue(g, {Layer::StratumCorneum, Layer::ViableEpidermis, Layer::ViableEpidermis, Layer::Dermis,
                            Layer::Dermis});
    FieldHealth h;
    h.problem = FieldProblem::NaN;
    h.index = g.index(1, 2, 3);
    h.value = kNaN;
    const std::string text = describe_field_fault(h, "free vesicle concentration", 7200, g, &tissue);
    INFO(text);
    CHECK_THAT(text, Catch::Contains("free vesicle concentration is NaN"));
    CHECK_THAT(text, Catch::Contains("t = 7200 s (2 h)"));
    CHECK_THAT(text, Catch::Contains("voxel 45 (ix 1, iy 2, iz 3; x 15, y 50, z 7 um; dermis)"));
    // On the response grid, depths count from its top (the dermis top).
    CHECK_THAT(describe_field_fault(h, "TNF-alpha", 0, g, nullptr, 100), Catch::Contains("z 107 um; dermis"));
}

TEST_CASE("The test-only fault injection reads <kind>@<time_s> and refuses anything else", "[faults][health]") {
    CHECK(parse_injected_fault("nan@3600").kind == FieldProblem::NaN);
    CHECK(parse_injected_fault("nan@3600").time_s == 3600.0);
    CHECK(parse_injected_fault("inf@0").kind == FieldProblem::Inf);
    CHECK(parse_injected_fault("negative@1.5e3").time_s == 1500.0);
    for (const char* bad : {"", "nan", "nan@", "nan@x", "nan@1h", "zero@5", "@5"})
        CHECK(parse_injected_fault(bad).kind == FieldProblem::None);
    Grid g;
    g.nx = g.ny = g.nz = 3;
    std::vector<double> field(27, 1.0);
    inject_field_fault(field, g, FieldProblem::Negative, 2.0);
    const FieldHealth h = scan_field_health(field, kNegativeTolerance * 2.0);
    CHECK(h.problem == FieldProblem::Negative);
    CHECK(h.index == g.index(1, 1, 1));
}

TEST_CASE("The guard's fused pass sums the size classes bitwise as Transport does and flags any bad value",
          "[faults][health]") {
    // Three classes over 2.5 blocks; values of mixed magnitude so the order of addition matters.
    const std::size_t n = 2600;
    std::vector<std::vector<double>> data(3, std::vector<double>(n));
    for (std::size_t k = 0; k < 3; ++k)
        for (std::size_t i = 0; i < n; ++i) data[k][i] = std::ldexp(1.0 + 0.1 * static_cast<double>((i * 7 + k) % 13), static_cast<int>((i + 5 * k) % 60) - 30);
    data[1][5] = -0.0;
    std::vector<std::span<const double>> classes(data.begin(), data.end());
    std::vector<double> expected(n, 0.0); // what Transport::total_free computes
    for (const auto& c : data)
        for (std::size_t i = 0; i < n; ++i) expected[i] += c[i];
    std::vector<double> total(n, -1.0);
    REQUIRE(sum_classes_if_healthy(classes, 0.0, total));
    CHECK(std::memcmp(total.data(), expected.data(), n * sizeof(double)) == 0);
    CHECK(sum_classes_if_healthy(classes, 0.0, {})); // check only

    SECTION("a bad value in any class fails the pass") {
        for (const double bad : {kNaN, kInf, -kInf, -1.0}) {
            INFO("bad value " << bad);
            data[2][n - 1] = bad;
            CHECK_FALSE(sum_classes_if_healthy(classes, 1e-9, total));
            CHECK_FALSE(sum_classes_if_healthy(classes, 1e-9, {}));
        }
    }
    SECTION("an infinite floor (finiteness only) still fails -Inf") {
        data[0][1000] = -kInf;
        CHECK_FALSE(sum_classes_if_healthy(classes, kInf, {}));
        data[0][1000] = -1e300;
        CHECK(sum_classes_if_healthy(classes, kInf, {}));
    }
    SECTION("at listed voxels: only those are checked and summed") {
        std::vector<double> partial(n, 7.0);
        const std::vector<std::size_t> voxels{3, 3, 2599};
        REQUIRE(sum_classes_at_if_healthy(classes, 0.0, voxels, partial));
        CHECK(partial[3] == expected[3]);
        CHECK(partial[2599] == expected[2599]);
        CHECK(partial[4] == 7.0);
        data[1][2599] = kNaN;
        data[1][100] = kNaN; // not listed: not seen
        CHECK_FALSE(sum_classes_at_if_healthy(classes, 0.0, voxels, {}));
        CHECK(sum_classes_at_if_healthy(classes, 0.0, std::vector<std::size_t>{3}, {}));
    }
}
