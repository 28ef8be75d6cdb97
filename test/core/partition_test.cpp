// Partitioning changes nothing but the order (issue 17): a backfill's events
// are the same multiset, byte for byte, whatever the number of shards, the
// batch size and the byte limit; request ids never repeat across shards,
// seeds, sources or scenarios (issue 18: streams that do not repeat).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/event_key.hpp"
#include "core/scenario_engine.hpp"

using namespace supervent::core;

namespace {

constexpr std::int64_t day_ns = 86'400'000'000'000;
constexpr std::int64_t jan1_2024_ns = 1'704'067'200'000'000'000;

FieldSpec field(std::string name, FieldKind kind) {
    FieldSpec f;
    f.name = std::move(name);
    f.kind = kind;
    if (kind == FieldKind::timestamp) f.format = "epoch_ns";
    if (kind == FieldKind::integer) f.max = 1'000'000;
    return f;
}

EventTypeSpec type(std::string name, bool root, double weight, std::string message) {
    EventTypeSpec t;
    t.name = std::move(name);
    t.root = root;
    t.weight = weight;
    t.message = std::move(message);
    return t;
}

VolumeSpec volume(std::uint64_t count, VolumePattern pattern = VolumePattern::always) {
    VolumeSpec v;
    v.count = count;
    v.pattern = pattern;
    return v;
}

// Two sources, two root types picked by weight, a random field, a uuid,
// two volume entries, and rules with percentages, delays and a message match.
ScenarioInputs scenario_inputs(std::uint64_t identity = 0) {
    SourceSpec web;
    web.name = "web";
    web.fields = {field("t", FieldKind::timestamp), field("n", FieldKind::integer), field("u", FieldKind::uuid4)};
    web.event_types = {type("hit", true, 3, "hit {n} {u}"), type("miss", true, 1, "miss {n}"),
                       type("audit", false, 1, "audit {n}")};
    web.volume = {volume(3000), volume(1001, VolumePattern::sine_wave)};
    SourceSpec db;
    db.name = "db";
    db.fields = {field("t", FieldKind::timestamp), field("n", FieldKind::integer)};
    db.event_types = {type("query", false, 1, "query {n}"), type("slow", false, 1, "slow {n}")};
    ScenarioInputs in;
    in.sources = {web, db};
    DependencySpec hit_query;
    hit_query.trigger_source = "web";
    hit_query.trigger_type = "hit";
    hit_query.action_source = "db";
    hit_query.action_type = "query";
    hit_query.percentage = 60;
    hit_query.delay.kind = DelaySpec::Kind::exponential;
    hit_query.delay.mean_ns = 20'000'000;
    DependencySpec query_slow = hit_query;
    query_slow.trigger_source = "db";
    query_slow.trigger_type = "query";
    query_slow.action_type = "slow";
    query_slow.percentage = 100;
    query_slow.message_contains = "7";  // only queries whose text has a 7
    DependencySpec miss_audit = hit_query;
    miss_audit.trigger_type = "miss";
    miss_audit.action_source = "web";
    miss_audit.action_type = "audit";
    miss_audit.percentage = 50;
    in.spec.dependencies = {hit_query, query_slow, miss_audit};
    in.window_start_ns = jan1_2024_ns;
    in.window_end_ns = jan1_2024_ns + day_ns;
    in.default_dataset = "default";
    in.identity = identity;
    return in;
}

// Every line every shard of `shards` writes, sorted.
std::vector<std::string> lines_of(const std::shared_ptr<const CompiledScenario>& scenario, std::uint32_t shards,
                                  std::uint64_t seed, std::uint32_t batch, std::size_t batch_bytes = 0) {
    std::vector<std::string> lines;
    for (std::uint32_t shard = 0; shard < shards; ++shard) {
        ScenarioEngine engine(scenario, SourceIdentity{seed, shard, shards}, batch, batch_bytes);
        std::vector<char> buffer(std::size_t{batch} * engine.event_bytes_max());
        for (int guard = 0; guard < 1'000'000 && !engine.done(); ++guard) {
            const ScenarioEngine::Batch b = engine.next(batch, 0, buffer);
            const std::string text(buffer.data(), b.bytes);
            for (std::size_t begin = 0; begin < text.size();) {
                const std::size_t end = text.find('\n', begin);
                REQUIRE(end != std::string::npos);
                lines.push_back(text.substr(begin, end - begin));
                begin = end + 1;
            }
        }
        REQUIRE(engine.done());
    }
    std::sort(lines.begin(), lines.end());
    return lines;
}

std::string request_id_of(const std::string& line) {
    const std::string marker = "\"request_id\":\"";
    const auto at = line.find(marker);
    return at == std::string::npos ? std::string{} : line.substr(at + marker.size(), 36);
}

std::string time_of(const std::string& line) {
    const std::string marker = "\"_time\":\"";
    const auto at = line.find(marker);
    return at == std::string::npos ? std::string{} : line.substr(at + marker.size(), 30);
}

}  // namespace

TEST_CASE("a backfill is the same multiset of events whatever the shard count and batch size", "[partition]") {
    const auto scenario = compile_scenario(scenario_inputs());
    const std::vector<std::string> one = lines_of(scenario, 1, 5, 500);
    REQUIRE(one.size() > 4001);  // roots and their dependents
    CHECK(lines_of(scenario, 2, 5, 500) == one);
    CHECK(lines_of(scenario, 3, 5, 37) == one);
    CHECK(lines_of(scenario, 8, 5, 256, 2048) == one);  // a byte limit puts events back: rendered the same again
    CHECK(lines_of(scenario, 1, 6, 500) != one);
}

