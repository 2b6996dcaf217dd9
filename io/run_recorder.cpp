#include "io/run_recorder.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

namespace exoderm {

namespace {

const std::vector<SeriesColumn> kDoseColumns{
    {"time_s", "s"},          {"applied", "particles"}, {"reservoir", "particles"},
    {"free", "particles"},    {"bound", "particles"},   {"degraded", "particles"},
    {"cleared", "particles"}, {"delivered", "particles"}, {"on_cells", "particles"},
    {"internalised", "particles"}, {"digested_in_cells", "particles"}, {"balance_error_rel", "1"}};

const std::vector<SeriesColumn> kPenetrationColumns{{"time_s", "s"},
                                                    {"fraction_stratum_corneum", "1"},
                                                    {"fraction_viable_epidermis", "1"},
                                                    {"fraction_dermis", "1"},
                                                    {"depth90_um", "um"},
                                                    {"depth_1pct_um", "um"},
                                                    {"mouth_concentration_per_um3", "particles/um^3"},
                                                    {"open_radius_um", "um"}};

std::vector<SeriesColumn> cell_columns() {
    std::vector<SeriesColumn> c{{"time_s", "s"}};
    for (const char* type : kCellTypeKeys) {
        const std::string t(type);
        c.push_back({t + "_count", "cells"});
        c.push_back({t + "_on_surface", "particles"});
        c.push_back({t + "_internalised", "particles"});
        c.push_back({t + "_digested", "particles"});
        c.push_back({t + "_reached_fraction", "1"});
    }
    return c;
}

// Response-grid fields written at output times: name and units.
const std::array<std::array<const char*, 2>, 8> kResponseFieldNames{{{"injury", "1"},
                                                                    {"inflammatory_macrophages", "cells/mm^3"},
                                                                    {"repair_macrophages", "cells/mm^3"},
                                                                    {"tgf_beta", "ng/mL"},
                                                                    {"tnf_alpha", "ng/mL"},
                                                                    {"il10", "ng/mL"},
                                                                    {"new_collagen_I", "ng/mL"},
                                                                    {"new_collagen_III", "ng/mL"}}};

const std::vector<SeriesColumn> kResponseColumns{
    {"time_s", "s"},          {"inflammatory_macrophages", "cells"}, {"repair_macrophages", "cells"},
    {"repair_fraction", "1"}, {"tgf_beta", "ng/mL"},                 {"tnf_alpha", "ng/mL"},
    {"il10", "ng/mL"},        {"new_collagen_I", "ng"},              {"new_collagen_III", "ng"}};

} // namespace

RunRecorder::RunRecorder(Recorder& recorder, const Scenario& scenario, const Simulation& simulation)
    : recorder_(recorder), scenario_(scenario), tracker_(scenario), with_cells_(simulation.cells() != nullptr),
      free_(simulation.tissue().grid().size()), bound_(simulation.tissue().grid().size()) {
    recorder_.declare_series("dose", kDoseColumns);
    recorder_.declare_series("penetration", kPenetrationColumns);
    if (const CellModel* cells = simulation.cells()) {
        recorder_.declare_series("cell_uptake", cell_columns());
        recorder_.declare_series("responses", kResponseColumns);
        if (simulation.tissue().wound().enabled())
            recorder_.declare_series("wound_closure", {{"time_s", "s"}, {"closed_fraction", "1"}});
        const Grid& rg = cells->responses().grid();
        recorder_.declare_grid("responses", {rg.nx, rg.ny, rg.nz, rg.dx_um, rg.dy_um, rg.dz_um},
                               cells->responses().origin_z_um());
    }
    const Tissue& tissue = simulation.tissue();
    const Grid& g = tissue.grid();
    std::vector<double> layer(g.size());
    for (int z = 0; z < g.nz; ++z)
        std::fill_n(layer.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(z) * g.plane()), g.plane(),
                    static_cast<double>(tissue.layer_of_row(z)));
    if (scenario.output.write_fields) recorder_.write_static_field({"layer", "1", layer});
}

