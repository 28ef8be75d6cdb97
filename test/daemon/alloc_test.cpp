// "Allocate at start-up, never after" (DESIGN.md §2), proved by counting.
//
// Each test runs a shard to completion twice, with a small and a several
// times larger amount of work. Start-up allocates the same either way; if
// the steady state allocated anything, the larger run would allocate more.
// Only the shard's own thread is counted: a sink server, or the test playing
// the control thread, allocates as it pleases.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "core/scenario_engine.hpp"
#include "daemon/checkpoint.hpp"
#include "daemon/checkpoint_share.hpp"
#include "shard_harness.hpp"
#include "sink/server.hpp"
#include "test/common/alloc_counter.hpp"

using supervent::daemon::ShardCheckpointShare;
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

TEST_CASE("the shard's steady state does not allocate (each HTTP log API body to discard:)", "[alloc]") {
    using supervent::net::LogApi;
    for (LogApi api : {LogApi::elasticsearch, LogApi::loki, LogApi::splunk_hec, LogApi::otlp, LogApi::datadog}) {
        INFO(std::string(supervent::net::log_api_name(api)));
        auto plan = supervent::test::discard_plan(1'000, 1000);
        plan.sink.api.api = api;  // the shard writes the API's body for every batch, then discards it
        if (api == LogApi::otlp) plan.compression = supervent::config::Compression{true, 1};
        if (api == LogApi::loki) plan.compression = supervent::config::Compression{false, 1, true};  // gzip
        (void)allocations_running(plan, 1'000);
        plan.events_budget = 20'000;
        const auto small = allocations_running(plan, 20'000);
        plan.events_budget = 100'000;
        const auto large = allocations_running(plan, 100'000);
        CHECK(large == small);
    }
}

TEST_CASE("the shard's steady state does not allocate (HTTP to a sink)", "[alloc]") {
    supervent::sink::ServerConfig config;
    config.port = 0;
    supervent::sink::Server server(config);  // allocates on its own threads, not counted here
    server.start();
    auto plan = supervent::test::http_plan(server.port(), 0, 1000);

    plan.events_budget = 1'000;
    (void)allocations_running(plan, 1'000);  // one-time initialisation
    plan.events_budget = 20'000;
    const auto small = allocations_running(plan, 20'000);
    plan.events_budget = 200'000;
    const auto large = allocations_running(plan, 200'000);
    CHECK(large == small);
    server.stop();
}

namespace {

using namespace std::chrono_literals;

// A checkpointed backfill run as the daemon runs one: the shard on a thread
// of its own (the one counted), this thread as the control thread.
struct CheckpointedRun {
    std::uint64_t allocations = 0;  // on the shard's thread, start-up included
    supervent::daemon::ShardJournal journal;  // the last snapshot, after the shard ended
    std::uint64_t acked = 0;
};

// Turns the scenario's only source off or on, as `sources disable|enable` does.
void set_source_enabled(supervent::daemon::ShardControl& control, bool enabled) {
    std::lock_guard lock(control.change_mutex);
    control.change.enabled = {static_cast<std::uint8_t>(enabled ? 1 : 0)};
    control.change_version.fetch_add(1);
}

// Snapshots the journal, as the control thread does, until `done` says so.
template <typename Done>
supervent::daemon::ShardJournal snapshot_until(ShardCheckpointShare& share, Done done) {
    for (;;) {
        supervent::daemon::ShardJournal journal = share.snapshot();
        if (done(journal)) return journal;
        std::this_thread::sleep_for(2ms);
    }
}

// Paced by --rate, whose changes change the batch size: each time the shard
// has journaled the size of the current rate, the rate flips, so the journal
// gets a size run every ~0.1 s (a batch's worth of tokens at the new rate).
// Early on the source goes off and on again: two toggles, a fixed number, as
// the change is copied under ShardControl's mutex (which allocates, once per
// change, never per batch).
CheckpointedRun run_checkpointed_backfill(std::uint64_t events) {
    constexpr double rates[2] = {20'000, 40'000};  // batches of 2,000 and 4,000 events
    supervent::daemon::ShardPlan plan = supervent::test::discard_plan(0, 10'000);
    const std::int64_t start_ns = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
    plan.scenario = supervent::test::builtin_scenario(start_ns, start_ns + 86'400'000'000'000, events);
    ShardCheckpointShare share;
    plan.checkpoint_share = &share;
    supervent::daemon::ShardStats stats;
    supervent::daemon::ShardControl control;
    supervent::daemon::ShardError error;
    control.rate_eps.store(rates[0]);

    CheckpointedRun run;
    std::thread shard_thread([&] {
        const std::uint64_t before = heap_allocations_on_this_thread();
        supervent::daemon::Shard shard(plan, stats, control, error);
        shard.run();
        run.allocations = heap_allocations_on_this_thread() - before;
    });
    set_source_enabled(control, false);
    (void)snapshot_until(share, [](const auto& journal) { return journal.toggles.size() == 1; });
    set_source_enabled(control, true);
    (void)snapshot_until(share, [](const auto& journal) { return journal.toggles.size() == 2; });
    int rate = 0;
    (void)snapshot_until(share, [&](const auto& journal) {
        const std::uint32_t target = static_cast<std::uint32_t>(rates[rate] / 10);
        if (!journal.sizes.empty() && journal.sizes.back().max_events == target) {
            rate ^= 1;
            control.rate_eps.store(rates[rate]);
        }
        const auto phase = stats.phase.load();
        return phase == supervent::daemon::ShardPhase::finished || phase == supervent::daemon::ShardPhase::failed;
    });
    shard_thread.join();
    INFO(error.text);
    REQUIRE(error.text.empty());
    run.journal = share.snapshot();
    run.acked = stats[supervent::daemon::Stat::events_acked].get();
    return run;
}

}  // namespace

TEST_CASE("a checkpointed backfill's steady state does not allocate, journaling sizes and toggles", "[alloc][checkpoint]") {
    (void)run_checkpointed_backfill(2'000);  // one-time initialisation
    const CheckpointedRun small = run_checkpointed_backfill(20'000);
    const CheckpointedRun large = run_checkpointed_backfill(80'000);
    // Size runs were journaled (more in the larger run), and both toggles.
    INFO("size runs: " << small.journal.sizes.size() << " and " << large.journal.sizes.size());
    CHECK(small.journal.sizes.size() >= 4);
    CHECK(large.journal.sizes.size() >= 2 * small.journal.sizes.size());
    CHECK(large.journal.toggles.size() == 2);
    // Everything settled, and the checkpoint says so.
    CHECK(small.acked == 20'000);
    CHECK(large.acked == 80'000);
    CHECK(small.journal.events == 20'000);
    CHECK(large.journal.events == 80'000);
    CHECK(large.allocations == small.allocations);
}

TEST_CASE("the checkpoint journal's shard side does not allocate, even with its ring and backlog full", "[alloc][checkpoint]") {
    auto share = std::make_unique<ShardCheckpointShare>();
    const std::uint64_t changes = ShardCheckpointShare::ring_entries + ShardCheckpointShare::backlog_entries + 10;
    const std::uint64_t before = heap_allocations_on_this_thread();
    for (std::uint64_t batch = 0; batch < changes; ++batch) {
        share->journal_size({batch, batch * 100}, 100 + static_cast<std::uint32_t>(batch % 2));
        share->journal_toggle({batch, batch * 100}, 0, batch % 2 == 0);
        share->publish({batch + 1, (batch + 1) * 100});
    }
    CHECK(heap_allocations_on_this_thread() == before);
    CHECK(share->journal_lost());
}

TEST_CASE("recording failed batches does not allocate on the shard's side even with the ring full", "[alloc][checkpoint]") {
    auto share = std::make_unique<ShardCheckpointShare>();
    const std::uint64_t batches = 4 * ShardCheckpointShare::ring_entries;
    const std::uint64_t before = heap_allocations_on_this_thread();
    for (std::uint64_t batch = 0; batch < batches; ++batch) {
        if (batch % 3 != 1) share->fail({batch, batch * 100}, 100);  // runs of two: a range closed every third batch
        share->publish({batch + 1, (batch + 1) * 100});
    }
    CHECK(heap_allocations_on_this_thread() == before);
    CHECK(share->journal_lost());  // nobody drained the ring
}

namespace {

struct ResendRun {
    std::uint64_t allocations = 0;
    std::uint64_t generated = 0;
    std::uint64_t acked = 0;
    std::uint64_t resumed = 0;
    supervent::daemon::ShardJournal journal;
};

// The events of each batch of the plan's backfill, as the shard's engine
// makes them: where a batch ends is the engine's choice (random arrivals
// end some batches at a slice's edge), so the checkpoint is built from it.
std::vector<std::uint64_t> batch_events(const supervent::daemon::ShardPlan& plan) {
    supervent::core::ScenarioEngine engine(plan.scenario, plan.identity, plan.batch_events, plan.batch_bytes_max);
    std::vector<char> out(std::size_t{plan.batch_events} * engine.event_bytes_max());
    std::vector<std::uint64_t> counts;
    while (!engine.done()) {
        const auto batch = engine.next(plan.batch_events, 0, out);
        if (batch.events > 0) counts.push_back(batch.events);
    }
    return counts;
}

// A backfill of `events` in batches of at most 1,000 resumed from a
// checkpoint whose watermark is its end and whose failed batches are every
// `every`-th batch from batch 1 on, two at a time. Returns the run and, in
// `failed_events`, how many events those batches hold.
ResendRun run_resend(std::uint64_t events, std::uint64_t every, std::uint64_t* failed_events = nullptr) {
    constexpr std::uint64_t batch = 1'000;
    supervent::daemon::ShardPlan plan = supervent::test::discard_plan(0, batch);
    const std::int64_t start_ns = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
    plan.scenario = supervent::test::builtin_scenario(start_ns, start_ns + 86'400'000'000'000, events);
    const std::vector<std::uint64_t> counts = batch_events(plan);
    std::vector<std::uint64_t> before(counts.size() + 1, 0);  // events made before batch b
    for (std::size_t b = 0; b < counts.size(); ++b) before[b + 1] = before[b] + counts[b];
    supervent::daemon::Checkpoint checkpoint;
    checkpoint.fingerprint = "test";
    supervent::daemon::ShardJournal& journal = checkpoint.shards.emplace_back();
    journal.batches = counts.size();
    journal.events = events;
    journal.sizes = {{0, static_cast<std::uint32_t>(batch)}};
    REQUIRE(before.back() == events);
    if (failed_events != nullptr) *failed_events = 0;
    for (std::uint64_t b = 1; b + 1 < journal.batches; b += every) {
        journal.failed.push_back({b, 2, before[b], before[b + 2] - before[b]});
        if (failed_events != nullptr) *failed_events += before[b + 2] - before[b];
    }
    auto start = std::make_shared<supervent::daemon::CheckpointStart>();
    start->found = checkpoint;
    plan.checkpoint = start;
    ShardCheckpointShare share;
    plan.checkpoint_share = &share;
    supervent::daemon::ShardStats stats;
    supervent::daemon::ShardControl control;
    supervent::daemon::ShardError error;
    ResendRun run;
    std::thread shard_thread([&] {
        const std::uint64_t before = heap_allocations_on_this_thread();
        supervent::daemon::Shard shard(plan, stats, control, error);
        shard.run();
        run.allocations = heap_allocations_on_this_thread() - before;
    });
    shard_thread.join();
    INFO(error.text);
    REQUIRE(error.text.empty());
    run.journal = share.snapshot();
    run.generated = stats[supervent::daemon::Stat::events_generated].get();
    run.acked = stats[supervent::daemon::Stat::events_acked].get();
    run.resumed = stats[supervent::daemon::Stat::events_resumed].get();
    return run;
}

}  // namespace

TEST_CASE("a resumed backfill sends its failed batches alone and allocates nothing for them", "[alloc][checkpoint]") {
    (void)run_resend(10'000, 4);  // one-time initialisation
    std::uint64_t few_failed = 0, many_failed = 0;
    const ResendRun few = run_resend(100'000, 40, &few_failed);    // 3 ranges of 2 batches
    const ResendRun many = run_resend(100'000, 4, &many_failed);   // about 25 ranges
    // Only the failed batches were made into slots and sent; the rest made again, not sent.
    REQUIRE(few_failed > 0);
    REQUIRE(many_failed > 5 * few_failed);
    CHECK(few.generated == few_failed);
    CHECK(few.acked == few_failed);
    CHECK(few.resumed == 100'000 - few_failed);
    CHECK(many.generated == many_failed);
    CHECK(many.acked == many_failed);
    // Everything settled, nothing failed: the next checkpoint has its watermark at the end, no failures.
    CHECK(many.journal.batches >= 100);
    CHECK(many.journal.events == 100'000);
    CHECK(many.journal.failed.empty());
    CHECK(many.allocations == few.allocations);
}

namespace {

// The same run against a sink that refuses connections for `outage`, then listens.
std::uint64_t allocations_with_outage(std::uint64_t events, std::chrono::milliseconds outage) {
    const std::uint16_t port = supervent::test::unused_port();
    std::unique_ptr<supervent::sink::Server> server;
    std::thread later([&] {  // the server allocates on its own threads, not counted
        std::this_thread::sleep_for(outage);
        supervent::sink::ServerConfig config;
        config.port = port;
        server = std::make_unique<supervent::sink::Server>(config);
        server->start();
    });
    const std::uint64_t during = allocations_running(supervent::test::http_plan(port, events, 1000), events);
    later.join();
    server->stop();
    return during;
}

}  // namespace

TEST_CASE("the shard does not allocate through an outage (refused, then accepting)", "[alloc]") {
    // Connects refused, every batch waiting and retried, the failures
    // published for the control thread, then delivery: none of it allocates,
    // so a run through an outage allocates what a run without one does.
    (void)allocations_with_outage(1'000, std::chrono::milliseconds(0));  // one-time initialisation
    const auto healthy = allocations_with_outage(20'000, std::chrono::milliseconds(0));
    const auto outage = allocations_with_outage(20'000, std::chrono::milliseconds(700));
    CHECK(outage == healthy);
}
