#include "daemon/daemon_shared.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "config/load.hpp"
#include "config/values.hpp"
#include "core/bounds.hpp"
#include "daemon/local_addresses.hpp"
#include "daemon/log.hpp"
#include "daemon/nic_stats.hpp"
#include "daemon/process_metrics.hpp"
#include "daemon/text_format.hpp"

namespace supervent::daemon {

RunState Daemon::Shared::state() const {
    bool any_failed = false, all_finished = true, any_draining = false, any_starting = false;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const ShardPhase phase = stats[i].phase.load(std::memory_order_acquire);
        any_failed |= phase == ShardPhase::failed;
        all_finished &= phase == ShardPhase::finished || phase == ShardPhase::failed;
        any_draining |= phase == ShardPhase::draining;
        any_starting |= phase == ShardPhase::starting;
    }
    if (any_failed) return RunState::failed;
    if (all_finished) return RunState::finished;
    if (any_starting) return RunState::starting;
    if (any_draining || stop_requested) return RunState::draining;
    if (paused || all_sources_disabled()) return RunState::paused;
    return RunState::running;
}

Totals Daemon::Shared::totals() const { return sum_stats(stats.get(), shard_count); }

std::string Daemon::Shared::status_json() const {
    const Totals total = totals();
    JsonWriter json;
    json.begin_object().field("ok", true).field("state", run_state_name(state()));
    write_stat_fields(json, total, StatGroup::run);
    json.field("events_failed", total.events_failed)
        .field("events_rejected", total.events_rejected())
        .field("events_dropped", total.events_dropped())
        .field("events_in_flight", total.events_in_flight());
    json.key("events_target");
    if (settings.events > 0) json.value(settings.events); else json.null();
    json.key("duration_target_s");
    if (settings.duration_s > 0) json.value(settings.duration_s); else json.null();
    json.key("rate_target");
    if (settings.rate_eps) json.value(*settings.rate_eps); else json.value("unlimited");
    json.field("rate_actual", rate_actual_eps).field("bytes_per_second", bytes_rate_actual);
    json.field("uptime_s", double(monotonic_ns() - started_ns) / ns_per_s).field("workers", shard_count);
    json.field("paused", paused).field("reloads", reloads);
    // supervent-ctl fleet status reads these two: keep the names.
    json.field("seed", settings.seed);
    json.key("shard").begin_object().field("index", settings.shard_index).field("count", settings.shard_count).end_object();
    json.key("tls");
    if (settings.sink.kind == config::SinkUrl::Kind::https) {
        json.begin_object();
        write_stat_fields(json, total, StatGroup::tls);
        json.field("kernel_tls", describe_kernel_tls(total)).end_object();
    } else {
        json.null();
    }
    // Uncompressed over compressed body bytes; null without compression.
    json.field("compression", config::detail::compression_name(settings.compression));
    json.key("compression_ratio");
    if (settings.compression.zstd || settings.compression.gzip) {
        json.value(compression_ratio(total[Stat::body_bytes_uncompressed], total[Stat::body_bytes_compressed]));
    } else {
        json.null();
    }
    const std::uint64_t acked_requests = total[Stat::requests_acked];
    json.field("mean_request_latency_ms",
               acked_requests > 0 ? double(total[Stat::latency_ns_sum]) / double(acked_requests) / 1e6 : 0.0);
    json.key("events_failed_by_reason");
    write_failed_by_reason(json, total, false);
    json.key("events_dropped_by_reason");  // for "dropped (by reason)"
    write_failed_by_reason(json, total, true);
    json.field("sink", settings.sink.text).field("dataset", settings.dataset);
    json.field("config", settings.config_path).field("log_level", settings.log_level);
    json.field("control_sessions", control_server ? control_server->sessions() : 0u);
    json.key("metrics");
    if (metrics_server) json.value("http://" + metrics_server->address() + "/metrics"); else json.null();
    json_sources(json);
    json_incident(json);
    json_progress(json, total);
    json_checkpoint(json);
    sink_health.write_json(json, stats.get(), shard_count, monotonic_ns());
    json_shards(json);
    json_dashboard(json);
    json.end_object();
    return json.take();
}

