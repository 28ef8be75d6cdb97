#pragma once
// The scenario model: several sources, how many root events each makes and
// when (volume entries for a backfill window, rates for live mode), and the
// dependency rules that make one event cause another.
//
// (VolumeSpec, a source's volume entries, lives in core/schema.hpp beside
// SourceSpec.) The loaders (TOML, the original tool's YAML) fill this model; the scenario
// engine (core/scenario_engine.hpp) runs it. Everything here is plain data
// with origins, so every error can name the file, line and key.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/incident.hpp"
#include "core/schema.hpp"

namespace supervent::core {

// How long after its parent a dependent event happens.
struct DelaySpec {
    enum class Kind : std::uint8_t { none, fixed, uniform, exponential, normal };
    Kind kind = Kind::none;  // none: a small default latency of 1..50 ms, uniform
    std::int64_t min_ns = 0;
    std::int64_t max_ns = 0;
    std::int64_t mean_ns = 0;    // fixed (the delay), exponential, normal
    std::int64_t stddev_ns = 0;  // normal (truncated to [min, max] when max > 0)
    bool operator==(const DelaySpec&) const = default;
};

// After an event of trigger (source, event type) — and, when
// message_contains is set, only if its rendered message contains that text —
// emit one event of action (source, event type) with probability
// percentage / 100, `delay` later, with the parent's request_id.
struct DependencySpec {
    std::string trigger_source;
    std::string trigger_type;
    std::string message_contains;  // "" = any event of the trigger type
    std::string action_source;
    std::string action_type;
    double percentage = 100;
    DelaySpec delay;
    // Fields the dependent takes from its parent (a session, a user journey):
    // drawn from the chain's entity key instead of the event's own, so they
    // equal the parent's (docs/configuration.md, "Sessions").
    std::vector<std::string> inherit;
    // A session link: inherit every drawn field the trigger and action
    // sources both have, by name and with the same definition (added to `inherit`).
    bool session = false;
    SchemaOrigin origin;
    bool operator==(const DependencySpec&) const = default;
};

// Live mode: the rate of root events follows this shape over wall-clock
// time. The base rate comes from --rate or the sources' event_frequencies.
struct LiveShape {
    enum class Kind : std::uint8_t {
        constant,
        sine,            // base * (1 + amplitude * sin(2 pi t / period)), t from the run's start
        ramp,            // base * (ramp_from + (1 - ramp_from) * min(1, t / ramp_ns))
        step,            // base * factor of the last step whose at_ns <= t
        business_hours,  // base on weekdays between open_hour and close_hour (time zone), else base * off_hours_factor
    };
    Kind kind = Kind::constant;
    double amplitude = 0.5;
    std::int64_t period_ns = 86'400'000'000'000;
    double ramp_from = 0;
    std::int64_t ramp_ns = 0;
    struct Step {
        std::int64_t at_ns = 0;  // since the run's start
        double factor = 1;
        bool operator==(const Step&) const = default;
    };
    std::vector<Step> steps;
    std::uint32_t open_hour = 9;
    std::uint32_t close_hour = 17;
    double off_hours_factor = 0.1;
    // sine: the local time of day of a peak (as VolumeSpec::peak_ns); unset:
    // the run's start plus a quarter period.
    std::optional<std::int64_t> peak_ns;
    // Any kind: relative rates per local hour (24) and weekday (7, Monday
    // first), each scaled to average 1, so the base rate is the daily mean.
    std::vector<double> hour_weights;
    std::vector<double> day_weights;
    bool operator==(const LiveShape&) const = default;
};

// A live per-type rate ("20000 per minute" in event_frequencies).
struct TypeRate {
    std::string source;
    std::string event_type;
    double events_per_s = 0;
    SchemaOrigin origin;
    bool operator==(const TypeRate&) const = default;
};

// Scenario-wide settings besides the sources themselves. A source's volume
// entries live in SourceSpec::volume; its root event types are the event
// types with root = true.
struct ScenarioSpec {
    std::vector<DependencySpec> dependencies;
    std::vector<TypeRate> type_rates;  // live mode
    LiveShape live;
    // Days for weekday/weekend and business hours: an IANA name ("Europe/Berlin")
    // or a fixed offset ("+02:00"); default UTC.
    std::string timezone = "UTC";
    // Overlays that change the attribute mix for a while (core/incident.hpp).
    std::vector<IncidentSpec> incidents;
    // Every source's events carry trace context (core/trace_context.hpp);
    // traceparent adds the W3C traceparent field (and implies trace_context).
    bool trace_context = false;
    bool traceparent = false;
    bool operator==(const ScenarioSpec&) const = default;
};

}  // namespace supervent::core
