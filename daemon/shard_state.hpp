#pragma once
// What a shard shares with the control thread, and nothing else:
//  - ShardStats: counters the shard alone writes and anyone may read;
//  - ShardControl: the control thread's requests to the shard.
// Both are plain atomics: the shard never takes a lock and never waits on the
// control thread. Each lives on its own cache lines.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "net/slot.hpp"

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

struct alignas(64) ShardStats {
    // Every event is generated once and then, exactly once, acked or failed;
    // in flight = generated - acked - failed. The shard bumps generated
    // before anything else, so a reader that loads acked and failed first
    // never sees a negative number in flight.
    Counter events_generated;
    Counter events_acked;
    Counter events_failed;
    Counter events_failed_by_reason[static_cast<int>(net::FailReason::count_)];
    Counter bytes_generated;   // serialized NDJSON bytes, before any compression
    Counter bytes_sent;        // wire bytes of requests that completed (incl. head)
    Counter requests_sent;     // attempts put on the wire
    Counter requests_acked;
    Counter requests_retried;
    Counter requests_failed;
    Counter connects;
    Counter connect_failures;
    Counter zc_notifications;
    Counter zc_copied;
    Counter slots_total;
    Counter slots_busy;        // filling, queued, sending or settling
    Counter latency_ns_sum;    // over acked requests
    std::atomic<ShardPhase> phase{ShardPhase::starting};
    std::atomic<bool> backpressured{false};  // a free slot was wanted and none was there
};

struct alignas(64) ShardControl {
    std::atomic<bool> stop_requested{false};  // stop generating, settle every batch, finish
    std::atomic<bool> paused{false};
    std::atomic<double> rate_eps{0};          // this shard's share; 0 = unlimited
    static_assert(std::atomic<double>::is_always_lock_free);
};

// A shard's fatal start-up or run-time error, set once before phase=failed.
struct ShardError {
    std::mutex mutex;  // control path only
    std::string text;
};

}  // namespace supervent::daemon
