#include "net/api_bodies.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstddef>
#include <cstring>

#include "net/protobuf_writer.hpp"

namespace supervent::net {
namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;
constexpr std::string_view time_key = R"({"_time":")";  // every line starts so
constexpr std::size_t time_text_bytes = 30;             // 2026-12-04T23:23:00.558876025Z
constexpr std::size_t time_end = time_key.size() + time_text_bytes;  // the '"' after the time
constexpr std::uint32_t any_value_depth_max = 32;

// ---- one event line -------------------------------------------------------

struct EventView {
    std::string_view line;  // without its '\n'
    std::string_view time;  // the RFC 3339 text
    std::int64_t time_ns = 0;
    std::string_view source, event_type, message;  // string contents, JSON-escaped as rendered
    std::string_view rest;  // the members after "message", from its ',' to before the final '}'
};

// The closing quote of a JSON string whose contents start at p; null if none.
const char* string_end(const char* p, const char* end) {
    while (p < end) {
        const auto* quote = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
        if (quote == nullptr) return nullptr;
        std::size_t backslashes = 0;
        for (const char* b = quote; b > p && b[-1] == '\\'; --b) ++backslashes;
        if (backslashes % 2 == 0) return quote;
        p = quote + 1;
    }
    return nullptr;
}

// After the JSON value starting at p (no leading space: the engine writes none); null if malformed.
const char* value_end(const char* p, const char* end) {
    if (p >= end) return nullptr;
    if (*p == '"') {
        const char* close = string_end(p + 1, end);
        return close == nullptr ? nullptr : close + 1;
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < end) {
            const char c = *p;
            if (c == '"') {
                p = string_end(p + 1, end);
                if (p == nullptr) return nullptr;
            } else if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) return p + 1;
            }
            ++p;
        }
        return nullptr;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ']') ++p;
    return p;
}

// A member of an object: `"key":value`, the key's contents and the value's text.
struct Member {
    std::string_view key;
    std::string_view value;
};

// The next member in [p, end) (a leading ',' skipped); false at the end or on malformed input.
bool next_member(const char*& p, const char* end, Member& member) {
    if (p < end && *p == ',') ++p;
    if (p >= end || *p != '"') return false;
    const char* key_end = string_end(p + 1, end);
    if (key_end == nullptr || key_end + 1 >= end || key_end[1] != ':') return false;
    member.key = {p + 1, static_cast<std::size_t>(key_end - p - 1)};
    const char* value = key_end + 2;
    const char* after = value_end(value, end);
    if (after == nullptr) return false;
    member.value = {value, static_cast<std::size_t>(after - value)};
    p = after;
    return true;
}

