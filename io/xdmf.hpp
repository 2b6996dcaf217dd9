// XDMF2 index of a recorder output, so ParaView (XDMFReader) can open the HDF5 file as a
// time series of cell-centred fields on the uniform grid, plus point sets and further grids.
// Layout: docs/output-format.md.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "io/recorder.hpp"

namespace exoderm::xdmf {

struct FieldRef {
    std::string name;        // attribute name shown in ParaView, e.g. "free"
    std::string hdf5_object; // dataset path inside the HDF5 file, e.g. "/snapshots/000000/free"
};

struct Step {
    double time_s = 0.0;
    std::vector<FieldRef> fields;
};

// A point set of one snapshot: a Polyvertex grid "<collection name>_<snapshot>" with node
// attributes.
struct PointStep {
    double time_s = 0.0;
    std::size_t snapshot = 0;         // snapshot index NNNNNN
    std::size_t count = 0;
    std::string xyz_object;           // e.g. "/particles/000000/xyz", count x 3
    std::vector<FieldRef> attributes; // count values each
};

// One named point set over the run: a temporal collection <name>, e.g. "particles", "cells".
struct PointCollection {
    std::string name;
    std::vector<PointStep> steps; // empty sets are left out when rendering
};

// Fields of a second grid at one snapshot: a 3DCoRectMesh grid "<grid name>_<snapshot>".
struct GridStep {
    double time_s = 0.0;
    std::size_t snapshot = 0;
    std::vector<FieldRef> fields;
};

// A grid declared with Recorder::declare_grid: a temporal collection <name> of its steps, with
// the origin (0, 0, origin_z_um) written in XDMF's Z Y X order as "origin_z_um 0 0".
struct SubGrid {
    std::string name;
    GridInfo grid;
    double origin_z_um = 0.0;
    std::vector<GridStep> steps;
};

struct Document {
    GridInfo grid;
    std::string hdf5_file_name;          // file name only: resolved relative to the .xmf
    std::vector<FieldRef> static_fields; // repeated in every step so each frame is complete
    std::vector<Step> steps;             // no steps: one untimed grid with the static fields
    // Point sets: further temporal collections beside the fields, one per name (empty sets are
    // left out, as XDMF readers do not take a grid of zero points; a set that is always empty
    // has no collection).
    std::vector<PointCollection> point_sets;
    // Further grids: one temporal collection each, after the point sets (a grid with no steps
    // has no collection).
    std::vector<SubGrid> grids;
};

// The XML text.
std::string render(const Document& document);

// Writes render(document) to "<xmf_path>.part", then renames it to xmf_path, so a reader
// never sees a half-written index. Throws OutputError on failure.
void write_file(const std::filesystem::path& xmf_path, const Document& document);

} // namespace exoderm::xdmf
