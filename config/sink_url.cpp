// Sink URLs: where batches go. The parse is strict because the host, port and
// prefix end up in every HTTP request head the framer writes.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "config/load.hpp"
#include "config/postgres_url.hpp"
#include "config/values.hpp"

namespace supervent::config {

namespace {

using detail::concat;
using detail::quoted;
using detail::ValueError;

constexpr std::string_view accepted_forms =
    "http://HOST[:PORT][/PREFIX], https://HOST[:PORT][/PREFIX], file:PATH, stdout:, discard:, "
    "postgresql://USER@HOST[:PORT]/DB?table=NAME, syslog+tcp://HOST[:PORT][?OPTIONS], syslog+tls://… or syslog+udp://…";
constexpr std::size_t host_bytes_max = 253;  // the longest DNS name

bool is_host_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
}

// Bytes that cannot appear in an HTTP request line.
bool is_forbidden_in_http(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte >= 0x7f;
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::uint16_t parse_port(std::string_view text) {
    std::uint64_t port = 0;
    try {
        port = detail::parse_uint(text);
    } catch (const ValueError&) {
        port = 0;
    }
    if (port < 1 || port > 65535) {
        throw ValueError(concat("sink URL port ", quoted(text), " must be a number from 1 to 65535"));
    }
    return static_cast<std::uint16_t>(port);
}

// "[v6]" or "[v6]:port" -> host and the text after ']'.
std::string_view split_bracketed_host(std::string_view authority, std::string& host) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
        throw ValueError(concat("sink URL IPv6 address ", quoted(authority), " is missing its closing ']'"));
    }
    host = std::string(authority.substr(1, close - 1));
    in6_addr address{};
    if (inet_pton(AF_INET6, host.c_str(), &address) != 1) {
        throw ValueError(concat("sink URL host ", quoted(host), " is not a valid IPv6 address"));
    }
    return authority.substr(close + 1);
}

// "name" or "name:port" -> host and the text from ':' on.
std::string_view split_named_host(std::string_view authority, std::string& host) {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos) {
        throw ValueError("sink URL IPv6 addresses must be in brackets, as in http://[::1]:8080");
    }
    host = std::string(authority.substr(0, colon));
    if (host.empty()) {
        throw ValueError(concat("sink URL has no host; expected ", accepted_forms));
    }
    if (host.size() > host_bytes_max || !std::ranges::all_of(host, is_host_char)) {
        throw ValueError(concat("sink URL host ", quoted(host),
                                " must be a name or address of letters, digits, '.', '-' and '_'"));
    }
    return colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
}

void parse_authority(std::string_view authority, SinkUrl& url) {
    if (authority.find('@') != std::string_view::npos) {
        // Not quoted: the part before '@' is likely a password.
        throw ValueError(
            "sink URL must not carry user information (user:password@); give the token through AXIOM_TOKEN, "
            "--token-file or a systemd credential");
    }
    const auto rest = authority.starts_with('[') ? split_bracketed_host(authority, url.host)
                                                 : split_named_host(authority, url.host);
    if (rest.empty()) {
        return;
    }
    if (rest.front() != ':') {
        throw ValueError(concat("sink URL has ", quoted(rest), " after the host; expected ':PORT' or '/PREFIX'"));
    }
    url.port = parse_port(rest.substr(1));
}

// "/prefix/" -> "/prefix": the framer appends "/v1/datasets/…" to it.
std::string parse_prefix(std::string_view path) {
    if (std::ranges::any_of(path, is_forbidden_in_http)) {
        throw ValueError("sink URL path must not contain spaces, control characters or non-ASCII bytes");
    }
    while (path.ends_with('/')) {
        path.remove_suffix(1);
    }
    return std::string(path);
}

SinkUrl parse_http(std::string_view rest, SinkUrl::Kind kind, std::uint16_t default_port) {
    if (rest.find_first_of("?#") != std::string_view::npos) {
        throw ValueError(
            "sink URL must not have a query (?…) or fragment (#…): supervent builds the ingest path itself");
    }
    SinkUrl url;
    url.kind = kind;
    url.port = default_port;
    const auto slash = rest.find('/');
    parse_authority(rest.substr(0, slash), url);
    if (slash != std::string_view::npos) {
        url.path_prefix = parse_prefix(rest.substr(slash));
    }
    return url;
}

