#pragma once
// What the TOML and YAML scenario loaders share: the names of patterns,
// distributions and shapes, duration and frequency texts, the checks of a
// scenario as a whole (dependencies, cycles) and --scale. Keeping them in one
// place is what makes a YAML file and its TOML conversion mean the same.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"
#include "core/scenario.hpp"
#include "core/schema.hpp"

namespace supervent::config::detail {

// "50ms", "1.5s", "250us", "10ns", "2m", "1h", "1d" and sums such as "1h30m".
// A unit is required. Throws ValueError.
[[nodiscard]] std::int64_t parse_duration_ns(std::string_view text);
// The shortest exact text parse_duration_ns reads back: "24h", "1500ms", "7ns".
[[nodiscard]] std::string duration_ns_text(std::int64_t ns);

// "20000 per minute", "1 per hour", "5 per second", "2 per day", "10/s".
// Returns events per second. Throws ValueError.
[[nodiscard]] double parse_frequency_eps(std::string_view text);

// RFC 3339 in UTC with as many fraction digits as needed: 2024-12-09T10:00:00Z.
[[nodiscard]] std::string rfc3339_ns_text(std::int64_t ns);

// The shortest decimal text that reads back as the same double ("0.1", "1e+20").
[[nodiscard]] std::string shortest_double_text(double value);

// "24/7", "weekday", "weekend", "sine_wave", "linear_increase".
[[nodiscard]] core::VolumePattern parse_volume_pattern(std::string_view name);
// A local time of day for a sine peak: "14:30", "14:30:15" or a duration
// from midnight ("14h30m"); below 24 h.
[[nodiscard]] std::int64_t parse_time_of_day_ns(std::string_view text);
[[nodiscard]] std::string_view volume_pattern_name(core::VolumePattern pattern);
// "random" / "uniform"; "gaussian" / "normal".
[[nodiscard]] core::SpreadDistribution parse_spread(std::string_view name);
[[nodiscard]] std::string_view spread_name(core::SpreadDistribution distribution);
// "none", "fixed", "uniform", "exponential", "normal" / "gaussian".
[[nodiscard]] core::DelaySpec::Kind parse_delay_kind(std::string_view name);
[[nodiscard]] std::string_view delay_kind_name(core::DelaySpec::Kind kind);
// "constant", "sine", "ramp", "step", "business_hours".
[[nodiscard]] core::LiveShape::Kind parse_live_kind(std::string_view name);
[[nodiscard]] std::string_view live_kind_name(core::LiveShape::Kind kind);

// Checks a delay's numbers (min <= max, means > 0 …). Throws ValueError.
void check_delay(const core::DelaySpec& delay);
// Checks a volume entry's numbers (amplitude 0..1, period > 0, start < end …). Throws ValueError.
void check_volume(const core::VolumeSpec& volume);

// "FILE:LINE: KEY: reason", as every loader error reads.
[[nodiscard]] std::string located(const core::SchemaOrigin& origin, std::string_view reason);

// The checks of a scenario as a whole, after every source is read:
//  - errors: a dependency or rate naming an unknown source or event type, a
//    dependency cycle (named: "a.x -> b.y -> a.x"), volume entries on a source
//    with no root event type, a percentage outside 0..100;
//  - warnings (appended to settings.warnings): a non-root event type that no
//    dependency produces (it never appears).
// Each message names the file, line and key. Returns the errors, in no order.
[[nodiscard]] std::vector<std::pair<std::uint32_t, std::string>> check_scenario(Settings& settings);

}  // namespace supervent::config::detail

namespace supervent::config {

// Applies settings.scale to the scenario: every volume count (rounded to the
// nearest, at least 1 when it was above 0) and every live type rate. The
// daemon's resolution calls it once, after the config file and the command
// line are merged, whichever loader read the file. Throws ConfigError for a
// scale outside (0, 1e6].
void apply_scale(Settings& settings);

// 0 < scale <= 1e6. Throws detail::ValueError.
[[nodiscard]] double check_scale(double scale);

}  // namespace supervent::config
