#pragma once
// What a shard shares with the control thread, and nothing else:
//  - ShardStats: counters the shard alone writes and anyone may read;
//  - ShardControl: the control thread's requests to the shard.
// Both on their own cache lines, of plain atomics: the shard's data path takes
// no lock and never waits on the control thread. (The exception, a reload's
// scenario handed over under a mutex, is ShardControl::change. A checkpointed
// backfill's journal is shared lock-free too: daemon/checkpoint_share.hpp.)
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "core/bounds.hpp"
#include "daemon/stat_table.hpp"
#include "net/slot.hpp"
#include "net/transport.hpp"

namespace supervent::core {
struct CompiledScenario;
}

namespace supervent::daemon {

enum class ShardPhase : std::uint8_t { starting, running, draining, finished, failed };

[[nodiscard]] constexpr const char* shard_phase_name(ShardPhase phase) {
    switch (phase) {
        case ShardPhase::starting: return "starting";
        case ShardPhase::running: return "running";
        case ShardPhase::draining: return "draining";
        case ShardPhase::finished: return "finished";
        case ShardPhase::failed: return "failed";
    }
    return "unknown";
}

// Single writer (the shard), so increments are a relaxed load and store
// rather than a locked read-modify-write.
struct Counter {
    std::atomic<std::uint64_t> value{0};
    void add(std::uint64_t amount) { value.store(value.load(std::memory_order_relaxed) + amount, std::memory_order_release); }
    void set(std::uint64_t amount) { value.store(amount, std::memory_order_release); }
    [[nodiscard]] std::uint64_t get() const { return value.load(std::memory_order_acquire); }
};

// Request latency, log-linear: nine linear buckets per decade (1..9 x 10^d ns)
// from 10 us to 90 s, then +Inf. Bucket k holds values in (bound(k-1),
// bound(k)]; the bounds are round numbers of seconds, so Prometheus gets them
// exactly. Single writer (the shard); no allocation, no lock.
struct LatencyHistogram {
    static constexpr int decades = 7;                      // 10^4 .. 10^10 ns
    static constexpr int finite_buckets = decades * 9;     // 10 us .. 90 s
    static constexpr int buckets = finite_buckets + 1;     // + Inf
    static constexpr std::uint64_t first_decade_ns = 10'000;

    // The upper bound of bucket k < finite_buckets, in nanoseconds.
    [[nodiscard]] static constexpr std::uint64_t bound_ns(int k) {
        std::uint64_t decade = first_decade_ns;
        for (int d = 0; d < k / 9; ++d) decade *= 10;
        return decade * std::uint64_t(k % 9 + 1);
    }
    [[nodiscard]] static constexpr int bucket_of(std::uint64_t ns) {
        if (ns <= first_decade_ns) return 0;
        std::uint64_t decade = first_decade_ns;
        for (int d = 0; d < decades; ++d, decade *= 10) {
            if (ns <= decade * 9) return d * 9 + int((ns + decade - 1) / decade) - 1;
            if (ns <= decade * 10) return (d + 1) * 9 < finite_buckets ? (d + 1) * 9 : finite_buckets;
        }
        return finite_buckets;
    }

