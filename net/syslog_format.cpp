// NDJSON lines → syslog messages (see syslog_format.hpp). Each line is
// scanned once into spans (no copy, no allocation), then the message is
// written field by field straight into the output.
#include "net/syslog_format.hpp"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cstring>

namespace supervent::net {
namespace {

// JSON text inside one line: a string's content (still escaped) or a
// literal/raw value as written.
struct Span {
    const char* data = nullptr;
    std::uint32_t bytes = 0;
    [[nodiscard]] bool empty() const { return bytes == 0; }
};

enum class ValueKind : std::uint8_t { string, literal };  // literal: number, true, false, null, array, deep object

constexpr std::uint32_t name_depth_max = 4;  // deeper objects become one parameter holding their JSON text

struct Param {
    Span path[name_depth_max];
    std::uint32_t depth = 0;  // components in path
    Span value;
    ValueKind kind = ValueKind::string;
};

// One line's fields, as spans into the line.
struct Event {
    Span time, source, type, message;
    Param params[syslog_params_max];
    std::uint32_t param_count = 0;
    std::uint32_t dropped = 0;
    int host_param = -1;
    int severity_param = -1;
};

// ---- scanning one JSON line

// The first '"' or '\\' in [p, end), or end: eight bytes at a time (SWAR),
// as strings are mostly short runs where a memchr call costs more than it scans.
const char* quote_or_backslash(const char* p, const char* end) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
        std::uint64_t word;
        std::memcpy(&word, p, 8);
        const std::uint64_t q = word ^ (ones * '"');
        const std::uint64_t b = word ^ (ones * '\\');
        const std::uint64_t found = ((q - ones) & ~q & highs) | ((b - ones) & ~b & highs);
        if (found != 0) return p + (__builtin_ctzll(found) >> 3);
        p += 8;
    }
    while (p < end && *p != '"' && *p != '\\') ++p;
    return p;
}

class Scanner {
public:
    Scanner(const char* begin, const char* end) : p_(begin), end_(end) {}

