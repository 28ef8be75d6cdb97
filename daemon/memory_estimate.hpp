#pragma once
// What a planned run's buffers will take in memory (docs/architecture.md,
// "Memory"): every buffer a shard allocates in Shard::start, computed from
// its plan the way the shard sizes it, without starting anything. For
// `superventd --check-config`: the run's memory is this plus ~12 MiB of code,
// libraries and the compiled scenario, and stays there (nothing is allocated
// on the data path, and a shard with no free slot generates nothing).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "daemon/shard.hpp"

namespace supervent::daemon {

struct ShardMemory {
    std::uint32_t slots = 0;       // after the pipeline's memory budget (net::fit_pipeline_slots)
    std::size_t slot_bytes = 0;    // head room + the largest body, whole pages
    std::size_t buffer_bytes = 0;  // slots, staging, render, response and TLS buffers together
};

// The largest event any source (or incident variant) of the scenario renders.
[[nodiscard]] std::size_t scenario_event_bytes_max(const core::CompiledScenario& scenario);

// The bytes an HTTP(S) shard's pipeline slots may take (Shard::fit_pipeline_to_budget):
// bounds::http_pipeline_slot_bytes_budget, or less where the memlock limit
// allows less (memlock_budget, net::memlock_budget_bytes), after an HTTPS
// shard's cipher buffers, which are registered with io_uring too.
[[nodiscard]] std::size_t pipeline_slot_budget_bytes(const ShardPlan& plan, std::size_t slot_bytes,
                                                     std::optional<std::size_t> memlock_budget);

// One shard's buffers. memlock_budget: what the memlock limit leaves a shard
// (net::memlock_budget_bytes; nullopt when there is no such limit).
[[nodiscard]] ShardMemory estimate_shard_memory(const ShardPlan& plan, std::optional<std::size_t> memlock_budget);

// Every shard's, summed, with this process's memlock limit.
[[nodiscard]] std::size_t estimate_run_buffer_bytes(const std::vector<ShardPlan>& shards);

}  // namespace supervent::daemon
