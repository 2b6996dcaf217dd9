// The validated scenario: every number is already in internal units.
//
// Internal units (resolved once, when the scenario file is read):
//   length um, time s, amount = vesicles (particles), concentration particles/um^3,
//   diffusivity um^2/s, rates 1/s, temperature K, viscosity Pa s.
// Nothing downstream of the loader parses units again.
// Defaults live in one place, the key registry (model/scenario_schema.cpp); get a Scenario
// from load_scenario / load_scenario_text (an empty text gives every default).
#pragma once

#include "model/wound_spec.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace exoderm {

inline constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Tissue layers from the surface down; the channel lumen is a fluid region, not a layer.
enum class Layer : std::uint8_t { StratumCorneum = 0, ViableEpidermis = 1, Dermis = 2 };
inline constexpr int kLayerCount = 3;
inline constexpr std::array<const char*, kLayerCount> kLayerKeys{"stratum_corneum", "viable_epidermis",
                                                                 "dermis"};

struct LayerSpec {
    double thickness_um = 0.0;
    double hindrance = 0.0;       // D_tissue = hindrance * D0 (A)
    double k_clear_per_s = 0.0;   // lymphatic / vascular clearance of free vesicles (A)
    double k_on_ecm_per_s = 0.0;  // binding of free vesicles to matrix (A)
    double k_off_ecm_per_s = 0.0; // release from matrix (A)
};

enum class NeedleShape : std::uint8_t { Cone, Pyramid };

struct MicroneedleSpec {
    bool enabled = false;             // false: intact skin, no channels
    double needle_length_um = 0.0;
    double base_width_um = 0.0;
    NeedleShape shape = NeedleShape::Cone;
    double insertion_efficiency = 0.0; // channel depth = efficiency * length (D: 0.2-0.8)
    double pitch_um = 0.0;           // centre-to-centre spacing (from density when given)
    // 0 x 0: lateral unit cell around one channel with periodic sides.
    // N x M: an explicit patch of N x M channels inside the box.
    int array_nx = 0;
    int array_ny = 0;
    double patch_margin_um = 0.0; // box margin around an explicit patch
    bool occluded = false;
    double tau_close_s = 0.0; // a(t) = a0 exp(-t / tau_close)

    double channel_depth_um() const { return insertion_efficiency * needle_length_um; }
    // The skin-surface width of the channel is the width of the inserted part of the needle:
    // a cone or pyramid of base w inserted to depth f L is w f wide at the surface.
    double mouth_half_width_um() const { return 0.5 * base_width_um * insertion_efficiency; }
};

// Where the vesicles come from (MODEL.md section 3, potency by source).
enum class ProductSource : std::uint8_t { Msc = 0, UmbilicalCord = 1, Platelet = 2, Plant = 3 };
inline constexpr int kProductSourceCount = 4;
inline constexpr std::array<const char*, kProductSourceCount> kProductSourceKeys{"msc", "umbilical_cord", "platelet",
                                                                                 "plant"};

struct ProductSpec {
    double concentration_per_um3 = 0.0;
    double volume_per_area_um = 0.0; // film height: volume per skin area
    double median_diameter_nm = 0.0;
    double geometric_sd = 0.0; // lognormal GSD of the diameter
    int size_classes = 0;      // equal-probability diameter classes, each its own field
    double temperature_K = 0.0;
    double viscosity_Pa_s = 0.0;
    double drying_time_s = 0.0; // after this the film no longer feeds the channels
    // Product factors (MODEL.md section 3; model/product_factors.hpp combines them).
    ProductSource source = ProductSource::Msc;
    std::array<double, kProductSourceCount> source_potency{}; // relative cargo effect per source (A)
    double storage_time_s = 0.0;                 // between making and using the product
    double storage_temperature_K = 0.0;
    double shelf_half_life_s = 0.0;              // first-order activity loss at the reference temperature
    double shelf_reference_temperature_K = 0.0;
    double shelf_activation_energy = 0.0;        // Arrhenius Ea, internal (kg um^2 s^-2 mol^-1)
    bool autologous = false;                     // the donor age factor applies to the patient's own EVs
    double donor_age_s = 0.0;
    double donor_age_reference_s = 0.0;
    double donor_age_scale_s = 0.0;
    double contamination = 0.0;                  // share of vesicles carrying pro-inflammatory cargo
    double contaminant_potency = 0.0;            // inflammatory cargo effect of one contaminated vesicle
};

