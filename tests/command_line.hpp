// Running the exoderm binary (or any shell command) in a folder, as a user would, and reading
// what it printed: shared by the command-line tests.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace exoderm::testing {

struct Outcome {
    int exit_code = -1;
    std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Writes text to dir/name and returns that path.
inline std::filesystem::path write_file(const std::filesystem::path& dir, const std::string& name,
                                        const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
}

// How many runs a sweep journal (<table>.runs) holds.
inline std::size_t journaled_runs(const std::filesystem::path& journal) {
    std::size_t n = 0;
    if (std::filesystem::exists(journal))
        for (const auto& entry : std::filesystem::directory_iterator(journal))
            n += entry.path().extension() == ".txt" && entry.path().filename().string().rfind("run_", 0) == 0;
    return n;
}

// Runs `command` with dir as the working folder; stdout and stderr are captured.
inline Outcome shell(const std::filesystem::path& dir, const std::string& command) {
    const std::string cmd = "cd '" + dir.string() + "' && " + command + " > out.txt 2> err.txt";
    const int status = std::system(cmd.c_str());
    Outcome o;
    o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    o.out = slurp(dir / "out.txt");
    o.err = slurp(dir / "err.txt");
    return o;
}

// The exoderm binary under test with these arguments.
inline Outcome run_exoderm(const std::filesystem::path& dir, const std::string& args) {
    return shell(dir, "'" + std::string(EXODERM_BINARY) + "' " + args);
}

} // namespace exoderm::testing
