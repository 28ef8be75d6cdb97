#pragma once
// Planning: turns Settings into the scenario a run makes and one plan per
// shard. Nothing here runs a shard; the plans say what each will do.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "config/settings.hpp"
#include "core/scenario_engine.hpp"
#include "daemon/shard.hpp"

namespace supervent::daemon {

// The scenario a run makes: the config's sources (or the built-in one), its
// window (a backfill) or none (live). Throws with a message for the operator.
[[nodiscard]] std::shared_ptr<const core::CompiledScenario> compile_run_scenario(const config::Settings& settings);

// The run's event rate: --rate, or the scenario's own frequencies; nullopt = unlimited.
[[nodiscard]] std::optional<double> run_rate_eps(const config::Settings& settings, const core::CompiledScenario& scenario);

// Builds the plan of every shard from the settings: resolves the sink
// address, splits rate and event budget, opens files. Throws
// std::runtime_error with a message for the operator.
[[nodiscard]] std::vector<ShardPlan> plan_shards(const config::Settings& settings);

// Share `index` of `count` of `total`: the shares sum to total exactly.
[[nodiscard]] std::uint64_t share_of(std::uint64_t total, std::uint32_t index, std::uint32_t count);

// Whether the sink takes events at Axiom's edge path (sink.edge).
[[nodiscard]] bool edge_path(const config::Settings& settings);

}  // namespace supervent::daemon