struct DegradationSpec {
    double half_life_s = 0.0; // in tissue, free and bound alike (A: 1-3 d)
    double k_per_s() const;
};

enum class BottomBoundary : std::uint8_t { NoFlux, Sink };

struct DomainSpec {
    double dx_um = 0.0; // lateral spacing (x and y)
    double dz_um = 0.0;  // depth spacing
    // Lateral box size. For a unit cell this is the pitch; for a patch, pitch * N + 2 margin.
    double size_x_um = 0.0;
    double size_y_um = 0.0;
    BottomBoundary bottom = BottomBoundary::NoFlux;
    int min_cells_per_layer = 0;
    double memory_limit_bytes = 0.0; // 0: use the machine's available memory
};

struct TimeSpec {
    double end_s = 0.0;
    std::vector<double> output_times_s; // ascending, within [0, end]
    double dt_initial_s = 0.0;
    double dt_max_s = 0.0;
    double dt_max_delivery_s = 0.0; // while open channels are fed: delivery is resolved finely
    double dt_growth = 0.0;
    double fine_until_s = 0.0; // transport steps are capped at dt_max until then, at responses.dt after
};

// How vesicles are transported: continuum fields (PDE) or individual Brownian particles.
enum class TransportMode : std::uint8_t { Continuum, Particles };

// Particle mode (docs/particles.md).
struct ParticleSpec {
    // Simulated particles standing for the applied dose: each carries w = applied / budget vesicles.
    std::int64_t budget = 0;
    std::int64_t output_sample = 0; // positions written per snapshot; 0 none, -1 all
    double max_step_um = 0.0;       // rms step per axis near channels, layer boundaries and the surface
};

// Cells (MODEL.md section 5): agents placed in their layer, taking up vesicles from the free field.
enum class CellType : std::uint8_t { Keratinocyte = 0, Fibroblast = 1, Macrophage = 2 };
inline constexpr int kCellTypeCount = 3;
inline constexpr std::array<const char*, kCellTypeCount> kCellTypeKeys{"keratinocytes", "fibroblasts", "macrophages"};

struct CellTypeSpec {
    double density_per_um3 = 0.0; // in the cell type's layer (keratinocytes: viable epidermis; others: dermis)
    double radius_um = 0.0;
    double receptors = 0.0;         // R_max: vesicles the surface can hold bound
    double k_on_um3_per_s = 0.0;    // capture rate constant per free binding site
    double k_off_per_s = 0.0;       // release of surface-bound vesicles back to the free field
    double k_int_per_s = 0.0;       // internalisation of surface-bound vesicles
    double k_lys_per_s = 0.0;       // lysosomal digestion of internalised cargo
    double signal_rate_per_s = 0.0; // the cargo signal S follows potency * internalised at this rate
};

// How captures are drawn: stochastic (binomial on the whole vesicles a voxel holds, the
// fractional remainder by its expectation) or mean-field (expected amounts throughout).
enum class UptakeMode : std::uint8_t { Stochastic, MeanField };

struct CellsSpec {
    bool enabled = false;
    std::array<CellTypeSpec, kCellTypeCount> types{};
    UptakeMode uptake = UptakeMode::Stochastic;
    double potency = 0.0;                   // batch potency relative to the product's nominal (1: nominal)
    double macrophage_motility_um2_per_s = 0.0; // random motility of macrophage agents
    const CellTypeSpec& type(CellType t) const { return types[static_cast<int>(t)]; }
};

// Macrophage populations: agents with stochastic events, or mean-field densities on the
// response grid (the well-mixed Waugh-Sherratt limit; agents then only sense the vesicles).
enum class MacrophageMode : std::uint8_t { Agents, MeanField };
// Where macrophages are recruited: around the channel walls, uniformly (tests), around the
// wound bed and walls, or around the injected bolus.
enum class InjurySite : std::uint8_t { ChannelWalls, Uniform, Wound, Injection };

