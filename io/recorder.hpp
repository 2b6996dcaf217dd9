// Recorder: writes one run to HDF5 (+ an XDMF index for ParaView).
//
// The file is written under "<path>.part" and renamed to <path> only by finish(), so a crash
// never leaves a file that looks complete; the root attribute "complete" is 0 until then.
// Layout: docs/output-format.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace exoderm {

struct RunInfo {
    std::string scenario_name;
    std::string resolved_scenario; // TOML text with units
    std::string source_scenario;   // the file as written
    std::string source_path;
    std::string command_line;
    std::uint64_t seed = 0;
};

// Uniform cell-centred grid; index = (z * ny + y) * nx + x, z = 0 at the skin surface.
struct GridInfo {
    int nx = 0, ny = 0, nz = 0;
    double dx_um = 0, dy_um = 0, dz_um = 0;
};

struct FieldView {
    std::string name;  // dataset name, e.g. "free"
    std::string units; // e.g. "particles/um^3"
    std::span<const double> values; // nx*ny*nz values
};

// A set of points at one snapshot (e.g. a sample of simulated vesicles or the cell agents):
// positions and per-point attributes, written under /<name> (see NamedPointSet) and shown by
// ParaView as a point cloud.
struct PointAttribute {
    std::string name;  // dataset name, e.g. "diameter_nm"
    std::string units; // e.g. "nm"
    std::span<const double> values; // one per point
};

struct PointSet {
    std::span<const double> xyz; // x, y, z of each point in um (z = depth), 3 values per point
    std::vector<PointAttribute> attributes;
    std::size_t count() const { return xyz.size() / 3; }
};

// A point set with a name: written to /<name>/NNNNNN and shown in ParaView as the XDMF temporal
// collection <name>, e.g. "particles" (the vesicle sample) or "cells" (cell agents). Names use
// A-Z a-z 0-9 _ - . and must not be a top-level group of the layout (grid, grids, scenario,
// static, snapshots, summary), a declared series group or a grid declared with declare_grid.
struct NamedPointSet {
    std::string name;
    PointSet points;
};

// Fields of one snapshot on a grid declared with Recorder::declare_grid (values: that grid's
// nx*ny*nz cells, index (z * ny + y) * nx + x).
struct GridFields {
    std::string grid;
    std::vector<FieldView> fields;
};

// Everything written at one output time. Each part is optional: a run without 3D fields on the
// main grid still gets /snapshots/NNNNNN (with its time_s) and an entry in /snapshots/time_s.
struct Snapshot {
    double time_s = 0.0;
    std::vector<FieldView> fields;         // main grid, written to /snapshots/NNNNNN
    std::vector<NamedPointSet> point_sets; // each to /<name>/NNNNNN
    std::vector<GridFields> grid_fields;   // each to /grids/<grid>/NNNNNN
};

struct SeriesColumn {
    std::string name;
    std::string units;
};

// How far a run's output had got at a checkpoint: snapshots, and rows of each series.
struct RecorderPosition {
    std::uint64_t snapshots = 0;
    std::map<std::string, std::uint64_t> series_rows;
};

class Recorder {
public:
    // Fails with OutputError if the path exists and !overwrite, or the folder is not writable.
    Recorder(std::filesystem::path path, bool overwrite, const RunInfo& info, const GridInfo& grid);
    // Resumes the interrupted run's "<path>.part": snapshots and series rows after `at` are
    // dropped, and what the run declares again (series, grids, static fields) is reopened, not
    // rewritten. Throws OutputError if the .part is missing or holds less than `at`.
    Recorder(std::filesystem::path path, const RecorderPosition& at, const GridInfo& grid);
    ~Recorder(); // without finish(): the ".part" file stays, marked complete = 0
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // Static per-voxel data written once (e.g. layer index as doubles or lumen fraction).
    void write_static_field(const FieldView& field);

    // A second uniform grid, e.g. a coarse "responses" grid over the dermis: cells of
    // grid.dx_um x grid.dy_um x grid.dz_um from (0, 0, origin_z_um) um, cell-centred fields.
    // Declared once, before the snapshots that carry fields for it (Snapshot::grid_fields).
    // Written to /grids/<name>; shown in ParaView as the XDMF temporal collection <name>.
    // Throws std::invalid_argument for a bad or repeated name or grid.
    void declare_grid(const std::string& name, const GridInfo& grid, double origin_z_um);

    // A snapshot (fields on the main grid, named point sets, fields on declared grids), all with
    // the index NNNNNN = number of snapshots written before. Everything is checked before anything
    // is written: a bad name, size or undeclared grid throws std::invalid_argument.
    // An empty point set is written as 0 rows (and left out of the XDMF index).
    void write_snapshot(const Snapshot& snapshot);
    // A snapshot of 3D fields at time t_s, appended to /snapshots.
    void write_snapshot(double t_s, const std::vector<FieldView>& fields);
    // The same, plus the point set "particles" written to /particles/<same index> (an XDMF point
    // grid beside the field grid).
    void write_snapshot(double t_s, const std::vector<FieldView>& fields, const PointSet& points);

    // Time series: declare the columns once, then append rows (flushed as they come).
    void declare_series(const std::string& group, const std::vector<SeriesColumn>& columns);
    void append_series(const std::string& group, std::span<const double> row);

    // Scalar summary metrics stored as attributes of /summary.
    void write_summary(const std::string& name, double value, const std::string& units);

    // For a run that stops early (numerical fault, signal): writes the buffered rows, the root
    // attribute stopped = reason and, if asked, /snapshots attribute last_good = the index of the
    // last snapshot written (the state saved just before stopping); complete stays 0 and the file
    // keeps its .part name (finish() is not to be called after this).
    void mark_stopped(const std::string& reason, bool last_snapshot_is_last_good);

    // Sets complete = 1, closes, renames ".part" to the final name and writes the .xmf beside it.
    void finish();

    // gzip level for 3D fields written from now on: 0 = uncompressed, 1 (fast) to 9 (small).
    // Default 4. Throws std::invalid_argument outside 0..9.
    void set_compression(int level);

    // Writes buffered series rows and flushes the file to disk (done by every snapshot and by
    // finish(); call it for extra checkpoints, e.g. in a run that writes few snapshots).
    void flush();

    // Snapshots written and series rows appended so far (buffered rows included; flush() first
    // to have them in the file).
    RecorderPosition position() const;

    const std::filesystem::path& path() const;   // final name, e.g. "out.h5"
    std::filesystem::path part_path() const;     // "<path>.part", written until finish()
    std::filesystem::path xdmf_path() const;     // "<stem>.xmf" beside path(), made by finish()

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace exoderm
