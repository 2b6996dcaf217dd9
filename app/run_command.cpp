#include "app/run_command.hpp"

#include "app/checkpointer.hpp"
#include "app/progress.hpp"
#include "app/stop_signal.hpp"
#include "exoderm_version.hpp"
#include "io/recorder.hpp"
#include "io/run_guard.hpp"
#include "io/run_recorder.hpp"
#include "model/errors.hpp"
#include "model/product_factors.hpp"
#include "model/scenario_load.hpp"
#include "model/vesicle_sizes.hpp"
#include "solvers/simulation.hpp"

#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>

namespace exoderm {

namespace {

class ProgressObserver : public RunObserver {
public:
    ProgressObserver(RunObserver& recorder, ProgressBar& bar, double offset_s)
        : recorder_(recorder), bar_(bar), offset_s_(offset_s) {}
    void on_step(const RunView& run) override {
        recorder_.on_step(run);
        bar_.update(offset_s_ + run.time_s);
    }
    void on_output(std::size_t index, const RunView& run) override { recorder_.on_output(index, run); }

private:
    RunObserver& recorder_;
    ProgressBar& bar_;
    double offset_s_;
};

std::string number_text(double v, const char* format = "%.4g") {
    char buf[32];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

std::string percent(double part, double whole) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%8.4f %%", whole > 0 ? 100.0 * part / whole : 0.0);
    return buf;
}

std::string amount_line(const char* label, double value, double applied) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "  %-28s %12.5g  %s\n", label, value, percent(value, applied).c_str());
    return buf;
}

// Test-only (docs/RELIABILITY.md): EXODERM_TEST_FAULT=<nan|inf|negative>@<time_s>.
void arm_test_fault(Simulation& simulation) {
    const char* text = std::getenv("EXODERM_TEST_FAULT");
    if (text == nullptr || *text == '\0') return;
    const InjectedFault fault = parse_injected_fault(text);
    if (fault.kind == FieldProblem::None)
        throw InputError(std::string("EXODERM_TEST_FAULT=") + text + ": expected <nan|inf|negative>@<time_s>");
    simulation.inject_test_fault(fault);
}

// The checkpoint of an interrupted run of this scenario into `output`, checked.
std::unique_ptr<CheckpointFile> open_checkpoint_to_resume(const std::filesystem::path& output,
                                                          const std::filesystem::path& checkpoint_path,
                                                          const CheckpointIdentity& identity) {
    const std::filesystem::path part(output.string() + ".part");
    std::error_code error;
    if (!std::filesystem::exists(part, error)) {
        if (std::filesystem::exists(output, error))
            throw InputError("'" + output.string() + "' is complete: nothing to resume (nothing was changed)");
        throw InputError("nothing to resume: no interrupted output '" + part.string() + "'");
    }
    if (!std::filesystem::exists(checkpoint_path, error))
        throw InputError("nothing to resume: '" + part.string() + "' has no checkpoint '" + checkpoint_path.string() +
                         "' (the run was interrupted before its first checkpoint; start it again)");
    auto checkpoint = std::make_unique<CheckpointFile>(checkpoint_path);
    const std::string mismatch = checkpoint_mismatch(identity, checkpoint->identity());
    if (!mismatch.empty()) throw InputError("cannot resume from '" + checkpoint_path.string() + "': " + mismatch);
    return checkpoint;
}

} // namespace

