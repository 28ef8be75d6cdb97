#pragma once
// A send slot: one registered buffer holding one batch (HTTP head + body).
//
//   free → filling → queued → sending → settling → free (acked or failed)
//    ▲ ▲      │        │ ▲                   │
//    │ └──────┘        │ └────── retry ──────┘
//    │ (no batch)      │
//    └─────────────────┘ (failed unsent)
//
// Besides the main line: filling → free when the engine had no batch to give
// (a backfill that is complete), and queued → free when a batch that waits is
// failed without being sent (its retries used up while the sink was
// unreachable, a fatal sink error, the drain deadline after a stop).
//
// A slot leaves `settling` only when its outcome is decided AND the kernel has
// let go of the buffer: every send completion and every zero-copy
// notification has arrived. Reusing it earlier could put new bytes on the wire
// under an old request.
#include <cassert>
#include <cstddef>
#include <cstdint>

namespace supervent::net {

enum class SlotState : std::uint8_t { free, filling, queued, sending, settling };

// The transitions drawn above, and no others.
[[nodiscard]] constexpr bool slot_transition_legal(SlotState from, SlotState to) {
    switch (from) {
        case SlotState::free: return to == SlotState::filling;
        case SlotState::filling: return to == SlotState::queued || to == SlotState::free;
        case SlotState::queued: return to == SlotState::sending || to == SlotState::free;
        case SlotState::sending: return to == SlotState::settling;
        case SlotState::settling: return to == SlotState::free || to == SlotState::queued;
    }
    return false;
}

// Why a batch (or an attempt at it) did not succeed. Stable: used as metric
// labels and in status.
enum class FailReason : std::uint8_t {
    none,
    connect,        // could not connect to the sink
    transport,      // connection reset/closed while a request was outstanding
    timeout,        // no complete response in time
    bad_response,   // the peer's reply was not valid HTTP
    server_error,   // 5xx
    rate_limited,   // 429
    quota,          // 430: monthly ingest quota used up
    rejected,       // other 4xx (401/403/404/413 …): not retried
    partial,        // 2xx whose body reported failed events
    io,             // file sink write error
    drain_timeout,  // still in flight when the drain deadline after a stop passed
    count_          // number of reasons
};

[[nodiscard]] constexpr const char* fail_reason_name(FailReason reason) {
    switch (reason) {
        case FailReason::none: return "none";
        case FailReason::connect: return "connect";
        case FailReason::transport: return "transport";
        case FailReason::timeout: return "timeout";
        case FailReason::bad_response: return "bad_response";
        case FailReason::server_error: return "server_error";
        case FailReason::rate_limited: return "rate_limited";
        case FailReason::quota: return "quota";
        case FailReason::rejected: return "rejected";
        case FailReason::partial: return "partial";
        case FailReason::io: return "io";
        case FailReason::drain_timeout: return "drain_timeout";
        case FailReason::count_: break;
    }
    return "unknown";
}

// How an attempt ended, as decided by the transport.
enum class Verdict : std::uint8_t {
    acked,     // the sink took it (acked_events may be < events: the rest failed)
    retry,     // try again after a backoff (5xx, 429, transport error)
    failed,    // give up on the whole batch (non-retryable)
};

struct Slot {
    std::uint32_t index = 0;  // also its registered buffer index
    SlotState state = SlotState::free;
    char* data = nullptr;     // start of the registered buffer
    std::size_t capacity_bytes = 0;

    // The batch: body at data + body_offset; the HTTP head (if any) ends at
    // the body; the wire bytes are [wire_offset, wire_offset + wire_bytes).
    std::size_t body_offset = 0;
    std::size_t body_bytes = 0;
    std::size_t wire_offset = 0;
    std::size_t wire_bytes = 0;
    std::uint32_t events = 0;
    std::uint16_t route = 0;  // which dataset (request path) the batch goes to; see HttpTransportConfig

    // Retry bookkeeping.
    std::uint32_t attempts = 0;         // attempts that ended without success
    // A retry verdict is this batch's own failure (false: it was pipelined
    // behind a request that failed, and never had its answer's turn). Read
    // and reset to true by the listener.
    bool attempt_charged = true;
    std::int64_t not_before_ns = 0;     // backoff: do not send before this
    std::int64_t send_started_ns = 0;   // for the latency histogram

    // Kernel hold on the buffer.
    std::uint32_t sends_outstanding = 0;  // send/write SQEs without their result CQE
    std::uint32_t notifs_outstanding = 0; // zero-copy notifications still to come

    // The decided outcome while settling.
    bool outcome_decided = false;
    Verdict verdict = Verdict::acked;
    FailReason reason = FailReason::none;
    std::uint32_t acked_events = 0;
    std::int64_t retry_at_ns = 0;         // earliest retry the sink asked for (429)

    // Every change of `state` goes through here, so an illegal one is caught
    // where it happens rather than as a corrupted batch later.
    void move_to(SlotState next) {
        assert(slot_transition_legal(state, next));
        state = next;
    }
    [[nodiscard]] bool kernel_done() const { return sends_outstanding == 0 && notifs_outstanding == 0; }
    [[nodiscard]] const char* wire_data() const { return data + wire_offset; }
};

}  // namespace supervent::net
