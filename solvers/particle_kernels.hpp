// Brownian-dynamics kernels of particle mode (docs/particles.md): the particle arrays, the
// medium a particle sees (hindrance per voxel, walls, channel mouths, boundaries) and the
// step that advances every particle by its own sub-steps to the end of a transport step.
//
// Each particle's path depends only on its own state, the medium and Philox draws keyed by
// (seed, particle id) and counted by (step, sub-step, purpose), so the result is bitwise the
// same for any number of threads and any split of the particles into chunks.
#pragma once

#include "model/scenario.hpp"
#include "model/tissue.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace exoderm::particles {

inline constexpr std::size_t kMaxSizeClasses = 16;

enum class State : std::uint8_t {
    Free = 0,
    Bound = 1,    // to matrix: does not move
    Exited = 2,   // left through an open channel mouth into the reservoir (removed at the step's end)
    Degraded = 3, // removed at the step's end
    Cleared = 4,  // by lymph/blood or through a sink bottom (removed at the step's end)
};

inline bool in_tissue(State s) { return s == State::Free || s == State::Bound; }

// Structure of arrays, one entry per simulated particle in the tissue.
struct ParticleArrays {
    std::vector<float> x, y, z;  // um; z is depth below the skin surface
    std::vector<float> d0;       // free diffusivity from the particle's own diameter (um^2/s)
    std::vector<float> clock;    // what is left of its Exp(1) hazard until the next reaction
    std::vector<std::uint64_t> id; // unique over the run (< 2^56)
    std::vector<State> state;
    std::vector<std::uint8_t> size_class; // size-class bin of its diameter (the fields' classes)

    // Persistent bytes per particle (the vectors above).
    static constexpr std::size_t kBytesPerParticle = 5 * 4 + 8 + 2;

    std::size_t size() const { return x.size(); }
    void reserve(std::size_t n);
    void push_back(float px, float py, float pz, float pd0, float pclock, std::uint64_t pid, State pstate,
                   std::uint8_t pclass);
    // Removes particles no longer in the tissue, keeping the order of the others. Returns how many.
    std::size_t remove_gone();
};

// Per-layer reaction rates (1/s): degradation, clearance, binding and release. A free particle
// leaves its state at k_deg + k_clear + k_on, a bound one at k_off + k_deg.
struct ReactionTable {
    std::array<float, kLayerCount> degrade{}, clear{}, bind{}, release{};
    float free_total(int layer) const { return degrade[layer] + clear[layer] + bind[layer]; }
    float bound_total(int layer) const { return release[layer] + degrade[layer]; }
};

// The scenario's per-layer rates (layer_reaction_rates) in the kernels' single precision.
ReactionTable reaction_table(const Scenario& scenario);

inline constexpr int kMaxPlanes = 8;

// What the kernels read about the tissue at one moment. Plain views: see Medium.
struct MediumView {
    int nx = 1, ny = 1, nz = 1;
    float dx = 1, dy = 1, dz = 1, inv_dx = 1, inv_dy = 1, inv_dz = 1;
    float size_x = 1, size_y = 1, depth = 1, inv_size_x = 1, inv_size_y = 1;
    bool sink_bottom = false;
    // Per voxel: hindrance h (D = h D0) and its maximum over the voxels within reach of a trial
    // step of max_step rms (kFreePathSigmas max_step in each direction).
    std::span<const float> h, h_nbr;
    std::span<const std::uint8_t> row_layer; // nz
    std::span<const std::uint8_t> mouth;     // nx * ny: top face open onto the wet reservoir; empty: none
    // Step-size control: depths of planes a step must resolve (surface, layer boundaries, a sink;
    // unused entries +inf), and the channel zone: lateral distance from each column centre to the
    // nearest channel axis, and how far the zone reaches (channel_reach_r = -inf: no zone).
    std::array<float, kMaxPlanes> planes{};
    std::span<const float> axis_distance; // nx * ny
    float channel_reach_r = 0, channel_reach_z = 0;
    float max_step = 2;             // rms step per axis where the medium changes (um)
    float inv_free_path_sigmas = 0; // elsewhere the rms step is (distance to a change) / kFreePathSigmas
};