std::string describe_scenario(const Scenario& s) {
    std::ostringstream out;
    out << resolved_scenario_toml(s);
    const Tissue tissue(s);
    const Grid& g = tissue.grid();
    out << "\n# Derived (not part of the scenario)\n";
    out << "# grid: " << g.nx << " x " << g.ny << " x " << g.nz << " = " << g.size() << " voxels of " << g.dx_um
        << " x " << g.dy_um << " x " << g.dz_um << " um; box " << g.size_x_um() << " x " << g.size_y_um() << " x "
        << g.depth_um() << " um\n";
    out << "# channels: " << tissue.channels().size();
    if (!tissue.channels().empty())
        out << ", depth " << tissue.channel_shape().depth_um << " um, mouth half-width "
            << tissue.channel_shape().mouth_half_width_um << " um";
    out << "\n";
    const auto classes = lognormal_size_classes(s.product.median_diameter_nm, s.product.geometric_sd,
                                                s.product.size_classes, s.product.temperature_K,
                                                s.product.viscosity_Pa_s);
    for (std::size_t k = 0; k < classes.size(); ++k)
        out << "# size class " << k << ": " << classes[k].fraction * 100 << " % of vesicles, diameter "
            << classes[k].diameter_nm << " nm, D0 " << classes[k].d0_um2_per_s << " um^2/s\n";
    const double applied = s.product.concentration_per_um3 * s.product.volume_per_area_um * g.size_x_um() * g.size_y_um();
    out << "# applied dose in the box: " << applied << " particles\n";
    if (s.transport_mode == TransportMode::Particles)
        out << "# particle mode: " << s.particles.budget << " simulated particles of " << applied / s.particles.budget
            << " vesicles each (docs/particles.md)\n";
    out << "# product: " << describe(product_factors(s), s) << "\n";
    out << "# memory estimate: " << estimate_memory_bytes(s) / (1024.0 * 1024.0) << " MiB\n";
    return out.str();
}

