// exoderm command line: check and run scenario files.
#include "app/memory_check.hpp"
#include "app/run_command.hpp"
#include "exoderm_version.hpp"
#include "model/errors.hpp"
#include "model/scenario_load.hpp"

#include <CLI/CLI.hpp>
#include <omp.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace {

constexpr int kExitFault = 1;
constexpr int kExitBadInput = 2;

std::string join_arguments(int argc, char** argv) {
    std::string line;
    for (int i = 0; i < argc; ++i) {
        if (i > 0) line += ' ';
        line += argv[i];
    }
    return line;
}

int fail(const char* kind, const std::string& message, int code) {
    std::fprintf(stderr, "exoderm: %s: %s\n", kind, message.c_str());
    return code;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"exoderm: exosome (extracellular vesicle) transport in human skin"};
    app.set_version_flag("--version", std::string("exoderm ") + exoderm::kVersion + " (" + exoderm::kGitCommit + ")");
    app.require_subcommand(1);

    std::string scenario_file;
    std::vector<std::string> overrides;
    std::string output;
    bool force = false, quiet = false;
    int threads = 0;

    auto* check = app.add_subcommand("check", "Validate a scenario and print it fully resolved, with units");
    check->add_option("scenario", scenario_file, "Scenario file (TOML)")->required();
    check->add_option("--set", overrides, "Override a key: section.key=value (repeatable)");

    auto* run = app.add_subcommand("run", "Run a scenario and write an HDF5 result (+ XDMF for ParaView)");
    run->add_option("scenario", scenario_file, "Scenario file (TOML)")->required();
    run->add_option("-o,--output", output, "Result file (default: <scenario name>.h5 in this folder)");
    run->add_option("--set", overrides, "Override a key: section.key=value (repeatable)");
    run->add_flag("--force", force, "Overwrite an existing result file");
    run->add_flag("-q,--quiet", quiet, "No progress bar and no summary");
    run->add_option("--threads", threads, "OpenMP threads (default: all cores)")->check(CLI::Range(1, 1024));

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return fail("command line", std::string(e.what()) + " (see exoderm --help)", kExitBadInput);
    }
    if (threads > 0) omp_set_num_threads(threads);

    exoderm::Scenario scenario;
    try {
        scenario = exoderm::load_scenario(scenario_file, overrides);
        exoderm::check_memory(scenario);
    } catch (const exoderm::InputError& e) {
        return fail("bad input", e.what(), kExitBadInput);
    }

    if (*check) {
        std::fputs(exoderm::describe_scenario(scenario).c_str(), stdout);
        return 0;
    }

    exoderm::RunOptions options;
    options.output = output.empty() ? std::filesystem::path(std::filesystem::path(scenario_file).stem().string() + ".h5")
                                    : std::filesystem::path(output);
    options.overwrite = force;
    options.quiet = quiet;
    options.command_line = join_arguments(argc, argv);
    try {
        exoderm::run_scenario(scenario, options);
    } catch (const exoderm::OutputError& e) {
        return fail("output", e.what(), kExitBadInput);
    } catch (const exoderm::InputError& e) {
        return fail("bad input", e.what(), kExitBadInput);
    } catch (const std::exception& e) {
        return fail("run failed", e.what(), kExitFault);
    }
    return 0;
}
