#pragma once
// The one table of a shard's counters and gauges. Each row names a number a
// shard publishes; from this table come the shard's ShardStats slots, the
// control thread's Totals, the keys of `status`, the Prometheus families of
// /metrics and the counters line of the summary. Adding a number is one row
// here (and the code that bumps it); nothing else is edited by hand.
//
// Columns:
//   id        the name in code (Stat::id), and the key in status JSON
//   kind      counter (only grows) or gauge (goes up and down)
//   group     where status shows it: run (top level), tls (the "tls" object,
//             HTTPS only), progress (backfill progress), internal (nowhere)
//   metric    the Prometheus family (counters end in _total), or nullptr
//   exposure  per_shard: one series per shard (label shard="N"); total: one
//             series, the sum; none: not exported
//   summary   the words the summary's counters line uses, or nullptr
//   source    where the shard reads it each loop turn: SOURCE_NONE (the shard
//             bumps it itself), SOURCE_TRANSPORT(field) from
//             net::TransportCounters, SOURCE_TLS(field) from net::TlsCounters
//   help      the metric's help text
//
// Some numbers are not scalars and stay beside the table in ShardStats: the
// failed events by reason, the latency histogram, per-source and per-address
// counts, the phase and flags.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/http_transport.hpp"
#include "net/transport.hpp"