    void record(std::uint64_t ns) {
        const int k = bucket_of(ns);
        counts[k].value.store(counts[k].value.load(std::memory_order_relaxed) + 1, std::memory_order_release);
        sum_ns.value.store(sum_ns.value.load(std::memory_order_relaxed) + ns, std::memory_order_release);
    }
    struct Cell {
        std::atomic<std::uint64_t> value{0};
    };
    Cell counts[buckets];
    Cell sum_ns;  // of every value recorded: the histogram's _sum
};

// How a request attempt ended, for the latency histogram's label `outcome`:
// answered 2xx (acked), 4xx (client_error: refused, 429 and 430 too), 5xx
// (server_error), or cut off without an answer (no_answer: the connection
// failed or closed, the answer timed out or was not HTTP).
enum class LatencyOutcome : std::uint8_t { acked, client_error, server_error, no_answer, count_ };
inline constexpr int latency_outcome_count = static_cast<int>(LatencyOutcome::count_);

[[nodiscard]] constexpr LatencyOutcome latency_outcome(net::Verdict verdict, net::FailReason reason) {
    if (verdict == net::Verdict::acked) return LatencyOutcome::acked;
    switch (reason) {
        case net::FailReason::rejected:
        case net::FailReason::rate_limited:
        case net::FailReason::quota: return LatencyOutcome::client_error;
        case net::FailReason::server_error: return LatencyOutcome::server_error;
        default: return LatencyOutcome::no_answer;
    }
}

[[nodiscard]] constexpr const char* latency_outcome_name(LatencyOutcome outcome) {
    switch (outcome) {
        case LatencyOutcome::acked: return "acked";
        case LatencyOutcome::client_error: return "client_error";
        case LatencyOutcome::server_error: return "server_error";
        case LatencyOutcome::no_answer: return "no_answer";
        case LatencyOutcome::count_: break;
    }
    return "unknown";
}
static_assert(LatencyHistogram::bound_ns(0) == 10'000 && LatencyHistogram::bound_ns(8) == 90'000 &&
              LatencyHistogram::bound_ns(9) == 100'000);
static_assert(LatencyHistogram::bound_ns(LatencyHistogram::finite_buckets - 1) == 90'000'000'000ull);
static_assert(LatencyHistogram::bound_ns(0) == 10'000 && LatencyHistogram::bound_ns(8) == 90'000 &&
              LatencyHistogram::bound_ns(9) == 100'000);
static_assert(LatencyHistogram::bound_ns(LatencyHistogram::finite_buckets - 1) == 90'000'000'000ull);
static_assert(LatencyHistogram::bucket_of(10'000) == 0 && LatencyHistogram::bucket_of(10'001) == 1);
static_assert(LatencyHistogram::bucket_of(90'000) == 8 && LatencyHistogram::bucket_of(90'001) == 9);
static_assert(LatencyHistogram::bucket_of(100'000) == 9 && LatencyHistogram::bucket_of(100'001) == 10);
static_assert(LatencyHistogram::bucket_of(1'000'000'000'000ull) == LatencyHistogram::finite_buckets);

// The facts of a shard's last failed attempt (net::FailureFacts), for the
// control thread to log: a seqlock over relaxed atomic words. The shard
// (single writer) never waits and never allocates; a reader that catches a
// copy being rewritten tries again.
class FailureNote {
public:
    static_assert(std::is_trivially_copyable_v<net::FailureFacts>);
    static constexpr std::size_t word_count = (sizeof(net::FailureFacts) + 7) / 8;

    void publish(const net::FailureFacts& facts) {
        std::uint64_t words[word_count] = {};
        std::memcpy(words, &facts, sizeof facts);
        const std::uint64_t sequence = sequence_.load(std::memory_order_relaxed);
        sequence_.store(sequence + 1, std::memory_order_relaxed);  // odd: being written
        std::atomic_thread_fence(std::memory_order_release);
        for (std::size_t i = 0; i < word_count; ++i) words_[i].store(words[i], std::memory_order_relaxed);
        sequence_.store(sequence + 2, std::memory_order_release);
    }
    // False when nothing was published yet (or the writer kept rewriting it).
    [[nodiscard]] bool read(net::FailureFacts& out) const {
        for (int tries = 0; tries < 16; ++tries) {
            const std::uint64_t before = sequence_.load(std::memory_order_acquire);
            if (before == 0) return false;
            if ((before & 1) != 0) continue;
            std::uint64_t words[word_count];
            for (std::size_t i = 0; i < word_count; ++i) words[i] = words_[i].load(std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_acquire);
            if (sequence_.load(std::memory_order_relaxed) != before) continue;
            std::memcpy(&out, words, sizeof out);
            return true;
        }
        return false;
    }

private:
    std::atomic<std::uint64_t> sequence_{0};
    std::atomic<std::uint64_t> words_[word_count] = {};
};

struct alignas(64) ShardStats {
    // Every event is generated once and then, exactly once, acked or failed;
    // in flight = generated - acked - failed. The shard bumps generated
    // before anything else, so a reader that loads acked and failed first
    // never sees a negative number in flight.
    // Every number of daemon/stat_table.hpp, by Stat: stats[Stat::events_acked].
    Counter counters[stat_count];
    [[nodiscard]] Counter& operator[](Stat id) { return counters[static_cast<std::size_t>(id)]; }
    [[nodiscard]] const Counter& operator[](Stat id) const { return counters[static_cast<std::size_t>(id)]; }

    // Beside the table: what is not one number. Failed events, in all and by
    // reason (bumped together, reason first: Totals sums the reasons).
    Counter events_failed;
    Counter events_failed_by_reason[static_cast<int>(net::FailReason::count_)];
    LatencyHistogram latency;  // over acked requests, the same ones as Stat::latency_ns_sum
    // Attempts that were not acknowledged, by LatencyOutcome (index - 1): a
    // sink that refuses everything still shows how fast it does so.
    LatencyHistogram latency_unacked[latency_outcome_count - 1];
    [[nodiscard]] LatencyHistogram& latency_of(LatencyOutcome outcome) {
        return outcome == LatencyOutcome::acked ? latency : latency_unacked[static_cast<int>(outcome) - 1];
    }
    [[nodiscard]] const LatencyHistogram& latency_of(LatencyOutcome outcome) const {
        return outcome == LatencyOutcome::acked ? latency : latency_unacked[static_cast<int>(outcome) - 1];
    }
    // HTTPS: why kernel TLS is off (ENOENT: no tls module); 0 = on or not probed.
    Counter ktls_unavailable_errno;
    // Events generated by each source of the scenario this shard runs
    // (scenario_generation: 0 = the start-up one, then one per reload that
    // changed it). A swap carries a count over to the new scenario's source
    // of the same name. While it rewrites them the shard sets
    // scenario_generation to UINT64_MAX: read it before and after the counts
    // and retry unless both are equal.
    Counter scenario_generation;
    Counter source_events[bounds::scenario_sources_counted_max];
    // Wire bytes of acked requests by local address (--bind index), copied
    // from the transport's counters once per loop turn.
    Counter bytes_by_local_address[bounds::local_addresses_max];
    // The sink as this shard sees it (issues 13 and 15): since when its
    // attempts have been failing (CLOCK_REALTIME ns; 0 = it answers), when
    // the next attempt is due (CLOCK_MONOTONIC ns; 0 = none waits), failed
    // attempts by reason, and the last failure's facts.
    Counter sink_unavailable_since_ns;
    Counter next_attempt_ns;
    Counter attempt_failures_by_reason[static_cast<int>(net::FailReason::count_)];
    FailureNote last_failure;
    std::atomic<ShardPhase> phase{ShardPhase::starting};
    std::atomic<bool> backpressured{false};  // a free slot was wanted and none was there
    std::atomic<bool> scenario_done{false};  // a backfill made its last batch (not cut short by a stop)
};

// A new scenario and/or which of its sources are enabled: what a reload or
// `sources enable|disable` hands a shard.
struct ScenarioChange {
    std::uint64_t generation = 0;  // of `scenario`; the shard swaps when it differs from its own
    std::shared_ptr<const core::CompiledScenario> scenario;
    std::vector<std::uint16_t> routes;     // scenario source -> transport route (request path)
    std::vector<std::string> route_paths;  // HTTP: every route's path, by route; append-only across changes
    std::vector<std::uint8_t> enabled;     // by scenario source
};

struct alignas(64) ShardControl {
    std::atomic<bool> stop_requested{false};  // stop generating, settle every batch, finish
    std::atomic<bool> paused{false};
    std::atomic<double> rate_eps{0};          // this shard's share; 0 = unlimited
    // Live limits (a reload or `set`): this shard's share of the event budget
    // (0 = unlimited) and the run's duration (0 = unlimited). UINT64_MAX /
    // -1 = keep the plan's value (set before the shard starts).
    std::atomic<std::uint64_t> events_budget{UINT64_MAX};
    std::atomic<std::int64_t> duration_ns{-1};
    // The control thread fills `change` under the mutex, then bumps
    // change_version; the shard, seeing a new version at a batch boundary,
    // copies `change` under the mutex (the copy allocates). Only when the
    // control thread changed the scenario or its sources (a reload,
    // `sources`), never per batch: the only lock a running shard takes.
    std::mutex change_mutex;
    ScenarioChange change;
    std::atomic<std::uint64_t> change_version{0};
    // The incident started live (an index into the scenario's incidents; -1
    // = none): the shard reads it once per loop turn (daemon/incident_control.cpp).
    std::atomic<std::int32_t> incident{-1};
    static_assert(std::atomic<double>::is_always_lock_free);
};

// A shard's fatal start-up or run-time error, set once before phase=failed.
struct ShardError {
    std::mutex mutex;  // the shard takes it once, as it fails; else control path only
    std::string text;
};

}  // namespace supervent::daemon
