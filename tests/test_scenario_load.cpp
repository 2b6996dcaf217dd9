// Scenario files: TOML with units -> validated Scenario, with messages that say where and what.
#include "model/errors.hpp"
#include "model/scenario_load.hpp"
#include "model/scenario_schema.hpp"
#include "model/units.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace exoderm;
using Catch::Matchers::Contains;

namespace {

const std::filesystem::path kSource = EXODERM_SOURCE_DIR;
const std::filesystem::path kDefaultFile = kSource / "scenarios" / "default.toml";

std::string error_of(std::string_view text, const std::vector<std::string>& overrides = {}) {
    try {
        load_scenario_text(text, "scenarios/x.toml", overrides);
    } catch (const InputError& e) {
        return e.what();
    }
    FAIL("no InputError for:\n" << text);
    return {};
}

// Every key of the registry reads back the same value (provenance is left out on purpose),
// plus the fields derived from keys.
void require_same(const Scenario& a, const Scenario& b) {
    for (const auto& key : schema::keys()) {
        const auto va = key.get(a), vb = key.get(b);
        INFO("key " << key.path);
        REQUIRE(va.has_value() == vb.has_value());
        if (va) CHECK(*va == *vb);
    }
    CHECK(a.needles.pitch_um == b.needles.pitch_um);
    CHECK(a.needles.tau_close_s == b.needles.tau_close_s);
    CHECK(a.domain.size_x_um == b.domain.size_x_um);
    CHECK(a.domain.size_y_um == b.domain.size_y_um);
}

void check_round_trip(const Scenario& s) {
    const std::string text = resolved_scenario_toml(s);
    const Scenario again = load_scenario_text(text, "resolved.toml");
    require_same(s, again);
    CHECK(resolved_scenario_toml(again) == text);
}

} // namespace

