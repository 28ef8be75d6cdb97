#pragma once
// What the control thread says about the sink while it fails (issues 13 and
// 15): failed attempts logged as they happen, rate limited per reason (the
// first at once, then a count per interval); an outage logged once when it
// starts, with its cause, and once when it ends, with its duration; a fatal
// cause logged once, at once. The shards only publish facts (ShardStats:
// counters, a seqlock'd FailureNote, since-when and next-attempt times); all
// formatting and writing happens here, on the control thread.
#include <cstdint>
#include <string>
#include <vector>

#include "daemon/json_writer.hpp"
#include "daemon/shard_state.hpp"
#include "daemon/telemetry.hpp"
#include "net/transport.hpp"

namespace supervent::daemon {

// Words for a failure's facts: "connect: Connection refused (errno 111)",
// "HTTP 400: {"message":"invalid json"}". Control thread only (allocates).
[[nodiscard]] std::string describe_failure(const net::FailureFacts& facts);

struct SinkOutage {
    bool active = false;               // the sink has failed for at least outage_after_ns
    std::int64_t since_realtime_ns = 0;
    std::uint64_t batches_waiting = 0;  // slots holding a batch not yet taken
    double next_attempt_s = 0;         // from now; 0 = due
};

class SinkHealth {
public:
    // Failing for this long, with no answer between, makes an outage: a lone
    // 503 among acknowledged requests is a failure to log, not an outage.
    static constexpr std::int64_t outage_after_ns = 1'000'000'000;
    // After a reason's first line, further failures of it are counted and
    // logged as one line per interval.
    static constexpr std::int64_t log_interval_ns = 10'000'000'000;

    // One look at the shards, every supervise interval.
    void observe(const ShardStats* stats, ShardError* errors, std::uint32_t shard_count, const std::string& sink,
                 std::int64_t now_ns);
    [[nodiscard]] SinkOutage outage(const ShardStats* stats, std::uint32_t shard_count, std::int64_t now_ns) const;
    // "sink unavailable since 2026-12-04T20:31:12Z, 4 batches waiting, next
    // attempt in 1.2 s"; "" while the sink answers.
    [[nodiscard]] std::string describe(const ShardStats* stats, std::uint32_t shard_count, std::int64_t now_ns) const;
    // The last failure's words ("" when nothing failed).
    [[nodiscard]] const std::string& last_cause() const { return last_cause_; }
    // A fatal error already logged (the summary need not repeat it).
    [[nodiscard]] bool fatal_logged(const std::string& text) const;
    // status: "sink_unavailable" (null while the sink answers) and
    // "attempt_failures_by_reason"; /metrics: their families.
    void write_json(JsonWriter& json, const ShardStats* stats, std::uint32_t shard_count, std::int64_t now_ns) const;
    void write_metrics(PrometheusText& out, const ShardStats* stats, std::uint32_t shard_count, std::int64_t now_ns) const;

private:
    void log_failures(const ShardStats* stats, std::uint32_t shard_count, const std::string& sink, std::int64_t now_ns);
    void log_outage(const ShardStats* stats, std::uint32_t shard_count, const std::string& sink, std::int64_t now_ns);
    void log_fatal(ShardError* errors, std::uint32_t shard_count);
    [[nodiscard]] static bool latest_failure(const ShardStats* stats, std::uint32_t shard_count, int reason,
                                             net::FailureFacts& out);

    static constexpr int reasons = static_cast<int>(net::FailReason::count_);
    std::uint64_t seen_[reasons] = {};      // failures by reason, as of the last look
    std::uint64_t unlogged_[reasons] = {};  // counted since the reason's last line
    std::int64_t logged_ns_[reasons] = {};  // when the reason's last line was written; 0 = never
    std::vector<std::uint64_t> debug_seen_;  // by shard: the last note logged at debug level
    bool outage_logged_ = false;
    std::int64_t outage_since_realtime_ns_ = 0;
    std::string last_cause_;
    std::vector<std::string> fatal_logged_;
};

}  // namespace supervent::daemon