// Far from any change of the medium a sub-step's rms length is the distance to the nearest
// change divided by this, so a crossing within one sub-step is a > 4.5 sigma event (< 1e-5).
inline constexpr float kFreePathSigmas = 4.5f;

// Owns the arrays behind a MediumView and rebuilds them when the channels change.
class Medium {
public:
    Medium(const Tissue& tissue, const std::array<double, kLayerCount>& layer_hindrance, double lumen_hindrance,
           bool sink_bottom, double max_step_um);

    // Channel state at one moment: lumen fraction per voxel (grid().size() values, as
    // Tissue::lumen_fraction gives), the mouth half-width, and whether the film wets the mouths.
    void set_channels(std::span<const double> lumen_fraction, double half_width_um, bool mouths_wet);

    MediumView view() const;
    float hindrance(std::size_t voxel) const { return h_[voxel]; }
    float hindrance_nbr(std::size_t voxel) const { return h_nbr_[voxel]; }
    // Top-row voxels whose top face is open onto the reservoir, ascending.
    const std::vector<std::size_t>& mouth_voxels() const { return mouth_voxels_; }
    const Grid& grid() const { return grid_; }
    // Bytes per voxel and per column the medium holds.
    static constexpr double kBytesPerVoxel = 8.0;
    static constexpr double kBytesPerColumn = 5.0;

private:
    Grid grid_;
    bool sink_bottom_ = false;
    float max_step_ = 2;
    double lumen_hindrance_ = 1;
    std::vector<float> row_h_;
    std::vector<std::uint8_t> row_layer_;
    std::vector<float> h_, h_nbr_;
    int channel_rows_ = 0; // rows [0, channel_rows_) hold lumen or its neighbourhood
    int reach_x_ = 1, reach_y_ = 1, reach_z_ = 1; // neighbourhood half-widths in voxels
    std::vector<std::uint8_t> mouth_;
    std::vector<std::size_t> mouth_voxels_;
    std::vector<float> axis_distance_;
    bool has_channels_ = false;
    double half_width_um_ = 0;
    std::array<float, kMaxPlanes> planes_{};
};

struct StepInput {
    std::uint64_t seed = 0;
    std::uint32_t step = 0; // transport step index (Philox counter word 0)
};

struct StepTally {
    std::array<std::int64_t, kMaxSizeClasses> exited{}; // per size class, back into the reservoir
    std::int64_t degraded = 0;
    std::int64_t cleared = 0;
    std::int64_t substeps = 0; // Gaussian moves made
    std::int64_t rounds = 0;   // largest number of sub-steps of one particle
    void add(const StepTally& other);
};

// Advances every particle in the tissue by remaining[i] seconds (remaining[i] is 0 afterwards):
// Gaussian sub-steps with the predictor-corrector rule for a jumping diffusivity, reflection at
// walls and the bottom, exit through open mouths, a sink bottom, and reactions as exponential
// clocks. Particles that leave the tissue keep their slot with state Exited/Degraded/Cleared.
StepTally advance(ParticleArrays& particles, std::span<float> remaining, const MediumView& medium,
                  const ReactionTable& reactions, const StepInput& input);

// Three standard Gaussians per lane for n particle ids at one (step, sub-step): the draws of a
// particle's sub-step (exposed for tests and benchmarks).
void gaussians_for(std::span<const std::uint64_t> ids, std::uint64_t seed, std::uint32_t step,
                   std::uint32_t substep, std::span<float> g0, std::span<float> g1, std::span<float> g2);

// The rms-step distance bound of a point: distance to the nearest plane and to the channel zone.
float free_path_um(const MediumView& m, float z, std::size_t column);

} // namespace exoderm::particles
