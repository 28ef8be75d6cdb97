#pragma once
// Splunk HEC indexer acknowledgement (splunk+http://…?ack=true): the
// batches a worker's channel has had a 2xx for and whose ackId is not yet
// answered true by POST /services/collector/ack.
//
// A held batch keeps its slot (state settling, outcome undecided), so it
// counts as in flight: neither acknowledged nor failed until the poll says
// true (acknowledged) or its ack time runs out (ambiguous: retried, as a
// request cut off after it was sent). Indexed by slot index, fixed at
// start-up: no allocation, no lock (one shard owns it).
//
// A receiver that restarted forgets its ackIds and hands out the same
// numbers again from 0: an ackId already held, or one far below the highest
// seen (more than the requests that can be in flight at once may reorder),
// shows that the batches held from before are lost, and they are given up
// at once instead of being confused with the new batches' ids.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace supervent::net {

struct HecAckConfig {
    bool enabled = false;
    std::int64_t poll_interval_ns = 1'000'000'000;  // per channel (worker)
    std::int64_t timeout_ns = 60'000'000'000;       // from the event POST's answer
};

// Header lines with their X-Splunk-Request-Channel GUID made the worker's
// own: `worker` added (mod 16^4) to its last four hex digits. ackIds are
// numbered per channel, and a worker must poll only for its own.
[[nodiscard]] std::string worker_channel_headers(std::string headers, std::uint32_t worker);

class HecAckTable {
public:
    // slots: slot indices are below this. reorder_window: how many requests
    // may be answered out of ackId order (connections × pipeline depth).
    HecAckTable(std::uint32_t slots, std::uint32_t reorder_window);

    // Holds slot_index until ack_id is answered true. Any held batch this
    // shows lost (see above) is marked; take_lost() hands them out.
    void hold(std::uint32_t slot_index, std::uint64_t ack_id, std::int64_t deadline_ns);
    // The slot held for ack_id, released; -1 when none is.
    [[nodiscard]] std::int64_t release(std::uint64_t ack_id);
    // One held slot lost or past its deadline, released; -1 when none is.
    [[nodiscard]] std::int64_t take_lost(std::int64_t now_ns);
    // Every held slot, released one at a time (the drain deadline); -1 when none.
    [[nodiscard]] std::int64_t take_any();

    [[nodiscard]] std::uint32_t held() const { return held_count_; }
    [[nodiscard]] std::uint32_t slots() const { return slots_; }
    [[nodiscard]] std::int64_t earliest_deadline_ns() const;
    // The poll body {"acks":[id,…]} of every held ackId, into `out`; returns
    // its size. out needs poll_body_bytes_max() bytes.
    std::size_t write_poll_body(char* out) const;
    [[nodiscard]] std::size_t poll_body_bytes_max() const { return 16 + std::size_t{slots_} * 21; }

private:
    struct Entry {
        std::uint64_t ack_id = 0;
        std::int64_t deadline_ns = 0;
        bool lost = false;
    };
    void release_at(std::uint32_t position);

    std::uint32_t slots_;
    std::uint32_t reorder_window_;
    std::unique_ptr<Entry[]> entries_;          // by slot index
    std::unique_ptr<std::uint32_t[]> held_;     // slot indices held, compact
    std::unique_ptr<std::uint32_t[]> position_; // slot index -> place in held_
    std::uint32_t held_count_ = 0;
    std::uint64_t highest_id_ = 0;
    bool any_id_ = false;
};

}  // namespace supervent::net
