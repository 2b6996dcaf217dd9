#include "model/sweep_spec.hpp"
#include "model/toml_screen.hpp"
#include "model/suggest.hpp"
#include "model/toml_type_name.hpp"

#include "model/errors.hpp"
#include "model/scenario_load.hpp"
#include "model/scenario_schema.hpp"
#include "model/units.hpp"

#include <Random123/philox.h>
#include <boost/math/distributions/normal.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace exoderm {
namespace {

using schema::Key;
using schema::Type;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kMaxRuns = 100'000'000;
// Version of the way values, samples and seeds are made from a sweep file: part of the
// identity, so a change here can never be mistaken for the same sweep.
constexpr std::string_view kIdentityVersion = "exoderm sweep 1";

// Third counter word of the Philox draws: what a draw is for (docs/sweeps.md).
enum Purpose : std::uint32_t {
    kSeedIndependent = 1,
    kSeedCommon = 2,
    kLhsPermute = 3,
    kLhsPosition = 4,
};

std::array<std::uint32_t, 4> philox(std::uint64_t key, std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                                    std::uint32_t c3) {
    r123::Philox4x32 generator;
    const r123::Philox4x32::ctr_type counter = {{c0, c1, c2, c3}};
    const r123::Philox4x32::key_type k = {{static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)}};
    const auto out = generator(counter, k);
    return {out[0], out[1], out[2], out[3]};
}

// A uniform double in [0, 1) from the first two words (53 bits).
double uniform(const std::array<std::uint32_t, 4>& r) {
    const std::uint64_t bits = (std::uint64_t{r[1]} << 32 | r[0]) >> 11;
    return static_cast<double>(bits) * 0x1.0p-53;
}

// --- Sobol sequence --------------------------------------------------------------------------
//
// Joe & Kuo (2008), file new-joe-kuo-6.21201: for dimensions 2.., the degree s of the primitive
// polynomial, its coefficients a (bits of the inner terms) and the initial direction
// integers m_1..m_s. Dimension 1 has m_k = 1 for every k (the van der Corput sequence).
struct JoeKuo {
    unsigned s;
    unsigned a;
    std::array<std::uint32_t, 7> m;
};
constexpr std::array<JoeKuo, kSobolMaxDimensions - 1> kJoeKuo{{
    {1, 0, {1}},
    {2, 1, {1, 3}},
    {3, 1, {1, 3, 1}},
    {3, 2, {1, 1, 1}},
    {4, 1, {1, 1, 3, 3}},
    {4, 4, {1, 3, 5, 13}},
    {5, 2, {1, 1, 5, 5, 17}},
    {5, 4, {1, 1, 5, 5, 5}},
    {5, 7, {1, 1, 7, 11, 19}},
    {5, 11, {1, 1, 5, 1, 1}},
    {5, 13, {1, 1, 1, 3, 11}},
    {5, 14, {1, 3, 5, 5, 31}},
    {6, 1, {1, 3, 3, 9, 7, 49}},
    {6, 13, {1, 1, 1, 15, 21, 21}},
    {6, 16, {1, 3, 1, 13, 27, 49}},
    {6, 19, {1, 1, 1, 15, 7, 5}},
    {6, 22, {1, 3, 1, 15, 13, 25}},
    {6, 25, {1, 1, 5, 5, 19, 61}},
    {7, 1, {1, 3, 7, 11, 23, 15, 103}},
}};

constexpr unsigned kSobolBits = 32;
using Directions = std::array<std::uint32_t, kSobolBits>; // v_k * 2^32, k = 1..32

// Direction numbers v_k = m_k / 2^k, with m_k for k > s from the recurrence
//   m_k = 2 a_1 m_{k-1} ^ 2^2 a_2 m_{k-2} ^ ... ^ 2^(s-1) a_(s-1) m_(k-s+1) ^ 2^s m_(k-s) ^ m_(k-s)
const std::array<Directions, kSobolMaxDimensions>& sobol_directions() {
    static const auto table = [] {
        std::array<Directions, kSobolMaxDimensions> out{};
        for (unsigned k = 0; k < kSobolBits; ++k) out[0][k] = std::uint32_t{1} << (kSobolBits - 1 - k);
        for (std::size_t d = 1; d < kSobolMaxDimensions; ++d) {
            const JoeKuo& p = kJoeKuo[d - 1];
            std::array<std::uint64_t, kSobolBits> m{};
            for (unsigned k = 0; k < kSobolBits; ++k) {
                if (k < p.s) {
                    m[k] = p.m[k];
                    continue;
                }
                std::uint64_t next = m[k - p.s] ^ (m[k - p.s] << p.s);
                for (unsigned i = 1; i < p.s; ++i)
                    if ((p.a >> (p.s - 1 - i)) & 1u) next ^= m[k - i] << i;
                m[k] = next;
            }
            for (unsigned k = 0; k < kSobolBits; ++k) out[d][k] = static_cast<std::uint32_t>(m[k] << (kSobolBits - 1 - k));
        }
        return out;
    }();
    return table;
}

// --- text helpers ----------------------------------------------------------------------------

std::string_view trim(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

std::string join(const std::vector<std::string>& words, std::string_view separator = ", ") {
    std::string s;
    for (const auto& w : words) s.append(s.empty() ? "" : separator).append(w);
    return s;
}


std::string quoted_list(const std::vector<std::string>& words) {
    std::vector<std::string> q;
    for (const auto& w : words) q.push_back(schema::quote(w));
    return join(q);
}

// Shortest decimal text within a relative 1e-12 of v: values made by arithmetic print the
// way a person would write them (1e10, not 9999999999.999998; 0.3, not 0.30000000000000004).
std::string tidy(double v) {
    if (v == 0.0 || !std::isfinite(v)) return units::format_number(v);
    for (int precision = 1; precision <= 17; ++precision) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        const double c = std::strtod(buf, nullptr);
        if (std::abs(c - v) <= 1e-12 * std::abs(v)) return units::format_number(c);
    }
    return units::format_number(v);
}

double number_of(std::string_view text) {
    double v = 0.0;
    std::from_chars(text.data(), text.data() + text.size(), v);
    return v;
}

