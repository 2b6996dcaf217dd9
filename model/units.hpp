// Physical quantities written with units ("500 um", "1e10 /mL", "32 C") and their conversion
// to the internal units used everywhere downstream of the scenario loader:
//   length um, time s, mass kg, temperature K, amount of substance mol, memory bytes.
// Counted things (particles, vesicles, EVs) are dimensionless, so a concentration is /um^3.
//
// Grammar of a quantity: NUMBER [space] UNIT, where UNIT is a product of symbols with optional
// integer powers ("um^2", "mPa s", "mPa*s") and at most one '/', after which everything is
// in the denominator ("J/mol K" = J/(mol K); "/mL" = 1/mL). A unit is always required.
#pragma once

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace exoderm::units {

// Order of the base dimensions in Dimension::exponent.
enum class Base : int { Length = 0, Time, Mass, Temperature, Amount, Bytes };
inline constexpr int kBaseCount = 6;

struct Dimension {
    std::array<int, kBaseCount> exponent{};

    constexpr bool operator==(const Dimension&) const = default;
    constexpr Dimension operator*(const Dimension& o) const {
        Dimension r;
        for (int i = 0; i < kBaseCount; ++i) r.exponent[i] = exponent[i] + o.exponent[i];
        return r;
    }
    constexpr Dimension pow(int p) const {
        Dimension r;
        for (int i = 0; i < kBaseCount; ++i) r.exponent[i] = exponent[i] * p;
        return r;
    }
    constexpr bool dimensionless() const { return *this == Dimension{}; }
};

namespace dim {
//                                              L  T  M  Θ  N  B
inline constexpr Dimension none{};
inline constexpr Dimension length{{1, 0, 0, 0, 0, 0}};
inline constexpr Dimension time{{0, 1, 0, 0, 0, 0}};
inline constexpr Dimension mass{{0, 0, 1, 0, 0, 0}};
inline constexpr Dimension temperature{{0, 0, 0, 1, 0, 0}};
inline constexpr Dimension amount{{0, 0, 0, 0, 1, 0}};
inline constexpr Dimension bytes{{0, 0, 0, 0, 0, 1}};
inline constexpr Dimension area{{2, 0, 0, 0, 0, 0}};
inline constexpr Dimension volume{{3, 0, 0, 0, 0, 0}};
inline constexpr Dimension per_volume{{-3, 0, 0, 0, 0, 0}};
inline constexpr Dimension per_area{{-2, 0, 0, 0, 0, 0}};
inline constexpr Dimension rate{{0, -1, 0, 0, 0, 0}};
inline constexpr Dimension diffusivity{{2, -1, 0, 0, 0, 0}};
inline constexpr Dimension viscosity{{-1, -1, 1, 0, 0, 0}};
inline constexpr Dimension energy{{2, -2, 1, 0, 0, 0}};
inline constexpr Dimension molar_energy{{2, -2, 1, 0, -1, 0}};
} // namespace dim

// Internal value of one display unit, for code that stores a field in a non-internal unit.
inline constexpr double kMetre = 1e6;       // um
inline constexpr double kNanometre = 1e-3;  // um
inline constexpr double kHour = 3600.0;     // s
inline constexpr double kDay = 86400.0;     // s
inline constexpr double kYear = 365.25 * kDay; // s (Julian year)
inline constexpr double kPascalSecond = 1e-6; // kg / (um s)
inline constexpr double kZeroCelsius = 273.15; // K
inline constexpr double kAvogadro = 6.02214076e23; // 1/mol
inline constexpr double kGasConstant = 8.314462618e12; // J/(mol K) in internal units (kg um^2 s^-2 mol^-1 K^-1)

// A parsed quantity: value in internal units.
struct Quantity {
    double value = 0.0;
    Dimension dimension;
};

// A unit expression: internal = value * scale + offset (offset only for "C").
struct Unit {
    double scale = 1.0;
    double offset = 0.0;
    Dimension dimension;
};

// What is wrong with a quantity string, without saying where (the caller knows the key).
class UnitError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses "um^2/s", "mPa s", "/mL", "C". Throws UnitError.
Unit parse_unit(std::string_view unit_text);
// Parses "500 um". Throws UnitError ("missing unit", "unknown unit 'xyz'", ...).
Quantity parse_quantity(std::string_view text);

double to_internal(double value, std::string_view unit_text);
double from_internal(double internal_value, std::string_view unit_text);

// Shortest decimal text that reads back to exactly the same double ("1e10", "0.764", "32").
std::string format_number(double value);
// "0.764 mPa s": a value shown in a display unit, chosen as the shortest text that reads back
// to the identical double. The value is in internal units, or in value_unit when given (for
// fields stored in another unit, e.g. viscosity in "Pa s": reading the text back means
// from_internal(parse_quantity(text).value, value_unit)).
std::string format_quantity(double value, std::string_view display_unit, std::string_view value_unit = {});
// Internal units of a dimension, for messages: "um^2 s^-1", "1" for dimensionless.
std::string internal_unit_text(const Dimension& d);

// A named kind of quantity, for keys and for error messages.
struct Kind {
    std::string_view name;         // "a length"
    std::string_view example;      // "500 um"
    Dimension dimension;
    std::string_view display_unit; // unit used when printing values back
};

namespace kind {
inline constexpr Kind length{"a length", "500 um", dim::length, "um"};
inline constexpr Kind time{"a time", "1.5 h", dim::time, "h"};
inline constexpr Kind concentration{"a concentration", "1e10 /mL", dim::per_volume, "/mL"};
inline constexpr Kind volume_per_area{"a volume per area", "20 uL/cm^2", dim::length, "uL/cm^2"};
inline constexpr Kind rate{"a rate", "0.2 /h", dim::rate, "/h"};
inline constexpr Kind temperature{"a temperature", "32 C", dim::temperature, "C"};
inline constexpr Kind viscosity{"a viscosity", "0.764 mPa s", dim::viscosity, "mPa s"};
inline constexpr Kind areal_density{"an areal density", "200 /cm^2", dim::per_area, "/cm^2"};
inline constexpr Kind memory_size{"a memory size", "4 GiB", dim::bytes, "GiB"};
inline constexpr Kind diffusivity{"a diffusivity", "5 um^2/s", dim::diffusivity, "um^2/s"};
inline constexpr Kind volume{"a volume", "20 uL", dim::volume, "uL"};
inline constexpr Kind molar_energy{"a molar energy", "80 kJ/mol", dim::molar_energy, "kJ/mol"};
inline constexpr Kind mass{"a mass", "1 mg", dim::mass, "mg"};
inline constexpr Kind mass_rate{"a mass rate", "70 fg/d", Dimension{{0, -1, 1, 0, 0, 0}}, "fg/d"};
inline constexpr Kind mass_concentration{"a mass concentration", "6 ng/mL", Dimension{{-3, 0, 1, 0, 0, 0}}, "ng/mL"};
inline constexpr Kind volume_rate{"a volume rate", "0.01 um^3/s", Dimension{{3, -1, 0, 0, 0, 0}}, "um^3/s"};
inline constexpr Kind speed{"a speed", "0.2 mm/d", Dimension{{1, -1, 0, 0, 0, 0}}, "mm/d"};
} // namespace kind

// `a length such as "500 um"`
std::string expectation(const Kind& k);
// "a time" for a known dimension, otherwise "a quantity in um^2 s^-1".
std::string describe_dimension(const Dimension& d);
// Parses text and checks its dimension against k. Throws UnitError naming the problem
// ("missing unit", `"1.5 h" is a time, not a length`).
double parse_as(std::string_view text, const Kind& k);

} // namespace exoderm::units