void run_scenario(const Scenario& s, const RunOptions& options) {
    RunInfo info;
    info.scenario_name = s.name;
    info.resolved_scenario = s.resolved_text;
    info.source_scenario = s.source_text;
    info.source_path = s.source_path;
    info.command_line = options.command_line;
    info.seed = s.seed;
    const auto started = std::chrono::steady_clock::now();
    const CheckpointIdentity identity{kVersion, kGitCommit, s.resolved_text, s.seed};
    const std::filesystem::path checkpoint_path = checkpoint_path_for(options.output);
    std::unique_ptr<CheckpointFile> checkpoint;
    std::optional<StateReader> saved;
    if (options.resume) {
        checkpoint = open_checkpoint_to_resume(options.output, checkpoint_path, identity);
        saved.emplace(*checkpoint);
    }
    const bool control_phase = saved && saved->scalar<std::uint8_t>("phase") == 1;
    Simulation simulation(s);
    arm_test_fault(simulation);
    const Grid& g = simulation.tissue().grid();
    const GridInfo grid{g.nx, g.ny, g.nz, g.dx_um, g.dy_um, g.dz_um};
    auto recorder_owner = saved ? std::make_unique<Recorder>(options.output, Checkpointer::recorder_position(*saved), grid)
                                : std::make_unique<Recorder>(options.output, options.overwrite, info, grid);
    Recorder& recorder = *recorder_owner;
    // A new run: a checkpoint left by an earlier one no longer matches the .part.
    if (!saved) std::filesystem::remove(checkpoint_path);
    recorder.set_compression(s.output.compression_level);
    RunRecorder run_recorder(recorder, s, simulation);
    if (saved) {
        simulation.load_state(saved->in("run/simulation"));
        run_recorder.load_state(saved->in("run/tracker"));
    }
    Checkpointer checkpointer(checkpoint_path, identity, recorder, s.output.checkpoint_interval_s);
    checkpointer.add("run/simulation", [&](StateWriter& w) { simulation.save_state(w); });
    checkpointer.add("run/tracker", [&](StateWriter& w) { run_recorder.save_state(w); });
    const std::size_t outputs = s.time.output_times_s.size();
    const bool with_control = s.cells.enabled && s.responses.vehicle_control;
    const bool days = s.time.end_s > 3 * 86400.0;
    ProgressBar bar(s.time.end_s * (with_control ? 2 : 1), days ? "d" : "h", days ? 86400.0 : 3600.0,
                    !options.quiet && stderr_is_terminal());
    ProgressObserver progress(run_recorder, bar, 0.0);
    CheckpointObserver checkpointed(progress, checkpointer, outputs);
    RunGuard guard(&recorder, simulation, "run", true, stop_signal);
    ObserverList observer({&guard, &checkpointed});
    simulation.run(observer);
    // The matched vehicle control: the same scenario and seed without EVs.
    std::vector<FoldChange> folds;
    std::vector<NamedValue> against_control;
    if (with_control) {
        const Scenario control = vehicle_control_of(s);
        Simulation control_simulation(control);
        ResponseRecorder control_recorder(recorder, control, "control_responses");
        if (control_phase) {
            control_simulation.load_state(saved->in("control/simulation"));
            control_recorder.load_state(saved->in("control/tracker"));
        }
        checkpointer.set_phase(1);
        checkpointer.add("control/simulation", [&](StateWriter& w) { control_simulation.save_state(w); });
        checkpointer.add("control/tracker", [&](StateWriter& w) { control_recorder.save_state(w); });
        ProgressObserver control_progress(control_recorder, bar, s.time.end_s);
        CheckpointObserver control_checkpointed(control_progress, checkpointer, outputs);
        RunGuard control_guard(&recorder, control_simulation, "vehicle control", false, stop_signal);
        ObserverList control_observer({&control_guard, &control_checkpointed});
        control_simulation.run(control_observer);
        const auto& run_responses = run_recorder.tracker().responses();
        const auto& control_responses = control_recorder.tracker().responses();
        folds = fold_changes(summarise(run_responses), summarise(control_responses));
        against_control = control_summary(run_responses, control_responses);
    }
    bar.finish();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    run_recorder.write_summary(wall, against_control);
    recorder.finish();
    saved.reset();
    checkpoint.reset();
    std::error_code ignored;
    std::filesystem::remove(checkpoint_path, ignored); // the result is complete: nothing to resume
    if (const char* report = std::getenv("EXODERM_REPORT_CHECKPOINTS"))
        if (report[0] == '1')
            std::fprintf(stderr, "exoderm: %zu checkpoints, %.4f s writing them (%.4f s each), last %ju bytes\n",
                         checkpointer.written(), checkpointer.seconds_writing(),
                         checkpointer.written() ? checkpointer.seconds_writing() / checkpointer.written() : 0.0,
                         checkpointer.last_bytes());
    if (options.quiet) return;

    const RunTracker& tracked = run_recorder.tracker();
    const auto& m = tracked.last();
    const auto& d = m.dose;
    std::ostringstream out;
    out << "exoderm " << kVersion << " (" << kGitCommit << "): " << s.name << "\n";
    out << "grid " << g.nx << " x " << g.ny << " x " << g.nz << " (" << g.size() << " voxels), "
        << simulation.transport().field_classes() << " size classes, " << simulation.transport_steps()
        << " transport steps, " << simulation.steps_taken() << " steps in all, " << wall << " s on "
        << omp_get_max_threads() << " threads" << (with_control ? " (with the vehicle control)" : "") << "\n";
    if (s.cells.enabled) out << "product: " << describe(product_factors(s), s) << "\n";
    out << "dose at t = " << (days ? s.time.end_s / 86400.0 : s.time.end_s / 3600.0) << (days ? " d" : " h")
        << " (particles, share of the applied dose):\n";
    out << amount_line("applied", d.applied, d.applied);
    out << amount_line("left in the reservoir", d.reservoir, d.applied);
    out << amount_line("free in tissue", d.free, d.applied);
    out << amount_line("bound to matrix", d.bound, d.applied);
    out << amount_line("degraded", d.degraded, d.applied);
    out << amount_line("cleared", d.cleared, d.applied);
    out << amount_line("delivered through channels", d.delivered, d.applied);
    if (const CellModel* cells = simulation.cells()) {
        const auto counts = cells->counts();
        const auto& reached = tracked.reached();
        for (int t = 0; t < kCellTypeCount; ++t) {
            const std::string type(kCellTypeKeys[t]);
            out << amount_line((type + ": on surface").c_str(), d.on_cells[t], d.applied);
            out << amount_line((type + ": internalised").c_str(), d.internalised[t], d.applied);
            out << amount_line((type + ": digested").c_str(), d.digested_in_cells[t], d.applied);
            char line[160];
            std::snprintf(line, sizeof line, "  %-28s %12zu  %8.2f %% reached (>= 1 vesicle)\n",
                          (type + ": cells").c_str(), counts[t], 100.0 * reached[t]);
            out << line;
        }
    }
    char buf[256];
    std::snprintf(buf, sizeof buf, "  dose balance error (worst over the run): %.2e of the applied dose\n",
                  tracked.worst_balance_error());
    out << buf;
    // Where the vesicles are: at the end, and at the end of the fine transport phase (after
    // that, what is left in tissue is only a remainder that is being cleared).
    const auto where = [&](const TransportMetrics& at, double t_s) {
        const auto& p = at.penetration;
        const bool in_days = t_s >= 3 * 86400.0;
        char when[32];
        std::snprintf(when, sizeof when, "%g %s", in_days ? t_s / 86400.0 : t_s / 3600.0, in_days ? "d" : "h");
        std::snprintf(buf, sizeof buf,
                      "at %s in tissue: stratum corneum %s, viable epidermis %s, dermis %s of the applied dose\n",
                      when, percent(p.fraction_of_dose[0], 1).c_str(), percent(p.fraction_of_dose[1], 1).c_str(),
                      percent(p.fraction_of_dose[2], 1).c_str());
        out << buf;
        std::snprintf(buf, sizeof buf,
                      "  penetration: 90 %% of the vesicles in tissue lie above %.1f um; free C reaches 1 %% of the "
                      "applied concentration down to %.1f um\n",
                      p.depth90_um, p.depth_1pct_um);
        out << buf;
    };
    if (tracked.early_time_s() < s.time.end_s) where(tracked.early(), tracked.early_time_s());
    where(m, s.time.end_s);
    const PeakMetrics& peak = tracked.peaks();
    std::snprintf(buf, sizeof buf,
                  "over the run: peak viable epidermis %s, peak dermis %s of the applied dose (at %.3g h); "
                  "deepest 90 %% depth %.1f um\n",
                  percent(peak.fraction_viable_epidermis, 1).c_str(), percent(peak.fraction_dermis, 1).c_str(),
                  peak.fraction_dermis_time_s / 3600.0, peak.depth90_um);
    out << buf;
    if (!folds.empty()) {
        out << "responses at the end, with EVs against the vehicle control (same seed, no EVs):\n";
        char line[200];
        std::snprintf(line, sizeof line, "  %-26s %12s %12s %10s  %s\n", "readout", "with EVs", "control", "ratio",
                      "units");
        out << line;
        for (const auto& f : folds) {
            std::snprintf(line, sizeof line, "  %-26s %12s %12s %10s  %s\n", f.name.c_str(),
                          number_text(f.with_evs).c_str(), number_text(f.control).c_str(), number_text(f.ratio, "%.4f").c_str(),
                          f.units.c_str());
            out << line;
        }
    } else if (!tracked.responses().empty()) {
        const ResponseSummary r = summarise(tracked.responses());
        out << "responses: new collagen I " << number_text(r.collagen1_ng) << " ng, III " << number_text(r.collagen3_ng)
            << " ng; TNF-alpha AUC " << number_text(r.tnf_auc_ng_per_ml_day) << " ng/mL d";
        // A run shorter than 3 or 7 days has no repair fraction on those days.
        if (std::isfinite(r.repair_fraction_day3)) out << "; repair fraction day 3 " << number_text(r.repair_fraction_day3);
        if (std::isfinite(r.repair_fraction_day7)) out << ", day 7 " << number_text(r.repair_fraction_day7);
        out << "\n";
    }
    out << "wrote " << recorder.path().string() << " (open the .xmf beside it in ParaView)\n";
    std::fputs(out.str().c_str(), stdout);
}

} // namespace exoderm