    bool scan_event(Event& event) {
        skip_ws();
        if (!eat('{')) return false;
        skip_ws();
        if (eat('}')) return true;
        for (;;) {
            Span key;
            if (!member_key(key)) return false;
            if (!top_member(key, event)) return false;
            skip_ws();
            if (eat(',')) continue;
            return eat('}');
        }
    }

private:
    static bool is(Span s, std::string_view text) {
        return s.bytes == text.size() && std::memcmp(s.data, text.data(), text.size()) == 0;
    }
    void skip_ws() {
        while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
    }
    bool eat(char c) {
        if (p_ < end_ && *p_ == c) {
            ++p_;
            return true;
        }
        return false;
    }
    // A string's content, escapes kept; p_ after the closing quote.
    bool string(Span& out) {
        if (!eat('"')) return false;
        const char* start = p_;
        for (;;) {
            p_ = quote_or_backslash(p_, end_);
            if (p_ >= end_) return false;
            if (*p_ == '"') break;
            p_ += 2;  // past the escape (\" included)
        }
        out = {start, static_cast<std::uint32_t>(p_ - start)};
        ++p_;
        return true;
    }
    bool member_key(Span& key) {
        skip_ws();
        if (!string(key)) return false;
        skip_ws();
        return eat(':');
    }
    // Any value but a string, as written (objects and arrays by bracket depth).
    bool literal(Span& out) {
        const char* start = p_;
        int depth = 0;
        while (p_ < end_) {
            const char c = *p_;
            if (c == '"') {
                Span ignored;
                if (!string(ignored)) return false;
                continue;
            }
            if (c == '{' || c == '[') ++depth;
            if (c == '}' || c == ']') {
                if (depth == 0) break;
                --depth;
            }
            if (depth == 0 && (c == ',' || c == '\n')) break;
            ++p_;
        }
        const char* stop = p_;
        while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t')) --stop;
        out = {start, static_cast<std::uint32_t>(stop - start)};
        return depth == 0;
    }
    bool top_member(Span key, Event& event) {
        skip_ws();
        if (p_ < end_ && *p_ == '"') {
            Span value;
            if (!string(value)) return false;
            if (is(key, "_time")) event.time = value;
            else if (is(key, "source")) event.source = value;
            else if (is(key, "event_type")) event.type = value;
            else if (is(key, "message")) event.message = value;
            else add_param(event, &key, 1, value, ValueKind::string);
            return true;
        }
        if (is(key, "attributes") && p_ < end_ && *p_ == '{') return object(event, nullptr, 0);
        return value(event, &key, 1);
    }
    // The members of an object whose name so far is path[0..depth).
    bool object(Event& event, const Span* path, std::uint32_t depth) {
        if (!eat('{')) return false;
        skip_ws();
        if (eat('}')) return true;
        Span names[name_depth_max];
        std::copy(path, path + depth, names);
        for (;;) {
            if (!member_key(names[depth])) return false;
            if (!value(event, names, depth + 1)) return false;
            skip_ws();
            if (eat(',')) continue;
            return eat('}');
        }
    }
    bool value(Event& event, const Span* path, std::uint32_t depth) {
        skip_ws();
        if (p_ < end_ && *p_ == '"') {
            Span text;
            if (!string(text)) return false;
            add_param(event, path, depth, text, ValueKind::string);
            return true;
        }
        if (p_ < end_ && *p_ == '{' && depth < name_depth_max) return object(event, path, depth);
        Span text;
        if (!literal(text)) return false;
        add_param(event, path, depth, text, ValueKind::literal);
        return true;
    }
    static void add_param(Event& event, const Span* path, std::uint32_t depth, Span value, ValueKind kind) {
        if (event.param_count == syslog_params_max) {
            ++event.dropped;
            return;
        }
        Param& param = event.params[event.param_count];
        std::copy(path, path + depth, param.path);
        param.depth = depth;
        param.value = value;
        param.kind = kind;
        const Span last = path[depth - 1];
        if (kind == ValueKind::string && (is(last, "host") || is(last, "hostname"))) {
            event.host_param = static_cast<int>(event.param_count);
        }
        if (is(last, "severity") || is(last, "level")) event.severity_param = static_cast<int>(event.param_count);
        ++event.param_count;
    }

    const char* p_;
    const char* end_;
};

// ---- decoding JSON string content

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Reads \uXXXX at s[i] (i at the 'u'); -1 when malformed.
long read_u4(Span s, std::uint32_t i) {
    if (i + 4 >= s.bytes) return -1;
    long code = 0;
    for (std::uint32_t k = 1; k <= 4; ++k) {
        const int digit = hex_value(s.data[i + k]);
        if (digit < 0) return -1;
        code = code * 16 + digit;
    }
    return code;
}

char* put_utf8(char* w, long code) {
    if (code < 0x80) {
        *w++ = static_cast<char>(code);
    } else if (code < 0x800) {
        *w++ = static_cast<char>(0xC0 | (code >> 6));
        *w++ = static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        *w++ = static_cast<char>(0xE0 | (code >> 12));
        *w++ = static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        *w++ = static_cast<char>(0x80 | (code & 0x3F));
    } else {
        *w++ = static_cast<char>(0xF0 | (code >> 18));
        *w++ = static_cast<char>(0x80 | ((code >> 12) & 0x3F));
        *w++ = static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        *w++ = static_cast<char>(0x80 | (code & 0x3F));
    }
    return w;
}

