// XDMF2 index of a recorder output, so ParaView (XDMFReader) can open the HDF5 file as a
// time series of cell-centred fields on the uniform grid. Layout: docs/output-format.md.
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

// A point set of one snapshot: a Polyvertex grid with node attributes.
struct PointStep {
    double time_s = 0.0;
    std::size_t count = 0;
    std::string xyz_object;          // e.g. "/particles/000000/xyz", count x 3
    std::vector<FieldRef> attributes; // count values each
};

struct Document {
    GridInfo grid;
    std::string hdf5_file_name;          // file name only: resolved relative to the .xmf
    std::vector<FieldRef> static_fields; // repeated in every step so each frame is complete
    std::vector<Step> steps;             // no steps: one untimed grid with the static fields
    // Point sets: a second temporal collection "particles" beside the fields (empty sets are
    // left out, as XDMF readers do not take a grid of zero points).
    std::vector<PointStep> point_steps;
};

// The XML text.
std::string render(const Document& document);

// Writes render(document) to "<xmf_path>.part", then renames it to xmf_path, so a reader
// never sees a half-written index. Throws OutputError on failure.
void write_file(const std::filesystem::path& xmf_path, const Document& document);

} // namespace exoderm::xdmf
