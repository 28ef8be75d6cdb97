#pragma once
// What superventd's control thread keeps while it runs (Daemon::Shared):
// the shards and their stats and controls, the control plane, the live
// settings and scenario, the checkpoint and the rate samples. Private to
// daemon/: its methods live by concern in daemon.cpp (the run loop),
// live_settings.cpp (reload, set, scenario swap), control_commands.cpp (the
// control protocol) and status.cpp (status, metrics, progress, summary).
#include <utility>  // before Asio: see control_server.hpp

#include <boost/asio.hpp>
#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "daemon/checkpoint_share.hpp"
#include "daemon/config_watch.hpp"
#include "daemon/control_server.hpp"
#include "daemon/daemon.hpp"
#include "daemon/json_writer.hpp"
#include "daemon/metrics_server.hpp"
#include "daemon/planning.hpp"
#include "daemon/sd_notify.hpp"
#include "daemon/sink_health.hpp"
#include "daemon/telemetry.hpp"

namespace supervent::daemon {

inline constexpr std::int64_t ns_per_s = 1'000'000'000;

[[nodiscard]] inline std::int64_t monotonic_ns() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * ns_per_s + now.tv_nsec;
}

// The run as a whole, as status and systemd name it.
enum class RunState : std::uint8_t { starting, running, paused, draining, finished, failed };

[[nodiscard]] constexpr const char* run_state_name(RunState state) {
    switch (state) {
        case RunState::starting: return "starting";
        case RunState::running: return "running";
        case RunState::paused: return "paused";
        case RunState::draining: return "draining";
        case RunState::finished: return "finished";
        case RunState::failed: return "failed";
    }
    return "unknown";
}

// A control request's answer: whether it was carried out, and the JSON line
// the client gets ({"ok":true,...} or {"ok":false,"error":...}).
struct ControlReply {
    bool ok = true;
    std::string json;
    [[nodiscard]] static ControlReply refused(std::string_view message);
};

// A reload's new scenario, compiled and checked, with its routes: nothing
// has changed yet when this exists.
struct ScenarioSwap {
    bool needed = false;
    std::shared_ptr<const core::CompiledScenario> scenario;
    std::vector<std::uint16_t> routes;        // by new source
    std::vector<std::string> route_datasets;  // every route's, the new ones appended
    std::vector<std::string> route_paths;
    std::vector<std::uint8_t> enabled;        // by new source: off if a source of that name was
    std::vector<std::string> added, removed, changed, unchanged, datasets_added;
};


struct Daemon::Shared {
    config::Settings settings;   // what runs: the start-up settings with live changes applied
    SettingsLoader load_settings;
    std::vector<ShardPlan> plans;
    std::unique_ptr<ShardStats[]> stats;
    std::unique_ptr<ShardControl[]> controls;
    std::unique_ptr<ShardError[]> errors;
    std::vector<std::unique_ptr<Shard>> shards;
    std::vector<std::thread> threads;
    std::uint32_t shard_count = 0;

    boost::asio::io_context io;
    std::unique_ptr<ControlServer> control_server;
    std::unique_ptr<MetricsServer> metrics_server;
    // --watch-config: reloads startup_config_path when its content changes (config_watch.cpp).
    std::unique_ptr<ConfigWatch> config_watch;
    void start_config_watch();
    Notifier notifier;
    std::int64_t started_ns = 0;
    bool stop_requested = false;
    bool paused = false;
    // The scenario the shards run (`scenario_generation`: 0 at start-up, +1
    // per reload that changed it), each source's route (request path,
    // append-only: batches queued before a reload keep theirs) and whether
    // it is enabled. Shards take changes through ShardControl::change.
    std::shared_ptr<const core::CompiledScenario> scenario;
    std::uint64_t scenario_generation = 0;
    std::vector<std::uint16_t> routes;          // by source of `scenario`
    std::vector<std::string> route_datasets;    // by route
    std::vector<std::string> route_paths;       // by route (HTTP sinks)
    std::vector<std::uint8_t> source_enabled;   // by source of `scenario`
    // Scenarios a shard may still run while it has not taken the newest
    // (its per-source counts are by that scenario's sources).
    std::map<std::uint64_t, std::shared_ptr<const core::CompiledScenario>> scenario_history;
    std::size_t batch_room_bytes = 0;  // batch_events x the start-up scenario's largest event: what a slot holds
    bool reported_ready = false;
    std::uint64_t reloads = 0;
    std::int64_t last_reload_unix_s = 0;  // when the last reload took effect (status; 0 = none)
    // A checkpointed backfill: the shards' journals, what was last written
    // to the file, and when.
    std::shared_ptr<const CheckpointStart> checkpoint;
    std::unique_ptr<ShardCheckpointShare[]> checkpoint_shares;
    Checkpoint checkpoint_written;
    std::int64_t checkpoint_written_ns = 0;  // when the file last changed (status)
    std::int64_t checkpoint_checked_ns = 0;  // when the shards' journals were last looked at
    bool checkpoint_error_logged = false;
    std::string checkpoint_error;  // why the last write failed, or the resumed file was kept; "" = written
    void write_checkpoint(bool final);
    void json_checkpoint(JsonWriter& json) const;
    std::string startup_config_path;

