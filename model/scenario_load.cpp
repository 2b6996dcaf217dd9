#include "model/scenario_load.hpp"
#include "model/toml_screen.hpp"

#include "model/wound.hpp"
#include "model/suggest.hpp"
#include "model/toml_type_name.hpp"

#include "model/errors.hpp"
#include "model/scenario_schema.hpp"
#include "model/units.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

namespace exoderm {
namespace {

using schema::Key;
using schema::Type;
using schema::Value;

// The largest grid a scenario may ask for: cell counts fit an int and voxel counts (and their
// products with a few fields and size classes) never wrap. Far beyond any memory: whether a
// grid fits is checked against the machine before a run (app/memory_check.hpp).
constexpr double kMaxCellsPerAxis = 1e9;
constexpr double kMaxVoxels = 1e12;

std::string_view trim(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}


std::string join(const std::vector<std::string>& words) {
    std::string s;
    for (const auto& w : words) s += (s.empty() ? "" : ", ") + w;
    return s;
}

// Short number for messages ("707.1 um"); resolved text uses exact formatting instead.
std::string brief(double value, std::string_view unit = {}) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4g", value);
    std::string s = buf;
    if (!unit.empty()) s.append(" ").append(unit);
    return s;
}


struct Override {
    std::string key;
    std::string raw; // the value as typed
    toml::table doc; // holds the value under "v"
    const toml::node& node() const { return *doc.get("v"); }
};

// One value being read: where it came from and how to show it in a message.
struct Site {
    std::string where; // "scenarios/x.toml:12" or "--set product.concentration"
    std::string key;   // "product.concentration" or "time.outputs[2]"
    std::string raw;   // the value as written
    bool in_file = false;
};

[[noreturn]] void fail(const Site& site, const std::string& problem) {
    // "--set product.concentration = 1e11: ..." rather than naming the key twice.
    if (!site.in_file && site.where.starts_with("--set"))
        throw InputError("--set " + site.key + " = " + site.raw + ": " + problem);
    throw InputError(site.where + ": " + site.key + " = " + site.raw + ": " + problem);
}

[[noreturn]] void wrong_type(const Key& key, const toml::node& node, const Site& site) {
    fail(site, "expected " + schema::expectation(key) + ", got " + toml_type_name(node));
}

// toml++'s rendering of a value, for values not taken from the file text.
std::string rendered(const toml::node& node) {
    if (node.is_string()) return schema::quote(*node.value<std::string>());
    std::ostringstream out;
    if (const auto* t = node.as_table()) out << *t;
    else if (const auto* a = node.as_array()) out << *a;
    else node.visit([&](const auto& v) { out << v; });
    std::string s = out.str();
    std::replace(s.begin(), s.end(), '\n', ' ');
    return s;
}

class Reader {
public:
    Reader(std::string_view text, std::string_view source_name, const std::vector<std::string>& overrides,
           SweepSection sweep)
        : text_(text), source_(source_name) {
        split_lines();
        parse_file();
        take_sweep_section(sweep);
        for (const auto& o : overrides) add_override(o);
    }

    Scenario read() {
        check_unknown(root_, "");
        Scenario s;
        read_keys(s);
        derive_defaults(s);
        validate(s);
        s.source_path = source_;
        s.source_text = std::string(text_);
        s.resolved_text = resolved_scenario_toml(s);
        return s;
    }

private:
    std::string_view text_;
    std::string source_;
    std::vector<std::string_view> lines_;
    toml::table root_;
    std::vector<Override> overrides_;
    std::set<std::string> given_;                // keys set in the file or by --set
    std::map<std::string, std::string> where_;   // key -> location, for cross-key messages

