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
    bool resume = false; // continue an interrupted run from its checkpoint
    std::string command_line;
};

// Everything a researcher needs to see about a scenario before running it.
std::string describe_scenario(const Scenario& scenario);

// Runs the scenario and writes the result. Bad output paths throw OutputError before the
// run starts; a failure during the run leaves only the ".part" file, marked incomplete, and
// the last checkpoint. With options.resume, continues from that checkpoint: InputError (exit 2)
// when there is none, the output is already complete, or it belongs to another scenario.
void run_scenario(const Scenario& scenario, const RunOptions& options);

} // namespace exoderm
