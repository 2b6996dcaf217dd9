// Refuses a run or a sweep whose state would not fit in memory, before anything is allocated.
#pragma once

#include "model/scenario.hpp"

#include <cstddef>
#include <string>

namespace exoderm {

// Memory this process may still use, in bytes: the kernel's MemAvailable, or less when a cgroup
// (v2 memory.max, v1 memory.limit_in_bytes) caps the process below that; 0 if unknown. `source`
// (if given) says which figure limits.
double available_memory_bytes(std::string* source = nullptr);

// Throws InputError when `concurrent` runs of this scenario at once (1 for exoderm run; a sweep's
// runs in parallel) would need more than domain.memory_limit, or the available memory when that
// is 0. The message gives the estimate by part (grid, particles, cells, x2 with the vehicle
// control, x concurrent runs) and the available figure.
void check_memory(const Scenario& scenario, std::size_t concurrent = 1);

} // namespace exoderm
