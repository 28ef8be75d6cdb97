#include "net/copy_rows.hpp"

#include <array>
#include <cassert>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace supervent::net {

namespace {

// Top-level members besides the four text columns and "attributes" that one
// line may have (the flat attribute layout puts every attribute there).
constexpr std::size_t extra_members_max = 256;

enum Column : std::uint8_t { time_column, source_column, event_type_column, message_column, attributes_column, column_count };

struct Span {
    const char* begin = nullptr;
    const char* end = nullptr;
    [[nodiscard]] bool present() const { return begin != nullptr; }
};

// One line's members: the columns' values, and the extra "key":value members.
struct Members {
    std::array<Span, column_count> columns{};
    std::array<Span, extra_members_max> extra{};
    std::size_t extra_count = 0;
};

// The scans below find the next byte that needs more than a copy, 16 bytes
// at a time where SSE2 is there (every x86-64): the rows are mostly plain
// text, and a byte loop over them cost the client more than the rest of
// the batch (BENCHMARKS.md, PostgreSQL sink).

// The first backslash or control byte (< 0x20) in [p, end), or end.
const char* find_backslash_or_control(const char* p, const char* end) {
#if defined(__SSE2__)
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i control_max = _mm_set1_epi8(0x1f);
    for (; end - p >= 16; p += 16) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(bytes, control_max), bytes);  // bytes <= 0x1f, unsigned
        const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(bytes, backslash), control));
        if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    }
#endif
    while (p < end && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20) ++p;
    return p;
}

// The first quote or backslash in [p, end), or end.
const char* find_quote_or_backslash(const char* p, const char* end) {
#if defined(__SSE2__)
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i quote = _mm_set1_epi8('"');
    for (; end - p >= 16; p += 16) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(bytes, backslash), _mm_cmpeq_epi8(bytes, quote)));
        if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    }
#endif
    while (p < end && *p != '\\' && *p != '"') ++p;
    return p;
}

const char* skip_space(const char* p, const char* end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) ++p;
    return p;
}

// Past the closing quote of the string that starts at p (on its '"'); null if unterminated.
const char* skip_string(const char* p, const char* end) {
    for (++p;;) {
        p = find_quote_or_backslash(p, end);
        if (p >= end) return nullptr;
        if (*p == '"') return p + 1;
        p += 2;  // an escape: the escaped byte may be a quote
    }
}

// Past one JSON value starting at p; null if it does not end on this line.
const char* skip_value(const char* p, const char* end) {
    if (p >= end) return nullptr;
    if (*p == '"') return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                p = skip_string(p, end);
                if (p == nullptr) return nullptr;
                continue;
            }
            if (*p == '{' || *p == '[') ++depth;
            if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
            ++p;
        }
        return nullptr;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ' ') ++p;  // number, true, false, null
    return p;
}

int column_of(std::string_view key) {
    if (key == "_time") return time_column;
    if (key == "source") return source_column;
    if (key == "event_type") return event_type_column;
    if (key == "message") return message_column;
    if (key == "attributes") return attributes_column;
    return -1;
}