// "316.2 um" -> (316.2, "um"): the leading number and the unit text after it.
struct Written {
    double number = 0.0;
    std::string unit;
};
std::optional<Written> split_quantity(std::string_view text) {
    const std::string_view t = trim(text);
    std::size_t i = 0;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    std::size_t digits = 0;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i, ++digits;
    if (i < t.size() && t[i] == '.') {
        ++i;
        while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i, ++digits;
    }
    if (digits == 0) return std::nullopt;
    if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
        std::size_t j = i + 1;
        if (j < t.size() && (t[j] == '+' || t[j] == '-')) ++j;
        if (j < t.size() && std::isdigit(static_cast<unsigned char>(t[j]))) {
            while (j < t.size() && std::isdigit(static_cast<unsigned char>(t[j]))) ++j;
            i = j;
        }
    }
    std::string_view number = t.substr(0, i);
    if (!number.empty() && number.front() == '+') number.remove_prefix(1);
    double v = 0.0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
    if (ec != std::errc{} || end != number.data() + number.size()) return std::nullopt;
    return Written{v, std::string(trim(t.substr(i)))};
}

// A TOML value as text for --set, reading back to the same TOML type.
std::string toml_text(const toml::node& node) {
    if (const auto s = node.value_exact<std::string>()) return schema::quote(*s);
    if (const auto i = node.value_exact<std::int64_t>()) return std::to_string(*i);
    if (const auto b = node.value_exact<bool>()) return *b ? "true" : "false";
    if (const auto d = node.value_exact<double>()) {
        if (std::isnan(*d)) return "nan";
        std::string s = units::format_number(*d);
        if (s.find_first_of(".eEn") == std::string::npos) s += ".0"; // 3.0 stays a float
        return s;
    }
    if (const auto* array = node.as_array()) {
        std::vector<std::string> items;
        for (const auto& item : *array) items.push_back(toml_text(item));
        return "[" + join(items) + "]";
    }
    std::ostringstream out;
    node.visit([&](const auto& v) { out << v; });
    std::string s = out.str();
    std::replace(s.begin(), s.end(), '\n', ' ');
    return s;
}


std::string type_words(Type type) {
    switch (type) {
    case Type::QuantityList: return "a list of times";
    case Type::IntegerPair: return "a pair of integers";
    default: return "this type";
    }
}

// --- reading the [sweep] section -------------------------------------------------------------

// How an axis was given, kept for the identity of sampled designs.
struct AxisSource {
    std::string spec; // canonical text of range and scale (sampled) or empty (grid: the values)
    const Key* key = nullptr;
    // sampled designs
    double lo = 0.0, hi = 0.0;
    bool log = false;
    std::string unit;     // quantity keys: the unit text the range was written in
    bool integer = false; // Integer keys
    // Sampled from a distribution instead of a range: "lognormal" (center = median, spread =
    // geometric SD) or "normal" (center = mean, spread = SD); with truncated, cut to [lo, hi].
    std::string distribution;
    double center = 0.0, spread = 0.0;
    bool truncated = false;
    std::string at; // where the axis was written, for the check of its samples
};

// Standard normal deviate of a value under an axis distribution.
double standard_score(const AxisSource& a, double v) {
    if (a.distribution == "lognormal")
        return v <= 0.0 ? -std::numeric_limits<double>::infinity() : std::log(v / a.center) / std::log(a.spread);
    return (v - a.center) / a.spread;
}

// Value at probability p (0 < p < 1) of the axis distribution, truncated to [lo, hi] when asked.
// The inverse-CDF keeps the design's stratification (Latin hypercube) or low discrepancy (Sobol).
double distribution_quantile(const AxisSource& a, double u) {
    const boost::math::normal standard;
    double p_lo = 0.0, p_hi = 1.0;
    if (a.truncated) {
        p_lo = boost::math::cdf(standard, std::max(standard_score(a, a.lo), -40.0));
        p_hi = boost::math::cdf(standard, std::min(standard_score(a, a.hi), 40.0));
    }
    const double p = std::clamp(p_lo + u * (p_hi - p_lo), 1e-15, 1.0 - 1e-15);
    const double z = boost::math::quantile(standard, p);
    double v = a.distribution == "lognormal" ? a.center * std::pow(a.spread, z) : a.center + a.spread * z;
    if (a.truncated) v = std::clamp(v, a.lo, a.hi);
    return v;
}

class SweepReader {
public:
    SweepReader(std::string_view text, std::string_view source) : text_(text), source_(source) {}

    SweepSpec read() {
        spec_.source_name = source_;
        spec_.source_text = std::string(text_);
        // The base scenario first: TOML syntax and every scenario key are the loader's to judge.
        spec_.base = load_scenario_text(text_, source_, {}, SweepSection::Ignore);
        spec_.base_seed = spec_.base.seed;
        std::string ascii;
        to_ascii_toml(text_, ascii);                            // as the loader did (model/toml_screen.hpp)
        root_ = toml::parse(ascii, std::string_view(source_)); // cannot fail: the loader parsed it

        const toml::node* node = root_.get("sweep");
        if (!node)
            throw InputError(source_ + ": no [sweep] section; a sweep file is a scenario file plus [sweep] and "
                                       "[[sweep.axis]] tables (docs/sweeps.md); run a plain scenario with \"exoderm run " +
                             source_ + "\"");
        const toml::table* sweep = node->as_table();
        if (!sweep)
            throw InputError(where(*node) + ": sweep = " + toml_text(*node) + ": 'sweep' is a section; write it as a table [sweep]");
        sweep_line_ = where(*sweep);
        check_keys(*sweep, "[sweep]", "sweep.",
                   {"design", "samples", "replicates", "seeds", "fields", "field_times", "field_runs", "axis"});

        read_design(*sweep);
        read_replicates(*sweep);
        read_seeds(*sweep);
        read_axes(*sweep);
        count_points(*sweep);
        read_fields(*sweep);
        spec_.identity = identity();
        return std::move(spec_);
    }

private:
    std::string_view text_;
    std::string source_;
    toml::table root_;
    SweepSpec spec_;
    std::string sweep_line_;
    std::optional<std::size_t> samples_;
    const toml::node* samples_node_ = nullptr;
    std::vector<AxisSource> sources_;
    Key gsd_key_ = [] {
        Key k;
        k.path = "gsd";
        k.type = Type::Number;
        return k;
    }(); // reads a plain number (the geometric SD) with endpoint()
    std::set<std::string> accepted_; // "key=value" the loader took

    std::string where(const toml::node& node) const {
        const auto line = node.source().begin.line;
        return line ? source_ + ":" + std::to_string(line) : source_;
    }
    std::string where(const toml::key& key, const toml::node& node) const {
        return key.source().begin.line ? source_ + ":" + std::to_string(key.source().begin.line) : where(node);
    }
    // file:line of a key in a table, or of the table when the key is missing.
    std::string where_in(const toml::table& table, std::string_view name) const {
        for (const auto& [k, v] : table)
            if (k.str() == name) return where(k, v);
        return where(table);
    }