void Daemon::Shared::json_dashboard(JsonWriter& json) const {
    // Counts per bucket (not cumulative), the last one +Inf: the page takes
    // percentiles of what changed between two polls.
    json.key("latency_histogram").begin_object().key("le_ns").begin_array();  // integers: exact
    for (int k = 0; k < LatencyHistogram::finite_buckets; ++k) json.value(LatencyHistogram::bound_ns(k));
    json.end_array().key("counts").begin_array();
    for (int k = 0; k < LatencyHistogram::buckets; ++k) {
        std::uint64_t count = 0;
        for (std::uint32_t i = 0; i < shard_count; ++i) count += stats[i].latency.counts[k].value.load(std::memory_order_acquire);
        json.value(count);
    }
    json.end_array().end_object();
    std::map<std::string, std::uint64_t> by_address;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const auto& addresses = plans[i].sink.http.local_addresses;
        for (std::size_t a = 0; a < addresses.size() && a < bounds::local_addresses_max; ++a) {
            by_address[address_text(addresses[a])] += stats[i].bytes_by_local_address[a].get();
        }
    }
    json.key("bytes_by_local_address").begin_object();
    for (const auto& [address, bytes] : by_address) json.field(address, bytes);
    json.end_object().key("interfaces");
    write_interface_counters(json, interfaces);
    json.field("settings_in_force", config::describe(settings)).key("last_reload_unix_s");
    if (last_reload_unix_s > 0) json.value(last_reload_unix_s); else json.null();
}

MetricsEndpoints Daemon::Shared::metrics_endpoints() {
    MetricsEndpoints endpoints;
    endpoints.metrics = [this] { return metrics_text(); };
    endpoints.status = [this] { return status_json(); };
    // A shard's error is fatal (the sink refused us for good): unhealthy at
    // once, not only when the shards have wound down.
    endpoints.healthy = [this] {
        const RunState run_state = state();
        if (run_state != RunState::running && run_state != RunState::paused) return false;
        for (std::uint32_t i = 0; i < shard_count; ++i) {
            std::lock_guard lock(errors[i].mutex);
            if (!errors[i].text.empty()) return false;
        }
        return true;
    };
    endpoints.control = [this](std::string request, std::function<void(std::string)> respond) {
        handle_command(request, std::move(respond));
    };
    if (!settings.dashboard_token_file.empty()) endpoints.control_token = read_dashboard_token(settings.dashboard_token_file);
    return endpoints;
}

void Daemon::Shared::json_shards(JsonWriter& json) const {
    json.key("shards").begin_array();
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const ShardStats& shard = stats[i];
        json.begin_object()
            .field("index", i)
            .field("phase", shard_phase_name(shard.phase.load(std::memory_order_acquire)))
            .field("events_acked", shard[Stat::events_acked].get())
            .field("events_failed", shard.events_failed.get())
            .field("events_generated", shard[Stat::events_generated].get())
            .field("slots_busy", shard[Stat::slots_busy].get())
            .field("slots_total", shard[Stat::slots_total].get())
            .field("pipeline_depth", shard[Stat::pipeline_depth].get())
            .field("backpressured", shard.backpressured.load(std::memory_order_relaxed))
            .end_object();
    }
    json.end_array();
    json.key("errors").begin_array();
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        std::lock_guard lock(errors[i].mutex);
        if (!errors[i].text.empty()) json.value(errors[i].text);
    }
    json.end_array();
}

