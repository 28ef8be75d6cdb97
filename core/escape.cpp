#include "core/escape.hpp"

#include <stdexcept>

namespace supervent::core {
namespace {

// Length of the UTF-8 sequence starting at text[i], or 0 when it is invalid.
std::size_t utf8_sequence_bytes(std::string_view text, std::size_t i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    if (lead < 0x80) return 1;
    if ((lead & 0xE0) == 0xC0 && lead >= 0xC2) n = 2;
    else if ((lead & 0xF0) == 0xE0) n = 3;
    else if ((lead & 0xF8) == 0xF0 && lead <= 0xF4) n = 4;
    else return 0;
    if (i + n > text.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
    }
    return n;
}

void append_json_escape(std::string& out, char c) {
    constexpr char hex[] = "0123456789abcdef";
    switch (c) {
        case '"': out += "\\\""; return;
        case '\\': out += "\\\\"; return;
        case '\n': out += "\\n"; return;
        case '\r': out += "\\r"; return;
        case '\t': out += "\\t"; return;
        case '\b': out += "\\b"; return;
        case '\f': out += "\\f"; return;
        default: break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20) {
        out += "\\u00";
        out += hex[u >> 4];
        out += hex[u & 15];
        return;
    }
    out += c;
}

}  // namespace

std::string escape_text(std::string_view text, TextContext context) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t n = utf8_sequence_bytes(text, i);
        if (n == 0) throw std::invalid_argument("text is not valid UTF-8: " + std::string(text));
        if (n == 1 && context == TextContext::json_string) {
            append_json_escape(out, text[i]);
        } else if (n == 1 && context == TextContext::csv_quoted && text[i] == '"') {
            out += "\"\"";
        } else {
            out.append(text, i, n);
        }
        i += n;
    }
    return out;
}

std::string_view value_quote(TextContext context) { return context == TextContext::raw ? "" : "\""; }

}  // namespace supervent::core