    std::string design_name() const {
        switch (spec_.design) {
        case SweepDesign::Grid: return "grid";
        case SweepDesign::LatinHypercube: return "latin_hypercube";
        case SweepDesign::Sobol: return "sobol";
        }
        return {};
    }
    bool sampled() const { return spec_.design != SweepDesign::Grid; }

    void check_keys(const toml::table& table, const std::string& table_name, const std::string& prefix,
                    const std::vector<std::string>& allowed) const {
        for (const auto& [k, v] : table) {
            const std::string name(k.str());
            if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
            std::string msg = where(k, v) + ": unknown " + (v.is_table() ? "section '[" + prefix + name + "]'"
                                                                       : "key '" + name + "' in " + table_name);
            const std::string guess = closest(name, allowed);
            msg += guess.empty() ? "; valid keys in " + table_name + " are " + join(allowed)
                                 : "; did you mean '" + guess + "'?";
            throw InputError(msg);
        }
    }

    // "file:12: sweep.design = "lhs": problem"
    [[noreturn]] void fail(const toml::table& table, std::string_view name, const std::string& problem) const {
        const toml::node* node = table.get(name);
        throw InputError(where_in(table, name) + ": sweep." + std::string(name) + " = " + toml_text(*node) + ": " + problem);
    }

    std::optional<std::int64_t> positive_integer(const toml::table& table, std::string_view name,
                                                 const std::string& meaning) const {
        const toml::node* node = table.get(name);
        if (!node) return std::nullopt;
        const auto v = node->value_exact<std::int64_t>();
        if (!v) fail(table, name, "expected an integer >= 1 (" + meaning + "), got " + toml_type_name(*node));
        if (*v < 1) fail(table, name, "expected an integer >= 1 (" + meaning + ")");
        return v;
    }

    std::string choice(const toml::table& table, std::string_view name, const std::vector<std::string>& choices,
                       const std::string& fallback) const {
        const toml::node* node = table.get(name);
        if (!node) return fallback;
        const auto word = node->value_exact<std::string>();
        if (!word) fail(table, name, "expected one of " + quoted_list(choices) + ", got " + toml_type_name(*node));
        if (std::find(choices.begin(), choices.end(), *word) != choices.end()) return *word;
        const std::string guess = closest(*word, choices);
        fail(table, name, "expected one of " + quoted_list(choices) +
                              (guess.empty() ? "" : "; did you mean " + schema::quote(guess) + "?"));
    }

    void read_design(const toml::table& sweep) {
        const std::string design = choice(sweep, "design", {"grid", "latin_hypercube", "sobol"}, "grid");
        spec_.design = design == "grid" ? SweepDesign::Grid
                     : design == "sobol" ? SweepDesign::Sobol
                                         : SweepDesign::LatinHypercube;
        samples_node_ = sweep.get("samples");
        if (!sampled() && samples_node_)
            fail(sweep, "samples", "samples is for sampled designs (design = \"latin_hypercube\" or \"sobol\"); a grid "
                                   "runs every combination of its axes' values");
        if (sampled()) {
            const auto n = positive_integer(sweep, "samples", "points sampled");
            if (!n)
                throw InputError(where_in(sweep, "design") + ": sweep.design = \"" + design_name() +
                                 "\" needs samples = N in [sweep] (the number of points to sample, N >= 2)");
            if (*n < 2) fail(sweep, "samples", "expected an integer >= 2 (points sampled)");
            if (static_cast<std::uint64_t>(*n) > kMaxRuns)
                fail(sweep, "samples", "at most " + std::to_string(kMaxRuns) + " runs in one sweep");
            samples_ = static_cast<std::size_t>(*n);
        }
    }

    void read_replicates(const toml::table& sweep) {
        if (const auto n = positive_integer(sweep, "replicates", "runs per point, each with its own seed")) {
            if (static_cast<std::uint64_t>(*n) > kMaxRuns)
                fail(sweep, "replicates", "at most " + std::to_string(kMaxRuns) + " runs in one sweep");
            spec_.replicates = static_cast<std::size_t>(*n);
        }
    }

    void read_seeds(const toml::table& sweep) {
        spec_.seeds = choice(sweep, "seeds", {"independent", "common"}, "independent") == "common" ? SweepSeeds::Common
                                                                                                  : SweepSeeds::Independent;
    }

    // --- axes ---

    void read_axes(const toml::table& sweep) {
        const toml::node* node = sweep.get("axis");
        if (!node) return;
        const toml::array* axes = node->as_array();
        if (!axes || !axes->is_array_of_tables())
            throw InputError(where_in(sweep, "axis") + ": sweep.axis must be tables written [[sweep.axis]] (double "
                                                       "brackets), one per swept key, each with key = \"section.key\"");
        std::map<std::string, std::string> seen;
        for (const auto& item : *axes) {
            const toml::table& axis = *item.as_table();
            if (spec_.design == SweepDesign::Sobol && spec_.axes.size() == kSobolMaxDimensions)
                throw InputError(where(axis) + ": design = \"sobol\" supports at most " + std::to_string(kSobolMaxDimensions) +
                                 " axes (direction numbers of Joe & Kuo 2008 for " + std::to_string(kSobolMaxDimensions) +
                                 " dimensions); this sweep has " + std::to_string(axes->size()) +
                                 "; use design = \"latin_hypercube\"");
            read_axis(axis, seen);
        }
        if (spec_.design == SweepDesign::LatinHypercube) make_lhs();
        if (spec_.design == SweepDesign::Sobol) make_sobol();
        // A distribution has no ends to check up front: every sample is checked instead.
        for (std::size_t j = 0; j < spec_.axes.size(); ++j)
            if (!sources_[j].distribution.empty())
                for (const auto& v : spec_.axes[j].values)
                    check_with_loader(*sources_[j].key, v, sources_[j].at,
                                      "sweep axis \"" + spec_.axes[j].key + "\": " + sources_[j].distribution + " sample ");
    }

