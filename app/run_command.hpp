// `exoderm run` and `exoderm check`: from a validated scenario to a result file and a summary.
#pragma once

#include "model/scenario.hpp"

#include <filesystem>
#include <string>

namespace exoderm {

struct RunOptions {
    std::filesystem::path output;
    bool overwrite = false;
    bool quiet = false;
    std::string command_line;
};

// Everything a researcher needs to see about a scenario before running it.
std::string describe_scenario(const Scenario& scenario);

// Runs the scenario and writes the result. Bad output paths throw OutputError before the
// run starts; a failure during the run leaves only the ".part" file, marked incomplete.
void run_scenario(const Scenario& scenario, const RunOptions& options);

} // namespace exoderm