SinkUrl parse_file(std::string_view path) {
    // file:///abs/path is the common URL spelling of file:/abs/path.
    if (path.starts_with("//")) {
        if (!path.starts_with("///")) {
            throw ValueError("file:// URLs must name no host: write file:/abs/path, file:///abs/path or file:rel/path");
        }
        path.remove_prefix(2);
    }
    if (path.empty()) {
        throw ValueError("file: sink needs a path, as in file:/var/tmp/events.ndjson");
    }
    if (path.find('\0') != std::string_view::npos) {
        throw ValueError("file: sink path must not contain a NUL byte");
    }
    SinkUrl url;
    url.kind = SinkUrl::Kind::file;
    url.file_path = std::string(path);
    return url;
}

// ---- syslog+tcp|tls|udp://HOST[:PORT][?key=value&…] (docs/sinks/syslog.md)

// Checks an SD-ID (RFC 5424 §6.3.2: SD-NAME "@" enterprise number); returns
// what is wrong, or an empty string. The syslog transport trusts it.
std::string sd_id_problem(std::string_view sd_id) {
    if (sd_id.empty() || sd_id.size() > 32) return "must be 1 to 32 characters";
    for (const char c : sd_id) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 33 || byte > 126 || c == '=' || c == ']' || c == '"') {
            return "may hold only printable ASCII without '=', ']', '\"' or spaces";
        }
    }
    const auto at = sd_id.find('@');
    if (at == std::string_view::npos) return "needs '@' and an enterprise number (NAME@32473): names without '@' are "
                                              "reserved for IANA (RFC 5424 §6.3.2)";
    if (at == 0 || at + 1 == sd_id.size() || sd_id.find('@', at + 1) != std::string_view::npos) {
        return "must be NAME@NUMBER";
    }
    for (const char c : sd_id.substr(at + 1)) {
        if ((c < '0' || c > '9') && c != '.') return "must end in an enterprise number (digits and dots) after '@'";
    }
    return {};
}

std::uint8_t parse_facility(std::string_view text) {
    static constexpr std::string_view names[] = {"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
                                                 "uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
                                                 "local0", "local1", "local2", "local3", "local4", "local5", "local6",
                                                 "local7"};
    for (std::size_t i = 0; i < std::size(names); ++i) {
        if (names[i] == text) return static_cast<std::uint8_t>(i);
    }
    std::uint64_t number = 24;
    try {
        number = detail::parse_uint(text);
    } catch (const ValueError&) {
    }
    if (number > 23) {
        throw ValueError(concat("syslog sink option facility=", quoted(text),
                                " must be 0 to 23 or a name (kern, user, daemon, local0 … local7)"));
    }
    return static_cast<std::uint8_t>(number);
}

void parse_syslog_option(std::string_view key, std::string_view value, SinkUrl& url) {
    SyslogUrlOptions& options = url.syslog;
    if (key == "format") {
        if (value != "rfc5424" && value != "rfc3164") {
            throw ValueError(concat("syslog sink option format=", quoted(value), " must be rfc5424 or rfc3164"));
        }
        options.rfc3164 = value == "rfc3164";
        if (options.rfc3164) options.newline_framing = true;  // what RFC 3164 receivers read; framing= may say otherwise
    } else if (key == "framing") {
        if (value != "octet-counting" && value != "newline") {
            throw ValueError(concat("syslog sink option framing=", quoted(value), " must be octet-counting or newline"));
        }
        if (url.kind == SinkUrl::Kind::syslog_udp) {
            throw ValueError("syslog sink option framing= is for syslog+tcp and syslog+tls: UDP sends one message per datagram");
        }
        options.newline_framing = value == "newline";
    } else if (key == "facility") {
        options.facility = parse_facility(value);
    } else if (key == "hostname") {
        if (value.empty() || value.size() > 255 || !std::ranges::all_of(value, [](char c) { return c > 0x20 && c < 0x7f; })) {
            throw ValueError(concat("syslog sink option hostname=", quoted(value),
                                    " must be 1 to 255 printable ASCII characters without spaces"));
        }
        options.hostname = std::string(value);
    } else if (key == "sd_id") {
        if (const std::string problem = sd_id_problem(value); !problem.empty()) {
            throw ValueError(concat("syslog sink option sd_id=", quoted(value), " ", problem));
        }
        options.sd_id = std::string(value);
    } else {
        throw ValueError(concat("unknown syslog sink option ", quoted(key),
                                "; known: format, framing, facility, hostname, sd_id"));
    }
}

