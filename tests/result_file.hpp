// Reading what a run wrote: /summary attributes of a result file, for the command-line tests.
#pragma once

#include <catch2/catch.hpp>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <string>

namespace exoderm::testing {

// The /summary attribute `name` of a finished result file (NaN and a failed check if missing).
inline double summary_attribute(const std::filesystem::path& file, const std::string& name) {
    INFO(file.string() << " /summary " << name);
    const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(f >= 0);
    const hid_t g = H5Gopen2(f, "summary", H5P_DEFAULT);
    REQUIRE(g >= 0);
    double v = std::nan("");
    const hid_t a = H5Aopen(g, name.c_str(), H5P_DEFAULT);
    CHECK(a >= 0);
    if (a >= 0) {
        CHECK(H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0);
        H5Aclose(a);
    }
    H5Gclose(g);
    H5Fclose(f);
    return v;
}

} // namespace exoderm::testing
