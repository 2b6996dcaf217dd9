#include "io/sweep_runner.hpp"

#include "io/recorder.hpp"
#include "io/run_guard.hpp"
#include "io/run_recorder.hpp"
#include "model/scenario_load.hpp"
#include "solvers/run_tracker.hpp"
#include "solvers/simulation.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace exoderm {

SweepTable sweep_table(const SweepSpec& spec, std::vector<SweepRow> rows) {
    SweepTable t;
    t.identity = spec.identity;
    t.run_count = spec.run_count();
    for (const auto& axis : spec.axes) {
        t.axis_keys.push_back(axis.key);
        t.axis_units.push_back(axis.display_unit);
    }
    t.source_text = spec.source_text;
    t.source_path = spec.source_name;
    t.rows = std::move(rows);
    return t;
}

std::filesystem::path sweep_run_file(const std::filesystem::path& fields_folder, std::size_t index) {
    char name[40];
    std::snprintf(name, sizeof name, "run_%09zu.h5", index);
    return fields_folder / name;
}

SweepRow run_sweep_run(const SweepSpec& spec, std::size_t index, const std::filesystem::path& fields_folder) {
    const SweepRun run = spec.run(index);
    SweepRow row;
    row.index = run.index;
    row.point = run.point;
    row.replicate = run.replicate;
    row.seed = run.seed;
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
        const std::string& o = run.overrides[a];
        row.axis_values.push_back(o.substr(o.find('=') + 1));
        row.axis_numbers.push_back(a < run.axis_numbers.size() ? run.axis_numbers[a] : std::nan(""));
    }
    const auto started = std::chrono::steady_clock::now();
    try {
        const Scenario s = load_scenario_text(spec.source_text, spec.source_name, run.overrides, SweepSection::Ignore);
        Simulation simulation(s);
        std::vector<ResponseSample> responses;
        if (!spec.fields.empty() && !fields_folder.empty() && spec.keeps_fields(index)) {
            RunInfo info;
            info.scenario_name = s.name;
            info.resolved_scenario = s.resolved_text;
            info.source_scenario = s.source_text;
            info.source_path = s.source_path;
            info.command_line = "exoderm sweep " + spec.source_name + " (run " + std::to_string(index) + ")";
            info.seed = s.seed;
            const Grid& g = simulation.tissue().grid();
            Recorder recorder(sweep_run_file(fields_folder, index), true, info,
                              {g.nx, g.ny, g.nz, g.dx_um, g.dy_um, g.dz_um});
            recorder.set_compression(s.output.compression_level);
            RunRecorder run_recorder(recorder, s, simulation);
            run_recorder.select_fields(spec.fields, spec.field_times_s);
            RunGuard guard(&recorder, simulation, "run " + std::to_string(index), false);
            ObserverList observers({&guard, &run_recorder});
            simulation.run(observers);
            run_recorder.write_summary(0.0);
            recorder.finish();
            row.values = run_recorder.tracker().summary();
            responses = run_recorder.tracker().responses();
        } else {
            RunTracker tracker(s);
            RunGuard guard(nullptr, simulation, "run " + std::to_string(index), false);
            ObserverList observers({&guard, &tracker});
            simulation.run(observers);
            row.values = tracker.summary();
            responses = tracker.responses();
        }
        if (s.cells.enabled && s.responses.vehicle_control) {
            const Scenario control = vehicle_control_of(s);
            Simulation control_simulation(control);
            RunTracker control_tracker(control);
            RunGuard control_guard(nullptr, control_simulation, "vehicle control of run " + std::to_string(index), false);
            ObserverList control_observers({&control_guard, &control_tracker});
            control_simulation.run(control_observers);
            for (auto& v : control_summary(responses, control_tracker.responses()))
                row.values.push_back(std::move(v));
        }
        row.ok = true;
    } catch (const std::exception& e) {
        row.ok = false;
        row.error = e.what();
        row.values.clear();
    }
    row.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return row;
}

void run_sweep_runs(const SweepSpec& spec, const std::vector<std::size_t>& indices, const SweepJournal& journal,
                    const std::function<void(const SweepRow&)>& on_done, const std::function<bool()>& stop) {
    const int threads = omp_get_max_threads();
    const int outer = std::max(1, std::min<int>(threads, static_cast<int>(indices.size())));
    const int inner = std::max(1, threads / outer);
    const int levels = omp_get_max_active_levels();
    omp_set_max_active_levels(2);
    std::exception_ptr failure;
    std::atomic<bool> failed{false};
#pragma omp parallel for num_threads(outer) schedule(dynamic, 1)
    for (std::ptrdiff_t k = 0; k < static_cast<std::ptrdiff_t>(indices.size()); ++k) {
        // Asked to stop: runs not yet started are skipped (they stay pending in the journal).
        if (failed || (stop && stop())) continue;
        omp_set_num_threads(inner);
        const SweepRow row = run_sweep_run(spec, indices[static_cast<std::size_t>(k)], journal.folder());
        try {
            journal.record(row);
        } catch (...) {
#pragma omp critical(sweep_failure)
            if (!failure) failure = std::current_exception();
            failed = true;
            continue;
        }
#pragma omp critical(sweep_done)
        on_done(row);
    }
    omp_set_max_active_levels(levels);
    if (failure) std::rethrow_exception(failure);
}

} // namespace exoderm