    void read_axis(const toml::table& axis, std::map<std::string, std::string>& seen) {
        check_keys(axis, "[[sweep.axis]]", "sweep.axis.",
                   {"key", "values", "linspace", "logspace", "count", "range", "scale", "distribution", "median", "gsd",
                    "mean", "sd"});
        const toml::node* key_node = axis.get("key");
        if (!key_node)
            throw InputError(where(axis) + ": [[sweep.axis]] without key; expected key = \"section.key\", e.g. key = "
                                           "\"product.concentration\"");
        const auto path = key_node->value_exact<std::string>();
        if (!path)
            throw InputError(where_in(axis, "key") + ": sweep axis key = " + toml_text(*key_node) +
                             ": expected a scenario key as a quoted string, e.g. \"product.concentration\", got " +
                             toml_type_name(*key_node));
        const std::string at = where_in(axis, "key");
        const Key* key = schema::find_key(*path);
        if (!key) {
            if (schema::is_section(*path))
                throw InputError(at + ": sweep axis key = \"" + *path + "\": '" + *path +
                                 "' is a section; sweep one of its keys (docs/scenario-reference.md)");
            std::vector<std::string> all;
            for (const auto& k : schema::keys()) all.push_back(k.path);
            const std::string guess = closest(*path, all);
            throw InputError(at + ": sweep axis key = \"" + *path + "\": unknown scenario key" +
                             (guess.empty() ? "; see docs/scenario-reference.md for the keys" : "; did you mean '" + guess + "'?"));
        }
        const std::string prefix = "sweep axis \"" + key->path + "\": ";
        if (key->path == "scenario.seed")
            throw InputError(at + ": " + prefix + "scenario.seed cannot be swept: each run's seed is derived from "
                                                  "scenario.seed, the point and the replicate; use replicates = N for N seeds per point");
        if (const auto it = seen.find(key->path); it != seen.end())
            throw InputError(at + ": " + prefix + "swept twice (first at " + it->second +
                             "); give all its values in one [[sweep.axis]]");
        seen[key->path] = at;
        const bool quantity = key->type == Type::Quantity || key->type == Type::QuantityOrNever;
        const bool numeric = quantity || key->type == Type::Number || key->type == Type::Integer;
        if (!numeric && key->type != Type::Bool && key->type != Type::Text && key->type != Type::Choice)
            throw InputError(at + ": " + prefix + "holds " + type_words(key->type) +
                             ", which cannot be swept; sweepable keys hold a quantity, a number, an integer, true/false or a string");

        if (axis.contains("distribution")) {
            SweepAxis out;
            out.key = key->path;
            AxisSource src;
            src.key = key;
            read_distribution(axis, *key, prefix, out, src);
            spec_.axes.push_back(std::move(out));
            sources_.push_back(std::move(src));
            return;
        }
        for (const char* f : {"median", "gsd", "mean", "sd"})
            if (axis.contains(f))
                throw InputError(where_in(axis, f) + ": " + prefix + f + " goes with distribution = \"lognormal\" "
                                 "(median, gsd) or \"normal\" (mean, sd)");
        std::vector<std::string> forms;
        for (const char* f : {"values", "linspace", "logspace", "range"})
            if (axis.contains(f)) forms.emplace_back(f);
        const std::string want = sampled() ? "range = [lo, hi] (and optionally scale = \"linear\" or \"log\")"
                                           : "one of values = [...], linspace = [lo, hi] with count, or logspace = [lo, hi] with count";
        if (forms.empty()) throw InputError(at + ": " + prefix + "no values; expected " + want);
        if (forms.size() > 1)
            throw InputError(where_in(axis, forms[1]) + ": " + prefix + forms[0] + " and " + forms[1] +
                             " are both given; expected " + want);
        const std::string& form = forms[0];
        if (sampled() && form != "range")
            throw InputError(where_in(axis, form) + ": " + prefix + form + " is for design = \"grid\"; design = \"" +
                             design_name() + "\" samples each axis from range = [lo, hi] (and optionally scale = \"linear\" or \"log\")");
        if (!sampled() && form == "range")
            throw InputError(where_in(axis, form) + ": " + prefix + "range is for sampled designs (design = "
                             "\"latin_hypercube\" or \"sobol\" with samples = N); a grid axis takes values = [...], "
                             "linspace = [lo, hi] with count, or logspace = [lo, hi] with count");
        if (axis.contains("count") && form != "linspace" && form != "logspace")
            throw InputError(where_in(axis, "count") + ": " + prefix + "count goes with linspace or logspace; " + form +
                             " does not take it");
        if (axis.contains("scale") && form != "range")
            throw InputError(where_in(axis, "scale") + ": " + prefix + "scale goes with range (sampled designs); " +
                             (form == "values" ? "values are used as listed" : "use linspace or logspace"));

        SweepAxis out;
        out.key = key->path;
        AxisSource src;
        src.key = key;
        if (form == "values") read_values(axis, *key, prefix, out);
        else read_spaced(axis, *key, prefix, form, out, src);
        spec_.axes.push_back(std::move(out));
        sources_.push_back(std::move(src));
    }

    // distribution = "lognormal" with median and gsd, or "normal" with mean and sd; an optional
    // range = [lo, hi] truncates it. Sampled designs only (batch-to-batch variability).
    void read_distribution(const toml::table& axis, const Key& key, const std::string& prefix, SweepAxis& out,
                           AxisSource& src) {
        const std::string at = where_in(axis, "distribution");
        if (!sampled())
            throw InputError(at + ": " + prefix + "distribution is for sampled designs (design = \"latin_hypercube\" "
                                              "or \"sobol\" with samples = N), which draw each axis from it");
        if (key.type != Type::Quantity && key.type != Type::Number)
            throw InputError(at + ": " + prefix + "distribution needs a key holding a quantity or a number; " + key.path +
                             " holds " + schema::expectation(key));
        const std::vector<std::string> names{"lognormal", "normal"};
        const toml::node* node = axis.get("distribution");
        const auto name = node->value_exact<std::string>();
        if (!name || std::find(names.begin(), names.end(), *name) == names.end())
            throw InputError(at + ": " + prefix + "distribution = " + toml_text(*node) + ": expected one of " +
                             quoted_list(names));
        for (const char* f : {"values", "linspace", "logspace", "count", "scale"})
            if (axis.contains(f))
                throw InputError(where_in(axis, f) + ": " + prefix + f + " does not go with distribution; an optional "
                                 "range = [lo, hi] truncates the distribution");
        const bool log = *name == "lognormal";
        const char* center_name = log ? "median" : "mean";
        const char* spread_name = log ? "gsd" : "sd";
        for (const char* f : {log ? "mean" : "median", log ? "sd" : "gsd"})
            if (axis.contains(f))
                throw InputError(where_in(axis, f) + ": " + prefix + f + " does not go with distribution = \"" + *name +
                                 "\"; it takes " + center_name + " and " + spread_name);
        const auto scalar = [&](const char* field, bool with_unit) {
            const toml::node* n = axis.get(field);
            if (!n)
                throw InputError(at + ": " + prefix + "distribution = \"" + *name + "\" needs " + center_name + " and " +
                                 spread_name + (log ? " (a number > 1)" : " (in the unit of the mean)"));
            const Endpoint e = endpoint(*n, with_unit ? key : gsd_key_, prefix, field, 0);
            return e;
        };
        const Endpoint center = scalar(center_name, true);
        const Endpoint spread = scalar(spread_name, !log);
        if (!std::isfinite(center.number) || !std::isfinite(spread.number))
            throw InputError(at + ": " + prefix + "expected finite " + center_name + " and " + spread_name);
        if (log && center.number <= 0)
            throw InputError(where_in(axis, center_name) + ": " + prefix + "median = " + center.text + ": expected a value above 0");
        if (log && spread.number <= 1)
            throw InputError(where_in(axis, spread_name) + ": " + prefix + "gsd = " + spread.text +
                             ": expected a geometric standard deviation above 1");
        if (!log && spread.number <= 0)
            throw InputError(where_in(axis, spread_name) + ": " + prefix + "sd = " + spread.text + ": expected a value above 0");
        if (!log && spread.unit != center.unit)
            throw InputError(where_in(axis, spread_name) + ": " + prefix + "mean and sd are in different units (\"" +
                             center.unit + "\" and \"" + spread.unit + "\"); write both in the same unit");
        src.distribution = *name;
        src.center = center.number;
        src.spread = spread.number;
        src.unit = center.unit;
        src.at = at;
        out.display_unit = center.unit;
        std::string spec = "distribution = \"" + *name + "\", " + center_name + " = " + center.text + ", " + spread_name +
                           " = " + spread.text;
        if (axis.contains("range")) {
            const toml::node* range = axis.get("range");
            const toml::array* pair = range->as_array();
            if (!pair || pair->size() != 2)
                throw InputError(where_in(axis, "range") + ": " + prefix + "range = " + toml_text(*range) +
                                 ": expected two endpoints [lo, hi] that truncate the distribution");
            const Endpoint lo = endpoint(*pair->get(0), key, prefix, "range", 0);
            const Endpoint hi = endpoint(*pair->get(1), key, prefix, "range", 1);
            if (lo.unit != center.unit || hi.unit != center.unit)
                throw InputError(where_in(axis, "range") + ": " + prefix + "write range in the unit of " + center_name +
                                 " (\"" + center.unit + "\")");
            if (!(lo.number < hi.number))
                throw InputError(where_in(axis, "range") + ": " + prefix + "range = [" + lo.text + ", " + hi.text +
                                 "]: expected lo < hi");
            src.truncated = true;
            src.lo = lo.number;
            src.hi = hi.number;
            spec += ", range = [" + lo.text + ", " + hi.text + "]";
        }
        src.spec = spec;
    }