// Prometheus text exposition format 0.0.4: the run's own gauges, then the
// stat table's families (sums, or a series per shard), then what is not one
// number per shard.
std::string Daemon::Shared::metrics_text() const {
    const Totals total = totals();
    PrometheusText out;
    out.family("supervent_build_info", "gauge", "Version of superventd.");
    out.sample("supervent_build_info", "version=\"" SUPERVENT_VERSION "\"", 1);
    out.family("supervent_workers", "gauge", "Worker threads (shards).");
    out.sample("supervent_workers", "", shard_count);
    out.family("supervent_uptime_seconds", "gauge", "Seconds since superventd started.");
    out.sample("supervent_uptime_seconds", "", double(monotonic_ns() - started_ns) / ns_per_s);
    out.family("supervent_paused", "gauge", "1 while generation is paused (pause, or the source disabled).");
    out.sample("supervent_paused", "", paused || all_sources_disabled() ? 1 : 0);
    out.family("supervent_rate_target_events_per_second", "gauge", "Target event rate over all workers; 0 = unlimited.");
    out.sample("supervent_rate_target_events_per_second", "", settings.rate_eps ? *settings.rate_eps : 0.0);
    out.family("supervent_rate_events_per_second", "gauge", "Events generated per second, sampled every 0.5 s.");
    out.sample("supervent_rate_events_per_second", "", rate_actual_eps);
    out.family("supervent_reloads_total", "counter", "Successful configuration reloads.");
    out.sample("supervent_reloads_total", "", double(reloads));
    if (checkpoint) {
        out.family("supervent_checkpoint_write_failed", "gauge", "1 while the last checkpoint write failed (status says why).");
        out.sample("supervent_checkpoint_write_failed", "", checkpoint_error.empty() ? 0 : 1);
    }
    out.stat_families(stats.get(), shard_count, total, settings.sink.kind == config::SinkUrl::Kind::https);
    out.failed_by_reason(total);
    sink_health.write_metrics(out, stats.get(), shard_count, monotonic_ns());
    metrics_local_addresses(out);
    metrics_incidents(out);
    out.family("supervent_compression_ratio", "gauge",
               "Request body bytes before compression over after (body_bytes_uncompressed / body_bytes_compressed); 0 = none yet.");
    out.sample("supervent_compression_ratio", "",
               compression_ratio(total[Stat::body_bytes_uncompressed], total[Stat::body_bytes_compressed]));
    out.family("supervent_buffer_utilization_ratio", "gauge", "Busy send buffer slots over all slots.");
    const std::uint64_t slots = total[Stat::slots_total];
    out.sample("supervent_buffer_utilization_ratio", "", slots > 0 ? double(total[Stat::slots_busy]) / double(slots) : 0.0);
    out.family("supervent_backpressured", "gauge", "1 while a worker wants a free slot and has none (sink-bound).");
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const std::string labels = "shard=\"" + std::to_string(i) + "\"";
        out.sample("supervent_backpressured", labels, stats[i].backpressured.load(std::memory_order_relaxed) ? 1 : 0);
    }
    out.latency_histogram(stats.get(), shard_count);
    out.shard_cpu(stats.get(), shard_count);
    write_process_metrics(out);
    metrics_dashboard(out);
    return out.take();
}

// What the dashboard shows that Grafana needs too (deploy/grafana): events
// per source, the interfaces' own counters, when the last reload was.
void Daemon::Shared::metrics_dashboard(PrometheusText& out) const {
    out.family("supervent_source_events_generated_total", "counter", "Events generated per source of the running scenario.");
    const auto label = [](std::string_view text) {  // a label value, escaped as the exposition format asks
        std::string escaped;
        for (const char c : text) {
            if (c == '\n') escaped += "\\n";
            else if (c == '"' || c == '\\') escaped += {'\\', c};
            else escaped += c;
        }
        return escaped;
    };
    if (scenario) {
        const auto counts = source_counts();
        for (std::size_t i = 0; i < scenario->sources.size() && i < counts.size(); ++i) {
            if (!counts[i]) continue;
            out.sample("supervent_source_events_generated_total",
                       "source=\"" + label(scenario->sources[i].name) + "\",dataset=\"" +
                           label(scenario->sources[i].dataset) + "\"",
                       double(*counts[i]));
        }
    }
    write_interface_metrics(out, interfaces);
    out.family("supervent_last_reload_timestamp_seconds", "gauge", "When the last reload took effect (Unix time); 0 = never.");
    out.sample("supervent_last_reload_timestamp_seconds", "", double(last_reload_unix_s));
}

