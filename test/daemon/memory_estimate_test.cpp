// The --check-config memory line: a shard's buffers by docs/architecture.md's
// Memory formula, the slots cut by the same budget the shard applies.
#include <catch2/catch.hpp>

#include "core/bounds.hpp"
#include "daemon/memory_estimate.hpp"
#include "net/tls_client.hpp"
#include "net/zstd_compressor.hpp"
#include "shard_harness.hpp"

namespace {

using supervent::daemon::estimate_shard_memory;
using supervent::daemon::scenario_event_bytes_max;
namespace bounds = supervent::bounds;

constexpr std::size_t pages(std::size_t bytes) { return (bytes + 4095) / 4096 * 4096; }
constexpr std::size_t staging_per_event = 103;  // ScenarioEngine::Staging's columns

// The daemon's defaults over HTTP: 2 connections at the default pipeline depth max.
constexpr std::uint32_t default_slots = 2 * bounds::http_slots_per_connection(bounds::http_pipeline_depth_max_default);

supervent::daemon::ShardPlan default_http_plan(std::uint32_t batch_events) {
    auto plan = supervent::test::http_plan(9, 0, batch_events);
    plan.slots = default_slots;
    return plan;
}

}  // namespace

TEST_CASE("memory estimate: HTTP slots are connections x (depth + 1) of head room + a batch of the largest events",
          "[memory]") {
    const auto plan = default_http_plan(2000);
    const std::size_t event = scenario_event_bytes_max(*plan.scenario);
    REQUIRE(event > 100);
    const auto memory = estimate_shard_memory(plan, std::nullopt);
    CHECK(memory.slots == default_slots);
    CHECK(memory.slot_bytes == pages(bounds::http_head_room_bytes + 2000 * event));
    CHECK(memory.buffer_bytes ==
          default_slots * memory.slot_bytes + staging_per_event * 2000 + 3 * bounds::http_response_bytes_max);
    // Ten thousand events a batch: slots five times the size, as many as fit
    // the slot budget (fewer than the pipeline's 2 x 25).
    const auto big = estimate_shard_memory(default_http_plan(10'000), std::nullopt);
    CHECK(big.slot_bytes == pages(bounds::http_head_room_bytes + 10'000 * event));
    CHECK(big.slots < default_slots);
    CHECK(big.slots == bounds::http_pipeline_slot_bytes_budget / big.slot_bytes);
    CHECK(big.buffer_bytes > 3 * memory.buffer_bytes);
}

TEST_CASE("memory estimate: zstd adds the render buffer and sizes slots by the compressed bound", "[memory]") {
    auto plan = default_http_plan(2000);
    plan.compression.zstd = true;
    const std::size_t rendered = 1 + 2000 * scenario_event_bytes_max(*plan.scenario);
    const auto memory = estimate_shard_memory(plan, std::nullopt);
    const std::size_t frame = supervent::net::ZstdCompressor::bound_bytes(rendered);
    CHECK(memory.slot_bytes == pages(bounds::http_head_room_bytes + frame));
    CHECK(memory.buffer_bytes ==
          default_slots * memory.slot_bytes + rendered + staging_per_event * 2000 + 3 * bounds::http_response_bytes_max);
}

TEST_CASE("memory estimate: a memlock budget cuts HTTP slots but never under two a connection", "[memory]") {
    const auto plan = default_http_plan(2000);
    const std::size_t slot = estimate_shard_memory(plan, std::nullopt).slot_bytes;
    CHECK(estimate_shard_memory(plan, 10 * slot).slots == 10);
    CHECK(estimate_shard_memory(plan, slot).slots == 4);
    CHECK(estimate_shard_memory(plan, std::size_t{1} << 40).slots == default_slots);
}

TEST_CASE("memory estimate: an HTTPS shard's memlock budget leaves room for its cipher buffers", "[memory]") {
    auto plan = default_http_plan(2000);
    const std::size_t slot = estimate_shard_memory(plan, std::nullopt).slot_bytes;
    plan.sink.kind = supervent::config::SinkUrl::Kind::https;
    // Each of the 2 connections registers a cipher buffer of about a slot
    // too: 10 slots' worth of lockable memory leaves room for ~8 slots, not 10.
    const std::size_t cipher = supervent::net::tls_out_capacity(slot);
    CHECK(pipeline_slot_budget_bytes(plan, slot, 10 * slot) == 10 * slot - 2 * cipher);
    const auto memory = estimate_shard_memory(plan, 10 * slot);
    CHECK(memory.slots < 10);
    CHECK(memory.slots * slot + 2 * cipher <= 10 * slot);
    // Nothing locked besides: the budget is the slot budget alone.
    CHECK(pipeline_slot_budget_bytes(plan, slot, std::nullopt) == bounds::http_pipeline_slot_bytes_budget);
}

TEST_CASE("memory estimate: discard has its two slots and no connection buffers", "[memory]") {
    const auto plan = supervent::test::discard_plan(0, 500);
    const auto memory = estimate_shard_memory(plan, std::nullopt);
    CHECK(memory.slots == 2);
    CHECK(memory.buffer_bytes == 2 * memory.slot_bytes + staging_per_event * 500);
}
