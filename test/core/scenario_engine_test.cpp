// The scenario engine: several sources, exact backfill counts, dependency
// ratios and request id inheritance, time order within batches, datasets,
// byte limits, and the checks compile_scenario makes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/scenario_engine.hpp"

using namespace supervent::core;

namespace {

constexpr std::int64_t day_ns = 86'400'000'000'000;
constexpr std::int64_t jan1_2024_ns = 1'704'067'200'000'000'000;

FieldSpec epoch_field() {
    FieldSpec f;
    f.name = "t";
    f.kind = FieldKind::timestamp;
    f.format = "epoch_ns";
    return f;
}

EventTypeSpec type(std::string name, bool root = true, std::string message = "m") {
    EventTypeSpec t;
    t.name = std::move(name);
    t.root = root;
    t.message = std::move(message);
    return t;
}

SourceSpec source(std::string name, std::vector<EventTypeSpec> types, std::uint64_t count = 0,
                  std::string dataset = "") {
    SourceSpec s;
    s.name = std::move(name);
    s.description = s.name + " logs";
    s.dataset = std::move(dataset);
    s.fields = {epoch_field()};
    s.event_types = std::move(types);
    if (count > 0) {
        VolumeSpec v;
        v.count = count;
        s.volume.push_back(v);
    }
    return s;
}

DependencySpec rule(std::string from, std::string from_type, std::string to, std::string to_type, double percentage = 100) {
    DependencySpec d;
    d.trigger_source = std::move(from);
    d.trigger_type = std::move(from_type);
    d.action_source = std::move(to);
    d.action_type = std::move(to_type);
    d.percentage = percentage;
    return d;
}

ScenarioInputs backfill(std::vector<SourceSpec> sources, std::vector<DependencySpec> rules = {}) {
    ScenarioInputs in;
    in.sources = std::move(sources);
    in.spec.dependencies = std::move(rules);
    in.window_start_ns = jan1_2024_ns;
    in.window_end_ns = jan1_2024_ns + day_ns;
    in.default_dataset = "default";
    return in;
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
    std::string type;
    std::string request_id;
    std::int64_t time_ns = 0;
    std::uint16_t batch_source = 0;
};

struct Run {
    std::vector<Event> events;
    std::vector<std::size_t> batch_bytes;
    bool batches_single_source = true;
    bool batches_in_time_order = true;
};

// Runs every shard of `shards` to completion and parses what they wrote.
Run run_all(const std::shared_ptr<const CompiledScenario>& scenario, std::uint32_t shards, std::uint64_t seed = 7,
            std::uint32_t batch = 500, std::size_t batch_bytes = 0) {
    Run run;
    for (std::uint32_t shard = 0; shard < shards; ++shard) {
        ScenarioEngine engine(scenario, SourceIdentity{seed, shard, shards}, batch, batch_bytes);
        std::vector<char> buffer(std::size_t{batch} * engine.event_bytes_max());
        for (int guard = 0; guard < 1'000'000; ++guard) {
            const ScenarioEngine::Batch b = engine.next(batch, 0, buffer);
            if (b.events == 0) break;
            run.batch_bytes.push_back(b.bytes);
            const std::string text(buffer.data(), b.bytes);
            std::size_t begin = 0;
            std::int64_t last = INT64_MIN;
            std::set<std::string> sources;
            for (std::uint32_t i = 0; i < b.events; ++i) {
                const std::size_t end = text.find('\n', begin);
                REQUIRE(end != std::string::npos);
                const std::string line = text.substr(begin, end - begin);
                begin = end + 1;
                Event e{field(line, "source"), field(line, "event_type"), field(line, "request_id"),
                        std::stoll(field(line, "t")), b.source};
                run.batches_in_time_order &= e.time_ns >= last;
                last = e.time_ns;
                sources.insert(e.source);
                run.events.push_back(std::move(e));
            }
            CHECK(begin == text.size());
            run.batches_single_source &= sources.size() == 1 && *sources.begin() == scenario->sources[b.source].name + " logs";
        }
        CHECK(engine.done());
        CHECK(engine.roots_done() == engine.roots_total());
        CHECK(engine.pending() == 0);
    }
    return run;
}

std::map<std::string, std::uint64_t> count_by(const Run& run, bool by_type = false) {
    std::map<std::string, std::uint64_t> counts;
    for (const Event& e : run.events) ++counts[by_type ? e.source + "." + e.type : e.source];
    return counts;
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

TEST_CASE("a backfill makes exactly each volume entry's count, for any number of shards", "[scenario]") {
    const auto scenario = compile_scenario(backfill({source("web", {type("access")}, 3000, "http"),
                                                     source("db", {type("query")}, 1001, "mysql")}));
    CHECK(scenario->roots_total == 4001);
    for (std::uint32_t shards : {1u, 2u, 3u}) {
        const Run run = run_all(scenario, shards);
        const auto counts = count_by(run);
        CHECK(counts.at("web logs") == 3000);
        CHECK(counts.at("db logs") == 1001);
        CHECK(run.batches_single_source);
        CHECK(run.batches_in_time_order);
        for (const Event& e : run.events) {
            REQUIRE(e.time_ns >= jan1_2024_ns);
            REQUIRE(e.time_ns < jan1_2024_ns + day_ns);
        }
    }
    CHECK(scenario->sources[0].dataset == "http");
    CHECK(scenario->sources[1].dataset == "mysql");
}

TEST_CASE("a source without a dataset uses the run's default", "[scenario]") {
    const auto scenario = compile_scenario(backfill({source("web", {type("access")}, 10)}));
    CHECK(scenario->sources[0].dataset == "default");
}

TEST_CASE("dependencies: children follow their parents with the parent's request id and the configured ratio",
          "[scenario]") {
    const auto scenario = compile_scenario(backfill(
        {source("web", {type("access")}, 20000), source("app", {type("info", false)}),
         source("db", {type("query", false), type("slow", false)})},
        {rule("web", "access", "app", "info"), rule("app", "info", "db", "query", 30)}));
    CHECK(scenario->expected_events_total == Approx(20000 * (1 + 1 + 0.3)));
    const Run run = run_all(scenario, 2);
    const auto counts = count_by(run, true);
    CHECK(counts.at("web logs.access") == 20000);
    CHECK(counts.at("app logs.info") == 20000);  // 100 %: exactly one child per parent
    const double ratio = double(counts.at("db logs.query")) / 20000;
    CHECK(ratio == Approx(0.30).margin(0.015));  // 4 sigma of a binomial with n = 20000
    CHECK(counts.count("db logs.slow") == 0);
    CHECK(run.batches_single_source);
    CHECK(run.batches_in_time_order);

    // Every child shares its parent's request id and comes after it.
    std::map<std::string, std::int64_t> root_time;
    for (const Event& e : run.events) {
        if (e.source == "web logs") root_time[e.request_id] = e.time_ns;
    }
    CHECK(root_time.size() == 20000);  // request ids are unique per root
    for (const Event& e : run.events) {
        if (e.source == "web logs") continue;
        const auto parent = root_time.find(e.request_id);
        REQUIRE(parent != root_time.end());
        CHECK(e.time_ns >= parent->second);
        CHECK(e.time_ns < jan1_2024_ns + day_ns);
    }
}

TEST_CASE("a dependency's delay spaces children from parents", "[scenario]") {
    ScenarioInputs in = backfill({source("web", {type("access")}, 2000), source("app", {type("info", false)})},
                                 {rule("web", "access", "app", "info")});
    in.spec.dependencies[0].delay.kind = DelaySpec::Kind::uniform;
    in.spec.dependencies[0].delay.min_ns = 2'000'000'000;
    in.spec.dependencies[0].delay.max_ns = 3'000'000'000;
    const Run run = run_all(compile_scenario(in), 1);
    std::map<std::string, std::int64_t> parent_time;
    for (const Event& e : run.events) {
        if (e.source == "web logs") parent_time[e.request_id] = e.time_ns;
    }
    std::size_t children = 0;
    for (const Event& e : run.events) {
        if (e.source != "app logs") continue;
        ++children;
        const std::int64_t gap = e.time_ns - parent_time.at(e.request_id);
        // The window's end clips the last children.
        if (e.time_ns == jan1_2024_ns + day_ns - 1) continue;
        CHECK(gap >= 2'000'000'000);
        CHECK(gap <= 3'000'000'000);
    }
    CHECK(children == 2000);
}

TEST_CASE("a message-match trigger fires only for events whose text contains it", "[scenario]") {
    EventTypeSpec access = type("access", true, "GET {status}");
    SourceSpec web = source("web", {access}, 4000);
    FieldSpec status;
    status.name = "status";
    status.kind = FieldKind::choice;
    status.values = {{SchemaValue::Type::integer, "200"}, {SchemaValue::Type::integer, "500"}};
    status.weights = {3, 1};
    web.fields.push_back(status);
    DependencySpec on_error = rule("web", "access", "alert", "page");
    on_error.message_contains = "GET 500";
    const Run run = run_all(compile_scenario(backfill({web, source("alert", {type("page", false)})}, {on_error})), 1);
    const auto counts = count_by(run);
    CHECK(double(counts.at("alert logs")) / 4000 == Approx(0.25).margin(0.03));
}

TEST_CASE("several root types are picked by weight; non-root types never start events", "[scenario]") {
    EventTypeSpec a = type("a");
    a.weight = 3;
    EventTypeSpec b = type("b");
    EventTypeSpec c = type("c", false);
    const Run run = run_all(compile_scenario(backfill({source("s", {a, b, c}, 8000)})), 1);
    const auto counts = count_by(run, true);
    CHECK(counts.at("s logs.a") + counts.at("s logs.b") == 8000);
    CHECK(double(counts.at("s logs.a")) / 8000 == Approx(0.75).margin(0.03));
    CHECK(counts.count("s logs.c") == 0);
}

TEST_CASE("a byte limit cuts batches without losing or repeating an event", "[scenario]") {
    const auto scenario = compile_scenario(backfill({source("web", {type("access")}, 5000)}));
    const Run run = run_all(scenario, 1, 7, 500, 4096);
    CHECK(count_by(run).at("web logs") == 5000);
    for (std::size_t bytes : run.batch_bytes) CHECK(bytes <= 4096);
    CHECK(run.batch_bytes.size() > 10);  // 500-event batches would not fit 4 KiB
}

TEST_CASE("the same seed gives the same events; another seed does not", "[scenario]") {
    const auto scenario = compile_scenario(backfill({source("web", {type("access")}, 3000), source("app", {type("x", false)})},
                                                    {rule("web", "access", "app", "x", 50)}));
    const Run a = run_all(scenario, 2, 11);
    const Run b = run_all(scenario, 2, 11);
    const Run c = run_all(scenario, 2, 12);
    REQUIRE(a.events.size() == b.events.size());
    bool same = true;
    for (std::size_t i = 0; i < a.events.size(); ++i) same &= a.events[i].time_ns == b.events[i].time_ns && a.events[i].request_id == b.events[i].request_id;
    CHECK(same);
    CHECK((a.events.size() != c.events.size() || a.events[0].request_id != c.events[0].request_id));
}

TEST_CASE("a window with --events and no volume entries spreads that many events over the window", "[scenario]") {
    ScenarioInputs in = backfill({source("a", {type("x")}), source("b", {type("y")})});
    in.window_events = 1001;
    const Run run = run_all(compile_scenario(in), 3);
    const auto counts = count_by(run);
    CHECK(counts.at("a logs") + counts.at("b logs") == 1001);
    in.window_events = 0;
    CHECK_THAT(compile_error(in), Catch::Contains("--events"));
}

TEST_CASE("compile_scenario refuses cycles, unknown names and sources that cannot start", "[scenario]") {
    CHECK_THAT(compile_error(backfill({source("a", {type("x")}, 10), source("b", {type("y", false)})},
                                      {rule("a", "x", "b", "y"), rule("b", "y", "a", "x")})),
               Catch::Contains("dependency cycle: ") && Catch::Contains("a.x -> b.y -> a.x"));
    CHECK_THAT(compile_error(backfill({source("a", {type("x")}, 10)}, {rule("a", "x", "nope", "y")})),
               Catch::Contains("unknown action source \"nope\""));
    CHECK_THAT(compile_error(backfill({source("a", {type("x")}, 10)}, {rule("a", "zz", "a", "x")})),
               Catch::Contains("no event type \"zz\""));
    CHECK_THAT(compile_error(backfill({source("a", {type("x", false)}, 10)})), Catch::Contains("no root event type"));
    CHECK_THAT(compile_error(backfill({source("a", {type("x")}, 10)}, {rule("a", "x", "a", "x", 150)})),
               Catch::Contains("percentage"));
}

TEST_CASE("live: dependents come out once their time has come, with their parent's request id", "[scenario]") {
    ScenarioInputs in;
    in.sources = {source("web", {type("access")}), source("app", {type("info", false)})};
    in.spec.dependencies = {rule("web", "access", "app", "info")};
    in.spec.dependencies[0].delay.kind = DelaySpec::Kind::fixed;
    in.spec.dependencies[0].delay.mean_ns = 1'000'000'000;
    const auto scenario = compile_scenario(in);
    REQUIRE_FALSE(scenario->backfill);
    ScenarioEngine engine(scenario, SourceIdentity{1, 0, 1}, 100, 0);
    std::vector<char> buffer(100 * engine.event_bytes_max());
    const std::int64_t now = jan1_2024_ns;
    const auto first = engine.next(100, now, buffer);
    CHECK(first.source == 0);
    CHECK(first.events == 100);
    CHECK(engine.pending() == 100);
    // Not yet due: more roots.
    const auto second = engine.next(100, now + 500'000'000, buffer);
    CHECK(second.source == 0);
    CHECK(engine.pending() == 200);
    // Due: the first batch's children, alone in their batch.
    const auto third = engine.next(100, now + 1'000'000'001, buffer);
    CHECK(third.source == 1);
    CHECK(third.events == 100);
    CHECK(engine.pending() == 100);
}

TEST_CASE("live: event frequencies give each source its share and the run its rate", "[scenario]") {
    ScenarioInputs in;
    in.sources = {source("web", {type("access")}), source("db", {type("query")})};
    TypeRate web{"web", "access", 300, {}};
    TypeRate db{"db", "query", 100, {}};
    in.spec.type_rates = {web, db};
    const auto scenario = compile_scenario(in);
    CHECK(scenario->live_rate_eps == 400);
    ScenarioEngine engine(scenario, SourceIdentity{1, 0, 1}, 10, 0);
    std::vector<char> buffer(10 * engine.event_bytes_max());
    std::map<std::uint16_t, int> batches;
    for (int i = 0; i < 400; ++i) ++batches[engine.next(10, jan1_2024_ns + i, buffer).source];
    CHECK(batches[0] == 300);
    CHECK(batches[1] == 100);
}

TEST_CASE("live: the rate from event frequencies includes the dependents the roots cause", "[scenario]") {
    ScenarioInputs in;
    in.sources = {source("web", {type("access")}), source("app", {type("info", false)})};
    in.spec.dependencies = {rule("web", "access", "app", "info", 50)};
    in.spec.type_rates = {TypeRate{"web", "access", 200, {}}};
    CHECK(compile_scenario(in)->live_rate_eps == Approx(300));
}
