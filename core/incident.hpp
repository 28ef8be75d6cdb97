#pragma once
// Incidents: an overlay that changes a scenario's attribute mix for a while
// (5xx at 30 %, latency x10, a service's error events, a host gone silent).
//
// An incident is a list of effects on the scenario's sources. It runs for a
// window of event time written in the scenario (start and duration after
// the backfill window's start, or after a live run's start), or live on
// demand (`supervent-ctl incident start NAME`). compile_incidents() turns
// each incident, at config time, into an alternative Program and root-type
// pick per source it touches; the scenario engine renders an event with the
// incident's program when its time falls inside the incident (backfill) or
// while the incident is active (live). Nothing is compiled or allocated
// when an incident starts: the engine only switches an index.
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/program.hpp"
#include "core/schema.hpp"

namespace supervent::core {

struct IncidentEffect {
    enum class Kind : std::uint8_t {
        percent,  // a choice field: named values get these shares (percent of events); the others share the rest as before
        scale,    // a numeric field (integer, float): min, max, mean, stddev and ranges times `factor`
        rate,     // an event type's root weight times `factor`, or set to `weight` (switches a type on)
        silent,   // the source makes no events (a host or service gone quiet)
    };
    Kind kind = Kind::percent;
    std::string source;
    std::string field;       // percent, scale
    std::string event_type;  // rate
    std::vector<std::pair<std::string, double>> percent;  // value text -> percent of events
    double factor = 1;                                    // scale, rate
    std::optional<double> weight;                         // rate: the type's weight, instead of a factor
    SchemaOrigin origin;
    bool operator==(const IncidentEffect&) const = default;
};

struct IncidentSpec {
    std::string name;
    // Scheduled: [start, start + duration) after the window's start (backfill)
    // or the live run's start. Unset: only started on demand.
    std::optional<std::int64_t> start_ns;
    std::int64_t duration_ns = 0;
    std::vector<IncidentEffect> effects;
    SchemaOrigin origin;
    bool operator==(const IncidentSpec&) const = default;
};

// One source under one incident. program null: the source's own program.
struct IncidentSource {
    std::shared_ptr<const Program> program;
    bool own_pick = false;  // root_shapes / root_pick replace the source's own
    std::vector<std::uint16_t> root_shapes;
    AliasTable root_pick;
    bool silent = false;
};

struct CompiledIncident {
    std::string name;
    bool scheduled = false;
    // Scheduled: absolute event time in a backfill; offsets from the live
    // run's start in live mode.
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
    std::vector<IncidentSource> sources;  // by scenario source
};

struct CompiledScenario;
struct ScenarioInputs;

// Checks every incident of inputs.spec against the compiled sources and
// compiles its overlays into out.incidents. Throws SchemaError naming the
// incident or effect (unknown source, field, value or event type; a percent
// on a non-choice field; shares above 100 %; duplicate names).
void compile_incidents(const ScenarioInputs& inputs, CompiledScenario& out);

// The index of the incident called `name` in `scenario`, or -1.
[[nodiscard]] int find_incident(const CompiledScenario& scenario, std::string_view name);

// The names of a scenario's incidents, comma separated, for error messages.
[[nodiscard]] std::string incident_names(const CompiledScenario& scenario);

}  // namespace supervent::core
