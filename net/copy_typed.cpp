#include "net/copy_typed.hpp"

#include <arpa/inet.h>

#include <array>
#include <bit>
#include <cassert>
#include <charconv>
#include <cstring>

#include "net/copy_rows_detail.hpp"

namespace supervent::net {

using copy_detail::put_json_binary;
using copy_detail::put_string_binary;
using copy_detail::rfc3339_to_pg_micros;
using copy_detail::skip_value;

std::string_view pg_type_name(PgType type) {
    switch (type) {
        case PgType::text: return "text";
        case PgType::bigint: return "bigint";
        case PgType::float8: return "double precision";
        case PgType::boolean: return "boolean";
        case PgType::uuid: return "uuid";
        case PgType::inet: return "inet";
        case PgType::timestamptz: return "timestamp with time zone";
    }
    return "text";
}

namespace {

// Inline here: called several times per member (a call each cost more than the
// scan itself under callgrind; the engine's JSON has no spaces).
inline const char* skip_space(const char* p, const char* end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) ++p;
    return p;
}

inline void put_be32(char* out, std::uint32_t value) {
    value = __builtin_bswap32(value);
    std::memcpy(out, &value, sizeof value);
}

inline void put_be64(char* out, std::uint64_t value) {
    value = __builtin_bswap64(value);
    std::memcpy(out, &value, sizeof value);
}

enum Fixed : std::uint8_t { time_column, source_column, event_type_column, message_column, fixed_count };
constexpr std::size_t path_bytes_max = 256;  // a dotted field path; longer ones are no column's

struct Value {
    const char* begin = nullptr;  // null: the event does not carry it
    const char* end = nullptr;
};

// One line's values, by column: the four fixed ones, then the fields.
struct Row {
    std::array<Value, fixed_count> fixed{};
    std::array<Value, typed_columns_max> fields{};
};

struct Failure {
    const char* error = nullptr;
    std::string_view name;
};

class LineReader {
public:
    LineReader(std::span<const TypedColumn> columns, bool flat, Row& row) : columns_(columns), flat_(flat), row_(row) {}

    // Fills the row from `{...}`; the error names the key it is about.
    Failure read(const char* p, const char* end) {
        p = skip_space(p, end);
        if (p >= end || *p != '{') return {"a line is not a JSON object", {}};
        const char* after = nullptr;
        Failure failure = read_object(p, end, 0, true, after);
        if (failure.error == nullptr && skip_space(after, end) != end) failure = {"text after a line's object", {}};
        return failure;
    }

private:
    // The column whose path is `path`, trying the one after the last match first
    // (events of a shape list their fields in the same order every time).
    int column_of(std::string_view path) {
        const std::size_t n = columns_.size();
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t at = (hint_ + i) % n;
            if (columns_[at].path == path) {
                hint_ = at + 1;
                return static_cast<int>(at);
            }
        }
        return -1;
    }

    static int fixed_of(std::string_view key) {
        if (key == "_time") return time_column;
        if (key == "source") return source_column;
        if (key == "event_type") return event_type_column;
        if (key == "message") return message_column;
        return -1;
    }

    // The members of the object at p ('{'), each scanned once: a nested
    // object is read member by member rather than skipped first. path_bytes:
    // the length of this object's key prefix in path_; `after`: past its '}'.
    Failure read_object(const char* p, const char* end, std::size_t path_bytes, bool top, const char*& after) {
        p = skip_space(p + 1, end);
        if (p < end && *p == '}') {
            after = p + 1;
            return {};
        }
        for (;;) {
            if (p >= end || *p != '"') return {"a member name is not a string", {}};
            const char* key_end = skip_value(p, end);
            if (key_end == nullptr) return {"a member name is not terminated", {}};
            const std::string_view key(p + 1, static_cast<std::size_t>(key_end - 1 - (p + 1)));
            const char* colon = skip_space(key_end, end);
            if (colon >= end || *colon != ':') return {"a member name is not followed by ':'", {}};
            const char* value = skip_space(colon + 1, end);
            const char* value_end = nullptr;
            if (Failure f = take(key, value, end, path_bytes, top, value_end); f.error != nullptr) return f;
            p = skip_space(value_end, end);
            if (p < end && *p == ',') {
                p = skip_space(p + 1, end);
                continue;
            }
            if (p < end && *p == '}') {
                after = p + 1;
                return {};
            }
            return {"a member is not followed by ',' or '}'", key};
        }
    }