TEST_CASE("default.toml loads with the documented defaults", "[scenario]") {
    const Scenario s = load_scenario(kDefaultFile);
    CHECK(s.name == "default");
    CHECK(s.seed == 1);
    const auto& sc = s.layer(Layer::StratumCorneum);
    const auto& ve = s.layer(Layer::ViableEpidermis);
    const auto& de = s.layer(Layer::Dermis);
    CHECK(sc.thickness_um == 15.0);
    CHECK(ve.thickness_um == 70.0);
    CHECK(de.thickness_um == 1000.0);
    CHECK(sc.hindrance == 0.0);
    CHECK(ve.hindrance == 0.05);
    CHECK(de.hindrance == 0.15);
    CHECK(sc.k_clear_per_s == 0.0);
    CHECK(ve.k_clear_per_s == 0.0);
    CHECK(de.k_clear_per_s == Approx(0.2 / 3600));
    CHECK(ve.k_on_ecm_per_s == Approx(0.5 / 3600));
    CHECK(de.k_off_ecm_per_s == Approx(0.25 / 3600));
    CHECK(s.lumen_hindrance == 1.0);
    CHECK(s.tissue_depth_um() == 1085.0);

    CHECK(s.needles.enabled);
    CHECK(s.needles.needle_length_um == 500.0);
    CHECK(s.needles.base_width_um == 250.0);
    CHECK(s.needles.shape == NeedleShape::Cone);
    CHECK(s.needles.insertion_efficiency == 0.5);
    CHECK(s.needles.pitch_um == Approx(1e4 / std::sqrt(200.0))); // 200 /cm^2
    CHECK(s.needles.array_nx == 0);
    CHECK(s.needles.array_ny == 0);
    CHECK(s.needles.patch_margin_um == 300.0);
    CHECK_FALSE(s.needles.occluded);
    CHECK(s.needles.tau_close_s == 1.5 * 3600);

    CHECK(s.product.concentration_per_um3 == Approx(0.01));
    CHECK(s.product.volume_per_area_um == Approx(200.0));
    CHECK(s.product.median_diameter_nm == Approx(100.0));
    CHECK(s.product.geometric_sd == 1.4);
    CHECK(s.product.size_classes == 3);
    CHECK(s.product.temperature_K == Approx(305.15));
    CHECK(s.product.viscosity_Pa_s == Approx(0.764e-3));
    CHECK(s.product.drying_time_s == 45 * 60.0); // the serum film dries

    CHECK(s.degradation.half_life_s == 2 * 86400.0);
    CHECK(s.degradation.k_per_s() == Approx(std::log(2.0) / (2 * 86400.0)));
    CHECK(s.domain.bottom == BottomBoundary::NoFlux);
    CHECK(s.domain.dx_um == 10.0);
    CHECK(s.domain.dz_um == 5.0);
    CHECK(s.domain.size_x_um == s.needles.pitch_um);
    CHECK(s.domain.size_y_um == s.needles.pitch_um);
    CHECK(s.domain.min_cells_per_layer == 2);
    CHECK(s.domain.memory_limit_bytes == 0.0);

    CHECK(s.time.end_s == 28 * 86400.0);
    CHECK(s.time.output_times_s == std::vector<double>{0, 3600, 7200, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 86400,
                                                       7 * 86400, 14 * 86400, 28 * 86400});
    CHECK(s.time.fine_until_s == 24 * 3600.0);
    CHECK(s.time.dt_initial_s == 0.5);
    CHECK(s.time.dt_max_s == 300.0);
    CHECK(s.time.dt_growth == 1.15);
    CHECK(s.output.write_fields);
    CHECK_FALSE(s.output.write_size_classes);
    CHECK(s.output.compression_level == 4);
    CHECK(s.transport_mode == TransportMode::Continuum);
    CHECK(s.particles.budget == 1000000);
    CHECK(s.particles.output_sample == 10000);
    CHECK(s.particles.max_step_um == 1.0);

    CHECK(s.cells.enabled);
    CHECK(s.cells.uptake == UptakeMode::Stochastic);
    CHECK(s.cells.type(CellType::Keratinocyte).density_per_um3 == Approx(1e-3)); // 1e6 /mm^3
    CHECK(s.cells.type(CellType::Fibroblast).density_per_um3 == Approx(3e-6));
    CHECK(s.cells.type(CellType::Macrophage).density_per_um3 == Approx(3e-7));
    CHECK(s.cells.type(CellType::Fibroblast).radius_um == 7.5);
    CHECK(s.cells.type(CellType::Fibroblast).k_int_per_s == Approx(1.0 / 3600));
    CHECK(s.responses.alpha == 0.5);
    CHECK(s.responses.k2_per_s == Approx(0.693 / 86400));
    CHECK(s.responses.k3_um3 == Approx(0.002e9));                  // 0.002 mm^3
    CHECK(s.responses.tgf_secretion_kg_per_s == Approx(70e-18 / 86400)); // 70 fg/d
    CHECK(s.responses.initial_tgf_kg_per_um3 == Approx(6e-24));     // 6 ng/mL
    CHECK(s.responses.initial_inflammatory_per_um3 == Approx(200e-9));
    CHECK(s.responses.injury == InjurySite::ChannelWalls);
    CHECK(s.responses.macrophages == MacrophageMode::Agents);
    CHECK(s.responses.vehicle_control);
    CHECK(s.transport_cutoff == 1e-4);

    CHECK_THAT(s.source_path, Contains("default.toml"));
    CHECK_THAT(s.source_text, Contains("[microneedles]"));
    CHECK(s.resolved_text == resolved_scenario_toml(s));
}

TEST_CASE("an empty file is the schema defaults, default.toml differs only in drying_time", "[scenario]") {
    Scenario empty = load_scenario_text("", "scenarios/default.toml");
    CHECK(std::isinf(empty.product.drying_time_s));
    CHECK(empty.name == "default"); // from the file name
    empty.product.drying_time_s = 45 * 60.0;
    empty.description = load_scenario(kDefaultFile).description;
    require_same(empty, load_scenario(kDefaultFile));
}

