#include "daemon/daemon_shared.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <chrono>
#include <csignal>

#include "config/load.hpp"
#include "daemon/fleet.hpp"
#include "daemon/log.hpp"
#include "daemon/nic_stats.hpp"

namespace supervent::daemon {
namespace asio = boost::asio;
namespace {

constexpr auto supervise_interval = std::chrono::milliseconds(50);
constexpr auto shard_start_timeout = std::chrono::seconds(30);
// How often a checkpointed backfill writes its checkpoint: the longest stretch
// of settled batches a kill makes it send twice.
constexpr std::int64_t checkpoint_interval_ns = 1'000'000'000;

}  // namespace

Daemon::Daemon(config::Settings settings, SettingsLoader load_settings) : shared_(std::make_unique<Shared>()) {
    shared_->settings = std::move(settings);
    shared_->startup_config_path = shared_->settings.config_path;
    shared_->load_settings = load_settings ? std::move(load_settings) : [](const std::string& path) {
        config::Settings next = config::load_toml_file(path);
        config::resolve_token(next, config::process_env);
        return next;
    };
}

Daemon::~Daemon() {
    if (!shared_) return;
    shared_->request_stop();
    for (std::thread& thread : shared_->threads) {
        if (thread.joinable()) thread.join();
    }
}

// Copies every shard's journal into the checkpoint file when it moved on.
// `final`: after the shards ended; the backfill is complete when every shard
// made its last batch and every event was acknowledged.
void Daemon::Shared::write_checkpoint(bool final) {
    Checkpoint next;
    next.fingerprint = checkpoint->fingerprint;
    next.part_index = checkpoint->part_index;
    next.part_count = checkpoint->part_count;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        next.shards.push_back(checkpoint_shares[i].snapshot());
        // Still sending the failed batches it resumed with: the file keeps the
        // rest. A shard that has not taken its journal over, or failed (it
        // refused the checkpoint while making its batches again), stays
        // behind the file, so the file is kept as it is.
        const bool took_over = checkpoint_shares[i].seeded() &&
                               stats[i].phase.load(std::memory_order_acquire) != ShardPhase::failed;
        if (checkpoint->resuming() && took_over) {
            next.shards[i] = resumed_journal(checkpoint->found->shards.at(i), std::move(next.shards[i]));
        }
    }
    if (final) {
        const Totals total = totals();
        bool all_made = true;
        for (std::uint32_t i = 0; i < shard_count; ++i) all_made &= stats[i].scenario_done.load(std::memory_order_acquire);
        next.complete = all_made && total.events_failed == 0 && total.events_in_flight() == 0;
    }
    if (next == checkpoint_written) return;
    // A shard still replaying the checkpoint it resumed, or one that refused
    // it, is behind the file: writing would throw away what the file records.
    if (std::string kept = resumed_checkpoint_kept(*checkpoint, next); !kept.empty()) {
        if (final) checkpoint_error = std::move(kept);
        return;
    }
    try {
        save_checkpoint(checkpoint->path, next);
        checkpoint_written = std::move(next);
        checkpoint_written_ns = monotonic_ns();
        checkpoint_error_logged = false;
        checkpoint_error.clear();
    } catch (const std::exception& failure) {
        // The backfill goes on; a resume then starts from an older checkpoint.
        if (!checkpoint_error_logged) log::error("%s", failure.what());
        checkpoint_error_logged = true;
        checkpoint_error = failure.what();
    }
}


void Daemon::Shared::request_stop() {
    stop_requested = true;
    for (std::uint32_t i = 0; i < shard_count; ++i) controls[i].stop_requested.store(true, std::memory_order_release);
}

bool Daemon::Shared::all_done() const {
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const ShardPhase phase = stats[i].phase.load(std::memory_order_acquire);
        if (phase != ShardPhase::finished && phase != ShardPhase::failed) return false;
    }
    return true;
}

void Daemon::handle_control_request(std::string_view request, std::function<void(std::string)> respond) {
    shared_->handle_command(request, std::move(respond));
}

