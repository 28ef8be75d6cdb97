#pragma once
// Escaping of configured text, done once when a program is compiled so the
// serializer only ever copies ready-made bytes.
#include <string>
#include <string_view>

namespace supervent::core {

// Where a piece of text will land in the output.
enum class TextContext : unsigned char {
    json_string,  // inside a JSON string literal: escape quotes, backslashes, controls
    raw,          // copied as is (text lines)
    csv_quoted,   // inside a double-quoted CSV field: double the quotes (RFC 4180)
};

// The quote a typed string value gets in this context ('"', or none for raw).
[[nodiscard]] std::string_view value_quote(TextContext context);

// Escapes `text` for `context`. Throws std::invalid_argument on invalid UTF-8,
// which JSON cannot carry.
[[nodiscard]] std::string escape_text(std::string_view text, TextContext context);

}  // namespace supervent::core