TEST_CASE("the resolved text round-trips to an identical scenario", "[scenario]") {
    SECTION("default.toml") { check_round_trip(load_scenario(kDefaultFile)); }
    SECTION("awkward values and units") {
        check_round_trip(load_scenario(
            kDefaultFile, {"product.concentration=10 pM", "product.temperature=310 K", "product.viscosity=1.2 cP",
                           "product.median_diameter=0.13 um", "product.drying_time=never", "microneedles.shape=pyramid",
                           "microneedles.occluded=true", "microneedles.array=[3, 2]", "microneedles.density=173 /cm^2",
                           "time.end=0.3 d", R"(time.outputs=["0 h", "0.7 h", "100 min", "0.3 d"])",
                           "skin.dermis.thickness=1.37 mm", "transport.bottom=sink",
                           "domain.memory_limit=3000 MB", "scenario.description=two\nlines \"quoted\"",
                           "transport.degradation_half_life=31 h", "skin.dermis.clearance=0.13 /h",
                           "transport.mode=particles", "cells.enabled=false", "particles.budget=123457",
                           "particles.output_sample=-1", "responses.macrophages=mean_field",
                           "cells.fibroblasts.k_on=2e-3 um^3/s", "responses.k4=0.07 pg/d",
                           "responses.initial_tgf_beta=6000 pg/mL",
                           "particles.max_step=0.75 um"}));
    }
    SECTION("defaults clipped to a short end") {
        check_round_trip(load_scenario_text("[time]\nend = \"0.3 d\"\n", "short.toml"));
    }
    SECTION("intact skin") {
        check_round_trip(load_scenario_text("[microneedles]\nenabled = false\n[domain]\nsize_x = \"300 um\"\n", "intact.toml"));
    }
}

TEST_CASE("Overrides given with --set replace file values", "[scenario]") {
    const Scenario s = load_scenario(kDefaultFile, {"product.concentration=1e11 /mL", "microneedles.shape=pyramid",
                                                    R"(time.outputs=["0 h","3 h"])", " product.gsd = 1.6 "});
    CHECK(s.product.concentration_per_um3 == Approx(0.1));
    CHECK(s.needles.shape == NeedleShape::Pyramid);
    CHECK(s.time.output_times_s == std::vector<double>{0.0, 3 * 3600.0});
    CHECK(s.product.geometric_sd == 1.6);
    CHECK_THAT(s.resolved_text, Contains("concentration = \"1e11 /mL\""));
    CHECK_THAT(s.source_text, Contains("concentration = \"1e10 /mL\"")); // the file as written

    SECTION("a quoted TOML string works like a bare one") {
        CHECK(load_scenario(kDefaultFile, {R"(microneedles.shape="pyramid")"}).needles.shape == NeedleShape::Pyramid);
    }
    SECTION("the last --set of a key wins") {
        CHECK(load_scenario(kDefaultFile, {"product.gsd=1.2", "product.gsd=1.3"}).product.geometric_sd == 1.3);
    }
    SECTION("--set pitch replaces the density of the file") {
        CHECK(load_scenario(kDefaultFile, {"microneedles.pitch=600 um"}).needles.pitch_um == 600.0);
    }
}

TEST_CASE("defaults that depend on other keys", "[scenario]") {
    SECTION("channels close in 1.5 h open, 30 h occluded") {
        CHECK(load_scenario_text("", "a.toml").needles.tau_close_s == 1.5 * 3600);
        CHECK(load_scenario_text("[microneedles]\noccluded = true\n", "a.toml").needles.tau_close_s == 30 * 3600);
        CHECK(load_scenario_text("[microneedles]\noccluded = true\nclosure_time = \"2 h\"\n", "a.toml")
                  .needles.tau_close_s == 2 * 3600);
    }
    SECTION("pitch comes from density") {
        CHECK(load_scenario_text("[microneedles]\ndensity = \"100 /cm^2\"\n", "a.toml").needles.pitch_um == Approx(1000.0));
    }
    SECTION("a patch box is pitch * N + 2 margins") {
        const Scenario s = load_scenario_text("[microneedles]\npitch = \"500 um\"\narray = [4, 2]\n", "a.toml");
        CHECK(s.domain.size_x_um == 500.0 * 4 + 600.0);
        CHECK(s.domain.size_y_um == 500.0 * 2 + 600.0);
    }
    SECTION("default output times are clipped to a shorter end, which is always included") {
        CHECK(load_scenario_text("[time]\nend = \"6 h\"\n", "a.toml").time.output_times_s ==
              std::vector<double>{0, 3600, 7200, 4 * 3600, 6 * 3600});
        CHECK(load_scenario_text("[time]\nend = \"2 d\"\n", "a.toml").time.output_times_s.back() == 48 * 3600.0);
    }
}

