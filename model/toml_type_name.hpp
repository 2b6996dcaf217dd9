// What a TOML value is, in words, for "expected ..., got a string" messages of the scenario and
// sweep readers.
#pragma once

#include <toml++/toml.h>

#include <string>

namespace exoderm {

inline std::string toml_type_name(const toml::node& node) {
    switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time of day";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
    }
}

} // namespace exoderm
