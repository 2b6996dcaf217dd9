// exoderm command line: check and run scenario files.
#include "app/memory_check.hpp"
#include "app/exit_codes.hpp"
#include "app/mpi_session.hpp"
#include "app/report_command.hpp"
#include "app/run_command.hpp"
#include "app/stop_signal.hpp"
#include "app/sweep_command.hpp"
#include "exoderm_version.hpp"
#include "model/errors.hpp"
#include "model/scenario_load.hpp"
#include "model/scenario_schema.hpp"

#include <CLI/CLI.hpp>
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <string>
#include <vector>

namespace {

constexpr int kExitBadInput = exoderm::exit_code::kBadInput;

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

// The one message and exit code of an error that ends a command (app/exit_codes.hpp).
int fail_with(const std::exception_ptr& error) {
    namespace code = exoderm::exit_code;
    try {
        std::rethrow_exception(error);
    } catch (const exoderm::InputError& e) {
        return fail("bad input", e.what(), code::kBadInput);
    } catch (const exoderm::OutputPathError& e) {
        return fail("output", e.what(), code::kBadInput);
    } catch (const exoderm::OutputError& e) {
        // After a write that failed, HDF5 1.10's exit-time cleanup may crash (the recorder points
        // the file at an in-memory file, but a file size limit applies to that one too): the
        // file is as complete as it can be, so leave without the atexit handlers.
        fail("output failed", e.what(), code::kOutputFailed);
        std::fflush(nullptr);
        std::_Exit(code::kOutputFailed);
    } catch (const exoderm::NumericalFault& e) {
        return fail("numerical fault", e.what(), code::kNumericalFault);
    } catch (const exoderm::StopRequested& e) {
        return fail("stopped", e.what(), code::signal_exit(e.signal_number()));
    } catch (const std::bad_alloc&) {
        return fail("out of memory", "an allocation failed; see exoderm check for the memory estimate", code::kFault);
    } catch (const std::exception& e) {
        return fail("failed", e.what(), code::kFault);
    }
}

// "k/N" of --shard.
bool parse_shard(const std::string& text, int& k, int& n) {
    const auto slash = text.find('/');
    if (slash == std::string::npos) return false;
    try {
        std::size_t used = 0;
        k = std::stoi(text.substr(0, slash), &used);
        if (used != slash) return false;
        n = std::stoi(text.substr(slash + 1), &used);
        if (used != text.size() - slash - 1) return false;
    } catch (const std::exception&) {
        return false;
    }
    return n >= 1 && k >= 1 && k <= n;
}

int sweep_main(exoderm::SweepOptions options, const std::string& shard, const exoderm::MpiSession& mpi) {
    if (!shard.empty() && !parse_shard(shard, options.shard, options.shards))
        return fail("command line", "--shard " + shard + ": expected k/N with 1 <= k <= N, e.g. --shard 3/10",
                    kExitBadInput);
    if (exoderm::MpiSession::launched_without_support())
        return fail("command line", "started by mpirun, but this exoderm was built without MPI (install libopenmpi-dev "
                                    "and rebuild); run it without mpirun, or use --shard k/N",
                    kExitBadInput);
    options.rank = mpi.rank();
    options.ranks = mpi.size();
    try {
        exoderm::run_sweep(options, mpi.active() ? &exoderm::MpiSession::barrier : nullptr);
    } catch (...) {
        return fail_with(std::current_exception());
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    exoderm::MpiSession mpi(argc, argv);
    CLI::App app{"exoderm: exosome (extracellular vesicle) transport in human skin"};
    app.set_version_flag("--version", std::string("exoderm ") + exoderm::kVersion + " (" + exoderm::kGitCommit + ")");
    app.require_subcommand(1);

    std::string scenario_file;
    std::vector<std::string> overrides;
    std::string output;
    bool force = false, quiet = false, resume = false;
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
    run->add_flag("--resume", resume,
                  "Continue an interrupted run from its checkpoint (RESULT.ckpt.h5 beside RESULT.h5.part)");
    run->add_option("--threads", threads, "OpenMP threads (default: all cores)")->check(CLI::Range(1, 1024));

    std::string shard;
    bool restart = false;
    auto* sweep = app.add_subcommand("sweep", "Run the [sweep] section of a scenario file: many runs, one table");
    sweep->add_option("sweep_file", scenario_file, "Scenario file with a [sweep] section")->required();
    sweep->add_option("-o,--output", output, "Result table (default: <file name>_sweep.h5 in this folder)");
    sweep->add_option("--shard", shard, "Run only shard k of N (job arrays; combine with exoderm merge)");
    sweep->add_flag("--restart", restart, "Discard finished runs of this output and start again");
    sweep->add_flag("-q,--quiet", quiet, "No progress and no summary");
    sweep->add_option("--threads", threads, "OpenMP threads (default: all cores)")->check(CLI::Range(1, 1024));

    std::vector<std::string> merge_inputs;
    auto* merge = app.add_subcommand("merge", "Combine the results of the shards of one sweep");
    merge->add_option("inputs", merge_inputs, "Shard results (exoderm sweep --shard k/N -o ...)")->required();
    merge->add_option("-o,--output", output, "Merged table")->required();
    merge->add_flag("--force", force, "Overwrite an existing merged table");

    auto* keys = app.add_subcommand("keys", "Print every scenario key with its unit, default, range and status (Markdown)");

    exoderm::ReportOptions report_options;
    auto* report = exoderm::add_report_subcommand(app, report_options);

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
    if (*report) return exoderm::run_report(report_options);
    if (*keys) {
        std::fputs(exoderm::schema::reference_markdown().c_str(), stdout);
        return 0;
    }

    if (*sweep) {
        exoderm::SweepOptions options;
        options.sweep_file = scenario_file;
        options.output = output.empty()
                             ? std::filesystem::path(std::filesystem::path(scenario_file).stem().string() + "_sweep.h5")
                             : std::filesystem::path(output);
        options.restart = restart;
        options.quiet = quiet;
        options.command_line = join_arguments(argc, argv);
        exoderm::install_stop_handlers();
        return sweep_main(options, shard, mpi);
    }
    if (*merge) {
        try {
            std::vector<std::filesystem::path> inputs(merge_inputs.begin(), merge_inputs.end());
            exoderm::merge_sweeps(inputs, output, force, join_arguments(argc, argv));
        } catch (...) {
            return fail_with(std::current_exception());
        }
        return 0;
    }

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
    options.resume = resume;
    options.command_line = join_arguments(argc, argv);
    exoderm::install_stop_handlers();
    try {
        exoderm::run_scenario(scenario, options);
    } catch (...) {
        return fail_with(std::current_exception());
    }
    return 0;
}
