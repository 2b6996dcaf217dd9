#include "io/xdmf.hpp"

#include <array>
#include <charconv>
#include <fstream>
#include <sstream>
#include <system_error>

#include "model/errors.hpp"

namespace exoderm::xdmf {
namespace {

// Shortest text that reads back to the same double, so times and spacings are exact.
std::string number(double value) {
    std::array<char, 32> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    return std::string(buffer.data(), result.ptr);
}

std::string escape_xml(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default: out += c;
        }
    }
    return out;
}

// XDMF lists dimensions slowest-varying first: Z Y X, matching the [z][y][x] datasets.
std::string cell_dimensions(const GridInfo& grid) {
    return std::to_string(grid.nz) + " " + std::to_string(grid.ny) + " " + std::to_string(grid.nx);
}

// 3DCoRectMesh counts nodes (cell corners), one more than cells along each axis.
std::string node_dimensions(const GridInfo& grid) {
    return std::to_string(grid.nz + 1) + " " + std::to_string(grid.ny + 1) + " " +
           std::to_string(grid.nx + 1);
}

// One 3DCoRectMesh grid: the main grid (origin 0 0 0) or a declared grid (origin z0 0 0).
void write_mesh_grid(std::ostringstream& out, const std::string& hdf5_file_name, const std::string& name,
                     const GridInfo& grid, double origin_z_um, const double* time_s,
                     const std::vector<FieldRef>& fields, const std::vector<FieldRef>& static_fields) {
    const std::string indent = "      ";
    out << "    <Grid Name=\"" << escape_xml(name) << "\" GridType=\"Uniform\">\n";
    if (time_s != nullptr) {
        out << indent << "<Time Value=\"" << number(*time_s) << "\"/>\n";
    }
    out << indent << "<Topology TopologyType=\"3DCoRectMesh\" Dimensions=\"" << node_dimensions(grid)
        << "\"/>\n";
    // Origin and spacing in XDMF's Z Y X order, in um. The main grid starts at the skin surface
    // corner; z grows into the skin (downwards). A declared grid starts at depth origin_z_um.
    out << indent << "<Geometry GeometryType=\"ORIGIN_DXDYDZ\">\n"
        << indent << "  <DataItem Name=\"Origin\" Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\" "
                     "Format=\"XML\">"
        << number(origin_z_um + 0.0) << " 0 0</DataItem>\n" // + 0.0: never "-0"
        << indent << "  <DataItem Name=\"Spacing\" Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\" "
                     "Format=\"XML\">"
        << number(grid.dz_um) << " " << number(grid.dy_um) << " " << number(grid.dx_um) << "</DataItem>\n"
        << indent << "</Geometry>\n";
    auto write_attribute = [&](const FieldRef& field) {
        out << indent << "<Attribute Name=\"" << escape_xml(field.name)
            << "\" AttributeType=\"Scalar\" Center=\"Cell\">\n"
            << indent << "  <DataItem Dimensions=\"" << cell_dimensions(grid)
            << "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">" << escape_xml(hdf5_file_name) << ":"
            << escape_xml(field.hdf5_object) << "</DataItem>\n"
            << indent << "</Attribute>\n";
    };
    for (const FieldRef& field : fields) write_attribute(field);
    for (const FieldRef& field : static_fields) write_attribute(field);
    out << "    </Grid>\n";
}

