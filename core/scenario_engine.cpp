#include "core/scenario_engine.hpp"

#include <algorithm>
#include <cassert>
#include <climits>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <numbers>
#include <set>
#include <stdexcept>

#include "core/event_key.hpp"
#include "core/kernels.hpp"
#include "core/rng.hpp"
#include "core/trace_context.hpp"

namespace supervent::core {
namespace {

[[noreturn]] void fail(const SchemaOrigin& origin, const std::string& reason) { throw SchemaError(origin, reason); }

// ln x for x in (0, 1], to about 1e-7 relative: x = m 2^e with m in [1, 2),
// ln m = 2 atanh s, s = (m - 1) / (m + 1) <= 1/3, by its series to s^9.
// Branch-free, so the loop over a batch vectorises; libm's log1p would cost
// about as much as the rest of a live root's bookkeeping.
inline double fast_log(double x) {
    std::uint64_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    const auto exponent = static_cast<std::int64_t>(bits >> 52) - 1023;
    bits = (bits & 0x000F'FFFF'FFFF'FFFFull) | 0x3FF0'0000'0000'0000ull;
    double m;
    std::memcpy(&m, &bits, sizeof m);
    const double s = (m - 1) / (m + 1);
    const double s2 = s * s;
    const double series = s * (2 + s2 * (2.0 / 3 + s2 * (2.0 / 5 + s2 * (2.0 / 7 + s2 * (2.0 / 9)))));
    return series + static_cast<double>(exponent) * std::numbers::ln2;
}

std::int32_t shape_index(const ScenarioSource& source, std::string_view type) {
    for (std::size_t i = 0; i < source.type_names.size(); ++i) {
        if (source.type_names[i] == type) return static_cast<std::int32_t>(i);
    }
    return -1;
}

std::int32_t source_index(const CompiledScenario& s, std::string_view name) {
    for (std::size_t i = 0; i < s.sources.size(); ++i) {
        if (s.sources[i].name == name) return static_cast<std::int32_t>(i);
    }
    return -1;
}


const FieldSpec* find_field(const SourceSpec& spec, std::string_view name) {
    for (const FieldSpec& f : spec.fields) {
        if (f.name == name) return &f;
    }
    return nullptr;
}

// A session link inherits every field its two sources share: the same name
// and definition, and a kind that is drawn (not a time, sequence or constant).
ScenarioInputs with_sessions(const ScenarioInputs& given) {
    ScenarioInputs in = given;
    for (DependencySpec& d : in.spec.dependencies) {
        if (!d.session) continue;
        const SourceSpec* trigger = nullptr;
        const SourceSpec* action = nullptr;
        for (const SourceSpec& s : in.sources) {
            if (s.name == d.trigger_source) trigger = &s;
            if (s.name == d.action_source) action = &s;
        }
        if (trigger == nullptr || action == nullptr) continue;  // compile_rules names the unknown source
        for (const FieldSpec& f : action->fields) {
            const FieldSpec* p = find_field(*trigger, f.name);
            if (p == nullptr || f.kind == FieldKind::timestamp || f.kind == FieldKind::sequence ||
                f.kind == FieldKind::constant || f.name == builtin_request_id_field ||
                std::find(d.inherit.begin(), d.inherit.end(), f.name) != d.inherit.end()) {
                continue;
            }
            FieldSpec a = f;
            FieldSpec b = *p;
            a.origin = b.origin = {};
            if (a == b) d.inherit.push_back(f.name);
        }
        if (d.inherit.empty()) fail(d.origin, "session: sources \"" + d.trigger_source + "\" and \"" + d.action_source +
                                                  "\" share no field (same name and definition) to inherit");
    }
    return in;
}

// Every source that has an inherited field must define it the same way:
// the same draw must give the same value.
void check_same_definition(const std::string& name, const ScenarioInputs& in) {
    const FieldSpec* first = nullptr;
    for (const SourceSpec& s : in.sources) {
        const FieldSpec* f = find_field(s, name);
        if (f == nullptr) continue;
        if (first == nullptr) {
            first = f;
            continue;
        }
        FieldSpec a = *f;
        FieldSpec b = *first;
        a.origin = b.origin = {};
        if (!(a == b)) {
            fail(f->origin, "inherited field \"" + name + "\" must be defined the same way in every source that has it "
                            "(the same draw must give the same value)");
        }
    }
}

// Inherited fields: both ends of the rule have the field, defined alike
// everywhere, and a link passes the whole entity, so it must name every
// entity field its action source has.
void check_inherit(const DependencySpec& d, const ScenarioInputs& in) {
    if (d.inherit.empty()) return;
    const SourceSpec* trigger = nullptr;
    const SourceSpec* action = nullptr;
    for (const SourceSpec& s : in.sources) {
        if (s.name == d.trigger_source) trigger = &s;
        if (s.name == d.action_source) action = &s;
    }
    if (trigger == nullptr || action == nullptr) fail(d.origin, "inherit needs sources with fields (not a built-in)");
    for (const std::string& name : d.inherit) {
        if (is_trace_field(name) || name == builtin_request_id_field) {
            fail(d.origin, "inherit: \"" + name + "\" is shared along a chain anyway; list fields of the sources");
        }
        for (const SourceSpec* end : {trigger, action}) {
            if (find_field(*end, name) == nullptr) fail(d.origin, "inherit: source \"" + end->name + "\" has no field \"" + name + "\"");
        }
        check_same_definition(name, in);
    }
    std::set<std::string> entity;
    for (const DependencySpec& other : in.spec.dependencies) entity.insert(other.inherit.begin(), other.inherit.end());
    for (const std::string& name : entity) {
        if (find_field(*action, name) != nullptr && std::find(d.inherit.begin(), d.inherit.end(), name) == d.inherit.end()) {
            fail(d.origin, "inherit: a link passes the whole entity, and source \"" + action->name + "\" has field \"" +
                               name + "\", which another dependency inherits: list it here too");
        }
    }
}

ScenarioSource builtin_source(const ScenarioInputs& in) {
    if (!in.builtin) throw std::invalid_argument("a scenario needs sources or a built-in program");
    ScenarioSource s;
    s.name = in.builtin->name;
    s.dataset = in.default_dataset;
    s.program = in.builtin;
    for (std::size_t i = 0; i < in.builtin->shapes.size(); ++i) s.type_names.push_back("type" + std::to_string(i));
    s.live_share = 1;
    s.program_picks_types = true;
    return s;
}

ScenarioSource compile_one(const SourceSpec& given, const ScenarioInputs& in, std::shared_ptr<const TimeZone> zone) {
    const SourceSpec spec = with_chain_fields(given, in.spec);
    ScenarioSource s;
    s.name = spec.name;
    s.dataset = spec.dataset.empty() ? in.default_dataset : spec.dataset;
    s.program = compile_source(spec, in.format, std::move(zone));
    s.traced = spec.trace_context;
    std::vector<double> weights;
    for (std::size_t i = 0; i < spec.event_types.size(); ++i) {
        const EventTypeSpec& type = spec.event_types[i];
        s.type_names.push_back(type.name);
        if (type.root && type.weight > 0) {
            s.root_shapes.push_back(static_cast<std::uint16_t>(i));
            weights.push_back(type.weight);
        }
    }
    if (!weights.empty()) s.root_pick = build_alias_table(weights);
    return s;
}

// Resolves a source's volume entries for a backfill: windows filled in and checked.
void resolve_volume(ScenarioSource& s, const SourceSpec* spec, const ScenarioInputs& in) {
    if (spec == nullptr) return;
    for (VolumeSpec v : spec->volume) {
        if (v.start_ns == 0 && v.end_ns == 0) {
            v.start_ns = *in.window_start_ns;
            v.end_ns = *in.window_end_ns;
        }
        if (v.end_ns <= v.start_ns) fail(v.origin, "a volume entry's window must end after it starts");
        if (v.count > 0 && s.root_shapes.empty()) {
            fail(v.origin, "source \"" + s.name + "\" has a volume but no root event type "
                           "(create_from_scratch: true / root = true) to start events with");
        }
        s.volume.push_back(v);
    }
}

// --events with a window and no volume entries anywhere: one uniform entry per
// source that can start events, the count split evenly.
void spread_window_events(CompiledScenario& out, const ScenarioInputs& in) {
    std::vector<ScenarioSource*> starters;
    for (ScenarioSource& s : out.sources) {
        if (!s.root_shapes.empty() || s.program_picks_types) starters.push_back(&s);
    }
    if (starters.empty()) throw std::invalid_argument("no source has a root event type to start events with");
    const std::uint64_t total = in.window_events;
    for (std::size_t i = 0; i < starters.size(); ++i) {
        VolumeSpec v;
        v.count = total / starters.size() + (i < total % starters.size() ? 1 : 0);
        v.start_ns = *in.window_start_ns;
        v.end_ns = *in.window_end_ns;
        if (v.count > 0) starters[i]->volume.push_back(v);
    }
}

void compile_rules(CompiledScenario& out, const ScenarioInputs& in) {
    out.rules_by_trigger.resize(out.sources.size());
    for (std::size_t i = 0; i < out.sources.size(); ++i) out.rules_by_trigger[i].resize(out.sources[i].type_names.size());
    for (const DependencySpec& d : in.spec.dependencies) {
        const std::int32_t trigger = source_index(out, d.trigger_source);
        const std::int32_t action = source_index(out, d.action_source);
        if (trigger < 0) fail(d.origin, "unknown trigger source \"" + d.trigger_source + "\"");
        if (action < 0) fail(d.origin, "unknown action source \"" + d.action_source + "\"");
        const std::int32_t trigger_shape = shape_index(out.sources[trigger], d.trigger_type);
        const std::int32_t action_shape = shape_index(out.sources[action], d.action_type);
        if (trigger_shape < 0) fail(d.origin, "source \"" + d.trigger_source + "\" has no event type \"" + d.trigger_type + "\"");
        if (action_shape < 0) fail(d.origin, "source \"" + d.action_source + "\" has no event type \"" + d.action_type + "\"");
        if (!(d.percentage >= 0 && d.percentage <= 100)) fail(d.origin, "percentage must be within 0..100");
        if (d.delay.min_ns < 0 || d.delay.max_ns < 0 || d.delay.mean_ns < 0 || d.delay.stddev_ns < 0 ||
            (d.delay.max_ns > 0 && d.delay.max_ns < d.delay.min_ns)) {
            fail(d.origin, "a delay must not be negative and its max must not be below its min");
        }
        out.rules_by_trigger[trigger][trigger_shape].push_back(static_cast<std::uint32_t>(out.rules.size()));
        check_inherit(d, in);
        out.rules.push_back({static_cast<std::uint16_t>(action), static_cast<std::uint16_t>(action_shape),
                             d.percentage / 100, d.delay, d.message_contains, !d.inherit.empty()});
        out.entities |= !d.inherit.empty();
    }
}

std::string node_name(const CompiledScenario& s, std::uint32_t source, std::uint32_t shape) {
    return s.sources[source].name + "." + s.sources[source].type_names[shape];
}

// A cycle of rules would make events forever; refuse it naming the loop.
void reject_cycles(const CompiledScenario& s, const ScenarioInputs& in) {
    enum Mark : std::uint8_t { unseen, active, finished };
    std::vector<std::vector<Mark>> marks(s.sources.size());
    for (std::size_t i = 0; i < s.sources.size(); ++i) marks[i].assign(s.sources[i].type_names.size(), unseen);
    std::vector<std::pair<std::uint32_t, std::uint32_t>> path;
    std::function<void(std::uint32_t, std::uint32_t)> visit = [&](std::uint32_t src, std::uint32_t shape) {
        marks[src][shape] = active;
        path.emplace_back(src, shape);
        for (std::uint32_t r : s.rules_by_trigger[src][shape]) {
            const ScenarioRule& rule = s.rules[r];
            if (rule.probability <= 0) continue;
            const Mark m = marks[rule.action_source][rule.action_shape];
            if (m == active) {
                std::string loop;
                bool in_loop = false;
                for (const auto& [ps, pt] : path) {
                    in_loop |= ps == rule.action_source && pt == rule.action_shape;
                    if (in_loop) loop += node_name(s, ps, pt) + " -> ";
                }
                loop += node_name(s, rule.action_source, rule.action_shape);
                fail(in.spec.dependencies.at(r).origin, "dependency cycle: " + loop);
            }
            if (m == unseen) visit(rule.action_source, rule.action_shape);
        }
        path.pop_back();
        marks[src][shape] = finished;
    };
    for (std::uint32_t i = 0; i < s.sources.size(); ++i) {
        for (std::uint32_t k = 0; k < marks[i].size(); ++k) {
            if (marks[i][k] == unseen) visit(i, k);
        }
    }
}

// Sources ordered so that causes come before effects where the graph allows
// (Kahn's algorithm; sources on a cycle between sources keep file order).
std::vector<std::uint16_t> source_order(const CompiledScenario& s) {
    const std::size_t n = s.sources.size();
    std::vector<std::set<std::uint16_t>> edges(n);
    std::vector<std::uint32_t> incoming(n, 0);
    for (std::size_t src = 0; src < n; ++src) {
        for (const auto& rules : s.rules_by_trigger[src]) {
            for (std::uint32_t r : rules) {
                const std::uint16_t to = s.rules[r].action_source;
                if (to != src && edges[src].insert(to).second) ++incoming[to];
            }
        }
    }
    std::vector<std::uint16_t> order;
    std::vector<bool> placed(n, false);
    while (order.size() < n) {
        bool progress = false;
        for (std::uint16_t i = 0; i < n; ++i) {
            if (placed[i] || incoming[i] != 0) continue;
            placed[i] = true;
            order.push_back(i);
            for (std::uint16_t to : edges[i]) --incoming[to];
            progress = true;
        }
        if (!progress) {  // a cycle between sources: take the first left in file order
            for (std::uint16_t i = 0; i < n; ++i) {
                if (placed[i]) continue;
                placed[i] = true;
                order.push_back(i);
                for (std::uint16_t to : edges[i]) --incoming[to];
                break;
            }
        }
    }
    return order;
}

// Expected events (itself and all descendants) one event of (source, shape) makes.
double expected_tree(const CompiledScenario& s, std::uint32_t source, std::uint32_t shape) {
    double events = 1;
    for (std::uint32_t r : s.rules_by_trigger[source][shape]) {
        const ScenarioRule& rule = s.rules[r];
        events += rule.probability * expected_tree(s, rule.action_source, rule.action_shape);
    }
    return events;
}

double expected_events(const CompiledScenario& s) {
    double total = 0;
    for (std::uint32_t i = 0; i < s.sources.size(); ++i) {
        const ScenarioSource& src = s.sources[i];
        std::uint64_t roots = 0;
        for (const VolumeSpec& v : src.volume) roots += v.count;
        if (roots == 0) continue;
        if (src.root_shapes.empty()) {
            total += static_cast<double>(roots);
            continue;
        }
        // The alias table does not keep the weights; average over root types equally weighted
        // by their share of the pick (recomputed from the table is not worth it for an estimate).
        double per_root = 0;
        for (std::uint16_t shape : src.root_shapes) per_root += expected_tree(s, i, shape);
        total += static_cast<double>(roots) * per_root / static_cast<double>(src.root_shapes.size());
    }
    return total;
}

void assign_live_shares(CompiledScenario& out, const ScenarioInputs& in, const std::vector<SourceSpec>& specs) {
    double rate_total = 0;
    for (const TypeRate& rate : in.spec.type_rates) {
        const std::int32_t src = source_index(out, rate.source);
        if (src < 0) fail(rate.origin, "unknown source \"" + rate.source + "\"");
        if (shape_index(out.sources[src], rate.event_type) < 0) {
            fail(rate.origin, "source \"" + rate.source + "\" has no event type \"" + rate.event_type + "\"");
        }
        if (!(rate.events_per_s >= 0) || !std::isfinite(rate.events_per_s)) fail(rate.origin, "a rate must be >= 0");
    }
    for (std::size_t i = 0; i < out.sources.size(); ++i) {
        ScenarioSource& s = out.sources[i];
        if (i >= specs.size()) continue;  // the built-in source keeps its share
        // Root types with a live rate are picked by those rates; rates of
        // dependency-only types are not roots (their parents make them).
        std::vector<double> weights;
        double share = 0;
        double events_rate = 0;  // roots and the dependents they cause
        for (std::uint16_t shape : s.root_shapes) {
            double rate = 0;
            for (const TypeRate& r : in.spec.type_rates) {
                if (r.source == s.name && r.event_type == s.type_names[shape]) rate += r.events_per_s;
            }
            weights.push_back(rate);
            share += rate;
            events_rate += rate * expected_tree(out, static_cast<std::uint32_t>(i), shape);
        }
        if (!in.spec.type_rates.empty()) {
            if (share > 0) s.root_pick = build_alias_table(weights);
            s.live_share = share;
            rate_total += events_rate;
            continue;
        }
        if (s.root_shapes.empty()) continue;
        std::uint64_t volume = 0;
        for (const VolumeSpec& v : specs[i].volume) volume += v.count;
        s.live_share = volume > 0 ? static_cast<double>(volume) : (specs[i].volume.empty() ? 1.0 : 0.0);
    }
    out.live_rate_eps = rate_total;
}

}  // namespace

// A source as the scenario's chains need it: trace context when the scenario
// or the source asks for it, and the inherited fields it has (drawn from the
// entity key).
SourceSpec with_chain_fields(const SourceSpec& given, const ScenarioSpec& scenario) {
    SourceSpec spec = given;
    spec.traceparent |= scenario.traceparent;
    spec.trace_context |= scenario.trace_context || spec.traceparent;
    std::set<std::string> names;
    for (const DependencySpec& d : scenario.dependencies) names.insert(d.inherit.begin(), d.inherit.end());
    for (const FieldSpec& f : spec.fields) {
        if (names.count(f.name) != 0) spec.entity_fields.push_back(f.name);
    }
    return spec;
}

std::shared_ptr<const CompiledScenario> compile_scenario(const ScenarioInputs& given) {
    const ScenarioInputs in = with_sessions(given);
    auto out = std::make_shared<CompiledScenario>();
    out->backfill = in.window_start_ns.has_value() && in.window_end_ns.has_value();
    if (in.window_start_ns.has_value() != in.window_end_ns.has_value()) {
        throw std::invalid_argument("a time window needs both a start and an end");
    }
    if (out->backfill && *in.window_start_ns >= *in.window_end_ns) {
        throw std::invalid_argument("the time window must end after it starts");
    }
    out->zone = std::make_shared<const TimeZone>(TimeZone::parse(in.spec.timezone));
    out->live = in.spec.live;
    out->window_start_ns = in.window_start_ns.value_or(0);
    out->window_end_ns = in.window_end_ns.value_or(0);

    if (in.sources.empty()) {
        out->sources.push_back(builtin_source(in));
    } else {
        for (const SourceSpec& spec : in.sources) {
            if (source_index(*out, spec.name) >= 0) fail(spec.origin, "duplicate source \"" + spec.name + "\"");
            out->sources.push_back(compile_one(spec, in, out->zone));
        }
    }
    if (out->sources.size() > UINT16_MAX) throw std::invalid_argument("too many sources");
    compile_rules(*out, in);
    reject_cycles(*out, in);
    out->order = source_order(*out);

    if (out->backfill) {
        bool any_volume = false;
        for (std::size_t i = 0; i < in.sources.size(); ++i) {
            resolve_volume(out->sources[i], &in.sources[i], in);
            any_volume |= !in.sources[i].volume.empty();
        }
        if (!any_volume) {
            if (in.window_events == 0) {
                throw std::invalid_argument("a fixed time window needs a number of events (--events) or volume entries "
                                            "in the scenario");
            }
            spread_window_events(*out, in);
        }
        for (const ScenarioSource& s : out->sources) {
            for (const VolumeSpec& v : s.volume) out->roots_total += v.count;
        }
        out->expected_events_total = expected_events(*out);
    } else {
        // Live: the volume entries' calendar shapes (weekday, sine, linear_increase, gaussian, hour and
        // day tables) shape each source's rate; flat entries change nothing.
        for (std::size_t i = 0; i < in.sources.size(); ++i) {
            for (const VolumeSpec& v : in.sources[i].volume) {
                if (v.pattern == VolumePattern::weekday || v.pattern == VolumePattern::weekend ||
                    v.pattern == VolumePattern::sine_wave || v.pattern == VolumePattern::linear_increase ||
                    v.distribution == SpreadDistribution::gaussian || !v.hour_weights.empty() || !v.day_weights.empty() ||
                    v.burst_factor != 1) {
                    out->sources[i].live_volume.push_back(v);
                }
            }
        }
        assign_live_shares(*out, in, in.sources);
        bool any_share = false;
        for (const ScenarioSource& s : out->sources) any_share |= s.live_share > 0;
        if (!any_share) throw std::invalid_argument("no source can start events: give a root event type a rate or weight");
    }
    for (const ScenarioSource& s : out->sources) out->traced |= s.traced;
    out->content_type = out->sources.front().program->content_type;
    out->identity = in.identity;
    compile_incidents(in, *out);
    return out;
}

// ---- the per-shard engine

struct ScenarioEngine::Pending {
    std::int64_t time_ns = 0;
    std::uint64_t id_hi = 0;
    std::uint64_t id_lo = 0;
    std::uint16_t shape = 0;
    bool root = false;
    std::uint64_t key = 0;  // core/event_key.hpp: everything drawn for the event comes from it
    std::uint64_t parent_key = 0;  // trace context: the parent's span (unused on a root)
    std::uint64_t entity_key = 0;  // inherited fields are drawn from it (a root's own key)
};

namespace {
struct LaterFirst {
    template <class P>
    bool operator()(const P& a, const P& b) const { return a.time_ns > b.time_ns; }
};

// One volume entry's times, taken from its timeline a buffer at a time,
// and the index k of the next one: RootTimeline's contract is that shard i
// of n owns the roots k with k % n == i, in k order, so its j-th root is
// k = j * n + i. The root's key and request id come from (stream, k), so a
// root is the same event whichever shard (worker, part) makes it.
struct TimelineCursor {
    TimelineCursor(RootTimeline t, std::uint32_t buffer_events, std::uint64_t entry_stream, std::uint32_t shard_index,
                   std::uint32_t shard_count)
        : timeline(std::move(t)),
          buffer(buffer_events),
          stream(entry_stream),
          tag(stream_tag(entry_stream)),
          next_k(shard_index),
          stride(shard_count) {}
    RootTimeline timeline;
    std::vector<std::int64_t> buffer;
    std::uint32_t pos = 0;
    std::uint32_t len = 0;
    std::uint64_t stream;
    std::uint64_t tag;  // stream_tag(stream), for request ids
    std::uint64_t next_k;
    std::uint64_t stride;

