// postgresql:// sink URLs: see postgres_url.hpp. The URI goes to libpq as it
// is, less supervent's own parameters; what is checked here is what libpq
// would only say at connect time, or what must never be in a URL at all.
#include "config/postgres_url.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

namespace supervent::config {

namespace {

constexpr std::string_view accepted_form = "postgresql://USER@HOST[:PORT]/DB?table=NAME";
constexpr std::size_t identifier_bytes_max = 63;  // PostgreSQL's NAMEDATALEN - 1

// libpq connection parameters a URL may carry besides supervent's own
// (https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-PARAMKEYWORDS).
// dbname, user and password are not among them: the first two have their
// place in the URL, the password has none.
constexpr std::array<std::string_view, 24> libpq_parameters = {
    "host", "hostaddr", "port", "passfile", "connect_timeout", "client_encoding", "options",
    "application_name", "fallback_application_name", "keepalives", "keepalives_idle",
    "keepalives_interval", "keepalives_count", "tcp_user_timeout", "sslmode", "sslcompression",
    "sslcert", "sslkey", "sslrootcert", "sslcrl", "requirepeer", "gssencmode", "channel_binding",
    "target_session_attrs"};

std::invalid_argument problem(std::string_view what) {
    return std::invalid_argument("postgresql sink URL " + std::string(what));
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// %XX decoding, as libpq does for every part of a URI.
std::string percent_decoded(std::string_view text, std::string_view part) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        const bool whole = i + 2 < text.size();
        const int high = whole ? hex_value(text[i + 1]) : -1;
        const int low = whole ? hex_value(text[i + 2]) : -1;
        if (high < 0 || low < 0) throw problem("has a bad %-escape in its " + std::string(part));
        const char byte = static_cast<char>(high * 16 + low);
        if (byte == '\0') throw problem("must not hold a NUL byte (%00) in its " + std::string(part));
        out += byte;
        i += 2;
    }
    return out;
}

bool is_identifier_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
}

std::string part_problem(std::string_view part) {
    if (part.empty()) return "has an empty part";
    if (part.size() > identifier_bytes_max) return "has a part longer than 63 bytes";
    if (!std::ranges::all_of(part, is_identifier_char)) return "may hold only letters, digits, '_' and '-'";
    if (std::isdigit(static_cast<unsigned char>(part.front())) != 0 || part.front() == '-') {
        return "must start with a letter or '_'";
    }
    return {};
}

// USER@HOST[:PORT], USER@[V6]:PORT, HOST, or nothing (libpq's defaults).
void parse_authority(std::string_view authority, PostgresUrl& url) {
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        const std::string_view user = authority.substr(0, at);
        if (user.find(':') != std::string_view::npos) {
            // Not quoted: what follows ':' is a password.
            throw problem("must not carry a password (USER:PASSWORD@): put it in a password file "
                          "(PGPASSFILE, ~/.pgpass or passfile=PATH in the URL)");
        }
        url.user = percent_decoded(user, "user name");
        if (url.user.empty()) throw problem("has an empty user name before '@'");
        authority.remove_prefix(at + 1);
    }
    if (authority.find(',') != std::string_view::npos) {
        throw problem("names several hosts; give one");
    }
    std::string_view port;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) throw problem("has an IPv6 address without its closing ']'");
        url.host = std::string(authority.substr(1, close - 1));
        const std::string_view rest = authority.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') throw problem("has text after the IPv6 address's ']'");
        if (!rest.empty()) port = rest.substr(1);
    } else {
        const auto colon = authority.find(':');
        url.host = percent_decoded(authority.substr(0, colon), "host");
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    }
    if (!port.empty() || authority.ends_with(':')) {
        const bool digits = !port.empty() && port.size() <= 5 && std::ranges::all_of(port, [](char c) { return c >= '0' && c <= '9'; });
        const int value = digits ? std::stoi(std::string(port)) : 0;
        if (value < 1 || value > 65535) throw problem("port '" + std::string(port) + "' must be a number from 1 to 65535");
        url.port = static_cast<std::uint16_t>(value);
    }
}