TEST_CASE("roots never share a request id and dependents carry their root's", "[partition]") {
    const auto scenario = compile_scenario(scenario_inputs());
    const std::vector<std::string> lines = lines_of(scenario, 4, 9, 500);
    std::map<std::string, int> roots;
    std::set<std::string> all;
    for (const std::string& line : lines) {
        const std::string id = request_id_of(line);
        REQUIRE(id.size() == 36);
        CHECK(id[14] == '4');  // UUID version 4
        CHECK(std::string("89ab").find(id[19]) != std::string::npos);  // variant 10
        all.insert(id);
        if (line.find("\"event_type\":\"hit\"") != std::string::npos ||
            line.find("\"event_type\":\"miss\"") != std::string::npos) {
            ++roots[id];
        }
    }
    CHECK(roots.size() == 4001);
    for (const auto& [id, count] : roots) CHECK(count == 1);
    CHECK(all.size() == roots.size());  // every dependent's id is a root's
}

TEST_CASE("different seeds and scenario identities share no request ids and no times", "[partition]") {
    const auto base = compile_scenario(scenario_inputs(0x1111));
    const auto overlay = compile_scenario(scenario_inputs(0x2222));
    const std::vector<std::string> a = lines_of(base, 2, 1, 500);
    const std::vector<std::string> b = lines_of(overlay, 3, 1, 500);
    const std::vector<std::string> c = lines_of(base, 1, 2, 500);
    auto ids = [](const std::vector<std::string>& lines) {
        std::set<std::string> out;
        for (const std::string& line : lines) out.insert(request_id_of(line));
        return out;
    };
    auto times = [](const std::vector<std::string>& lines) {
        std::set<std::string> out;
        for (const std::string& line : lines) out.insert(time_of(line));
        return out;
    };
    auto shared = [](const std::set<std::string>& x, const std::set<std::string>& y) {
        std::size_t n = 0;
        for (const std::string& v : x) n += y.count(v);
        return n;
    };
    CHECK(shared(ids(a), ids(b)) == 0);
    CHECK(shared(ids(a), ids(c)) == 0);
    // Nanosecond times of independent streams over a day: a shared one is a
    // ~1e-7 chance; the same stream would share all of them.
    CHECK(shared(times(a), times(b)) == 0);
    CHECK(shared(times(a), times(c)) == 0);
}

TEST_CASE("two sources with the same fields and volume do not echo each other", "[partition]") {
    ScenarioInputs in = scenario_inputs();
    in.spec.dependencies.clear();
    in.sources[1] = in.sources[0];
    in.sources[1].name = "web2";
    const std::vector<std::string> lines = lines_of(compile_scenario(in), 2, 3, 500);
    std::map<std::string, int> ids;
    std::map<std::string, int> times;
    for (const std::string& line : lines) {
        ++ids[request_id_of(line)];
        ++times[time_of(line)];
    }
    CHECK(ids.size() == lines.size());
    CHECK(times.size() > lines.size() * 99 / 100);
}

TEST_CASE("live parts draw disjoint streams", "[partition]") {
    ScenarioInputs in = scenario_inputs();
    in.window_start_ns.reset();
    in.window_end_ns.reset();
    const auto scenario = compile_scenario(in);
    std::set<std::string> ids;
    std::size_t events = 0;
    for (std::uint32_t shard = 0; shard < 4; ++shard) {
        ScenarioEngine engine(scenario, SourceIdentity{1, shard, 4}, 200, 0);
        std::vector<char> buffer(std::size_t{200} * engine.event_bytes_max());
        for (int i = 0; i < 10; ++i) {
            const ScenarioEngine::Batch b = engine.next(200, jan1_2024_ns + i * 1'000'000'000ll, buffer);
            const std::string text(buffer.data(), b.bytes);
            for (std::size_t begin = 0; begin < text.size();) {
                const std::size_t end = text.find('\n', begin);
                const std::string line = text.substr(begin, end - begin);
                if (line.find("\"event_type\":\"hit\"") != std::string::npos ||
                    line.find("\"event_type\":\"miss\"") != std::string::npos) {
                    ++events;
                    ids.insert(request_id_of(line));
                }
                begin = end + 1;
            }
        }
    }
    REQUIRE(events > 1000);
    CHECK(ids.size() == events);
}

TEST_CASE("request ids are injective in (stream, index)", "[partition]") {
    std::set<std::pair<std::uint64_t, std::uint64_t>> seen;
    // Streams that differ in one bit, indices near 0 and near the top.
    const std::uint64_t streams[] = {0, 1, 8, 1ull << 63, ~0ull};
    for (const std::uint64_t stream : streams) {
        for (std::uint64_t k = 0; k < 2000; ++k) {
            for (const std::uint64_t index : {k, std::uint64_t{~0ull} - k}) {
                std::uint64_t hi = 0;
                std::uint64_t lo = 0;
                request_id(stream_tag(stream), event_key(stream, index), hi, lo);
                CHECK(((hi >> 12) & 0xF) == 4);
                CHECK((lo >> 62) == 2);
                seen.insert({hi, lo});
            }
        }
    }
    CHECK(seen.size() == 5 * 2000 * 2);
}