static void append_response_row(Recorder& recorder, const std::string& group, const ResponseSample& sample) {
    const ResponseReadout& r = sample.readout;
    const double row[] = {sample.time_s,   r.inflammatory,   r.repair,       r.repair_fraction, r.tgf_beta_ng_per_ml,
                          r.tnf_ng_per_ml, r.il10_ng_per_ml, r.collagen1_ng, r.collagen3_ng};
    recorder.append_series(group, row);
}

void RunRecorder::write_rows(const RunView& run) {
    if (tracker_.sampled_responses_now()) {
        const ResponseSample& sample = tracker_.responses().back();
        append_response_row(recorder_, "responses", sample);
        if (sample.readout.wound) {
            const double row[] = {sample.time_s, sample.readout.wound_closed_fraction};
            recorder_.append_series("wound_closure", row);
        }
    }
    if (!tracker_.measured_now()) return;
    const auto& m = tracker_.last();
    const auto& d = m.dose;
    const auto& p = m.penetration;
    double on_cells = 0.0, internalised = 0.0, digested = 0.0;
    for (int t = 0; t < kCellTypeCount; ++t) {
        on_cells += d.on_cells[t];
        internalised += d.internalised[t];
        digested += d.digested_in_cells[t];
    }
    const double dose_row[] = {run.time_s, d.applied,  d.reservoir, d.free,      d.bound,    d.degraded,
                               d.cleared,  d.delivered, on_cells,   internalised, digested, d.balance_error_rel()};
    recorder_.append_series("dose", dose_row);
    const double penetration_row[] = {run.time_s,
                                      p.fraction_of_dose[0],
                                      p.fraction_of_dose[1],
                                      p.fraction_of_dose[2],
                                      p.depth90_um,
                                      p.depth_1pct_um,
                                      m.mouth_concentration_per_um3,
                                      m.open_half_width_um};
    recorder_.append_series("penetration", penetration_row);
    if (with_cells_) {
        const auto& counts = tracker_.cell_counts();
        const auto& reached = tracker_.reached();
        std::vector<double> row{run.time_s};
        for (int t = 0; t < kCellTypeCount; ++t) {
            row.push_back(static_cast<double>(counts[t]));
            row.push_back(d.on_cells[t]);
            row.push_back(d.internalised[t]);
            row.push_back(d.digested_in_cells[t]);
            row.push_back(reached[t]);
        }
        recorder_.append_series("cell_uptake", row);
    }
}

void RunRecorder::on_step(const RunView& run) {
    tracker_.on_step(run);
    write_rows(run);
}

void RunRecorder::on_output(std::size_t index, const RunView& run) {
    tracker_.on_output(index, run);
    write_rows(run);
    const Transport& t = run.transport;
    if (selected_ && !selected_times_s_.empty() &&
        std::find(selected_times_s_.begin(), selected_times_s_.end(), run.time_s) == selected_times_s_.end())
        return;
    Snapshot snap;
    snap.time_s = run.time_s;
    if (scenario_.output.write_fields || selected_) {
        t.total_free(free_);
        t.total_bound(bound_);
        snap.fields = {{"free", "particles/um^3", free_},
                       {"bound", "particles/um^3", bound_},
                       {"lumen_fraction", "1", t.lumen_fraction()}};
        if (selected_)
            std::erase_if(snap.fields, [&](const FieldView& f) {
                return std::find(selected_names_.begin(), selected_names_.end(), f.name) == selected_names_.end();
            });
        if (scenario_.output.write_size_classes)
            for (std::size_t k = 0; k < t.field_classes(); ++k) {
                snap.fields.push_back({"free_class_" + std::to_string(k), "particles/um^3", t.free_class(k)});
                snap.fields.push_back({"bound_class_" + std::to_string(k), "particles/um^3", t.bound_class(k)});
            }
    }
    // A sample of the simulated vesicles (the same ones from snapshot to snapshot, as far as
    // they are still in the tissue), as a point set beside the fields.
    ParticleSample sample;
    if (scenario_.transport_mode == TransportMode::Particles && scenario_.particles.output_sample != 0) {
        t.sample_particles(scenario_.particles.output_sample, sample);
        snap.point_sets.push_back({"particles",
                                   {sample.xyz,
                                    {{"diameter_nm", "nm", sample.diameter_nm},
                                     {"state", "1", sample.state},
                                     {"id", "1", sample.id}}}});
    }
    if (run.cells) {
        fill_cell_points(*run.cells);
        snap.point_sets.push_back({"cells",
                                   {cell_xyz_,
                                    {{"type", "1", cell_attributes_[0]},
                                     {"state", "1", cell_attributes_[1]},
                                     {"captured", "particles", cell_attributes_[2]},
                                     {"internalised", "particles", cell_attributes_[3]},
                                     {"signal", "EV equivalents", cell_attributes_[4]},
                                     {"id", "1", cell_attributes_[5]}}}});
        fill_response_fields(run.cells->responses());
        GridFields grid{"responses", {}};
        for (std::size_t k = 0; k < kResponseFieldNames.size(); ++k)
            grid.fields.push_back({kResponseFieldNames[k][0], kResponseFieldNames[k][1], response_fields_[k]});
        snap.grid_fields.push_back(std::move(grid));
    }
    recorder_.write_snapshot(snap);
}

