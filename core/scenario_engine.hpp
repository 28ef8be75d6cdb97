#pragma once
// Runs a scenario: several sources, each with its own program and dataset,
// root events from volume entries (a backfill window) or at a rate (live),
// and dependency rules that turn one event into others later in time.
//
// compile_scenario() checks and compiles the model once; every shard then
// runs its own ScenarioEngine over it: the shard's share of every volume
// entry, merged in time order with the dependent events its own events
// caused. A batch holds events of one source only (one dataset per request)
// in non-decreasing time order.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_source.hpp"
#include "core/incident.hpp"
#include "core/program.hpp"
#include "core/program_source.hpp"
#include "core/scenario.hpp"
#include "core/schema.hpp"
#include "core/timeline.hpp"

namespace supervent::core {

struct ScenarioSource {
    std::string name;
    std::string dataset;  // resolved: the source's own or the run's default
    std::shared_ptr<const Program> program;
    std::vector<std::string> type_names;  // by shape index
    // Backfill: volume entries with their windows resolved.
    std::vector<VolumeSpec> volume;
    // Root event types (shape indices) and how a root event picks one.
    std::vector<std::uint16_t> root_shapes;
    AliasTable root_pick;
    // A built-in program picks its own event types (and has no rules).
    bool program_picks_types = false;
    // Live mode: this source's share of root events (relative weight).
    double live_share = 0;
    // Live mode: the volume entries whose calendar shape (weekday/weekend,
    // sine_wave, hour and day tables, bursts) the source's rate follows.
    std::vector<VolumeSpec> live_volume;
    // Its events carry trace context (core/trace_context.hpp).
    bool traced = false;
};

struct ScenarioRule {
    std::uint16_t action_source = 0;
    std::uint16_t action_shape = 0;
    double probability = 1;
    DelaySpec delay;
    std::string message_contains;
    bool inherit = false;  // the dependent takes its parent's entity key (inherited fields)
};

struct CompiledScenario {
    std::vector<ScenarioSource> sources;
    std::vector<ScenarioRule> rules;
    // rules_by_trigger[source][shape]: indices into rules.
    std::vector<std::vector<std::vector<std::uint32_t>>> rules_by_trigger;
    // Sources in an order where, as far as the dependency graph allows,
    // every source comes after the sources whose events cause its own.
    std::vector<std::uint16_t> order;
    bool backfill = false;
    std::int64_t window_start_ns = 0;
    std::int64_t window_end_ns = 0;
    std::uint64_t roots_total = 0;  // backfill: root events over all shards
    double expected_events_total = 0;  // backfill: roots and their expected dependents, for ETAs
    // Live mode: the base rate from the scenario's type rates, with the dependent
    // events those roots cause on average (events/s; 0 = none given).
    double live_rate_eps = 0;
    LiveShape live;
    std::shared_ptr<const TimeZone> zone;
    std::string content_type;
    std::uint64_t identity = 0;  // ScenarioInputs::identity
    // Incidents (core/incident.hpp), by index: what ShardControl's incident names.
    std::vector<CompiledIncident> incidents;
    bool traced = false;         // some source carries trace context
    bool entities = false;       // some rule inherits fields
};

// What compile_scenario needs besides the sources themselves.
struct ScenarioInputs {
    // The sources; empty = run `builtin` (a built-in program) as the only source.
    std::vector<SourceSpec> sources;
    std::shared_ptr<const Program> builtin;
    ScenarioSpec spec;
    // A fixed window makes the run a backfill.
    std::optional<std::int64_t> window_start_ns;
    std::optional<std::int64_t> window_end_ns;
    // With a window: sources without volume entries get one uniform entry of
    // this many events over the window, split evenly between them (--events).
    std::uint64_t window_events = 0;
    std::string default_dataset;
    OutputFormat format = OutputFormat::ndjson;
    // What makes this scenario differ from others (a hash of its text, e.g.
    // daemon/planning's scenario_identity): every source's streams are
    // seeded from (seed, identity, source name), so two scenario files, or
    // an overlay and its base, never share request ids or times.
    std::uint64_t identity = 0;
};

// A source as the scenario's chains need it: trace context when the scenario
// or the source asks for it, and the inherited fields it has (drawn from the
// entity key). Every program of the source (its own, an incident's) is
// compiled from this.
[[nodiscard]] SourceSpec with_chain_fields(const SourceSpec& given, const ScenarioSpec& scenario);

// Throws SchemaError (naming the origin) or std::invalid_argument.
[[nodiscard]] std::shared_ptr<const CompiledScenario> compile_scenario(const ScenarioInputs& inputs);

class ScenarioEngine {
public:
    ScenarioEngine(std::shared_ptr<const CompiledScenario> scenario, const SourceIdentity& identity,
                   std::uint32_t batch_events_max, std::size_t batch_bytes_max);
    ~ScenarioEngine();

    struct Batch {
        std::uint16_t source = 0;
        std::uint32_t events = 0;
        std::size_t bytes = 0;
    };

    // Writes the next batch of at most max_events events into `out` (which
    // holds at least batch_events_max * event_bytes_max() bytes); at most
    // batch_bytes_max bytes unless a single event is larger. Backfill: the
    // next events in time order (events == 0 once done()). Live: dependent
    // events due by now_ns first, then root events timed up to now_ns.
    [[nodiscard]] Batch next(std::uint32_t max_events, std::int64_t now_ns, std::span<char> out);

