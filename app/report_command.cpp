#include "app/report_command.hpp"

#include <CLI/CLI.hpp>

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

extern char** environ;

namespace exoderm {

namespace fs = std::filesystem;

namespace {

constexpr int kExitFault = 1;
constexpr int kExitBadInput = 2;

bool has_report_script(const fs::path& dir) {
    std::error_code ec;
    return !dir.empty() && fs::is_regular_file(dir / "report.py", ec) && fs::is_directory(dir / "exoderm_report", ec);
}

} // namespace

CLI::App* add_report_subcommand(CLI::App& app, ReportOptions& options) {
    auto* report = app.add_subcommand("report", "Plots and a Markdown report (report.md) of a run result or sweep table");
    report->add_option("result", options.result, "Run result or sweep table (HDF5)")->required();
    report->add_option("-o,--output", options.output, "Report folder (default: RESULT_report beside the result)");
    return report;
}

std::string find_analysis_dir() {
    std::vector<fs::path> candidates;
    if (const char* env = std::getenv("EXODERM_ANALYSIS_DIR"); env != nullptr && *env != '\0')
        candidates.emplace_back(env);
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path bin = exe.parent_path();
        candidates.push_back(bin / "analysis");
        candidates.push_back(bin.parent_path() / "analysis");
        candidates.push_back(bin.parent_path() / "share" / "exoderm" / "analysis");
    }
    candidates.push_back(fs::path(__FILE__).parent_path().parent_path() / "analysis");
    for (const auto& dir : candidates)
        if (has_report_script(dir)) return dir.string();
    return {};
}

int run_report(const ReportOptions& options) {
    std::error_code ec;
    if (!fs::is_regular_file(options.result, ec)) {
        std::fprintf(stderr, "exoderm: bad input: result file '%s' not found\n", options.result.c_str());
        return kExitBadInput;
    }
    const std::string dir = find_analysis_dir();
    if (dir.empty()) {
        std::fprintf(stderr,
                     "exoderm: report: cannot find analysis/report.py (set EXODERM_ANALYSIS_DIR to the analysis "
                     "folder of the exoderm source tree)\n");
        return kExitFault;
    }
    const std::string script = (fs::path(dir) / "report.py").string();
    std::vector<std::string> args{options.python, script, options.result};
    if (!options.output.empty()) {
        args.emplace_back("-o");
        args.push_back(options.output);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, options.python.c_str(), nullptr, nullptr, argv.data(), environ);
    if (spawned != 0) {
        std::fprintf(stderr, "exoderm: report: cannot start %s: %s\n", options.python.c_str(), std::strerror(spawned));
        return kExitFault;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            std::fprintf(stderr, "exoderm: report: waiting for %s failed: %s\n", options.python.c_str(),
                         std::strerror(errno));
            return kExitFault;
        }
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    std::fprintf(stderr, "exoderm: report: %s stopped by signal %d\n", options.python.c_str(),
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return kExitFault;
}

} // namespace exoderm
