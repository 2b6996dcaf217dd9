#include "solvers/cell_model.hpp"

#include <algorithm>
#include <stdexcept>

namespace exoderm {

double CellLedger::total() const {
    double sum = 0.0;
    for (int t = 0; t < kCellTypeCount; ++t) sum += on_surface[t] + internalised[t] + digested[t];
    return sum;
}

CellModel::CellModel(const Scenario& s, const Tissue& tissue, std::span<const double> class_d0_um2_per_s,
                     std::span<const double> class_fraction)
    : scenario_(s), tissue_(tissue), responses_(s, tissue),
      cells_(place_cells(s, tissue, [this](double x, double y, double z) { return responses_.injury_at(x, y, z); })),
      groups_(group_by_voxel(cells_)), uptake_(uptake_setup(s, tissue, class_d0_um2_per_s)),
      signalling_(signalling_setup(s)), class_fraction_(class_fraction.begin(), class_fraction.end()) {
    responses_.sense(cells_);
    if (tissue.wound().enabled()) front_.emplace(tissue.wound());
}

ResponseReadout CellModel::readout() const {
    ResponseReadout r = responses_.readout(cells_);
    if (front_) {
        r.wound = true;
        r.wound_closed_fraction = front_->closed_fraction();
    }
    return r;
}

void CellModel::vesicle_step(std::span<const std::span<double>> class_fields, double dt_s, bool capture) {
    const std::size_t n = cells_.size();
    captured_step_.resize(n);
    released_step_.resize(n);
    if (capture) {
        if (groups_stale_) {
            groups_ = group_by_voxel(cells_);
            groups_stale_ = false;
        }
        capture_step(uptake_, cells_, groups_, class_fields, dt_s, vesicle_steps_, captured_step_);
    } else {
        std::fill(captured_step_.begin(), captured_step_.end(), 0.0);
    }
    signalling_step(signalling_, cells_, captured_step_, dt_s, released_step_);
    // Released vesicles go back to the free field of the cell's voxel.
    const double volume = tissue_.grid().voxel_volume_um3();
    released_voxels_.clear();
    for (std::size_t i = 0; i < n; ++i) {
        const double released = released_step_[i];
        if (!(released > 0.0)) continue;
        // Cells are sorted by voxel, so a repeat is usually the previous entry.
        if (released_voxels_.empty() || released_voxels_.back() != cells_.voxel[i])
            released_voxels_.push_back(cells_.voxel[i]);
        for (std::size_t k = 0; k < class_fields.size(); ++k)
            class_fields[k][cells_.voxel[i]] += released * class_fraction_[k] / volume;
    }
    ++vesicle_steps_;
}

void CellModel::response_step(double dt_s) {
    const std::size_t before = cells_.size();
    responses_.step(cells_, dt_s, response_steps_, retired_);
    ++response_steps_;
    // Macrophages moved, died or were born: regroup by voxel before the next uptake.
    if (scenario_.responses.macrophages == MacrophageMode::Agents || cells_.size() != before) groups_stale_ = true;
    responses_.sense(cells_);
    if (front_) front_->advance(dt_s, front_signal(*front_, cells_));
}

template <class IO>
void CellModel::exchange_state(IO& io) {
    auto c = io.in("cells");
    c.array("x_um", cells_.x_um);
    c.array("y_um", cells_.y_um);
    c.array("z_um", cells_.z_um);
    c.array("type", cells_.type);
    c.array("state", cells_.state);
    c.array("voxel", cells_.voxel);
    c.array("id", cells_.id);
    c.array("bound", cells_.bound);
    c.array("internalised", cells_.internalised);
    c.array("signal", cells_.signal);
    c.array("captured", cells_.captured);
    c.array("released", cells_.released);
    c.array("digested", cells_.digested);
    c.scalar("next_id", cells_.next_id);
    io.flag("groups_stale", groups_stale_);
    io.array("retired", retired_);
    io.scalar("vesicle_steps", vesicle_steps_);
    io.scalar("response_steps", response_steps_);
    if (front_) {
        auto f = io.in("wound_front");
        front_->exchange_state(f);
    }
}

void CellModel::save_state(StateWriter& out) const {
    const_cast<CellModel*>(this)->exchange_state(out); // a writer only reads the state
    StateWriter r = out.in("responses");
    responses_.save_state(r);
}

void CellModel::load_state(const StateReader& in) {
    exchange_state(in);
    const std::size_t n = cells_.size();
    for (const auto* v : {&cells_.x_um, &cells_.y_um, &cells_.z_um, &cells_.bound, &cells_.internalised, &cells_.signal,
                          &cells_.captured, &cells_.released, &cells_.digested})
        if (v->size() != n) throw std::runtime_error("checkpoint: cell arrays of different lengths");
    if (cells_.state.size() != n || cells_.voxel.size() != n || cells_.id.size() != n)
        throw std::runtime_error("checkpoint: cell arrays of different lengths");
    // Groups are a function of the cells; the stale flag makes the next capture rebuild them, as
    // it would have.
    groups_ = group_by_voxel(cells_);
    responses_.load_state(in.in("responses"));
}

CellLedger CellModel::ledger() const {
    CellLedger l;
    for (std::size_t i = 0; i < cells_.size(); ++i) {
        const auto t = static_cast<std::size_t>(cells_.type[i]);
        l.on_surface[t] += cells_.bound[i];
        l.internalised[t] += cells_.internalised[i];
        l.digested[t] += cells_.digested[i];
    }
    for (int t = 0; t < kCellTypeCount; ++t) l.digested[t] += retired_[t];
    return l;
}

std::array<double, kCellTypeCount> CellModel::reached_fraction() const {
    std::array<double, kCellTypeCount> reached{};
    const auto n = counts();
    for (std::size_t i = 0; i < cells_.size(); ++i)
        if (cells_.captured[i] >= 1.0) reached[static_cast<std::size_t>(cells_.type[i])] += 1.0;
    for (int t = 0; t < kCellTypeCount; ++t) reached[t] = n[t] > 0 ? reached[t] / static_cast<double>(n[t]) : 0.0;
    return reached;
}

std::array<std::size_t, kCellTypeCount> CellModel::counts() const {
    std::array<std::size_t, kCellTypeCount> n{};
    for (auto t : cells_.type) ++n[static_cast<std::size_t>(t)];
    return n;
}

} // namespace exoderm