// Responses (MODEL.md section 6): Waugh-Sherratt macrophages in space with diffusing
// cytokines, EV coupling, and collagen deposition by fibroblasts. Cytokine fields are in
// internal mass concentration (kg/um^3); 1 ng/mL = 1e-24 kg/um^3.
struct ResponseSpec {
    double dt_s = 0.0;             // response clock (and the transport step after time.fine_until)
    double grid_spacing_um = 0.0;  // response grid over the dermis
    MacrophageMode macrophages = MacrophageMode::Agents;
    InjurySite injury = InjurySite::ChannelWalls;
    double injury_radius_um = 0.0;   // around the initial channel wall
    double crowding_length_um = 0.0; // smoothing length of the agent density used for crowding
    // Waugh-Sherratt (per second, per um^3 internally)
    double alpha = 0.0;                   // inflammatory share of recruits without EVs
    double k1 = 0.0;                      // dimensionless (k1 k2: proliferation rate)
    double k2_per_s = 0.0;
    double k3_um3 = 0.0;                  // crowding volume per cell (1 / carrying capacity)
    double tgf_secretion_kg_per_s = 0.0;  // k4: active TGF-beta made per inflammatory macrophage
    double d1_per_s = 0.0;                // macrophage death / emigration
    double d2_per_s = 0.0;                // TGF-beta decay
    double initial_inflammatory_per_um3 = 0.0; // in injured tissue at t = 0
    double initial_repair_per_um3 = 0.0;
    double initial_tgf_kg_per_um3 = 0.0;
    // EV coupling (A)
    double alpha_min = 0.0;
    double switch_max_per_s = 0.0;  // inflammatory -> repair switching at saturating EVs
    double ev_half_effect = 0.0;    // K_E: internalised EVs (signal) for half the effect
    // Contaminant coupling (A): pro-inflammatory cargo pushes recruits and switching the other way.
    double alpha_max = 0.0;               // inflammatory share of recruits at saturating contaminant cargo
    double switch_back_max_per_s = 0.0;   // repair -> inflammatory switching at saturating contaminant cargo
    double contaminant_half_effect = 0.0; // contaminant signal (EV equivalents) for half that effect
    // Cytokine readouts (A)
    double tnf_secretion_kg_per_s = 0.0;
    double tnf_half_life_s = 0.0;
    double il10_secretion_kg_per_s = 0.0;
    double il10_half_life_s = 0.0;
    double tgf_diffusivity_um2_per_s = 0.0;
    double tnf_diffusivity_um2_per_s = 0.0;
    double il10_diffusivity_um2_per_s = 0.0;
    // Collagen (MODEL.md section 6)
    double collagen_rate_kg_per_s = 0.0; // k_C: new collagen per fibroblast
    double collagen3_fraction = 0.0;     // f_III without EVs
    double collagen3_fraction_ev = 0.0;  // f_III at saturating fibroblast EVs
    double collagen_tgf_gain = 0.0;      // a_T
    double collagen_tgf_half_kg_per_um3 = 0.0; // K_T
    double collagen_ev_gain = 0.0;       // a_E
    double collagen_half_life_s = 0.0;   // of new collagen (d_new = ln 2 / half-life)
    bool vehicle_control = false;        // also run the same scenario without EVs
};

struct OutputSpec {
    bool write_fields = false;       // 3D fields at output times
    bool write_size_classes = false; // per size class as well as the totals
    int compression_level = 0;      // gzip 0-9
    // Least wall-clock time between checkpoints (taken at output times); 0: at every output.
    double checkpoint_interval_s = 0.0;
};

struct Scenario {
    std::string name;
    std::string description;
    std::array<LayerSpec, kLayerCount> layers{};
    double lumen_hindrance = 0.0; // D in an open channel relative to D0
    MicroneedleSpec needles;
    WoundSpec wound;
    InjectionSpec injection;
    ProductSpec product;
    DegradationSpec degradation;
    DomainSpec domain;
    TransportMode transport_mode = TransportMode::Continuum;
    ParticleSpec particles;
    // Transport stops once the vesicles left (reservoir, tissue, cell surfaces) fall below this
    // fraction of the applied dose: later steps are response-only.
    double transport_cutoff = 0.0;
    CellsSpec cells;
    ResponseSpec responses;
    TimeSpec time;
    OutputSpec output;
    std::uint64_t seed = 0;

    // Provenance: the file as written and the fully resolved scenario (TOML, with units).
    std::string source_path;
    std::string source_text;
    std::string resolved_text;

    const LayerSpec& layer(Layer l) const { return layers[static_cast<int>(l)]; }
    double tissue_depth_um() const;
};

} // namespace exoderm