namespace supervent::daemon {

// clang-format off
#define SUPERVENT_STAT_TABLE(X) \
    X(events_generated,   counter, run,      "supervent_events_generated_total",   per_shard, nullptr,                  SOURCE_NONE,  "Events generated.") \
    X(events_acked,       counter, run,      "supervent_events_acked_total",       per_shard, nullptr,                  SOURCE_NONE,  "Events acknowledged by the sink.") \
    X(bytes_generated,    counter, run,      "supervent_bytes_generated_total",    per_shard, nullptr,                  SOURCE_NONE,  "Serialized event bytes, before compression.") \
    X(body_bytes_uncompressed, counter, run, "supervent_body_bytes_uncompressed_total", per_shard, nullptr,       SOURCE_NONE,  \
      "Request bodies before compression (zstd or gzip), of the batches compressed; compression_ratio = this / body_bytes_compressed.") \
    X(body_bytes_compressed, counter, run,   "supervent_body_bytes_compressed_total", per_shard, nullptr,         SOURCE_NONE,  \
      "Request bodies after compression (zstd or gzip), of the same batches as body_bytes_uncompressed.") \
    X(bytes_sent,         counter, run,      "supervent_bytes_sent_total",         per_shard, "bytes sent",             SOURCE_NONE,  "Wire bytes of requests the sink answered, acknowledged or not, head included.") \
    X(requests_sent,      counter, run,      "supervent_requests_sent_total",      per_shard, "requests sent",          SOURCE_NONE,  "Requests put on the wire (retries included).") \
    X(requests_acked,     counter, run,      "supervent_requests_total{outcome=\"acked\"}",   total, "acknowledged",    SOURCE_NONE,  "Requests by outcome.") \
    X(requests_retried,   counter, run,      "supervent_requests_total{outcome=\"retried\"}", total, "retried",         SOURCE_NONE,  "Requests by outcome.") \
    X(requests_failed,    counter, run,      "supervent_requests_total{outcome=\"failed\"}",  total, "given up",        SOURCE_NONE,  "Requests by outcome.") \
    X(requests_ambiguous, counter, run,      "supervent_requests_ambiguous_total", total,     "ambiguous",              SOURCE_TRANSPORT(requests_ambiguous), \
      "Requests cut off after being fully sent, before an answer: the sink may have taken them.") \
    X(connects,           counter, run,      "supervent_connects_total",           per_shard, "connections opened",     SOURCE_TRANSPORT(connects), "Connections opened to the sink.") \
    X(connect_failures,   counter, run,      "supervent_connect_failures_total",   per_shard, "connects failed",        SOURCE_TRANSPORT(connect_failures), "Failed connection attempts.") \
    X(tls_handshakes,     counter, tls,      "supervent_tls_handshakes_total",     per_shard, nullptr,                  SOURCE_TLS(handshakes), "TLS handshakes completed with the sink.") \
    X(tls_resumed,        counter, tls,      "supervent_tls_resumed_total",        per_shard, nullptr,                  SOURCE_TLS(resumed), "TLS handshakes that resumed a kept session.") \
    X(ktls_connections,   counter, tls,      "supervent_ktls_connections_total",   per_shard, nullptr,                  SOURCE_TLS(ktls_connections), "TLS connections whose sends the kernel encrypts.") \
    X(tls_ciphertext_fixed_writes, counter, tls, nullptr,                          none,      nullptr,                  SOURCE_TLS(cipher_fixed_writes), "Ciphertext writes from registered buffers.") \
    X(zc_notifications,   counter, run,      "supervent_zerocopy_notifications_total", per_shard, nullptr,              SOURCE_TRANSPORT(zc_notifications), "Zero-copy send notifications received.") \
    X(zc_copied,          counter, run,      "supervent_zerocopy_copied_total",    per_shard, nullptr,                  SOURCE_TRANSPORT(zc_copied), "Zero-copy sends the kernel had to copy after all.") \
    X(slots_busy,         gauge,   run,      "supervent_slots_busy",               per_shard, nullptr,                  SOURCE_NONE,  "Send buffer slots in use (filling, queued, sending, settling).") \
    X(slots_total,        gauge,   run,      "supervent_slots",                    per_shard, nullptr,                  SOURCE_NONE,  "Send buffer slots.") \
    X(pipeline_depth,     gauge,   run,      "supervent_pipeline_depth",           per_shard, nullptr,                  SOURCE_TRANSPORT(pipeline_depth), \
      "HTTP requests in flight per connection at most, now (deepens toward network.pipeline_depth_max while the sink is far).") \
    X(batches_retrying,   gauge,   run,      "supervent_batches_retrying",         total,     nullptr,                  SOURCE_NONE,  \
      "Batches that failed an attempt and wait to be sent again (until network.retry_for is spent).") \
    X(roots_total,        gauge,   progress, "supervent_backfill_roots",           per_shard, nullptr,                  SOURCE_NONE,  \
      "Backfill: root events this worker's share of the scenario holds (0 when live; a reload starts afresh).") \
    X(roots_done,         gauge,   progress, "supervent_backfill_roots_done",      per_shard, nullptr,                  SOURCE_NONE,  "Backfill: root events generated so far of roots_total.") \
    X(dependents_pending, gauge,   progress, "supervent_dependents_pending",       per_shard, nullptr,                  SOURCE_NONE,  "Dependent events waiting for their time.") \
    X(latency_ns_sum,     counter, internal, nullptr,                              none,      nullptr,                  SOURCE_NONE,  "Request latency, summed over acknowledged requests.") \
    X(loop_turns,         counter, internal, nullptr,                              none,      nullptr,                  SOURCE_NONE,  "Loop turns: the watchdog's sign of life.") \
    X(cpu_ns,             counter, internal, nullptr,                              none,      nullptr,                  SOURCE_NONE,  \
      "CPU time the shard's thread has used (CLOCK_THREAD_CPUTIME_ID), sampled every 100 ms and at its end.") \
    X(events_resumed,     gauge,   internal, nullptr,                              none,      nullptr,                  SOURCE_NONE,  "Events a resumed backfill replayed without sending.") \
    X(roots_resumed,      gauge,   internal, nullptr,                              none,      nullptr,                  SOURCE_NONE,  "Root events among events_resumed.") \
    X(replay_ns,          gauge,   internal, nullptr,                              none,      nullptr,                  SOURCE_NONE,  "How long the replay of a resumed backfill took.")
// clang-format on

enum class Stat : std::uint8_t {
#define SUPERVENT_STAT_ID(id, ...) id,
    SUPERVENT_STAT_TABLE(SUPERVENT_STAT_ID)
#undef SUPERVENT_STAT_ID
    count_
};
inline constexpr std::size_t stat_count = static_cast<std::size_t>(Stat::count_);

enum class StatKind : std::uint8_t { counter, gauge };
enum class StatGroup : std::uint8_t { run, tls, progress, internal };
enum class StatExposure : std::uint8_t { per_shard, total, none };

// Reads a stat's value from the transport's own counters (nullptr: the shard
// keeps it itself).
using StatSource = std::uint64_t (*)(const net::TransportCounters&, const net::TlsCounters&);

struct StatSpec {
    Stat id;
    std::string_view key;
    StatKind kind;
    StatGroup group;
    const char* metric;
    StatExposure exposure;
    const char* summary;
    StatSource source;
    const char* help;