// Decodes the escape at s[i] (a backslash) into w (at most 4 bytes);
// returns the input bytes it took.
std::uint32_t decode_escape(Span s, std::uint32_t i, char*& w) {
    if (i + 1 >= s.bytes) return 1;
    const char c = s.data[i + 1];
    switch (c) {
        case 'n': *w++ = '\n'; return 2;
        case 't': *w++ = '\t'; return 2;
        case 'r': *w++ = '\r'; return 2;
        case 'b': *w++ = '\b'; return 2;
        case 'f': *w++ = '\f'; return 2;
        case 'u': break;
        default: *w++ = c; return 2;  // \" \\ \/
    }
    long code = read_u4(s, i + 1);
    if (code < 0) return 2;
    std::uint32_t used = 6;
    if (code >= 0xD800 && code <= 0xDBFF && i + 11 < s.bytes + 0 && s.data[i + 6] == '\\' && s.data[i + 7] == 'u') {
        const long low = read_u4(s, i + 7);
        if (low >= 0xDC00 && low <= 0xDFFF) {
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            used = 12;
        }
    }
    if (code >= 0xD800 && code <= 0xDFFF) code = 0xFFFD;  // a lone surrogate
    w = put_utf8(w, code);
    return used;
}

// The decoded text of a string span, each byte passed through `put` (which
// may escape it); plain runs are copied whole.
template <typename Put>
char* put_decoded(char* w, Span s, Put&& put) {
    std::uint32_t i = 0;
    while (i < s.bytes) {
        if (s.data[i] != '\\') {
            w = put(w, s.data[i]);
            ++i;
            continue;
        }
        char decoded[4];
        char* end = decoded;
        i += decode_escape(s, i, end);
        for (const char* d = decoded; d < end; ++d) w = put(w, *d);
    }
    return w;
}

// put_decoded for the common case: runs without a backslash or `special`
// (a byte `put` changes; '\\' for none) are copied whole.
template <typename Put>
char* put_decoded_runs(char* w, Span s, char special, Put&& put) {
    std::uint32_t i = 0;
    while (i < s.bytes) {
        std::uint32_t run = i;
        while (run < s.bytes && s.data[run] != '\\' && s.data[run] != special) ++run;
        std::memcpy(w, s.data + i, run - i);
        w += run - i;
        i = run;
        if (i == s.bytes) break;
        if (s.data[i] != '\\') {
            w = put(w, s.data[i]);
            ++i;
            continue;
        }
        char decoded[4];
        char* end = decoded;
        i += decode_escape(s, i, end);
        for (const char* d = decoded; d < end; ++d) w = put(w, *d);
    }
    return w;
}

bool printusascii(unsigned char c) { return c >= 33 && c <= 126; }

// A header field or SD-NAME: printable US-ASCII only (others become '_'),
// at most `bytes_max`, '-' (NILVALUE) when empty. `sd_name` also keeps
// out '=', ']' and '"' (RFC 5424 §6.3.3).
char* put_token(char* w, const Span* parts, std::uint32_t count, std::size_t bytes_max, bool sd_name) {
    char* const start = w;
    char* const limit = w + bytes_max;
    for (std::uint32_t k = 0; k < count && w < limit; ++k) {
        if (k > 0) *w++ = '.';
        char decoded[4 * 64];
        const Span part = parts[k];
        const Span head{part.data, std::min<std::uint32_t>(part.bytes, 64)};  // names past 64 bytes are cut anyway
        const char* begin = head.data;  // no escape (the common case): sanitized straight from the line
        const char* end = head.data + head.bytes;
        // An empty part may have no data at all: memchr must not see a null pointer.
        if (head.bytes > 0 && std::memchr(head.data, '\\', head.bytes) != nullptr) {
            begin = decoded;
            end = put_decoded(decoded, head, [](char* out, char c) {
                *out++ = c;
                return out;
            });
        }
        for (const char* d = begin; d < end && w < limit; ++d) {
            const auto c = static_cast<unsigned char>(*d);
            const bool bad = !printusascii(c) || (sd_name && (c == '=' || c == ']' || c == '"'));
            *w++ = bad ? '_' : static_cast<char>(c);
        }
    }
    if (w == start) *w++ = '-';
    return w;
}

