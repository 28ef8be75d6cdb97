#pragma once
// Runs one Shard to completion on the calling thread, as the daemon would on
// its own thread, and returns its counters.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/scenario_engine.hpp"
#include "daemon/shard.hpp"
#include "net/http_request.hpp"

namespace supervent::test {

struct ShardOutcome {
    std::uint64_t generated = 0;
    std::uint64_t acked = 0;
    std::uint64_t failed = 0;
    std::uint64_t requests_sent = 0;
    std::uint64_t requests_retried = 0;
    std::uint64_t bytes_generated = 0;
    std::uint64_t zc_notifications = 0;
    daemon::ShardPhase phase = daemon::ShardPhase::starting;
    std::string error;
};

// The built-in web_access scenario; with a window, a backfill of window_events over it.
inline std::shared_ptr<const core::CompiledScenario> builtin_scenario(std::optional<std::int64_t> start_ns = {},
                                                                      std::optional<std::int64_t> end_ns = {},
                                                                      std::uint64_t window_events = 0) {
    core::ScenarioInputs inputs;
    inputs.builtin = core::builtin_program("web_access");
    inputs.window_start_ns = start_ns;
    inputs.window_end_ns = end_ns;
    inputs.window_events = window_events;
    inputs.default_dataset = "supervent";
    return core::compile_scenario(inputs);
}

inline daemon::ShardPlan discard_plan(std::uint64_t events, std::uint32_t batch_events = 1000) {
    daemon::ShardPlan plan;
    plan.scenario = builtin_scenario();
    plan.batch_events = batch_events;
    plan.events_budget = events;
    plan.sink.kind = config::SinkUrl::Kind::discard;
    plan.sink.description = "discard:";
    plan.slots = 2;
    return plan;
}

// HTTP to 127.0.0.1:port: two connections, four slots, and quick retries
// and reconnects, which keep the failure tests short.
inline daemon::ShardPlan http_plan(std::uint16_t port, std::uint64_t events, std::uint32_t batch_events = 2000) {
    daemon::ShardPlan plan = discard_plan(events, batch_events);
    plan.sink.kind = config::SinkUrl::Kind::http;
    plan.sink.description = "http://127.0.0.1:" + std::to_string(port);
    auto& address = reinterpret_cast<sockaddr_in&>(plan.sink.http.address);
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    plan.sink.http.address_bytes = sizeof(sockaddr_in);
    plan.sink.http.target.host_header = "127.0.0.1:" + std::to_string(port);
    plan.sink.http.target.path = net::ingest_path("", "shardtest");
    plan.sink.http.connections = 2;
    plan.slots = 4;
    plan.retry_backoff_min_ns = 5'000'000;
    plan.retry_backoff_max_ns = 20'000'000;
    plan.sink.http.reconnect_backoff_min_ns = 5'000'000;
    plan.sink.http.reconnect_backoff_max_ns = 20'000'000;
    return plan;
}

// A loopback port nothing listens on (yet): bound to port 0, noted, closed.
inline std::uint16_t unused_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) throw std::runtime_error("bind");
    socklen_t length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) throw std::runtime_error("getsockname");
    ::close(fd);
    return ntohs(address.sin_port);
}

inline ShardOutcome run_shard(const daemon::ShardPlan& plan, double rate_eps = 0) {
    daemon::ShardStats stats;
    daemon::ShardControl control;
    daemon::ShardError error;
    control.rate_eps.store(rate_eps);
    daemon::Shard shard(plan, stats, control, error);
    shard.run();
    ShardOutcome outcome;
    outcome.generated = stats[supervent::daemon::Stat::events_generated].get();
    outcome.acked = stats[supervent::daemon::Stat::events_acked].get();
    outcome.failed = stats.events_failed.get();
    outcome.requests_sent = stats[supervent::daemon::Stat::requests_sent].get();
    outcome.requests_retried = stats[supervent::daemon::Stat::requests_retried].get();
    outcome.bytes_generated = stats[supervent::daemon::Stat::bytes_generated].get();
    outcome.zc_notifications = stats[supervent::daemon::Stat::zc_notifications].get();
    outcome.phase = stats.phase.load();
    outcome.error = error.text;
    return outcome;
}

}  // namespace supervent::test
