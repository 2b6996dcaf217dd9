// The message of the input error a scenario (the defaults plus overrides) raises; fails the
// test when it loads.
#pragma once

#include "model/errors.hpp"
#include "model/scenario_load.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

inline std::string input_error_of(const std::vector<std::string>& overrides) {
    try {
        exoderm::load_scenario_text("", "scenarios/x.toml", overrides);
    } catch (const exoderm::InputError& e) {
        return e.what();
    }
    FAIL("no InputError");
    return {};
}