void RunRecorder::select_fields(std::vector<std::string> names, std::vector<double> times_s) {
    selected_ = true;
    selected_names_ = std::move(names);
    selected_times_s_ = std::move(times_s);
}

void RunRecorder::fill_cell_points(const CellModel& model) {
    const CellPopulation& c = model.cells();
    const std::size_t n = c.size();
    cell_xyz_.resize(3 * n);
    for (auto& a : cell_attributes_) a.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        cell_xyz_[3 * i] = c.x_um[i];
        cell_xyz_[3 * i + 1] = c.y_um[i];
        cell_xyz_[3 * i + 2] = c.z_um[i];
        cell_attributes_[0][i] = static_cast<double>(c.type[i]);
        cell_attributes_[1][i] = static_cast<double>(c.state[i]);
        cell_attributes_[2][i] = c.captured[i];
        cell_attributes_[3][i] = c.internalised[i];
        cell_attributes_[4][i] = c.signal[i];
        cell_attributes_[5][i] = static_cast<double>(c.id[i]);
    }
}

void RunRecorder::fill_response_fields(const Responses& r) {
    constexpr double kNgPerMl = 1e-24;   // kg/um^3
    constexpr double kPerMm3 = 1e-9;     // per um^3
    const auto scaled = [](std::span<const double> in, double unit, std::vector<double>& out) {
        out.resize(in.size());
        for (std::size_t b = 0; b < in.size(); ++b) out[b] = in[b] / unit;
    };
    scaled(r.injury(), 1.0, response_fields_[0]);
    scaled(r.inflammatory_density(), kPerMm3, response_fields_[1]);
    scaled(r.repair_density(), kPerMm3, response_fields_[2]);
    scaled(r.tgf_beta(), kNgPerMl, response_fields_[3]);
    scaled(r.tnf(), kNgPerMl, response_fields_[4]);
    scaled(r.il10(), kNgPerMl, response_fields_[5]);
    scaled(r.collagen1(), kNgPerMl, response_fields_[6]); // kg/um^3 -> ng/mL (= ug/L)
    scaled(r.collagen3(), kNgPerMl, response_fields_[7]);
}

void RunRecorder::write_summary(double wall_time_s, const std::vector<NamedValue>& extra) {
    for (const auto& v : tracker_.summary()) recorder_.write_summary(v.name, v.value, v.units);
    for (const auto& v : extra) recorder_.write_summary(v.name, v.value, v.units);
    recorder_.write_summary("wall_time_s", wall_time_s, "s");
}

ResponseRecorder::ResponseRecorder(Recorder& recorder, const Scenario& scenario, std::string group)
    : recorder_(recorder), group_(std::move(group)), tracker_(scenario) {
    recorder_.declare_series(group_, kResponseColumns);
}

void ResponseRecorder::on_step(const RunView& run) {
    tracker_.on_step(run);
    if (tracker_.sampled_responses_now()) append_response_row(recorder_, group_, tracker_.responses().back());
}

void ResponseRecorder::on_output(std::size_t index, const RunView& run) {
    tracker_.on_output(index, run);
    if (tracker_.sampled_responses_now()) append_response_row(recorder_, group_, tracker_.responses().back());
}

} // namespace exoderm