    void read_values(const toml::table& axis, const Key& key, const std::string& prefix, SweepAxis& out) {
        const toml::node* node = axis.get("values");
        const toml::array* values = node->as_array();
        if (!values || values->empty())
            throw InputError(where_in(axis, "values") + ": " + prefix + "values = " + toml_text(*node) +
                             ": expected a non-empty array of values, e.g. " + example(key));
        std::map<std::string, std::string> seen;
        for (const auto& item : *values) {
            const std::string text = toml_text(item);
            if (item.is_array() || item.is_table())
                throw InputError(where(item) + ": " + prefix + "value " + text + ": expected " + schema::expectation(key) +
                                 ", got " + toml_type_name(item));
            if ((key.type == Type::Text || key.type == Type::Choice) && !item.is_string())
                throw InputError(where(item) + ": " + prefix + "value " + text + ": expected " + schema::expectation(key) +
                                 ", got " + toml_type_name(item));
            if (const auto it = seen.find(text); it != seen.end())
                throw InputError(where(item) + ": " + prefix + "value " + text + " is listed twice (first at " +
                                 it->second + ")");
            seen[text] = where(item);
            check_with_loader(key, text, where(item), prefix);
            out.values.push_back(text);
        }
        // Quantities: the unit they share, else the key's display unit.
        if (key.type == Type::Quantity || key.type == Type::QuantityOrNever) {
            std::set<std::string> written;
            for (const auto& item : *values)
                if (const auto w = split_quantity(*item.value<std::string>())) written.insert(w->unit);
            out.display_unit = written.size() == 1 ? *written.begin() : key.display_unit;
        }
    }

    static std::string example(const Key& key) {
        switch (key.type) {
        case Type::Quantity:
        case Type::QuantityOrNever: {
            const std::string e(key.kind->example);
            return "[" + schema::quote(e) + ", ...]";
        }
        case Type::Bool: return "[false, true]";
        case Type::Choice: return "[" + quoted_list(key.choices) + "]";
        case Type::Text: return "[\"a\", \"b\"]";
        default: return "[" + key.default_toml + ", ...]";
        }
    }

    // An endpoint of linspace, logspace or range, read for the key's type.
    struct Endpoint {
        double number = 0.0;
        std::string unit;
        std::string text; // as written (TOML)
    };

    Endpoint endpoint(const toml::node& item, const Key& key, const std::string& prefix, const std::string& form,
                      std::size_t i) const {
        const std::string at = where(item);
        const std::string name = form + "[" + std::to_string(i) + "] = " + toml_text(item);
        Endpoint e;
        e.text = toml_text(item);
        switch (key.type) {
        case Type::Quantity:
        case Type::QuantityOrNever: {
            const auto s = item.value_exact<std::string>();
            if (!s)
                throw InputError(at + ": " + prefix + name + ": expected " + units::expectation(*key.kind) +
                                 " (a quoted string with a unit), got " + toml_type_name(item));
            try {
                units::parse_as(*s, *key.kind);
            } catch (const units::UnitError& err) {
                throw InputError(at + ": " + prefix + name + ": " + err.what() + "; expected " + units::expectation(*key.kind));
            }
            const auto w = split_quantity(*s);
            e.number = w->number;
            e.unit = w->unit;
            return e;
        }
        case Type::Number:
            if (!item.is_number())
                throw InputError(at + ": " + prefix + name + ": expected a number without quotes, got " + toml_type_name(item));
            e.number = *item.value<double>();
            return e;
        case Type::Integer:
            if (!item.is_integer())
                throw InputError(at + ": " + prefix + name + ": expected an integer, got " + toml_type_name(item));
            e.number = static_cast<double>(*item.value<std::int64_t>());
            return e;
        default: break;
        }
        return e;
    }

