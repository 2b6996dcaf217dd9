#include "model/toml_screen.hpp"

#include <cstdio>

namespace exoderm {

namespace {

bool starts_with(std::string_view text, std::size_t i, std::string_view what) {
    return text.substr(i, what.size()) == what;
}

constexpr char32_t kInvalid = 0xFFFFFFFF;

// The code point starting at byte i and its length in bytes; kInvalid (length 1) where the bytes
// are not UTF-8 (stray continuation bytes, truncated or overlong sequences, surrogates, beyond
// U+10FFFF).
char32_t decode(std::string_view text, std::size_t i, std::size_t& length) {
    const auto lead = static_cast<unsigned char>(text[i]);
    length = lead >= 0xF0 && lead < 0xF8 ? 4 : lead >= 0xE0 && lead < 0xF0 ? 3 : lead >= 0xC0 && lead < 0xE0 ? 2 : 1;
    if (length == 1 || i + length > text.size()) {
        length = 1;
        return lead < 0x80 ? lead : kInvalid;
    }
    char32_t cp = lead & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
        const auto b = static_cast<unsigned char>(text[i + k]);
        if ((b & 0xC0) != 0x80) {
            length = 1;
            return kInvalid;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    constexpr char32_t kLeast[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kLeast[length] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        length = 1;
        return kInvalid;
    }
    return cp;
}

void append_escape(std::string& out, char32_t cp) {
    char buf[16];
    if (cp <= 0xFFFF) std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
    else std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(cp));
    out += buf;
}

struct Scanner {
    std::string_view text;
    std::string& out;
    std::size_t i = 0, line = 1, line_start = 0;
    std::optional<NonAsciiOutsideStrings> bad; // bytes that are not UTF-8, found in a string

    std::size_t column_of(std::size_t at) const { // in code points
        std::size_t column = 1;
        for (std::size_t k = line_start; k < at; ++k)
            if ((static_cast<unsigned char>(text[k]) & 0xC0) != 0x80) ++column;
        return column;
    }
    void newline_at(std::size_t at) {
        ++line;
        line_start = at + 1;
    }
    bool has_non_ascii(std::size_t from, std::size_t to) const {
        for (std::size_t k = from; k < to; ++k)
            if (static_cast<unsigned char>(text[k]) >= 0x80) return true;
        return false;
    }
    // Where the string opened at `open` (delimiter of `quotes` characters) ends: one past its
    // closing delimiter, or the end of the line / text when it is not closed.
    std::size_t string_end(std::size_t open, char quote, bool multi, std::size_t& content_end) const {
        std::size_t k = open + (multi ? 3 : 1);
        while (k < text.size()) {
            const char c = text[k];
            if (!multi && c == '\n') break;
            if (quote == '"' && c == '\\' && k + 1 < text.size() && text[k + 1] != '\n') {
                k += 2;
                continue;
            }
            if (c == quote && (!multi || starts_with(text, k, std::string(3, quote)))) {
                std::size_t run = 1;
                if (multi) {
                    run = 3;
                    while (run < 5 && k + run < text.size() && text[k + run] == quote) ++run;
                }
                content_end = k + run - (multi ? 3 : 1);
                return k + run;
            }
            ++k;
        }
        content_end = k;
        return k;
    }
    // The string's text as a basic string with \u escapes for its non-ASCII characters.
    void append_escaped_string(std::size_t open, std::size_t content_end, std::size_t end, char quote, bool multi) {
        const std::size_t content_start = open + (multi ? 3 : 1);
        out += multi ? "\"\"\"" : "\"";
        for (std::size_t k = content_start; k < content_end;) {
            const auto byte = static_cast<unsigned char>(text[k]);
            if (byte >= 0x80) {
                std::size_t length = 1;
                const char32_t cp = decode(text, k, length);
                if (cp == kInvalid) {
                    bad = NonAsciiOutsideStrings{line, column_of(k), 0xFFFD, true};
                    return;
                }
                append_escape(out, cp);
                k += length;
                continue;
            }
            const char c = text[k];
            if (quote == '"' && c == '\\' && k + 1 < content_end && static_cast<unsigned char>(text[k + 1]) >= 0x80) {
                // An escape of a non-ASCII character is no TOML escape: keep it one for toml++ to refuse.
                out += "\\?";
                ++k;
                continue;
            }
            if (quote == '\'' && (c == '\\' || c == '"')) out += '\\'; // literal text in a basic string
            if (quote == '"' && c == '\\' && k + 1 < content_end && static_cast<unsigned char>(text[k + 1]) < 0x80) {
                out += c; // an escape sequence stays as it is
                out += text[k + 1];
                if (text[k + 1] == '\n') newline_at(k + 1);
                k += 2;
                continue;
            }
            if (c == '\n') newline_at(k);
            out += c;
            ++k;
        }
        const bool closed = end > content_end;
        if (closed) out += multi ? "\"\"\"" : "\"";
    }
};

} // namespace

std::optional<NonAsciiOutsideStrings> to_ascii_toml(std::string_view text, std::string& out) {
    out.clear();
    out.reserve(text.size());
    Scanner s{text, out};
    while (s.i < text.size()) {
        const char c = text[s.i];
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x80) {
            std::size_t length = 1;
            const char32_t cp = decode(text, s.i, length);
            return NonAsciiOutsideStrings{s.line, s.column_of(s.i), cp == kInvalid ? 0xFFFD : cp, cp == kInvalid};
        }
        if (c == '\n') {
            s.newline_at(s.i);
            out += c;
            ++s.i;
        } else if (c == '#') {
            // A comment runs to the end of the line; its non-ASCII characters become '?'.
            while (s.i < text.size() && text[s.i] != '\n') {
                std::size_t length = 1;
                if (static_cast<unsigned char>(text[s.i]) >= 0x80) {
                    if (decode(text, s.i, length) == kInvalid)
                        return NonAsciiOutsideStrings{s.line, s.column_of(s.i), 0xFFFD, true};
                    out += '?';
                } else {
                    out += text[s.i];
                }
                s.i += length;
            }
        } else if (c == '"' || c == '\'') {
            const bool multi = starts_with(text, s.i, std::string(3, c));
            std::size_t content_end = 0;
            const std::size_t end = s.string_end(s.i, c, multi, content_end);
            if (s.has_non_ascii(s.i, end)) {
                s.append_escaped_string(s.i, content_end, end, c, multi);
                if (s.bad) return s.bad;
            } else {
                for (std::size_t k = s.i; k < end; ++k)
                    if (text[k] == '\n') s.newline_at(k);
                out.append(text.substr(s.i, end - s.i));
            }
            s.i = end;
        } else {
            out += c;
            ++s.i;
        }
    }
    return std::nullopt;
}

bool is_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        std::size_t length = 1;
        if (decode(text, i, length) == kInvalid) return false;
        i += length;
    }
    return true;
}

std::string describe(const NonAsciiOutsideStrings& hit) {
    if (hit.not_utf8) return "bytes that are not UTF-8 (TOML files are UTF-8 text)";
    char text[128];
    std::snprintf(text, sizeof text, "non-ASCII character U+%04X outside a string or comment (TOML allows it only there)",
                  static_cast<unsigned>(hit.code_point));
    return text;
}

} // namespace exoderm
