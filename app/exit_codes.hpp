// The exit codes of every exoderm command, in one place (README "Exit codes", docs/RELIABILITY.md).
// Scripts and batch systems branch on them, so they never change meaning.
#pragma once

namespace exoderm::exit_code {

constexpr int kOk = 0;
// A fault with no better code (an unexpected exception, a failed helper process).
constexpr int kFault = 1;
// Bad input: scenario, --set, command line, a missing or corrupt input file, an output path that
// cannot be used (exists without --force, folder missing or not writable), or a run that would
// not fit in memory. Detected before anything is written.
constexpr int kBadInput = 2;
// A numerical fault during a run (NaN, Inf or a negative concentration beyond tolerance); the
// .part file keeps the last good state, marked incomplete.
constexpr int kNumericalFault = 3;
// Writing the output failed while running (disk full, file too large, I/O error); earlier
// results are intact, the .part file is marked incomplete.
constexpr int kOutputFailed = 4;
// Stopped by a signal (SIGINT, SIGTERM): 128 + the signal number, as a shell reports it.
constexpr int kSignalBase = 128;
constexpr int signal_exit(int signal_number) { return kSignalBase + signal_number; }

} // namespace exoderm::exit_code