void Daemon::Shared::metrics_local_addresses(PrometheusText& out) const {
    out.family("supervent_bytes_sent_by_local_address_total", "counter",
               "Wire bytes of acknowledged requests by local address (--bind / network.bind).");
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const auto& addresses = plans[i].sink.http.local_addresses;
        for (std::size_t a = 0; a < addresses.size() && a < bounds::local_addresses_max; ++a) {
            char host[INET6_ADDRSTRLEN] = "?";
            const sockaddr_storage& address = addresses[a];
            if (address.ss_family == AF_INET) {
                ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, host, sizeof host);
            } else if (address.ss_family == AF_INET6) {
                ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, host, sizeof host);
            }
            char labels[96];
            std::snprintf(labels, sizeof labels, "shard=\"%u\",address=\"%s\"", i, host);
            out.sample("supervent_bytes_sent_by_local_address_total", labels,
                       double(stats[i].bytes_by_local_address[a].get()));
        }
    }
}

// A backfill's progress: root events done of all, and an ETA from the
// recent root rate. null for a live run.
void Daemon::Shared::json_progress(JsonWriter& json, const Totals& total) const {
    json.key("progress");
    if (!scenario || !scenario->backfill) {
        json.null();
        return;
    }
    const std::uint64_t all = total[Stat::roots_total];
    const std::uint64_t done = std::min(total[Stat::roots_done], all);
    json.begin_object();
    write_stat_fields(json, total, StatGroup::progress);
    json.field("fraction", all > 0 ? double(done) / double(all) : 1.0);
    json.key("eta_s");
    if (done >= all) json.value(0.0);
    else if (roots_rate > 0) json.value(double(all - done) / roots_rate);
    else json.null();
    json.end_object();
}

void Daemon::Shared::json_checkpoint(JsonWriter& json) const {
    json.key("checkpoint");
    if (!checkpoint) {
        json.null();
        return;
    }
    std::uint64_t settled = 0, failed = 0, resumed = 0;
    for (const ShardJournal& shard : checkpoint_written.shards) {
        settled += shard.events;
        failed += shard.failed_events();
    }
    for (std::uint32_t i = 0; i < shard_count; ++i) resumed += stats[i][Stat::events_resumed].get();
    json.begin_object()
        .field("path", checkpoint->path)
        .field("resumed_events", resumed)
        .field("settled_events", settled)
        .field("failed_events", failed)
        .field("complete", checkpoint_written.complete)
        .field("written_s_ago", checkpoint_written_ns > 0 ? double(monotonic_ns() - checkpoint_written_ns) / ns_per_s : -1.0)
        .key("error");
    if (checkpoint_error.empty()) json.null(); else json.value(checkpoint_error);
    json.end_object();
}

