#include "model/units.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace exoderm::units {
namespace {

// Scales are kept as numerator / denominator so that "1e10 /mL" is 1e10 / 1e12 (correctly
// rounded 0.01) instead of 1e10 * 1e-12 (not); powers of ten up to 1e22 are exact doubles.
struct Scale {
    double num = 1.0;
    double den = 1.0;
};

struct Symbol {
    std::string_view name;
    Scale scale; // internal value of one unit
    Dimension dimension;
    bool prefixable;
};

constexpr double kVolumeLitre = 1e15; // um^3

// Internal value of one unit. Counted things are dimensionless; molar concentration is a
// number concentration via Avogadro (1 pM = 6.022e8 /mL), as vesicles are counted, not weighed.
const std::array<Symbol, 32> kSymbols{{
    {"m", {kMetre, 1}, dim::length, true},
    {"s", {1, 1}, dim::time, true},
    {"min", {60, 1}, dim::time, false},
    {"h", {kHour, 1}, dim::time, false},
    {"d", {kDay, 1}, dim::time, false},
    {"wk", {7 * kDay, 1}, dim::time, false},
    {"y", {kYear, 1}, dim::time, false}, // Julian year, for ages and shelf lives
    {"yr", {kYear, 1}, dim::time, false},
    {"g", {1, 1e3}, dim::mass, true},
    {"K", {1, 1}, dim::temperature, false},
    {"mol", {1, 1}, dim::amount, true},
    {"L", {kVolumeLitre, 1}, dim::volume, true},
    {"l", {kVolumeLitre, 1}, dim::volume, true},
    {"M", {kAvogadro, kVolumeLitre}, dim::per_volume, true},
    {"Pa", {1, 1e6}, Dimension{{-1, -2, 1, 0, 0, 0}}, true}, // kg/(m s^2)
    {"P", {1, 1e7}, dim::viscosity, true},                 // poise = 0.1 Pa s
    {"J", {1e12, 1}, dim::energy, true},                    // kg m^2/s^2
    {"B", {1, 1}, dim::bytes, true},
    {"KiB", {1024.0, 1}, dim::bytes, false},
    {"MiB", {1024.0 * 1024, 1}, dim::bytes, false},
    {"GiB", {1024.0 * 1024 * 1024, 1}, dim::bytes, false},
    {"TiB", {1024.0 * 1024 * 1024 * 1024, 1}, dim::bytes, false},
    {"particles", {1, 1}, dim::none, false},
    {"particle", {1, 1}, dim::none, false},
    {"vesicles", {1, 1}, dim::none, false},
    {"vesicle", {1, 1}, dim::none, false},
    {"EVs", {1, 1}, dim::none, false},
    {"EV", {1, 1}, dim::none, false},
    {"exosomes", {1, 1}, dim::none, false},
    {"exosome", {1, 1}, dim::none, false},
    {"cells", {1, 1}, dim::none, false},
    {"cell", {1, 1}, dim::none, false},
}};

struct Prefix {
    char symbol;
    int power10;
};
const std::array<Prefix, 10> kPrefixes{{{'f', -15}, {'p', -12}, {'n', -9}, {'u', -6}, {'m', -3}, {'c', -2},
                                       {'k', 3}, {'M', 6}, {'G', 9}, {'T', 12}}};

const char* const kUnitHint =
    "units are written like um, mm, nm, s, min, h, d, /mL, pM, uL/cm^2, /h, C, K, mPa s, GiB";

std::optional<Symbol> lookup_symbol(std::string_view name) {
    for (const auto& s : kSymbols)
        if (s.name == name) return s;
    if (name.size() < 2) return std::nullopt;
    for (const auto& p : kPrefixes) {
        if (name[0] != p.symbol) continue;
        for (const auto& s : kSymbols) {
            if (!s.prefixable || s.name != name.substr(1)) continue;
            Symbol r = s;
            const double factor = std::pow(10.0, std::abs(p.power10)); // exact for |p| <= 22
            if (p.power10 > 0) r.scale.num *= factor;
            else r.scale.den *= factor;
            return r;
        }
    }
    return std::nullopt;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && (is_space(s.front()) || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (is_space(s.back()) || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// Writers use µ, μ, ·, ², ³ and °C; map them to the ASCII grammar.
std::string normalise(std::string_view s) {
    struct Swap {
        std::string_view from, to;
    };
    static constexpr std::array<Swap, 7> swaps{{{"\xC2\xB5", "u"},
                                                {"\xCE\xBC", "u"},
                                                {"\xC2\xB7", "*"},
                                                {"\xC2\xB2", "^2"},
                                                {"\xC2\xB3", "^3"},
                                                {"\xC2\xB0" "C", "C"},
                                                {"degC", "C"}}};
    std::string out(s);
    for (const auto& sw : swaps) {
        for (std::size_t at = out.find(sw.from); at != std::string::npos; at = out.find(sw.from, at + sw.to.size()))
            out.replace(at, sw.from.size(), sw.to);
    }
    return out;
}

// One factor such as "um^2" or "s^-1", applied to acc with the sign of `sign`.
void apply_factor(std::string_view token, int sign, std::string_view whole, Unit& acc, Scale& scale) {
    std::string_view name = token;
    int power = 1;
    if (auto caret = token.find('^'); caret != std::string_view::npos) {
        name = token.substr(0, caret);
        std::string_view p = token.substr(caret + 1);
        int value = 0;
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
        if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || value == 0)
            throw UnitError("bad power '" + std::string(token) + "' in unit '" + std::string(whole) +
                            "'; write powers like um^2 or s^-1");
        power = value;
    }
    if (name == "C")
        throw UnitError("'C' (degrees Celsius) cannot be combined with other units in '" + std::string(whole) +
                        "'; use K");
    auto sym = lookup_symbol(name);
    if (!sym) throw UnitError("unknown unit '" + std::string(name) + "'; " + kUnitHint);
    const int p = sign * power;
    acc.dimension = acc.dimension * sym->dimension.pow(p);
    for (int i = 0; i < std::abs(p); ++i) {
        if (p > 0) {
            scale.num *= sym->scale.num;
            scale.den *= sym->scale.den;
        } else {
            scale.num *= sym->scale.den;
            scale.den *= sym->scale.num;
        }
    }
}

void apply_product(std::string_view part, int sign, std::string_view whole, Unit& acc, Scale& scale) {
    std::size_t i = 0;
    while (i < part.size()) {
        while (i < part.size() && (is_space(part[i]) || part[i] == '*')) ++i;
        std::size_t j = i;
        while (j < part.size() && !is_space(part[j]) && part[j] != '*') ++j;
        if (j > i) apply_factor(part.substr(i, j - i), sign, whole, acc, scale);
        i = j;
    }
}

bool blank(std::string_view s) {
    for (char c : s)
        if (!is_space(c) && c != '*') return false;
    return true;
}

// Scale and dimension of a unit, keeping numerator and denominator apart (see Scale).
struct ParsedUnit {
    Unit unit;
    Scale scale;
};

ParsedUnit parse_unit_parts(std::string_view unit_text) {
    const std::string text = normalise(trim(unit_text));
    const std::string_view whole = text;
    if (whole.empty()) throw UnitError("missing unit");
    ParsedUnit r;
    if (whole == "C") {
        r.unit = Unit{1.0, kZeroCelsius, dim::temperature};
        return r;
    }
    const auto slash = whole.find('/');
    if (slash != std::string_view::npos && whole.find('/', slash + 1) != std::string_view::npos)
        throw UnitError("more than one '/' in unit '" + text +
                        "'; everything after a single '/' is the denominator, e.g. J/mol K");
    const std::string_view numerator = whole.substr(0, slash);
    apply_product(numerator, +1, whole, r.unit, r.scale);
    if (slash != std::string_view::npos) {
        const std::string_view denominator = whole.substr(slash + 1);
        if (blank(denominator)) throw UnitError("nothing after '/' in unit '" + text + "'");
        apply_product(denominator, -1, whole, r.unit, r.scale);
    }
    // Cancel what numerator and denominator share when one divides the other exactly: "um" is
    // 1e6 / 1e6 and must convert as 1 / 1, or value * 1e6 / 1e6 rounds twice and a resolved
    // scenario does not read back to the same doubles (found by the fuzzer).
    if (r.scale.num >= r.scale.den && std::fmod(r.scale.num, r.scale.den) == 0.0) {
        r.scale.num /= r.scale.den;
        r.scale.den = 1.0;
    } else if (r.scale.den > r.scale.num && std::fmod(r.scale.den, r.scale.num) == 0.0) {
        r.scale.den /= r.scale.num;
        r.scale.num = 1.0;
    }
    r.unit.scale = r.scale.num / r.scale.den;
    return r;
}

double apply(double value, const ParsedUnit& u) { return value * u.scale.num / u.scale.den + u.unit.offset; }
double unapply(double internal, const ParsedUnit& u) { return (internal - u.unit.offset) * u.scale.den / u.scale.num; }

// Leading decimal number ("1e10", "-0.5", ".5"); returns characters used, 0 if none.
std::size_t scan_number(std::string_view s) {
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
    }
    if (digits == 0) return 0;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        std::size_t j = i + 1;
        if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
        if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
            while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
            i = j;
        }
    }
    return i;
}

