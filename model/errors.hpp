// Errors that reach the user as one clear message and an exit code (app/exit_codes.hpp).
// The message already names where (file, line, key; time and voxel) and what.
#pragma once

#include <stdexcept>
#include <string>

namespace exoderm {

// Bad input: scenario file, --set override, command line. Exit code 2, nothing written.
class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Output cannot be written (exists without --force, folder unwritable, disk full). Exit code 4
// (writing failed while running) unless it is an OutputPathError.
class OutputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The output path cannot be used at all (exists without --force, folder missing, not a folder
// or not writable): found before the run starts, nothing written. Exit code 2, like bad input.
class OutputPathError : public OutputError {
public:
    using OutputError::OutputError;
};

// NaN, Inf or a negative concentration beyond tolerance in a run (solvers/field_health.hpp).
// Exit code 3; the message names time, voxel, place, layer and quantity.
class NumericalFault : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The run was asked to stop by a signal (SIGINT, SIGTERM); exit code 128 + signal.
class StopRequested : public std::runtime_error {
public:
    StopRequested(int signal_number, const std::string& what) : std::runtime_error(what), signal_(signal_number) {}
    int signal_number() const { return signal_; }

private:
    int signal_;
};

} // namespace exoderm
