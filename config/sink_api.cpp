// HTTP log APIs by preset: the sink URL's scheme names the API in front of
// the transport, API+http://… or API+https://…, and a query carries the
// preset's options:
//
//   elasticsearch+https://es.example:9200        (opensearch+… is the same)
//   loki+http://loki:3100?labels=source,event_type,attributes.status&tenant=team-a
//   splunk+https://hec.example:8088?sourcetype=_json&index=main
//   splunk+https://hec.example:8088?ack=true&ack_interval=1s&ack_timeout=60s
//   otlp+http://collector:4318                   (?encoding=protobuf: application/x-protobuf bodies)
//   datadog+https://http-intake.logs.datadoghq.eu
//
// One string says where and how, so the same scenario goes to another
// platform by changing --sink alone. Options are checked here, naming the
// option, so --check-config and the daemon refuse a bad one before any
// connection. docs/sinks.md lists them.
#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <set>

#include "config/values.hpp"

namespace supervent::config::detail {
namespace {

// The port a URL without one gets: the API's customary one (0 = the scheme's, 80 or 443).
struct ApiScheme {
    std::string_view name;
    SinkApi api;
    std::uint16_t port;
};
constexpr std::array api_schemes{
    ApiScheme{"elasticsearch", SinkApi::elasticsearch, 9200}, ApiScheme{"opensearch", SinkApi::elasticsearch, 9200},
    ApiScheme{"loki", SinkApi::loki, 3100},                   ApiScheme{"splunk", SinkApi::splunk, 8088},
    ApiScheme{"otlp", SinkApi::otlp, 4318},                   ApiScheme{"datadog", SinkApi::datadog, 0},
};
constexpr std::string_view api_list = "elasticsearch, opensearch, loki, splunk, otlp or datadog";
constexpr std::size_t labels_max = 15;  // Loki's default max_label_names_per_series is 15
constexpr std::size_t option_value_bytes_max = 200;

bool is_path_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.'; }
bool is_plain_char(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte < 0x7f && c != '"' && c != '\\';
}

std::string label_name_of(std::string_view path) {
    const auto dot = path.rfind('.');
    return std::string(dot == std::string_view::npos ? path : path.substr(dot + 1));
}

void check_loki_labels(std::string_view value) {
    std::set<std::string> names;
    bool always_present = false;
    std::size_t count = 0;
    std::size_t start = 0;
    for (;;) {
        const auto comma = value.find(',', start);
        const std::string_view path = value.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (path.empty() || path.front() == '.' || path.back() == '.' || !std::ranges::all_of(path, is_path_char)) {
            throw ValueError(concat("loki option labels: ", quoted(path),
                                    " is not a member path (letters, digits, '_', parts joined by '.', as in attributes.status)"));
        }
        if (!names.insert(label_name_of(path)).second) {
            throw ValueError(concat("loki option labels: two labels would be named ", quoted(label_name_of(path)),
                                    " (a label is named after its path's last part)"));
        }
        always_present = always_present || path == "source" || path == "event_type";
        ++count;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    if (count > labels_max) throw ValueError(concat("loki option labels: at most ", labels_max, " labels (Loki's default limit)"));
    if (!always_present) {
        throw ValueError("loki option labels must include source or event_type, which every event has: a stream needs a label");
    }
}

bool is_guid(std::string_view text) {
    if (text.size() != 36) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : std::isxdigit(static_cast<unsigned char>(text[i])) == 0) return false;
    }
    return true;
}

// HEC acks: how often a worker polls its channel (Splunk asks clients not to
// hammer /services/collector/ack), and how long a batch waits for its ack.
constexpr double ack_interval_s_min = 0.01, ack_interval_s_max = 60;
constexpr double ack_timeout_s_min = 1, ack_timeout_s_max = 3600;

void check_ack_duration(std::string_view key, std::string_view value) {
    double seconds = 0;
    try {
        seconds = parse_duration(value);
    } catch (const ValueError&) {
        throw ValueError(concat("splunk option ", key, ": ", quoted(value), " is not a duration (as in 500ms, 2s, 1m)"));
    }
    const bool interval = key == "ack_interval";
    const double low = interval ? ack_interval_s_min : ack_timeout_s_min;
    const double high = interval ? ack_interval_s_max : ack_timeout_s_max;
    if (seconds < low || seconds > high) {
        throw ValueError(concat("splunk option ", key, ": ", quoted(value), " is outside ", interval ? "10ms" : "1s", " to ",
                                interval ? "60s" : "1h"));
    }
}

// Options that only make sense together.
void check_option_pairs(SinkApi api, const std::vector<std::pair<std::string, std::string>>& options) {
    if (api != SinkApi::splunk) return;
    const auto value_of = [&](std::string_view key) -> std::string_view {
        for (const auto& [name, value] : options) {
            if (name == key) return value;
        }
        return {};
    };
    if (value_of("ack") != "true") {
        for (std::string_view key : {"ack_interval", "ack_timeout"}) {
            if (!value_of(key).empty()) throw ValueError(concat("splunk option ", key, " needs ack=true"));
        }
        return;
    }
    const std::string_view interval = value_of("ack_interval");
    const std::string_view timeout = value_of("ack_timeout");
    if (!interval.empty() && !timeout.empty() && parse_duration(timeout) <= parse_duration(interval)) {
        throw ValueError(concat("splunk option ack_timeout (", timeout, ") must be longer than ack_interval (", interval, ")"));
    }
}

// One option of one API: known, and its value of the right form.
void check_option(SinkApi api, std::string_view key, std::string_view value) {
    const std::string_view name = sink_api_name(api);
    if (value.empty() || value.size() > option_value_bytes_max || !std::ranges::all_of(value, is_plain_char)) {
        throw ValueError(concat(name, " option ", key, ": the value must be 1 to ", option_value_bytes_max,
                                " printable ASCII characters without spaces, quotes or backslashes"));
    }
    if (api == SinkApi::loki) {
        if (key == "labels") return check_loki_labels(value);
        if (key == "line") {
            if (value != "event" && value != "message") throw ValueError("loki option line: expected event or message");
            return;
        }
        if (key == "tenant") return;  // X-Scope-OrgID
        throw ValueError(concat("loki sink: unknown option ", quoted(key), "; known: labels, line, tenant"));
    }
    if (api == SinkApi::splunk) {
        if (key == "sourcetype" || key == "index") return;
        if (key == "ack") {
            if (value != "true" && value != "false") throw ValueError("splunk option ack: expected true or false");
            return;
        }
        if (key == "ack_interval" || key == "ack_timeout") return check_ack_duration(key, value);
        if (key == "channel") {
            if (!is_guid(value)) throw ValueError("splunk option channel: expected a GUID (8-4-4-4-12 hex digits)");
            return;
        }
        throw ValueError(concat("splunk sink: unknown option ", quoted(key),
                                "; known: sourcetype, index, channel, ack, ack_interval, ack_timeout"));
    }
    if (api == SinkApi::otlp) {
        if (key == "encoding") {
            if (value != "json" && value != "protobuf") throw ValueError("otlp option encoding: expected json or protobuf");
            return;
        }
        throw ValueError(concat("otlp sink: unknown option ", quoted(key), "; known: encoding"));
    }
    throw ValueError(concat(name, " sink takes no options (got ", quoted(key), "); the dataset names the ",
                            api == SinkApi::elasticsearch ? "index" : "nothing", " and the URL the endpoint"));
}

std::vector<std::pair<std::string, std::string>> parse_options(SinkApi api, std::string_view query) {
    std::vector<std::pair<std::string, std::string>> options;
    std::size_t start = 0;
    while (start <= query.size()) {
        const auto amp = query.find('&', start);
        const std::string_view pair = query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
        const auto equals = pair.find('=');
        if (equals == std::string_view::npos || equals == 0) {
            throw ValueError(concat("sink URL option ", quoted(pair), " must be key=value"));
        }
        const std::string_view key = pair.substr(0, equals);
        const std::string_view value = pair.substr(equals + 1);
        for (const auto& [seen, _] : options) {
            if (seen == key) throw ValueError(concat("sink URL option ", quoted(key), " is given twice"));
        }
        check_option(api, key, value);
        options.emplace_back(key, value);
        if (amp == std::string_view::npos) break;
        start = amp + 1;
    }
    check_option_pairs(api, options);
    return options;
}

}  // namespace

