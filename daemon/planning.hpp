#pragma once
// Planning: turns Settings into the scenario a run makes and one plan per
// shard. Nothing here runs a shard; the plans say what each will do.
//
// A run is planned in three steps, so that the middle one can be tested as
// the function it is:
//   1. look_up_plan_inputs: what the machine and the file system say (online
//      CPUs, the sink's and --bind addresses, what the file sink's path is).
//   2. plan_shards: settings + those inputs -> plans. Pure: it opens no
//      socket or file and reads no clock or environment; what it would log
//      it returns, for the caller to log.
//   3. open_run_files: after planning, what the plans need opened: the
//      checkpoint (checked against the planned run) and the file sink.
// This file may include config/, core/, net/ (request heads, body formats)
// and the daemon's shard plan, checkpoint and log; it runs nothing.
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "core/scenario_engine.hpp"
#include "daemon/log.hpp"
#include "daemon/shard.hpp"

namespace supervent::daemon {

// The scenario a run makes: the config's sources (or the built-in one), its
// window (a backfill) or none (live). Throws with a message for the operator.
[[nodiscard]] std::shared_ptr<const core::CompiledScenario> compile_run_scenario(const config::Settings& settings);

// The run's event rate: --rate, or the scenario's own frequencies; nullopt = unlimited.
[[nodiscard]] std::optional<double> run_rate_eps(const config::Settings& settings, const core::CompiledScenario& scenario);

// What planning needs that the settings do not say: looked up on this
// machine just before planning (step 1), or written by hand in tests.
struct PlanInputs {
    std::uint32_t online_cpus = 1;  // for --workers 0 and pinning
    // What the file sink's path is now: several shards may append to a
    // regular file (or one planning will create), not to a pipe or terminal.
    enum class OutputFile { absent, regular, other };
    OutputFile output_file = OutputFile::absent;
    // http(s) sinks: the sink host's address, and the --bind entries as
    // addresses of its family.
    sockaddr_storage sink_address{};
    socklen_t sink_address_bytes = 0;
    std::vector<sockaddr_storage> local_addresses;
};

// Step 1: resolves the sink host (getaddrinfo) and --bind entries, counts
// the online CPUs, looks at the file sink's path. Throws std::runtime_error
// for a host that does not resolve, std::invalid_argument for a bad --bind.
[[nodiscard]] PlanInputs look_up_plan_inputs(const config::Settings& settings);

// A line planning wants logged (a worker count it lowered, a risky setting).
struct PlanMessage {
    log::Level level = log::Level::notice;
    std::string text;  // without the program name
};

struct RunPlan {
    std::vector<ShardPlan> shards;      // at least one; file sinks' file_fd still -1
    std::vector<PlanMessage> messages;  // in the order they arose
};

// Step 2: the plan of every shard: worker count, rate and event budget
// split, sink target. Pure (see the top of this file). Throws
// std::invalid_argument or std::runtime_error with a message for the operator.
[[nodiscard]] RunPlan plan_shards(const config::Settings& settings, const PlanInputs& inputs);

// Logs each message at its level, as superventd's own lines.
void log_plan_messages(const std::vector<PlanMessage>& messages);

// Step 3: reads and checks the checkpoint (settings.checkpoint_path) against
// the planned run and gives it to every plan; for a file sink, starts the
// file afresh (or, resuming, trims a line the kill cut short) and opens one
// descriptor per shard. Throws with a message for the operator.
void open_run_files(const config::Settings& settings, std::vector<ShardPlan>& plans);
// --check-config: what open_run_files checks, changing nothing: the
// checkpoint read and checked, the file sink opened for appending (never
// created, truncated or trimmed) or, when missing, its directory writable.
void check_run_files(const config::Settings& settings, std::vector<ShardPlan>& plans);

// Share `index` of `count` of `total`: the shares sum to total exactly.
[[nodiscard]] std::uint64_t share_of(std::uint64_t total, std::uint32_t index, std::uint32_t count);

// Whether the sink takes events at Axiom's edge path (sink.edge).
[[nodiscard]] bool edge_path(const config::Settings& settings);

}  // namespace supervent::daemon