    // The family name: `metric` without its labels.
    [[nodiscard]] constexpr std::string_view family() const {
        const std::string_view name(metric);
        return name.substr(0, name.find('{'));
    }
    // The labels of `metric`, without braces ("" when it has none).
    [[nodiscard]] constexpr std::string_view labels() const {
        const std::string_view name(metric);
        const std::size_t open = name.find('{');
        return open == std::string_view::npos ? std::string_view{} : name.substr(open + 1, name.size() - open - 2);
    }
};

#define SOURCE_NONE nullptr
#define SOURCE_TRANSPORT(field) \
    [](const net::TransportCounters& c, const net::TlsCounters&) -> std::uint64_t { return c.field; }
#define SOURCE_TLS(field)                                                        \
    [](const net::TransportCounters&, const net::TlsCounters& t) -> std::uint64_t { \
        return static_cast<std::uint64_t>(t.field);                               \
    }
inline constexpr std::array<StatSpec, stat_count> stat_table{{
#define SUPERVENT_STAT_SPEC(id, kind, group, metric, exposure, summary, source, help)                        \
    StatSpec{Stat::id, #id, StatKind::kind, StatGroup::group, metric, StatExposure::exposure, summary, source, \
             help},
    SUPERVENT_STAT_TABLE(SUPERVENT_STAT_SPEC)
#undef SUPERVENT_STAT_SPEC
}};
#undef SOURCE_NONE
#undef SOURCE_TRANSPORT
#undef SOURCE_TLS

[[nodiscard]] constexpr const StatSpec& stat_spec(Stat id) { return stat_table[static_cast<std::size_t>(id)]; }

// The compression ratio achieved: body bytes before compression over the
// same bodies' bytes after it; 0 before any compressed batch (or without
// compression). Derived here, from the two rows above, for status, the
// metrics and the summary alike.
[[nodiscard]] constexpr double compression_ratio(std::uint64_t uncompressed_bytes, std::uint64_t compressed_bytes) {
    return compressed_bytes > 0 ? double(uncompressed_bytes) / double(compressed_bytes) : 0.0;
}

// What must hold of the table: rows in enum order, exported numbers named as
// Prometheus expects, one help and type per family.
[[nodiscard]] constexpr bool stat_table_valid() {
    for (std::size_t i = 0; i < stat_count; ++i) {
        const StatSpec& spec = stat_table[i];
        if (static_cast<std::size_t>(spec.id) != i) return false;
        if ((spec.metric == nullptr) != (spec.exposure == StatExposure::none)) return false;
        if (spec.metric == nullptr) continue;
        if (!spec.family().starts_with("supervent_")) return false;
        if (spec.kind == StatKind::counter && !spec.family().ends_with("_total")) return false;
        if (spec.exposure == StatExposure::per_shard && !spec.labels().empty()) return false;
        for (std::size_t j = 0; j < i; ++j) {  // rows of one family sit together and agree
            const StatSpec& other = stat_table[j];
            if (other.metric == nullptr || other.family() != spec.family()) continue;
            const StatSpec& next = stat_table[j + 1];
            if (j + 1 != i && (next.metric == nullptr || next.family() != spec.family())) return false;
            if (other.kind != spec.kind || other.exposure != spec.exposure ||
                std::string_view(other.help) != std::string_view(spec.help)) {
                return false;
            }
        }
    }
    return true;
}
static_assert(stat_table_valid(), "stat_table: see stat_table_valid() for what a row must satisfy");

// Prometheus reads a family ending in _total as a counter: promtool refuses a
// gauge named so (supervent_backfill_roots was once _total).
[[nodiscard]] constexpr bool gauges_not_named_total() {
    for (const StatSpec& spec : stat_table) {
        if (spec.metric != nullptr && spec.kind == StatKind::gauge && spec.family().ends_with("_total")) return false;
    }
    return true;
}
static_assert(gauges_not_named_total(), "stat_table: a gauge's metric must not end in _total");

}  // namespace supervent::daemon
