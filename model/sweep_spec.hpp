// A sweep file: an ordinary scenario file (the base scenario) plus a [sweep] section that
// says which keys to vary, how (a full grid, or a Latin hypercube / Sobol sample of ranges),
// how many replicates per point and which 3D fields to keep. docs/sweeps.md is the user's
// description of the format, every rule and the seed derivation.
//
// load_sweep() reads and checks everything up front (one InputError naming file:line and
// what was expected); SweepSpec::run(i) then gives run i's overrides and seed without
// storing all runs. Run i is loaded with
//   load_scenario_text(spec.source_text, spec.source_name, spec.run(i).overrides, SweepSection::Ignore)
#pragma once

#include "model/scenario.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace exoderm {

enum class SweepDesign { Grid, LatinHypercube, Sobol };
enum class SweepSeeds { Independent, Common };

struct SweepAxis {
    std::string key;                 // scenario key path
    std::vector<std::string> values; // TOML value text of each level/sample as written to --set (e.g. "\"1e10 /mL\"", "0.5", "true", "\"cone\"")
    std::string display_unit;        // unit of quantity values as generated ("um", "/mL"); empty for numbers etc.
    std::vector<double> numbers;     // values[i] as a number in display_unit (NaN when not a number; "never": infinity)
};

struct SweepRun {
    std::size_t index = 0;      // 0 .. run_count-1: point-major, replicate-minor (index = point * replicates + replicate)
    std::size_t point = 0;
    std::size_t replicate = 0;
    std::uint64_t seed = 0;
    std::vector<std::string> overrides; // "key=value" for load_scenario, one per axis, plus "scenario.seed=<seed>"
    std::vector<double> axis_numbers;   // numeric value of each axis in its written unit (NaN for non-numeric values)
};

struct SweepSpec {
    SweepDesign design = SweepDesign::Grid;
    SweepSeeds seeds = SweepSeeds::Independent;
    std::vector<SweepAxis> axes;      // for sampled designs values has `samples` entries per axis (the sample points)
    std::size_t points = 0;           // grid: product of level counts; sampled: samples
    std::size_t replicates = 1;
    std::uint64_t base_seed = 0;      // the base scenario's scenario.seed
    std::vector<std::string> fields;
    std::vector<double> field_times_s;
    std::vector<std::size_t> field_runs; // empty with field_all_runs = true
    bool field_all_runs = true;
    std::string identity;             // a stable text identifying the sweep (canonical description of axes, values, design, seeds, replicates and the base scenario's resolved text); equal identity = same runs with same seeds. Used to refuse resuming/merging mismatched sweeps.

    // The sweep file as read, for loading each run (see the top of this file) and for
    // provenance; base is the base scenario (no overrides, the [sweep] section ignored).
    std::string source_name;
    std::string source_text;
    Scenario base;

    std::size_t run_count() const { return points * replicates; }
    SweepRun run(std::size_t index) const;   // generates one run (cheap; do not store all runs: sweeps may have 1e5 runs)
    // Whether run `index` keeps its 3D fields (fields not empty and index selected by field_runs).
    bool keeps_fields(std::size_t index) const;
};

// Reads the sweep file: the [sweep] section and the base scenario (everything else, validated by the scenario loader).
// Throws InputError for any problem (one clear message, file:line).
SweepSpec load_sweep(const std::filesystem::path& file);
SweepSpec load_sweep_text(std::string_view toml_text, std::string_view source_name);

// The seed of one run (docs/sweeps.md): Philox4x32-10 keyed by base_seed; Independent uses
// (point, replicate), Common uses the replicate only. Always below 2^63 (scenario.seed is a
// TOML integer).
std::uint64_t sweep_seed(std::uint64_t base_seed, SweepSeeds seeds, std::size_t point, std::size_t replicate);

// Coordinate `dimension` (0-based, < kSobolMaxDimensions) of point `index` of the Sobol
// sequence (Joe & Kuo 2008 direction numbers, Gray-code order): index 0 is the origin, a
// sampled design uses indices 1..samples. Exposed for tests.
inline constexpr std::size_t kSobolMaxDimensions = 20;
double sobol_coordinate(std::uint64_t index, std::size_t dimension);

} // namespace exoderm