    // One member: a fixed column's value, a field's, or an object of fields.
    Failure take(std::string_view key, const char* value, const char* end, std::size_t path_bytes, bool top,
                 const char*& value_end) {
        const bool object = value < end && *value == '{';
        int fixed = -1;
        if (top) {
            fixed = fixed_of(key);
            if (fixed < 0 && key == "attributes" && !flat_ && object) return read_object(value, end, 0, false, value_end);
            if (fixed < 0 && !flat_) return {"a top-level key has no column (typed columns take the fields inside attributes)", key};
        }
        int column = -1;
        if (fixed < 0) {
            if (path_bytes + key.size() + 1 > path_bytes_max) return {"a field's path is too long for a column", key};
            std::memcpy(path_.data() + path_bytes, key.data(), key.size());
            column = column_of({path_.data(), path_bytes + key.size()});
            if (column < 0 && object) {  // its members are fields "path.key"
                path_[path_bytes + key.size()] = '.';
                return read_object(value, end, path_bytes + key.size() + 1, false, value_end);
            }
            if (column < 0) return {"a field has no column (is the table's column list from another scenario?)", key};
        }
        value_end = skip_value(value, end);
        if (value_end == nullptr || value_end == value) return {"a member value is not terminated", key};
        if (fixed >= 0) {
            row_.fixed[static_cast<std::size_t>(fixed)] = {value, value_end};
        } else {
            row_.fields[static_cast<std::size_t>(column)] = {value, value_end};
        }
        return {};
    }

    std::span<const TypedColumn> columns_;
    bool flat_;
    Row& row_;
    std::size_t hint_ = 0;
    std::array<char, path_bytes_max> path_{};
};

bool is_null(Value v) { return v.begin == nullptr || (v.end - v.begin == 4 && std::memcmp(v.begin, "null", 4) == 0); }

// A value's text: a string's content (quotes off, escapes kept), or a bare value.
std::string_view bare(Value v) {
    const auto bytes = static_cast<std::size_t>(v.end - v.begin);
    if (bytes >= 2 && *v.begin == '"') return {v.begin + 1, bytes - 2};
    return {v.begin, bytes};
}

char* put_length(char* out, std::uint32_t length) {
    put_be32(out, length);
    return out + 4;
}

char* put_text(Value v, char* out) {
    char* const content = out + 4;
    char* const content_end = *v.begin == '"' ? put_string_binary(v.begin + 1, v.end - 1, content)
                                              : put_json_binary(v.begin, v.end, content);
    put_be32(out, static_cast<std::uint32_t>(content_end - content));
    return content_end;
}

int hex_nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// 8-4-4-4-12 hex digits (or 32 without dashes) -> 16 bytes.
bool parse_uuid(std::string_view text, unsigned char* bytes) {
    const bool dashed = text.size() == 36;
    if (!dashed && text.size() != 32) return false;
    std::size_t at = 0;
    for (int i = 0; i < 16; ++i) {
        if (dashed && (at == 8 || at == 13 || at == 18 || at == 23)) {
            if (text[at] != '-') return false;
            ++at;
        }
        const int high = hex_nibble(text[at]);
        const int low = hex_nibble(text[at + 1]);
        if (high < 0 || low < 0) return false;
        bytes[i] = static_cast<unsigned char>(high * 16 + low);
        at += 2;
    }
    return true;
}

// inet's binary form: family (PGSQL_AF_INET 2, PGSQL_AF_INET6 3), bits, is_cidr, length, address.
char* put_inet(std::string_view text, char* out) {
    char address[INET6_ADDRSTRLEN + 1];
    if (text.empty() || text.size() >= sizeof address) return nullptr;
    std::memcpy(address, text.data(), text.size());
    address[text.size()] = '\0';
    unsigned char* content = reinterpret_cast<unsigned char*>(out + 4);
    if (::inet_pton(AF_INET, address, content + 4) == 1) {
        content[0] = 2, content[1] = 32, content[2] = 0, content[3] = 4;
        return put_length(out, 8) + 8;
    }
    if (::inet_pton(AF_INET6, address, content + 4) == 1) {
        content[0] = 3, content[1] = 128, content[2] = 0, content[3] = 16;
        return put_length(out, 20) + 20;
    }
    return nullptr;
}