char* put_param_value(char* w, const Param& param) {
    auto escape_sd = [](char* out, char c) {
        if (c == '"' || c == '\\' || c == ']') *out++ = '\\';
        *out++ = c;
        return out;
    };
    if (param.kind == ValueKind::string) return put_decoded_runs(w, param.value, ']', escape_sd);  // '"' and '\\' come escaped
    for (std::uint32_t i = 0; i < param.value.bytes; ++i) w = escape_sd(w, param.value.data[i]);  // JSON text as is
    return w;
}

// "emerg" … "debug" (and common spellings), or a digit 0–7; informational otherwise.
int severity_of(const Param& param) {
    char word[16];
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i < param.value.bytes && n < sizeof word; ++i) {
        word[n++] = static_cast<char>(std::tolower(static_cast<unsigned char>(param.value.data[i])));
    }
    const std::string_view w(word, n);
    if (n == 1 && w[0] >= '0' && w[0] <= '7') return w[0] - '0';
    struct Name { std::string_view name; int severity; };
    static constexpr Name names[] = {
        {"emerg", 0}, {"emergency", 0}, {"panic", 0}, {"alert", 1}, {"crit", 2}, {"critical", 2}, {"fatal", 2},
        {"err", 3}, {"error", 3}, {"warn", 4}, {"warning", 4}, {"notice", 5}, {"info", 6}, {"informational", 6},
        {"debug", 7}, {"trace", 7}};
    for (const Name& name : names) {
        if (name.name == w) return name.severity;
    }
    return 6;
}

