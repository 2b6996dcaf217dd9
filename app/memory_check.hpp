// Refuses a scenario whose state would not fit in memory, before anything is allocated.
#pragma once

#include "model/scenario.hpp"

namespace exoderm {

// Available memory in bytes as the kernel reports it (MemAvailable), or 0 if unknown.
double available_memory_bytes();

// Throws InputError naming the estimate and the limit (domain.memory_limit, or the
// machine's available memory when that is 0).
void check_memory(const Scenario& scenario);

} // namespace exoderm
