#include "fuzz/scenario_input.hpp"

#include "model/errors.hpp"
#include "model/scenario_load.hpp"
#include "model/scenario_schema.hpp"
#include "model/sweep_spec.hpp"
#include "model/toml_screen.hpp"
#include "model/tissue.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace exoderm::fuzz {
namespace {

constexpr std::string_view kSource = "fuzz.toml";
constexpr std::string_view kSetPrefix = "#set ";

[[noreturn]] void broken(const std::string& what) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
    std::abort();
}

std::vector<std::string> overrides_in(std::string_view data) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < data.size()) {
        const std::size_t end = data.find('\n', start);
        const std::string_view line = data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (line.starts_with(kSetPrefix)) out.emplace_back(line.substr(kSetPrefix.size()));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return out;
}

// A file with a top-level sweep table goes to load_sweep, as `exoderm sweep` would take it;
// text that is not TOML goes to the scenario loader, whose message is then checked.
bool has_sweep_section(std::string_view data) {
    std::string ascii; // as the loader reads it (model/toml_screen.hpp: toml++ 3.3 UB otherwise)
    if (to_ascii_toml(data, ascii)) return false; // the loader refuses it
    try {
        return toml::parse(ascii, kSource).contains("sweep");
    } catch (const toml::parse_error&) {
        return false;
    }
}

// The resolved text (`exoderm check`) must read back to the same values, key by key.
void check_round_trip(const Scenario& s) {
    Scenario again;
    try {
        again = load_scenario_text(s.resolved_text, kSource);
    } catch (const InputError& e) {
        broken(std::string("the resolved scenario does not load: ") + e.what() + "\n" + s.resolved_text);
    }
    for (const auto& key : schema::keys()) {
        const auto a = key.get(s), b = key.get(again);
        if (a.has_value() != b.has_value() || (a && *a != *b))
            broken("key " + key.path + " changes when the resolved scenario is loaded again:\n" + s.resolved_text);
    }
}

// Grid sizing must neither overflow nor wrap for any scenario the loader accepts.
void check_grid(const Scenario& s) {
    const Grid g = grid_for(s);
    if (g.nx < 1 || g.ny < 1 || g.nz < 1) broken("grid with an empty axis");
    std::size_t plane = 0, voxels = 0;
    if (__builtin_mul_overflow(static_cast<std::size_t>(g.nx), static_cast<std::size_t>(g.ny), &plane) ||
        __builtin_mul_overflow(plane, static_cast<std::size_t>(g.nz), &voxels) || voxels != g.size())
        broken("voxel count overflows");
    // Each count is the length over the spacing, rounded: within half a cell of the length.
    const auto matches = [](int cells, double spacing, double length) {
        return cells == 1 ? length <= 1.5 * spacing : std::abs(cells * spacing - length) <= 0.5 * spacing * (1 + 1e-9);
    };
    if (!matches(g.nx, g.dx_um, s.domain.size_x_um) || !matches(g.ny, g.dy_um, s.domain.size_y_um) ||
        !matches(g.nz, g.dz_um, s.tissue_depth_um()))
        broken("grid of " + std::to_string(g.nx) + " x " + std::to_string(g.ny) + " x " + std::to_string(g.nz) +
               " cells does not span the domain");
}

void check_loaded(const Scenario& s) {
    check_grid(s);
    check_round_trip(s);
}

// "One clear message naming where": the file, or the --set override.
void check_message(const std::string& message) {
    if (message.starts_with(kSource) || message.starts_with("--set ")) return;
    broken("error message does not start with where the problem is: " + message);
}

} // namespace

Outcome read_scenario_input(std::string_view data) {
    const std::vector<std::string> overrides = overrides_in(data);
    Outcome out;
    try {
        if (has_sweep_section(data)) {
            const SweepSpec spec = load_sweep_text(data, kSource);
            check_loaded(spec.base);
            for (const std::size_t i : {std::size_t{0}, spec.run_count() - 1}) {
                const SweepRun run = spec.run(i);
                check_loaded(load_scenario_text(spec.source_text, spec.source_name, run.overrides, SweepSection::Ignore));
            }
        } else {
            check_loaded(load_scenario_text(data, kSource, overrides));
        }
        out.accepted = true;
    } catch (const InputError& e) {
        out.message = e.what();
        check_message(out.message);
    }
    return out;
}

} // namespace exoderm::fuzz
