#include "app/memory_check.hpp"

#include "model/errors.hpp"
#include "model/tissue.hpp"
#include "solvers/simulation.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace exoderm {

double available_memory_bytes() {
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    double value_kib = 0.0;
    std::string unit;
    while (meminfo >> key >> value_kib >> unit)
        if (key == "MemAvailable:") return value_kib * 1024.0;
    return 0.0;
}

void check_memory(const Scenario& s) {
    const double needed = estimate_memory_bytes(s);
    const bool from_scenario = s.domain.memory_limit_bytes > 0.0;
    const double limit = from_scenario ? s.domain.memory_limit_bytes : available_memory_bytes();
    if (limit <= 0.0 || needed <= limit) return;
    const Grid g = grid_for(s);
    std::ostringstream msg;
    msg.precision(3);
    msg << s.source_path << ": the grid of " << g.nx << " x " << g.ny << " x " << g.nz << " voxels with "
        << s.product.size_classes << " size classes needs about " << needed / (1024.0 * 1024.0 * 1024.0)
        << " GiB, more than " << (from_scenario ? "domain.memory_limit" : "the memory available on this machine")
        << " (" << limit / (1024.0 * 1024.0 * 1024.0)
        << " GiB); use a coarser domain.dx / domain.dz, a smaller box or fewer product.size_classes";
    throw InputError(msg.str());
}

} // namespace exoderm