double read_number(std::string_view s) {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    double v = 0.0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size())
        throw UnitError("number '" + std::string(s) + "' is out of range");
    return v;
}

struct NumberAndUnit {
    double number;
    std::string_view unit;
};

NumberAndUnit split_quantity(std::string_view text) {
    const std::string_view t = trim(text);
    if (t.empty()) throw UnitError("empty value");
    const std::size_t n = scan_number(t);
    if (n == 0) throw UnitError("not a number followed by a unit");
    return {read_number(t.substr(0, n)), trim(t.substr(n))};
}

} // namespace

Unit parse_unit(std::string_view unit_text) { return parse_unit_parts(unit_text).unit; }

Quantity parse_quantity(std::string_view text) {
    const auto [number, unit_text] = split_quantity(text);
    if (unit_text.empty()) throw UnitError("missing unit");
    const ParsedUnit u = parse_unit_parts(unit_text);
    return {apply(number, u), u.unit.dimension};
}

double to_internal(double value, std::string_view unit_text) { return apply(value, parse_unit_parts(unit_text)); }

double from_internal(double internal_value, std::string_view unit_text) {
    return unapply(internal_value, parse_unit_parts(unit_text));
}

std::string format_number(double value) {
    if (value == 0.0) return "0"; // also for -0
    std::array<char, 64> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
    std::string s(buf.data(), ec == std::errc{} ? end : buf.data());
    // "1e+10" -> "1e10", "5e-05" -> "5e-5": the way people write it, and valid TOML.
    if (auto e = s.find('e'); e != std::string::npos) {
        std::string mantissa = s.substr(0, e);
        std::string exponent = s.substr(e + 1);
        std::string sign;
        if (!exponent.empty() && (exponent[0] == '+' || exponent[0] == '-')) {
            if (exponent[0] == '-') sign = "-";
            exponent.erase(0, 1);
        }
        while (exponent.size() > 1 && exponent[0] == '0') exponent.erase(0, 1);
        s = mantissa + "e" + sign + exponent;
    }
    return s;
}

