#include "model/toml_screen.hpp"

#include <cstdio>

namespace exoderm {

namespace {

enum class Lexeme { Outside, Comment, Basic, Literal, MultiBasic, MultiLiteral };

bool starts_with(std::string_view text, std::size_t i, std::string_view what) {
    return text.substr(i, what.size()) == what;
}

// The code point starting at byte i (0xFFFD for a malformed sequence).
char32_t decode(std::string_view text, std::size_t i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
    if (length == 0 || i + length > text.size()) return 0xFFFD;
    char32_t cp = lead & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
        const auto b = static_cast<unsigned char>(text[i + k]);
        if ((b & 0xC0) != 0x80) return 0xFFFD;
        cp = (cp << 6) | (b & 0x3F);
    }
    return cp;
}

} // namespace

std::optional<NonAsciiOutsideStrings> find_non_ascii_outside_strings(std::string_view text) {
    Lexeme state = Lexeme::Outside;
    std::size_t line = 1, column = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const auto byte = static_cast<unsigned char>(c);
        if ((byte & 0xC0) != 0x80) ++column; // continuation bytes belong to the previous character
        if (c == '\n') {
            ++line;
            column = 0;
            // Comments and single-line strings end at the line's end (an unterminated string is
            // toml++'s error to report).
            if (state != Lexeme::MultiBasic && state != Lexeme::MultiLiteral) state = Lexeme::Outside;
            continue;
        }
        switch (state) {
        case Lexeme::Outside:
            if (byte >= 0x80) return NonAsciiOutsideStrings{line, column, decode(text, i)};
            if (c == '#') state = Lexeme::Comment;
            else if (starts_with(text, i, "\"\"\"")) state = Lexeme::MultiBasic, i += 2, column += 2;
            else if (starts_with(text, i, "'''")) state = Lexeme::MultiLiteral, i += 2, column += 2;
            else if (c == '"') state = Lexeme::Basic;
            else if (c == '\'') state = Lexeme::Literal;
            break;
        case Lexeme::Comment: break;
        case Lexeme::Basic:
            if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') ++i, ++column; // an escaped character
            else if (c == '"') state = Lexeme::Outside;
            break;
        case Lexeme::Literal:
            if (c == '\'') state = Lexeme::Outside;
            break;
        case Lexeme::MultiBasic:
            if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') ++i, ++column;
            else if (starts_with(text, i, "\"\"\"")) {
                // Up to two more quotes may close it as part of the content ("""a""""" is a"").
                std::size_t quotes = 3;
                while (quotes < 5 && i + quotes < text.size() && text[i + quotes] == '"') ++quotes;
                i += quotes - 1;
                column += quotes - 1;
                state = Lexeme::Outside;
            }
            break;
        case Lexeme::MultiLiteral:
            if (starts_with(text, i, "'''")) {
                std::size_t quotes = 3;
                while (quotes < 5 && i + quotes < text.size() && text[i + quotes] == '\'') ++quotes;
                i += quotes - 1;
                column += quotes - 1;
                state = Lexeme::Outside;
            }
            break;
        }
    }
    return std::nullopt;
}

std::string describe(const NonAsciiOutsideStrings& hit) {
    char text[128];
    std::snprintf(text, sizeof text, "non-ASCII character U+%04X outside a string or comment (TOML allows it only there)",
                  static_cast<unsigned>(hit.code_point));
    return text;
}

} // namespace exoderm