// One field in its column's binary form; null (and `error`) when the value is not of the column's type.
char* put_typed(PgType type, Value v, char* out, const char*& error) {
    if (is_null(v)) return put_length(out, 0xffffffffu);
    const std::string_view text = bare(v);
    const char* const first = text.data();
    const char* const last = text.data() + text.size();
    switch (type) {
        case PgType::text: return put_text(v, out);
        case PgType::bigint: {
            std::int64_t value = 0;
            const auto [at, ec] = std::from_chars(first, last, value);
            if (ec != std::errc{} || at != last) break;
            put_be64(put_length(out, 8), static_cast<std::uint64_t>(value));
            return out + 12;
        }
        case PgType::float8: {
            double value = 0;
            const auto [at, ec] = std::from_chars(first, last, value);
            if (ec != std::errc{} || at != last) break;
            put_be64(put_length(out, 8), std::bit_cast<std::uint64_t>(value));
            return out + 12;
        }
        case PgType::boolean:
            if (text != "true" && text != "false") break;
            *put_length(out, 1) = text == "true" ? 1 : 0;
            return out + 5;
        case PgType::uuid:
            if (!parse_uuid(text, reinterpret_cast<unsigned char*>(out + 4))) break;
            return put_length(out, 16) + 16;
        case PgType::inet:
            if (char* end = put_inet(text, out); end != nullptr) return end;
            break;
        case PgType::timestamptz: {
            std::int64_t micros = 0;
            if (*v.begin != '"' || !rfc3339_to_pg_micros(first, last, micros)) break;
            put_be64(put_length(out, 8), static_cast<std::uint64_t>(micros));
            return out + 12;
        }
    }
    error = type == PgType::timestamptz ? "a value is not an RFC 3339 time"
                                        : "a value is not of its column's type";
    return nullptr;
}

Failure put_row(const Row& row, std::span<const TypedColumn> columns, char*& out) {
    char* at = out;  // the field count, 16 bits, then the fields
    at[0] = static_cast<char>((fixed_count + columns.size()) >> 8);
    at[1] = static_cast<char>((fixed_count + columns.size()) & 0xff);
    at += 2;
    const char* error = nullptr;
    at = put_typed(PgType::timestamptz, row.fixed[time_column], at, error);
    if (at == nullptr) return {"_time is not an RFC 3339 time (binary COPY needs one)", "_time"};
    for (int fixed = source_column; fixed < fixed_count; ++fixed) at = put_typed(PgType::text, row.fixed[fixed], at, error);
    for (std::size_t i = 0; i < columns.size(); ++i) {
        at = put_typed(columns[i].type, row.fields[i], at, error);
        if (at == nullptr) return {error, columns[i].name};
    }
    out = at;
    return {};
}

}  // namespace

CopyRows encode_typed_copy_rows(std::string_view ndjson, std::span<const TypedColumn> columns, bool flat,
                                std::span<char> out) {
    assert(columns.size() <= typed_columns_max);
    CopyRows result;
    const char* p = ndjson.data();
    const char* const end = p + ndjson.size();
    char* written = out.data();
    char* const out_end = out.data() + out.size();
    Row row;
    LineReader reader(columns, flat, row);
    for (std::size_t line = 1; p < end; ++line) {
        const char* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
        const char* line_end = newline != nullptr ? newline : end;
        const char* next = line_end + 1;
        if (skip_space(p, line_end) == line_end) {
            p = next;
            continue;
        }
        const auto line_bytes = static_cast<std::size_t>(line_end - p);
        Failure failure;
        if (static_cast<std::size_t>(out_end - written) < typed_row_bytes_max(line_bytes, columns.size())) {
            failure = {"the rows do not fit their buffer", {}};
        } else {
            row.fixed = {};
            std::fill_n(row.fields.begin(), columns.size(), Value{});
            failure = reader.read(p, line_end);
            char* row_end = written;
            if (failure.error == nullptr) failure = put_row(row, columns, row_end);
            assert(failure.error != nullptr ||
                   static_cast<std::size_t>(row_end - written) <= typed_row_bytes_max(line_bytes, columns.size()));
            written = row_end;
        }
        if (failure.error != nullptr) {
            result.error = failure.error;
            result.error_name = failure.name;
            result.error_line = line;
            return result;
        }
        ++result.rows;
        p = next;
    }
    result.bytes = static_cast<std::size_t>(written - out.data());
    return result;
}

}  // namespace supervent::net
