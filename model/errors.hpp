// Errors that reach the user as one clear message and exit code 2 (bad input) or 1 (a
// fault while running). The message already names where (file, line, key) and what.
#pragma once

#include <stdexcept>
#include <string>

namespace exoderm {

// Bad input: scenario file, --set override, command line. Exit code 2, nothing written.
class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Output cannot be written (exists without --force, folder unwritable, disk full).
class OutputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace exoderm
