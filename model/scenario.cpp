#include "model/scenario.hpp"

#include <cmath>

namespace exoderm {

double DegradationSpec::k_per_s() const { return std::log(2.0) / half_life_s; }

double Scenario::tissue_depth_um() const {
    double depth = 0.0;
    for (const auto& l : layers) depth += l.thickness_um;
    return depth;
}

} // namespace exoderm
