#pragma once
// The source model a scenario is written in, and its compiler.
//
// A source has a description (sent as "source"), fields with typed
// generators and event types whose message templates name fields as {field}
// ({{field}} means the same) with optional per-placeholder formats, e.g.
// {timestamp:%d/%b/%Y:%H:%M:%S %z}. compile_source() checks it all and turns
// it into a Program: the flat list of generation and put ops the engine runs.
// The config loaders (TOML, legacy YAML) fill this model and the origins in
// it, so every error can name the file, line and key it came from.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/event_source.hpp"
#include "core/program.hpp"

namespace supervent::core {

// Where a schema element was written, for error messages.
struct SchemaOrigin {
    std::string file;
    std::uint32_t line = 0;  // 0 = unknown
    std::string key;         // key path, e.g. "sources.web.fields.status.values"
    bool operator==(const SchemaOrigin&) const = default;
};

// A schema that cannot be compiled. what() reads "FILE:LINE: KEY: reason".
class SchemaError : public std::invalid_argument {
public:
    SchemaError(const SchemaOrigin& origin, const std::string& reason);
    [[nodiscard]] const SchemaOrigin& origin() const { return origin_; }

private:
    SchemaOrigin origin_;
};

enum class FieldKind : std::uint8_t {
    choice,     // one of `values`, optionally weighted
    integer,    // whole numbers in [min, max] by `distribution`
    floating,   // numbers in [min, max] with `precision` decimals
    ipv4,       // from `cidrs` (or the keywords "private", "public")
    ipv6,       // from IPv6 `cidrs` of at most /64 (or "ula", "documentation", "global")
    uuid4,      // random UUID v4
    hex_id,     // `length` random lowercase hex digits
    base62_id,  // `length` (at most 21) random base-62 digits
    name,       // "First Last" from built-in word lists
    email,      // "first.last@domain" from built-in word lists
    sequence,   // start, start + step, ... (shard i of N takes every Nth)
    constant,   // always `values[0]`
    timestamp,  // the event time in `format`
    person,     // `part` of one person: name, first_name, last_name, email, username, user_id
    geo,        // `part` of one place: city, region, country, country_code, postal_code, lat, lon, timezone
};

enum class Distribution : std::uint8_t {
    uniform,
    normal,       // mean, stddev, truncated to [min, max]
    exponential,  // min + Exp(mean - min), truncated to max
    zipf,         // integers: P(min + k) ~ 1 / (k + 1)^exponent
    histogram,    // weighted `ranges`
};

// How often each member of an entity pool shows up (FieldSpec::pool).
enum class Popularity : std::uint8_t {
    zipf,     // member k (0-based) with weight 1 / (k + 1)^zipf_exponent: a few regulars, a long tail
    uniform,  // every member equally often
};

// One value of a choice or constant, as written: strings are quoted in
// JSON, numbers and booleans are not.
struct SchemaValue {
    enum class Type : std::uint8_t { string, integer, floating, boolean };
    Type type = Type::string;
    std::string text;
    bool operator==(const SchemaValue&) const = default;
};

struct WeightedRange {
    double min = 0;
    double max = 0;
    double weight = 1;
    bool operator==(const WeightedRange&) const = default;
};

struct FieldSpec {
    std::string name;  // dotted names nest: "http.method" -> {"http":{"method":…}}
    FieldKind kind = FieldKind::choice;
    SchemaOrigin origin;

    std::vector<SchemaValue> values;  // choice, constant
    std::vector<double> weights;      // choice; empty = uniform

    double min = 0;  // integer, floating
    double max = 0;
    Distribution distribution = Distribution::uniform;
    double mean = 0;
    double stddev = 0;
    double exponent = 1;                // zipf
    std::vector<WeightedRange> ranges;  // histogram
    std::uint32_t precision = 2;        // floating: decimals, 1..9

    std::vector<std::string> cidrs;     // ipv4: "10.0.0.0/8" or "private" / "public"
    std::vector<double> cidr_weights;   // one per entry; empty = equal