std::string_view sink_api_name(SinkApi api) {
    switch (api) {
        case SinkApi::axiom: return "axiom";
        case SinkApi::elasticsearch: return "elasticsearch";
        case SinkApi::loki: return "loki";
        case SinkApi::splunk: return "splunk";
        case SinkApi::otlp: return "otlp";
        case SinkApi::datadog: return "datadog";
    }
    return "axiom";
}

std::optional<SinkUrl> parse_api_sink(std::string_view scheme, std::string_view rest, HttpUrlParser parse_http) {
    const auto plus = scheme.find('+');
    if (plus == std::string_view::npos) return std::nullopt;
    const std::string_view transport = scheme.substr(plus + 1);
    if (transport != "http" && transport != "https") return std::nullopt;  // another kind's (syslog+tcp, …)
    const std::string_view api_name = scheme.substr(0, plus);
    const auto found = std::ranges::find(api_schemes, api_name, &ApiScheme::name);
    if (found == api_schemes.end()) {
        throw ValueError(concat("sink URL scheme ", quoted(scheme), " names no HTTP log API; expected ", api_list,
                                ", as in elasticsearch+https://HOST:9200"));
    }
    if (!rest.starts_with("//")) {
        throw ValueError(concat("sink URL ", scheme, ": must be followed by //HOST, as in ", scheme, "://localhost"));
    }
    rest.remove_prefix(2);
    if (rest.find('#') != std::string_view::npos) throw ValueError("sink URL must not have a fragment (#…)");
    const auto question = rest.find('?');
    const bool https = transport == "https";
    const std::uint16_t port = found->port != 0 ? found->port : https ? 443 : 80;
    SinkUrl url = parse_http(rest.substr(0, question), https ? SinkUrl::Kind::https : SinkUrl::Kind::http, port);
    url.api = found->api;
    if (question != std::string_view::npos) url.api_options = parse_options(url.api, rest.substr(question + 1));
    return url;
}

}  // namespace supervent::config::detail
