#include "config/sink_values.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace supervent::config::detail {

namespace {

bool valid_utf8(std::string_view text) {
    for (std::size_t at = 0; at < text.size();) {
        const auto lead = static_cast<unsigned char>(text[at]);
        const std::size_t length = lead < 0x80 ? 1 : lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3
                                   : lead >= 0xF0 && lead <= 0xF4                     ? 4
                                                                                      : 0;
        if (length == 0 || at + length > text.size()) return false;
        unsigned code = lead & (0x7Fu >> length);
        for (std::size_t i = 1; i < length; ++i) {
            const auto next = static_cast<unsigned char>(text[at + i]);
            if ((next & 0xC0) != 0x80) return false;
            code = (code << 6) | (next & 0x3Fu);
        }
        if ((length == 3 && code < 0x800) || (length == 4 && (code < 0x10000 || code > 0x10FFFF)) ||
            (code >= 0xD800 && code <= 0xDFFF)) {
            return false;
        }
        at += length;
    }
    return true;
}

bool has_control(std::string_view text) {
    return std::ranges::any_of(text, [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

void append_u_escape(std::string& out, unsigned unit) {
    static constexpr char hex[] = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(unit >> shift) & 0xF];
}

// Decodes one UTF-8 character at text[at]; returns its code point and moves
// `at` past it. Malformed bytes come out as U+FFFD, one byte at a time.
unsigned next_code_point(std::string_view text, std::size_t& at) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned lead = byte(at);
    const int length = lead >= 0xF0 && lead <= 0xF4   ? 4
                       : lead >= 0xE0 && lead <= 0xEF ? 3
                       : lead >= 0xC2 && lead <= 0xDF ? 2
                                                      : 0;
    if (length == 0 || at + static_cast<std::size_t>(length) > text.size()) {
        ++at;
        return 0xFFFD;
    }
    unsigned code = lead & (0x7Fu >> length);
    for (int i = 1; i < length; ++i) {
        const unsigned next = byte(at + static_cast<std::size_t>(i));
        if ((next & 0xC0) != 0x80) {
            ++at;
            return 0xFFFD;
        }
        code = (code << 6) | (next & 0x3F);
    }
    const bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
    if (overlong || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
        ++at;
        return 0xFFFD;
    }
    at += static_cast<std::size_t>(length);
    return code;
}

void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    for (std::size_t at = 0; at < text.size();) {
        const auto c = static_cast<unsigned char>(text[at]);
        if (c >= 0x80) {
            const unsigned code = next_code_point(text, at);
            if (code >= 0x10000) {
                append_u_escape(out, 0xD800 + ((code - 0x10000) >> 10));
                append_u_escape(out, 0xDC00 + ((code - 0x10000) & 0x3FF));
            } else {
                append_u_escape(out, code);
            }
            continue;
        }
        ++at;
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7F) {
            append_u_escape(out, c);
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
}

}  // namespace

std::string event_labels_json(const std::vector<std::pair<std::string, std::string>>& labels) {
    if (labels.empty()) return {};
    std::string json = "{";
    for (const auto& [key, value] : labels) {
        if (json.size() > 1) json += ',';
        append_json_string(json, key);
        json += ':';
        append_json_string(json, value);
    }
    json += '}';
    return json;
}

SinkFormat parse_format(std::string_view text) {
    if (text == "ndjson") return SinkFormat::ndjson;
    if (text == "json") return SinkFormat::json;
    if (text == "csv") return SinkFormat::csv;
    if (text == "text") return SinkFormat::text;
    throw ValueError(concat("expected ndjson, json, csv or text, got ", quoted(text)));
}

std::string_view format_name(SinkFormat format) {
    switch (format) {
        case SinkFormat::ndjson: return "ndjson";
        case SinkFormat::json: return "json";
        case SinkFormat::csv: return "csv";
        case SinkFormat::text: return "text";
    }
    return "ndjson";
}

EdgeMode parse_edge(std::string_view text) {
    if (text == "auto") return EdgeMode::automatic;
    if (text == "on" || text == "true") return EdgeMode::on;
    if (text == "off" || text == "false") return EdgeMode::off;
    throw ValueError(concat("expected auto, on or off, got ", quoted(text)));
}

std::string_view edge_name(EdgeMode mode) {
    switch (mode) {
        case EdgeMode::automatic: return "auto";
        case EdgeMode::on: return "on";
        case EdgeMode::off: return "off";
    }
    return "auto";
}

bool is_axiom_edge_host(std::string_view host) {
    constexpr std::string_view suffix = ".edge.axiom.co";
    if (host.size() <= suffix.size()) return false;
    const auto tail = host.substr(host.size() - suffix.size());
    return std::ranges::equal(tail, suffix, [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == static_cast<unsigned char>(b);
    });
}

std::uint64_t parse_byte_size(std::string_view text) {
    std::uint64_t number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (text.empty() || error != std::errc{} || end == text.data()) {
        throw ValueError(concat("expected a byte count such as 65536, 512KiB or 10MiB, got ", quoted(text)));
    }
    std::string_view unit = text.substr(static_cast<std::size_t>(end - text.data()));
    while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
    struct Unit {
        std::string_view name;
        std::uint64_t factor;
    };
    constexpr Unit units[] = {{"", 1},           {"B", 1},          {"KiB", 1ull << 10}, {"MiB", 1ull << 20},
                              {"GiB", 1ull << 30}, {"KB", 1000},      {"MB", 1'000'000},   {"GB", 1'000'000'000},
                              {"k", 1ull << 10},  {"K", 1ull << 10}, {"M", 1ull << 20},   {"G", 1ull << 30}};
    const auto found = std::ranges::find(units, unit, &Unit::name);
    if (found == std::end(units)) {
        throw ValueError(concat("unknown size unit ", quoted(unit), " in ", quoted(text),
                                "; use B, KiB, MiB, GiB (1024s) or KB, MB, GB (1000s)"));
    }
    if (number > UINT64_MAX / found->factor) throw ValueError(concat(quoted(text), " is too large"));
    return number * found->factor;
}

std::uint64_t check_batch_bytes(std::uint64_t bytes) {
    if (bytes < batch_bytes_range.min || bytes > batch_bytes_range.max) {
        throw ValueError(concat("must be between ", batch_bytes_range.min, " (64 KiB, one event of the largest size) and ",
                                batch_bytes_range.max, " (256 MiB) bytes, got ", bytes));
    }
    return bytes;
}

std::uint64_t check_rotate_bytes(std::uint64_t bytes) {
    if (bytes != 0 && bytes < rotate_bytes_min) {
        throw ValueError(concat("must be 0 (never rotate) or at least ", rotate_bytes_min, " (64 KiB), got ", bytes));
    }
    return bytes;
}

void check_event_label(std::string_view key, std::string_view value) {
    if (key.empty()) throw ValueError("an event label needs a name: write NAME=VALUE");
    if (key.size() > event_label_key_bytes_max) {
        throw ValueError(concat("event label name ", quoted(key), " is longer than Axiom's ", event_label_key_bytes_max,
                                " bytes for a field name"));
    }
    if (key.front() == '_') {
        throw ValueError(concat("event label name ", quoted(key), " starts with '_', which Axiom reserves for its own fields"));
    }
    if (has_control(key)) throw ValueError(concat("event label name ", quoted(key), " holds a control character"));
    if (!valid_utf8(key) || !valid_utf8(value)) {
        throw ValueError(concat("event label ", quoted(key), " is not valid UTF-8"));
    }
}

void check_event_labels(const std::vector<std::pair<std::string, std::string>>& labels) {
    for (std::size_t i = 0; i < labels.size(); ++i) {
        check_event_label(labels[i].first, labels[i].second);
        for (std::size_t j = 0; j < i; ++j) {
            if (labels[j].first == labels[i].first) {
                throw ValueError(concat("event label ", quoted(labels[i].first), " is given twice"));
            }
        }
    }
    const auto bytes = event_labels_json(labels).size();
    if (bytes > event_labels_json_bytes_max) {
        throw ValueError(concat("the event labels come to ", bytes, " bytes of X-Axiom-Event-Labels; at most ",
                                event_labels_json_bytes_max, " fit the request head"));
    }
}

std::vector<std::pair<std::string, std::string>> parse_event_labels(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> labels;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view entry = text.substr(0, comma);
        const auto equals = entry.find('=');
        if (equals == std::string_view::npos) {
            throw ValueError(concat("expected NAME=VALUE[,NAME=VALUE...], got ", quoted(entry)));
        }
        labels.emplace_back(std::string(entry.substr(0, equals)), std::string(entry.substr(equals + 1)));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
        if (text.empty()) throw ValueError("a trailing ',' after the last label");
    }
    check_event_labels(labels);
    return labels;
}

}  // namespace supervent::config::detail
