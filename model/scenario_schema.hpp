// The one registry of scenario-file keys. Parsing, validation, defaults, the resolved
// scenario text (`exoderm check`) and docs/scenario-reference.md are all driven by keys():
// adding a key here is the whole job of adding a key (plus its Scenario field).
#pragma once

#include "model/scenario.hpp"
#include "model/units.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace exoderm::schema {

enum class Type {
    Quantity,        // "500 um": a string with a unit
    QuantityOrNever, // a quantity, or the string "never" (stored as infinity)
    QuantityList,    // ["0 h", "1 h"]
    Number,          // 0.05 (integers accepted)
    Integer,         // 3
    IntegerPair,     // [N, M]
    Bool,            // true / false
    Text,            // any string
    Choice,          // one of Key::choices
};

// A key's value after reading: quantities in the key's value unit (internal unless
// Key::value_unit says otherwise), lists of quantities in internal units.
using Value = std::variant<bool, std::int64_t, double, std::string, std::vector<double>, std::array<std::int64_t, 2>>;

// Allowed range, in the key's display unit for quantities.
struct Range {
    double min = -std::numeric_limits<double>::infinity();
    double max = std::numeric_limits<double>::infinity();
    bool min_open = false; // min itself not allowed
    bool max_open = false;
};

struct Key {
    std::string path; // "product.concentration"
    Type type = Type::Number;
    const units::Kind* kind = nullptr; // quantity types
    std::string display_unit;          // quantity types: unit for printing and for `range`
    std::string value_unit;            // Scenario field unit when not internal ("Pa s", "nm")
    std::string default_toml;          // TOML value text; empty: derived from other keys
    std::string default_note;          // docs text for derived defaults
    Range range;
    char status = '-'; // M measured, D derived, A assumed (MODEL.md); '-' run setting
    std::string description;
    std::vector<std::string> choices; // Type::Choice
    std::function<void(Scenario&, const Value&)> set;
    // nullopt: not written to the resolved text (microneedles.density: pitch is written).
    std::function<std::optional<Value>(const Scenario&)> get;

    std::string_view section() const; // "product"
    std::string_view name() const;    // "concentration"
};

const std::vector<Key>& keys();
const Key* find_key(std::string_view path);
// Every table of the file, parents first: "scenario", "skin", "skin.stratum_corneum", ...
const std::vector<std::string>& sections();
bool is_section(std::string_view path);

// What a valid value looks like: `a length such as "500 um"`, `one of "cone", "pyramid"`.
std::string expectation(const Key& key);
// "from 0 to 1", "above 0 um, up to 10000 um"; empty when unbounded.
std::string describe_range(const Key& key);
// Empty when the value is allowed, else the reason ("out of range; expected ...").
std::string check_value(const Key& key, const Value& value);
// TOML text of a value with units, reading back to the identical value: "\"1e10 /mL\"".
std::string format_value(const Key& key, const Value& value);
// A TOML basic string literal with escapes.
std::string quote(std::string_view text);

// Markdown table of every key (docs/scenario-reference.md is this plus an introduction).
std::string reference_markdown();

} // namespace exoderm::schema
