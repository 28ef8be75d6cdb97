// Sink URLs: where batches go. The parse is strict because the host, port and
// prefix end up in every HTTP request head the framer writes.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "config/load.hpp"
#include "config/values.hpp"

namespace supervent::config {

namespace {

using detail::concat;
using detail::quoted;
using detail::ValueError;

constexpr std::string_view accepted_forms =
    "http://HOST[:PORT][/PREFIX], https://HOST[:PORT][/PREFIX], file:PATH, stdout: or discard:";
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

SinkUrl parse_bare(std::string_view scheme, std::string_view rest, SinkUrl::Kind kind) {
    if (!rest.empty()) {
        throw ValueError(concat("sink URL ", scheme, ": takes nothing after the colon, got ", quoted(rest)));
    }
    SinkUrl url;
    url.kind = kind;
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