// Plans the shards and makes what they share with this thread. Returns
// false when there is nothing to run (a completed checkpointed backfill).
bool Daemon::Shared::prepare() {
    if (const auto level = log::parse_level(settings.log_level)) log::set_level(*level);
    if (const auto format = log::parse_format(settings.log_format)) log::set_format(*format);
    log::set_secret(settings.token);
    // The token now sits in this process's memory (settings, request heads, send buffers): no core
    // dump may carry it, and no other process of this uid may ptrace it out. Without a token the
    // daemon stays dumpable, for debugging.
    if (!settings.token.empty()) (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    for (const std::string& warning : settings.warnings) log::warning("%s", warning.c_str());
    log_part_and_seed(settings);
    RunPlan run = plan_shards(settings, look_up_plan_inputs(settings));
    log_plan_messages(run.messages);
    plans = std::move(run.shards);
    open_run_files(settings, plans);
    if (!plans.empty()) settings.rate_eps = run_rate_eps(settings, *plans.front().scenario);
    if (!plans.empty() && plans.front().checkpoint && plans.front().checkpoint->complete()) {
        log::notice("the backfill of checkpoint %s is complete: nothing to do (remove the file to run it again)",
                    plans.front().checkpoint->path.c_str());
        return false;
    }
    shard_count = static_cast<std::uint32_t>(plans.size());
    if (!plans.empty() && plans.front().checkpoint) prepare_checkpoint(plans.front().checkpoint);
    stats = std::make_unique<ShardStats[]>(shard_count);
    controls = std::make_unique<ShardControl[]>(shard_count);
    errors = std::make_unique<ShardError[]>(shard_count);
    init_scenario();
    started_ns = monotonic_ns();
    sample_ns = started_ns;
    last_progress_ns = started_ns;
    return true;
}

void Daemon::Shared::prepare_checkpoint(std::shared_ptr<const CheckpointStart> start) {
    checkpoint = std::move(start);
    checkpoint_shares = std::make_unique<ShardCheckpointShare[]>(shard_count);
    for (std::uint32_t i = 0; i < shard_count; ++i) plans[i].checkpoint_share = &checkpoint_shares[i];
    if (!checkpoint->resuming()) return;
    std::uint64_t settled = 0, failed_events = 0, failed_batches = 0;
    for (const ShardJournal& shard : checkpoint->found->shards) {
        settled += shard.events;
        failed_events += shard.failed_events();
        failed_batches += shard.failed_batches();
    }
    checkpoint_written = *checkpoint->found;
    if (failed_batches == 0) {
        log::notice("resuming the backfill of checkpoint %s: %llu events were acknowledged before; making them "
                    "again without sending, then going on",
                    checkpoint->path.c_str(), static_cast<unsigned long long>(settled));
        return;
    }
    log::notice("resuming the backfill of checkpoint %s: %llu events were acknowledged before; making them again "
                "without sending, sending again the %llu events of the %llu batches that failed, then going on",
                checkpoint->path.c_str(), static_cast<unsigned long long>(settled - failed_events),
                static_cast<unsigned long long>(failed_events), static_cast<unsigned long long>(failed_batches));
}

// SIGHUP reloads; SIGINT and SIGTERM stop (every batch in flight settles).
void Daemon::Shared::on_signal(int signal_number) {
    if (signal_number == SIGHUP) {
        log::notice("SIGHUP: reloading %s", startup_config_path.empty() ? "(no config file)" : startup_config_path.c_str());
        const ControlReply reply = reload(startup_config_path);
        if (!reply.ok) log::warning("SIGHUP: %s", reply.json.c_str());
        return;
    }
    log::notice("%s: stopping; settling every batch in flight", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    request_stop();
}

// The metrics listener and the control socket. A socket asked for
// explicitly must open; the default one may fail with a warning.
void Daemon::Shared::open_control_plane() {
    if (!settings.metrics_listen.empty()) {
        metrics_server = std::make_unique<MetricsServer>(io, settings.metrics_listen, metrics_endpoints());
        log::info("metrics at http://%s/metrics, dashboard at http://%s/ (%s)", metrics_server->address().c_str(),
                  metrics_server->address().c_str(),
                  settings.dashboard_token_file.empty() ? "read-only" : "control with the dashboard token");
        // Looked up once: --bind and the sink change only with a restart.
        if (!plans.empty()) {
            interfaces = interfaces_in_use(plans[0].sink.http.address, plans[0].sink.http.address_bytes,
                                           plans[0].sink.http.local_addresses);
        }
    }
    if (settings.watch_config) start_config_watch();
    const std::string socket_path = settings.socket_path.empty() ? default_control_socket_path() : settings.socket_path;
    try {
        ControlServerOptions options;
        options.group = settings.socket_group;
        options.allowed_uids = settings.socket_allowed_uids;
        options.allowed_gids = settings.socket_allowed_gids;
        control_server = std::make_unique<ControlServer>(
            io, socket_path, [this](std::string_view request, Responder respond) { handle_command(request, std::move(respond)); },
            std::move(options));
    } catch (const std::exception& failure) {
        if (!settings.socket_path.empty() || !settings.socket_group.empty()) throw;  // asked for explicitly
        log::warning("running without a control socket: %s", failure.what());
    }
}

void Daemon::Shared::start_shards() {
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        controls[i].rate_eps.store(plans[i].rate_eps, std::memory_order_release);
        shards.push_back(std::make_unique<Shard>(plans[i], stats[i], controls[i], errors[i]));
    }
    for (std::uint32_t i = 0; i < shard_count; ++i) threads.emplace_back([shard = shards[i].get()] { shard->run(); });
}

// One look at the run, every supervise_interval: readiness, failures,
// rates, progress, systemd, the checkpoint. Returns true once every shard is done.
bool Daemon::Shared::supervise(std::int64_t now_ns, std::chrono::steady_clock::time_point start_deadline) {
    const RunState run_state = state();
    if (run_state == RunState::starting && std::chrono::steady_clock::now() > start_deadline) {
        log::error("shards did not start within %lld s", static_cast<long long>(shard_start_timeout.count()));
        request_stop();
    }
    if (!reported_ready && run_state != RunState::starting) {
        // Every shard has its ring and registered buffers (or failed).
        reported_ready = true;
        const char* shards_word = shard_count == 1 ? "shard" : "shards";
        notifier.notify("READY=1\nSTATUS=" + std::to_string(shard_count) + " " + shards_word + " running");
        if (control_server) {
            log::info("%u %s running; control socket %s", shard_count, shards_word, control_server->path().c_str());
        }
    }
    if (run_state == RunState::failed) request_stop();  // one shard down: drain the others
    expire_incident(now_ns);
    sample_rates(now_ns);
    sink_health.observe(stats.get(), errors.get(), shard_count, settings.sink.text, now_ns);
    if (settings.progress && now_ns - last_progress_ns >= std::int64_t{settings.progress_interval_ms} * 1'000'000) {
        last_progress_ns = now_ns;
        print_progress(now_ns);
    }
    if ((stop_requested || run_state == RunState::draining) && !reported_stopping) {
        reported_stopping = true;
        notifier.notify("STOPPING=1\nSTATUS=draining: settling every batch in flight");
    }
    report_to_systemd(now_ns);
    if (checkpoint && now_ns - checkpoint_checked_ns >= checkpoint_interval_ns) {
        checkpoint_checked_ns = now_ns;
        write_checkpoint(false);  // only when a journal moved on
    }
    return all_done();
}

// After the control loop: the shards have ended. Prints the summary, writes
// the last checkpoint and says whether every event was acknowledged.
int Daemon::Shared::finish_run() {
    for (std::thread& thread : threads) thread.join();
    threads.clear();
    std::uint64_t resumed_events = 0, replay_ns = 0;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        resumed_events += stats[i][Stat::events_resumed].get();
        replay_ns = std::max(replay_ns, stats[i][Stat::replay_ns].get());  // shards replay side by side
    }
    const double replay_s = double(replay_ns) / ns_per_s;
    const double elapsed_s = std::max(0.0, double(monotonic_ns() - started_ns) / ns_per_s - replay_s);
    const Totals total = totals();
    print_summary(total, elapsed_s, resumed_events, replay_s);
    if (checkpoint) {
        write_checkpoint(true);
        if (!checkpoint_error.empty()) {
            log::error("checkpoint %s NOT written: %s", checkpoint->path.c_str(), checkpoint_error.c_str());
        } else {
            log::notice("checkpoint %s: %s", checkpoint->path.c_str(),
                        checkpoint_written.complete ? "the backfill is complete"
                                                    : "written; start again with it to resume the backfill");
        }
    }
    // A shard's error is fatal (it could not start, or the sink refused us for
    // good): a restart would fail alike, so it is told apart from failed events.
    bool fatal = false;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        std::lock_guard lock(errors[i].mutex);
        if (!errors[i].text.empty()) {
            if (!sink_health.fatal_logged(errors[i].text)) log::error("shard %u: %s", i, errors[i].text.c_str());
            fatal = true;
        }
        if (stats[i].phase.load() == ShardPhase::failed) fatal = true;
    }
    config_watch.reset();
    control_server.reset();
    metrics_server.reset();
    if (fatal) return exit_fatal;
    return total.events_failed == 0 && total.events_in_flight() == 0 ? exit_all_acked : exit_events_failed;
}

