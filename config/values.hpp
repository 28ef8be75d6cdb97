#pragma once
// Checks and conversions shared by the config file and the command line, so
// both accept exactly the same values and explain a refusal the same way.
//
// Each function throws ValueError carrying only the reason ("must be between
// 1 and 10000, got 0"); the caller prefixes where the value came from
// ("FILE:LINE: runtime.batch_events: " or "--batch-events: ").
#include <cstdint>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/settings.hpp"
#include "core/bounds.hpp"

namespace supervent::config::detail {

struct ValueError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct UintRange {
    std::uint64_t min = 0;
    std::uint64_t max = 0;
};

inline constexpr UintRange workers_range{0, bounds::workers_max};
inline constexpr UintRange batch_events_range{1, bounds::batch_events_max};
inline constexpr UintRange connections_range{1, bounds::connections_per_shard_max};
inline constexpr UintRange pipeline_depth_range{1, bounds::http_pipeline_depth_limit};
inline constexpr UintRange events_range{0, UINT64_MAX};
inline constexpr UintRange seed_range{0, UINT64_MAX};
// Faster than 10 Hz is noise on a terminal; slower than an hour is no progress report.
inline constexpr UintRange progress_interval_ms_range{100, 3'600'000};
// The daemon counts time in int64 nanoseconds; ~31 years keeps that far from overflow.
inline constexpr double duration_s_max = 1e9;

// Joins the parts of a message as `<<` prints them (GCC 12 has no <format>).
template <typename... Parts>
[[nodiscard]] std::string concat(const Parts&... parts) {
    std::ostringstream out;
    (out << ... << parts);
    return out.str();
}

// A number for people: 1000000 rather than 1e+06, 0.25 rather than 0.250000.
[[nodiscard]] std::string number_text(double value);

// `text` with each control character and each byte that is not part of valid
// UTF-8 replaced by '?': a message quoting a file may reach a JSON reply
// (a refused reload), which must be UTF-8 (found by fuzz_reload).
[[nodiscard]] std::string printable(std::string_view text);
// The value quoted for a message (printable), cut short so a pasted blob cannot flood it.
[[nodiscard]] std::string quoted(std::string_view text);

// A decimal integer with nothing around it (no sign, no spaces, no "0x").
[[nodiscard]] std::uint64_t parse_uint(std::string_view text);
[[nodiscard]] std::uint64_t check_range(std::uint64_t value, UintRange range);
[[nodiscard]] std::uint32_t parse_uint32_in(std::string_view text, UintRange range);

// Events per second: a positive finite number; nullopt means unlimited.
[[nodiscard]] double check_rate(double eps);
[[nodiscard]] std::optional<double> parse_rate(std::string_view text);

// Seconds, or a sum of <number><unit> terms with units ms, s, m, h ("1h30m").
// 0 means no limit.
[[nodiscard]] double check_duration(double seconds);
[[nodiscard]] double parse_duration(std::string_view text);
// RFC 3339: 2026-11-27T12:00:00Z, with optional fraction and ±HH:MM offset.
// Returns nanoseconds since the epoch.
[[nodiscard]] std::int64_t parse_rfc3339_ns(std::string_view text);
// A timeout: like a duration, but it must be greater than zero.
[[nodiscard]] double check_timeout(double seconds);
[[nodiscard]] double parse_timeout(std::string_view text);

[[nodiscard]] ZeroCopyMode parse_zero_copy(std::string_view text);
// One --bind / network.bind entry: an IPv4/IPv6 address or an interface name.
[[nodiscard]] std::string check_bind_entry(std::string_view entry);
// "ADDR[,ADDR…]"
[[nodiscard]] std::vector<std::string> parse_bind_list(std::string_view text);
// "none", "zstd" (level 1) or "zstd:LEVEL" with LEVEL in -7..19.
[[nodiscard]] Compression parse_compression(std::string_view text);
[[nodiscard]] std::string compression_name(const Compression& compression);
[[nodiscard]] std::string_view zero_copy_name(ZeroCopyMode mode);

// Non-empty, at most bounds::dataset_name_bytes_max bytes of [A-Za-z0-9._-].
[[nodiscard]] std::string check_dataset(std::string_view name);
// Empty (no control socket) or a path that fits sockaddr_un::sun_path.
[[nodiscard]] std::string check_socket_path(std::string_view path);
// A checkpoint file's path: not empty, no NUL.
[[nodiscard]] std::string check_checkpoint_path(std::string_view path);
[[nodiscard]] std::string check_scenario(std::string_view name);
[[nodiscard]] std::string check_token_file(std::string_view path);
// --ca-file / sink.ca_file: a path (readability is checked when the sink starts).
[[nodiscard]] std::string check_ca_file(std::string_view path);
// error, warning, notice, info or debug.
[[nodiscard]] std::string check_log_level(std::string_view name);
// auto, plain, journal or json.
[[nodiscard]] std::string check_log_format(std::string_view name);
// "" (off), "HOST:PORT", "[V6]:PORT" or a bare "PORT" (= 127.0.0.1:PORT);
// returned as HOST:PORT. Port 0..65535; 0 = any free port (the daemon says
// which in its log and in status).
[[nodiscard]] std::string check_listen(std::string_view text);
// A group name or a numeric gid ("" = none); only its form is checked here.
[[nodiscard]] std::string check_group(std::string_view text);

// The sink URL forms of parse_sink_url, throwing ValueError.
[[nodiscard]] SinkUrl parse_sink(std::string_view text);
// API+http(s)://HOST[:PORT][/PREFIX][?key=value&…] (config/sink_api.cpp):
// nullopt when `scheme` names no preset; parse_http reads the http part.
using HttpUrlParser = SinkUrl (*)(std::string_view rest, SinkUrl::Kind kind, std::uint16_t default_port);
[[nodiscard]] std::optional<SinkUrl> parse_api_sink(std::string_view scheme, std::string_view rest, HttpUrlParser parse_http);
[[nodiscard]] std::string_view sink_api_name(SinkApi api);

// " (did you mean 'workers'?)" when `wrong` is a near miss of a candidate,
// else "": most unknown keys and options are typos.
[[nodiscard]] std::string did_you_mean(std::string_view wrong, std::span<const std::string_view> candidates);
// "a, b and c" (or "a, b or c"), for messages listing what is accepted.
[[nodiscard]] std::string join_names(std::span<const std::string_view> names, std::string_view conjunction);

}  // namespace supervent::config::detail
