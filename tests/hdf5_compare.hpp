// A recursive comparer of two HDF5 files for the checkpoint tests: every group, dataset and
// attribute of one must be in the other with the same type, shape and bytes (variable-length
// strings by their text). Attributes named in `ignored_attributes` (wall-clock timing,
// provenance of the resume) are left out. Returns the differences, one line each.
#pragma once

#include "io/hdf5_handles.hpp"

#include <hdf5.h>

#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace exoderm::testing {

namespace detail {

struct Walk {
    std::vector<std::string> names;
};

inline herr_t collect(hid_t, const char* name, const H5L_info_t*, void* data) {
    static_cast<Walk*>(data)->names.push_back(name);
    return 0;
}

inline std::vector<std::string> links(hid_t group) {
    Walk walk;
    H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &walk);
    return walk.names;
}

// The values of a dataset or attribute as bytes; variable-length strings as their text.
inline std::string value_bytes(hid_t object, bool attribute) {
    h5::Handle type(attribute ? H5Aget_type(object) : H5Dget_type(object), H5Tclose);
    h5::Handle space(attribute ? H5Aget_space(object) : H5Dget_space(object), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (H5Tis_variable_str(type.get()) > 0) {
        std::vector<char*> text(static_cast<std::size_t>(n), nullptr);
        const herr_t status = attribute ? H5Aread(object, type.get(), text.data())
                                        : H5Dread(object, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, text.data());
        std::string all = status < 0 ? "<unreadable>" : "";
        for (char* t : text) {
            all += t ? t : "<null>";
            all += '\0';
        }
        if (status >= 0) H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, text.data());
        return all;
    }
    std::string bytes(static_cast<std::size_t>(n) * H5Tget_size(type.get()), '\0');
    if (n == 0) return bytes;
    const herr_t status = attribute ? H5Aread(object, type.get(), bytes.data())
                                    : H5Dread(object, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
    return status < 0 ? "<unreadable>" : bytes;
}

inline std::string shape(hid_t space) {
    const int rank = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank > 0 ? rank : 0));
    if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    std::string s = "(";
    for (hsize_t d : dims) s += std::to_string(d) + ",";
    return s + ")";
}

struct AttributeNames {
    std::vector<std::string> names;
};

inline herr_t collect_attribute(hid_t, const char* name, const H5A_info_t*, void* data) {
    static_cast<AttributeNames*>(data)->names.push_back(name);
    return 0;
}

inline void compare_attributes(hid_t a, hid_t b, const std::string& path, const std::set<std::string>& ignored,
                               std::vector<std::string>& out) {
    AttributeNames na, nb;
    hsize_t at = 0;
    H5Aiterate2(a, H5_INDEX_NAME, H5_ITER_INC, &at, collect_attribute, &na);
    at = 0;
    H5Aiterate2(b, H5_INDEX_NAME, H5_ITER_INC, &at, collect_attribute, &nb);
    std::set<std::string> all(na.names.begin(), na.names.end());
    all.insert(nb.names.begin(), nb.names.end());
    for (const std::string& name : all) {
        if (ignored.count(name) || ignored.count(path + "@" + name)) continue;
        const bool in_a = H5Aexists(a, name.c_str()) > 0, in_b = H5Aexists(b, name.c_str()) > 0;
        if (in_a != in_b) {
            out.push_back(path + "@" + name + ": only in " + (in_a ? "the first" : "the second") + " file");
            continue;
        }
        h5::Handle xa(H5Aopen(a, name.c_str(), H5P_DEFAULT), H5Aclose), xb(H5Aopen(b, name.c_str(), H5P_DEFAULT), H5Aclose);
        if (value_bytes(xa.get(), true) != value_bytes(xb.get(), true)) out.push_back(path + "@" + name + ": values differ");
    }
}

inline void compare_group(hid_t a, hid_t b, const std::string& path, const std::set<std::string>& ignored,
                          std::vector<std::string>& out) {
    compare_attributes(a, b, path.empty() ? "/" : path, ignored, out);
    const auto la = links(a), lb = links(b);
    std::set<std::string> all(la.begin(), la.end());
    all.insert(lb.begin(), lb.end());
    for (const std::string& name : all) {
        const std::string child = path + "/" + name;
        const bool in_a = H5Lexists(a, name.c_str(), H5P_DEFAULT) > 0, in_b = H5Lexists(b, name.c_str(), H5P_DEFAULT) > 0;
        if (in_a != in_b) {
            out.push_back(child + ": only in " + std::string(in_a ? "the first" : "the second") + " file");
            continue;
        }
        H5O_info_t ia{}, ib{};
        H5Oget_info_by_name(a, name.c_str(), &ia, H5P_DEFAULT);
        H5Oget_info_by_name(b, name.c_str(), &ib, H5P_DEFAULT);
        if (ia.type != ib.type) {
            out.push_back(child + ": different kinds of object");
        } else if (ia.type == H5O_TYPE_GROUP) {
            h5::Handle ga(H5Gopen2(a, name.c_str(), H5P_DEFAULT), H5Gclose), gb(H5Gopen2(b, name.c_str(), H5P_DEFAULT), H5Gclose);
            compare_group(ga.get(), gb.get(), child, ignored, out);
        } else if (ia.type == H5O_TYPE_DATASET) {
            h5::Handle da(H5Dopen2(a, name.c_str(), H5P_DEFAULT), H5Dclose), db(H5Dopen2(b, name.c_str(), H5P_DEFAULT), H5Dclose);
            h5::Handle ta(H5Dget_type(da.get()), H5Tclose), tb(H5Dget_type(db.get()), H5Tclose);
            h5::Handle sa(H5Dget_space(da.get()), H5Sclose), sb(H5Dget_space(db.get()), H5Sclose);
            if (H5Tequal(ta.get(), tb.get()) <= 0) out.push_back(child + ": types differ");
            else if (shape(sa.get()) != shape(sb.get()))
                out.push_back(child + ": shapes differ " + shape(sa.get()) + " " + shape(sb.get()));
            else if (value_bytes(da.get(), false) != value_bytes(db.get(), false)) out.push_back(child + ": bytes differ");
            compare_attributes(da.get(), db.get(), child, ignored, out);
        }
    }
}

} // namespace detail

// Counts every dataset compared, so a test can check the comparison was not empty.
inline std::vector<std::string> compare_hdf5(const std::filesystem::path& a, const std::filesystem::path& b,
                                             const std::set<std::string>& ignored_attributes) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    h5::Handle fa(H5Fopen(a.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    h5::Handle fb(H5Fopen(b.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!fa.valid() || !fb.valid()) return {"cannot open " + (fa.valid() ? b : a).string()};
    std::vector<std::string> out;
    detail::compare_group(fa.get(), fb.get(), "", ignored_attributes, out);
    return out;
}

// Paths of every dataset in a file (to show a comparison covered something).
inline void list_datasets(hid_t group, const std::string& path, std::vector<std::string>& out) {
    for (const std::string& name : detail::links(group)) {
        H5O_info_t info{};
        H5Oget_info_by_name(group, name.c_str(), &info, H5P_DEFAULT);
        if (info.type == H5O_TYPE_DATASET) out.push_back(path + "/" + name);
        if (info.type == H5O_TYPE_GROUP) {
            h5::Handle g(H5Gopen2(group, name.c_str(), H5P_DEFAULT), H5Gclose);
            list_datasets(g.get(), path + "/" + name, out);
        }
    }
}

} // namespace exoderm::testing