    void read_spaced(const toml::table& axis, const Key& key, const std::string& prefix, const std::string& form,
                     SweepAxis& out, AxisSource& src) {
        const std::string at = where_in(axis, form);
        const toml::node* node = axis.get(form);
        if (key.type != Type::Quantity && key.type != Type::QuantityOrNever && key.type != Type::Number &&
            key.type != Type::Integer)
            throw InputError(at + ": " + prefix + form + " needs a key holding a quantity, a number or an integer; " +
                             key.path + " holds " + schema::expectation(key) + "; list its values with values = " +
                             example(key) + (sampled() ? " in a grid" : ""));
        const toml::array* pair = node->as_array();
        if (!pair || pair->size() != 2)
            throw InputError(at + ": " + prefix + form + " = " + toml_text(*node) + ": expected two endpoints [lo, hi], e.g. " +
                             form + " = " + endpoint_example(key));
        const Endpoint lo = endpoint(*pair->get(0), key, prefix, form, 0);
        const Endpoint hi = endpoint(*pair->get(1), key, prefix, form, 1);
        const std::string shown = form + " = [" + lo.text + ", " + hi.text + "]";
        if (lo.unit != hi.unit)
            throw InputError(at + ": " + prefix + shown + ": the endpoints are in different units (\"" + lo.unit +
                             "\" and \"" + hi.unit + "\"); write both in the same unit, which the generated values keep");
        if (!std::isfinite(lo.number) || !std::isfinite(hi.number))
            throw InputError(at + ": " + prefix + shown + ": expected finite endpoints");
        const bool log = form == "logspace" || (form == "range" && scale(axis, prefix) == "log");
        if (log && (lo.number <= 0 || hi.number <= 0))
            throw InputError(at + ": " + prefix + shown + ": " + (form == "range" ? "scale = \"log\"" : "logspace") +
                             " needs positive endpoints (spacing is even in the logarithm of the numbers as written)");
        if (lo.number == hi.number) throw InputError(at + ": " + prefix + shown + ": the endpoints are equal");
        if (form == "range" && lo.number > hi.number)
            throw InputError(at + ": " + prefix + shown + ": expected lo < hi");

        out.display_unit = lo.unit;
        const bool integer = key.type == Type::Integer;
        const auto text_of = [&](double v) {
            const std::string number = integer ? std::to_string(std::llround(v)) : tidy(v);
            return lo.unit.empty() ? number : schema::quote(number + " " + lo.unit);
        };
        if (form == "range") {
            // Every sample lies in [lo, hi]; the key's allowed values form an interval, so both ends are checked.
            check_with_loader(key, lo.text, at, prefix);
            check_with_loader(key, hi.text, at, prefix);
            src.lo = lo.number;
            src.hi = hi.number;
            src.log = log;
            src.unit = lo.unit;
            src.integer = integer;
            src.spec = "range = [" + lo.text + ", " + hi.text + "], scale = \"" + (log ? "log" : "linear") + "\"";
            return;
        }

        const toml::node* count_node = axis.get("count");
        if (!count_node)
            throw InputError(at + ": " + prefix + form + " needs count = N (N >= 2 values, both ends included)");
        const auto count = count_node->value_exact<std::int64_t>();
        const std::string count_at = where_in(axis, "count");
        if (!count)
            throw InputError(count_at + ": " + prefix + "count = " + toml_text(*count_node) +
                             ": expected an integer >= 2 (values from " + form + ", both ends included), got " +
                             toml_type_name(*count_node));
        if (*count < 2 || static_cast<std::uint64_t>(*count) > kMaxRuns)
            throw InputError(count_at + ": " + prefix + "count = " + std::to_string(*count) +
                             ": expected an integer >= 2 (values from " + form + ", both ends included)" +
                             (*count >= 2 ? "; at most " + std::to_string(kMaxRuns) + " runs in one sweep" : ""));
        const std::size_t n = static_cast<std::size_t>(*count);
        std::vector<double> levels(n);
        for (std::size_t i = 0; i < n; ++i) {
            const double f = static_cast<double>(i) / static_cast<double>(n - 1);
            if (i == 0) levels[i] = lo.number;
            else if (i == n - 1) levels[i] = hi.number;
            else if (log) levels[i] = std::pow(10.0, std::log10(lo.number) + f * (std::log10(hi.number) - std::log10(lo.number)));
            else levels[i] = lo.number + f * (hi.number - lo.number);
        }
        std::map<std::string, std::size_t> seen;
        for (std::size_t i = 0; i < n; ++i) {
            const std::string text = text_of(levels[i]);
            if (const auto it = seen.find(text); it != seen.end())
                throw InputError(at + ": " + prefix + shown + " with count = " + std::to_string(n) + " gives " + text +
                                 " twice" + (integer ? " after rounding to integers" : "") + "; use a smaller count" +
                                 (integer ? " or list the integers with values = [...]" : ""));
            seen[text] = i;
            check_with_loader(key, text, at, prefix);
            out.values.push_back(text);
        }
    }

    static std::string endpoint_example(const Key& key) {
        if (key.type == Type::Integer) return "[1, 8]";
        if (key.type == Type::Number) return "[0.05, 0.5]";
        const auto w = split_quantity(key.kind->example);
        return "[\"" + tidy(w->number) + " " + w->unit + "\", \"" + tidy(w->number * 4) + " " + w->unit + "\"]";
    }

    std::string scale(const toml::table& axis, const std::string& prefix) const {
        const toml::node* node = axis.get("scale");
        if (!node) return "linear";
        const std::vector<std::string> choices{"linear", "log"};
        const auto word = node->value_exact<std::string>();
        if (!word || std::find(choices.begin(), choices.end(), *word) == choices.end())
            throw InputError(where_in(axis, "scale") + ": " + prefix + "scale = " + toml_text(*node) + ": expected one of " +
                             quoted_list(choices));
        return *word;
    }

    // The loader judges one value of one key, alone, against the base scenario.
    void check_with_loader(const Key& key, const std::string& value, const std::string& at, const std::string& prefix) {
        const std::string override = key.path + "=" + value;
        if (accepted_.count(override)) return;
        try {
            load_scenario_text(text_, source_, {override}, SweepSection::Ignore);
        } catch (const InputError& e) {
            throw InputError(at + ": " + prefix + "value " + value + ": " + loader_problem(e.what(), key.path, value));
        }
        accepted_.insert(override);
    }

    // The loader's message without its own "where" prefix.
    std::string loader_problem(std::string message, const std::string& key, const std::string& value) const {
        for (const std::string& p : {"--set " + key + " = " + value + ": ", "--set " + key + ": "})
            if (message.starts_with(p)) return message.substr(p.size());
        if (message.starts_with(source_ + ":")) {
            std::size_t i = source_.size() + 1;
            while (i < message.size() && std::isdigit(static_cast<unsigned char>(message[i]))) ++i;
            if (message.compare(i, 2, ": ") == 0) return message.substr(i + 2);
        }
        return message;
    }

    // --- sampled designs ---

