#include "app/memory_check.hpp"

#include "model/errors.hpp"
#include "model/tissue.hpp"
#include "solvers/simulation.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace exoderm {

namespace {

// A number from a one-line cgroup file; 0 for "max", a missing file or a figure that means
// "no limit" (v1 reports a huge page-aligned number).
double cgroup_value(const std::string& path) {
    std::ifstream in(path);
    std::string text;
    if (!(in >> text) || text == "max") return 0.0;
    try {
        const double v = std::stod(text);
        return v > 1e18 ? 0.0 : v;
    } catch (const std::exception&) {
        return 0.0;
    }
}

// The room left under this process's cgroup memory limit, or 0 if none.
double cgroup_room_bytes() {
    std::ifstream self("/proc/self/cgroup");
    std::string line;
    while (std::getline(self, line)) {
        // "0::/path" (v2) or "4:memory:/path" (v1).
        const auto first = line.find(':');
        const auto second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        const std::string controllers = line.substr(first + 1, second - first - 1);
        const std::string path = line.substr(second + 1);
        double limit = 0.0, usage = 0.0;
        if (controllers.empty()) {
            for (const std::string root : {"/sys/fs/cgroup" + path, std::string("/sys/fs/cgroup")}) {
                limit = cgroup_value(root + "/memory.max");
                usage = cgroup_value(root + "/memory.current");
                if (limit > 0.0) break;
            }
        } else if (controllers == "memory") {
            for (const std::string root : {"/sys/fs/cgroup/memory" + path, std::string("/sys/fs/cgroup/memory")}) {
                limit = cgroup_value(root + "/memory.limit_in_bytes");
                usage = cgroup_value(root + "/memory.usage_in_bytes");
                if (limit > 0.0) break;
            }
        }
        if (limit > 0.0) return std::max(limit - usage, 1.0);
    }
    return 0.0;
}

double gib(double bytes) { return bytes / (1024.0 * 1024.0 * 1024.0); }

} // namespace

double available_memory_bytes(std::string* source) {
    std::ifstream meminfo("/proc/meminfo");
    std::string key, unit;
    double value_kib = 0.0, available = 0.0;
    while (meminfo >> key >> value_kib >> unit)
        if (key == "MemAvailable:") available = value_kib * 1024.0;
    if (source) *source = "MemAvailable in /proc/meminfo";
    const double room = cgroup_room_bytes();
    if (room > 0.0 && (available <= 0.0 || room < available)) {
        available = room;
        if (source) *source = "room under the cgroup memory limit";
    }
    return available;
}

void check_memory(const Scenario& s, std::size_t concurrent) {
    const MemoryEstimate e = estimate_memory(s);
    const double runs = static_cast<double>(std::max<std::size_t>(concurrent, 1));
    // The program is resident once, whatever the number of runs in it.
    const double needed = e.program_bytes + runs * (e.total() - e.program_bytes);
    const bool from_scenario = s.domain.memory_limit_bytes > 0.0;
    std::string source = "domain.memory_limit";
    const double limit = from_scenario ? s.domain.memory_limit_bytes : available_memory_bytes(&source);
    if (limit <= 0.0 || needed <= limit) return;
    const Grid g = grid_for(s);
    std::ostringstream msg;
    msg.precision(3);
    msg << s.source_path << ": needs about " << gib(needed) << " GiB, more than " << source << " (" << gib(limit)
        << " GiB): grid of " << g.nx << " x " << g.ny << " x " << g.nz << " voxels with " << s.product.size_classes
        << " size classes " << gib(e.grid_bytes) << " GiB";
    if (e.particle_bytes > 0.0) msg << " + " << s.particles.budget << " particles " << gib(e.particle_bytes) << " GiB";
    if (e.cell_bytes > 0.0) msg << " + cells " << gib(e.cell_bytes) << " GiB";
    if (e.with_control) msg << " (grid and cells x2: the vehicle control)";
    if (concurrent > 1) msg << ", x " << concurrent << " runs at once (one per thread; use --threads)";
    msg << ", + program " << gib(e.program_bytes)
        << " GiB; use a coarser domain.dx / domain.dz, a smaller box, fewer product.size_classes"
        << (e.particle_bytes > 0.0 ? " or a smaller particles.budget" : "");
    throw InputError(msg.str());
}

} // namespace exoderm
