#include "config/values.hpp"

#include <sys/un.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "core/escape.hpp"

namespace supervent::config::detail {

namespace {

constexpr std::size_t quoted_bytes_max = 60;
// sun_path holds the path and its terminating NUL.
constexpr std::size_t socket_path_bytes_max = sizeof(sockaddr_un{}.sun_path) - 1;

bool is_dataset_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

bool is_control(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
}

// A character for a message: itself when printable, else its code.
std::string describe_char(char c) {
    if (is_control(c) || static_cast<unsigned char>(c) >= 0x80) {
        constexpr char hex_digits[] = "0123456789abcdef";
        const auto byte = static_cast<unsigned char>(c);
        return concat("byte 0x", hex_digits[byte >> 4], hex_digits[byte & 0xf]);
    }
    return concat('\'', c, '\'');
}

std::optional<double> parse_double(std::string_view text, std::chars_format format) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, format);
    if (error != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

// Seconds in one unit of a duration term, or 0 for an unknown unit.
double unit_seconds(std::string_view unit) {
    if (unit == "ms") return 0.001;
    if (unit == "s") return 1;
    if (unit == "m") return 60;
    if (unit == "h") return 3600;
    return 0;
}

[[noreturn]] void throw_bad_duration(std::string_view text) {
    throw ValueError(concat("expected seconds or a duration such as 30s, 5m, 1h30m or 250ms, got ", quoted(text)));
}

// Sums "<number><unit>" terms such as "1h30m"; nullopt when `text` is not
// made of such terms.
std::optional<double> sum_duration_terms(std::string_view text) {
    double seconds = 0;
    while (!text.empty()) {
        if (text.front() == '-') {
            return std::nullopt;
        }
        double number = 0;
        const auto [number_end, error] =
            std::from_chars(text.data(), text.data() + text.size(), number, std::chars_format::fixed);
        if (error != std::errc{}) {
            return std::nullopt;
        }
        text.remove_prefix(static_cast<std::size_t>(number_end - text.data()));
        std::size_t unit_bytes = 0;
        while (unit_bytes < text.size() && text[unit_bytes] >= 'a' && text[unit_bytes] <= 'z') {
            ++unit_bytes;
        }
        const double factor = unit_seconds(text.substr(0, unit_bytes));
        if (factor == 0) {
            return std::nullopt;
        }
        seconds += number * factor;
        text.remove_prefix(unit_bytes);
    }
    return seconds;
}

}  // namespace

std::string number_text(double value) {
    // Whole numbers below 2^53 print exactly as integers.
    if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 9e15) {
        return concat(static_cast<std::int64_t>(value));
    }
    std::ostringstream out;
    out.precision(12);
    out << value;
    return out.str();
}

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto byte = static_cast<unsigned char>(text[i]);
        const std::size_t n = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2;
        bool valid = n == 1 || (i + n <= text.size() && byte >= 0xC2 && byte <= 0xF4);
        if (valid && n > 1) {
            try {
                (void)core::escape_text(text.substr(i, n), core::TextContext::raw);  // overlong, surrogate …
            } catch (const std::invalid_argument&) {
                valid = false;
            }
        }
        if (!valid || (n == 1 && is_control(text[i]))) {
            out += '?';
            ++i;
            continue;
        }
        out.append(text, i, n);
        i += n;
    }
    return out;
}

std::string quoted(std::string_view text) {
    // Cut short first: a character the cut splits becomes '?', not half a character.
    std::string out = "'" + printable(text.substr(0, quoted_bytes_max));
    out += text.size() > quoted_bytes_max ? "…'" : "'";
    return out;
}

std::uint64_t parse_uint(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc::result_out_of_range) {
        throw ValueError(concat(quoted(text), " is too large (at most ", UINT64_MAX, ")"));
    }
    if (text.empty() || error != std::errc{} || end != text.data() + text.size()) {
        throw ValueError(concat("expected a non-negative whole number, got ", quoted(text)));
    }
    return value;
}