std::string format_quantity(double value, std::string_view display_unit, std::string_view value_unit) {
    const ParsedUnit shown = parse_unit_parts(display_unit);
    const std::string unit = normalise(trim(display_unit));
    std::optional<ParsedUnit> stored;
    if (!trim(value_unit).empty()) stored = parse_unit_parts(value_unit);
    const auto to_value = [&](double display) {
        const double internal = apply(display, shown);
        return stored ? unapply(internal, *stored) : internal;
    };
    const auto joined = [&](double display) { return format_number(display) + " " + unit; };
    if (!std::isfinite(value)) return joined(value);
    const double display = unapply(stored ? apply(value, *stored) : value, shown);
    // Shortest text that reads back to the identical double.
    for (int precision = 1; precision <= 17; ++precision) {
        std::array<char, 64> buf{};
        std::snprintf(buf.data(), buf.size(), "%.*g", precision, display);
        const double candidate = read_number(buf.data());
        if (to_value(candidate) == value) return joined(candidate);
    }
    double up = display, down = display;
    for (int step = 0; step < 64; ++step) {
        up = std::nextafter(up, INFINITY);
        down = std::nextafter(down, -INFINITY);
        if (to_value(up) == value) return joined(up);
        if (to_value(down) == value) return joined(down);
    }
    // The display unit cannot represent this value exactly: its own unit (scale 1) can.
    if (stored) return format_number(value) + " " + normalise(trim(value_unit));
    return format_number(value) + " " + internal_unit_text(shown.unit.dimension);
}

std::string internal_unit_text(const Dimension& d) {
    static constexpr std::array<std::string_view, kBaseCount> names{"um", "s", "kg", "K", "mol", "B"};
    std::string out;
    for (int i = 0; i < kBaseCount; ++i) {
        const int e = d.exponent[i];
        if (e == 0) continue;
        if (!out.empty()) out += ' ';
        out += names[i];
        if (e != 1) out.append("^").append(std::to_string(e));
    }
    return out.empty() ? "1" : out;
}

std::string expectation(const Kind& k) { return std::string(k.name) + " such as \"" + std::string(k.example) + "\""; }

std::string describe_dimension(const Dimension& d) {
    static constexpr std::array<const Kind*, 15> known{
        &kind::length,    &kind::time,        &kind::concentration, &kind::rate,
        &kind::temperature, &kind::viscosity, &kind::areal_density, &kind::memory_size,
        &kind::diffusivity, &kind::volume,    &kind::molar_energy,  &kind::mass,
        &kind::mass_rate,   &kind::mass_concentration, &kind::volume_rate};
    for (const Kind* k : known)
        if (k->dimension == d) return std::string(k->name);
    if (d.dimensionless()) return "a plain count";
    return "a quantity in " + internal_unit_text(d);
}

double parse_as(std::string_view text, const Kind& k) {
    const Quantity q = parse_quantity(text);
    if (q.dimension != k.dimension)
        throw UnitError("this is " + describe_dimension(q.dimension) + ", not " + std::string(k.name));
    return q.value;
}

} // namespace exoderm::units