    void split_lines() {
        std::size_t start = 0;
        while (start <= text_.size()) {
            const std::size_t end = text_.find('\n', start);
            lines_.push_back(text_.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
            if (end == std::string_view::npos) break;
            start = end + 1;
        }
    }

    void parse_file() {
        std::string ascii;
        if (const auto hit = to_ascii_toml(text_, ascii))
            throw InputError(source_ + ":" + std::to_string(hit->line) + ":" + std::to_string(hit->column) +
                             ": TOML syntax error: " + describe(*hit));
        try {
            root_ = toml::parse(ascii, std::string_view(source_));
        } catch (const toml::parse_error& e) {
            const auto& at = e.source().begin;
            throw InputError(source_ + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                             ": TOML syntax error: " + std::string(e.description()));
        }
    }

    // A sweep file is a scenario file plus [sweep] (model/sweep_spec.hpp reads that part).
    void take_sweep_section(SweepSection sweep) {
        const auto it = root_.find("sweep");
        if (it == root_.end()) return;
        if (sweep == SweepSection::Ignore) {
            root_.erase(it);
            return;
        }
        const auto& region = it->first.source().begin.line ? it->first.source() : it->second.source();
        throw InputError(where(region) + ": this file has a [sweep] section: run it with \"exoderm sweep " + source_ +
                         "\" (or remove the section to run the base scenario)");
    }

    void add_override(const std::string& text) {
        const auto eq = text.find('=');
        if (eq == std::string::npos)
            throw InputError("--set " + text + ": missing '='; expected --set key=value, e.g. --set product.concentration=\"1e11 /mL\"");
        Override o;
        o.key = std::string(trim(std::string_view(text).substr(0, eq)));
        o.raw = std::string(trim(std::string_view(text).substr(eq + 1)));
        if (o.key.empty()) throw InputError("--set " + text + ": missing key before '='; expected --set key=value");
        if (!schema::find_key(o.key)) {
            std::string msg = "--set " + o.key + ": ";
            if (schema::is_section(o.key)) {
                msg += "'" + o.key + "' is a section; set one of its keys, e.g. --set " + first_key_in(o.key) + "=...";
            } else {
                std::vector<std::string> all;
                for (const auto& k : schema::keys()) all.push_back(k.path);
                msg += "unknown key '" + o.key + "'";
                const std::string guess = closest(o.key, all);
                msg += guess.empty() ? "; see docs/scenario-reference.md for the keys" : "; did you mean '" + guess + "'?";
            }
            throw InputError(msg);
        }
        if (!is_utf8(o.raw)) throw InputError("--set " + o.key + ": the value has bytes that are not UTF-8");
        // A TOML value when it is one ("[\"0 h\"]", true, 3), else the text itself (pyramid, 1e11 /mL).
        // (Text that is no TOML value, non-ASCII outside quotes included, is taken as text.)
        if (std::string ascii; !to_ascii_toml("v = " + o.raw, ascii)) try {
                toml::table doc = toml::parse(ascii, std::string_view("--set"));
                if (doc.size() == 1 && doc.contains("v")) o.doc = std::move(doc);
            } catch (const toml::parse_error&) {
            }
        // --set scenario.name=2024 means the text "2024", not a type error.
        const Type type = schema::find_key(o.key)->type;
        const bool wants_text = type == Type::Text || type == Type::Choice;
        if (!o.doc.empty() && wants_text && !o.doc.get("v")->is_string()) o.doc.clear();
        if (o.doc.empty()) o.doc.insert("v", o.raw);
        // Later --set of the same key wins.
        std::erase_if(overrides_, [&](const Override& x) { return x.key == o.key; });
        overrides_.push_back(std::move(o));
    }

    static std::string first_key_in(std::string_view section) {
        for (const auto& k : schema::keys())
            if (k.path.starts_with(std::string(section) + ".")) return k.path;
        return std::string(section);
    }

    std::string where(const toml::source_region& r) const { return source_ + ":" + std::to_string(r.begin.line); }

    // The value as written in the file, for messages; a toml++ rendering when it spans lines.
    std::string raw_text(const toml::node& node) const {
        const auto& r = node.source();
        if (r.begin.line >= 1 && r.begin.line == r.end.line && r.begin.line <= lines_.size()) {
            const std::string_view line = lines_[r.begin.line - 1];
            // Columns count code points; map them to bytes.
            const auto byte_of = [&](std::size_t column) {
                std::size_t cp = 1, i = 0;
                while (i < line.size() && cp < column) {
                    ++i;
                    while (i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) ++i;
                    ++cp;
                }
                return i;
            };
            const std::size_t b = byte_of(r.begin.column), e = byte_of(r.end.column);
            if (e > b) return std::string(trim(line.substr(b, e - b)));
        }
        return rendered(node);
    }

    // --- unknown keys and sections ---------------------------------------------------------

    void check_unknown(const toml::table& table, const std::string& prefix) {
        for (const auto& [k, node] : table) {
            const std::string name(k.str());
            const std::string path = prefix.empty() ? name : prefix + "." + name;
            const auto& region = k.source().begin.line ? k.source() : node.source();
            if (schema::find_key(path)) continue; // its type is checked when it is read
            if (schema::is_section(path)) {
                if (const auto* sub = node.as_table()) {
                    check_unknown(*sub, path);
                    continue;
                }
                throw InputError(where(region) + ": '" + path + "' is a section; write it as a table [" + path +
                                 "] holding its keys, not as " + toml_type_name(node));
            }
            std::vector<std::string> keys_here, sections_here;
            for (const auto& key : schema::keys())
                if (key.section() == prefix) keys_here.emplace_back(key.name());
            for (const auto& sec : schema::sections()) {
                const auto dot = sec.rfind('.');
                const std::string parent = dot == std::string::npos ? "" : sec.substr(0, dot);
                if (parent == prefix) sections_here.push_back(sec.substr(dot == std::string::npos ? 0 : dot + 1));
            }
            std::vector<std::string> all = keys_here;
            all.insert(all.end(), sections_here.begin(), sections_here.end());
            const std::string guess = closest(name, all);
            std::string msg = where(region) + ": ";
            msg += node.is_table() ? "unknown section '[" + path + "]'" : "unknown key '" + path + "'";
            if (!guess.empty()) {
                const bool is_sec = std::find(sections_here.begin(), sections_here.end(), guess) != sections_here.end();
                msg += "; did you mean '" + (is_sec ? "[" + (prefix.empty() ? guess : prefix + "." + guess) + "]" : guess) + "'?";
            } else if (prefix.empty()) {
                msg += "; valid sections are " + join(sections_here);
            } else {
                msg += "; valid keys in [" + prefix + "] are " + join(all);
            }
            throw InputError(msg);
        }
    }

    // --- reading keys ----------------------------------------------------------------------

    const Override* override_for(std::string_view path) const {
        for (const auto& o : overrides_)
            if (o.key == path) return &o;
        return nullptr;
    }

    const toml::node* file_node(std::string_view path) const {
        const toml::table* table = &root_;
        std::size_t start = 0;
        while (true) {
            const std::size_t dot = path.find('.', start);
            const std::string_view part = path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
            const toml::node* node = table->get(part);
            if (!node || dot == std::string_view::npos) return node;
            table = node->as_table();
            if (!table) return nullptr;
            start = dot + 1;
        }
    }

    // A --set of pitch replaces a density in the file and vice versa: the user means "this spacing".
    bool masked_by_override(std::string_view path) const {
        if (path == "microneedles.density") return override_for("microneedles.pitch") != nullptr;
        if (path == "microneedles.pitch") return override_for("microneedles.density") != nullptr;
        return false;
    }

    void read_keys(Scenario& s) {
        struct Given {
            const Key* key;
            Value value;
        };
        std::vector<Given> values;
        for (const auto& key : schema::keys()) {
            if (const Override* o = override_for(key.path)) {
                const Site site{"--set " + key.path, key.path, o->raw};
                values.push_back({&key, convert(key, o->node(), site)});
                given_.insert(key.path);
                where_[key.path] = site.where;
            } else if (const toml::node* node = masked_by_override(key.path) ? nullptr : file_node(key.path)) {
                const Site site{where(node->source()), key.path, raw_text(*node), true};
                values.push_back({&key, convert(key, *node, site)});
                given_.insert(key.path);
                where_[key.path] = site.where;
            }
        }
        if (given_.count("microneedles.pitch") && given_.count("microneedles.density"))
            throw InputError(where_["microneedles.pitch"] + ": microneedles.pitch and microneedles.density are both given (" +
                             where_["microneedles.density"] + "); give only one: pitch = 1 / sqrt(density)");
        // Defaults first, so a derived default can never overwrite a given value.
        for (const auto& key : schema::keys()) {
            if (given_.count(key.path) || key.default_toml.empty()) continue;
            if (key.path == "microneedles.density" && given_.count("microneedles.pitch")) continue;
            key.set(s, default_value(key));
        }
        for (const auto& g : values) g.key->set(s, g.value);
    }

    Value default_value(const Key& key) const {
        const toml::table doc = toml::parse("v = " + key.default_toml, std::string_view("schema default"));
        return convert(key, *doc.get("v"), Site{"schema default", key.path, key.default_toml});
    }

    Value convert(const Key& key, const toml::node& node, const Site& site) const {
        Value v = convert_type(key, node, site);
        if (key.type == Type::QuantityList) return v; // elements were checked one by one
        if (const std::string problem = schema::check_value(key, v); !problem.empty()) {
            if (key.type == Type::Choice) {
                const std::string guess = closest(std::get<std::string>(v), key.choices);
                fail(site, problem + (guess.empty() ? "" : "; did you mean \"" + guess + "\"?"));
            }
            fail(site, problem);
        }
        return v;
    }

    static double quantity(const Key& key, const toml::node& node, const Site& site) {
        if (node.is_number())
            fail(site, "missing unit; expected " + units::expectation(*key.kind) + " (a quoted string with a unit)");
        if (!node.is_string()) fail(site, "expected " + schema::expectation(key) + ", got " + toml_type_name(node));
        const std::string text = *node.value<std::string>();
        if (key.type == Type::QuantityOrNever && trim(text) == "never") return kInfinity;
        try {
            const double internal = units::parse_as(text, *key.kind);
            return key.value_unit.empty() ? internal : units::from_internal(internal, key.value_unit);
        } catch (const units::UnitError& e) {
            fail(site, std::string(e.what()) + "; expected " + schema::expectation(key));
        }
    }

    Value convert_type(const Key& key, const toml::node& node, const Site& site) const {
        switch (key.type) {
        case Type::Quantity:
        case Type::QuantityOrNever: return quantity(key, node, site);
        case Type::QuantityList: {
            const auto* array = node.as_array();
            if (!array) wrong_type(key, node, site);
            std::vector<double> out;
            Key element = key;
            element.type = Type::Quantity;
            for (std::size_t i = 0; i < array->size(); ++i) {
                const toml::node& item = *array->get(i);
                const Site at{site.in_file ? where(item.source()) : site.where, key.path + "[" + std::to_string(i) + "]",
                              site.in_file ? raw_text(item) : rendered(item), site.in_file};
                const double v = quantity(element, item, at);
                if (const std::string problem = schema::check_value(key, Value{std::vector<double>{v}}); !problem.empty())
                    fail(at, problem);
                out.push_back(v);
            }
            return out;
        }
        case Type::Number:
            if (node.is_integer()) return static_cast<double>(*node.value<std::int64_t>());
            if (node.is_floating_point()) return *node.value<double>();
            if (node.is_string()) fail(site, "expected " + schema::expectation(key) + " without quotes, got a string");
            wrong_type(key, node, site);
        case Type::Integer:
            if (node.is_integer()) return *node.value<std::int64_t>();
            wrong_type(key, node, site);
        case Type::IntegerPair: {
            const auto* array = node.as_array();
            if (!array || array->size() != 2 || !array->get(0)->is_integer() || !array->get(1)->is_integer()) wrong_type(key, node, site);
            return std::array<std::int64_t, 2>{*array->get(0)->value<std::int64_t>(), *array->get(1)->value<std::int64_t>()};
        }
        case Type::Bool:
            if (node.is_boolean()) return *node.value<bool>();
            wrong_type(key, node, site);
        case Type::Text:
        case Type::Choice:
            if (node.is_string()) return *node.value<std::string>();
            wrong_type(key, node, site);
        }
        wrong_type(key, node, site);
    }

    // --- defaults that depend on other keys ------------------------------------------------

    void derive_defaults(Scenario& s) {
        if (!given_.count("scenario.name")) {
            std::string stem = std::filesystem::path(source_).stem().string();
            s.name = stem.empty() ? "scenario" : stem;
        }
        auto& n = s.needles;
        if (!given_.count("microneedles.closure_time"))
            n.tau_close_s = units::parse_as(n.occluded ? "30 h" : "1.5 h", units::kind::time);
        const auto box = [&](int count) { return count == 0 ? n.pitch_um : n.pitch_um * count + 2.0 * n.patch_margin_um; };
        if (!given_.count("domain.size_x")) s.domain.size_x_um = box(n.array_nx);
        if (!given_.count("domain.size_y")) s.domain.size_y_um = box(n.array_ny);
        if (!given_.count("time.outputs")) {
            auto& out = s.time.output_times_s;
            std::erase_if(out, [&](double t) { return t > s.time.end_s; });
            if (out.empty() || out.back() < s.time.end_s) out.push_back(s.time.end_s);
        }
    }

    // --- rules between keys ----------------------------------------------------------------

    // Location for a message about several keys: the first of them given explicitly.
    std::string at(std::initializer_list<std::string_view> keys) const {
        for (auto k : keys)
            if (auto it = where_.find(std::string(k)); it != where_.end()) return it->second;
        return source_;
    }

    // Counts as grid_for (model/tissue.cpp) makes them, in floating point so that nothing
    // overflows here: a domain.dx of 1e-300 um must be a message, not an int overflow.
    void check_grid_size(const Scenario& s) const {
        const auto& d = s.domain;
        const double depth = s.tissue_depth_um();
        double voxels = 1.0;
        for (const auto& [axis, length, spacing, spacing_key] :
             {std::tuple{"x", d.size_x_um, d.dx_um, "domain.dx"}, std::tuple{"y", d.size_y_um, d.dx_um, "domain.dx"},
              std::tuple{"z", depth, d.dz_um, "domain.dz"}}) {
            const double cells = std::max(1.0, std::round(length / spacing));
            if (!(cells <= kMaxCellsPerAxis))
                throw InputError(at({spacing_key}) + ": grid too fine: " + spacing_key + " = " + brief(spacing, "um") +
                                 " gives " + brief(cells) + " cells along " + axis + " (" + brief(length, "um") +
                                 "); at most " + brief(kMaxCellsPerAxis) + "; use a coarser " + spacing_key);
            voxels *= cells;
        }
        if (!(voxels <= kMaxVoxels))
            throw InputError(at({"domain.dx", "domain.dz"}) + ": grid too fine: domain.dx = " + brief(d.dx_um, "um") +
                             " and domain.dz = " + brief(d.dz_um, "um") + " give " + brief(voxels) + " voxels; at most " +
                             brief(kMaxVoxels) + "; use a coarser domain.dx or domain.dz");
    }

    void validate(const Scenario& s) const {
        const auto& n = s.needles;
        const auto& d = s.domain;

        for (int i = 0; i < kLayerCount; ++i) {
            const std::string key = std::string("skin.") + kLayerKeys[i];
            const double thickness = s.layers[i].thickness_um;
            const double cells = thickness / d.dz_um;
            if (cells < d.min_cells_per_layer * (1 - 1e-12))
                throw InputError(at({key + ".thickness", "domain.dz", "domain.min_cells_per_layer"}) +
                                 ": grid too coarse to resolve " + key + ": " + brief(thickness, "um") + " is " +
                                 brief(cells) + " cells of domain.dz = " + brief(d.dz_um, "um") + "; need at least " +
                                 std::to_string(d.min_cells_per_layer) + " (domain.min_cells_per_layer); use domain.dz <= " +
                                 brief(thickness / d.min_cells_per_layer, "um"));
        }

        check_grid_size(s);

        if ((n.array_nx == 0) != (n.array_ny == 0))
            throw InputError(at({"microneedles.array"}) + ": microneedles.array = [" + std::to_string(n.array_nx) + ", " +
                             std::to_string(n.array_ny) + "]: give N > 0 and M > 0 for a patch, or [0, 0] for a periodic unit cell");

        if (n.enabled) {
            const double depth = n.channel_depth_um(), tissue = s.tissue_depth_um();
            if (depth > tissue - 2.0 * d.dz_um)
                throw InputError(at({"microneedles.needle_length", "microneedles.insertion_efficiency",
                                     "skin.dermis.thickness", "domain.dz"}) +
                                 ": microneedle channel too deep: microneedles.insertion_efficiency * microneedles.needle_length = " +
                                 brief(n.insertion_efficiency) + " * " + brief(n.needle_length_um, "um") + " = " +
                                 brief(depth, "um") + ", but the channel must end at least 2 * domain.dz = " +
                                 brief(2.0 * d.dz_um, "um") + " above the bottom of the tissue at " + brief(tissue, "um") +
                                 " (sum of skin.*.thickness); use a shorter needle or a thicker skin.dermis");
            const double mouth = 2.0 * n.mouth_half_width_um();
            if (mouth / d.dx_um < 4.0 * (1 - 1e-12))
                throw InputError(at({"domain.dx", "microneedles.base_width", "microneedles.insertion_efficiency"}) +
                                 ": grid too coarse to resolve the channel mouth: microneedles.base_width * "
                                 "microneedles.insertion_efficiency = " + brief(mouth, "um") + " is " + brief(mouth / d.dx_um) +
                                 " cells of domain.dx = " + brief(d.dx_um, "um") + "; need at least 4; use domain.dx <= " +
                                 brief(mouth / 4.0, "um"));
            if (mouth >= n.pitch_um)
                throw InputError(at({"microneedles.pitch", "microneedles.density", "microneedles.base_width"}) +
                                 ": channels overlap: the channel mouth (microneedles.base_width * insertion_efficiency = " +
                                 brief(mouth, "um") + ") is not narrower than microneedles.pitch = " + brief(n.pitch_um, "um") +
                                 "; use a larger pitch or a lower density");
        }

        const bool unit_cell = n.array_nx == 0;
        for (const auto& [axis, size, count] : {std::tuple{"x", d.size_x_um, n.array_nx}, std::tuple{"y", d.size_y_um, n.array_ny}}) {
            const std::string key = std::string("domain.size_") + axis;
            if (n.enabled && unit_cell && std::abs(size - n.pitch_um) > 1e-9 * n.pitch_um)
                throw InputError(at({key}) + ": " + key + " = " + brief(size, "um") +
                                 ": a periodic unit cell (microneedles.array = [0, 0]) is one pitch wide, microneedles.pitch = " +
                                 brief(n.pitch_um, "um") + "; leave " + key + " out, or give microneedles.array = [N, M] for a patch");
            if (!unit_cell && size < n.pitch_um * count * (1 - 1e-12))
                throw InputError(at({key, "microneedles.array", "microneedles.pitch"}) + ": " + key + " = " + brief(size, "um") +
                                 " is smaller than the patch, microneedles.pitch * " + std::to_string(count) + " = " +
                                 brief(n.pitch_um * count, "um"));
            if (size < d.dx_um)
                throw InputError(at({key, "domain.dx"}) + ": " + key + " = " + brief(size, "um") +
                                 " is narrower than one grid cell, domain.dx = " + brief(d.dx_um, "um"));
        }

        const auto& t = s.time;
        for (std::size_t i = 0; i < t.output_times_s.size(); ++i) {
            const double v = t.output_times_s[i];
            const std::string item = "time.outputs[" + std::to_string(i) + "] = " + brief(v / units::kHour, "h");
            if (v > t.end_s)
                throw InputError(at({"time.outputs", "time.end"}) + ": " + item + " is after time.end = " +
                                 brief(t.end_s / units::kHour, "h") + "; output times must lie in [0, time.end]");
            if (i > 0 && v <= t.output_times_s[i - 1])
                throw InputError(at({"time.outputs"}) + ": " + item + " does not come after the previous output time " +
                                 brief(t.output_times_s[i - 1] / units::kHour, "h") + "; time.outputs must ascend");
        }
        check_wound_and_injection(s);
        if (s.cells.enabled && s.transport_mode == TransportMode::Particles)
            throw InputError(at({"cells.enabled", "transport.mode"}) +
                             ": cells.enabled = true needs transport.mode = \"continuum\"; uptake by cell agents is "
                             "built on the continuum fields (set cells.enabled = false for a particle-mode transport run)");
        if (t.dt_initial_s > t.dt_max_s)
            throw InputError(at({"time.dt_initial", "time.dt_max"}) + ": time.dt_initial = " + brief(t.dt_initial_s, "s") +
                             " is larger than time.dt_max = " + brief(t.dt_max_s, "s") + "; time steps grow from dt_initial up to dt_max");
    }

    // [wound] and [injection] against the box, the layers and the transport mode.
    void check_wound_and_injection(const Scenario& s) const {
        const auto& w = s.wound;
        const auto& inj = s.injection;
        const auto& d = s.domain;
        const auto& r = s.responses;
        if ((w.enabled() || inj.enabled) && s.transport_mode == TransportMode::Particles)
            throw InputError(at({"transport.mode", w.enabled() ? "wound.shape" : "injection.enabled"}) +
                             ": transport.mode = \"particles\" does not support " +
                             (w.enabled() ? "a wound bed (wound.shape)" : "an injection (injection.enabled)") +
                             " yet; use transport.mode = \"continuum\"");
        if (inj.enabled && (w.enabled() || s.needles.enabled))
            throw InputError(at({"injection.enabled", w.enabled() ? "wound.shape" : "microneedles.enabled"}) +
                             ": an injected product has no film on the skin to feed " +
                             (w.enabled() ? "a wound bed" : "needle channels") + "; set " +
                             (w.enabled() ? "wound.shape = \"none\"" : "microneedles.enabled = false") +
                             " for an injection scenario");
        if (r.injury == InjurySite::Wound && !w.enabled())
            throw InputError(at({"responses.injury", "wound.shape"}) +
                             ": responses.injury = \"wound\" needs a wound; set wound.shape");
        if (r.injury == InjurySite::Injection && !inj.enabled)
            throw InputError(at({"responses.injury", "injection.enabled"}) +
                             ": responses.injury = \"injection\" needs injection.enabled = true");
        const double tissue = s.tissue_depth_um();
        if (w.enabled()) {
            const double bed = wound_bed_depth_um(s);
            if (bed > tissue - 2.0 * d.dz_um)
                throw InputError(at({"wound.dermis_loss", "skin.dermis.thickness"}) + ": the wound bed at " +
                                 brief(bed, "um") + " (stratum corneum + viable epidermis + wound.dermis_loss) must lie at "
                                 "least 2 * domain.dz above the bottom of the tissue at " + brief(tissue, "um"));
            const double across = w.shape == WoundShape::Disk ? 2.0 * w.radius_um : w.width_um;
            const std::string key = w.shape == WoundShape::Disk ? "wound.radius" : "wound.width";
            if (w.shape != WoundShape::Box) {
                if (across / d.dx_um < 4.0 * (1 - 1e-12))
                    throw InputError(at({key, "domain.dx"}) + ": grid too coarse to resolve the wound: " +
                                     brief(across, "um") + " across is " + brief(across / d.dx_um) +
                                     " cells of domain.dx = " + brief(d.dx_um, "um") + "; need at least 4");
                const double along = w.shape == WoundShape::Disk ? across : w.length_um;
                if (across >= d.size_x_um || along >= d.size_y_um)
                    throw InputError(at({key, "domain.size_x", "domain.size_y"}) + ": the wound (" + brief(across, "um") +
                                     " x " + brief(along, "um") + ") must fit inside the box (domain.size_x = " +
                                     brief(d.size_x_um, "um") + ", domain.size_y = " + brief(d.size_y_um, "um") +
                                     ") with intact skin around it");
            }
        }
        if (inj.enabled) {
            const double sc = s.layer(Layer::StratumCorneum).thickness_um;
            if (inj.depth_um - inj.radius_um < sc || inj.depth_um + inj.radius_um > tissue)
                throw InputError(at({"injection.depth", "injection.radius"}) + ": the bolus (injection.depth = " +
                                 brief(inj.depth_um, "um") + ", injection.radius = " + brief(inj.radius_um, "um") +
                                 ") must lie below the stratum corneum (" + brief(sc, "um") +
                                 ") and above the bottom of the tissue (" + brief(tissue, "um") + ")");
            if (2.0 * inj.radius_um >= std::min(d.size_x_um, d.size_y_um))
                throw InputError(at({"injection.radius", "domain.size_x", "domain.size_y"}) +
                                 ": the bolus diameter " + brief(2.0 * inj.radius_um, "um") +
                                 " must be smaller than the box (domain.size_x, domain.size_y)");
            if (inj.radius_um < 2.0 * std::max(d.dx_um, d.dz_um))
                throw InputError(at({"injection.radius", "domain.dx", "domain.dz"}) + ": grid too coarse for the bolus: "
                                 "injection.radius = " + brief(inj.radius_um, "um") + " needs domain.dx and domain.dz <= " +
                                 brief(0.5 * inj.radius_um, "um"));
        }
    }
};

} // namespace

Scenario load_scenario_text(std::string_view toml_text, std::string_view source_name,
                            const std::vector<std::string>& overrides, SweepSection sweep) {
    return Reader(toml_text, source_name, overrides, sweep).read();
}

Scenario load_scenario_text(std::string_view toml_text, std::string_view source_name,
                            const std::vector<std::string>& overrides) {
    return load_scenario_text(toml_text, source_name, overrides, SweepSection::Reject);
}

Scenario load_scenario(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
    return load_scenario(file, overrides, SweepSection::Reject);
}

Scenario load_scenario(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                       SweepSection sweep) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw InputError(file.string() + ": cannot read the scenario file (missing or unreadable)");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw InputError(file.string() + ": error while reading the scenario file");
    Scenario s = load_scenario_text(text.str(), file.string(), overrides, sweep);
    std::error_code ec;
    const auto absolute = std::filesystem::absolute(file, ec);
    if (!ec) s.source_path = absolute.lexically_normal().string();
    return s;
}

std::string resolved_scenario_toml(const Scenario& scenario) {
    std::ostringstream out;
    out << "# Resolved scenario: every key, in display units. Loading this file gives the same scenario.\n"
           "# Status: M measured, D derived, A assumed (MODEL.md), - run setting.\n";
    for (const auto& section : schema::sections()) {
        std::vector<const Key*> here;
        for (const auto& k : schema::keys())
            if (k.section() == section) here.push_back(&k);
        if (here.empty()) continue;
        out << "\n[" << section << "]\n";
        for (const Key* k : here) {
            const auto value = k->get(scenario);
            std::string line = value ? std::string(k->name()) + " = " + schema::format_value(*k, *value)
                                     : "# " + std::string(k->name()) + ": not written; it would repeat pitch";
            if (line.size() < 44) line.resize(44, ' ');
            out << line << " # " << k->status << "  " << k->description << "\n";
        }
    }
    return out.str();
}

} // namespace exoderm
