// Incidents (core/incident.hpp): an overlay changes the attribute mix only
// inside its window (backfill) or while it is active (live), and bad
// incidents are refused naming what is wrong.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "test/common/alloc_counter.hpp"
#include "core/scenario_engine.hpp"

using namespace supervent::core;

namespace {

constexpr std::int64_t hour_ns = 3'600'000'000'000;
constexpr std::int64_t jan1_2024_ns = 1'704'067'200'000'000'000;

FieldSpec field(std::string name, FieldKind kind) {
    FieldSpec f;
    f.name = std::move(name);
    f.kind = kind;
    return f;
}

// web: status 200/404/500/503 (5 % 5xx), latency_ms 10..100, types access
// (99) and error (1); db: one query type. Both over the same day.
SourceSpec web_source(std::uint64_t count) {
    SourceSpec s;
    s.name = "web";
    s.description = "web";
    FieldSpec t = field("t", FieldKind::timestamp);
    t.format = "epoch_ns";
    FieldSpec status = field("status", FieldKind::choice);
    for (const char* v : {"200", "404", "500", "503"}) status.values.push_back({SchemaValue::Type::integer, v});
    status.weights = {90, 5, 3, 2};
    FieldSpec latency = field("latency_ms", FieldKind::integer);
    latency.min = 10;
    latency.max = 100;
    s.fields = {t, status, latency};
    EventTypeSpec access;
    access.name = "access";
    access.weight = 99;
    access.message = "m";
    EventTypeSpec error = access;
    error.name = "error";
    error.weight = 1;
    s.event_types = {access, error};
    VolumeSpec v;
    v.count = count;
    s.volume = {v};
    return s;
}

SourceSpec db_source(std::uint64_t count) {
    SourceSpec s = web_source(count);
    s.name = "db";
    s.description = "db";
    s.event_types.resize(1);
    s.event_types[0].name = "query";
    return s;
}

IncidentEffect effect(IncidentEffect::Kind kind, std::string source) {
    IncidentEffect e;
    e.kind = kind;
    e.source = std::move(source);
    return e;
}

// 5xx at 30 %, latency x10, error events x30, db silent.
IncidentSpec outage(std::optional<std::int64_t> start_ns, std::int64_t duration_ns) {
    IncidentSpec incident;
    incident.name = "outage";
    incident.start_ns = start_ns;
    incident.duration_ns = duration_ns;
    IncidentEffect status = effect(IncidentEffect::Kind::percent, "web");
    status.field = "status";
    status.percent = {{"500", 20}, {"503", 10}};
    IncidentEffect latency = effect(IncidentEffect::Kind::scale, "web");
    latency.field = "latency_ms";
    latency.factor = 10;
    IncidentEffect errors = effect(IncidentEffect::Kind::rate, "web");
    errors.event_type = "error";
    errors.factor = 30;
    incident.effects = {status, latency, errors, effect(IncidentEffect::Kind::silent, "db")};
    return incident;
}

ScenarioInputs inputs(std::vector<IncidentSpec> incidents, bool backfill = true) {
    ScenarioInputs in;
    in.sources = {web_source(40'000), db_source(8'000)};
    in.spec.incidents = std::move(incidents);
    if (backfill) {
        in.window_start_ns = jan1_2024_ns;
        in.window_end_ns = jan1_2024_ns + 24 * hour_ns;
    }
    in.default_dataset = "d";
    return in;
}

std::string value_of(const std::string& line, const std::string& key) {
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

// What a part of the run looked like.
struct Mix {
    std::uint64_t web = 0;
    std::uint64_t db = 0;
    std::uint64_t server_errors = 0;  // 5xx
    std::uint64_t error_events = 0;
    std::int64_t latency_max = 0;
    std::uint64_t latency_over_100 = 0;

    void add(const std::string& line) {
        if (value_of(line, "source") == "db") {
            ++db;
            return;
        }
        ++web;
        server_errors += value_of(line, "status")[0] == '5';
        error_events += value_of(line, "event_type") == "error";
        const std::int64_t latency = std::stoll(value_of(line, "latency_ms"));
        latency_max = std::max(latency_max, latency);
        latency_over_100 += latency > 100;
    }
    [[nodiscard]] double share(std::uint64_t n) const { return static_cast<double>(n) / static_cast<double>(web); }
};

// Adds each event of a rendered batch to `inside` or `outside`.
template <class Inside>
void split(const char* data, std::size_t bytes, Inside is_inside, Mix& inside, Mix& outside) {
    const std::string text(data, bytes);
    std::size_t begin = 0;
    while (begin < text.size()) {
        const std::size_t end = text.find('\n', begin);
        REQUIRE(end != std::string::npos);
        const std::string line = text.substr(begin, end - begin);
        begin = end + 1;
        (is_inside(std::stoll(value_of(line, "t"))) ? inside : outside).add(line);
    }
}

std::string compile_error(const ScenarioInputs& in) {
    try {
        (void)compile_scenario(in);
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a scheduled incident changes the mix only inside its window", "[incident]") {
    const std::int64_t from = jan1_2024_ns + 6 * hour_ns;
    const std::int64_t to = from + 6 * hour_ns;
    const auto scenario = compile_scenario(inputs({outage(6 * hour_ns, 6 * hour_ns)}));
    REQUIRE(scenario->incidents.size() == 1);
    CHECK(scenario->incidents[0].start_ns == from);
    Mix inside;
    Mix outside;
    for (std::uint32_t shard = 0; shard < 2; ++shard) {
        ScenarioEngine engine(scenario, SourceIdentity{11, shard, 2}, 500, 0);
        std::vector<char> buffer(500 * engine.event_bytes_max());
        for (int guard = 0; guard < 100'000 && !engine.done(); ++guard) {
            const auto batch = engine.next(500, 0, buffer);
            split(buffer.data(), batch.bytes, [&](std::int64_t t) { return t >= from && t < to; }, inside, outside);
        }
        CHECK(engine.done());
        CHECK(engine.roots_done() == engine.roots_total());  // silenced roots count as done
    }
    // About a quarter of the day's 40,000 web events fall inside: 4 sigma of a
    // binomial share over 10,000 events is under 0.02.
    REQUIRE(inside.web > 8'000);
    CHECK(inside.share(inside.server_errors) == Approx(0.30).margin(0.02));
    CHECK(outside.share(outside.server_errors) == Approx(0.05).margin(0.01));
    CHECK(inside.share(inside.error_events) == Approx(30.0 / 129).margin(0.02));
    CHECK(outside.share(outside.error_events) == Approx(0.01).margin(0.005));
    CHECK(inside.latency_max > 100);
    CHECK(inside.latency_max <= 1000);
    CHECK(inside.share(inside.latency_over_100) > 0.85);
    CHECK(outside.latency_max <= 100);
    // The db source is silent inside, and keeps its own events outside.
    CHECK(inside.db == 0);
    CHECK(outside.db == Approx(8'000 * 0.75).margin(400));
}

TEST_CASE("events outside an incident are the same bytes as without it", "[incident]") {
    auto run = [](const ScenarioInputs& in, std::int64_t skip_from, std::int64_t skip_to) {
        const auto scenario = compile_scenario(in);
        ScenarioEngine engine(scenario, SourceIdentity{3, 0, 1}, 256, 0);
        std::vector<char> buffer(256 * engine.event_bytes_max());
        std::vector<std::string> lines;
        while (!engine.done()) {
            const auto batch = engine.next(256, 0, buffer);
            const std::string text(buffer.data(), batch.bytes);
            std::size_t begin = 0;
            while (begin < text.size()) {
                const std::size_t end = text.find('\n', begin);
                const std::string line = text.substr(begin, end - begin);
                const std::int64_t t = std::stoll(value_of(line, "t"));
                if (t < skip_from || t >= skip_to) lines.push_back(line);
                begin = end + 1;
            }
        }
        return lines;
    };
    const std::int64_t from = jan1_2024_ns + 20 * hour_ns;
    const std::int64_t to = from + hour_ns;
    CHECK(run(inputs({outage(20 * hour_ns, hour_ns)}), from, to) == run(inputs({}), from, to));
}

TEST_CASE("a live incident applies while it is active and not after", "[incident]") {
    const auto scenario = compile_scenario(inputs({outage(std::nullopt, 0)}, false));
    ScenarioEngine engine(scenario, SourceIdentity{5, 0, 1}, 1000, 0);
    std::vector<char> buffer(1000 * engine.event_bytes_max());
    std::int64_t now = jan1_2024_ns;
    auto mix = [&] {
        Mix m;
        Mix unused;
        for (int i = 0; i < 30; ++i) {
            now += 10'000'000;
            const auto batch = engine.next(1000, now, buffer);
            split(buffer.data(), batch.bytes, [](std::int64_t) { return true; }, m, unused);
        }
        return m;
    };
    const Mix before = mix();
    engine.set_live_incident(0);
    CHECK(engine.incident_at(now) == 0);
    // Every incident's program was made with the engine: starting one allocates nothing.
    const std::uint64_t allocations = supervent::test::heap_allocations();
    for (int i = 0; i < 10; ++i) {
        now += 10'000'000;
        (void)engine.next(1000, now, buffer);
    }
    CHECK(supervent::test::heap_allocations() == allocations);
    const Mix during = mix();
    engine.set_live_incident(-1);
    const Mix after = mix();
    CHECK(before.share(before.server_errors) == Approx(0.05).margin(0.01));
    CHECK(during.share(during.server_errors) == Approx(0.30).margin(0.02));
    CHECK(during.latency_max > 100);
    CHECK(during.db == 0);  // silent: the other source takes the rate
    CHECK(after.share(after.server_errors) == Approx(0.05).margin(0.01));
    CHECK(after.latency_max <= 100);
    CHECK(after.db > 0);
    engine.set_live_incident(7);  // out of range: none
    CHECK(engine.incident_at(now) == -1);
}

TEST_CASE("a live incident that silences every source blocks the engine until it ends", "[incident]") {
    ScenarioInputs in = inputs({}, false);
    in.sources.resize(1);
    IncidentSpec quiet;
    quiet.name = "quiet";
    quiet.effects = {effect(IncidentEffect::Kind::silent, "web")};
    in.spec.incidents = {quiet};
    ScenarioEngine engine(compile_scenario(in), SourceIdentity{5, 0, 1}, 100, 0);
    std::vector<char> buffer(100 * engine.event_bytes_max());
    CHECK(engine.next(100, jan1_2024_ns, buffer).events == 100);
    engine.set_live_incident(0);
    CHECK(engine.live_incident() == 0);
    CHECK(engine.next(100, jan1_2024_ns + 1'000'000, buffer).events == 0);
    CHECK(engine.blocked());
    engine.set_live_incident(-1);
    CHECK(engine.next(100, jan1_2024_ns + 2'000'000, buffer).events == 100);
    CHECK_FALSE(engine.blocked());
}

TEST_CASE("a live scheduled incident counts from the run's start", "[incident]") {
    const auto scenario = compile_scenario(inputs({outage(hour_ns, hour_ns)}, false));
    ScenarioEngine engine(scenario, SourceIdentity{5, 0, 1}, 100, 0);
    std::vector<char> buffer(100 * engine.event_bytes_max());
    (void)engine.next(100, jan1_2024_ns, buffer);
    CHECK(engine.incident_at(jan1_2024_ns + hour_ns / 2) == -1);
    CHECK(engine.incident_at(jan1_2024_ns + hour_ns + 1) == 0);
    CHECK(engine.incident_at(jan1_2024_ns + 2 * hour_ns) == -1);
    CHECK(find_incident(*scenario, "outage") == 0);
    CHECK(find_incident(*scenario, "nope") == -1);
}

TEST_CASE("a rate weight switches a dependency-only type on", "[incident]") {
    ScenarioInputs in = inputs({});
    in.sources[0].event_types[1].root = false;  // error: only as a dependency
    IncidentSpec incident;
    incident.name = "errors";
    incident.start_ns = 0;
    incident.duration_ns = 24 * hour_ns;
    IncidentEffect on = effect(IncidentEffect::Kind::rate, "web");
    on.event_type = "error";
    on.weight = 99;
    incident.effects = {on};
    in.spec.incidents = {incident};
    const auto scenario = compile_scenario(in);
    ScenarioEngine engine(scenario, SourceIdentity{1, 0, 1}, 500, 0);
    std::vector<char> buffer(500 * engine.event_bytes_max());
    Mix all;
    Mix unused;
    while (!engine.done()) {
        const auto batch = engine.next(500, 0, buffer);
        split(buffer.data(), batch.bytes, [](std::int64_t) { return true; }, all, unused);
    }
    CHECK(all.share(all.error_events) == Approx(0.5).margin(0.02));
}

TEST_CASE("bad incidents are refused naming what is wrong", "[incident]") {
    auto with = [](auto change) {
        IncidentSpec incident = outage(0, hour_ns);
        incident.origin = {"scn.toml", 9, "scenario.incidents[0]"};
        change(incident);
        return compile_error(inputs({incident}));
    };
    CHECK_THAT(with([](IncidentSpec& i) { i.effects[0].source = "nope"; }), Catch::Contains("unknown source \"nope\""));
    CHECK_THAT(with([](IncidentSpec& i) { i.effects[0].field = "nope"; }), Catch::Contains("no field \"nope\""));
    CHECK_THAT(with([](IncidentSpec& i) { i.effects[0].percent[0].first = "501"; }),
               Catch::Contains("no value \"501\" (its values: 200, 404, 500, 503)"));
    CHECK_THAT(with([](IncidentSpec& i) { i.effects[0].percent[0].second = 95; }), Catch::Contains("more than 100"));
    CHECK_THAT(with([](IncidentSpec& i) { i.effects[0].field = "latency_ms"; }), Catch::Contains("percent needs a choice field"));
    CHECK_THAT(with([](IncidentSpec& i) { i.effects[1].field = "status"; }), Catch::Contains("scale needs an integer or float"));
    CHECK_THAT(with([](IncidentSpec& i) { i.effects[2].event_type = "boom"; }), Catch::Contains("no event type \"boom\""));
    CHECK_THAT(with([](IncidentSpec& i) { i.duration_ns = 0; }), Catch::Contains("needs a duration"));
    CHECK_THAT(with([](IncidentSpec& i) { i.effects.clear(); }), Catch::Contains("has no effects"));
    CHECK_THAT(compile_error(inputs({outage(0, hour_ns), outage(hour_ns, hour_ns)})), Catch::Contains("duplicate incident \"outage\""));
}