std::uint64_t check_range(std::uint64_t value, UintRange range) {
    if (value < range.min || value > range.max) {
        throw ValueError(concat("must be from ", range.min, " to ", range.max, ", got ", value));
    }
    return value;
}

std::uint32_t parse_uint32_in(std::string_view text, UintRange range) {
    std::uint64_t value = 0;
    try {
        value = parse_uint(text);
    } catch (const ValueError&) {
        throw ValueError(
            concat("expected a whole number from ", range.min, " to ", range.max, ", got ", quoted(text)));
    }
    return static_cast<std::uint32_t>(check_range(value, range));
}

// Every rate refusal says what is accepted.
std::string rate_range_text() {
    return concat("the range is ", number_text(bounds::rate_eps_min), " to ", number_text(bounds::rate_eps_max),
                  " events/s, or 'unlimited'");
}

double check_rate(double eps) {
    if (!std::isfinite(eps) || eps <= 0) {
        throw ValueError(concat("expected a positive number or 'unlimited' (", rate_range_text(), "), got ",
                                number_text(eps)));
    }
    // Both ends refused with the range, so a typo (1e-3 for 1e3) is seen, not run.
    if (eps < bounds::rate_eps_min) {
        throw ValueError(concat(number_text(eps), " events/s is below the least rate (", rate_range_text(),
                                "); to stop generating, use `supervent-ctl pause`"));
    }
    if (eps > bounds::rate_eps_max) {
        throw ValueError(concat(number_text(eps), " events/s is beyond any machine (", rate_range_text(), ")"));
    }
    return eps;
}

std::optional<double> parse_rate(std::string_view text) {
    if (text == "unlimited") {
        return std::nullopt;
    }
    const auto eps = parse_double(text, std::chars_format::general);
    if (!eps || !std::isfinite(*eps) || *eps <= 0) {
        throw ValueError(concat("expected a positive number or 'unlimited' (", rate_range_text(), "), got ", quoted(text)));
    }
    return check_rate(*eps);
}

double check_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) {
        throw ValueError(concat("expected a non-negative number of seconds, got ", number_text(seconds)));
    }
    if (seconds > duration_s_max) {
        throw ValueError(concat(number_text(seconds), " s is too long (at most ", number_text(duration_s_max), " s); use 0 for no limit"));
    }
    return seconds;
}

double parse_duration(std::string_view text) {
    if (text.empty() || text.front() == '-') {
        throw_bad_duration(text);
    }
    // A bare number is seconds, as in `--duration 30`.
    if (const auto seconds = parse_double(text, std::chars_format::fixed)) {
        return check_duration(*seconds);
    }
    const auto seconds = sum_duration_terms(text);
    if (!seconds) {
        throw_bad_duration(text);
    }
    return check_duration(*seconds);
}

namespace {

bool take_digits(std::string_view& text, std::size_t count, int& out) {
    if (text.size() < count) return false;
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
        value = value * 10 + (text[i] - '0');
    }
    out = value;
    text.remove_prefix(count);
    return true;
}

bool take_char(std::string_view& text, char expected) {
    if (text.empty() || (text.front() != expected && !(expected == 'T' && (text.front() == 't' || text.front() == ' ')))) {
        return false;
    }
    text.remove_prefix(1);
    return true;
}

// Days from 1970-01-01 to the given civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(int year, int month, int day) {
    year -= month <= 2;
    const int era = (year >= 0 ? year : year - 399) / 400;
    const int year_of_era = year - era * 400;
    const int day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return std::int64_t{era} * 146097 + day_of_era - 719468;
}

int days_in_month(int year, int month) {
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

}  // namespace