    // Rate sampling for status: generated events at the last sample.
    std::int64_t sample_ns = 0;
    std::uint64_t sample_events = 0;
    std::uint64_t sample_bytes = 0;
    double rate_actual_eps = 0;
    double bytes_rate_actual = 0;
    std::int64_t last_progress_ns = 0;
    std::int64_t last_status_ns = 0;
    SinkHealth sink_health;  // failures and outages, logged as they happen
    std::int64_t last_watchdog_ns = 0;
    std::vector<std::uint64_t> watchdog_turns;
    bool watchdog_withheld = false;

    [[nodiscard]] Totals totals() const;
    [[nodiscard]] RunState state() const;
    [[nodiscard]] std::string status_json() const;
    void json_shards(JsonWriter& json) const;
    [[nodiscard]] std::string metrics_text() const;
    // The metrics listener's answers: /metrics, /api/status, /healthz and
    // the dashboard's control actions (with the dashboard token, if set).
    [[nodiscard]] MetricsEndpoints metrics_endpoints();
    // What the dashboard shows beyond the counters: the latency histogram,
    // bytes by local address, the interfaces in use, the settings, the last reload.
    void json_dashboard(JsonWriter& json) const;
    void metrics_dashboard(PrometheusText& out) const;
    std::vector<std::string> interfaces;  // the NICs connections leave by (nic_stats.hpp)
    void metrics_local_addresses(PrometheusText& out) const;
    void handle_command(std::string_view request, Responder respond);
    // Replies owed to `stop` requests that wait for the end of the drain.
    std::vector<Responder> stop_waiters;
    void request_stop();
    void push_pause();
    void push_rate();
    void push_events();
    void push_duration();
    // Applies what changed between `settings` and `next` that can change
    // live; lists it in `changed` and the rest in `restart_needed`.
    void apply_live(const config::Settings& next, std::vector<std::string_view>& changed,
                    std::vector<std::string_view>& restart_needed);
    [[nodiscard]] ControlReply reload(const std::string& path);
    [[nodiscard]] ControlReply set_setting(std::string_view key, std::string_view value);
    [[nodiscard]] ControlReply set_rate(simdjson::dom::element value);
    [[nodiscard]] ControlReply sources_json(simdjson::dom::element request);
    void init_scenario();
    // Live incidents (incident_control.cpp): the one started (an index into
    // scenario->incidents, -1 = none), since when and until when (monotonic
    // ns; 0 = until stopped).
    int incident_active = -1;
    std::int64_t incident_started_ns = 0;
    std::int64_t incident_until_ns = 0;
    [[nodiscard]] ControlReply incident_command(simdjson::dom::element request);
    void push_incident();
    void end_incident();
    void expire_incident(std::int64_t now_ns);
    void follow_incident(const core::CompiledScenario& before);
    void json_incident(JsonWriter& json) const;
    void metrics_incidents(PrometheusText& out) const;
    [[nodiscard]] ScenarioSwap prepare_scenario(config::Settings& next) const;
    void swap_scenario(ScenarioSwap& swap, const config::Settings& next);
    void push_change();
    [[nodiscard]] bool all_sources_disabled() const {
        return !source_enabled.empty() &&
               std::none_of(source_enabled.begin(), source_enabled.end(), [](std::uint8_t on) { return on != 0; });
    }
    // Events generated per source of `scenario`, over every shard; nullopt
    // past bounds::scenario_sources_counted_max.
    [[nodiscard]] std::vector<std::optional<std::uint64_t>> source_counts() const;
    void json_sources(JsonWriter& json) const;
    void json_progress(JsonWriter& json, const Totals& total) const;
    // Backfill progress: root events over every shard.
    std::uint64_t sample_roots = 0;
    double roots_rate = 0;  // root events per second, smoothed
    void sample_rates(std::int64_t now_ns);
    void print_progress(std::int64_t now_ns) const;
    void report_to_systemd(std::int64_t now_ns);
    void print_summary(const Totals& total, double elapsed_s, std::uint64_t resumed_events, double replay_s) const;
    [[nodiscard]] bool all_done() const;
    bool reported_stopping = false;

    // The run, in order (daemon.cpp).
    [[nodiscard]] bool prepare();
    void prepare_checkpoint(std::shared_ptr<const CheckpointStart> start);
    void on_signal(int signal_number);
    void open_control_plane();
    void start_shards();
    [[nodiscard]] bool supervise(std::int64_t now_ns, std::chrono::steady_clock::time_point start_deadline);
    [[nodiscard]] int finish_run();
};

}  // namespace supervent::daemon