    std::uint32_t length = 16;          // hex_id, base62_id
    std::int64_t start = 1;             // sequence
    std::int64_t step = 1;

    // timestamp: a strftime-style format, or a named one: rfc3339 (ns),
    // rfc3339_ms, rfc3339_us, clf, syslog (RFC 3164), rfc5424, epoch_s,
    // epoch_ms, epoch_us, epoch_ns. Rendered in the scenario's time zone.
    std::string format = "rfc3339";

    // Values that belong together are drawn as one row (docs/configuration.md,
    // "Values that agree"): person and geo fields with the same group are one
    // person / one place (name, email and user id of one person); choice
    // fields with the same non-empty group, each with the same number of
    // values, take the values at one index. Empty group for person and geo:
    // the field's parent ("actor" for "actor.email", "" at the top level).
    std::string group;
    std::string part;  // person, geo: which value of the row (name and email kinds are person parts)

    // An entity pool (docs/configuration.md, "Values that agree"): 0 = none,
    // every event draws a fresh value. N >= 1: the field's values come from N
    // members (users, client IPs, hosts), member k's value a pure function of
    // (field name, k) and each event picking k by `popularity`. Pooled fields
    // of one person or place row, or with the same non-empty `group`, share
    // the member: the same user has the same name, email, id and address.
    // ipv4, ipv6, uuid4, hex_id, base62_id, integer, person, name, email, geo.
    std::uint64_t pool = 0;
    Popularity popularity = Popularity::zipf;
    double zipf_exponent = 1.0;
    bool operator==(const FieldSpec&) const = default;
};

struct EventTypeSpec {
    std::string name;
    double weight = 1;
    std::string message;  // the template
    SchemaOrigin origin;
    // A root type starts events of its own (the original's
    // create_from_scratch: true); a non-root type only appears as the action
    // of a dependency.
    bool root = true;
    // The fields its events carry as attributes besides those its template
    // names. Empty: the fields no template of the source names (a field one
    // type's message shows belongs to that type alone, so a query event never
    // carries another type's error text).
    std::vector<std::string> attributes;
    bool operator==(const EventTypeSpec&) const = default;
};

// How root events are spread over a volume entry's window. The pattern
// shapes the density over calendar time; the distribution shapes it over the
// window as a whole; the two multiply.
enum class VolumePattern : std::uint8_t {
    always,           // "24/7": flat
    weekday,          // only Monday..Friday (days aligned to midnight in the scenario's time zone)
    weekend,          // only Saturday and Sunday
    sine_wave,        // 1 + amplitude * sin(2 pi (t - start) / period): a daily cycle by default;
                      // with peak_ns: 1 + amplitude * cos(2 pi (local t - peak) / period)
    linear_increase,  // density rising linearly from ramp_from to 1 over the window
};

// Either way the times are random: a Poisson process with exactly `count`
// events (the order statistics of `count` independent draws from the density).
enum class SpreadDistribution : std::uint8_t {
    uniform,   // "random"
    gaussian,  // mean mid-window, sigma a sixth of the window, clipped to it
};

struct VolumeSpec {
    VolumePattern pattern = VolumePattern::always;
    SpreadDistribution distribution = SpreadDistribution::uniform;
    std::uint64_t count = 0;  // exactly this many root events over the window
    // The entry's own window (ns since the epoch); both 0 = the scenario's window.
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
    std::int64_t period_ns = 86'400'000'000'000;  // sine_wave
    double amplitude = 0.5;                       // sine_wave, 0..1
    double ramp_from = 0.1;                       // linear_increase: density at the start relative to the end
    // sine_wave: the local time of day (ns after local midnight, in the
    // scenario's time zone) of a peak; peaks repeat every period. Unset: the
    // curve rises from the window's start and peaks a quarter period later.
    std::optional<std::int64_t> peak_ns;
    // Relative rates per local hour 0..23 and per local weekday (Monday
    // first); empty = flat. They multiply the pattern and distribution.
    std::vector<double> hour_weights;
    std::vector<double> day_weights;
    // Burstiness: an on/off modulation. Quiet spells (mean burst_off_ns) and
    // bursts (mean burst_on_ns) alternate with exponential lengths; in a burst
    // the density is burst_factor times higher. burst_factor 1 = none.
    double burst_factor = 1;
    std::int64_t burst_on_ns = 0;
    std::int64_t burst_off_ns = 0;
    SchemaOrigin origin;
    bool operator==(const VolumeSpec&) const = default;
};

enum class AttributeLayout : std::uint8_t {
    nested,  // fields inside "attributes":{…} (the DESIGN.md §4 shape)
    flat,    // fields at the top level of the event, after "message"
};

struct SourceSpec {
    std::string name;
    std::string description;  // sent as "source"
    std::string dataset;
    std::vector<FieldSpec> fields;
    std::vector<EventTypeSpec> event_types;
    AttributeLayout layout = AttributeLayout::nested;
    // Backfill: the root events this source makes over the window. Empty with
    // a window: the source only makes dependent events (the original's
    // `volume: []`). Ignored in live mode.
    std::vector<VolumeSpec> volume;
    // Trace context (core/trace_context.hpp): its events carry trace_id,
    // span_id, parent_span_id and duration_ms; with traceparent also a
    // W3C traceparent. Set per source or by [scenario] trace_context.
    bool trace_context = false;
    bool traceparent = false;
    // Set by the scenario compiler: fields a dependent inherits (drawn from
    // the event's entity key, see Program::entity_draws).
    std::vector<std::string> entity_fields;
    SchemaOrigin origin;
    // Compares origins too: a reload that only moves a source reports it changed.
    bool operator==(const SourceSpec&) const = default;
};

// What a compiled source writes per batch.
enum class OutputFormat : std::uint8_t {
    ndjson,  // one JSON object per line in the DESIGN.md §4 shape (application/x-ndjson)
    text,    // the message alone per line, unescaped (files, syslog; text/plain)
    csv,     // a header line, then one row per event (text/csv, RFC 4180 quoting)
};

// Field names the engine provides when a source does not declare them:
// `timestamp` (the event time, usable in templates with a format) and
// `request_id` (a UUID v4, added to the attributes).
inline constexpr std::string_view builtin_timestamp_field = "timestamp";
inline constexpr std::string_view builtin_request_id_field = "request_id";

// Checks the source and compiles it. Throws SchemaError naming the origin of
// the first problem found.
// `zone` (null: UTC) is the time zone of times in messages and formatted
// timestamp fields; _time stays UTC.
[[nodiscard]] std::shared_ptr<const Program> compile_source(const SourceSpec& spec,
                                                           OutputFormat format = OutputFormat::ndjson,
                                                           std::shared_ptr<const TimeZone> zone = nullptr);

// A source running a compiled program (shareable between shards).
[[nodiscard]] std::unique_ptr<EventSource> make_program_source(std::shared_ptr<const Program> program,
                                                               const SourceIdentity& identity,
                                                               std::uint32_t batch_events_max);

// Maps the generator names used in scenario files to FieldKind / Distribution
// ("choice", "integer"/"int", "float", "ipv4"/"ip", "ipv6", "uuid", "hex",
// "base62", "name", "email", "person", "geo", "sequence", "constant", "timestamp"; "uniform", "normal"/"gaussian", "exponential",
// "zipf", "histogram"). Throws SchemaError for an unknown name.
[[nodiscard]] FieldKind parse_field_kind(std::string_view name, const SchemaOrigin& origin);
[[nodiscard]] Distribution parse_distribution(std::string_view name, const SchemaOrigin& origin);
// "zipf" or "uniform"; throws SchemaError naming any other.
[[nodiscard]] Popularity parse_popularity(std::string_view name, const SchemaOrigin& origin);

}  // namespace supervent::core