std::int64_t parse_rfc3339_ns(std::string_view text) {
    const std::string_view original = text;
    auto fail = [&]() -> std::int64_t {
        throw ValueError(concat("expected an RFC 3339 time such as 2026-01-31T00:00:00Z or "
                                "2026-01-31T09:30:00.5+01:00, got ", quoted(original)));
    };
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!take_digits(text, 4, year) || !take_char(text, '-') || !take_digits(text, 2, month) ||
        !take_char(text, '-') || !take_digits(text, 2, day) || !take_char(text, 'T') || !take_digits(text, 2, hour) ||
        !take_char(text, ':') || !take_digits(text, 2, minute) || !take_char(text, ':') ||
        !take_digits(text, 2, second)) {
        return fail();
    }
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
        second > 60) {
        return fail();
    }
    std::int64_t fraction_ns = 0;
    if (!text.empty() && text.front() == '.') {
        text.remove_prefix(1);
        std::int64_t scale = 100'000'000;
        std::size_t digits = 0;
        while (!text.empty() && text.front() >= '0' && text.front() <= '9') {
            fraction_ns += (text.front() - '0') * scale;
            scale /= 10;
            text.remove_prefix(1);
            ++digits;
        }
        if (digits == 0) return fail();
    }
    std::int64_t offset_s = 0;
    if (text == "Z" || text == "z") {
        text.remove_prefix(1);
    } else if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
        const int sign = text.front() == '-' ? -1 : 1;
        text.remove_prefix(1);
        int offset_hours = 0, offset_minutes = 0;
        if (!take_digits(text, 2, offset_hours) || !take_char(text, ':') || !take_digits(text, 2, offset_minutes) ||
            offset_hours > 23 || offset_minutes > 59) {
            return fail();
        }
        offset_s = sign * (offset_hours * 3600 + offset_minutes * 60);
    } else {
        return fail();
    }
    if (!text.empty()) return fail();
    const std::int64_t seconds =
        days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_s;
    // Nanoseconds since 1970 in 64 bits reach from 1677 to 2262; beyond, the product overflowed (UB,
    // a garbage window) until fuzz_yaml found it with end_time 8707-12-09.
    constexpr std::int64_t seconds_max = INT64_MAX / 1'000'000'000 - 1;
    if (seconds > seconds_max || seconds < -seconds_max) {
        throw ValueError(concat("times from 1678 to 2262 are supported (nanoseconds since 1970 in 64 bits), got ",
                                quoted(original)));
    }
    return seconds * 1'000'000'000 + fraction_ns;
}

double check_timeout(double seconds) {
    if (check_duration(seconds) <= 0) {
        throw ValueError("a timeout must be greater than 0 (seconds, or a string such as \"500ms\" or \"30s\")");
    }
    return seconds;
}

double parse_timeout(std::string_view text) { return check_timeout(parse_duration(text)); }

std::string check_bind_entry(std::string_view entry) {
    constexpr std::size_t entry_bytes_max = 64;
    if (entry.empty() || entry.size() > entry_bytes_max) {
        throw ValueError(concat("a bind entry is an IP address or an interface name of 1 to ", entry_bytes_max,
                                " bytes, got ", quoted(entry)));
    }
    for (char c : entry) {
        if (c <= ' ' || c == '/' || static_cast<unsigned char>(c) >= 0x7f) {
            throw ValueError(concat("a bind entry is an IP address or an interface name, got ", quoted(entry)));
        }
    }
    return std::string(entry);
}

