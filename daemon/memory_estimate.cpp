#include "daemon/memory_estimate.hpp"

#include <algorithm>
#include <cassert>

#include "core/bounds.hpp"
#include "core/scenario_engine.hpp"
#include "net/api_bodies.hpp"
#include "net/body_format.hpp"
#include "net/gzip_compressor.hpp"
#include "net/pipeline_depth.hpp"
#include "net/tls_client.hpp"
#include "net/zstd_compressor.hpp"

namespace supervent::daemon {
namespace {

constexpr std::size_t page_bytes = 4096;  // net::BufferArena rounds each slot up to a page

constexpr std::size_t round_up(std::size_t value, std::size_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

// core::ScenarioEngine's staging columns, bytes an event of batch_events:
// seven 8-byte columns, a 2-byte shape, a root flag, a 4-byte end offset and
// five 8-byte trace-context columns (ScenarioEngine::Staging).
constexpr std::size_t staging_bytes_per_event = 7 * 8 + 2 + 1 + 4 + 5 * 8;

std::size_t compressed_bound(const config::Compression& compression, std::size_t input_bytes) {
    return compression.gzip ? net::GzipCompressor::bound_bytes(input_bytes)
                            : net::ZstdCompressor::bound_bytes(input_bytes);
}

struct Bodies {
    std::size_t body_bytes_max = 0;  // what a slot's body may hold
    std::size_t scratch_bytes = 0;   // the render buffer (and an API preset's body) outside the slots
};

// Mirrors Shard::start and Shard::plan_api_buffers.
Bodies body_bytes(const ShardPlan& plan, std::size_t event_bytes_max) {
    const bool compressed = plan.compression.zstd || plan.compression.gzip;
    const std::size_t rendered = std::size_t{plan.batch_events} * event_bytes_max;
    Bodies out{rendered, 0};
    if (plan.sink.api.api != net::LogApi::axiom) {
        const bool json_array = plan.sink.body_format == net::BodyFormat::json_array;
        const std::size_t engine_max =
            json_array && plan.batch_bytes_max > 0 ? plan.batch_bytes_max - 1 : plan.batch_bytes_max;
        const std::size_t raw_max =
            engine_max > 0 ? std::min(rendered, std::max(engine_max, event_bytes_max)) : rendered;
        out.scratch_bytes = net::json_array_head_room_bytes + rendered;
        out.body_bytes_max = net::api_body_bytes_bound(plan.sink.api, raw_max, plan.batch_events);
        if (compressed) {
            out.scratch_bytes += out.body_bytes_max;
            out.body_bytes_max = compressed_bound(plan.compression, out.body_bytes_max);
        }
    } else if (compressed) {
        out.scratch_bytes = net::json_array_head_room_bytes + rendered;
        out.body_bytes_max = compressed_bound(plan.compression, out.scratch_bytes);
    }
    return out;
}

}  // namespace

std::size_t scenario_event_bytes_max(const core::CompiledScenario& scenario) {
    std::size_t most = 0;
    for (const core::ScenarioSource& source : scenario.sources) most = std::max(most, source.program->event_bytes_max);
    for (const core::CompiledIncident& incident : scenario.incidents) {
        for (const core::IncidentSource& source : incident.sources) {
            if (source.program != nullptr) most = std::max(most, source.program->event_bytes_max);
        }
    }
    return most;
}

std::size_t pipeline_slot_budget_bytes(const ShardPlan& plan, std::size_t slot_bytes,
                                      std::optional<std::size_t> memlock_budget) {
    if (!memlock_budget) return bounds::http_pipeline_slot_bytes_budget;
    std::size_t lockable = *memlock_budget;
    if (plan.sink.kind == config::SinkUrl::Kind::https) {
        const std::size_t cipher =
            std::size_t{plan.sink.http.connections} * net::tls_out_capacity(std::max(slot_bytes, net::tls_in_capacity));
        lockable = lockable > cipher ? lockable - cipher : 0;
    }
    return std::min(bounds::http_pipeline_slot_bytes_budget, lockable);
}

ShardMemory estimate_shard_memory(const ShardPlan& plan, std::optional<std::size_t> memlock_budget) {
    assert(plan.scenario != nullptr && plan.batch_events >= 1);
    const Bodies bodies = body_bytes(plan, scenario_event_bytes_max(*plan.scenario));
    ShardMemory out;
    out.slot_bytes = round_up(bounds::http_head_room_bytes + bodies.body_bytes_max, page_bytes);
    out.slots = plan.slots;
    const bool http = plan.sink.kind == config::SinkUrl::Kind::http;
    const bool https = plan.sink.kind == config::SinkUrl::Kind::https;
    if (http || https) {  // Shard::fit_pipeline_to_budget
        const std::size_t budget = pipeline_slot_budget_bytes(plan, out.slot_bytes, memlock_budget);
        out.slots = net::fit_pipeline_slots(plan.slots, plan.sink.http.connections, out.slot_bytes, budget).slots;
    }
    out.buffer_bytes = std::size_t{out.slots} * out.slot_bytes + bodies.scratch_bytes +
                       staging_bytes_per_event * plan.batch_events;
    if (http || https) {
        // A response buffer a connection and one body scratch (net::HttpTransport).
        out.buffer_bytes += bounds::http_response_bytes_max * (plan.sink.http.connections + 1);
    }
    if (https) {
        const std::size_t cipher = net::tls_out_capacity(std::max(out.slot_bytes, net::tls_in_capacity));
        out.buffer_bytes += plan.sink.http.connections * (cipher + net::tls_in_capacity);
    }
    return out;
}

std::size_t estimate_run_buffer_bytes(const std::vector<ShardPlan>& shards) {
    const auto memlock = net::memlock_budget_bytes(static_cast<std::uint32_t>(shards.size()));
    std::size_t total = 0;
    for (const ShardPlan& plan : shards) total += estimate_shard_memory(plan, memlock).buffer_bytes;
    return total;
}

}  // namespace supervent::daemon
