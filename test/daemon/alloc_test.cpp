// "Allocate at start-up, never after" (DESIGN.md §2), proved by counting.
//
// Each test runs a shard to completion on this thread twice, with a small and
// a ten times larger event budget. Start-up allocates the same either way; if
// the steady state allocated anything, the larger run would allocate more.
// Only this thread is counted: a sink server allocates as it pleases.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "shard_harness.hpp"
#include "sink/server.hpp"
#include "test/common/alloc_counter.hpp"

using supervent::test::heap_allocations_on_this_thread;

namespace {

std::uint64_t allocations_running(const supervent::daemon::ShardPlan& plan, std::uint64_t expected_events) {
    const std::uint64_t before = heap_allocations_on_this_thread();
    const auto outcome = supervent::test::run_shard(plan);
    const std::uint64_t during = heap_allocations_on_this_thread() - before;
    REQUIRE(outcome.acked == expected_events);
    return during;
}

}  // namespace

TEST_CASE("the shard's steady state does not allocate (discard:)", "[alloc]") {
    // The first run also pays for one-time initialisation (static tables).
    (void)allocations_running(supervent::test::discard_plan(1'000, 1000), 1'000);
    const auto small = allocations_running(supervent::test::discard_plan(20'000, 1000), 20'000);
    const auto large = allocations_running(supervent::test::discard_plan(200'000, 1000), 200'000);
    CHECK(large == small);
}

TEST_CASE("the shard's steady state does not allocate (zstd to discard:)", "[alloc]") {
    auto plan = supervent::test::discard_plan(1'000, 1000);
    plan.compression = supervent::config::Compression{true, 1};
    (void)allocations_running(plan, 1'000);
    plan.events_budget = 20'000;
    const auto small = allocations_running(plan, 20'000);
    plan.events_budget = 200'000;
    const auto large = allocations_running(plan, 200'000);
    CHECK(large == small);
}

TEST_CASE("the shard's steady state does not allocate (HTTP to a sink)", "[alloc]") {
    supervent::sink::ServerConfig config;
    config.port = 0;
    supervent::sink::Server server(config);  // allocates on its own threads, not counted here
    server.start();
    auto plan = supervent::test::discard_plan(0, 1000);
    plan.sink.kind = supervent::config::SinkUrl::Kind::http;
    auto& address = reinterpret_cast<sockaddr_in&>(plan.sink.http.address);
    address.sin_family = AF_INET;
    address.sin_port = htons(server.port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    plan.sink.http.address_bytes = sizeof(sockaddr_in);
    plan.sink.http.target.host_header = "127.0.0.1";
    plan.sink.http.target.path = "/v1/datasets/alloc/ingest";
    plan.sink.http.connections = 2;
    plan.slots = 4;

    plan.events_budget = 1'000;
    (void)allocations_running(plan, 1'000);  // one-time initialisation
    plan.events_budget = 20'000;
    const auto small = allocations_running(plan, 20'000);
    plan.events_budget = 200'000;
    const auto large = allocations_running(plan, 200'000);
    CHECK(large == small);
    server.stop();
}