    // u in [0, 1) -> the value text of axis a (linear or log in the numbers as written).
    std::string sample_text(const AxisSource& a, double u) const {
        std::string number;
        if (!a.distribution.empty()) {
            number = tidy(distribution_quantile(a, u));
        } else if (a.integer) {
            // Every integer of [lo, hi] can occur: floor over [lo, hi + 1), linear or log.
            const double top = a.hi + 1.0;
            double v = a.log ? std::exp(std::log(a.lo) + u * (std::log(top) - std::log(a.lo))) : a.lo + u * (top - a.lo);
            v = std::clamp(std::floor(v), a.lo, a.hi);
            number = std::to_string(static_cast<long long>(v));
        } else {
            const double v = a.log ? std::exp(std::log(a.lo) + u * (std::log(a.hi) - std::log(a.lo))) : a.lo + u * (a.hi - a.lo);
            number = tidy(v);
            const double back = number_of(number);
            if (back < a.lo || back > a.hi) number = units::format_number(std::clamp(v, a.lo, a.hi));
        }
        return a.unit.empty() ? number : schema::quote(number + " " + a.unit);
    }

    void make_lhs() {
        const std::size_t n = *samples_;
        for (std::size_t j = 0; j < spec_.axes.size(); ++j) {
            // Strata 0..n-1 shuffled (Fisher-Yates, Philox draws keyed by the base seed).
            std::vector<std::size_t> stratum(n);
            for (std::size_t i = 0; i < n; ++i) stratum[i] = i;
            for (std::size_t i = n - 1; i > 0; --i) {
                const double u = uniform(philox(spec_.base_seed, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j), 0, kLhsPermute));
                const std::size_t k = std::min(i, static_cast<std::size_t>(u * static_cast<double>(i + 1)));
                std::swap(stratum[i], stratum[k]);
            }
            auto& values = spec_.axes[j].values;
            values.reserve(n);
            for (std::size_t i = 0; i < n; ++i) {
                const double jitter =
                    uniform(philox(spec_.base_seed, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j), 0, kLhsPosition));
                const double u = (static_cast<double>(stratum[i]) + jitter) / static_cast<double>(n);
                values.push_back(sample_text(sources_[j], std::min(u, std::nextafter(1.0, 0.0))));
            }
        }
    }

    void make_sobol() {
        const std::size_t n = *samples_;
        for (std::size_t j = 0; j < spec_.axes.size(); ++j) {
            auto& values = spec_.axes[j].values;
            values.reserve(n);
            for (std::size_t i = 0; i < n; ++i) values.push_back(sample_text(sources_[j], sobol_coordinate(i + 1, j)));
        }
    }

    // --- points, numbers, fields ---

    void count_points(const toml::table& sweep) {
        if (sampled()) {
            if (spec_.axes.empty())
                throw InputError(sweep_line_ + ": design = \"" + design_name() +
                                 "\" samples the ranges of its axes, but there is no [[sweep.axis]]; add one per swept key");
            spec_.points = *samples_;
        } else {
            std::size_t points = 1;
            for (const auto& a : spec_.axes) {
                if (points > kMaxRuns / a.values.size())
                    throw InputError(sweep_line_ + ": this grid has more than " + std::to_string(kMaxRuns) +
                                     " points; use fewer values, or a sampled design (design = \"latin_hypercube\" or \"sobol\")");
                points *= a.values.size();
            }
            spec_.points = points;
            if (spec_.axes.empty() && spec_.replicates == 1)
                throw InputError(sweep_line_ + ": nothing to sweep: no [[sweep.axis]] and replicates = 1; add "
                                               "[[sweep.axis]] tables (key and values) or replicates = N");
        }
        if (spec_.points > kMaxRuns / spec_.replicates)
            throw InputError(where_in(sweep, "replicates") + ": " + std::to_string(spec_.points) + " points x " +
                             std::to_string(spec_.replicates) + " replicates is more than " + std::to_string(kMaxRuns) +
                             " runs");
        for (auto& a : spec_.axes) {
            const Key& key = *schema::find_key(a.key);
            a.numbers.reserve(a.values.size());
            for (const auto& v : a.values) a.numbers.push_back(number_in_unit(key, v, a.display_unit));
        }
    }

    // A value's number in the axis' display unit; NaN when it is not a number.
    static double number_in_unit(const Key& key, const std::string& value_text, const std::string& unit) {
        if (key.type == Type::Number || key.type == Type::Integer) return number_of(value_text);
        if (key.type != Type::Quantity && key.type != Type::QuantityOrNever) return kNaN;
        std::string ascii;
        if (to_ascii_toml("v = " + value_text, ascii)) return kNaN;
        const toml::table doc = toml::parse(ascii);
        const std::string text = doc.get("v")->value_or(std::string());
        if (trim(text) == "never") return std::numeric_limits<double>::infinity();
        const auto w = split_quantity(text);
        if (!w) return kNaN;
        if (w->unit == unit) return w->number;
        try {
            return units::from_internal(units::to_internal(w->number, w->unit), unit);
        } catch (const units::UnitError&) {
            return kNaN;
        }
    }

    void read_fields(const toml::table& sweep) {
        static const std::vector<std::string> kFields{"free", "bound", "lumen_fraction"};
        if (const toml::node* node = sweep.get("fields")) {
            const toml::array* list = node->as_array();
            if (!list) fail(sweep, "fields", "expected an array of field names from " + quoted_list(kFields) + " (or [] for none)");
            for (const auto& item : *list) {
                const auto name = item.value_exact<std::string>();
                const std::string head = where(item) + ": sweep.fields: " + toml_text(item) + ": ";
                if (!name) throw InputError(head + "expected a field name from " + quoted_list(kFields) + ", got " + toml_type_name(item));
                if (std::find(kFields.begin(), kFields.end(), *name) == kFields.end()) {
                    const std::string guess = closest(*name, kFields);
                    throw InputError(head + "unknown field; expected one of " + quoted_list(kFields) +
                                     (guess.empty() ? "" : "; did you mean " + schema::quote(guess) + "?"));
                }
                if (std::find(spec_.fields.begin(), spec_.fields.end(), *name) != spec_.fields.end())
                    throw InputError(head + "listed twice");
                spec_.fields.push_back(*name);
            }
        }
        const auto& outputs = spec_.base.time.output_times_s;
        if (const toml::node* node = sweep.get("field_times")) {
            const toml::array* list = node->as_array();
            if (!list) fail(sweep, "field_times", "expected an array of times from time.outputs, e.g. [\"24 h\"] (or [] for all)");
            for (const auto& item : *list) {
                const std::string head = where(item) + ": sweep.field_times: " + toml_text(item) + ": ";
                const auto text = item.value_exact<std::string>();
                if (!text) throw InputError(head + "expected a time such as \"24 h\" (a quoted string with a unit), got " + toml_type_name(item));
                double t = 0.0;
                try {
                    t = units::parse_as(*text, units::kind::time);
                } catch (const units::UnitError& e) {
                    throw InputError(head + e.what() + "; expected a time such as \"24 h\"");
                }
                const auto match = std::find_if(outputs.begin(), outputs.end(), [&](double o) {
                    return std::abs(o - t) <= 1e-9 * std::max(1.0, std::abs(o));
                });
                if (match == outputs.end()) {
                    std::vector<std::string> listed;
                    for (double o : outputs) listed.push_back(schema::quote(units::format_quantity(o, "h")));
                    throw InputError(head + "not one of the output times of the base scenario; time.outputs = [" +
                                     join(listed) + "]");
                }
                if (std::find(spec_.field_times_s.begin(), spec_.field_times_s.end(), *match) != spec_.field_times_s.end())
                    throw InputError(head + "listed twice");
                spec_.field_times_s.push_back(*match);
            }
            std::sort(spec_.field_times_s.begin(), spec_.field_times_s.end());
        }
        if (spec_.field_times_s.empty()) spec_.field_times_s = outputs;
        if (const toml::node* node = sweep.get("field_runs")) {
            if (node->value_exact<std::string>() == std::optional<std::string>("all")) return;
            const toml::array* list = node->as_array();
            if (!list) fail(sweep, "field_runs", "expected \"all\" or an array of run indices, e.g. [0, 5]");
            const std::size_t runs = spec_.run_count();
            for (const auto& item : *list) {
                const std::string head = where(item) + ": sweep.field_runs: " + toml_text(item) + ": ";
                const auto index = item.value_exact<std::int64_t>();
                if (!index) throw InputError(head + "expected a run index (an integer), got " + toml_type_name(item));
                if (*index < 0 || static_cast<std::uint64_t>(*index) >= runs)
                    throw InputError(head + "expected a run index from 0 to " + std::to_string(runs - 1) + " (this sweep has " +
                                     std::to_string(runs) + " runs)");
                const auto i = static_cast<std::size_t>(*index);
                if (std::find(spec_.field_runs.begin(), spec_.field_runs.end(), i) != spec_.field_runs.end())
                    throw InputError(head + "listed twice");
                spec_.field_runs.push_back(i);
            }
            std::sort(spec_.field_runs.begin(), spec_.field_runs.end());
            spec_.field_all_runs = false;
        }
    }

    std::string identity() const {
        std::ostringstream out;
        out << kIdentityVersion << "\n";
        out << "design = \"" << design_name() << "\"\n";
        out << "seeds = \"" << (spec_.seeds == SweepSeeds::Common ? "common" : "independent") << "\"\n";
        out << "replicates = " << spec_.replicates << "\n";
        out << "points = " << spec_.points << "\n";
        for (std::size_t j = 0; j < spec_.axes.size(); ++j) {
            const auto& a = spec_.axes[j];
            out << "axis " << schema::quote(a.key) << ": ";
            if (sampled()) out << sources_[j].spec << "\n";
            else out << "values = [" << join(a.values) << "]\n";
        }
        out << "base scenario:\n" << spec_.base.resolved_text;
        return out.str();
    }
};

} // namespace

