// How big the [heavy] and [scenarios] tests make their problems. The sanitizer suite sets
// EXODERM_TEST_SIZE=small (tests/CMakeLists.txt): the same checks then run on smaller problems
// (fewer particles and runs, shorter times, coarser grids), with their statistical tolerances
// derived for that size, so the whole suite runs instrumented within CI's time. The normal
// suite runs them at full size.
#pragma once

#include <cstdlib>
#include <string_view>

namespace exoderm::testing {

inline bool small_test_size() {
    const char* size = std::getenv("EXODERM_TEST_SIZE");
    return size != nullptr && std::string_view(size) == "small";
}

// full in the normal suite, small in the sanitizer suite.
template <class T>
T by_test_size(T full, T small) {
    return small_test_size() ? small : full;
}

} // namespace exoderm::testing
