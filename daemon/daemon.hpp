#pragma once
// superventd's top level: turns Settings into shard plans, runs the shards on
// their threads and the control plane (signals, control socket, progress) on
// this one, and reports the outcome.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/settings.hpp"
#include "daemon/shard.hpp"
#include "daemon/shard_state.hpp"

namespace supervent::daemon {

// Totals over all shards at one moment.
struct Totals {
    std::uint64_t events_generated = 0;
    std::uint64_t events_acked = 0;
    std::uint64_t events_failed = 0;
    std::uint64_t events_failed_by_reason[static_cast<int>(net::FailReason::count_)] = {};
    std::uint64_t bytes_generated = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t requests_sent = 0;
    std::uint64_t requests_acked = 0;
    std::uint64_t requests_retried = 0;
    std::uint64_t requests_ambiguous = 0;
    std::uint64_t requests_failed = 0;
    std::uint64_t connects = 0;
    std::uint64_t connect_failures = 0;
    std::uint64_t zc_notifications = 0;
    std::uint64_t zc_copied = 0;
    std::uint64_t tls_handshakes = 0;
    std::uint64_t tls_resumed = 0;
    std::uint64_t ktls_connections = 0;
    int ktls_unavailable_errno = 0;  // any shard's
    std::uint64_t tls_cipher_fixed_writes = 0;
    std::uint64_t latency_ns_sum = 0;
    std::uint64_t slots_total = 0;
    std::uint64_t slots_busy = 0;
    [[nodiscard]] std::uint64_t events_in_flight() const { return events_generated - events_acked - events_failed; }
    // The failed events split by who decided: the sink reported them failed
    // in a 2xx reply (reason partial: "failed" in Axiom's terms), or
    // supervent gave up on them (every other reason: dropped). So
    // generated = acked + rejected + dropped + in flight, at every moment.
    [[nodiscard]] std::uint64_t events_rejected() const {
        return events_failed_by_reason[static_cast<int>(net::FailReason::partial)];
    }
    [[nodiscard]] std::uint64_t events_dropped() const { return events_failed - events_rejected(); }
};

class Daemon {
public:
    // Loads the settings for a reload (SIGHUP, `reload [FILE]`) from a config
    // file path; throws with the reason when the file is invalid. The default
    // loads the file alone (plus the token): superventd passes one that
    // reapplies its command-line options on top, as at start-up.
    using SettingsLoader = std::function<config::Settings(const std::string& path)>;
    explicit Daemon(config::Settings settings, SettingsLoader load_settings = {});
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Runs to the end: 0 when every generated event was acknowledged,
    // 1 otherwise (failures, a shard that could not start).
    int run();

    // Answers one control-protocol request line (what the control socket
    // hands to the daemon) on this thread. Before run() there are no shards:
    // tests and the control-protocol fuzzer (test/fuzz) use it that way.
    void handle_control_request(std::string_view request, std::function<void(std::string)> respond);

private:
    struct Shared;
    std::unique_ptr<Shared> shared_;
};

// The scenario a run makes: the config's sources (or the built-in one), its
// window (a backfill) or none (live). Throws with a message for the operator.
[[nodiscard]] std::shared_ptr<const core::CompiledScenario> compile_run_scenario(const config::Settings& settings);

// Builds the plan of every shard from the settings: resolves the sink
// address, splits rate and event budget, opens files. Throws
// std::runtime_error with a message for the operator.
[[nodiscard]] std::vector<ShardPlan> plan_shards(const config::Settings& settings);

}  // namespace supervent::daemon
