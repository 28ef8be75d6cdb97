// The scenario engine's handling of time (issue 18, item 1): live root
// timestamps strictly increase within a worker, dependents past a backfill's
// end land after it with their delay, a live stop sends every pending
// dependent, and volume shapes drive the live rate.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/scenario_engine.hpp"

using namespace supervent::core;

namespace {

constexpr std::int64_t s_ns = 1'000'000'000;
constexpr std::int64_t hour_ns = 3600 * s_ns;
constexpr std::int64_t day_ns = 24 * hour_ns;
constexpr std::int64_t jan1_2024_ns = 1'704'067'200 * s_ns;  // a Monday

EventTypeSpec type(std::string name, bool root = true) {
    EventTypeSpec t;
    t.name = std::move(name);
    t.root = root;
    t.message = "m";
    return t;
}

SourceSpec source(std::string name, std::vector<EventTypeSpec> types, std::uint64_t count = 0) {
    SourceSpec s;
    s.name = std::move(name);
    s.description = s.name;
    FieldSpec t;
    t.name = "t";
    t.kind = FieldKind::timestamp;
    t.format = "epoch_ns";
    s.fields = {t};
    s.event_types = std::move(types);
    if (count > 0) {
        VolumeSpec v;
        v.count = count;
        s.volume.push_back(v);
    }
    return s;
}

DependencySpec rule(std::string from, std::string from_type, std::string to, std::string to_type,
                    std::int64_t delay_ns) {
    DependencySpec d;
    d.trigger_source = std::move(from);
    d.trigger_type = std::move(from_type);
    d.action_source = std::move(to);
    d.action_type = std::move(to_type);
    d.delay.kind = DelaySpec::Kind::fixed;
    d.delay.mean_ns = delay_ns;
    return d;
}

std::string field(const std::string& line, const std::string& key) {
    const std::string marker = "\"" + key + "\":";
    const auto at = line.find(marker);
    if (at == std::string::npos) return {};
    auto begin = at + marker.size();
    if (line[begin] == '"') {
        ++begin;
        return line.substr(begin, line.find('"', begin) - begin);
    }
    return line.substr(begin, line.find_first_of(",}", begin) - begin);
}

struct Event {
    std::string source;
    std::string request_id;
    std::int64_t time_ns;
};

std::vector<Event> parse(const std::vector<char>& buffer, const ScenarioEngine::Batch& b) {
    std::vector<Event> out;
    const std::string text(buffer.data(), b.bytes);
    std::size_t begin = 0;
    for (std::uint32_t i = 0; i < b.events; ++i) {
        const std::size_t end = text.find('\n', begin);
        const std::string line = text.substr(begin, end - begin);
        begin = end + 1;
        out.push_back({field(line, "source"), field(line, "request_id"), std::stoll(field(line, "t"))});
    }
    return out;
}

}  // namespace

TEST_CASE("live: a worker's root timestamps strictly increase, from its first batch on", "[scenario][time]") {
    ScenarioInputs in;
    in.sources = {source("web", {type("access")}), source("db", {type("query")})};
    const auto scenario = compile_scenario(in);
    ScenarioEngine engine(scenario, SourceIdentity{3, 0, 1}, 2000, 0);
    std::vector<char> buffer(2000 * engine.event_bytes_max());
    std::int64_t last = INT64_MIN;
    std::size_t events = 0;
    std::size_t out_of_order = 0;
    std::set<std::int64_t> seen;
    // Unlimited rate: batches come faster than the clock moves (some at the very same now).
    for (int i = 0; i < 50; ++i) {
        const std::int64_t now = jan1_2024_ns + (i / 5) * 100'000;
        const auto b = engine.next(2000, now, buffer);
        REQUIRE(b.events == 2000);
        for (const Event& e : parse(buffer, b)) {
            out_of_order += e.time_ns <= last;
            last = e.time_ns;
            seen.insert(e.time_ns);
            ++events;
        }
    }
    CHECK(out_of_order == 0);
    CHECK(seen.size() == events);  // distinct
}