char* put_uint(char* w, std::uint32_t value) {
    char digits[10];
    int n = 0;
    do {
        digits[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0) *w++ = digits[--n];
    return w;
}

char* put_pri(char* w, const Event& event, const SyslogFormatOptions& options) {
    const int severity = event.severity_param >= 0 ? severity_of(event.params[event.severity_param]) : 6;
    *w++ = '<';
    w = put_uint(w, options.facility * 8u + static_cast<std::uint32_t>(severity));
    *w++ = '>';
    return w;
}

bool digits_at(Span s, std::uint32_t from, std::uint32_t count) {
    for (std::uint32_t i = from; i < from + count; ++i) {
        if (i >= s.bytes || s.data[i] < '0' || s.data[i] > '9') return false;
    }
    return true;
}

// RFC 3339 as RFC 5424 takes it: at most 6 fraction digits.
char* put_timestamp_5424(char* w, Span time) {
    if (time.empty() || time.bytes > 40) return put_token(w, &time, time.empty() ? 0 : 1, 40, false);
    std::uint32_t i = 0;
    while (i < time.bytes && time.data[i] != '.') *w++ = time.data[i++];
    if (i < time.bytes) {
        *w++ = time.data[i++];  // '.'
        std::uint32_t kept = 0;
        for (; i < time.bytes && time.data[i] >= '0' && time.data[i] <= '9'; ++i) {
            if (kept++ < 6) *w++ = time.data[i];
        }
        while (i < time.bytes) *w++ = time.data[i++];  // Z or the offset
    }
    return w;
}

// RFC 3164 §4.1.2: "Mmm dd hh:mm:ss", the day padded with a space.
char* put_timestamp_3164(char* w, Span t) {
    static constexpr char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const bool ok = digits_at(t, 5, 2) && digits_at(t, 8, 2) && t.bytes >= 19 && t.data[10] == 'T';
    const int month = ok ? (t.data[5] - '0') * 10 + (t.data[6] - '0') : 0;
    if (!ok || month < 1 || month > 12) {
        std::memcpy(w, "Jan  1 00:00:00", 15);
        return w + 15;
    }
    std::memcpy(w, months + 3 * (month - 1), 3);
    w[3] = ' ';
    w[4] = t.data[8] == '0' ? ' ' : t.data[8];
    w[5] = t.data[9];
    w[6] = ' ';
    std::memcpy(w + 7, t.data + 11, 8);
    return w + 15;
}

bool has_non_ascii(Span s) {
    std::uint32_t i = 0;
    for (; i + 8 <= s.bytes; i += 8) {  // a word at a time: any high bit?
        std::uint64_t word;
        std::memcpy(&word, s.data + i, 8);
        if ((word & 0x8080808080808080ULL) != 0) return true;
    }
    for (; i < s.bytes; ++i) {
        if ((static_cast<unsigned char>(s.data[i]) & 0x80) != 0) return true;
    }
    // Or a \u escape of a non-ASCII code point.
    const char* p = s.data;
    const char* const end = s.data + s.bytes;
    while ((p = static_cast<const char*>(std::memchr(p, '\\', static_cast<std::size_t>(end - p)))) != nullptr) {
        const auto at = static_cast<std::uint32_t>(p - s.data);
        if (at + 1 < s.bytes && s.data[at + 1] == 'u' && read_u4(s, at + 1) >= 0x80) return true;
        p += 2;
        if (p >= end) break;
    }
    return false;
}

char* put_message(char* w, Span message, bool newline_framing) {
    if (!newline_framing) {
        return put_decoded_runs(w, message, '\\', [](char* out, char c) {
            *out++ = c;
            return out;
        });
    }
    return put_decoded_runs(w, message, '\\', [](char* out, char c) {  // an LF comes escaped
        *out++ = c == '\n' ? ' ' : c;  // an LF would end the frame
        return out;
    });
}

char* put_structured_data(char* w, const Event& event, std::string_view sd_id) {
    if (event.param_count == 0) {
        *w++ = '-';
        return w;
    }
    *w++ = '[';
    std::memcpy(w, sd_id.data(), sd_id.size());
    w += sd_id.size();
    for (std::uint32_t i = 0; i < event.param_count; ++i) {
        const Param& param = event.params[i];
        *w++ = ' ';
        w = put_token(w, param.path, param.depth, syslog_sd_name_bytes_max, true);
        *w++ = '=';
        *w++ = '"';
        w = put_param_value(w, param);
        *w++ = '"';
    }
    *w++ = ']';
    return w;
}

Span host_of(const Event& event, const SyslogFormatOptions& options) {
    if (event.host_param >= 0) return event.params[event.host_param].value;
    return {options.hostname.data(), static_cast<std::uint32_t>(options.hostname.size())};
}

// One message without framing, from w on; returns its end.
char* put_message_5424(char* w, const Event& event, const SyslogFormatOptions& options) {
    const bool newline = options.framing == SyslogFraming::newline;
    w = put_pri(w, event, options);
    *w++ = '1';
    *w++ = ' ';
    w = put_timestamp_5424(w, event.time);
    *w++ = ' ';
    const Span host = host_of(event, options);
    w = put_token(w, &host, 1, syslog_hostname_bytes_max, false);
    *w++ = ' ';
    w = put_token(w, &event.source, 1, syslog_app_name_bytes_max, false);
    std::memcpy(w, " - ", 3);  // PROCID: none
    w += 3;
    w = put_token(w, &event.type, 1, syslog_msgid_bytes_max, false);
    *w++ = ' ';
    w = put_structured_data(w, event, options.sd_id);
    if (!event.message.empty()) {
        *w++ = ' ';
        if (has_non_ascii(event.message)) {  // MSG-UTF8 starts with a BOM (RFC 5424 §6.4)
            std::memcpy(w, "\xEF\xBB\xBF", 3);
            w += 3;
        }
        w = put_message(w, event.message, newline);
    }
    return w;
}

char* put_message_3164(char* w, const Event& event, const SyslogFormatOptions& options) {
    w = put_pri(w, event, options);
    w = put_timestamp_3164(w, event.time);
    *w++ = ' ';
    const Span host = host_of(event, options);
    w = put_token(w, &host, 1, syslog_hostname_bytes_max, false);
    *w++ = ' ';
    // TAG: alphanumerics (RFC 3164 §4.1.3), at most 32.
    char* const tag = w;
    w = put_token(w, &event.source, 1, 32, false);
    for (char* c = tag; c < w; ++c) {
        if (std::isalnum(static_cast<unsigned char>(*c)) == 0 && *c != '-' && *c != '_' && *c != '.') *c = '_';
    }
    *w++ = ':';
    *w++ = ' ';
    return put_message(w, event.message, options.framing == SyslogFraming::newline);
}

std::uint32_t decimal_digits(std::size_t value) {
    std::uint32_t digits = 1;
    while (value >= 10) {
        value /= 10;
        ++digits;
    }
    return digits;
}

// Writes one framed message at w; returns its end.
char* put_frame(char* w, const Event& event, const SyslogFormatOptions& options) {
    const bool counted = options.framing == SyslogFraming::octet_counting;
    constexpr std::uint32_t guessed_digits = 3;  // most messages are 100–999 bytes
    char* const message = counted ? w + guessed_digits + 1 : w;
    char* end = options.format == SyslogFormat::rfc5424 ? put_message_5424(message, event, options)
                                                        : put_message_3164(message, event, options);
    if (options.framing == SyslogFraming::newline) *end++ = '\n';
    if (!counted) return end;
    const auto bytes = static_cast<std::size_t>(end - message);
    const std::uint32_t digits = decimal_digits(bytes);
    char* const moved = w + digits + 1;
    if (moved != message) std::memmove(moved, message, bytes);  // the guess was wrong: rare
    put_uint(w, static_cast<std::uint32_t>(bytes));
    w[digits] = ' ';
    return moved + bytes;
}

}  // namespace