std::vector<std::string> parse_bind_list(std::string_view text) {
    std::vector<std::string> entries;
    while (true) {
        const auto comma = text.find(',');
        entries.push_back(check_bind_entry(text.substr(0, comma)));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    if (entries.size() > bounds::local_addresses_max) {
        throw ValueError(concat("at most ", bounds::local_addresses_max, " bind entries, got ", entries.size()));
    }
    return entries;
}

Compression parse_compression(std::string_view text) {
    // Levels beyond 19 need a lot of memory per context for little gain on
    // logs; below -7 the ratio collapses.
    constexpr int level_min = -7;
    constexpr int level_max = 19;
    if (text == "none") return Compression{};
    // Plain zstd is zstd:fast, level 1 tuned (BENCHMARKS.md, "zstd: the
    // speed/ratio frontier"); zstd:N is level N exactly as the zstd CLI's.
    if (text == "zstd" || text == "zstd:fast") return Compression{true, 1, false, true};
    if (text.starts_with("zstd:")) {
        const std::string_view level_text = text.substr(5);
        int level = 0;
        const bool negative = level_text.starts_with('-');
        const std::string_view digits = negative ? level_text.substr(1) : level_text;
        const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), level);
        if (!digits.empty() && error == std::errc() && end == digits.data() + digits.size()) {
            level = negative ? -level : level;
            if (level >= level_min && level <= level_max && level != 0) return Compression{true, level};
        }
        throw ValueError(concat("zstd level must be a whole number from ", level_min, " to ", level_max,
                                " other than 0 (negative = faster), got ", quoted(level_text)));
    }
    if (text == "gzip") return Compression{false, 1, true};  // level 1: gzip's fastest, as zstd's default is
    if (text.starts_with("gzip:")) {
        const std::string_view level_text = text.substr(5);
        int level = 0;
        const auto [end, error] = std::from_chars(level_text.data(), level_text.data() + level_text.size(), level);
        if (!level_text.empty() && error == std::errc() && end == level_text.data() + level_text.size() && level >= 1 &&
            level <= 9) {
            return Compression{false, level, true};
        }
        throw ValueError(concat("gzip level must be a whole number from 1 to 9, got ", quoted(level_text)));
    }
    throw ValueError(
        concat("expected 'none', 'zstd', 'zstd:LEVEL', 'zstd:fast', 'gzip' or 'gzip:LEVEL', got ", quoted(text)));
}

std::string compression_name(const Compression& compression) {
    if (compression.gzip) return "gzip:" + std::to_string(compression.level);
    if (compression.zstd && compression.zstd_fast) return "zstd:fast";
    return compression.zstd ? "zstd:" + std::to_string(compression.level) : "none";
}

ZeroCopyMode parse_zero_copy(std::string_view text) {
    if (text == "auto") return ZeroCopyMode::automatic;
    if (text == "on") return ZeroCopyMode::on;
    if (text == "off") return ZeroCopyMode::off;
    throw ValueError(concat("expected 'auto', 'on' or 'off', got ", quoted(text)));
}

std::string_view zero_copy_name(ZeroCopyMode mode) {
    switch (mode) {
        case ZeroCopyMode::automatic: return "auto";
        case ZeroCopyMode::on: return "on";
        case ZeroCopyMode::off: return "off";
    }
    return "auto";
}

std::string check_dataset(std::string_view name) {
    if (name.empty()) {
        throw ValueError("dataset name must not be empty");
    }
    if (name.size() > bounds::dataset_name_bytes_max) {
        throw ValueError(
            concat("dataset name is ", name.size(), " bytes; at most ", bounds::dataset_name_bytes_max, " are allowed"));
    }
    for (std::size_t index = 0; index < name.size(); ++index) {
        if (!is_dataset_char(name[index])) {
            throw ValueError(concat("dataset name may only contain letters, digits, '.', '_' and '-'; found ",
                                    describe_char(name[index]), " at position ", index + 1, " of ", quoted(name)));
        }
    }
    return std::string(name);
}

std::string check_socket_path(std::string_view path) {
    if (path.size() > socket_path_bytes_max) {
        throw ValueError(concat("socket path is ", path.size(), " bytes; a Unix socket path holds at most ",
                                socket_path_bytes_max));
    }
    if (path.find('\0') != std::string_view::npos) {
        throw ValueError("socket path must not contain a NUL byte");
    }
    return std::string(path);
}

std::string check_checkpoint_path(std::string_view path) {
    if (path.empty()) throw ValueError("the checkpoint path must not be empty");
    if (path.find('\0') != std::string_view::npos) throw ValueError("the checkpoint path must not contain a NUL byte");
    if (path.back() == '/') throw ValueError(concat("the checkpoint path names a file, not a directory: ", quoted(path)));
    return std::string(path);
}

