// What a run reports about the vesicles (MODEL.md section 7), measured from the transport
// state in one pass over the fields.
#pragma once

#include "solvers/transport.hpp"

#include <array>
#include <vector>

namespace exoderm {

// Per depth row: free and bound amounts (particles) and the largest free concentration.
struct DepthProfile {
    std::vector<double> free_amount;
    std::vector<double> bound_amount;
    std::vector<double> max_free_concentration;
};

struct PenetrationMetrics {
    std::array<double, kLayerCount> fraction_of_dose{}; // free + bound in each layer / applied
    double depth90_um = 0.0;    // depth above which 90 % of the vesicles in tissue lie
    double depth_1pct_um = 0.0; // deepest point where free C reaches 1 % of the applied concentration
};

struct TransportMetrics {
    DepthProfile profile;
    DoseLedger dose;
    PenetrationMetrics penetration;
    double mouth_concentration_per_um3 = 0.0;
    double open_half_width_um = 0.0;
};

DepthProfile depth_profile(const Transport& transport);
TransportMetrics measure(const Transport& transport);

// Depth (um) above which `fraction` of the total amount lies, interpolated within a row.
double depth_holding(const std::vector<double>& row_amount, double dz_um, double fraction);
// Deepest depth (um) where a row profile still reaches `threshold`, linearly interpolated.
double depth_reaching(const std::vector<double>& row_value, double dz_um, double threshold);

} // namespace exoderm
