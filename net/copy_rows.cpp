#include "net/copy_rows.hpp"
#include "net/copy_rows_detail.hpp"

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
const char* decode_unicode_escape(const char* p, const char* end, char*& out, bool binary) {
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
    out = binary ? put_utf8(out, code == 0 ? replacement_character : code) : put_copy_char(out, code);
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
            case 'u': p = decode_unicode_escape(p + 1, end, out, false); continue;
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

// A JSON string's content as the bytes it stands for (binary COPY: no
// escapes at all, the field's length says where it ends).
char* put_string_binary(const char* p, const char* end, char* out) {
    while (p < end) {
        const char* plain_end = find_backslash_or_control(p, end);
        std::memcpy(out, p, static_cast<std::size_t>(plain_end - p));
        out += plain_end - p;
        p = plain_end;
        if (p == end) break;
        if (*p != '\\') {
            *out++ = *p++;  // a raw control byte (not valid JSON): kept
            continue;
        }
        if (p + 1 >= end) break;
        switch (p[1]) {
            case 'n': *out++ = '\n'; break;
            case 't': *out++ = '\t'; break;
            case 'r': *out++ = '\r'; break;
            case 'b': *out++ = '\b'; break;
            case 'f': *out++ = '\f'; break;
            case 'u': p = decode_unicode_escape(p + 1, end, out, true); continue;
            default: *out++ = p[1]; break;  // \\ \" and \/
        }
        p += 2;
    }
    return out;
}

// JSON text as it is (binary COPY), but \u0000, which jsonb refuses, as \ufffd.
char* put_json_binary(const char* p, const char* end, char* out) {
    while (p < end) {
        const char* backslash = static_cast<const char*>(std::memchr(p, '\\', static_cast<std::size_t>(end - p)));
        const char* plain_end = backslash != nullptr ? backslash : end;
        std::memcpy(out, p, static_cast<std::size_t>(plain_end - p));
        out += plain_end - p;
        p = plain_end;
        if (p == end) break;
        if (end - p >= 6 && std::memcmp(p, "\\u0000", 6) == 0) {
            std::memcpy(out, "\\ufffd", 6);
            out += 6;
            p += 6;
            continue;
        }
        const auto escape = static_cast<std::size_t>(std::min<std::ptrdiff_t>(2, end - p));  // a backslash and what it escapes
        std::memcpy(out, p, escape);
        out += escape;
        p += escape;
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

// ---- binary COPY (https://www.postgresql.org/docs/15/sql-copy.html, "Binary Format")

void put_be32(char* out, std::uint32_t value) {
    for (int i = 3; i >= 0; --i, value >>= 8) out[i] = static_cast<char>(value & 0xff);
}

void put_be64(char* out, std::uint64_t value) {
    for (int i = 7; i >= 0; --i, value >>= 8) out[i] = static_cast<char>(value & 0xff);
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(const char* p, int count, int& value) {
    value = 0;
    for (int i = 0; i < count; ++i) {
        if (p[i] < '0' || p[i] > '9') return false;
        value = value * 10 + (p[i] - '0');
    }
    return true;
}

// RFC 3339 ("2026-01-02T03:04:05.123456789Z", "…+02:00") -> microseconds
// since 2000-01-01 UTC, PostgreSQL's timestamptz; the fraction rounded to
// the microsecond, half up. False when the text is not that.
bool rfc3339_to_pg_micros(const char* p, const char* end, std::int64_t& micros) {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (end - p < 20 || !digits(p, 4, year) || p[4] != '-' || !digits(p + 5, 2, month) || p[7] != '-' ||
        !digits(p + 8, 2, day) || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') || !digits(p + 11, 2, hour) ||
        p[13] != ':' || !digits(p + 14, 2, minute) || p[16] != ':' || !digits(p + 17, 2, second)) {
        return false;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
    p += 19;
    std::int64_t fraction_ns = 0;
    if (p < end && *p == '.') {
        int places = 0;
        for (++p; p < end && *p >= '0' && *p <= '9'; ++p, ++places) {
            if (places < 9) fraction_ns = fraction_ns * 10 + (*p - '0');
        }
        if (places == 0) return false;
        for (; places < 9; ++places) fraction_ns *= 10;
    }
    std::int64_t offset_s = 0;
    if (p < end && (*p == 'Z' || *p == 'z')) {
        ++p;
    } else if (end - p == 6 && (*p == '+' || *p == '-') && p[3] == ':') {
        int offset_hours = 0, offset_minutes = 0;
        if (!digits(p + 1, 2, offset_hours) || !digits(p + 4, 2, offset_minutes)) return false;
        offset_s = (offset_hours * 3600 + offset_minutes * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (p != end) return false;
    constexpr std::int64_t days_1970_to_2000 = 10957;
    const std::int64_t seconds = (days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) -
                                  days_1970_to_2000) * 86400 + hour * 3600 + minute * 60 + second - offset_s;
    micros = seconds * 1'000'000 + (fraction_ns + 500) / 1000;
    return true;
}

// A field: its length (-1 = NULL) in front of its bytes, written after them.
template <typename Put>
char* put_field(char* out, Put&& put) {
    char* const content = out + 4;
    char* const content_end = put(content);
    put_be32(out, static_cast<std::uint32_t>(content_end - content));
    return content_end;
}

char* put_null_field(char* out) {
    put_be32(out, 0xffffffffu);
    return out + 4;
}

const char* put_time_field(Span value, char*& out) {
    if (!value.present() || (value.end - value.begin == 4 && std::memcmp(value.begin, "null", 4) == 0)) {
        out = put_null_field(out);
        return nullptr;
    }
    std::int64_t micros = 0;
    if (*value.begin != '"' || !rfc3339_to_pg_micros(value.begin + 1, value.end - 1, micros)) {
        return "_time is not an RFC 3339 time (binary COPY needs one)";
    }
    put_be32(out, 8);
    put_be64(out + 4, static_cast<std::uint64_t>(micros));
    out += 12;
    return nullptr;
}

char* put_text_field(Span value, char* out) {
    if (!value.present() || (value.end - value.begin == 4 && std::memcmp(value.begin, "null", 4) == 0)) {
        return put_null_field(out);
    }
    if (*value.begin == '"') {
        return put_field(out, [&](char* at) { return put_string_binary(value.begin + 1, value.end - 1, at); });
    }
    return put_field(out, [&](char* at) { return put_json_binary(value.begin, value.end, at); });
}

// jsonb's binary form: a version byte (1), then the JSON text.
char* put_attributes_field(const Members& members, char* out) {
    const Span attributes = members.columns[attributes_column];
    if (!attributes.present() && members.extra_count == 0) return put_null_field(out);
    return put_field(out, [&](char* at) {
        *at++ = 1;
        *at++ = '{';
        bool first = true;
        if (attributes.present()) {
            const char* inner = skip_space(attributes.begin + 1, attributes.end - 1);
            if (inner < attributes.end - 1) {
                at = put_json_binary(inner, attributes.end - 1, at);
                first = false;
            }
        }
        for (std::size_t i = 0; i < members.extra_count; ++i) {
            if (!first) *at++ = ',';
            at = put_json_binary(members.extra[i].begin, members.extra[i].end, at);
            first = false;
        }
        *at++ = '}';
        return at;
    });
}

const char* put_binary_row(const Members& members, char*& out) {
    *out++ = 0;
    *out++ = column_count;
    if (const char* error = put_time_field(members.columns[time_column], out); error != nullptr) return error;
    for (int column = source_column; column < attributes_column; ++column) {
        out = put_text_field(members.columns[column], out);
    }
    out = put_attributes_field(members, out);
    return nullptr;
}

}  // namespace

CopyRows encode_copy_rows(std::string_view ndjson, std::span<char> out, CopyFormat format) {
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
            char* row_end = written;
            if (format == CopyFormat::binary) {
                if (const char* error = put_binary_row(members, row_end); error != nullptr) {
                    result.error = error;
                    result.error_line = line;
                    return result;
                }
            } else {
                row_end = put_row(members, written);
            }
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

namespace supervent::net::copy_detail {

const char* skip_space(const char* p, const char* end) { return net::skip_space(p, end); }
const char* skip_value(const char* p, const char* end) { return net::skip_value(p, end); }
char* put_string_binary(const char* p, const char* end, char* out) { return net::put_string_binary(p, end, out); }
char* put_json_binary(const char* p, const char* end, char* out) { return net::put_json_binary(p, end, out); }
bool rfc3339_to_pg_micros(const char* p, const char* end, std::int64_t& micros) {
    return net::rfc3339_to_pg_micros(p, end, micros);
}
void put_be32(char* out, std::uint32_t value) { net::put_be32(out, value); }
void put_be64(char* out, std::uint64_t value) { net::put_be64(out, value); }

}  // namespace supervent::net::copy_detail
