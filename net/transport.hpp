#pragma once
// A transport moves filled slots to one sink: HTTP connections, a file, or
// nowhere. The shard owns the slots and the queue; a transport takes one slot
// at a time when it has capacity and reports back through SlotListener.
#include <liburing.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/bounds.hpp"
#include "net/completion_tag.hpp"
#include "net/slot.hpp"

namespace supervent::net {

class SlotListener {
public:
    virtual ~SlotListener() = default;
    // The transport decided the slot's outcome (verdict, reason, acked_events
    // set on the slot) and the kernel no longer holds its buffer.
    virtual void on_slot_settled(Slot& slot, std::int64_t now_ns) = 0;
    // An attempt to reach the sink failed before any slot was sent (e.g.
    // connect refused). The shard charges it to the oldest queued batch, and
    // starts the retry clock of every waiting batch: an unreachable sink
    // fails batches once their retry time is spent, not never.
    // Returns when the oldest queued batch may be tried again (INT64_MAX
    // when none waits): the transport reconnects no later than that, so a
    // batch's attempts follow its retry backoff, not the (longer) reconnect
    // backoff of the connections.
    virtual std::int64_t on_sink_unreachable(FailReason reason, std::int64_t now_ns) = 0;
    // Looks a slot up by index (completion tags carry indices).
    virtual Slot& slot_at(std::uint32_t slot_index) = 0;
};

// The facts of the last failed attempt to reach the sink or have a request
// taken, kept in fixed storage so that the data path can record one without
// allocating, and the control thread can explain it (issue 15: failures are
// logged while they happen).
struct FailureFacts {
    static constexpr std::size_t detail_bytes_max = 200;
    std::uint64_t count = 0;         // failures noted so far on this transport, this one included
    std::int64_t at_ns = 0;          // CLOCK_MONOTONIC
    FailReason reason = FailReason::none;
    std::int32_t http_status = 0;    // the sink's answer; 0 = it did not answer
    std::int32_t error_number = 0;   // errno of the failed socket, connect, send or recv; 0 = none
    std::uint32_t detail_bytes = 0;
    char detail[detail_bytes_max] = {};  // the first bytes of the answer's body, or a TLS cause

    void note(FailReason why, std::int32_t status, std::int32_t error, std::string_view text, std::int64_t now_ns) {
        ++count;
        at_ns = now_ns;
        reason = why;
        http_status = status;
        error_number = error;
        detail_bytes = static_cast<std::uint32_t>(std::min(text.size(), detail_bytes_max));
        if (detail_bytes > 0) std::memcpy(detail, text.data(), detail_bytes);  // an empty view's data() may be null
    }
    [[nodiscard]] std::string_view detail_text() const { return {detail, detail_bytes}; }
};

struct TransportCounters {
    // Wire bytes of acknowledged requests, by local address (--bind) index.
    std::uint64_t bytes_by_local_address[bounds::local_addresses_max] = {};
    std::uint64_t connects = 0;
    std::uint64_t connect_failures = 0;
    std::uint64_t disconnects = 0;
    // Requests cut off after every byte was sent but before an answer (a
    // reset, a close, a timeout): the sink may have taken them, so their
    // retry may duplicate events (or their failure may have been delivered).
    std::uint64_t requests_ambiguous = 0;
    std::uint64_t zc_notifications = 0;
    std::uint64_t zc_copied = 0;  // notifications saying the kernel copied after all
    bool zc_abandoned = false;    // auto mode switched to copying sends
    std::uint64_t pipeline_depth = 0;  // HTTP: requests in flight per connection now (a gauge)
    // Failed attempts (a batch's or a connection's), by reason, and the last one's facts.
    std::uint64_t failures_by_reason[static_cast<int>(FailReason::count_)] = {};
    FailureFacts last_failure;
    void note_failure(FailReason why, std::int32_t status, std::int32_t error, std::string_view text, std::int64_t now_ns) {
        ++failures_by_reason[static_cast<int>(why)];
        last_failure.note(why, status, error, text, now_ns);
    }
};

class Transport {
public:
    virtual ~Transport() = default;
    // Takes the slot and starts sending it, or returns false when there is
    // no capacity right now (the slot stays queued).
    virtual bool try_start(Slot& slot, std::int64_t now_ns) = 0;
    // A completion whose tag this transport issued.
    virtual void on_completion(const io_uring_cqe& cqe, CompletionTag tag, std::int64_t now_ns) = 0;
    // Time-driven work: timeouts, reconnects. `work_waiting` says slots are
    // queued, so idle connections should be (re)opened.
    virtual void on_tick(std::int64_t now_ns, bool work_waiting) = 0;
    // When on_tick next has something to do (INT64_MAX: nothing).
    [[nodiscard]] virtual std::int64_t next_deadline_ns() const = 0;
    // Gives up on every request in flight now (the drain deadline passed):
    // each ends as a retry with reason timeout once the kernel lets go.
    virtual void abort_in_flight(std::int64_t now_ns) = 0;
    // Closes everything; completions still arrive until quiescent().
    virtual void begin_shutdown() = 0;
    [[nodiscard]] virtual bool quiescent() const = 0;
    // Non-empty once the sink refused us for good (bad token, no dataset, quota).
    [[nodiscard]] virtual const std::string& fatal_error() const = 0;
    [[nodiscard]] virtual const TransportCounters& counters() const = 0;
};

}  // namespace supervent::net