double sobol_coordinate(std::uint64_t index, std::size_t dimension) {
    if (dimension >= kSobolMaxDimensions) throw std::out_of_range("sobol_coordinate: dimension beyond the table");
    if (index >> kSobolBits) throw std::out_of_range("sobol_coordinate: index beyond 2^32 - 1");
    const Directions& v = sobol_directions()[dimension];
    // Gray-code order (Antonov & Saleev): point n is the XOR of the v_k for the bits of n ^ (n >> 1).
    std::uint64_t gray = index ^ (index >> 1);
    std::uint32_t x = 0;
    for (unsigned k = 0; gray; ++k, gray >>= 1)
        if (gray & 1u) x ^= v[k];
    return static_cast<double>(x) * 0x1.0p-32;
}

std::uint64_t sweep_seed(std::uint64_t base_seed, SweepSeeds seeds, std::size_t point, std::size_t replicate) {
    const std::uint64_t p = seeds == SweepSeeds::Common ? 0 : point;
    const std::uint64_t r = replicate;
    const auto out = philox(base_seed, static_cast<std::uint32_t>(p), static_cast<std::uint32_t>(p >> 32),
                            static_cast<std::uint32_t>(r), seeds == SweepSeeds::Common ? kSeedCommon : kSeedIndependent);
    return (std::uint64_t{out[1]} << 32 | out[0]) & ((std::uint64_t{1} << 63) - 1);
}

SweepRun SweepSpec::run(std::size_t index) const {
    if (index >= run_count())
        throw std::out_of_range("SweepSpec::run: index " + std::to_string(index) + " of " + std::to_string(run_count()) + " runs");
    SweepRun r;
    r.index = index;
    r.point = index / replicates;
    r.replicate = index % replicates;
    r.seed = sweep_seed(base_seed, seeds, r.point, r.replicate);
    r.overrides.reserve(axes.size() + 1);
    r.axis_numbers.reserve(axes.size());
    std::vector<std::size_t> level(axes.size());
    if (design == SweepDesign::Grid) {
        // The last axis varies fastest.
        std::size_t rest = r.point;
        for (std::size_t j = axes.size(); j-- > 0;) {
            level[j] = rest % axes[j].values.size();
            rest /= axes[j].values.size();
        }
    } else {
        std::fill(level.begin(), level.end(), r.point);
    }
    for (std::size_t j = 0; j < axes.size(); ++j) {
        r.overrides.push_back(axes[j].key + "=" + axes[j].values[level[j]]);
        r.axis_numbers.push_back(level[j] < axes[j].numbers.size() ? axes[j].numbers[level[j]] : kNaN);
    }
    r.overrides.push_back("scenario.seed=" + std::to_string(r.seed));
    return r;
}

bool SweepSpec::keeps_fields(std::size_t index) const {
    if (fields.empty()) return false;
    return field_all_runs || std::binary_search(field_runs.begin(), field_runs.end(), index);
}

SweepSpec load_sweep_text(std::string_view toml_text, std::string_view source_name) {
    return SweepReader(toml_text, source_name).read();
}

SweepSpec load_sweep(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw InputError(file.string() + ": cannot read the sweep file (missing or unreadable)");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw InputError(file.string() + ": error while reading the sweep file");
    SweepSpec spec = load_sweep_text(text.str(), file.string());
    std::error_code ec;
    const auto absolute = std::filesystem::absolute(file, ec);
    if (!ec) spec.base.source_path = absolute.lexically_normal().string();
    return spec;
}

} // namespace exoderm
