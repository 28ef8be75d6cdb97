#include "daemon/telemetry.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "daemon/text_format.hpp"

namespace supervent::daemon {

Totals sum_stats(const ShardStats* stats, std::uint32_t shard_count) {
    Totals total;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const ShardStats& shard = stats[i];
        // Everything but generated first: see ShardStats.
        for (const StatSpec& spec : stat_table) {
            if (spec.id != Stat::events_generated) total.values[static_cast<std::size_t>(spec.id)] += shard[spec.id].get();
        }
        // Failed = the sum of its reasons, read in one pass: a batch failing
        // between two reads cannot make rejected + dropped differ from failed.
        for (int reason = 0; reason < static_cast<int>(net::FailReason::count_); ++reason) {
            const std::uint64_t events = shard.events_failed_by_reason[reason].get();
            total.events_failed_by_reason[reason] += events;
            total.events_failed += events;
        }
        if (const auto error = static_cast<int>(shard.ktls_unavailable_errno.get()); error != 0) {
            total.ktls_unavailable_errno = error;
        }
        total.values[static_cast<std::size_t>(Stat::events_generated)] += shard[Stat::events_generated].get();
    }
    return total;
}

namespace {

// A row's key in status: the tls group's rows sit in a "tls" object, so
// they drop the "tls_" their id carries.
std::string_view status_key(const StatSpec& spec) {
    if (spec.group == StatGroup::tls && spec.key.starts_with("tls_")) return spec.key.substr(4);
    return spec.key;
}

}  // namespace

void write_stat_fields(JsonWriter& json, const Totals& total, StatGroup group) {
    for (const StatSpec& spec : stat_table) {
        if (spec.group == group) json.field(status_key(spec), total[spec.id]);
    }
}

void write_failed_by_reason(JsonWriter& json, const Totals& total, bool dropped_only) {
    json.begin_object();
    for (int reason = 1; reason < static_cast<int>(net::FailReason::count_); ++reason) {
        if (dropped_only && reason == static_cast<int>(net::FailReason::partial)) continue;
        if (total.events_failed_by_reason[reason] > 0) {
            json.field(net::fail_reason_name(static_cast<net::FailReason>(reason)), total.events_failed_by_reason[reason]);
        }
    }
    json.end_object();
}

std::string describe_kernel_tls(const Totals& total) {
    if (total[Stat::ktls_connections] > 0) return "on";
    if (total.ktls_unavailable_errno == ENOENT) return "unavailable: this kernel has no tls module (user-space TLS)";
    if (total.ktls_unavailable_errno != 0) {
        return std::string("unavailable: ") + std::strerror(total.ktls_unavailable_errno) + " (user-space TLS)";
    }
    return total[Stat::tls_handshakes] > 0 ? "off (user-space TLS)" : "not tried yet";
}

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
    text_.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
    text_.append(name).append(" ").append(type).append("\n");
}

void PrometheusText::sample(std::string_view name, std::string_view labels, double value) {
    char number[32];
    std::snprintf(number, sizeof number, " %.17g\n", value);
    text_.append(name);
    if (!labels.empty()) text_.append("{").append(labels).append("}");
    text_.append(number);
}

void PrometheusText::stat_families(const ShardStats* stats, std::uint32_t shard_count, const Totals& total,
                                   bool https) {
    std::string_view previous;
    for (const StatSpec& spec : stat_table) {
        if (spec.exposure == StatExposure::none || (spec.group == StatGroup::tls && !https)) continue;
        if (spec.family() != previous) {
            family(spec.family(), spec.kind == StatKind::counter ? "counter" : "gauge", spec.help);
            previous = spec.family();
        }
        if (spec.exposure == StatExposure::total) {
            sample(spec.family(), spec.labels(), double(total[spec.id]));
            continue;
        }
        for (std::uint32_t i = 0; i < shard_count; ++i) {
            char labels[32];
            std::snprintf(labels, sizeof labels, "shard=\"%u\"", i);
            sample(spec.family(), labels, double(stats[i][spec.id].get()));
        }
    }
}

