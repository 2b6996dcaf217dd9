// Reading a scenario file (TOML with units) into a validated Scenario.
//
// Every problem is reported as one InputError whose message names where (file:line, or
// "--set key" for overrides), the dotted key, the value as written and what was expected:
//   scenarios/x.toml:12: product.concentration = "1e10": missing unit; expected a concentration such as "1e10 /mL"
// Keys, defaults and ranges: model/scenario_schema.cpp and docs/scenario-reference.md.
#pragma once

#include "model/scenario.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace exoderm {

// What to do with a top-level [sweep] section (and [[sweep.axis]] tables; docs/sweeps.md).
// Reject, the default (`exoderm run`, `check`): an InputError that says to run the file
// with `exoderm sweep`. Ignore: read the rest of the file as the base scenario of a sweep.
enum class SweepSection { Reject, Ignore };

// overrides: "section.key=value" as given to --set; the value is read as a TOML value, and
// when it is not one (e.g. 1e11 /mL, pyramid) as a bare string. An override of
// microneedles.pitch replaces a density given in the file and vice versa.
Scenario load_scenario(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});
Scenario load_scenario(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                       SweepSection sweep);

// As load_scenario, for text already in memory; source_name is used in messages and as
// Scenario::source_path.
Scenario load_scenario_text(std::string_view toml_text, std::string_view source_name,
                            const std::vector<std::string>& overrides = {});
Scenario load_scenario_text(std::string_view toml_text, std::string_view source_name,
                            const std::vector<std::string>& overrides, SweepSection sweep);

// Every key with its value in display units, with comments (status M/D/A and meaning).
// Loading this text gives an identical Scenario (apart from provenance fields).
std::string resolved_scenario_toml(const Scenario& scenario);

} // namespace exoderm