    [[nodiscard]] std::uint64_t take_index() {
        const std::uint64_t k = next_k;
        next_k += stride;
        return k;
    }

    // The next time before `before_ns`, refilling the buffer as needed; INT64_MAX if none.
    std::int64_t head(std::int64_t before_ns) {
        if (pos == len) {
            if (timeline.peek() >= before_ns) return INT64_MAX;
            len = timeline.take(buffer, before_ns);
            pos = 0;
            if (len == 0) return INT64_MAX;
        }
        return buffer[pos] < before_ns ? buffer[pos] : INT64_MAX;
    }
    [[nodiscard]] bool exhausted() const { return pos == len && timeline.remaining() == 0; }
};
}  // namespace

struct ScenarioEngine::SourceState {
    std::unique_ptr<ProgramSource> program;
    std::vector<std::unique_ptr<TimelineCursor>> cursors;
    std::vector<Pending> heap;  // min-heap on time: dependent events (and events put back)
    // Live roots are events 0, 1, ... of this stream: one per source and
    // global shard index (part * workers + worker), so parts never overlap.
    std::uint64_t live_stream = 0;
    std::uint64_t live_tag = 0;
    std::uint64_t live_next = 0;
    std::int64_t live_last_ns = 0;
    double live_credit = 0;
    // Live bursts, one per live_volume entry: in a burst now, and when that changes (0: not started).
    std::vector<std::uint8_t> burst_on;
    std::vector<std::int64_t> burst_switch_ns;
    bool enabled = true;
    // By incident: the program its events are rendered with (null = `program`).
    std::vector<std::unique_ptr<ProgramSource>> incident_programs;
};

// The batch being assembled: what the engine decides per event.
struct ScenarioEngine::Staging {
    explicit Staging(std::uint32_t n)
        : times(n), keys(n), hi(n), lo(n), shapes(n), root(n), ends(n), spacings(n), parents(n), entities(n),
          trace(std::size_t{n} * trace_slot::count) {}
    std::vector<std::int64_t> times;
    std::vector<std::uint64_t> keys;
    std::vector<std::uint64_t> hi;
    std::vector<std::uint64_t> lo;
    std::vector<std::uint16_t> shapes;
    std::vector<std::uint8_t> root;
    std::vector<std::uint32_t> ends;
    std::vector<double> spacings;  // live: running sums of exponential gaps
    std::vector<std::uint64_t> parents;   // dependents: the parent's key
    std::vector<std::uint64_t> entities;  // the entity key (a root's own)
    std::vector<std::uint64_t> trace;     // trace context input columns, slot-major (core/trace_context.hpp)
};

ScenarioEngine::ScenarioEngine(std::shared_ptr<const CompiledScenario> scenario, const SourceIdentity& identity,
                               std::uint32_t batch_events_max, std::size_t batch_bytes_max)
    : scenario_(std::move(scenario)),
      batch_events_max_(batch_events_max),
      batch_bytes_max_(batch_bytes_max == 0 ? SIZE_MAX : batch_bytes_max),
      staging_(std::make_unique<Staging>(batch_events_max)) {
    if (batch_events_max == 0) throw std::invalid_argument("batch_events_max must be at least 1");
    const CompiledScenario& s = *scenario_;
    // Streams come from (seed, scenario identity, source name[, entry]), never
    // from the shard: the shard only decides which roots it makes.
    const std::uint32_t shard_count = std::max<std::uint32_t>(identity.shard_count, 1);
    const std::uint64_t run_stream = combine64(identity.seed, s.identity);
    live_timing_state_ = combine64(combine64(run_stream, 0x7141'0000ull), identity.shard_index);
    sources_.resize(s.sources.size());
    for (std::size_t i = 0; i < s.sources.size(); ++i) {
        SourceState& state = sources_[i];
        const std::uint64_t source_stream = combine64(run_stream, hash_text(s.sources[i].name));
        state.live_stream = combine64(combine64(source_stream, 0x11FE'0000ull), identity.shard_index);
        state.live_tag = stream_tag(state.live_stream);
        SourceIdentity program_identity = identity;
        program_identity.seed = source_stream;
        state.program = std::make_unique<ProgramSource>(s.sources[i].program, program_identity, batch_events_max,
                                                        select_kernels());
        event_bytes_max_ = std::max(event_bytes_max_, s.sources[i].program->event_bytes_max);
        // Every incident's programs are made now: starting one later allocates nothing.
        for (const CompiledIncident& incident : s.incidents) {
            const auto& alternative = incident.sources[i].program;
            state.incident_programs.push_back(alternative == nullptr ? nullptr
                                              : std::make_unique<ProgramSource>(alternative, program_identity,
                                                                                batch_events_max, select_kernels()));
            if (alternative != nullptr) event_bytes_max_ = std::max(event_bytes_max_, alternative->event_bytes_max);
        }
        state.heap.reserve(std::size_t{batch_events_max} * 4);
        if (!s.backfill) continue;
        for (std::size_t v = 0; v < s.sources[i].volume.size(); ++v) {
            const VolumeSpec& spec = s.sources[i].volume[v];
            const std::uint64_t entry_stream = combine64(source_stream, v + 1);
            RootTimeline timeline(spec, s.window_start_ns, s.window_end_ns, *s.zone, identity.shard_index, shard_count,
                                  combine64(entry_stream, 0x7131'E000ull));
            roots_total_ += timeline.total();
            state.cursors.push_back(std::make_unique<TimelineCursor>(std::move(timeline), batch_events_max, entry_stream,
                                                                     identity.shard_index, shard_count));
        }
    }
    for (std::size_t i = 0; i < s.sources.size(); ++i) {
        live_shaped_ |= !s.sources[i].live_volume.empty();
        sources_[i].burst_on.assign(s.sources[i].live_volume.size(), 0);
        sources_[i].burst_switch_ns.assign(s.sources[i].live_volume.size(), 0);
    }
    if (s.backfill) {
        std::int64_t horizon = s.window_end_ns;
        for (const ScenarioSource& src : s.sources) {
            for (const VolumeSpec& v : src.volume) horizon = std::max(horizon, v.end_ns);
        }
        // Slices of about four batches of root events each, so sources take
        // turns often while every batch still fills up.
        const double span = static_cast<double>(horizon - s.window_start_ns);
        const double slices = std::max(1.0, static_cast<double>(roots_total_) / (4.0 * batch_events_max));
        slice_ns_ = std::max<std::int64_t>(1'000'000, static_cast<std::int64_t>(span / slices));
        slice_end_ns_ = s.window_start_ns;
        order_pos_ = s.order.size();  // the first call opens the first slice
    }
}

ScenarioEngine::~ScenarioEngine() = default;

std::size_t ScenarioEngine::pending() const {
    std::size_t n = 0;
    for (const SourceState& s : sources_) n += s.heap.size();
    return n;
}

void ScenarioEngine::set_enabled(std::uint16_t source, bool enabled) {
    SourceState& state = sources_.at(source);
    if (state.enabled == enabled) return;
    state.enabled = enabled;
    // Live: root times start again from now, not spread over the time off.
    if (enabled) state.live_last_ns = 0;
}

bool ScenarioEngine::enabled(std::uint16_t source) const { return sources_.at(source).enabled; }

ScenarioEngine::Batch ScenarioEngine::next(std::uint32_t max_events, std::int64_t now_ns, std::span<char> out) {
    blocked_ = false;
    max_events = std::min(max_events, batch_events_max_);
    if (max_events == 0 || done_) return {};
    return scenario_->backfill ? next_backfill(max_events, out) : next_live(max_events, now_ns, out);
}

ScenarioEngine::Batch ScenarioEngine::next_backfill(std::uint32_t max_events, std::span<char> out) {
    const std::vector<std::uint16_t>& order = scenario_->order;
    for (;;) {
        if (order_pos_ >= order.size() && !advance_slice()) return {};
        const std::uint16_t source = order[order_pos_];
        const std::uint32_t n = collect(source, max_events, slice_end_ns_);
        if (n > 0) return render(source, n, out);
        ++order_pos_;
    }
}

// Opens the next time slice; false (and done) once nothing is left.
bool ScenarioEngine::advance_slice() {
    bool roots_left = false;
    bool pending_left = false;
    bool enabled_left = false;  // work a source that is enabled can do
    for (const SourceState& s : sources_) {
        bool left = !s.heap.empty();
        for (const auto& c : s.cursors) left |= !c->exhausted();
        for (const auto& c : s.cursors) roots_left |= !c->exhausted();
        pending_left |= !s.heap.empty();
        enabled_left |= left && s.enabled;
    }
    if (!roots_left && !pending_left) {
        done_ = true;
        return false;
    }
    if (!enabled_left) {
        // Only disabled sources have events left: wait for them where we are.
        blocked_ = true;
        return false;
    }
    slice_start_ns_ = slice_end_ns_;
    // Once the roots are all out, one last open slice flushes the dependents.
    slice_end_ns_ = roots_left && slice_end_ns_ <= INT64_MAX - slice_ns_ ? slice_end_ns_ + slice_ns_ : INT64_MAX;
    order_pos_ = 0;
    return true;
}

std::uint32_t ScenarioEngine::collect(std::uint16_t source, std::uint32_t max_events, std::int64_t before_ns) {
    SourceState& state = sources_[source];
    if (!state.enabled) return 0;  // its events wait, in order
    Staging& st = *staging_;
    std::uint32_t n = 0;
    while (n < max_events) {
        TimelineCursor* best = nullptr;
        std::int64_t best_ns = before_ns;
        for (auto& cursor : state.cursors) {
            const std::int64_t t = cursor->head(before_ns);
            if (t < best_ns) {
                best_ns = t;
                best = cursor.get();
            }
        }
        const bool from_heap = !state.heap.empty() && state.heap.front().time_ns < before_ns &&
                               (best == nullptr || state.heap.front().time_ns <= best_ns);
        if (!from_heap && best == nullptr) break;
        // A batch is rendered with one program: it ends where an incident
        // starts or ends. A silent source's events inside it are dropped.
        const int incident = scenario_->incidents.empty() ? -1 : incident_at(from_heap ? state.heap.front().time_ns : best_ns);
        const bool silent = incident >= 0 && overlay(source, incident)->silent;
        if (!silent && n > 0 && incident != batch_incident_) break;
        if (!silent && n == 0) batch_incident_ = incident;
        if (from_heap) {
            std::pop_heap(state.heap.begin(), state.heap.end(), LaterFirst{});
            const Pending p = state.heap.back();
            state.heap.pop_back();
            if (silent) {
                roots_done_ += p.root ? 1 : 0;
                continue;
            }
            st.times[n] = p.time_ns;
            st.keys[n] = p.key;
            st.hi[n] = p.id_hi;
            st.lo[n] = p.id_lo;
            st.shapes[n] = p.shape;
            st.root[n] = p.root;
            st.parents[n] = p.parent_key;
            st.entities[n] = p.entity_key;
            ++n;
            continue;
        }
        ++best->pos;
        const std::uint64_t k = best->take_index();
        if (silent) {
            ++roots_done_;
            continue;
        }
        st.times[n] = best_ns;
        st.keys[n] = event_key(best->stream, k);
        st.shapes[n] = root_shape_in(source, incident, st.keys[n]);
        request_id(best->tag, st.keys[n], st.hi[n], st.lo[n]);
        st.root[n] = 1;
        st.parents[n] = 0;
        st.entities[n] = st.keys[n];
        ++n;
    }
    return n;
}

ScenarioEngine::Batch ScenarioEngine::next_live(std::uint32_t max_events, std::int64_t now_ns, std::span<char> out) {
    if (live_since_ns_ == INT64_MIN) live_since_ns_ = now_ns;
    // Dependent events whose time has come go first; after a stop, all of
    // them, at their own times, without waiting.
    const std::int64_t before_ns = roots_stopped_ ? INT64_MAX : now_ns + 1;
    for (const std::uint16_t source : scenario_->order) {
        const SourceState& state = sources_[source];
        if (state.heap.empty() || state.heap.front().time_ns >= before_ns) continue;
        const std::uint32_t n = collect(source, max_events, before_ns);
        if (n > 0) return render(source, n, out);
    }
    if (roots_stopped_) {
        done_ = true;  // what is left waits for a disabled source: pending() counts it
        return {};
    }
    if (live_shaped_) advance_bursts(now_ns);
    const std::uint16_t source = pick_live_source(now_ns);
    if (source == UINT16_MAX) {
        blocked_ = true;  // every source that makes root events is disabled
        return {};
    }
    const std::uint32_t n = collect_live_roots(source, max_events, now_ns);
    return render(source, n, out);
}

void ScenarioEngine::stop_roots() {
    if (scenario_->backfill) return;  // a backfill stops where it is (and resumes from its checkpoint)
    roots_stopped_ = true;
}

double ScenarioEngine::live_rate_factor(std::int64_t since_start_ns, std::int64_t now_ns) const {
    const CompiledScenario& s = *scenario_;
    if (s.backfill) return 1;
    double f = 1;
    if (s.live.kind != LiveShape::Kind::constant || !s.live.hour_weights.empty() || !s.live.day_weights.empty()) {
        f = live_factor(s.live, since_start_ns, now_ns, *s.zone);
    }
    if (!live_shaped_) return f;
    double shares = 0;
    double shaped = 0;
    for (std::uint16_t i = 0; i < sources_.size(); ++i) {
        shares += s.sources[i].live_share;
        shaped += s.sources[i].live_share * source_live_factor(i, since_start_ns, now_ns);
    }
    return shares > 0 ? f * shaped / shares : f;
}

// A source's volume entries' calendar shapes at now, weighted by their counts.
double ScenarioEngine::source_live_factor(std::uint16_t source, std::int64_t since_start_ns, std::int64_t now_ns) const {
    const ScenarioSource& src = scenario_->sources[source];
    if (src.live_volume.empty()) return 1;
    double weight = 0;
    double f = 0;
    const SourceState& state = sources_[source];
    for (std::size_t e = 0; e < src.live_volume.size(); ++e) {
        const VolumeSpec& v = src.live_volume[e];
        const double w = static_cast<double>(std::max<std::uint64_t>(v.count, 1));
        const double burst = state.burst_on[e] != 0 ? v.burst_factor : 1;
        weight += w;
        f += w * burst * volume_live_factor(v, since_start_ns, now_ns, *scenario_->zone);
    }
    return f / weight;
}

// Live bursts: quiet spells and bursts of exponential lengths (means
// burst_off, burst_on) alternate on the wall clock; the first state is drawn
// with the long-run share of burst time. Wall time is not reproducible, so
// the engine's live timing stream draws them.
void ScenarioEngine::advance_bursts(std::int64_t now_ns) {
    for (std::size_t i = 0; i < sources_.size(); ++i) {
        SourceState& state = sources_[i];
        const auto& entries = scenario_->sources[i].live_volume;
        for (std::size_t e = 0; e < entries.size(); ++e) {
            const VolumeSpec& v = entries[e];
            if (v.burst_factor == 1 || v.burst_on_ns <= 0 || v.burst_off_ns <= 0) continue;
            const auto on_ns = static_cast<double>(v.burst_on_ns);
            const auto off_ns = static_cast<double>(v.burst_off_ns);
            auto spell = [&] {
                const double mean = state.burst_on[e] != 0 ? on_ns : off_ns;
                return 1 + static_cast<std::int64_t>(-std::log(live_uniform_open()) * mean);
            };
            if (state.burst_switch_ns[e] == 0) {
                state.burst_on[e] = live_uniform_open() * (on_ns + off_ns) < on_ns;
                state.burst_switch_ns[e] = now_ns + spell();
            }
            // A long pause (a stopped clock, a test jumping ahead) skips ahead, bounded.
            for (int guard = 0; guard < 1000 && state.burst_switch_ns[e] <= now_ns; ++guard) {
                state.burst_on[e] ^= 1;
                state.burst_switch_ns[e] += spell();
            }
            if (state.burst_switch_ns[e] <= now_ns) state.burst_switch_ns[e] = now_ns + spell();
        }
    }
}

// Weighted round robin over the sources' live shares, one batch at a time.
// A source's share follows its volume entries' calendar shape (a weekday
// source rests at the weekend while a 24/7 one goes on).
std::uint16_t ScenarioEngine::pick_live_source(std::int64_t now_ns) {
    const CompiledScenario& s = *scenario_;
    const int incident = s.incidents.empty() ? -1 : incident_at(now_ns);
    auto weight = [&](std::uint16_t i) {
        const bool silent = incident >= 0 && overlay(i, incident)->silent;
        const double w = sources_[i].enabled && !silent ? s.sources[i].live_share : 0;
        return live_shaped_ && w > 0 ? w * source_live_factor(i, live_since_ns_, now_ns) : w;
    };
    double total = 0;
    for (std::uint16_t i = 0; i < sources_.size(); ++i) total += weight(i);
    if (!(total > 0)) return UINT16_MAX;
    std::uint16_t best = 0;
    double best_credit = -1e300;
    for (std::uint16_t i = 0; i < sources_.size(); ++i) {
        const double w = weight(i);
        if (w <= 0) continue;
        sources_[i].live_credit += w / total;
        if (sources_[i].live_credit > best_credit) {
            best_credit = sources_[i].live_credit;
            best = i;
        }
    }
    sources_[best].live_credit -= 1;
    return best;
}

// Live root events: random arrivals over the time since this worker's
// previous root batch (the millisecond before now for the first), i.e. sorted
// uniform draws (running sums of exponential gaps, normalised), each at least
// 1 ns after the one before: a worker's roots never share a timestamp.
std::uint32_t ScenarioEngine::collect_live_roots(std::uint16_t source, std::uint32_t max_events, std::int64_t now_ns) {
    SourceState& state = sources_[source];
    Staging& st = *staging_;
    const bool fresh = live_last_root_ns_ == INT64_MIN || state.live_last_ns == 0;
    const std::int64_t from = fresh ? std::max(now_ns - 1'000'000, live_last_root_ns_) : std::min(live_last_root_ns_, now_ns);
    double* gaps = st.spacings.data();
    for (std::uint32_t i = 0; i < max_events; ++i) gaps[i] = live_uniform_open();
    for (std::uint32_t i = 0; i < max_events; ++i) gaps[i] = -fast_log(gaps[i]);  // exponential gaps (vectorises)
    double sum = 0;
    for (std::uint32_t i = 0; i < max_events; ++i) {
        sum += gaps[i];
        gaps[i] = sum;
    }
    sum -= fast_log(live_uniform_open());  // the gap after the last one: n + 1 spacings
    const double scale = static_cast<double>(std::max<std::int64_t>(now_ns - from, 0)) / sum;
    std::int64_t previous = live_last_root_ns_;
    batch_incident_ = scenario_->incidents.empty() ? -1 : incident_at(now_ns);
    for (std::uint32_t i = 0; i < max_events; ++i) {
        const std::int64_t t = from + static_cast<std::int64_t>(st.spacings[i] * scale);
        previous = t > previous ? t : previous + 1;
        st.times[i] = previous;
        const std::uint64_t k = state.live_next++;
        const std::uint64_t key = event_key(state.live_stream, k);
        st.keys[i] = key;
        st.shapes[i] = root_shape_in(source, batch_incident_, key);
        request_id(state.live_tag, key, st.hi[i], st.lo[i]);
        st.root[i] = 1;
        st.parents[i] = 0;
        st.entities[i] = key;
    }
    live_last_root_ns_ = previous;
    state.live_last_ns = now_ns;
    return max_events;
}

ScenarioEngine::Batch ScenarioEngine::render(std::uint16_t source, std::uint32_t count, std::span<char> out) {
    SourceState& state = sources_[source];
    const ScenarioSource& spec = scenario_->sources[source];
    Staging& st = *staging_;
    // A built-in program draws its own event types (its batches are all roots)
    // from the event keys. Request ids always come from the engine: unique
    // per root, inherited by dependents.
    if (spec.traced) fill_trace(source, count);
    const EventInputs inputs{st.times.data(),
                             st.keys.data(),
                             st.hi.data(),
                             st.lo.data(),
                             spec.program_picks_types ? nullptr : st.shapes.data(),
                             spec.traced ? st.trace.data() : nullptr,
                             batch_events_max_,
                             scenario_->entities ? st.entities.data() : nullptr};
    ProgramSource* program = state.program.get();
    if (batch_incident_ >= 0 && state.incident_programs[batch_incident_] != nullptr) {
        program = state.incident_programs[batch_incident_].get();
    }
    std::size_t bytes = program->write_events(count, inputs, out, st.ends.data());

    // Over the byte limit: keep the events that fit (at least one) and put
    // the rest back, to be rendered afresh in the next batch.
    std::uint32_t kept = count;
    if (bytes > batch_bytes_max_ && count > 1) {
        kept = static_cast<std::uint32_t>(
            std::upper_bound(st.ends.begin(), st.ends.begin() + count, batch_bytes_max_) - st.ends.begin());
        kept = std::max<std::uint32_t>(kept, 1);
        for (std::uint32_t i = kept; i < count; ++i) {
            push_pending(source, Pending{st.times[i], st.hi[i], st.lo[i], st.shapes[i], st.root[i] != 0, st.keys[i],
                                         st.parents[i], st.entities[i]});
        }
        bytes = st.ends[kept - 1];
    }
    for (std::uint32_t i = 0; i < kept; ++i) roots_done_ += st.root[i];
    if (!scenario_->rules.empty()) spawn_children(source, kept, out.data());
    return {source, kept, bytes};
}

void ScenarioEngine::spawn_children(std::uint16_t source, std::uint32_t count, const char* rendered) {
    const CompiledScenario& s = *scenario_;
    const Staging& st = *staging_;
    const auto& by_shape = s.rules_by_trigger[source];
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint64_t parent = st.keys[i];
        for (const std::uint32_t r : by_shape[st.shapes[i]]) {
            const ScenarioRule& rule = s.rules[r];
            if (rule.probability < 1 && unit_double(keyed_word(parent, key_draw::rule_fires + r)) >= rule.probability) {
                continue;
            }
            if (!rule.message_contains.empty()) {
                const std::uint32_t begin = i == 0 ? 0 : st.ends[i - 1];
                const std::string_view event(rendered + begin, st.ends[i] - begin);
                if (event.find(rule.message_contains) == std::string_view::npos) continue;
            }
            // Past the window's end a child keeps its delay: it lands after the
            // end (the last slice flushes it) rather than piling up on the last
            // instant or being dropped, which would leave its parent without it.
            const std::uint64_t child = child_key(parent, r);
            const std::int64_t t = st.times[i] + delay_ns(rule.delay, child);
            const std::uint64_t entity = rule.inherit ? st.entities[i] : child;  // a link that inherits passes the entity on
            push_pending(rule.action_source, Pending{t, st.hi[i], st.lo[i], rule.action_shape, false, child, parent, entity});
        }
    }
}

void ScenarioEngine::push_pending(std::uint16_t source, const Pending& event) {
    std::vector<Pending>& heap = sources_[source].heap;
    heap.push_back(event);
    std::push_heap(heap.begin(), heap.end(), LaterFirst{});
}

// Trace context of a batch: ids from the keys and request ids, durations
// from the rules (pure functions of the keys, as everything else).
void ScenarioEngine::fill_trace(std::uint16_t source, std::uint32_t count) {
    Staging& st = *staging_;
    const std::size_t stride = batch_events_max_;
    std::uint64_t* trace = st.trace.data();
    for (std::uint32_t i = 0; i < count; ++i) {
        trace_of(st.hi[i], st.lo[i], trace[trace_slot::trace_hi * stride + i], trace[trace_slot::trace_lo * stride + i]);
        trace[trace_slot::span * stride + i] = span_of(st.keys[i]);
        trace[trace_slot::parent_span * stride + i] = st.root[i] != 0 ? 0 : span_of(st.parents[i]);
        trace[trace_slot::duration_ns * stride + i] =
            static_cast<std::uint64_t>(span_duration_ns(source, st.shapes[i], st.keys[i]));
    }
}

// The span covers every child its rules may make (by their probability; a
// message_contains rule counts whether or not the text turns up) and, in
// turn, their spans: max over children of delay + the child's span. The
// rules form no cycle (reject_cycles), so the recursion ends.
std::int64_t ScenarioEngine::span_duration_ns(std::uint16_t source, std::uint16_t shape, std::uint64_t key) const {
    const CompiledScenario& s = *scenario_;
    std::int64_t longest = 0;
    for (const std::uint32_t r : s.rules_by_trigger[source][shape]) {
        const ScenarioRule& rule = s.rules[r];
        if (rule.probability < 1 && unit_double(keyed_word(key, key_draw::rule_fires + r)) >= rule.probability) continue;
        const std::uint64_t child = child_key(key, r);
        const std::int64_t end = delay_ns(rule.delay, child) + span_duration_ns(rule.action_source, rule.action_shape, child);
        longest = std::max(longest, end);
    }
    return longest;
}

// Drawn from the dependent's own key: the same delay whichever shard makes it.
std::int64_t ScenarioEngine::delay_ns(const DelaySpec& d, std::uint64_t key) {
    const double u = unit_double(keyed_word(key, key_draw::delay_u));
    double ns = 0;
    switch (d.kind) {
        case DelaySpec::Kind::none: ns = 1e6 + u * 49e6; break;  // 1..50 ms: a believable hop
        case DelaySpec::Kind::fixed: ns = static_cast<double>(d.mean_ns); break;
        case DelaySpec::Kind::uniform: ns = static_cast<double>(d.min_ns) + u * static_cast<double>(d.max_ns - d.min_ns); break;
        case DelaySpec::Kind::exponential:
            ns = static_cast<double>(d.min_ns) - std::log1p(-u) * static_cast<double>(d.mean_ns);
            break;
        case DelaySpec::Kind::normal: {
            const double v = std::max(unit_double(keyed_word(key, key_draw::delay_v)), 1e-300);
            const double z = std::sqrt(-2 * std::log(v)) * std::cos(2 * std::numbers::pi * u);
            ns = static_cast<double>(d.mean_ns) + z * static_cast<double>(d.stddev_ns);
            ns = std::max(ns, static_cast<double>(d.min_ns));
            break;
        }
    }
    if (d.max_ns > 0) ns = std::min(ns, static_cast<double>(d.max_ns));
    return static_cast<std::int64_t>(std::max(ns, 0.0));
}

// A root event's type: by the source's root weights, from its key.
std::uint16_t ScenarioEngine::root_shape(const ScenarioSource& spec, std::uint64_t key) {
    if (spec.root_shapes.size() <= 1) return spec.root_shapes.empty() ? 0 : spec.root_shapes[0];
    return spec.root_shapes[alias_sample_one(keyed_word(key, key_draw::root_type), spec.root_pick.view())];
}

void ScenarioEngine::set_live_incident(int incident) {
    live_incident_ = incident >= 0 && static_cast<std::size_t>(incident) < scenario_->incidents.size() ? incident : -1;
}

int ScenarioEngine::incident_at(std::int64_t time_ns) const {
    if (live_incident_ >= 0) return live_incident_;
    const CompiledScenario& s = *scenario_;
    if (!s.backfill && live_since_ns_ == INT64_MIN) return -1;
    // Backfill windows are absolute; live ones count from the run's start.
    const std::int64_t t = s.backfill ? time_ns : time_ns - live_since_ns_;
    for (std::size_t i = 0; i < s.incidents.size(); ++i) {
        const CompiledIncident& incident = s.incidents[i];
        if (incident.scheduled && t >= incident.start_ns && t < incident.end_ns) return static_cast<int>(i);
    }
    return -1;
}

const IncidentSource* ScenarioEngine::overlay(std::uint16_t source, int incident) const {
    assert(incident >= 0 && static_cast<std::size_t>(incident) < scenario_->incidents.size());
    return &scenario_->incidents[incident].sources[source];
}

// A root's type under an incident's rate effects, else by the source's own weights.
std::uint16_t ScenarioEngine::root_shape_in(std::uint16_t source, int incident, std::uint64_t key) const {
    const ScenarioSource& spec = scenario_->sources[source];
    if (incident < 0) return root_shape(spec, key);
    const IncidentSource& o = *overlay(source, incident);
    if (!o.own_pick) return root_shape(spec, key);
    if (o.root_shapes.size() <= 1) return o.root_shapes.empty() ? 0 : o.root_shapes[0];
    return o.root_shapes[alias_sample_one(keyed_word(key, key_draw::root_type), o.root_pick.view())];
}

double ScenarioEngine::live_uniform_open() {
    return (static_cast<double>(splitmix64_next(live_timing_state_) >> 11) + 0.5) * 0x1.0p-53;
}

}  // namespace supervent::core
