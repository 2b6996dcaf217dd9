// TOML text made safe for toml++ 3.3 before it is parsed: the same document in ASCII.
//
// toml++ 3.3 (Debian bookworm) reaches undefined behaviour (TOML_UNREACHABLE in
// is_non_ascii_horizontal_whitespace) when it tests some non-ASCII code points, such as U+02F4,
// for whitespace: after a key, in a bare value it reports as an error, after a line-ending
// backslash in a multi-line string (docs/FUZZING.md). A document toml++ sees in ASCII only
// cannot reach it. TOML 1.0 allows non-ASCII characters only in strings and comments, so:
// - in strings they become \u escapes (a literal string holding one becomes the equal basic
//   string); in comments they become '?' (comments carry no data);
// - anywhere else they are a syntax error, reported with line and column.
// On valid TOML the string and comment boundaries found here are exact, so the document means
// the same; on invalid TOML the result is still ASCII and toml++ reports the error.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace exoderm {

struct NonAsciiOutsideStrings {
    std::size_t line = 1;    // 1-based
    std::size_t column = 1;  // 1-based, in characters (UTF-8 code points), as toml++ counts
    char32_t code_point = 0; // 0xFFFD when the bytes are not valid UTF-8
    bool not_utf8 = false;   // bytes that are not UTF-8, anywhere (TOML text must be UTF-8)
};

// The ASCII document in `ascii`, or where the first non-ASCII character outside strings and
// comments, or the first bytes that are not UTF-8, are (ascii then unspecified).
std::optional<NonAsciiOutsideStrings> to_ascii_toml(std::string_view toml_text, std::string& ascii);

// "non-ASCII character U+02F4 outside a string or comment (TOML allows it only there)"
std::string describe(const NonAsciiOutsideStrings& hit);

// Whether text is UTF-8 (no stray, truncated or overlong sequences, surrogates or code points
// beyond U+10FFFF).
bool is_utf8(std::string_view text);

} // namespace exoderm