// Splits `{"k":v,...}` into members; returns an error or null.
const char* split_members(const char* p, const char* end, Members& members) {
    p = skip_space(p, end);
    if (p >= end || *p != '{') return "a line is not a JSON object";
    p = skip_space(p + 1, end);
    if (p < end && *p == '}') return nullptr;
    for (;;) {
        if (p >= end || *p != '"') return "a member name is not a string";
        const char* key_end = skip_string(p, end);
        if (key_end == nullptr) return "a member name is not terminated";
        const char* colon = skip_space(key_end, end);
        if (colon >= end || *colon != ':') return "a member name is not followed by ':'";
        const char* value = skip_space(colon + 1, end);
        const char* value_end = skip_value(value, end);
        if (value_end == nullptr || value_end == value) return "a member value is not terminated";
        const int column = column_of({p + 1, static_cast<std::size_t>(key_end - 1 - (p + 1))});
        const bool object_attributes = column == attributes_column && *value == '{';
        if (column >= 0 && (column != attributes_column || object_attributes)) {
            members.columns[column] = {value, value_end};
        } else {
            if (members.extra_count == extra_members_max) return "a line has more than 256 members";
            members.extra[members.extra_count++] = {p, value_end};
        }
        p = skip_space(value_end, end);
        if (p < end && *p == ',') {
            p = skip_space(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') return skip_space(p + 1, end) == end ? nullptr : "text after a line's object";
        return "a member is not followed by ',' or '}'";
    }
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The 4 hex digits at p (p + 4 <= end), or -1.
int hex4(const char* p, const char* end) {
    if (end - p < 4) return -1;
    int value = 0;
    for (int i = 0; i < 4; ++i) {
        const int digit = hex_digit(p[i]);
        if (digit < 0) return -1;
        value = value * 16 + digit;
    }
    return value;
}

char* put_utf8(char* out, std::uint32_t code) {
    if (code < 0x80) {
        *out++ = static_cast<char>(code);
    } else if (code < 0x800) {
        *out++ = static_cast<char>(0xc0 | (code >> 6));
        *out++ = static_cast<char>(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
        *out++ = static_cast<char>(0xe0 | (code >> 12));
        *out++ = static_cast<char>(0x80 | ((code >> 6) & 0x3f));
        *out++ = static_cast<char>(0x80 | (code & 0x3f));
    } else {
        *out++ = static_cast<char>(0xf0 | (code >> 18));
        *out++ = static_cast<char>(0x80 | ((code >> 12) & 0x3f));
        *out++ = static_cast<char>(0x80 | ((code >> 6) & 0x3f));
        *out++ = static_cast<char>(0x80 | (code & 0x3f));
    }
    return out;
}

constexpr std::uint32_t replacement_character = 0xfffd;

// A decoded character as COPY text: its escape when COPY has one.
char* put_copy_char(char* out, std::uint32_t code) {
    switch (code) {
        case '\\': *out++ = '\\'; *out++ = '\\'; return out;
        case '\t': *out++ = '\\'; *out++ = 't'; return out;
        case '\n': *out++ = '\\'; *out++ = 'n'; return out;
        case '\r': *out++ = '\\'; *out++ = 'r'; return out;
        case '\b': *out++ = '\\'; *out++ = 'b'; return out;
        case '\f': *out++ = '\\'; *out++ = 'f'; return out;
        case 0: return put_utf8(out, replacement_character);
        default: return put_utf8(out, code);
    }
}

// \uXXXX at p (on the 'u'), with a following low surrogate when it is a
// high one; writes the character and returns past what it read.
const char* decode_unicode_escape(const char* p, const char* end, char*& out) {
    const int unit = hex4(p + 1, end);
    if (unit < 0) {
        out = put_utf8(out, replacement_character);
        return p + 1;
    }
    p += 5;
    std::uint32_t code = static_cast<std::uint32_t>(unit);
    if (code >= 0xd800 && code < 0xdc00) {
        const int low = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2, end) : -1;
        if (low >= 0xdc00 && low < 0xe000) {
            code = 0x10000 + ((code - 0xd800) << 10) + (static_cast<std::uint32_t>(low) - 0xdc00);
            p += 6;
        } else {
            code = replacement_character;
        }
    } else if (code >= 0xdc00 && code < 0xe000) {
        code = replacement_character;
    }
    out = put_copy_char(out, code);
    return p;
}

// A JSON string's content (between its quotes) as COPY text.
char* put_string(const char* p, const char* end, char* out) {
    while (p < end) {
        const char* plain_end = find_backslash_or_control(p, end);
        std::memcpy(out, p, static_cast<std::size_t>(plain_end - p));
        out += plain_end - p;
        p = plain_end;
        if (p == end) break;
        const char c = *p;
        if (c != '\\') {
            // Raw control bytes are not valid JSON, but must not break the row either.
            if (c == '\t' || c == '\n' || c == '\r') {
                out = put_copy_char(out, static_cast<unsigned char>(c));
            } else {
                *out++ = c;
            }
            ++p;
            continue;
        }
        if (p + 1 >= end) break;
        switch (p[1]) {
            case 'n': *out++ = '\\'; *out++ = 'n'; break;
            case 't': *out++ = '\\'; *out++ = 't'; break;
            case 'r': *out++ = '\\'; *out++ = 'r'; break;
            case 'b': *out++ = '\\'; *out++ = 'b'; break;
            case 'f': *out++ = '\\'; *out++ = 'f'; break;
            case '\\': *out++ = '\\'; *out++ = '\\'; break;
            case 'u': p = decode_unicode_escape(p + 1, end, out); continue;
            default: *out++ = p[1]; break;  // \" and \/
        }
        p += 2;
    }
    return out;
}

// JSON text for the jsonb column, COPY-escaped: backslashes doubled, the
// only byte JSON text may carry that COPY reads specially (raw control
// bytes are escaped too, in case); \u0000, which jsonb refuses, as \ufffd.
char* put_json(const char* p, const char* end, char* out) {
    while (p < end) {
        const char* plain_end = find_backslash_or_control(p, end);
        std::memcpy(out, p, static_cast<std::size_t>(plain_end - p));
        out += plain_end - p;
        p = plain_end;
        if (p == end) break;
        const char c = *p++;
        if (c == '\\' && p < end) {
            if (*p == 'u' && end - p >= 5 && std::memcmp(p + 1, "0000", 4) == 0) {
                std::memcpy(out, "\\\\ufffd", 7);
                out += 7;
                p += 5;
                continue;
            }
            *out++ = '\\';
            *out++ = '\\';
            *out++ = *p++;  // the escaped character, whatever it is (a second backslash too)
            if (out[-1] == '\\') *out++ = '\\';
            continue;
        }
        if (c == '\t' || c == '\n' || c == '\r' || c == '\\') {
            out = put_copy_char(out, static_cast<unsigned char>(c));
        } else {
            *out++ = c;
        }
    }
    return out;
}

char* put_null(char* out) {
    *out++ = '\\';
    *out++ = 'N';
    return out;
}

char* put_text_column(Span value, char* out) {
    if (!value.present()) return put_null(out);
    const std::size_t bytes = static_cast<std::size_t>(value.end - value.begin);
    if (*value.begin == '"') return put_string(value.begin + 1, value.end - 1, out);
    if (bytes == 4 && std::memcmp(value.begin, "null", 4) == 0) return put_null(out);
    return put_json(value.begin, value.end, out);  // a number, true/false, or an object kept as JSON
}

// "attributes" merged with the extra members: {<attributes' members>,<extra>}.
char* put_attributes(const Members& members, char* out) {
    const Span attributes = members.columns[attributes_column];
    if (!attributes.present() && members.extra_count == 0) return put_null(out);
    *out++ = '{';
    bool first = true;
    if (attributes.present()) {
        const char* inner = skip_space(attributes.begin + 1, attributes.end - 1);
        const char* inner_end = attributes.end - 1;  // on its '}'
        if (inner < inner_end) {
            out = put_json(inner, inner_end, out);
            first = false;
        }
    }
    for (std::size_t i = 0; i < members.extra_count; ++i) {
        if (!first) *out++ = ',';
        out = put_json(members.extra[i].begin, members.extra[i].end, out);
        first = false;
    }
    *out++ = '}';
    return out;
}

char* put_row(const Members& members, char* out) {
    for (int column = time_column; column < attributes_column; ++column) {
        out = put_text_column(members.columns[column], out);
        *out++ = '\t';
    }
    out = put_attributes(members, out);
    *out++ = '\n';
    return out;
}

}  // namespace

CopyRows encode_copy_rows(std::string_view ndjson, std::span<char> out) {
    CopyRows result;
    const char* p = ndjson.data();
    const char* const end = p + ndjson.size();
    char* written = out.data();
    char* const out_end = out.data() + out.size();
    std::size_t line = 0;
    Members members;
    while (p < end) {
        const char* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
        const char* line_end = newline != nullptr ? newline : end;
        ++line;
        if (skip_space(p, line_end) != line_end) {
            const auto line_bytes = static_cast<std::size_t>(line_end - p);
            if (static_cast<std::size_t>(out_end - written) < copy_row_bytes_max(line_bytes)) {
                result.error = "the rows do not fit their buffer";
                result.error_line = line;
                return result;
            }
            members.columns = {};
            members.extra_count = 0;
            if (const char* error = split_members(p, line_end, members); error != nullptr) {
                result.error = error;
                result.error_line = line;
                return result;
            }
            char* const row_end = put_row(members, written);
            assert(static_cast<std::size_t>(row_end - written) <= copy_row_bytes_max(line_bytes));
            written = row_end;
            ++result.rows;
        }
        p = line_end + 1;
    }
    result.bytes = static_cast<std::size_t>(written - out.data());
    return result;
}

}  // namespace supervent::net
