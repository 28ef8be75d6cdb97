#include "daemon/sink_health.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

#include "daemon/log.hpp"

namespace supervent::daemon {
namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;

std::int64_t realtime_ns() {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec * ns_per_s + now.tv_nsec;
}

std::string utc_text(std::int64_t realtime_ns_value) {
    const std::time_t seconds = static_cast<std::time_t>(realtime_ns_value / ns_per_s);
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return text;
}

// A body's first bytes on one log line: control characters and newlines
// become spaces, so a sink cannot forge log lines.
std::string printable(std::string_view bytes) {
    std::string out(bytes);
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    return out;
}

log::Level level_of(net::FailReason reason) {
    switch (reason) {
        case net::FailReason::rejected:
        case net::FailReason::quota: return log::Level::error;
        default: return log::Level::warning;
    }
}

}  // namespace

std::string describe_failure(const net::FailureFacts& facts) {
    std::string text = net::fail_reason_name(facts.reason);
    if (facts.http_status != 0) text += ": HTTP " + std::to_string(facts.http_status);
    if (facts.error_number != 0) {
        text += std::string(": ") + std::strerror(facts.error_number) + " (errno " + std::to_string(facts.error_number) + ")";
    }
    if (facts.reason == net::FailReason::timeout && facts.http_status == 0) {
        text += ": no connection or no answer within its timeout";
    }
    if (facts.detail_bytes > 0) text += ": " + printable(facts.detail_text());
    return text;
}

void SinkHealth::observe(const ShardStats* stats, ShardError* errors, std::uint32_t shard_count,
                         const std::string& sink, std::int64_t now_ns) {
    log_fatal(errors, shard_count);
    log_failures(stats, shard_count, sink, now_ns);
    log_outage(stats, shard_count, sink, now_ns);
}

// The newest failure of `reason` any shard published (reason < 0: of any).
bool SinkHealth::latest_failure(const ShardStats* stats, std::uint32_t shard_count, int reason,
                                net::FailureFacts& out) {
    bool found = false;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        net::FailureFacts facts;
        if (!stats[i].last_failure.read(facts)) continue;
        if (reason >= 0 && static_cast<int>(facts.reason) != reason) continue;
        if (!found || facts.at_ns > out.at_ns) out = facts;
        found = true;
    }
    return found;
}

// Per reason: the first failure at once, with its facts; then what came
// meanwhile as one line per log_interval_ns. At debug level, every new
// failure a shard published, as it is seen.
void SinkHealth::log_failures(const ShardStats* stats, std::uint32_t shard_count, const std::string& sink,
                              std::int64_t now_ns) {
    if (log::enabled(log::Level::debug)) {
        debug_seen_.resize(shard_count, 0);
        for (std::uint32_t i = 0; i < shard_count; ++i) {
            net::FailureFacts facts;
            if (!stats[i].last_failure.read(facts) || facts.count == debug_seen_[i]) continue;
            log::debug("shard %u: attempt %llu failed at %s: %s", i, static_cast<unsigned long long>(facts.count),
                       sink.c_str(), describe_failure(facts).c_str());
            debug_seen_[i] = facts.count;
        }
    }
    for (int r = 1; r < reasons; ++r) {
        std::uint64_t total = 0;
        for (std::uint32_t i = 0; i < shard_count; ++i) total += stats[i].attempt_failures_by_reason[r].get();
        unlogged_[r] += total - std::min(total, seen_[r]);
        seen_[r] = total;
        if (unlogged_[r] == 0 || (logged_ns_[r] != 0 && now_ns - logged_ns_[r] < log_interval_ns)) continue;
        net::FailureFacts facts;
        if (!latest_failure(stats, shard_count, r, facts)) facts.reason = static_cast<net::FailReason>(r);
        last_cause_ = describe_failure(facts);
        const auto count = static_cast<unsigned long long>(unlogged_[r]);
        const std::string message =
            logged_ns_[r] == 0 ? "sink " + sink + ": an attempt failed: " + last_cause_
                               : "sink " + sink + ": " + std::to_string(count) + (count == 1 ? " attempt" : " attempts") +
                                     " failed in the last " + std::to_string((now_ns - logged_ns_[r]) / ns_per_s) +
                                     " s; the last: " + last_cause_;
        log::write(level_of(facts.reason), "superventd: " + message);
        logged_ns_[r] = now_ns;
        unlogged_[r] = 0;
    }
}

SinkOutage SinkHealth::outage(const ShardStats* stats, std::uint32_t shard_count, std::int64_t now_ns) const {
    SinkOutage out;
    std::int64_t since = 0, next = 0;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const auto shard_since = static_cast<std::int64_t>(stats[i].sink_unavailable_since_ns.get());
        if (shard_since == 0) continue;
        since = since == 0 ? shard_since : std::min(since, shard_since);
        const auto shard_next = static_cast<std::int64_t>(stats[i].next_attempt_ns.get());
        if (shard_next != 0) next = next == 0 ? shard_next : std::min(next, shard_next);
    }
    if (since == 0 || realtime_ns() - since < outage_after_ns) return out;
    out.active = true;
    out.since_realtime_ns = since;
    for (std::uint32_t i = 0; i < shard_count; ++i) out.batches_waiting += stats[i][Stat::slots_busy].get();
    out.next_attempt_s = next > now_ns ? double(next - now_ns) / ns_per_s : 0.0;
    return out;
}