std::string check_scenario(std::string_view name) {
    if (name.empty()) {
        throw ValueError("scenario name must not be empty");
    }
    for (const char c : name) {
        if (is_control(c)) {
            throw ValueError(concat("scenario name must not contain control characters (", describe_char(c), ")"));
        }
    }
    return std::string(name);
}

std::string check_log_format(std::string_view name) {
    for (const std::string_view format : {"auto", "plain", "journal", "json"}) {
        if (name == format) return std::string(name);
    }
    throw ValueError(concat("expected auto, plain, journal or json, got ", quoted(name)));
}

std::string check_log_level(std::string_view name) {
    for (const std::string_view level : {"error", "warning", "notice", "info", "debug"}) {
        if (name == level) return std::string(name);
    }
    throw ValueError(concat("expected error, warning, notice, info or debug, got ", quoted(name)));
}

std::string check_listen(std::string_view text) {
    if (text.empty()) return {};
    std::string_view host = "127.0.0.1";
    std::string_view port_text = text;
    if (text.starts_with('[')) {
        const auto close = text.find("]:");
        if (close == std::string_view::npos) throw ValueError(concat("expected [IPV6]:PORT, got ", quoted(text)));
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            throw ValueError(concat("an IPv6 address goes in brackets, e.g. [::1]:9100, got ", quoted(text)));
        }
    }
    if (host.empty()) host = "127.0.0.1";
    for (const char c : host) {
        if (is_control(c) || c == ' ' || c == '/') throw ValueError(concat("bad host in ", quoted(text)));
    }
    std::uint64_t port = 0;
    try {
        port = parse_uint(port_text);
    } catch (const ValueError&) {
        throw ValueError(concat("expected HOST:PORT or PORT, got ", quoted(text)));
    }
    if (port > 65535) throw ValueError(concat("port must be from 0 to 65535, got ", quoted(port_text)));
    const bool v6 = host.find(':') != std::string_view::npos;
    return concat(v6 ? "[" : "", host, v6 ? "]" : "", ':', port);
}

std::string check_group(std::string_view text) {
    if (text.size() > 64) throw ValueError(concat("a group name has at most 64 bytes, got ", text.size()));
    for (const char c : text) {
        if (is_control(c) || c == ' ' || c == ':' || c == '/') {
            throw ValueError(concat("not a group name or number: ", quoted(text)));
        }
    }
    return std::string(text);
}

std::string check_token_file(std::string_view path) {
    if (path.empty()) {
        throw ValueError("token file path must not be empty");
    }
    if (path.find('\0') != std::string_view::npos) {
        throw ValueError("token file path must not contain a NUL byte");
    }
    return std::string(path);
}

std::string check_ca_file(std::string_view path) {
    if (path.empty()) {
        throw ValueError("CA file path must not be empty (leave it out to trust the system's CA certificates)");
    }
    if (path.find('\0') != std::string_view::npos) {
        throw ValueError("CA file path must not contain a NUL byte");
    }
    return std::string(path);
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> previous(b.size() + 1);
    std::vector<std::size_t> current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        previous[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
        }
        std::swap(previous, current);
    }
    return previous[b.size()];
}

}  // namespace

std::string did_you_mean(std::string_view wrong, std::span<const std::string_view> candidates) {
    // Two edits catch a swapped or dropped letter without suggesting nonsense.
    constexpr std::size_t distance_max = 2;
    std::string_view best;
    std::size_t best_distance = distance_max + 1;
    for (const auto candidate : candidates) {
        const auto distance = edit_distance(wrong, candidate);
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best.empty() ? std::string{} : concat(" (did you mean '", best, "'?)");
}

std::string join_names(std::span<const std::string_view> names, std::string_view conjunction) {
    std::string out;
    for (std::size_t index = 0; index < names.size(); ++index) {
        if (index > 0) {
            out += index + 1 == names.size() ? concat(' ', conjunction, ' ') : ", ";
        }
        out += names[index];
    }
    return out;
}

}  // namespace supervent::config::detail