void write_point_grid(std::ostringstream& out, const Document& document, const std::string& collection,
                      const PointStep& step) {
    const std::string indent = "      ";
    const std::string n = std::to_string(step.count);
    out << "    <Grid Name=\"" << escape_xml(collection) << "_" << step.snapshot << "\" GridType=\"Uniform\">\n"
        << indent << "<Time Value=\"" << number(step.time_s) << "\"/>\n"
        << indent << "<Topology TopologyType=\"Polyvertex\" NumberOfElements=\"" << n
        << "\" NodesPerElement=\"1\"/>\n"
        << indent << "<Geometry GeometryType=\"XYZ\">\n"
        << indent << "  <DataItem Dimensions=\"" << n
        << " 3\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">" << escape_xml(document.hdf5_file_name) << ":"
        << escape_xml(step.xyz_object) << "</DataItem>\n"
        << indent << "</Geometry>\n";
    for (const FieldRef& attribute : step.attributes) {
        out << indent << "<Attribute Name=\"" << escape_xml(attribute.name)
            << "\" AttributeType=\"Scalar\" Center=\"Node\">\n"
            << indent << "  <DataItem Dimensions=\"" << n << "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">"
            << escape_xml(document.hdf5_file_name) << ":" << escape_xml(attribute.hdf5_object) << "</DataItem>\n"
            << indent << "</Attribute>\n";
    }
    out << "    </Grid>\n";
}

void open_collection(std::ostringstream& out, const std::string& name) {
    out << "  <Grid Name=\"" << escape_xml(name) << "\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
}

} // namespace

std::string render(const Document& document) {
    std::ostringstream out;
    out << "<?xml version=\"1.0\" ?>\n"
        << "<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n"
        << "<!-- exoderm output index. Axes in um; z is depth into the skin (z = 0 at the surface,\n"
        << "     increasing downwards). Data: " << escape_xml(document.hdf5_file_name) << " -->\n"
        << "<Xdmf Version=\"2.0\">\n"
        << "  <Domain>\n";
    const std::vector<FieldRef> no_fields;
    if (document.steps.empty()) {
        write_mesh_grid(out, document.hdf5_file_name, "static", document.grid, 0.0, nullptr, no_fields,
                        document.static_fields);
    } else {
        open_collection(out, "snapshots");
        for (std::size_t i = 0; i < document.steps.size(); ++i) {
            const Step& step = document.steps[i];
            write_mesh_grid(out, document.hdf5_file_name, "snapshot_" + std::to_string(i), document.grid, 0.0,
                            &step.time_s, step.fields, document.static_fields);
        }
        out << "  </Grid>\n";
    }
    // Points (simulated vesicles, cell agents) beside the fields: x, y, z in um like the field grid.
    for (const PointCollection& collection : document.point_sets) {
        bool any_points = false;
        for (const PointStep& step : collection.steps) any_points = any_points || step.count > 0;
        if (!any_points) continue;
        open_collection(out, collection.name);
        for (const PointStep& step : collection.steps)
            if (step.count > 0) write_point_grid(out, document, collection.name, step);
        out << "  </Grid>\n";
    }
    // Further grids, each in its own place below the skin surface.
    for (const SubGrid& grid : document.grids) {
        if (grid.steps.empty()) continue;
        open_collection(out, grid.name);
        for (const GridStep& step : grid.steps) {
            write_mesh_grid(out, document.hdf5_file_name, grid.name + "_" + std::to_string(step.snapshot), grid.grid,
                            grid.origin_z_um, &step.time_s, step.fields, no_fields);
        }
        out << "  </Grid>\n";
    }
    out << "  </Domain>\n"
        << "</Xdmf>\n";
    return out.str();
}

void write_file(const std::filesystem::path& xmf_path, const Document& document) {
    const std::filesystem::path temporary = std::filesystem::path(xmf_path.string() + ".part");
    const std::string text = render(document);
    {
        std::ofstream stream(temporary, std::ios::binary | std::ios::trunc);
        if (!stream) {
            throw OutputError("cannot create XDMF index '" + temporary.string() + "'");
        }
        stream.write(text.data(), static_cast<std::streamsize>(text.size()));
        stream.close();
        if (!stream) {
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            throw OutputError("cannot write XDMF index '" + temporary.string() + "' (disk full?)");
        }
    }
    std::error_code error;
    std::filesystem::rename(temporary, xmf_path, error);
    if (error) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw OutputError("cannot rename '" + temporary.string() + "' to '" + xmf_path.string() +
                          "': " + error.message());
    }
}

} // namespace exoderm::xdmf