void Daemon::Shared::sample_rates(std::int64_t now_ns) {
    if (now_ns - sample_ns < ns_per_s / 2) return;
    const Totals total = totals();
    const double elapsed_s = double(now_ns - sample_ns) / ns_per_s;
    rate_actual_eps = double(total[Stat::events_generated] - sample_events) / elapsed_s;
    bytes_rate_actual = double(total[Stat::bytes_sent] - sample_bytes) / elapsed_s;
    // Root events per second for a backfill's ETA, smoothed over a few
    // samples; a reload (roots_done back to 0) starts it afresh. Roots a
    // resumed backfill replayed are not this run's pace.
    std::uint64_t roots = 0;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const std::uint64_t resumed = stats[i][Stat::roots_resumed].get();
        const std::uint64_t done = stats[i][Stat::roots_done].get();
        roots += done > resumed ? done - resumed : 0;
    }
    if (roots >= sample_roots) {
        const double rate = double(roots - sample_roots) / elapsed_s;
        roots_rate = roots_rate > 0 ? 0.7 * roots_rate + 0.3 * rate : rate;
    } else {
        roots_rate = 0;
    }
    sample_roots = roots;
    sample_ns = now_ns;
    sample_events = total[Stat::events_generated];
    sample_bytes = total[Stat::bytes_sent];
}

void Daemon::Shared::print_progress(std::int64_t now_ns) const {
    const Totals total = totals();
    // Counts and rates as supervent-ctl status prints them.
    log::info("[%6.1fs] generated %s  acked %s  failed %s  in flight %s  %s events/s  %.1f MB/s",
              double(now_ns - started_ns) / ns_per_s, with_commas(total[Stat::events_generated]).c_str(),
              with_commas(total[Stat::events_acked]).c_str(), with_commas(total.events_failed).c_str(),
              with_commas(total.events_in_flight()).c_str(),
              with_commas(static_cast<std::uint64_t>(rate_actual_eps + 0.5)).c_str(), bytes_rate_actual / 1e6);
    if (const std::string outage = sink_health.describe(stats.get(), shard_count, now_ns); !outage.empty()) {
        log::info("[%6.1fs] %s", double(now_ns - started_ns) / ns_per_s, outage.c_str());
    }
    if (scenario && scenario->backfill) {
        std::uint64_t done = 0, all = 0;
        for (std::uint32_t i = 0; i < shard_count; ++i) {
            done += stats[i][Stat::roots_done].get();
            all += stats[i][Stat::roots_total].get();
        }
        log::info("[%6.1fs] backfill: %s of %s root events (%.1f %%)", double(now_ns - started_ns) / ns_per_s,
                  with_commas(done).c_str(), with_commas(all).c_str(),
                  all > 0 ? 100.0 * double(done) / double(all) : 100.0);
    }
}

// STATUS= with the live rate every second; WATCHDOG=1 every half interval,
// but only while every running shard keeps turning its loop.
void Daemon::Shared::report_to_systemd(std::int64_t now_ns) {
    if (!notifier.enabled() || !reported_ready) return;
    if (now_ns - last_status_ns >= ns_per_s && !stop_requested) {
        last_status_ns = now_ns;
        const Totals total = totals();
        char text[256];
        std::snprintf(text, sizeof text, "STATUS=%s: %.0f events/s (target %s), %llu acked, %llu failed",
                      run_state_name(state()), rate_actual_eps,
                      settings.rate_eps ? std::to_string(static_cast<long long>(*settings.rate_eps)).c_str() : "unlimited",
                      static_cast<unsigned long long>(total[Stat::events_acked]),
                      static_cast<unsigned long long>(total.events_failed));
        if (const std::string outage = sink_health.describe(stats.get(), shard_count, now_ns); !outage.empty()) {
            std::snprintf(text, sizeof text, "STATUS=%s: %s", run_state_name(state()), outage.c_str());
        }
        notifier.notify(text);
    }
    const std::int64_t watchdog_ns = notifier.watchdog_usec() * 1000;
    if (watchdog_ns <= 0 || now_ns - last_watchdog_ns < watchdog_ns / 2) return;
    std::vector<std::uint64_t> turns(shard_count);
    std::unique_ptr<bool[]> done(new bool[shard_count]);
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        turns[i] = stats[i][Stat::loop_turns].get();
        const ShardPhase phase = stats[i].phase.load(std::memory_order_acquire);
        done[i] = phase == ShardPhase::finished || phase == ShardPhase::failed;
    }
    if (watchdog_turns.size() != shard_count) watchdog_turns.assign(shard_count, UINT64_MAX);
    if (shards_alive(turns.data(), watchdog_turns.data(), done.get(), shard_count)) {
        notifier.notify("WATCHDOG=1");
        last_watchdog_ns = now_ns;
        watchdog_turns = std::move(turns);
        watchdog_withheld = false;
    } else if (!watchdog_withheld) {
        watchdog_withheld = true;
        log::error("a worker has not turned its loop for %lld ms: withholding the watchdog ping",
                   static_cast<long long>((now_ns - last_watchdog_ns) / 1'000'000));
    }
}