std::string SinkHealth::describe(const ShardStats* stats, std::uint32_t shard_count, std::int64_t now_ns) const {
    const SinkOutage now = outage(stats, shard_count, now_ns);
    if (!now.active) return {};
    char text[160];
    std::snprintf(text, sizeof text, "sink unavailable since %s, %llu %s waiting, next attempt in %.1f s",
                  utc_text(now.since_realtime_ns).c_str(), static_cast<unsigned long long>(now.batches_waiting),
                  now.batches_waiting == 1 ? "batch" : "batches", now.next_attempt_s);
    return text;
}

// Once when an outage starts (with its cause) and once when it ends (with
// how long it lasted); the failure lines in between say how it goes.
void SinkHealth::log_outage(const ShardStats* stats, std::uint32_t shard_count, const std::string& sink,
                            std::int64_t now_ns) {
    const SinkOutage now = outage(stats, shard_count, now_ns);
    if (now.active && !outage_logged_) {
        outage_logged_ = true;
        outage_since_realtime_ns_ = now.since_realtime_ns;
        net::FailureFacts facts;
        const std::string cause = latest_failure(stats, shard_count, -1, facts) ? describe_failure(facts) : "unknown";
        log::warning("sink %s unavailable since %s (%s): %llu batches waiting, retried until they are taken or "
                     "network.retry_for is spent; generation waits for free slots",
                     sink.c_str(), utc_text(now.since_realtime_ns).c_str(), cause.c_str(),
                     static_cast<unsigned long long>(now.batches_waiting));
        return;
    }
    bool any_unavailable = false;
    for (std::uint32_t i = 0; i < shard_count; ++i) any_unavailable |= stats[i].sink_unavailable_since_ns.get() != 0;
    if (outage_logged_ && !any_unavailable) {
        outage_logged_ = false;
        log::notice("sink %s available again after %.1f s of failures", sink.c_str(),
                    double(realtime_ns() - outage_since_realtime_ns_) / ns_per_s);
    }
}

// A shard's fatal error (401/403/404/430, a certificate, batch after batch
// refused): said once, at once, not only after the summary.
void SinkHealth::log_fatal(ShardError* errors, std::uint32_t shard_count) {
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        std::string text;
        {
            std::lock_guard lock(errors[i].mutex);
            if (errors[i].text.empty() || fatal_logged(errors[i].text)) continue;
            text = errors[i].text;
        }
        log::error("%s", text.c_str());
        fatal_logged_.push_back(std::move(text));
    }
}

void SinkHealth::write_json(JsonWriter& json, const ShardStats* stats, std::uint32_t shard_count,
                            std::int64_t now_ns) const {
    const SinkOutage now = outage(stats, shard_count, now_ns);
    json.key("sink_unavailable");
    if (now.active) {
        json.begin_object()
            .field("since", utc_text(now.since_realtime_ns))
            .field("for_s", double(realtime_ns() - now.since_realtime_ns) / ns_per_s)
            .field("batches_waiting", now.batches_waiting)
            .field("next_attempt_s", now.next_attempt_s)
            .field("cause", last_cause_)
            .end_object();
    } else {
        json.null();
    }
    json.key("attempt_failures_by_reason").begin_object();
    for (int r = 1; r < reasons; ++r) {
        std::uint64_t total = 0;
        for (std::uint32_t i = 0; i < shard_count; ++i) total += stats[i].attempt_failures_by_reason[r].get();
        if (total > 0) json.field(net::fail_reason_name(static_cast<net::FailReason>(r)), total);
    }
    json.end_object();
}

void SinkHealth::write_metrics(PrometheusText& out, const ShardStats* stats, std::uint32_t shard_count,
                               std::int64_t now_ns) const {
    const SinkOutage now = outage(stats, shard_count, now_ns);
    out.family("supervent_sink_unavailable_seconds", "gauge",
               "How long the sink has been failing every attempt (0 while it answers).");
    out.sample("supervent_sink_unavailable_seconds", "",
               now.active ? double(realtime_ns() - now.since_realtime_ns) / ns_per_s : 0.0);
    out.family("supervent_attempt_failures_total", "counter",
               "Failed attempts to deliver a batch or reach the sink, by reason (a batch may fail several).");
    for (int r = 1; r < reasons; ++r) {
        std::uint64_t total = 0;
        for (std::uint32_t i = 0; i < shard_count; ++i) total += stats[i].attempt_failures_by_reason[r].get();
        const std::string labels = std::string("reason=\"") + net::fail_reason_name(static_cast<net::FailReason>(r)) + "\"";
        out.sample("supervent_attempt_failures_total", labels, double(total));
    }
}

bool SinkHealth::fatal_logged(const std::string& text) const {
    return std::find(fatal_logged_.begin(), fatal_logged_.end(), text) != fatal_logged_.end();
}

}  // namespace supervent::daemon
