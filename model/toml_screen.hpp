// A screen run over TOML text before toml++ parses it: the first non-ASCII character outside
// strings and comments.
//
// TOML 1.0 allows non-ASCII characters only inside strings and comments (bare keys, values,
// whitespace and punctuation are ASCII), so such a character is a syntax error either way. The
// screen reports it by itself because toml++ 3.3 (Debian bookworm) reaches undefined behaviour
// (TOML_UNREACHABLE in is_non_ascii_horizontal_whitespace) on code points such as U+02F4 in
// that position (docs/FUZZING.md; tests/fuzz_regressions/toml_unreachable_non_ascii_after_key_U+02F4).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace exoderm {

struct NonAsciiOutsideStrings {
    std::size_t line = 1;   // 1-based
    std::size_t column = 1; // 1-based, in characters (UTF-8 code points), as toml++ counts
    char32_t code_point = 0; // 0xFFFD when the bytes are not valid UTF-8
};

std::optional<NonAsciiOutsideStrings> find_non_ascii_outside_strings(std::string_view toml_text);

// "non-ASCII character U+02F4 outside a string or comment (TOML allows it only there)"
std::string describe(const NonAsciiOutsideStrings& hit);

} // namespace exoderm
