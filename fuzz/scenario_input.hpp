// The one entry the scenario fuzzer (fuzz/fuzz_scenario.cpp) and the regression test
// (tests/test_fuzz_regressions.cpp) feed input through: a scenario or sweep file as bytes,
// read the way `exoderm check`, `run` and `sweep` read it.
//
// Input format: the file text itself; each line that starts with "#set " also gives an
// override as `--set` would ("#set product.concentration=1e11 /mL"), which TOML reads as a
// comment. So every shipped scenario is a seed as it is.
#pragma once

#include <string>
#include <string_view>

namespace exoderm::fuzz {

struct Outcome {
    bool accepted = false; // loaded (and, for a sweep file, its first and last runs loaded)
    std::string message;   // the InputError message when rejected
};

// Returns for input that loads or is rejected with InputError. Anything else escapes: another
// exception, or std::abort() with a message on stderr when a loaded scenario breaks an
// invariant (its resolved text does not load back to the same values, its grid size
// overflows, an error message does not say where). The fuzzer counts those as crashes.
Outcome read_scenario_input(std::string_view data);

} // namespace exoderm::fuzz
