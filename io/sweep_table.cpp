#include "io/sweep_table.hpp"

#include "exoderm_version.hpp"
#include "io/hdf5_handles.hpp"
#include "model/errors.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace exoderm {

namespace fs = std::filesystem;

namespace {

// ---- journal text --------------------------------------------------------------------------

std::string one_line(std::string text) {
    std::replace(text.begin(), text.end(), '\n', ' ');
    std::replace(text.begin(), text.end(), '\r', ' ');
    return text;
}

std::string number_text(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

std::string row_text(const SweepRow& r) {
    std::ostringstream out;
    out << "index " << r.index << "\npoint " << r.point << "\nreplicate " << r.replicate << "\nseed " << r.seed
        << "\nok " << (r.ok ? 1 : 0) << "\nwall_time_s " << number_text(r.wall_time_s) << "\n";
    if (!r.ok) out << "error " << one_line(r.error) << "\n";
    for (std::size_t a = 0; a < r.axis_values.size(); ++a)
        out << "axis " << number_text(r.axis_numbers[a]) << " " << one_line(r.axis_values[a]) << "\n";
    for (const auto& v : r.values) out << "value " << v.name << " " << number_text(v.value) << " " << v.units << "\n";
    out << "end\n"; // a file without it was cut short
    return out.str();
}

double parse_number(const std::string& text) {
    if (text == "nan" || text == "-nan") return std::numeric_limits<double>::quiet_NaN();
    return std::stod(text);
}

bool parse_row(const std::string& text, SweepRow& r) {
    std::istringstream in(text);
    std::string line;
    bool ended = false;
    while (std::getline(in, line)) {
        const auto space = line.find(' ');
        const std::string word = line.substr(0, space);
        const std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
        if (word == "index") r.index = std::stoull(rest);
        else if (word == "point") r.point = std::stoull(rest);
        else if (word == "replicate") r.replicate = std::stoull(rest);
        else if (word == "seed") r.seed = std::stoull(rest);
        else if (word == "ok") r.ok = rest == "1";
        else if (word == "wall_time_s") r.wall_time_s = parse_number(rest);
        else if (word == "error") r.error = rest;
        else if (word == "axis") {
            const auto s2 = rest.find(' ');
            r.axis_numbers.push_back(parse_number(rest.substr(0, s2)));
            r.axis_values.push_back(s2 == std::string::npos ? "" : rest.substr(s2 + 1));
        } else if (word == "value") {
            const auto s2 = rest.find(' ');
            const auto s3 = rest.find(' ', s2 + 1);
            NamedValue v;
            v.name = rest.substr(0, s2);
            v.value = parse_number(rest.substr(s2 + 1, s3 == std::string::npos ? std::string::npos : s3 - s2 - 1));
            v.units = s3 == std::string::npos ? "" : rest.substr(s3 + 1);
            r.values.push_back(std::move(v));
        } else if (word == "end") ended = true;
    }
    return ended;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_atomically(const fs::path& path, const std::string& text) {
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) throw OutputError(tmp.string() + ": cannot write (disk full or not writable?)");
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) throw OutputError(path.string() + ": cannot rename the finished record: " + ec.message());
}

// ---- HDF5 ----------------------------------------------------------------------------------

void check(bool ok, const std::string& what) {
    if (!ok) throw OutputError(what);
}

void write_string_attribute(hid_t object, const char* name, const std::string& value, const std::string& what) {
    h5::Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    h5::Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    h5::Handle attr(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    check(attr.valid(), what);
    const char* data = value.c_str();
    check(H5Awrite(attr.get(), type.get(), &data) >= 0, what);
}

void write_int_attribute(hid_t object, const char* name, long long value, const std::string& what) {
    h5::Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    h5::Handle attr(H5Acreate2(object, name, H5T_NATIVE_LLONG, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    check(attr.valid() && H5Awrite(attr.get(), H5T_NATIVE_LLONG, &value) >= 0, what);
}

template <class T>
void write_vector(hid_t group, const std::string& name, hid_t type, const std::vector<T>& values, const std::string& units,
                  const std::string& what) {
    const hsize_t n = values.size();
    h5::Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    h5::Handle set(H5Dcreate2(group, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    check(set.valid(), what);
    if (n > 0) check(H5Dwrite(set.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0, what);
    if (!units.empty()) write_string_attribute(set.get(), "units", units, what);
}

void write_strings(hid_t group, const std::string& name, const std::vector<std::string>& values, const std::string& what) {
    h5::Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    std::vector<const char*> data;
    for (const auto& v : values) data.push_back(v.c_str());
    write_vector(group, name, type.get(), data, "", what);
}

std::string read_string_attribute(hid_t object, const char* name) {
    if (H5Aexists(object, name) <= 0) return {};
    h5::Handle attr(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
    h5::Handle type(H5Aget_type(attr.get()), H5Tclose);
    h5::Handle memtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memtype.get(), H5T_VARIABLE);
    H5Tset_cset(memtype.get(), H5T_CSET_UTF8);
    char* data = nullptr;
    if (H5Aread(attr.get(), memtype.get(), &data) < 0 || data == nullptr) return {};
    std::string out(data);
    H5free_memory(data);
    return out;
}

long long read_int_attribute(hid_t object, const char* name) {
    if (H5Aexists(object, name) <= 0) return -1;
    h5::Handle attr(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
    long long v = -1;
    H5Aread(attr.get(), H5T_NATIVE_LLONG, &v);
    return v;
}

template <class T>
std::vector<T> read_vector(hid_t group, const std::string& name, hid_t type) {
    h5::Handle set(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!set.valid()) throw InputError("missing dataset " + name);
    h5::Handle space(H5Dget_space(set.get()), H5Sclose);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(space.get(), &n, nullptr);
    std::vector<T> out(n);
    if (n > 0 && H5Dread(set.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
        throw InputError("cannot read dataset " + name);
    return out;
}

std::vector<std::string> read_strings(hid_t group, const std::string& name) {
    h5::Handle memtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memtype.get(), H5T_VARIABLE);
    H5Tset_cset(memtype.get(), H5T_CSET_UTF8);
    auto raw = read_vector<char*>(group, name, memtype.get());
    std::vector<std::string> out;
    for (char* s : raw) {
        out.emplace_back(s ? s : "");
        H5free_memory(s);
    }
    return out;
}

std::string column_name(std::size_t a, const std::string& key) { return "axis_" + std::to_string(a) + "_" + key; }

} // namespace

fs::path journal_folder(const fs::path& result) { return fs::path(result.string() + ".runs"); }

SweepJournal::SweepJournal(fs::path folder, const std::string& identity) : folder_(std::move(folder)) {
    std::error_code ec;
    fs::create_directories(folder_, ec);
    if (ec || !fs::is_directory(folder_))
        throw OutputError(folder_.string() + ": cannot create the sweep journal folder: " + ec.message());
    const fs::path id_file = folder_ / "sweep.identity";
    if (fs::exists(id_file)) {
        if (slurp(id_file) != identity)
            throw InputError(folder_.string() + ": this journal belongs to a different sweep (other axes, values, seeds "
                                                "or base scenario); use another output name, or --restart to discard it");
    } else {
        write_atomically(id_file, identity);
    }
}

std::set<std::size_t> SweepJournal::finished() const {
    std::set<std::size_t> done;
    for (const auto& r : rows()) done.insert(r.index);
    return done;
}

void SweepJournal::record(const SweepRow& row) const {
    char name[40];
    std::snprintf(name, sizeof name, "run_%09zu.txt", row.index);
    write_atomically(folder_ / name, row_text(row));
}

std::vector<SweepRow> SweepJournal::rows() const {
    std::vector<SweepRow> out;
    for (const auto& entry : fs::directory_iterator(folder_)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("run_", 0) != 0 || entry.path().extension() != ".txt") continue;
        SweepRow r;
        if (parse_row(slurp(entry.path()), r)) out.push_back(std::move(r));
    }
    std::sort(out.begin(), out.end(), [](const SweepRow& a, const SweepRow& b) { return a.index < b.index; });
    return out;
}

void write_sweep_table(const fs::path& path, const SweepTable& t) {
    const fs::path part = path.string() + ".part";
    const std::string what = "cannot write " + part.string();
    {
        h5::Handle file(H5Fcreate(part.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
        check(file.valid(), what + " (folder missing or not writable?)");
        const hid_t root = file.get();
        write_string_attribute(root, "format", "exoderm-sweep", what);
        write_int_attribute(root, "format_version", 1, what);
        write_string_attribute(root, "exoderm_version", kVersion, what);
        write_string_attribute(root, "git_commit", kGitCommit, what);
        write_string_attribute(root, "identity", t.identity, what);
        write_string_attribute(root, "source_text", t.source_text, what);
        write_string_attribute(root, "source_path", t.source_path, what);
        write_string_attribute(root, "command_line", t.command_line, what);
        write_int_attribute(root, "run_count", static_cast<long long>(t.run_count), what);
        write_int_attribute(root, "rows", static_cast<long long>(t.rows.size()), what);
        write_int_attribute(root, "complete", 0, what);

        h5::Handle runs(H5Gcreate2(root, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
        check(runs.valid(), what);
        const hid_t g = runs.get();
        std::vector<unsigned long long> index, point, replicate, seed;
        std::vector<int> ok;
        std::vector<double> wall;
        std::vector<std::string> errors;
        for (const auto& r : t.rows) {
            index.push_back(r.index);
            point.push_back(r.point);
            replicate.push_back(r.replicate);
            seed.push_back(r.seed);
            ok.push_back(r.ok ? 1 : 0);
            wall.push_back(r.wall_time_s);
            errors.push_back(r.error);
        }
        write_vector(g, "index", H5T_NATIVE_ULLONG, index, "", what);
        write_vector(g, "point", H5T_NATIVE_ULLONG, point, "", what);
        write_vector(g, "replicate", H5T_NATIVE_ULLONG, replicate, "", what);
        write_vector(g, "seed", H5T_NATIVE_ULLONG, seed, "", what);
        write_vector(g, "ok", H5T_NATIVE_INT, ok, "", what);
        write_vector(g, "wall_time_s", H5T_NATIVE_DOUBLE, wall, "s", what);
        write_strings(g, "error", errors, what);
        // Axes: the value as written and its number.
        std::string axis_list;
        for (std::size_t a = 0; a < t.axis_keys.size(); ++a) {
            std::vector<double> numbers;
            std::vector<std::string> texts;
            for (const auto& r : t.rows) {
                numbers.push_back(a < r.axis_numbers.size() ? r.axis_numbers[a] : std::nan(""));
                texts.push_back(a < r.axis_values.size() ? r.axis_values[a] : "");
            }
            write_vector(g, column_name(a, t.axis_keys[a]), H5T_NATIVE_DOUBLE, numbers, t.axis_units[a], what);
            write_strings(g, column_name(a, t.axis_keys[a]) + "_text", texts, what);
            axis_list += (a ? " " : "") + t.axis_keys[a];
        }
        write_string_attribute(g, "axes", axis_list, what);
        // Metrics: the union of the names of all rows, in first-seen order; NaN where missing.
        std::vector<std::string> names;
        std::map<std::string, std::string> units;
        for (const auto& r : t.rows)
            for (const auto& v : r.values)
                if (!units.count(v.name)) {
                    names.push_back(v.name);
                    units[v.name] = v.units;
                }
        std::string metric_list;
        for (const auto& name : names) {
            std::vector<double> column;
            for (const auto& r : t.rows) {
                double value = std::nan("");
                for (const auto& v : r.values)
                    if (v.name == name) value = v.value;
                column.push_back(value);
            }
            write_vector(g, name, H5T_NATIVE_DOUBLE, column, units[name], what);
            metric_list += (metric_list.empty() ? "" : " ") + name;
        }
        write_string_attribute(g, "metrics", metric_list, what);
        check(H5Fflush(root, H5F_SCOPE_GLOBAL) >= 0, what);
        h5::Handle space(H5Screate(H5S_SCALAR), H5Sclose);
        h5::Handle flag(H5Aopen(root, "complete", H5P_DEFAULT), H5Aclose);
        const long long one = 1;
        check(H5Awrite(flag.get(), H5T_NATIVE_LLONG, &one) >= 0, what);
        flag.close();
        runs.close();
        check(file.close(), what);
    }
    std::error_code ec;
    fs::rename(part, path, ec);
    if (ec) throw OutputError("cannot rename " + part.string() + " to " + path.string() + ": " + ec.message());
}

SweepTable read_sweep_table(const fs::path& path) {
    if (!fs::exists(path)) throw InputError(path.string() + ": no such file");
    H5E_auto2_t old_func;
    void* old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    SweepTable t;
    try {
        h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
        if (!file.valid()) throw InputError(path.string() + ": not an HDF5 file");
        const hid_t root = file.get();
        if (read_string_attribute(root, "format") != "exoderm-sweep")
            throw InputError(path.string() + ": not an exoderm sweep result");
        if (read_int_attribute(root, "complete") != 1)
            throw InputError(path.string() + ": incomplete sweep result (complete = 0)");
        t.identity = read_string_attribute(root, "identity");
        t.source_text = read_string_attribute(root, "source_text");
        t.source_path = read_string_attribute(root, "source_path");
        t.command_line = read_string_attribute(root, "command_line");
        t.run_count = static_cast<std::size_t>(read_int_attribute(root, "run_count"));
        h5::Handle runs(H5Gopen2(root, "runs", H5P_DEFAULT), H5Gclose);
        const hid_t g = runs.get();
        const auto index = read_vector<unsigned long long>(g, "index", H5T_NATIVE_ULLONG);
        const auto point = read_vector<unsigned long long>(g, "point", H5T_NATIVE_ULLONG);
        const auto replicate = read_vector<unsigned long long>(g, "replicate", H5T_NATIVE_ULLONG);
        const auto seed = read_vector<unsigned long long>(g, "seed", H5T_NATIVE_ULLONG);
        const auto ok = read_vector<int>(g, "ok", H5T_NATIVE_INT);
        const auto wall = read_vector<double>(g, "wall_time_s", H5T_NATIVE_DOUBLE);
        const auto errors = read_strings(g, "error");
        t.rows.resize(index.size());
        for (std::size_t i = 0; i < index.size(); ++i) {
            auto& r = t.rows[i];
            r.index = index[i];
            r.point = point[i];
            r.replicate = replicate[i];
            r.seed = seed[i];
            r.ok = ok[i] != 0;
            r.wall_time_s = wall[i];
            r.error = errors[i];
        }
        std::istringstream axes(read_string_attribute(g, "axes"));
        for (std::string key; axes >> key;) {
            const std::size_t a = t.axis_keys.size();
            t.axis_keys.push_back(key);
            h5::Handle set(H5Dopen2(g, column_name(a, key).c_str(), H5P_DEFAULT), H5Dclose);
            t.axis_units.push_back(read_string_attribute(set.get(), "units"));
            const auto numbers = read_vector<double>(g, column_name(a, key), H5T_NATIVE_DOUBLE);
            const auto texts = read_strings(g, column_name(a, key) + "_text");
            for (std::size_t i = 0; i < t.rows.size(); ++i) {
                t.rows[i].axis_numbers.push_back(numbers[i]);
                t.rows[i].axis_values.push_back(texts[i]);
            }
        }
        std::istringstream metrics(read_string_attribute(g, "metrics"));
        for (std::string name; metrics >> name;) {
            h5::Handle set(H5Dopen2(g, name.c_str(), H5P_DEFAULT), H5Dclose);
            const std::string units = read_string_attribute(set.get(), "units");
            const auto column = read_vector<double>(g, name, H5T_NATIVE_DOUBLE);
            for (std::size_t i = 0; i < t.rows.size(); ++i)
                if (t.rows[i].ok || !std::isnan(column[i])) t.rows[i].values.push_back({name, column[i], units});
        }
    } catch (...) {
        H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
        throw;
    }
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    return t;
}

} // namespace exoderm
