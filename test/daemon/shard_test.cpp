// The shard loop on real io_uring rings, against discard, a file and an
// in-process supervent-sink over loopback: every event accounted for.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include "daemon/daemon.hpp"
#include "daemon/local_addresses.hpp"
#include "net/http_request.hpp"
#include "sink/server.hpp"
#include "shard_harness.hpp"

using supervent::config::SinkUrl;
using supervent::daemon::ShardPhase;
using supervent::daemon::ShardPlan;
using supervent::test::discard_plan;
using supervent::test::run_shard;
using supervent::test::http_plan;
using supervent::test::unused_port;

namespace {

struct LocalSink {
    explicit LocalSink(const std::string& faults = "", bool verify = true, std::uint16_t port = 0)
        : server(make_config(faults, verify, port)) {
        server.start();
    }
    ~LocalSink() { server.stop(); }
    static supervent::sink::ServerConfig make_config(const std::string& faults, bool verify, std::uint16_t port) {
        supervent::sink::ServerConfig config;
        config.port = port;
        config.verify = verify;
        if (!faults.empty()) config.faults = supervent::sink::FaultPlan::parse(faults, 7);
        return config;
    }
    supervent::sink::Server server;
};


}  // namespace

TEST_CASE("a shard delivers exactly its budget to discard:", "[shard]") {
    const auto outcome = run_shard(discard_plan(12'345, 1000));
    CHECK(outcome.phase == ShardPhase::finished);
    CHECK(outcome.generated == 12'345);
    CHECK(outcome.acked == 12'345);
    CHECK(outcome.failed == 0);
    CHECK(outcome.requests_sent == 13);  // 12 full batches and one of 345
}

TEST_CASE("a shard writes exactly its events, one JSON line each, to a file", "[shard]") {
    char path[] = "/tmp/supervent-shard-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ShardPlan plan = discard_plan(5'001, 700);
    plan.sink.kind = SinkUrl::Kind::file;
    plan.sink.file_fd = fd;
    plan.sink.description = std::string("file:") + path;
    const auto outcome = run_shard(plan);
    CHECK(outcome.phase == ShardPhase::finished);
    CHECK(outcome.acked == 5'001);

    std::ifstream file(path);
    std::string line;
    std::size_t lines = 0, bytes = 0;
    while (std::getline(file, line)) {
        ++lines;
        bytes += line.size() + 1;
        REQUIRE(line.front() == '{');
        REQUIRE(line.back() == '}');
    }
    CHECK(lines == 5'001);
    CHECK(bytes == outcome.bytes_generated);
    ::unlink(path);
}

TEST_CASE("a shard delivers exactly its budget over HTTP, zero-copy or not", "[shard][http]") {
    const bool zero_copy = GENERATE(true, false);
    LocalSink sink;
    ShardPlan plan = http_plan(sink.server.port(), 50'000);
    // "on": SEND_ZC on every request ("auto" would write a loopback sink with WRITE_FIXED).
    plan.zero_copy = zero_copy ? supervent::config::ZeroCopyMode::on : supervent::config::ZeroCopyMode::off;
    const auto outcome = run_shard(plan);
    INFO("error: " << outcome.error);
    CHECK(outcome.phase == ShardPhase::finished);
    CHECK(outcome.generated == 50'000);
    CHECK(outcome.acked == 50'000);
    CHECK(outcome.failed == 0);
    const auto received = sink.server.stats();
    CHECK(received.events == 50'000);
    CHECK(received.invalid_events == 0);
    CHECK(received.requests == 25);
    CHECK(received.datasets.at("shardtest").events == 50'000);
    if (zero_copy) {
        // Every SEND_ZC that used the buffer is followed by a notification.
        CHECK(outcome.zc_notifications >= 25);
    } else {
        CHECK(outcome.zc_notifications == 0);
    }
}

TEST_CASE("server errors are retried until every event is acknowledged exactly once", "[shard][http]") {
    LocalSink sink("status=503@30%");
    // Retried by time (10 minutes by default): however many 503s in a row
    // one batch meets, it is not given up on.
    const auto outcome = run_shard(http_plan(sink.server.port(), 40'000, 1000));
    INFO("error: " << outcome.error);
    CHECK(outcome.acked == 40'000);
    CHECK(outcome.failed == 0);
    CHECK(outcome.requests_retried > 0);
    CHECK(sink.server.stats().events == 40'000);  // none ingested twice
}

TEST_CASE("a 401 fails the batches, stops the shard and says why", "[shard][http]") {
    LocalSink sink("status=401@100%");
    const auto outcome = run_shard(http_plan(sink.server.port(), 10'000, 1000));
    CHECK(outcome.acked == 0);
    CHECK(outcome.failed == outcome.generated);
    CHECK(outcome.generated < 10'000);  // it stopped generating
    CHECK_THAT(outcome.error, Catch::Contains("401"));
    CHECK_THAT(outcome.error, Catch::Contains("token"));
}

TEST_CASE("an unreachable sink fails events once their retry time is spent, every one accounted for", "[shard][http]") {
    ShardPlan plan = http_plan(unused_port(), 4'000, 1000);
    plan.retry_for_ns = 300'000'000;
    const auto started = std::chrono::steady_clock::now();
    const auto outcome = run_shard(plan);
    const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    CHECK(outcome.acked == 0);
    CHECK(outcome.failed == outcome.generated);
    CHECK(outcome.generated == 4'000);
    CHECK(elapsed_s > 0.3);  // not before the batches' time was spent
    CHECK(elapsed_s < 5.0);
}

TEST_CASE("a sink that is down for a while, then listens, gets every event exactly once", "[shard][http]") {
    // The sink appears on the port after 1.5 s of refused connects: with the
    // time-based retry nothing fails, and nothing is sent twice.
    const std::uint16_t port = unused_port();
    ShardPlan plan = http_plan(port, 8'000, 1000);
    plan.retry_backoff_max_ns = 200'000'000;
    std::unique_ptr<LocalSink> sink;
    std::thread later([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        sink = std::make_unique<LocalSink>("", true, port);
    });
    const auto outcome = run_shard(plan);
    later.join();
    CHECK(outcome.acked == 8'000);
    CHECK(outcome.failed == 0);
    CHECK(outcome.requests_retried > 0);
    CHECK(sink->server.stats().events == 8'000);
}

TEST_CASE("a sink that refuses every batch for good stops the shard after a few", "[shard][http]") {
    LocalSink sink("status=400@100%");
    const auto outcome = run_shard(http_plan(sink.server.port(), 1'000'000, 1000));
    CHECK(outcome.acked == 0);
    CHECK(outcome.failed == outcome.generated);
    CHECK(outcome.generated <= 40'000);  // 16 refused in a row, and what the slots held
    CHECK_THAT(outcome.error, Catch::Contains("HTTP 400"));
}

TEST_CASE("a refused sink is tried on the batch's retry backoff, not the slower reconnect backoff", "[shard][http]") {
    // The connections' reconnect backoff doubles from 50 ms towards 10 s, the
    // batch's retry backoff stays at 20-40 ms: in the batch's 0.6 s of retry
    // time it is tried about 10 times when each due retry brings a reconnect
    // forward, and 4 times when attempts wait for the connections' own schedule.
    ShardPlan plan = http_plan(unused_port(), 1'000, 1'000);
    plan.retry_for_ns = 600'000'000;
    plan.retry_backoff_min_ns = 20'000'000;
    plan.retry_backoff_max_ns = 40'000'000;
    plan.sink.http.reconnect_backoff_min_ns = 50'000'000;
    plan.sink.http.reconnect_backoff_max_ns = 10'000'000'000;
    const auto started = std::chrono::steady_clock::now();
    const auto outcome = run_shard(plan);
    const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    CHECK(outcome.failed == 1'000);
    CHECK(outcome.acked == 0);
    CHECK(outcome.requests_retried >= 7);   // every attempt charged once, on the batch's schedule
    CHECK(outcome.requests_retried <= 13);  // and not faster than the 50 ms floor between reconnects
    CHECK(elapsed_s > 0.6);                 // failed only once its time was spent
    CHECK(elapsed_s < 1.5);
}

TEST_CASE("a rate-limited shard keeps to its rate", "[shard][rate]") {
    const auto started = std::chrono::steady_clock::now();
    const auto outcome = run_shard(discard_plan(2'000, 1000), 4'000.0);
    const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    CHECK(outcome.acked == 2'000);
    // 2,000 events at 4,000/s: half a second, give or take scheduling.
    CHECK(elapsed_s > 0.4);
    CHECK(elapsed_s < 0.8);
}

TEST_CASE("a live shape scales the rate: a step to a quarter after 0.3 s", "[shard][rate]") {
    // The built-in source, live, with the rate stepping from 1x to 0.25x at 0.3 s.
    supervent::core::ScenarioInputs inputs;
    inputs.builtin = supervent::core::builtin_program("web_access");
    inputs.default_dataset = "supervent";
    inputs.spec.live.kind = supervent::core::LiveShape::Kind::step;
    inputs.spec.live.steps = {{0, 1.0}, {300'000'000, 0.25}};
    ShardPlan plan = discard_plan(0, 1000);
    plan.scenario = supervent::core::compile_scenario(inputs);
    plan.duration_ns = 1'300'000'000;
    const auto outcome = run_shard(plan, 8'000.0);
    // 0.3 s at 8,000/s and 1.0 s at 2,000/s: about 4,400 (the bucket starts
    // empty; a steady 8,000/s would give 10,400).
    CHECK(outcome.generated > 3'600);
    CHECK(outcome.generated < 5'400);
}

TEST_CASE("after a stop, a sink that never answers is given up on at the drain deadline", "[shard][http][drain]") {
    // delay=60000ms: the sink reads every request and answers a minute later.
    LocalSink sink("delay=60000ms@100%");
    ShardPlan plan = http_plan(sink.server.port(), 0, 1000);  // unbounded
    plan.drain_timeout_ns = 300'000'000;

    supervent::daemon::ShardStats stats;
    supervent::daemon::ShardControl control;
    supervent::daemon::ShardError error;
    supervent::daemon::Shard shard(plan, stats, control, error);
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        control.stop_requested.store(true);
    });
    const auto started = std::chrono::steady_clock::now();
    shard.run();
    stopper.join();
    const auto elapsed = std::chrono::steady_clock::now() - started;
    CHECK(stats.phase.load() == ShardPhase::finished);
    CHECK(elapsed < std::chrono::seconds(3));  // 0.3 s running + 0.3 s drain, not a minute
    CHECK(stats[supervent::daemon::Stat::events_generated].get() > 0);
    CHECK(stats[supervent::daemon::Stat::events_acked].get() == 0);
    CHECK(stats.events_failed.get() == stats[supervent::daemon::Stat::events_generated].get());
    CHECK(stats.events_failed_by_reason[static_cast<int>(supervent::net::FailReason::drain_timeout)].get() ==
          stats[supervent::daemon::Stat::events_generated].get());
}

TEST_CASE("a 401 that arrives after the last event was generated is still explained", "[shard][http]") {
    LocalSink sink("status=401@100%");
    // Two batches in all: both are generated before the first answer is in.
    const auto outcome = run_shard(http_plan(sink.server.port(), 2'000, 1000));
    CHECK(outcome.generated == 2'000);
    CHECK(outcome.failed == 2'000);
    CHECK_THAT(outcome.error, Catch::Contains("401"));
}

TEST_CASE("zstd-compressed batches arrive whole and are counted exactly", "[shard][http][zstd]") {
    const int level = GENERATE(1, -5);
    LocalSink sink;
    ShardPlan plan = http_plan(sink.server.port(), 30'000, 2000);
    plan.compression = supervent::config::Compression{true, level};
    plan.sink.http.target.content_encoding = "zstd";
    const auto outcome = run_shard(plan);
    INFO("error: " << outcome.error);
    CHECK(outcome.acked == 30'000);
    const auto received = sink.server.stats();
    CHECK(received.events == 30'000);
    CHECK(received.invalid_events == 0);
    CHECK(received.bytes_decoded == outcome.bytes_generated);  // the sink saw exactly what was serialized
    CHECK(received.bytes_wire * 4 < received.bytes_decoded);   // and it was really compressed
}

TEST_CASE("bind spreads connections over local addresses", "[shard][http][bind]") {
    LocalSink sink("", false);
    ShardPlan plan = http_plan(sink.server.port(), 40'000, 1000);
    plan.sink.http.connections = 4;
    plan.slots = 8;
    plan.sink.http.local_addresses = supervent::daemon::resolve_local_addresses({"127.0.0.2", "127.0.0.3"}, AF_INET);
    const auto outcome = run_shard(plan);
    CHECK(outcome.acked == 40'000);
    const auto received = sink.server.stats();
    CHECK(received.events == 40'000);
    // Four connections over two addresses: two from each, none from elsewhere.
    CHECK(received.connections_by_peer.size() == 2);
    CHECK(received.connections_by_peer.count("127.0.0.2") == 1);
    CHECK(received.connections_by_peer.count("127.0.0.3") == 1);
}

TEST_CASE("bind entries resolve addresses and interfaces, and refuse what cannot work", "[bind]") {
    using supervent::daemon::address_text;
    using supervent::daemon::resolve_local_addresses;
    const auto v4 = resolve_local_addresses({"127.0.0.9", "lo"}, AF_INET);
    REQUIRE(v4.size() == 2);
    CHECK(address_text(v4[0]) == "127.0.0.9");
    CHECK(address_text(v4[1]) == "127.0.0.1");  // lo's IPv4 address
    CHECK(address_text(resolve_local_addresses({"::1"}, AF_INET6)[0]) == "::1");
    CHECK_THROWS_WITH(resolve_local_addresses({"::1"}, AF_INET), Catch::Contains("not an IPv4 address"));
    CHECK_THROWS_WITH(resolve_local_addresses({"no-such-nic0"}, AF_INET),
                      Catch::Contains("neither an IP address nor an interface"));
    // One address twice would export its series twice and load a NIC double.
    CHECK_THROWS_WITH(resolve_local_addresses({"127.0.0.1", "lo"}, AF_INET),
                      Catch::Contains("'lo' is the same address as '127.0.0.1' (127.0.0.1)"));
    CHECK_THROWS_WITH(resolve_local_addresses({"127.0.0.9", "127.0.0.9"}, AF_INET),
                      Catch::Contains("'127.0.0.9' is given twice"));
}

TEST_CASE("a rate-limited shard holds its rate within 2 % over 10 s", "[shard][rate][slow]") {
    // 10 s at each rate: the accuracy bound, from slow to fast.
    const double rate_eps = GENERATE(100.0, 50'000.0);
    const auto events = static_cast<std::uint64_t>(rate_eps * 10);
    const auto started = std::chrono::steady_clock::now();
    const auto outcome = run_shard(discard_plan(events, 2000), rate_eps);
    const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    CHECK(outcome.acked == events);
    const double actual_eps = double(events) / elapsed_s;
    INFO("target " << rate_eps << " events/s, actual " << actual_eps);
    CHECK(actual_eps > rate_eps * 0.98);
    CHECK(actual_eps < rate_eps * 1.02);
}

TEST_CASE("auto zero copy gives SEND_ZC up where the kernel copies anyway (loopback)", "[shard][http][zc]") {
    LocalSink sink("", false);
    ShardPlan plan = http_plan(sink.server.port(), 300'000, 1000);
    plan.zero_copy = supervent::config::ZeroCopyMode::automatic;
    // Straight away for a loopback sink (it always copies): no notification at all.
    const auto known = run_shard(plan);
    CHECK(known.acked == 300'000);
    CHECK(known.zc_notifications == 0);
    // The sampling that decides for any other destination, made to run here.
    plan.sink.http.zc_loopback_known = false;
    const auto automatic = run_shard(plan);
    CHECK(automatic.acked == 300'000);
    // Loopback always copies: after a sample of 32 notifications the shard
    // switches to plain fixed-buffer writes; only sends already in flight
    // still notify.
    CHECK(automatic.zc_notifications >= 32);
    CHECK(automatic.zc_notifications <= 32 + plan.slots);

    plan.zero_copy = supervent::config::ZeroCopyMode::on;
    const auto forced = run_shard(plan);
    CHECK(forced.acked == 300'000);
    CHECK(forced.zc_notifications >= 300);  // "on" keeps zero copy: one notification per request at least
}

namespace {
std::string run_to_file(ShardPlan plan) {
    char path[] = "/tmp/supervent-window-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    plan.sink.kind = SinkUrl::Kind::file;
    plan.sink.file_fd = fd;
    plan.sink.description = std::string("file:") + path;
    REQUIRE(run_shard(plan).phase == ShardPhase::finished);
    std::ifstream file(path);
    std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    ::unlink(path);
    return bytes;
}
}  // namespace

TEST_CASE("a fixed window and seed give the same bytes every time, whatever the batch size", "[shard][window]") {
    ShardPlan plan = discard_plan(0, 1000);
    plan.identity = supervent::core::SourceIdentity{7, 1, 2};
    const std::int64_t start_ns = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
    plan.scenario = supervent::test::builtin_scenario(start_ns, start_ns + 86'400'000'000'000, 10'000);
    const std::string first = run_to_file(plan);
    CHECK(std::count(first.begin(), first.end(), '\n') == 5'000);  // shard 1 of 2: half the window's events
    CHECK(first == run_to_file(plan));
    CHECK(first.find("\"_time\":\"2026-01-01T") != std::string::npos);
    CHECK(first.find("\"_time\":\"2026-01-02T") == std::string::npos);  // never past the end

    plan.identity.seed = 8;
    CHECK(first != run_to_file(plan));
}