TEST_CASE("live: root gaps within a batch are random, not a grid", "[scenario][time]") {
    ScenarioInputs in;
    in.sources = {source("web", {type("access")})};
    ScenarioEngine engine(compile_scenario(in), SourceIdentity{5, 0, 1}, 1000, 0);
    std::vector<char> buffer(1000 * engine.event_bytes_max());
    (void)engine.next(1000, jan1_2024_ns, buffer);
    const auto events = parse(buffer, engine.next(1000, jan1_2024_ns + 10 * s_ns, buffer));
    // Exponential gaps have a coefficient of variation of 1 (a jittered grid ~0.4).
    double s1 = 0;
    double s2 = 0;
    for (std::size_t i = 1; i < events.size(); ++i) {
        const double g = static_cast<double>(events[i].time_ns - events[i - 1].time_ns);
        s1 += g;
        s2 += g * g;
    }
    const double n = static_cast<double>(events.size() - 1);
    const double cv = std::sqrt(s2 / n - (s1 / n) * (s1 / n)) / (s1 / n);
    CHECK(cv == Approx(1).margin(0.15));  // sd of the estimate ~0.045 at n = 999
}

TEST_CASE("backfill: dependents past the window end land after it with their delay", "[scenario][time]") {
    ScenarioInputs in;
    in.sources = {source("web", {type("access")}, 2000), source("app", {type("info", false)})};
    in.spec.dependencies = {rule("web", "access", "app", "info", hour_ns)};
    in.window_start_ns = jan1_2024_ns;
    in.window_end_ns = jan1_2024_ns + day_ns;
    const auto scenario = compile_scenario(in);
    ScenarioEngine engine(scenario, SourceIdentity{7, 0, 1}, 500, 0);
    std::vector<char> buffer(500 * engine.event_bytes_max());
    std::map<std::string, std::int64_t> parents;
    std::map<std::string, std::int64_t> children;
    while (true) {
        const auto b = engine.next(500, 0, buffer);
        if (b.events == 0) break;
        for (const Event& e : parse(buffer, b)) (e.source == "web" ? parents : children)[e.request_id] = e.time_ns;
    }
    CHECK(engine.done());
    REQUIRE(parents.size() == 2000);
    REQUIRE(children.size() == 2000);
    int after_end = 0;
    int on_last_instant = 0;
    for (const auto& [id, t] : parents) {
        REQUIRE(children.count(id) == 1);
        CHECK(children[id] == t + hour_ns);
        after_end += children[id] >= *in.window_end_ns;
        on_last_instant += children[id] == *in.window_end_ns - 1;
    }
    CHECK(after_end > 40);  // about 2000 / 24 roots fall in the last hour
    CHECK(on_last_instant == 0);
}

TEST_CASE("live stop: every root gets its children, then the engine is done", "[scenario][time]") {
    ScenarioInputs in;
    in.sources = {source("web", {type("access")}), source("app", {type("call", false)}),
                  source("db", {type("query", false)})};
    in.spec.dependencies = {rule("web", "access", "app", "call", 2 * s_ns), rule("app", "call", "db", "query", 3 * s_ns)};
    const auto scenario = compile_scenario(in);
    ScenarioEngine engine(scenario, SourceIdentity{9, 0, 1}, 10, 0);
    std::vector<char> buffer(10 * engine.event_bytes_max());
    std::map<std::string, std::set<std::string>> tree;  // request id -> sources seen
    auto take = [&](const ScenarioEngine::Batch& b) {
        for (const Event& e : parse(buffer, b)) tree[e.request_id].insert(e.source);
    };
    // Ten seconds: every 100 ms the dependents due, then a root batch; then a stop.
    for (int i = 0; i < 100; ++i) {
        for (int guard = 0; guard < 100; ++guard) {
            const auto b = engine.next(10, jan1_2024_ns + i * s_ns / 10, buffer);
            take(b);
            if (b.source == 0) break;
        }
    }
    CHECK(engine.pending() > 0);
    engine.stop_roots();
    int batches = 0;
    while (batches < 1000) {
        const auto b = engine.next(10, jan1_2024_ns + 10 * s_ns, buffer);
        if (b.events == 0) break;
        CHECK(b.source != 0);  // no root after the stop
        take(b);
        ++batches;
    }
    CHECK(engine.done());
    CHECK(engine.pending() == 0);
    std::size_t complete = 0;
    for (const auto& [id, sources] : tree) complete += sources == std::set<std::string>{"web", "app", "db"};
    CHECK(tree.size() == 1000);
    CHECK(complete == tree.size());
}