std::size_t syslog_frame_bytes_max(std::size_t line_bytes, const SyslogFormatOptions& options) {
    // Header fields are cut to their limits; every attribute costs at most
    // 38 + 2 x its value's JSON bytes out for at least 5 + its value bytes
    // in, so 10 x the line covers the parameters and MSG.
    constexpr std::size_t header_bytes = 10 + 5 + 2 + 40 + 1 + syslog_hostname_bytes_max + 1 +
                                         syslog_app_name_bytes_max + 3 + syslog_msgid_bytes_max + 1 + 2 + 1 + 3 + 1;
    return header_bytes + options.sd_id.size() + 10 * line_bytes;
}

SyslogChunk ndjson_to_syslog(std::span<const char> ndjson, std::span<char> out, const SyslogFormatOptions& options,
                             std::span<std::uint32_t> frame_ends) {
    const bool datagrams = options.framing == SyslogFraming::datagram;
    assert(!datagrams || !frame_ends.empty());
    SyslogChunk chunk;
    const char* in = ndjson.data();
    const char* const in_end = in + ndjson.size();
    char* w = out.data();
    Event event;
    while (in < in_end) {
        if (datagrams && chunk.frames == frame_ends.size()) break;
        const auto* newline = static_cast<const char*>(std::memchr(in, '\n', static_cast<std::size_t>(in_end - in)));
        const char* line_end = newline != nullptr ? newline + 1 : in_end;
        const auto line_bytes = static_cast<std::size_t>(line_end - in);
        if (syslog_frame_bytes_max(line_bytes, options) > static_cast<std::size_t>(out.data() + out.size() - w)) break;
        event.time = event.source = event.type = event.message = Span{};
        event.param_count = event.dropped = 0;
        event.host_param = event.severity_param = -1;
        Scanner(in, line_end).scan_event(event);  // a malformed line keeps what was read before the fault
        w = put_frame(w, event, options);
        chunk.params_dropped += event.dropped;
        if (datagrams) frame_ends[chunk.frames] = static_cast<std::uint32_t>(w - out.data());
        ++chunk.frames;
        in = line_end;
    }
    chunk.out_bytes = static_cast<std::size_t>(w - out.data());
    chunk.in_bytes = static_cast<std::size_t>(in - ndjson.data());
    return chunk;
}

}  // namespace supervent::net