bool read_digits(const char* p, int count, int& out) {
    int value = 0;
    for (int i = 0; i < count; ++i) {
        const auto digit = static_cast<unsigned>(p[i] - '0');
        if (digit > 9) return false;
        value = value * 10 + static_cast<int>(digit);
    }
    out = value;
    return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(int year, int month, int day) {
    year -= month <= 2 ? 1 : 0;
    const int era = (year >= 0 ? year : year - 399) / 400;
    const int year_of_era = year - era * 400;
    const int day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return std::int64_t{era} * 146097 + day_of_era - 719468;
}

// `literal` at [p, p + size) of the line, then the string that follows it up to its quote.
bool take_string_after(const char*& p, const char* end, std::string_view literal, std::string_view& contents) {
    if (static_cast<std::size_t>(end - p) < literal.size() || std::memcmp(p, literal.data(), literal.size()) != 0) return false;
    p += literal.size();
    const char* close = string_end(p, end);
    if (close == nullptr) return false;
    contents = {p, static_cast<std::size_t>(close - p)};
    p = close + 1;
    return true;
}

bool parse_line(std::string_view line, EventView& view) {
    if (line.size() < time_end + 2 || !line.starts_with(time_key) || line[time_end] != '"' || line.back() != '}') return false;
    view.line = line;
    view.time = line.substr(time_key.size(), time_text_bytes);
    if (!parse_event_time_ns(view.time, view.time_ns)) return false;
    const char* p = line.data() + time_end + 1;
    const char* end = line.data() + line.size() - 1;  // the final '}'
    if (!take_string_after(p, end, R"(,"source":")", view.source) ||
        !take_string_after(p, end, R"(,"event_type":")", view.event_type) ||
        !take_string_after(p, end, R"(,"message":")", view.message)) {
        return false;
    }
    view.rest = {p, static_cast<std::size_t>(end - p)};
    return true;
}

// ---- writing --------------------------------------------------------------

inline char* put(char* o, std::string_view text) {
    std::memcpy(o, text.data(), text.size());
    return o + text.size();
}

inline char* put_uint(char* o, std::uint64_t value) {
    char digits[20];
    int count = 0;
    do {
        digits[19 - count++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    std::memcpy(o, digits + 20 - count, static_cast<std::size_t>(count));
    return o + count;
}

inline char* put_int(char* o, std::int64_t value) {
    if (value < 0) {
        *o++ = '-';
        return put_uint(o, static_cast<std::uint64_t>(-(value + 1)) + 1);
    }
    return put_uint(o, static_cast<std::uint64_t>(value));
}

// `text` as the contents of a JSON string: '"' and '\' get a backslash (the
// engine's NDJSON holds no raw control characters: they are escaped already).
char* put_escaped(char* o, std::string_view text) {
    // Runs without a '"' or '\\' are found eight bytes at a time (SWAR: a
    // zero byte of word ^ pattern marks one), then copied whole.
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    const char* p = text.data();
    const char* const end = p + text.size();
    while (p < end) {
        const char* run = p;
        while (end - p >= 8) {
            std::uint64_t word = 0;
            std::memcpy(&word, p, 8);
            const std::uint64_t quote = word ^ (ones * '"');
            const std::uint64_t backslash = word ^ (ones * '\\');
            if ((((quote - ones) & ~quote) | ((backslash - ones) & ~backslash)) & highs) break;
            p += 8;
        }
        while (p < end && *p != '"' && *p != '\\') ++p;
        o = put(o, {run, static_cast<std::size_t>(p - run)});
        if (p < end) {
            *o++ = '\\';
            *o++ = *p++;
        }
    }
    return o;
}

// A line at a time: the NDJSON batch's lines, without their '\n'.
struct Lines {
    const char* p;
    const char* end;
    bool next(std::string_view& line) {
        if (p >= end) return false;
        const auto* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
        if (newline == nullptr) return false;  // the last line lacks its '\n': the caller checks first
        line = {p, static_cast<std::size_t>(newline - p)};
        p = newline + 1;
        return true;
    }
};

// One event line of a batch for a body writer: parsed into `view`, and
// `room` (the bytes left in the body buffer) enough for its worst case,
// `expansion` x the line plus `per_event`. nullptr, or why not.
const char* take_event(std::string_view line, EventView& view, std::ptrdiff_t room, std::size_t expansion,
                       std::size_t per_event) {
    if (!parse_line(line, view)) return "an event line is not of the engine's shape";
    if (static_cast<std::size_t>(room) < expansion * line.size() + per_event) return "the body would not fit its buffer";
    return nullptr;
}

bool ends_in_newline(std::string_view ndjson) { return ndjson.empty() || ndjson.back() == '\n'; }

// ---- OTLP AnyValue ---------------------------------------------------------

bool is_integer_text(std::string_view text) {
    if (text.empty()) return false;
    for (std::size_t i = text[0] == '-' ? 1 : 0; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
    }
    return text != "-";
}

char* put_any_value(char* o, std::string_view value, std::uint32_t depth);

char* put_key_value(char* o, std::string_view key, std::string_view value, std::uint32_t depth) {
    o = put(o, R"({"key":")");
    o = put(o, key);
    o = put(o, R"(","value":)");
    o = put_any_value(o, value, depth);
    *o++ = '}';
    return o;
}

// A JSON value as OTLP's AnyValue (JSON encoding: int64 as a decimal string).
char* put_any_value(char* o, std::string_view value, std::uint32_t depth) {
    const char first = value.empty() ? 'n' : value[0];
    if (first == '"') {
        o = put(o, R"({"stringValue":)");
        o = put(o, value);
        return put(o, "}");
    }
    if (depth >= any_value_depth_max) {  // deeper than any engine output: as text
        o = put(o, R"({"stringValue":")");
        o = put_escaped(o, value);
        return put(o, "\"}");
    }
    if (first == '{' || first == '[') {
        o = put(o, first == '{' ? R"({"kvlistValue":{"values":[)" : R"({"arrayValue":{"values":[)");
        const char* p = value.data() + 1;
        const char* end = value.data() + value.size() - 1;
        bool first_item = true;
        while (p < end) {
            if (!first_item) *o++ = ',';
            if (first == '{') {
                Member member;
                if (!next_member(p, end, member)) break;
                o = put_key_value(o, member.key, member.value, depth + 1);
            } else {
                if (*p == ',') ++p;
                const char* after = value_end(p, end);
                if (after == nullptr || after == p) break;
                o = put_any_value(o, {p, static_cast<std::size_t>(after - p)}, depth + 1);
                p = after;
            }
            first_item = false;
        }
        return put(o, "]}}");
    }
    if (value == "true" || value == "false") {
        o = put(o, R"({"boolValue":)");
        o = put(o, value);
        return put(o, "}");
    }
    if (value == "null") return put(o, "{}");
    if (is_integer_text(value)) {
        o = put(o, R"({"intValue":")");
        o = put(o, value);
        return put(o, "\"}");
    }
    o = put(o, R"({"doubleValue":)");
    o = put(o, value);
    return put(o, "}");
}

// OTLP severity (SeverityNumber) from a level word: trace 1, debug 5, info 9,
// notice 10, warn 13, error 17, fatal/critical/alert/emergency 21.
int severity_of_word(std::string_view word) {
    if (word.empty()) return 9;
    const char c = static_cast<char>(word[0] | 0x20);
    switch (c) {
        case 't': return 1;
        case 'd': return 5;
        case 'i': return 9;
        case 'n': return 10;
        case 'w': return 13;
        case 'e': return word.size() > 1 && (word[1] | 0x20) == 'm' ? 21 : 17;  // emergency / error
        case 'f':
        case 'c':
        case 'a': return 21;
        default: return 9;
    }
}

std::string_view severity_text(int number) {
    if (number >= 21) return "FATAL";
    if (number >= 17) return "ERROR";
    if (number >= 13) return "WARN";
    if (number >= 9) return "INFO";
    if (number >= 5) return "DEBUG";
    return "TRACE";
}

bool is_level_key(std::string_view key) {
    return key == "level" || key == "severity" || key == "log_level" || key == "loglevel" || key == "lvl";
}

struct Severity {
    int number = 0;           // 0: not seen yet
    std::string_view text;    // the level's own word (escaped contents) when it came from one
    int from_status = 0;      // from an HTTP "status" member, when no level
};

void note_severity(const Member& member, Severity& severity) {
    if (severity.number == 0 && is_level_key(member.key) && member.value.size() >= 2 && member.value[0] == '"') {
        severity.text = member.value.substr(1, member.value.size() - 2);
        severity.number = severity_of_word(severity.text);
    } else if (member.key == "status" && is_integer_text(member.value) && member.value.size() == 3) {
        severity.from_status = member.value[0] >= '5' ? 17 : member.value[0] == '4' ? 13 : 9;
    }
}

// Calls put(member) for each attribute of an OTLP log record: the event's
// members after "message" (view.rest), with those of an "attributes" object
// in its place, noting the severity on the way. Returns what it found.
template <class Put>
Severity for_each_record_attribute(std::string_view rest, Put put) {
    Severity severity;
    const char* p = rest.data();
    const char* rest_end = p + rest.size();
    Member member;
    while (next_member(p, rest_end, member)) {
        if (member.key == "attributes" && member.value.size() >= 2 && member.value[0] == '{') {
            const char* q = member.value.data() + 1;
            const char* inner_end = member.value.data() + member.value.size() - 1;
            Member inner;
            while (next_member(q, inner_end, inner)) {
                note_severity(inner, severity);
                put(inner);
            }
            continue;
        }
        note_severity(member, severity);
        put(member);
    }
    return severity;
}

// ---- OTLP protobuf -------------------------------------------------------------
// Field numbers of opentelemetry/proto (collector/logs/v1, logs/v1, common/v1, resource/v1).
namespace otlp_field {
constexpr std::uint32_t request_resource_logs = 1;                   // ExportLogsServiceRequest
constexpr std::uint32_t resource_logs_resource = 1, resource_logs_scope_logs = 2;  // ResourceLogs
constexpr std::uint32_t resource_attributes = 1;                      // Resource
constexpr std::uint32_t scope_logs_scope = 1, scope_logs_log_records = 2;  // ScopeLogs
constexpr std::uint32_t scope_name = 1, scope_version = 2;            // InstrumentationScope
constexpr std::uint32_t record_time_unix_nano = 1, record_severity_number = 2, record_severity_text = 3,
                        record_body = 5, record_attributes = 6;       // LogRecord
constexpr std::uint32_t key_value_key = 1, key_value_value = 2;       // KeyValue
constexpr std::uint32_t any_string = 1, any_bool = 2, any_int = 3, any_double = 4, any_array = 5,
                        any_kvlist = 6;                               // AnyValue
constexpr std::uint32_t list_values = 1;                              // ArrayValue, KeyValueList
}  // namespace otlp_field

// The most bytes a nested field holding the protobuf form of `json_bytes`
// of JSON can take: never more than its OTLP/JSON form (shape_of's 11x and
// a constant), and an int's varint may be 10 bytes for a 2-byte "-1".
constexpr std::size_t pb_bound(std::size_t json_bytes) { return 11 * json_bytes + 64; }

std::uint32_t hex_digit(char c) {
    if (c >= '0' && c <= '9') return static_cast<std::uint32_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<std::uint32_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<std::uint32_t>(c - 'A' + 10);
    return 16;
}

char* put_utf8(char* o, std::uint32_t code) {
    if (code < 0x80) {
        *o++ = static_cast<char>(code);
    } else if (code < 0x800) {
        *o++ = static_cast<char>(0xc0 | (code >> 6));
        *o++ = static_cast<char>(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
        *o++ = static_cast<char>(0xe0 | (code >> 12));
        *o++ = static_cast<char>(0x80 | ((code >> 6) & 0x3f));
        *o++ = static_cast<char>(0x80 | (code & 0x3f));
    } else {
        *o++ = static_cast<char>(0xf0 | (code >> 18));
        *o++ = static_cast<char>(0x80 | ((code >> 12) & 0x3f));
        *o++ = static_cast<char>(0x80 | ((code >> 6) & 0x3f));
        *o++ = static_cast<char>(0x80 | (code & 0x3f));
    }
    return o;
}

// The contents of a JSON string (as rendered: escaped) as the UTF-8 text it
// stands for; never longer than the escaped form. A broken \u escape is kept as it is.
char* put_unescaped(char* o, std::string_view text) {
    const char* p = text.data();
    const char* const end = p + text.size();
    while (p < end) {
        const auto* backslash = static_cast<const char*>(std::memchr(p, '\\', static_cast<std::size_t>(end - p)));
        const char* run_end = backslash == nullptr ? end : backslash;
        o = put(o, {p, static_cast<std::size_t>(run_end - p)});
        p = run_end;
        if (p >= end || p + 1 >= end) break;
        const char c = p[1];
        p += 2;
        switch (c) {
            case 'b': *o++ = '\b'; break;
            case 'f': *o++ = '\f'; break;
            case 'n': *o++ = '\n'; break;
            case 'r': *o++ = '\r'; break;
            case 't': *o++ = '\t'; break;
            case 'u': {
                std::uint32_t code = 0;
                bool ok = end - p >= 4;
                for (int i = 0; ok && i < 4; ++i) {
                    const std::uint32_t digit = hex_digit(p[i]);
                    ok = digit < 16;
                    code = code * 16 + digit;
                }
                if (!ok) {
                    o = put(o, "\\u");
                    break;
                }
                p += 4;
                // A surrogate pair (\uD83D\uDE00) is one code point.
                if (code >= 0xd800 && code < 0xdc00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                    std::uint32_t low = 0;
                    bool low_ok = true;
                    for (int i = 0; low_ok && i < 4; ++i) {
                        const std::uint32_t digit = hex_digit(p[2 + i]);
                        low_ok = digit < 16;
                        low = low * 16 + digit;
                    }
                    if (low_ok && low >= 0xdc00 && low < 0xe000) {
                        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                        p += 6;
                    }
                }
                o = put_utf8(o, code);
                break;
            }
            default: *o++ = c; break;  // \" \\ \/
        }
    }
    return o;
}

char* put_pb_string(char* o, std::uint32_t field, std::string_view escaped) {
    const pb::Nested nested = pb::open(o, field, escaped.size());
    return pb::close(nested, put_unescaped(o, escaped));
}

char* put_pb_any_value(char* o, std::uint32_t field, std::string_view value, std::uint32_t depth);

char* put_pb_key_value(char* o, std::uint32_t field, std::string_view key, std::string_view value, std::uint32_t depth) {
    const pb::Nested kv = pb::open(o, field, pb_bound(key.size() + value.size()));
    o = put_pb_string(o, otlp_field::key_value_key, key);
    o = put_pb_any_value(o, otlp_field::key_value_value, value, depth);
    return pb::close(kv, o);
}

// The items of a JSON object or array as KeyValueList / ArrayValue values.
char* put_pb_list(char* o, std::string_view value, std::uint32_t depth) {
    const bool object = value[0] == '{';
    const char* p = value.data() + 1;
    const char* end = value.data() + value.size() - 1;
    while (p < end) {
        if (object) {
            Member member;
            if (!next_member(p, end, member)) break;
            o = put_pb_key_value(o, otlp_field::list_values, member.key, member.value, depth + 1);
        } else {
            if (*p == ',') ++p;
            const char* after = value_end(p, end);
            if (after == nullptr || after == p) break;
            o = put_pb_any_value(o, otlp_field::list_values, {p, static_cast<std::size_t>(after - p)}, depth + 1);
            p = after;
        }
    }
    return o;
}

// A JSON value as an AnyValue field: what put_any_value writes as JSON, in protobuf.
char* put_pb_any_value(char* o, std::uint32_t field, std::string_view value, std::uint32_t depth) {
    const pb::Nested any = pb::open(o, field, pb_bound(value.size()));
    const char first = value.empty() ? 'n' : value[0];
    if (first == '"') {
        o = put_pb_string(o, otlp_field::any_string, value.substr(1, value.size() - 2));
    } else if (depth >= any_value_depth_max) {  // deeper than any engine output: as text
        o = pb::put_bytes_field(o, otlp_field::any_string, value);
    } else if (first == '{' || first == '[') {
        const pb::Nested list = pb::open(o, first == '{' ? otlp_field::any_kvlist : otlp_field::any_array, pb_bound(value.size()));
        o = pb::close(list, put_pb_list(o, value, depth));
    } else if (value == "true" || value == "false") {
        o = pb::put_varint_field(o, otlp_field::any_bool, value == "true" ? 1 : 0);
    } else if (value != "null") {
        std::int64_t integer = 0;
        double number = 0;
        const char* value_end_at = value.data() + value.size();
        if (is_integer_text(value) && std::from_chars(value.data(), value_end_at, integer).ptr == value_end_at) {
            o = pb::put_varint_field(o, otlp_field::any_int, static_cast<std::uint64_t>(integer));  // int64: two's complement
        } else if (std::from_chars(value.data(), value_end_at, number).ptr == value_end_at) {
            o = pb::put_double_field(o, otlp_field::any_double, number);
        } else {
            o = pb::put_bytes_field(o, otlp_field::any_string, value);
        }
    }
    return pb::close(any, o);  // null: an empty AnyValue, as {} in JSON
}

// ---- Loki label names --------------------------------------------------------

// A label name from a member path's last part: [a-zA-Z_][a-zA-Z0-9_]*.
std::string label_name(std::string_view path) {
    const auto dot = path.rfind('.');
    std::string name(dot == std::string_view::npos ? path : path.substr(dot + 1));
    for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
    }
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) name.insert(name.begin(), '_');
    return name;
}

std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto dot = path.find('.', start);
        parts.emplace_back(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return parts;
}

std::uint64_t fnv(std::uint64_t hash, std::string_view text) {
    for (const char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    return (hash ^ 0xff) * 0x100000001b3ULL;
}

// Per-event overheads the bounds below are made of (see each writer).
constexpr std::size_t es_per_event = 20;       // {"create":{}}\n, and "@timestamp" for "_time"
constexpr std::size_t datadog_per_event = 40;  // {"ddsource":"supervent","service":"…","date": and a ','
constexpr std::size_t hec_per_event = 100;     // the envelope, its time and source
constexpr std::size_t otlp_per_event = 600;    // the record, its resource and scope
constexpr std::size_t loki_per_event = 64;     // the entry, its stream's head
constexpr std::size_t loki_per_label = 8;      // "name":"value",
constexpr std::size_t fixed_bytes = 128;

std::size_t loki_labels_bytes(const ApiOptions& options) {
    std::size_t bytes = 0;
    for (const std::string& label : options.loki_labels) bytes += label.size() + loki_per_label;
    return bytes;
}

struct Shape {
    std::size_t factor;     // body bytes per NDJSON byte, at most
    std::size_t per_event;  // and per event
};

Shape shape_of(const ApiOptions& options) {
    switch (options.api) {
        case LogApi::axiom: return {1, 1};
        case LogApi::elasticsearch: return {1, es_per_event};
        case LogApi::datadog: return {2, datadog_per_event};  // the source twice
        case LogApi::splunk_hec: return {2, hec_per_event + options.hec_sourcetype.size() + options.hec_index.size()};
        // Every member becomes {"key":…,"value":{"…Value":…}}: a 6-byte member ,"k":1 grows ~6x, an empty {} ~15x.
        case LogApi::otlp: return {11, otlp_per_event + options.scope_version.size()};
        case LogApi::loki: return {3, loki_per_event + loki_labels_bytes(options)};  // escaped line (2x) and label values
    }
    return {1, 1};
}

}  // namespace

bool parse_event_time_ns(std::string_view text, std::int64_t& ns) {
    // YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ
    if (text.size() != time_text_bytes || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
        text[16] != ':' || text[19] != '.' || text[29] != 'Z') {
        return false;
    }
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, fraction = 0;
    const char* p = text.data();
    if (!read_digits(p, 4, year) || !read_digits(p + 5, 2, month) || !read_digits(p + 8, 2, day) ||
        !read_digits(p + 11, 2, hour) || !read_digits(p + 14, 2, minute) || !read_digits(p + 17, 2, second) ||
        !read_digits(p + 20, 9, fraction)) {
        return false;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
    const std::int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    ns = seconds * ns_per_s + fraction;
    return true;
}

std::string_view log_api_name(LogApi api) {
    switch (api) {
        case LogApi::axiom: return "axiom";
        case LogApi::elasticsearch: return "elasticsearch";
        case LogApi::loki: return "loki";
        case LogApi::splunk_hec: return "splunk";
        case LogApi::otlp: return "otlp";
        case LogApi::datadog: return "datadog";
    }
    return "axiom";
}

ApiLimits api_limits(LogApi api) {
    switch (api) {
        case LogApi::axiom: return {10'000, 0};
        // http.max_content_length is 100 MB, but Elastic's guidance is 5-15 MB a request.
        case LogApi::elasticsearch: return {0, 10 * 1024 * 1024};
        // Loki's distributor: 4 MiB messages (gRPC default), and a push
        // larger than the per-tenant burst (ingestion_burst_size_mb, 6 MB) never passes.
        case LogApi::loki: return {0, 4 * 1024 * 1024};
        // Splunk HEC: max_content_length is 800 MB on Enterprise; Splunk Cloud and the logging drivers keep batches ~1 MB.
        case LogApi::splunk_hec: return {0, 1024 * 1024};
        // The OpenTelemetry Collector's confighttp: max_request_body_size 20 MiB.
        case LogApi::otlp: return {0, 16 * 1024 * 1024};
        // Datadog logs intake: 5 MB uncompressed and 1,000 entries per request.
        case LogApi::datadog: return {1000, 5'000'000};
    }
    return {};
}

std::size_t api_body_bytes_bound(const ApiOptions& options, std::size_t raw_bytes, std::uint32_t events) {
    const Shape shape = shape_of(options);
    return fixed_bytes + raw_bytes * shape.factor + std::size_t{events} * shape.per_event;
}

std::size_t api_raw_bytes_for(const ApiOptions& options, std::size_t body_bytes, std::uint32_t events) {
    const Shape shape = shape_of(options);
    const std::size_t overhead = fixed_bytes + std::size_t{events} * shape.per_event;
    return body_bytes > overhead ? (body_bytes - overhead) / shape.factor : 0;
}

std::string api_path(LogApi api, std::string_view path_prefix, std::string_view dataset) {
    std::string path(path_prefix);
    switch (api) {
        case LogApi::axiom: break;
        case LogApi::elasticsearch:
            // The reply lists every item; filtered to its status (and an
            // error's type) it is ~30 bytes an item instead of ~200.
            path += "/";
            path += dataset;
            path += "/_bulk?filter_path=errors,items.*.status,items.*.error.type";
            break;
        case LogApi::loki: path += "/loki/api/v1/push"; break;
        case LogApi::splunk_hec: path += "/services/collector/event"; break;
        case LogApi::otlp: path += "/v1/logs"; break;
        case LogApi::datadog: path += "/api/v2/logs"; break;
    }
    return path;
}

std::string_view api_content_type(LogApi api, bool otlp_protobuf) {
    if (api == LogApi::otlp && otlp_protobuf) return "application/x-protobuf";
    return api == LogApi::elasticsearch ? "application/x-ndjson" : "application/json";
}

// ---- Loki's per-batch tables -------------------------------------------------

struct ApiBodyWriter::Loki {
    struct Label {
        std::string name;                // the label's name in the stream
        std::vector<std::string> path;   // member path in the event
    };
    std::vector<Label> labels;
    // By event: its view, its stream, the next event of its stream; its label values (labels.size() each).
    std::vector<EventView> events;
    std::vector<std::uint32_t> stream_of;
    std::vector<std::uint32_t> next_in_stream;
    std::vector<std::string_view> values;
    // By stream: first and last event. A hash table of streams (index + 1; 0 = empty).
    std::vector<std::uint32_t> first, last;
    std::vector<std::uint32_t> table;
    std::uint64_t table_mask = 0;

    // The label's value in the event: a string's contents or a number's or
    // boolean's text; empty data() = the event has none.
    [[nodiscard]] static std::string_view value_of(const EventView& view, const std::vector<std::string>& path) {
        if (path.size() == 1) {
            if (path[0] == "source") return view.source;
            if (path[0] == "event_type") return view.event_type;
            if (path[0] == "message") return view.message;
        }
        std::string_view scope = view.rest;
        for (std::size_t part = 0; part < path.size(); ++part) {
            const char* p = scope.data();
            const char* end = p + scope.size();
            Member member;
            bool found = false;
            while (next_member(p, end, member)) {
                if (member.key == path[part]) {
                    found = true;
                    break;
                }
            }
            if (!found) return {};
            const std::string_view value = member.value;
            if (part + 1 < path.size()) {
                if (value.size() < 2 || value[0] != '{') return {};
                scope = value.substr(1, value.size() - 2);
                continue;
            }
            if (value.empty() || value[0] == '{' || value[0] == '[' || value == "null") return {};
            if (value[0] == '"') return value.substr(1, value.size() - 2);
            return value;
        }
        return {};
    }
};

ApiBodyWriter::ApiBodyWriter(ApiOptions options, std::uint32_t batch_events_max)
    : options_(std::move(options)), batch_events_max_(batch_events_max) {
    if (options_.api != LogApi::loki) return;
    loki_ = std::make_unique<Loki>();
    for (const std::string& label : options_.loki_labels) loki_->labels.push_back({label_name(label), split_path(label)});
    const std::size_t events = batch_events_max;
    loki_->events.resize(events);
    loki_->stream_of.resize(events);
    loki_->next_in_stream.resize(events);
    loki_->values.resize(events * loki_->labels.size());
    loki_->first.resize(events);
    loki_->last.resize(events);
    std::size_t table_size = 16;
    while (table_size < 2 * events) table_size *= 2;
    loki_->table.resize(table_size);
    loki_->table_mask = table_size - 1;
}

ApiBodyWriter::~ApiBodyWriter() = default;

std::size_t ApiBodyWriter::write(std::string_view ndjson, std::uint32_t events, std::span<char> out) {
    error_ = nullptr;
    if (!ends_in_newline(ndjson)) {
        error_ = "the batch does not end in a newline";
        return 0;
    }
    if (events > batch_events_max_) {
        error_ = "the batch has more events than the writer was made for";
        return 0;
    }
    if (out.size() < fixed_bytes) {
        error_ = "the body would not fit its buffer";
        return 0;
    }
    char* o = out.data();
    char* end = out.data() + out.size();
    switch (options_.api) {
        case LogApi::axiom:
            if (ndjson.size() > out.size()) return 0;
            std::memcpy(o, ndjson.data(), ndjson.size());
            return ndjson.size();
        case LogApi::elasticsearch: return write_elasticsearch(ndjson, o, end);
        case LogApi::datadog: return write_datadog(ndjson, o, end);
        case LogApi::splunk_hec: return write_hec(ndjson, o, end);
        case LogApi::otlp: return options_.otlp_protobuf ? write_otlp_protobuf(ndjson, o, end) : write_otlp(ndjson, o, end);
        case LogApi::loki: return write_loki(ndjson, events, o, end);
    }
    return 0;
}

// {"create":{}}\n{"@timestamp":"…", the rest of the event}\n per event: the
// index comes from the path, ids from Elasticsearch (so a data stream takes it too).
std::size_t ApiBodyWriter::write_elasticsearch(std::string_view ndjson, char* out, char* end) {
    char* o = out;
    Lines lines{ndjson.data(), ndjson.data() + ndjson.size()};
    std::string_view line;
    while (lines.next(line)) {
        if (line.size() < time_end + 2 || !line.starts_with(time_key)) {
            error_ = "an event line does not start with {\"_time\":\"";
            return 0;
        }
        if (static_cast<std::size_t>(end - o) < line.size() + es_per_event + 1) {
            error_ = "the body would not fit its buffer";
            return 0;
        }
        o = put(o, "{\"create\":{}}\n{\"@timestamp\":\"");
        o = put(o, line.substr(time_key.size()));
        *o++ = '\n';
    }
    return static_cast<std::size_t>(o - out);
}

// [{"ddsource":"supervent","service":SOURCE,"date":"…", the rest of the event},…]
std::size_t ApiBodyWriter::write_datadog(std::string_view ndjson, char* out, char* end) {
    char* o = out;
    *o++ = '[';
    Lines lines{ndjson.data(), ndjson.data() + ndjson.size()};
    std::string_view line;
    EventView view;
    bool first = true;
    while (lines.next(line)) {
        if ((error_ = take_event(line, view, end - o, 2, datadog_per_event + 2)) != nullptr) return 0;
        if (!first) *o++ = ',';
        first = false;
        o = put(o, R"({"ddsource":"supervent","service":")");
        o = put(o, view.source);
        o = put(o, R"(","date":")");
        o = put(o, line.substr(time_key.size()));
    }
    *o++ = ']';
    return static_cast<std::size_t>(o - out);
}

// {"time":SECONDS.MMM,"source":…,"sourcetype":…[,"index":…],"event":EVENT}\n per event.
std::size_t ApiBodyWriter::write_hec(std::string_view ndjson, char* out, char* end) {
    char* o = out;
    Lines lines{ndjson.data(), ndjson.data() + ndjson.size()};
    std::string_view line;
    EventView view;
    const std::size_t per_event = hec_per_event + options_.hec_sourcetype.size() + options_.hec_index.size();
    while (lines.next(line)) {
        if ((error_ = take_event(line, view, end - o, 2, per_event)) != nullptr) return 0;
        const std::int64_t seconds = view.time_ns >= 0 ? view.time_ns / ns_per_s : (view.time_ns - ns_per_s + 1) / ns_per_s;
        const auto millis = static_cast<int>((view.time_ns - seconds * ns_per_s) / 1'000'000);
        o = put(o, R"({"time":)");
        o = put_int(o, seconds);
        *o++ = '.';
        *o++ = static_cast<char>('0' + millis / 100);
        *o++ = static_cast<char>('0' + millis / 10 % 10);
        *o++ = static_cast<char>('0' + millis % 10);
        o = put(o, R"(,"source":")");
        o = put(o, view.source);
        o = put(o, R"(","sourcetype":")");
        o = put(o, options_.hec_sourcetype);
        if (!options_.hec_index.empty()) {
            o = put(o, R"(","index":")");
            o = put(o, options_.hec_index);
        }
        o = put(o, R"(","event":)");
        o = put(o, line);
        o = put(o, "}\n");
    }
    return static_cast<std::size_t>(o - out);
}

// {"resourceLogs":[{"resource":{service.name},"scopeLogs":[{"scope":…,"logRecords":[…]}]}]}:
// one resourceLogs per run of events of one source (a batch is one source).
std::size_t ApiBodyWriter::write_otlp(std::string_view ndjson, char* out, char* end) {
    char* o = out;
    o = put(o, R"({"resourceLogs":[)");
    Lines lines{ndjson.data(), ndjson.data() + ndjson.size()};
    std::string_view line;
    EventView view;
    std::string_view open_source;
    bool open = false;
    bool first_record = true;
    const std::size_t per_event = otlp_per_event + options_.scope_version.size();
    while (lines.next(line)) {
        if ((error_ = take_event(line, view, end - o, 11, per_event)) != nullptr) return 0;
        if (!open || view.source != open_source) {
            if (open) o = put(o, "]}]},");
            o = put(o, R"({"resource":{"attributes":[{"key":"service.name","value":{"stringValue":")");
            o = put(o, view.source);
            o = put(o, R"("}}]},"scopeLogs":[{"scope":{"name":"supervent","version":")");
            o = put(o, options_.scope_version);
            o = put(o, R"("},"logRecords":[)");
            open = true;
            open_source = view.source;
            first_record = true;
        }
        if (!first_record) *o++ = ',';
        first_record = false;
        o = put(o, R"({"timeUnixNano":")");
        o = put_int(o, view.time_ns);
        o = put(o, R"(","body":{"stringValue":")");
        o = put(o, view.message);
        o = put(o, R"("},"attributes":[{"key":"event_type","value":{"stringValue":")");
        o = put(o, view.event_type);
        o = put(o, R"("}})");
        const Severity severity = for_each_record_attribute(view.rest, [&o](const Member& member) {
            *o++ = ',';
            o = put_key_value(o, member.key, member.value, 1);
        });
        const int number = severity.number != 0 ? severity.number : severity.from_status != 0 ? severity.from_status : 9;
        o = put(o, R"(],"severityNumber":)");
        o = put_uint(o, static_cast<std::uint64_t>(number));
        o = put(o, R"(,"severityText":")");
        o = put(o, severity.number != 0 ? severity.text : severity_text(number));
        o = put(o, "\"}");
    }
    if (open) o = put(o, "]}]}");
    o = put(o, "]}");
    return static_cast<std::size_t>(o - out);
}

// The same ExportLogsServiceRequest as write_otlp, as protobuf: one
// ResourceLogs (resource service.name, one ScopeLogs) per run of events of
// one source, a LogRecord per event with time_unix_nano (fixed64), severity,
// body (the message) and attributes (event_type, then the event's own).
std::size_t ApiBodyWriter::write_otlp_protobuf(std::string_view ndjson, char* out, char* end) {
    namespace f = otlp_field;
    char* o = out;
    Lines lines{ndjson.data(), ndjson.data() + ndjson.size()};
    std::string_view line;
    EventView view;
    std::string_view open_source;
    bool open = false;
    pb::Nested resource_logs, scope_logs;
    const std::size_t per_event = otlp_per_event + options_.scope_version.size();
    const auto room = static_cast<std::size_t>(end - out);  // what any run of records can take
    while (lines.next(line)) {
        if ((error_ = take_event(line, view, end - o, 11, per_event)) != nullptr) return 0;
        if (!open || view.source != open_source) {
            if (open) o = pb::close(resource_logs, pb::close(scope_logs, o));
            resource_logs = pb::open(o, f::request_resource_logs, room);
            const pb::Nested resource = pb::open(o, f::resource_logs_resource, pb_bound(view.source.size()));
            const pb::Nested service = pb::open(o, f::resource_attributes, pb_bound(view.source.size()));
            o = pb::put_bytes_field(o, f::key_value_key, "service.name");
            const pb::Nested name = pb::open(o, f::key_value_value, view.source.size() + 8);
            o = put_pb_string(o, f::any_string, view.source);
            o = pb::close(resource, pb::close(service, pb::close(name, o)));
            scope_logs = pb::open(o, f::resource_logs_scope_logs, room);
            const pb::Nested scope = pb::open(o, f::scope_logs_scope, options_.scope_version.size() + 16);
            o = pb::put_bytes_field(o, f::scope_name, "supervent");
            o = pb::put_bytes_field(o, f::scope_version, options_.scope_version);
            o = pb::close(scope, o);
            open = true;
            open_source = view.source;
        }
        const pb::Nested record = pb::open(o, f::scope_logs_log_records, 11 * line.size() + per_event);
        o = pb::put_fixed64_field(o, f::record_time_unix_nano, static_cast<std::uint64_t>(view.time_ns));
        const pb::Nested body = pb::open(o, f::record_body, view.message.size() + 8);
        o = pb::close(body, put_pb_string(o, f::any_string, view.message));
        const pb::Nested event_type = pb::open(o, f::record_attributes, pb_bound(view.event_type.size() + 16));
        o = pb::put_bytes_field(o, f::key_value_key, "event_type");
        const pb::Nested type_value = pb::open(o, f::key_value_value, pb_bound(view.event_type.size()));
        o = pb::close(event_type, pb::close(type_value, put_pb_string(o, f::any_string, view.event_type)));
        const Severity severity = for_each_record_attribute(view.rest, [&o](const Member& member) {
            o = put_pb_key_value(o, f::record_attributes, member.key, member.value, 1);
        });
        const int number = severity.number != 0 ? severity.number : severity.from_status != 0 ? severity.from_status : 9;
        o = pb::put_varint_field(o, f::record_severity_number, static_cast<std::uint64_t>(number));
        o = put_pb_string(o, f::record_severity_text, severity.number != 0 ? severity.text : severity_text(number));
        o = pb::close(record, o);
    }
    if (open) o = pb::close(resource_logs, pb::close(scope_logs, o));
    return static_cast<std::size_t>(o - out);
}

// {"streams":[{"stream":{LABELS},"values":[["NS","LINE"],…]},…]}: events
// grouped by their label values, each stream's entries in batch order, which
// is time order (the engine renders a batch in time order), as Loki wants.
std::size_t ApiBodyWriter::write_loki(std::string_view ndjson, std::uint32_t events, char* out, char* end) {
    Loki& loki = *loki_;
    const std::size_t label_count = loki.labels.size();
    // Pass 1: parse, find each event's stream.
    Lines lines{ndjson.data(), ndjson.data() + ndjson.size()};
    std::string_view line;
    std::uint32_t count = 0;
    std::uint32_t streams = 0;
    std::fill(loki.table.begin(), loki.table.end(), 0);
    while (lines.next(line)) {
        if (count == events || count == batch_events_max_) {
            error_ = "the batch has more lines than its event count";
            return 0;
        }
        EventView& view = loki.events[count];
        if (!parse_line(line, view)) {
            error_ = "an event line is not of the engine's shape";
            return 0;
        }
        std::string_view* values = &loki.values[count * label_count];
        std::uint64_t hash = 0xcbf29ce484222325ULL;
        for (std::size_t l = 0; l < label_count; ++l) {
            values[l] = Loki::value_of(view, loki.labels[l].path);
            hash = fnv(hash, values[l]) ^ (values[l].data() == nullptr ? 0x5bd1e995 : 0);
        }
        std::uint64_t at = hash & loki.table_mask;
        for (;;) {
            const std::uint32_t entry = loki.table[at];
            if (entry == 0) {
                loki.table[at] = streams + 1;
                loki.first[streams] = loki.last[streams] = count;
                loki.stream_of[count] = streams++;
                break;
            }
            const std::string_view* other = &loki.values[loki.first[entry - 1] * label_count];
            if (std::equal(values, values + label_count, other, [](std::string_view a, std::string_view b) {
                    return (a.data() == nullptr) == (b.data() == nullptr) && a == b;
                })) {
                const std::uint32_t stream = entry - 1;
                loki.next_in_stream[loki.last[stream]] = count;
                loki.last[stream] = count;
                loki.stream_of[count] = stream;
                break;
            }
            at = (at + 1) & loki.table_mask;
        }
        loki.next_in_stream[count] = UINT32_MAX;
        ++count;
    }
    // Pass 2: write the streams in order of first appearance.
    char* o = out;
    o = put(o, R"({"streams":[)");
    for (std::uint32_t s = 0; s < streams; ++s) {
        const std::uint32_t head = loki.first[s];
        const std::string_view* values = &loki.values[head * label_count];
        if (static_cast<std::size_t>(end - o) < loki.events[head].line.size() + loki_labels_bytes(options_) + 32) {
            error_ = "the body would not fit its buffer";
            return 0;
        }
        if (s > 0) *o++ = ',';
        o = put(o, R"({"stream":{)");
        bool first_label = true;
        for (std::size_t l = 0; l < label_count; ++l) {
            if (values[l].data() == nullptr) continue;
            if (!first_label) *o++ = ',';
            first_label = false;
            *o++ = '"';
            o = put(o, loki.labels[l].name);
            o = put(o, R"(":")");
            o = put(o, values[l]);
            *o++ = '"';
        }
        o = put(o, R"(},"values":[)");
        for (std::uint32_t e = head; e != UINT32_MAX; e = loki.next_in_stream[e]) {
            const EventView& view = loki.events[e];
            const std::string_view text = options_.loki_line_message ? view.message : view.line;
            if (static_cast<std::size_t>(end - o) < 2 * text.size() + loki_per_event) {
                error_ = "the body would not fit its buffer";
                return 0;
            }
            if (e != head) *o++ = ',';
            o = put(o, "[\"");
            o = put_int(o, view.time_ns);
            o = put(o, "\",\"");
            // The message is escaped already (it is a JSON string's contents); the event is JSON text.
            o = options_.loki_line_message ? put(o, text) : put_escaped(o, text);
            o = put(o, "\"]");
        }
        o = put(o, "]}");
    }
    o = put(o, "]}");
    return static_cast<std::size_t>(o - out);
}

}  // namespace supervent::net