int Daemon::run() {
    Shared& shared = *shared_;
    if (!shared.prepare()) return exit_all_acked;
    // The control plane (signals, socket, metrics) exists before any shard
    // runs, so that SIGTERM during start-up still drains cleanly.
    asio::signal_set signals(shared.io, SIGINT, SIGTERM, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& error,
                                                                                int signal_number) {
        if (error) return;
        shared.on_signal(signal_number);
        signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);
    shared.open_control_plane();
    shared.start_shards();

    asio::steady_timer supervisor(shared.io);
    asio::steady_timer final_replies(shared.io);
    const auto start_deadline = std::chrono::steady_clock::now() + shard_start_timeout;
    std::function<void(const boost::system::error_code&)> supervise = [&](const boost::system::error_code& error) {
        if (error) return;
        if (!shared.supervise(monotonic_ns(), start_deadline)) {
            supervisor.expires_after(supervise_interval);
            supervisor.async_wait(supervise);
            return;
        }
        // Every shard is done: answer the stops that wait, give the replies
        // a moment to leave, then end the control loop.
        if (shared.stop_waiters.empty()) return shared.io.stop();
        const std::string final_status = shared.status_json();
        for (Responder& respond : shared.stop_waiters) respond(final_status);
        shared.stop_waiters.clear();
        final_replies.expires_after(std::chrono::milliseconds(200));
        final_replies.async_wait([&](const boost::system::error_code&) { shared.io.stop(); });
    };
    supervisor.expires_after(supervise_interval);
    supervisor.async_wait(supervise);
    shared.io.run();
    return shared.finish_run();
}

}  // namespace supervent::daemon
