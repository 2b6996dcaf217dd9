// Scenario data of a wound bed ([wound]) and an intradermal injection ([injection]), in
// internal units (docs/wound-and-injection.md). Geometry lives in model/wound.hpp and
// solvers/injection.hpp; the closing front in solvers/reepithelialisation.hpp.
#pragma once

#include <cstdint>

namespace exoderm {

// None: intact or needled skin. Disk: a burn (radius). Strip: a scratch (width along x,
// length along y). Box: the whole box is wound bed (its x edges are the wound edges).
enum class WoundShape : std::uint8_t { None, Disk, Strip, Box };

struct WoundSpec {
    WoundShape shape = WoundShape::None;
    double radius_um = 0.0;       // disk
    double width_um = 0.0;        // strip: across the scratch (x)
    double length_um = 0.0;       // strip: along the scratch (y)
    double dermis_loss_um = 0.0;  // upper dermis missing below the epidermis (A)
    // Re-epithelialisation: the front moves in from the wound edge at
    // v = v0 (1 + a_S S / (S + K_S)), S = mean EV cargo signal of the dermal cells at the front.
    double front_speed_um_per_s = 0.0; // v0 (A: ~0.2 mm/d)
    double ev_acceleration = 0.0;      // a_S (A)
    double signal_half = 0.0;          // K_S, in cargo-signal units (A)
    double sense_band_um = 0.0;        // cells within this distance of the front give S
    bool enabled() const { return shape != WoundShape::None; }
};

// A bolus of the product placed at t = 0 as a uniform sphere (MODEL.md section 2, A). The
// dose is product.concentration * volume; there is no film on the skin.
struct InjectionSpec {
    bool enabled = false;
    double depth_um = 0.0;   // depth of the bolus centre below the skin surface
    double volume_um3 = 0.0; // injected volume
    double radius_um = 0.0;  // radius of the tissue sphere the bolus fills (A)
};

} // namespace exoderm