    [[nodiscard]] bool done() const { return done_; }
    [[nodiscard]] const CompiledScenario& scenario() const { return *scenario_; }
    [[nodiscard]] std::size_t event_bytes_max() const { return event_bytes_max_; }
    // Backfill progress of this shard: root events emitted / its share.
    [[nodiscard]] std::uint64_t roots_done() const { return roots_done_; }
    [[nodiscard]] std::uint64_t roots_total() const { return roots_total_; }
    // Dependent events waiting for their time.
    [[nodiscard]] std::size_t pending() const;

    // A graceful stop of a live run: no more root events; next() returns the
    // dependent events already caused (and the ones they cause), each at its
    // own time even if that is a moment ahead, without waiting for it; then
    // done(). Dependents a disabled source would make stay pending (counted).
    void stop_roots();
    [[nodiscard]] bool roots_stopped() const { return roots_stopped_; }
    // Live: the rate multiplier at now_ns for a run that started at
    // since_start_ns: the scenario's live shape times the sources' volume
    // shapes (weekday, sine, hour and day tables), weighted by their shares.
    [[nodiscard]] double live_rate_factor(std::int64_t since_start_ns, std::int64_t now_ns) const;

    // Turns a source off or on, live (supervent-ctl sources disable NAME). A
    // disabled source makes no events. Live: it gets no root events (the
    // enabled ones share the rate) and its due dependents wait. Backfill: its
    // root events and the dependents other sources cause in it wait, in
    // order, until it is enabled again; nothing is lost or reordered within
    // the source, and a run whose only work left is a disabled source's does
    // not end (next() returns no events and blocked() is true).
    void set_enabled(std::uint16_t source, bool enabled);
    [[nodiscard]] bool enabled(std::uint16_t source) const;
    // The last next() returned no events, not because the scenario is done
    // but because every source with work left is disabled.
    [[nodiscard]] bool blocked() const { return blocked_; }

    // Live: the incident started on demand (an index into
    // scenario().incidents; -1 = none, out of range = none). While one is
    // active it applies to every event rendered, and scheduled ones wait.
    // The shard calls this once per loop turn; it only stores the index.
    void set_live_incident(int incident);
    [[nodiscard]] int live_incident() const { return live_incident_; }
    // The incident an event at time_ns falls in: the live one, else the first
    // scheduled one whose window holds it; -1 = none.
    [[nodiscard]] int incident_at(std::int64_t time_ns) const;

private:
    struct Pending;
    struct SourceState;
    struct Staging;

    [[nodiscard]] Batch next_backfill(std::uint32_t max_events, std::span<char> out);
    [[nodiscard]] Batch next_live(std::uint32_t max_events, std::int64_t now_ns, std::span<char> out);
    bool advance_slice();
    std::uint32_t collect(std::uint16_t source, std::uint32_t max_events, std::int64_t before_ns);
    std::uint32_t collect_live_roots(std::uint16_t source, std::uint32_t max_events, std::int64_t now_ns);
    [[nodiscard]] Batch render(std::uint16_t source, std::uint32_t count, std::span<char> out);
    void spawn_children(std::uint16_t source, std::uint32_t count, const char* rendered);
    void push_pending(std::uint16_t source, const Pending& event);
    [[nodiscard]] static std::int64_t delay_ns(const DelaySpec& delay, std::uint64_t key);
    // Trace context: the span of the event (source, shape, key) lasts until
    // its latest possible descendant (rules that fire by their probability).
    [[nodiscard]] std::int64_t span_duration_ns(std::uint16_t source, std::uint16_t shape, std::uint64_t key) const;
    void fill_trace(std::uint16_t source, std::uint32_t count);
    [[nodiscard]] static std::uint16_t root_shape(const ScenarioSource& spec, std::uint64_t key);
    [[nodiscard]] std::uint16_t pick_live_source(std::int64_t now_ns);
    void advance_bursts(std::int64_t now_ns);
    [[nodiscard]] double source_live_factor(std::uint16_t source, std::int64_t since_start_ns, std::int64_t now_ns) const;
    // Live timing only (arrival gaps, burst spells): wall-clock times are
    // not reproducible anyway, so they come from this stream; what an event
    // holds is drawn from its key.
    [[nodiscard]] double live_uniform_open();  // (0, 1)

    std::shared_ptr<const CompiledScenario> scenario_;
    std::uint32_t batch_events_max_;
    std::size_t batch_bytes_max_;
    std::size_t event_bytes_max_ = 0;
    std::vector<SourceState> sources_;
    std::unique_ptr<Staging> staging_;

    bool done_ = false;
    bool blocked_ = false;
    std::int64_t slice_start_ns_ = 0;
    std::int64_t slice_end_ns_ = 0;
    std::int64_t slice_ns_ = 0;
    std::size_t order_pos_ = 0;
    std::uint64_t roots_done_ = 0;
    std::uint64_t roots_total_ = 0;
    bool roots_stopped_ = false;
    bool live_shaped_ = false;                    // some source's live rate follows its volume shape
    std::int64_t live_since_ns_ = INT64_MIN;       // the first live next(): where sine phases count from
    std::int64_t live_last_root_ns_ = INT64_MIN;  // the latest root time made: live roots strictly increase
    std::uint64_t live_timing_state_ = 0;          // splitmix64 state of live_uniform_open()
    int live_incident_ = -1;                       // set_live_incident
    int batch_incident_ = -1;                      // the incident of the batch collect() staged
    [[nodiscard]] const IncidentSource* overlay(std::uint16_t source, int incident) const;
    [[nodiscard]] std::uint16_t root_shape_in(std::uint16_t source, int incident, std::uint64_t key) const;
};

}  // namespace supervent::core
