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

void write_uniform_grid(std::ostringstream& out, const Document& document, const std::string& name,
                        const Step* step) {
    const GridInfo& grid = document.grid;
    const std::string indent = "      ";
    out << "    <Grid Name=\"" << escape_xml(name) << "\" GridType=\"Uniform\">\n";
    if (step != nullptr) {
        out << indent << "<Time Value=\"" << number(step->time_s) << "\"/>\n";
    }
    out << indent << "<Topology TopologyType=\"3DCoRectMesh\" Dimensions=\"" << node_dimensions(grid)
        << "\"/>\n";
    // Origin at the skin surface corner; z grows into the skin (downwards), in um.
    out << indent << "<Geometry GeometryType=\"ORIGIN_DXDYDZ\">\n"
        << indent << "  <DataItem Name=\"Origin\" Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\" "
                     "Format=\"XML\">0 0 0</DataItem>\n"
        << indent << "  <DataItem Name=\"Spacing\" Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\" "
                     "Format=\"XML\">"
        << number(grid.dz_um) << " " << number(grid.dy_um) << " " << number(grid.dx_um) << "</DataItem>\n"
        << indent << "</Geometry>\n";
    auto write_attribute = [&](const FieldRef& field) {
        out << indent << "<Attribute Name=\"" << escape_xml(field.name)
            << "\" AttributeType=\"Scalar\" Center=\"Cell\">\n"
            << indent << "  <DataItem Dimensions=\"" << cell_dimensions(grid)
            << "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">"
            << escape_xml(document.hdf5_file_name) << ":" << escape_xml(field.hdf5_object) << "</DataItem>\n"
            << indent << "</Attribute>\n";
    };
    if (step != nullptr) {
        for (const FieldRef& field : step->fields) write_attribute(field);
    }
    for (const FieldRef& field : document.static_fields) write_attribute(field);
    out << "    </Grid>\n";
}

void write_point_grid(std::ostringstream& out, const Document& document, const PointStep& step, std::size_t index) {
    const std::string indent = "      ";
    const std::string n = std::to_string(step.count);
    out << "    <Grid Name=\"particles_" << index << "\" GridType=\"Uniform\">\n"
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

} // namespace

std::string render(const Document& document) {
    std::ostringstream out;
    out << "<?xml version=\"1.0\" ?>\n"
        << "<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n"
        << "<!-- exoderm output index. Axes in um; z is depth into the skin (z = 0 at the surface,\n"
        << "     increasing downwards). Data: " << escape_xml(document.hdf5_file_name) << " -->\n"
        << "<Xdmf Version=\"2.0\">\n"
        << "  <Domain>\n";
    if (document.steps.empty()) {
        write_uniform_grid(out, document, "static", nullptr);
    } else {
        out << "  <Grid Name=\"snapshots\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
        for (std::size_t i = 0; i < document.steps.size(); ++i) {
            write_uniform_grid(out, document, "snapshot_" + std::to_string(i), &document.steps[i]);
        }
        out << "  </Grid>\n";
    }
    bool any_points = false;
    for (const PointStep& step : document.point_steps) any_points = any_points || step.count > 0;
    if (any_points) {
        // Points (simulated vesicles) beside the fields: x, y, z in um like the field grid.
        out << "  <Grid Name=\"particles\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
        for (std::size_t i = 0; i < document.point_steps.size(); ++i)
            if (document.point_steps[i].count > 0) write_point_grid(out, document, document.point_steps[i], i);
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