// One family partitioned by reason (so sum() is every failed event):
// reason="partial" = the sink reported them failed; any other reason =
// supervent dropped them. generated = acked + failed + in flight.
void PrometheusText::failed_by_reason(const Totals& total) {
    family("supervent_events_failed_total", "counter",
           "Events not delivered, by reason: partial = reported failed by the sink; any other = dropped by supervent.");
    for (int reason = 1; reason < static_cast<int>(net::FailReason::count_); ++reason) {
        char labels[64];
        std::snprintf(labels, sizeof labels, "reason=\"%s\"", net::fail_reason_name(static_cast<net::FailReason>(reason)));
        sample("supervent_events_failed_total", labels, double(total.events_failed_by_reason[reason]));
    }
    family("supervent_events_in_flight", "gauge", "Events generated and not yet acknowledged or failed.");
    sample("supervent_events_in_flight", "", double(total.events_in_flight()));
}

void PrometheusText::shard_cpu(const ShardStats* stats, std::uint32_t shard_count) {
    family("supervent_shard_cpu_seconds_total", "counter",
           "CPU time each worker thread has used (sampled every 100 ms); a rate near 1 means the worker is CPU-bound.");
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        char labels[32];
        std::snprintf(labels, sizeof labels, "shard=\"%u\"", i);
        sample("supervent_shard_cpu_seconds_total", labels, double(stats[i][Stat::cpu_ns].get()) / 1e9);
    }
}

// One histogram family, a series set per outcome class; the +Inf bucket is
// the count. Acked requests' sum is Stat::latency_ns_sum (status's mean).
void PrometheusText::latency_histogram(const ShardStats* stats, std::uint32_t shard_count) {
    family("supervent_request_latency_seconds", "histogram",
           "Time from send to the end of a request attempt, by outcome: acked (2xx), client_error (4xx), "
           "server_error (5xx), no_answer (connection failed, timed out, not HTTP).");
    for (int o = 0; o < latency_outcome_count; ++o) {
        const auto outcome = static_cast<LatencyOutcome>(o);
        std::uint64_t cumulative = 0, sum_ns = 0;
        char labels[80];
        for (std::uint32_t i = 0; i < shard_count; ++i) sum_ns += stats[i].latency_of(outcome).sum_ns.value.load();
        for (int k = 0; k < LatencyHistogram::buckets; ++k) {
            for (std::uint32_t i = 0; i < shard_count; ++i) {
                cumulative += stats[i].latency_of(outcome).counts[k].value.load(std::memory_order_acquire);
            }
            const double bound_s = double(LatencyHistogram::bound_ns(k)) / 1e9;
            if (k < LatencyHistogram::finite_buckets) {
                std::snprintf(labels, sizeof labels, "outcome=\"%s\",le=\"%g\"", latency_outcome_name(outcome), bound_s);
            } else {
                std::snprintf(labels, sizeof labels, "outcome=\"%s\",le=\"+Inf\"", latency_outcome_name(outcome));
            }
            sample("supervent_request_latency_seconds_bucket", labels, double(cumulative));
        }
        std::snprintf(labels, sizeof labels, "outcome=\"%s\"", latency_outcome_name(outcome));
        sample("supervent_request_latency_seconds_sum", labels, double(sum_ns) / 1e9);
        sample("supervent_request_latency_seconds_count", labels, double(cumulative));
    }
}

std::string summary_counters(const Totals& total) {
    std::string line;
    for (const StatSpec& spec : stat_table) {
        if (spec.summary == nullptr) continue;
        // A noun and a verb are plural ("requests sent"): one of a thing drops
        // the noun's s ("1 request sent"); a word alone stays ("1 ambiguous").
        const std::string_view words(spec.summary);
        const std::size_t first_end = words.find(' ');
        line.append(line.empty() ? "" : ", ").append(with_commas(total[spec.id])).append(" ");
        if (total[spec.id] == 1 && first_end != std::string_view::npos && first_end > 1 && words[first_end - 1] == 's') {
            line.append(words.substr(0, first_end - 1)).append(words.substr(first_end));
        } else {
            line.append(words);
        }
    }
    return line;
}

}  // namespace supervent::daemon
