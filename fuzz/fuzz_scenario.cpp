// libFuzzer target: scenario and sweep files through the loader, schema, units and sweep
// specification (fuzz/scenario_input.hpp). Build with the "fuzz" preset; run scripts/fuzz.sh.
#include "fuzz/scenario_input.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    exoderm::fuzz::read_scenario_input(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