SinkUrl parse_syslog(std::string_view rest, SinkUrl::Kind kind, std::uint16_t default_port) {
    const auto question = rest.find('?');
    const std::string_view authority = rest.substr(0, question);
    if (authority.find_first_of("/#") != std::string_view::npos) {
        throw ValueError(concat("syslog sink URL ", quoted(authority), " must be HOST[:PORT] with no path"));
    }
    SinkUrl url;
    url.kind = kind;
    url.port = default_port;
    parse_authority(authority, url);
    std::string_view query = question == std::string_view::npos ? std::string_view{} : rest.substr(question + 1);
    bool framing_given = false;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        const auto equals = pair.find('=');
        if (equals == std::string_view::npos) {
            throw ValueError(concat("syslog sink option ", quoted(pair), " needs a value (key=value)"));
        }
        const std::string_view key = pair.substr(0, equals);
        const bool keep_framing = key == "format" && framing_given;  // ?framing=…&format=… keeps the framing asked for
        const bool framing = url.syslog.newline_framing;
        parse_syslog_option(key, pair.substr(equals + 1), url);
        if (keep_framing) url.syslog.newline_framing = framing;
        framing_given = framing_given || key == "framing";
    }
    return url;
}

SinkUrl parse_bare(std::string_view scheme, std::string_view rest, SinkUrl::Kind kind) {
    if (!rest.empty()) {
        throw ValueError(concat("sink URL ", scheme, ": takes nothing after the colon, got ", quoted(rest)));
    }
    SinkUrl url;
    url.kind = kind;
    return url;
}

// The URL is libpq's to read at connect time; parse_postgres_url checks it now.
SinkUrl parse_postgres(std::string_view text) {
    PostgresUrl postgres;
    try {
        postgres = parse_postgres_url(text);
    } catch (const std::invalid_argument& error) {
        throw ValueError(error.what());
    }
    SinkUrl url;
    url.kind = SinkUrl::Kind::postgresql;
    url.host = postgres.host;
    url.port = postgres.port;
    return url;
}

SinkUrl parse_by_scheme(std::string_view text) {
    const auto colon = text.find(':');
    const auto scheme = lowercase(text.substr(0, colon));
    const auto rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
    if (colon != std::string_view::npos) {
        if (std::optional<SinkUrl> url = detail::parse_api_sink(scheme, rest, parse_http)) return *std::move(url);
        if (scheme == "http" && rest.starts_with("//")) return parse_http(rest.substr(2), SinkUrl::Kind::http, 80);
        if (scheme == "https" && rest.starts_with("//")) return parse_http(rest.substr(2), SinkUrl::Kind::https, 443);
        if (scheme == "file") return parse_file(rest);
        if (scheme == "stdout") return parse_bare(scheme, rest, SinkUrl::Kind::stdout_stream);
        if (scheme == "discard") return parse_bare(scheme, rest, SinkUrl::Kind::discard);
        if (scheme == "postgresql" || scheme == "postgres") return parse_postgres(text);
        if (scheme == "syslog+tcp" && rest.starts_with("//")) return parse_syslog(rest.substr(2), SinkUrl::Kind::syslog_tcp, 514);
        if (scheme == "syslog+tls" && rest.starts_with("//")) return parse_syslog(rest.substr(2), SinkUrl::Kind::syslog_tls, 6514);
        if (scheme == "syslog+udp" && rest.starts_with("//")) return parse_syslog(rest.substr(2), SinkUrl::Kind::syslog_udp, 514);
    }
    throw ValueError(concat("unsupported sink URL ", quoted(text), "; expected ", accepted_forms));
}

}  // namespace

namespace detail {

SinkUrl parse_sink(std::string_view text) {
    if (text.empty()) {
        throw ValueError(concat("sink URL is empty; expected ", accepted_forms));
    }
    if (text.size() > bounds::url_bytes_max) {
        throw ValueError(
            concat("sink URL is ", text.size(), " bytes; at most ", bounds::url_bytes_max, " are allowed"));
    }
    SinkUrl url = parse_by_scheme(text);
    url.text = std::string(text);
    return url;
}

}  // namespace detail

SinkUrl parse_sink_url(std::string_view text) {
    try {
        return detail::parse_sink(text);
    } catch (const ValueError& error) {
        throw ConfigError(error.what());
    }
}

}  // namespace supervent::config