TEST_CASE("a value without a unit names file, line, key and the expected kind", "[scenario]") {
    const std::string msg = error_of("[product]\n\nconcentration = \"1e10\"\n");
    CHECK_THAT(msg, Contains("scenarios/x.toml:3:"));
    CHECK_THAT(msg, Contains("product.concentration = \"1e10\""));
    CHECK_THAT(msg, Contains("missing unit; expected a concentration such as \"1e10 /mL\""));
}

TEST_CASE("a bare number is never a quantity, not even 0", "[scenario]") {
    const std::string msg = error_of("[skin.stratum_corneum]\nclearance = 0\n");
    CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
    CHECK_THAT(msg, Contains("skin.stratum_corneum.clearance"));
    CHECK_THAT(msg, Contains("missing unit; expected a rate such as \"0.2 /h\""));
}

TEST_CASE("a unit of the wrong kind is rejected", "[scenario]") {
    const std::string msg = error_of("[skin.dermis]\nthickness = \"1.5 h\"\n");
    CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
    CHECK_THAT(msg, Contains("skin.dermis.thickness"));
    CHECK_THAT(msg, Contains("a time, not a length; expected a length such as \"500 um\""));
}

TEST_CASE("a wrong TOML type is rejected", "[scenario]") {
    SECTION("string for a number") {
        const std::string msg = error_of("[product]\ngsd = \"1.4\"\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
        CHECK_THAT(msg, Contains("product.gsd"));
        CHECK_THAT(msg, Contains("expected a number"));
    }
    SECTION("float for an integer") {
        const std::string msg = error_of("[product]\nsize_classes = 2.5\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
        CHECK_THAT(msg, Contains("product.size_classes"));
        CHECK_THAT(msg, Contains("expected an integer"));
    }
    SECTION("string for a boolean") {
        const std::string msg = error_of("[microneedles]\noccluded = \"yes\"\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
        CHECK_THAT(msg, Contains("microneedles.occluded"));
        CHECK_THAT(msg, Contains("expected true or false, got a string"));
    }
    SECTION("unknown choice, with a suggestion") {
        const std::string msg = error_of("[microneedles]\nshape = \"pyramd\"\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
        CHECK_THAT(msg, Contains("microneedles.shape"));
        CHECK_THAT(msg, Contains("expected one of \"cone\", \"pyramid\""));
        CHECK_THAT(msg, Contains("did you mean \"pyramid\"?"));
    }
    SECTION("a value where a section belongs") {
        const std::string msg = error_of("product = 3\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:1:"));
        CHECK_THAT(msg, Contains("'product' is a section"));
    }
    SECTION("an output time of the wrong kind names the element") {
        const std::string msg = error_of("[time]\noutputs = [\"0 h\", \"3 m\"]\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
        CHECK_THAT(msg, Contains("time.outputs[1] = \"3 m\""));
        CHECK_THAT(msg, Contains("expected a time such as \"1.5 h\""));
    }
    SECTION("an element of a multi-line array is reported on its own line") {
        CHECK_THAT(error_of("[time]\noutputs = [\n  \"0 h\",\n  \"2 kg\",\n]\n"), Contains("scenarios/x.toml:4: time.outputs[1]"));
    }
    SECTION("text keys take --set values as text") {
        CHECK(load_scenario_text("", "a.toml", {"scenario.name=2024"}).name == "2024");
    }
}

TEST_CASE("unknown keys and sections get a suggestion", "[scenario]") {
    SECTION("key") {
        const std::string msg = error_of("[microneedles]\nenabled = true\n\n\n\n\nneddle_length = \"500 um\"\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:7:"));
        CHECK_THAT(msg, Contains("unknown key 'microneedles.neddle_length'; did you mean 'needle_length'?"));
    }
    SECTION("section") {
        const std::string msg = error_of("[skn.dermis]\nthickness = \"1 mm\"\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:1:"));
        CHECK_THAT(msg, Contains("unknown section '[skn]'; did you mean '[skin]'?"));
    }
    SECTION("nothing close: list the valid keys") {
        const std::string msg = error_of("[output]\nzzzzzzzz = 1\n");
        CHECK_THAT(msg, Contains("unknown key 'output.zzzzzzzz'"));
        CHECK_THAT(msg, Contains("fields, size_classes, compression"));
    }
}

TEST_CASE("cell agents need the continuum transport", "[scenario]") {
    const std::string msg = error_of("[transport]\nmode = \"particles\"\n");
    CHECK_THAT(msg, Contains("cells.enabled = true needs transport.mode = \"continuum\""));
    CHECK_THAT(error_of("[cells.macrophages]\ndensity = \"500 /mm^2\"\n"), Contains("cells.macrophages.density"));
    CHECK_THAT(error_of("[responses]\nk4 = \"70 fg\"\n"), Contains("not a mass rate"));
    CHECK_THAT(error_of("[responses]\nmacrophages = \"agent\"\n"), Contains("did you mean \"agents\""));
}

TEST_CASE("a TOML syntax error gives line and column", "[scenario]") {
    const std::string msg = error_of("[product]\nconcentration = \"1e10 /mL\"\nvolume = \n");
    CHECK_THAT(msg, Contains("scenarios/x.toml:3:"));
    CHECK_THAT(msg, Contains("TOML syntax error"));
}

TEST_CASE("zero, negative and out-of-range values are rejected with the range", "[scenario]") {
    SECTION("zero thickness") {
        const std::string msg = error_of("[skin.stratum_corneum]\nthickness = \"0 um\"\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
        CHECK_THAT(msg, Contains("skin.stratum_corneum.thickness"));
        CHECK_THAT(msg, Contains("expected a length above 0 um"));
    }
    SECTION("negative thickness") {
        const std::string msg = error_of("[skin.dermis]\nthickness = \"-1 mm\"\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
        CHECK_THAT(msg, Contains("skin.dermis.thickness"));
        CHECK_THAT(msg, Contains("out of range"));
    }
    SECTION("concentration") {
        const std::string msg = error_of("[product]\nconcentration = \"1e20 /mL\"\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
        CHECK_THAT(msg, Contains("product.concentration"));
        CHECK_THAT(msg, Contains("from 0 /mL to 1e15 /mL"));
    }
    SECTION("temperature in C") {
        const std::string msg = error_of("[product]\ntemperature = \"400 K\"\n");
        CHECK_THAT(msg, Contains("product.temperature"));
        CHECK_THAT(msg, Contains("from 0 C to 50 C"));
    }
    SECTION("hindrance") {
        const std::string msg = error_of("[skin.dermis]\nhindrance = 1.5\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
        CHECK_THAT(msg, Contains("skin.dermis.hindrance"));
        CHECK_THAT(msg, Contains("expected a number from 0 to 1"));
    }
}

TEST_CASE("pitch and density together are an error", "[scenario]") {
    const std::string msg = error_of("[microneedles]\npitch = \"500 um\"\ndensity = \"200 /cm^2\"\n");
    CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
    CHECK_THAT(msg, Contains("microneedles.pitch and microneedles.density are both given"));
    CHECK_THAT(msg, Contains("scenarios/x.toml:3"));
}

TEST_CASE("bad --set arguments are named as --set", "[scenario]") {
    SECTION("unknown key") {
        const std::string msg = error_of("", {"product.concentraton=1e11 /mL"});
        CHECK_THAT(msg, Contains("--set product.concentraton"));
        CHECK_THAT(msg, Contains("did you mean 'product.concentration'?"));
    }
    SECTION("no '='") {
        const std::string msg = error_of("", {"product.concentration"});
        CHECK_THAT(msg, Contains("--set product.concentration"));
        CHECK_THAT(msg, Contains("missing '='"));
    }
    SECTION("a value without a unit") {
        const std::string msg = error_of("", {"product.concentration=1e11"});
        CHECK_THAT(msg, Contains("--set product.concentration = 1e11"));
        CHECK_THAT(msg, Contains("missing unit; expected a concentration such as \"1e10 /mL\""));
    }
    SECTION("a section instead of a key") {
        CHECK_THAT(error_of("", {"product=1"}), Contains("'product' is a section"));
    }
}

TEST_CASE("rules between keys name the keys and the numbers", "[scenario]") {
    SECTION("every layer needs min_cells_per_layer cells in dz") {
        const std::string msg = error_of("[domain]\ndz = \"10 um\"\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
        CHECK_THAT(msg, Contains("grid too coarse to resolve skin.stratum_corneum: 15 um is 1.5 cells of domain.dz = 10 um; "
                                 "need at least 2"));
        CHECK_THAT(msg, Contains("use domain.dz <= 7.5 um"));
    }
    SECTION("the channel must end 2 dz above the bottom of the tissue") {
        const std::string msg = error_of("[microneedles]\nneedle_length = \"2500 um\"\ninsertion_efficiency = 0.9\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
        CHECK_THAT(msg, Contains("microneedles.insertion_efficiency * microneedles.needle_length"));
        CHECK_THAT(msg, Contains("2250 um"));
        CHECK_THAT(msg, Contains("1085 um"));
    }
    SECTION("dx must give 4 cells across the channel mouth") {
        const std::string msg = error_of("[domain]\ndx = \"40 um\"\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
        CHECK_THAT(msg, Contains("channel mouth"));
        CHECK_THAT(msg, Contains("3.125 cells of domain.dx = 40 um; need at least 4; use domain.dx <= 31.25 um"));
    }
    SECTION("no mouth check for intact skin") {
        CHECK_NOTHROW(load_scenario_text("[microneedles]\nenabled = false\n[domain]\ndx = \"40 um\"\n", "a.toml"));
    }
    SECTION("the box must hold the patch") {
        const std::string msg = error_of("[microneedles]\narray = [3, 3]\n[domain]\nsize_x = \"1000 um\"\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:4:"));
        CHECK_THAT(msg, Contains("domain.size_x = 1000 um is smaller than the patch"));
    }
    SECTION("a unit cell is one pitch wide") {
        CHECK_THAT(error_of("[domain]\nsize_y = \"900 um\"\n"), Contains("domain.size_y = 900 um: a periodic unit cell"));
    }
    SECTION("output times lie within [0, end]") {
        const std::string msg = error_of("[time]\nend = \"12 h\"\noutputs = [\"0 h\", \"3 h\", \"30 h\"]\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:3:"));
        CHECK_THAT(msg, Contains("time.outputs[2] = 30 h is after time.end = 12 h"));
    }
    SECTION("output times ascend") {
        const std::string msg = error_of("[time]\noutputs = [\"0 h\", \"3 h\", \"2 h\"]\n");
        CHECK_THAT(msg, Contains("time.outputs must ascend"));
    }
    SECTION("dt_initial <= dt_max") {
        const std::string msg = error_of("[time]\ndt_initial = \"10 min\"\n");
        CHECK_THAT(msg, Contains("scenarios/x.toml:2:"));
        CHECK_THAT(msg, Contains("time.dt_initial = 600 s is larger than time.dt_max = 300 s"));
    }
    SECTION("a patch needs both N and M") {
        CHECK_THAT(error_of("[microneedles]\narray = [0, 3]\n"), Contains("microneedles.array = [0, 3]"));
    }
}

TEST_CASE("a missing file is an InputError naming it", "[scenario]") {
    CHECK_THROWS_WITH(load_scenario("no/such/scenario.toml"), Contains("no/such/scenario.toml"));
}

TEST_CASE("docs/scenario-reference.md lists every key of the schema", "[scenario]") {
    std::ifstream in(kSource / "docs" / "scenario-reference.md");
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& key : schema::keys()) {
        INFO(key.path);
        CHECK_THAT(text.str(), Contains("`" + key.path + "`"));
    }
}

TEST_CASE("A grid spacing so fine that the cell count would overflow is refused with the count", "[scenario][bad-input]") {
    // lround(707 um / 1e-300 um) does not fit a long: the grid silently became 1 cell wide.
    const std::string per_axis = error_of("[domain]\ndx = \"1e-300 um\"\n");
    CHECK_THAT(per_axis, Contains("scenarios/x.toml:2: grid too fine: domain.dx = 1e-300 um"));
    CHECK_THAT(per_axis, Contains("cells along x"));
    // 1e-4 um in every direction: about 7e6 x 7e6 x 1e7 voxels, far past any memory; at 1e-7 um
    // the count passed 2^64 and wrapped (tests/fuzz_regressions/grid_voxel_count_wraps_2_64).
    const std::string total = error_of("", {"domain.dx=1e-4 um", "domain.dz=1e-4 um"});
    CHECK_THAT(total, Contains("--set domain.dx: grid too fine"));
    CHECK_THAT(total, Contains("voxels; at most 1e+12"));
    // The finest grid the loader accepts still counts without wrapping.
    CHECK_NOTHROW(load_scenario_text("[domain]\ndx = \"1 um\"\ndz = \"1 um\"\n", "scenarios/x.toml"));
}