// Splits NAME=VALUE&... ; takes supervent's own parameters and returns the
// rest for libpq.
std::string parse_query(std::string_view query, PostgresUrl& url) {
    std::string kept;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        const auto equals = pair.find('=');
        const std::string_view name = pair.substr(0, equals);
        const std::string value =
            equals == std::string_view::npos ? std::string() : percent_decoded(pair.substr(equals + 1), name);
        if (name == "table") {
            if (const std::string why = postgres_table_name_problem(value); !why.empty()) {
                throw problem("table '" + value + "' " + why);
            }
            url.table = value;
            continue;
        }
        if (name == "copy") {
            if (value != "binary" && value != "text") throw problem("copy='" + value + "' must be binary or text");
            url.binary_copy = value == "binary";
            continue;
        }
        if (name == "columns") {
            if (value != "typed" && value != "jsonb") throw problem("columns='" + value + "' must be typed or jsonb");
            url.typed_columns = value == "typed";
            continue;
        }
        if (name == "unlogged") {
            if (value != "true" && value != "false") throw problem("unlogged='" + value + "' must be true or false");
            url.unlogged = value == "true";
            continue;
        }
        if (name == "password") {
            throw problem("must not carry a password: put it in a password file (PGPASSFILE, ~/.pgpass or "
                          "passfile=PATH in the URL)");
        }
        if (name == "dbname" || name == "user") {
            throw problem("gives " + std::string(name) + " as a parameter; write " + std::string(accepted_form));
        }
        if (std::ranges::find(libpq_parameters, name) == libpq_parameters.end()) {
            throw problem("has an unknown parameter '" + std::string(name) + "'; supervent's own are table=NAME, copy=binary|text, "
                          "columns=jsonb|typed and unlogged=true|false, "
                          "the others are libpq's (host, port, passfile, sslmode, connect_timeout, ...)");
        }
        if ((name == "sslmode" || name == "gssencmode") && value != "disable") {
            // The transport speaks the protocol itself once libpq has connected: on a plain socket.
            throw problem("has " + std::string(name) + "=" + value + ", but the postgresql sink speaks to the server "
                          "unencrypted (a local or trusted network); only " + std::string(name) + "=disable is accepted");
        }
        if (name == "host" && !value.empty()) url.host = value;
        kept += kept.empty() ? "" : "&";
        kept += pair;
    }
    return kept;
}

}  // namespace

bool is_postgres_url(std::string_view text) {
    auto starts = [&](std::string_view scheme) {
        return text.size() >= scheme.size() &&
               std::equal(scheme.begin(), scheme.end(), text.begin(),
                          [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
    };
    return starts("postgresql://") || starts("postgres://");
}

std::string postgres_table_name_problem(std::string_view name) {
    if (name.empty()) return "is empty";
    const auto dot = name.find('.');
    if (dot != std::string_view::npos && name.find('.', dot + 1) != std::string_view::npos) {
        return "may have one '.' (SCHEMA.TABLE), not more";
    }
    if (dot != std::string_view::npos) {
        if (std::string why = part_problem(name.substr(0, dot)); !why.empty()) return "(schema) " + why;
        name.remove_prefix(dot + 1);
    }
    return part_problem(name);
}

PostgresUrl parse_postgres_url(std::string_view text) {
    if (!is_postgres_url(text)) throw problem("must start with postgresql:// (or postgres://)");
    std::string_view rest = text.substr(text.find("//") + 2);
    if (rest.find('#') != std::string_view::npos) throw problem("must not have a fragment (#...)");
    if (std::ranges::any_of(text, [](char c) { return static_cast<unsigned char>(c) <= 0x20; })) {
        throw problem("must not contain spaces or control characters");
    }
    PostgresUrl url;
    const auto question = rest.find('?');
    const std::string_view query = question == std::string_view::npos ? std::string_view{} : rest.substr(question + 1);
    rest = rest.substr(0, question);
    const auto slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    parse_authority(authority, url);
    if (slash == std::string_view::npos || slash + 1 == rest.size()) {
        throw problem("names no database; write " + std::string(accepted_form));
    }
    url.database = percent_decoded(rest.substr(slash + 1), "database name");
    if (url.database.find('/') != std::string::npos) throw problem("database name '" + url.database + "' holds a '/'");
    const std::string libpq_query = parse_query(query, url);
    if (url.typed_columns && !url.binary_copy) {
        throw problem("has columns=typed with copy=text: typed columns are written in binary COPY; drop copy=text");
    }
    url.conninfo = std::string(text.substr(0, text.size() - (question == std::string_view::npos ? 0 : query.size() + 1)));
    std::string query_out = libpq_query;
    // libpq would prefer TLS (and GSS encryption) where the server offers it;
    // the transport needs the plain socket (see parse_query).
    for (std::string_view forced : {"sslmode=disable", "gssencmode=disable"}) {
        const std::string_view name = forced.substr(0, forced.find('='));
        if (("&" + libpq_query).find("&" + std::string(name) + "=") == std::string::npos) {
            query_out += (query_out.empty() ? "" : "&") + std::string(forced);
        }
    }
    url.conninfo += "?" + query_out;
    return url;
}

}  // namespace supervent::config
