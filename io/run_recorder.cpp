#include "io/run_recorder.hpp"

#include <algorithm>
#include <string>

namespace exoderm {

namespace {

const std::vector<SeriesColumn> kDoseColumns{
    {"time_s", "s"},          {"applied", "particles"}, {"reservoir", "particles"},
    {"free", "particles"},    {"bound", "particles"},   {"degraded", "particles"},
    {"cleared", "particles"}, {"delivered", "particles"}, {"balance_error_rel", "1"}};

const std::vector<SeriesColumn> kPenetrationColumns{{"time_s", "s"},
                                                    {"fraction_stratum_corneum", "1"},
                                                    {"fraction_viable_epidermis", "1"},
                                                    {"fraction_dermis", "1"},
                                                    {"depth90_um", "um"},
                                                    {"depth_1pct_um", "um"},
                                                    {"mouth_concentration_per_um3", "particles/um^3"},
                                                    {"open_radius_um", "um"}};

} // namespace

RunRecorder::RunRecorder(Recorder& recorder, const Scenario& scenario, const Tissue& tissue)
    : recorder_(recorder), scenario_(scenario), free_(tissue.grid().size()), bound_(tissue.grid().size()) {
    recorder_.declare_series("dose", kDoseColumns);
    recorder_.declare_series("penetration", kPenetrationColumns);
    const Grid& g = tissue.grid();
    std::vector<double> layer(g.size());
    for (int z = 0; z < g.nz; ++z)
        std::fill_n(layer.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(z) * g.plane()), g.plane(),
                    static_cast<double>(tissue.layer_of_row(z)));
    if (scenario.output.write_fields) recorder_.write_static_field({"layer", "1", layer});
}

void RunRecorder::append_series(const Transport& t) {
    if (t.time_s() == last_series_time_s_) return;
    last_series_time_s_ = t.time_s();
    last_ = measure(t);
    const auto& d = last_.dose;
    const auto& p = last_.penetration;
    worst_balance_error_ = std::max(worst_balance_error_, d.balance_error_rel());
    const double dose_row[] = {t.time_s(), d.applied,  d.reservoir, d.free,  d.bound,
                               d.degraded, d.cleared, d.delivered, d.balance_error_rel()};
    recorder_.append_series("dose", dose_row);
    const double penetration_row[] = {t.time_s(),
                                      p.fraction_of_dose[0],
                                      p.fraction_of_dose[1],
                                      p.fraction_of_dose[2],
                                      p.depth90_um,
                                      p.depth_1pct_um,
                                      last_.mouth_concentration_per_um3,
                                      last_.open_half_width_um};
    recorder_.append_series("penetration", penetration_row);
}

void RunRecorder::on_step(const Transport& t) { append_series(t); }

void RunRecorder::on_output(std::size_t, const Transport& t) {
    append_series(t);
    if (!scenario_.output.write_fields) return;
    t.total_free(free_);
    t.total_bound(bound_);
    std::vector<FieldView> fields{{"free", "particles/um^3", free_},
                                  {"bound", "particles/um^3", bound_},
                                  {"lumen_fraction", "1", t.lumen_fraction()}};
    if (scenario_.output.write_size_classes)
        for (std::size_t k = 0; k < t.field_classes(); ++k) {
            fields.push_back({"free_class_" + std::to_string(k), "particles/um^3", t.free_class(k)});
            fields.push_back({"bound_class_" + std::to_string(k), "particles/um^3", t.bound_class(k)});
        }
    if (scenario_.transport_mode != TransportMode::Particles || scenario_.particles.output_sample == 0) {
        recorder_.write_snapshot(t.time_s(), fields);
        return;
    }
    // A sample of the simulated vesicles (the same ones from snapshot to snapshot, as far as
    // they are still in the tissue), as a point set beside the fields.
    ParticleSample sample;
    t.sample_particles(scenario_.particles.output_sample, sample);
    PointSet points{sample.xyz,
                    {{"diameter_nm", "nm", sample.diameter_nm},
                     {"state", "1", sample.state},
                     {"id", "1", sample.id}}};
    recorder_.write_snapshot(t.time_s(), fields, points);
}

void RunRecorder::write_summary(double wall_time_s) {
    const auto& d = last_.dose;
    const auto& p = last_.penetration;
    recorder_.write_summary("applied", d.applied, "particles");
    recorder_.write_summary("reservoir", d.reservoir, "particles");
    recorder_.write_summary("free", d.free, "particles");
    recorder_.write_summary("bound", d.bound, "particles");
    recorder_.write_summary("degraded", d.degraded, "particles");
    recorder_.write_summary("cleared", d.cleared, "particles");
    recorder_.write_summary("delivered", d.delivered, "particles");
    recorder_.write_summary("fraction_delivered", d.applied > 0 ? d.delivered / d.applied : 0.0, "1");
    recorder_.write_summary("balance_error_rel_max", worst_balance_error_, "1");
    recorder_.write_summary("fraction_stratum_corneum", p.fraction_of_dose[0], "1");
    recorder_.write_summary("fraction_viable_epidermis", p.fraction_of_dose[1], "1");
    recorder_.write_summary("fraction_dermis", p.fraction_of_dose[2], "1");
    recorder_.write_summary("depth90_um", p.depth90_um, "um");
    recorder_.write_summary("depth_1pct_um", p.depth_1pct_um, "um");
    recorder_.write_summary("wall_time_s", wall_time_s, "s");
}

} // namespace exoderm