// elapsed_s is the time spent generating and sending: a resumed backfill's
// replay (resumed_events made again, not sent) is left out of the rates.
void Daemon::Shared::print_summary(const Totals& total, double elapsed_s, std::uint64_t resumed_events,
                                   double replay_s) const {
    if (resumed_events > 0) {
        log::notice("summary: resumed after %s events the checkpoint had acknowledged (replayed in %.2f s, not sent again)",
                    with_commas(resumed_events).c_str(), replay_s);
    }
    log::notice("summary: %s events generated, %s acknowledged, %s failed, %s in flight",
                with_commas(total[Stat::events_generated]).c_str(), with_commas(total[Stat::events_acked]).c_str(),
                with_commas(total.events_failed).c_str(), with_commas(total.events_in_flight()).c_str());
    const double acked_per_s = elapsed_s > 0 ? double(total[Stat::events_acked]) / elapsed_s : 0.0;
    log::notice("summary: %.2f s, %s events/s, %.1f MB/s sent to %s", elapsed_s,
                with_commas(static_cast<std::uint64_t>(std::llround(acked_per_s))).c_str(),
                elapsed_s > 0 ? double(total[Stat::bytes_sent]) / elapsed_s / 1e6 : 0.0, settings.sink.text.c_str());
    log::notice("summary: %s", summary_counters(total).c_str());
    // The engine's cost per core, which the machine's other load does not change much.
    const double cpu_s = double(total[Stat::cpu_ns]) / 1e9;
    if (cpu_s > 0) {
        log::notice("summary: workers used %.2f CPU-s, %s events generated per CPU-second", cpu_s,
                    with_commas(static_cast<std::uint64_t>(std::llround(double(total[Stat::events_generated]) / cpu_s))).c_str());
    }
    if (total[Stat::body_bytes_compressed] > 0) {
        log::notice("summary: compression %s, ratio %.2f (%.1f MB of bodies sent as %.1f MB)",
                    config::detail::compression_name(settings.compression).c_str(),
                    compression_ratio(total[Stat::body_bytes_uncompressed], total[Stat::body_bytes_compressed]),
                    double(total[Stat::body_bytes_uncompressed]) / 1e6, double(total[Stat::body_bytes_compressed]) / 1e6);
    }
    // So a run can be replayed (--seed) and a fleet's parts told apart.
    log::notice("summary: seed %llu, part %u/%u", static_cast<unsigned long long>(settings.seed), settings.shard_index,
                settings.shard_count);
    if (settings.sink.kind == config::SinkUrl::Kind::https) {
        log::notice("summary: TLS: %s handshakes (%s resumed), kernel TLS %s", with_commas(total[Stat::tls_handshakes]).c_str(),
                    with_commas(total[Stat::tls_resumed]).c_str(), describe_kernel_tls(total).c_str());
    }
    for (int reason = 1; reason < static_cast<int>(net::FailReason::count_); ++reason) {
        if (total.events_failed_by_reason[reason] > 0) {
            log::warning("summary: %s events failed: %s", with_commas(total.events_failed_by_reason[reason]).c_str(),
                         net::fail_reason_name(static_cast<net::FailReason>(reason)));
        }
    }
}

}  // namespace supervent::daemon