TEST_CASE("live: volume shapes and the live shape's tables drive the live rate", "[scenario][time]") {
    ScenarioInputs in;
    SourceSpec office = source("office", {type("login")}, 100);
    office.volume[0].pattern = VolumePattern::weekday;
    office.volume[0].hour_weights = std::vector<double>(24, 1.0);
    office.volume[0].hour_weights[10] = 24 + 1;  // 10:00 has 25 of 48 parts: factor 12.5
    for (std::size_t h = 0; h < 24; ++h) office.volume[0].hour_weights[h] = h == 10 ? 25 : 1;
    SourceSpec always = source("always", {type("tick")}, 100);
    in.sources = {office, always};
    const auto scenario = compile_scenario(in);
    ScenarioEngine engine(scenario, SourceIdentity{1, 0, 1}, 10, 0);
    const std::int64_t saturday_10 = jan1_2024_ns + 5 * day_ns + 10 * hour_ns;
    const std::int64_t monday_10 = jan1_2024_ns + 10 * hour_ns;
    const std::int64_t monday_3 = jan1_2024_ns + 3 * hour_ns;
    // Equal shares: the run's factor is the mean of the two sources' factors.
    CHECK(engine.live_rate_factor(jan1_2024_ns, saturday_10) == Approx(0.5));
    CHECK(engine.live_rate_factor(jan1_2024_ns, monday_10) == Approx((12.5 + 1) / 2));
    CHECK(engine.live_rate_factor(jan1_2024_ns, monday_3) == Approx((0.5 + 1) / 2));
    // At the weekend every root batch goes to the 24/7 source.
    std::vector<char> buffer(10 * engine.event_bytes_max());
    std::map<std::uint16_t, int> picks;
    for (int i = 0; i < 40; ++i) ++picks[engine.next(10, saturday_10 + i, buffer).source];
    CHECK(picks[1] == 40);

    // The scenario-wide live shape: an hour table scaled to average 1.
    ScenarioInputs flat;
    flat.sources = {source("web", {type("access")})};
    flat.spec.live.hour_weights = std::vector<double>(24, 1.0);
    flat.spec.live.hour_weights[14] = 25;
    ScenarioEngine shaped(compile_scenario(flat), SourceIdentity{1, 0, 1}, 10, 0);
    CHECK(shaped.live_rate_factor(jan1_2024_ns, jan1_2024_ns + 14 * hour_ns) == Approx(12.5));
    CHECK(shaped.live_rate_factor(jan1_2024_ns, jan1_2024_ns + 2 * hour_ns) == Approx(0.5));
}

TEST_CASE("live: a burst entry raises its source's rate by burst_factor during bursts", "[scenario][time]") {
    ScenarioInputs in;
    SourceSpec web = source("web", {type("access")}, 100);
    web.volume[0].burst_factor = 10;
    web.volume[0].burst_on_ns = 60 * s_ns;
    web.volume[0].burst_off_ns = 540 * s_ns;
    in.sources = {web};
    ScenarioEngine engine(compile_scenario(in), SourceIdentity{2, 0, 1}, 10, 0);
    std::vector<char> buffer(10 * engine.event_bytes_max());
    // Ten hours in 10-s steps: the factor is 1 or 10, 10 about a tenth of the time.
    int bursting = 0;
    int quiet = 0;
    constexpr int steps = 3600;
    for (int i = 0; i < steps; ++i) {
        const std::int64_t now = jan1_2024_ns + i * 10 * s_ns;
        (void)engine.next(10, now, buffer);
        const double f = engine.live_rate_factor(jan1_2024_ns, now);
        bursting += f == Approx(10);
        quiet += f == Approx(1);
    }
    CHECK(bursting + quiet == steps);
    // Share of burst time 60 / 600 = 0.1; about 60 bursts in 10 h, so the share spreads by ~0.03.
    CHECK(bursting > steps * 0.03);
    CHECK(bursting < steps * 0.2);
}
