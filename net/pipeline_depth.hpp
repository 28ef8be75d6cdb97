#pragma once
// How many requests an HTTP transport keeps in flight per connection
// (HTTP/1.1 pipelining), adapted to the sink's distance. A sink 50 ms away
// answers a connection's 2 requests per round trip at best, whatever the
// CPU could do; the pipeline has to hold a bandwidth-delay product's worth.
//
// Every `period` (at least period_ns_min, and at least one answer per
// request the pipeline may hold) the control compares:
//   bdp = (least latency seen lately) / (time between answers in the period)
// the requests that must be in flight to keep answers coming as fast as they
// do, with the capacity (depth x connections). It deepens when a ready batch
// found every connection full and bdp fills most of the capacity (the
// latency, not the sender, bounds the rate), and grows shallower when bdp
// would fit half of one step less (the sink came nearer).
//
// A busy sink nearby looks the same as a far one (its queue is latency too),
// so each step deeper is a probe, judged a period after the one it started
// in: the answers the extra depth brought are counted in requests'
// worth (d x (rate after / rate before - 1) for a step from depth d). A step
// that brought less than a quarter of a request's worth is taken back and the depth
// holds for hold_ns before probing again (short_hold_ns when the least
// latency did not grow with it: no queue, so the period was noise); one that brought most of what it
// could is kept and the next step doubles the depth (like TCP's slow start:
// a sink 50 ms away wants 8-16 where the pipeline starts at 2, reached in a
// few probes, not a dozen); one in between keeps what paid plus one request
// of margin and the next step is a quarter deeper (at least one). A deep pipeline tries a step
// shallower every down_probe_ns and keeps it unless the rate fell by half of
// what the step could cost. Bounded by depth_max, which the shard's slots
// (allocated at start-up) bound in turn.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/bounds.hpp"

namespace supervent::net {

// The slots a plain-HTTP shard gets for its pipelines, and how deep they can
// then go: the planned slots, fewer when they would pass
// budget_bytes (bounds::http_pipeline_slot_bytes_budget, or less where the
// memlock limit allows less: see memlock_budget_bytes), never under
// bounds::slots_per_connection per connection.
struct PipelineSlots {
    std::uint32_t slots = 0;
    std::uint32_t depth_max = 0;
};
[[nodiscard]] PipelineSlots fit_pipeline_slots(std::uint32_t planned_slots, std::uint32_t connections,
                                               std::size_t slot_bytes,
                                               std::size_t budget_bytes = bounds::http_pipeline_slot_bytes_budget);

// The registered-buffer bytes one of `shards` shards may lock: io_uring
// charges registered buffers to the user's RLIMIT_MEMLOCK unless the process
// has CAP_IPC_LOCK. None when nothing limits it (unlimited, or the
// capability); else three quarters of the limit split between the shards
// (the rest for the rings and other locked memory).
[[nodiscard]] std::optional<std::size_t> memlock_budget_bytes(std::uint32_t shards);

class PipelineDepth {
public:
    static constexpr std::int64_t period_ns_min = 100'000'000;
    static constexpr std::int64_t latency_window_ns = 1'000'000'000;  // the least latency: over 1-2 windows
    static constexpr std::int64_t hold_ns = 10'000'000'000;            // after a step that did not pay
    // ... unless the least latency stayed where it was: more requests in
    // flight that meet no queue mean the distance still bounds the rate, and
    // the step was judged on a noisy period (a sender near its CPU's limit,
    // a burst of new requests): it is tried again soon.
    static constexpr std::int64_t short_hold_ns = 1'000'000'000;
    static constexpr double queue_latency_growth = 1.2;  // least latency x this after a step: a queue
    static constexpr std::int64_t down_probe_ns = 5'000'000'000;

    PipelineDepth(std::uint32_t start, std::uint32_t depth_max, std::uint32_t connections);

    [[nodiscard]] std::uint32_t depth() const { return depth_; }
    [[nodiscard]] std::uint32_t depth_max() const { return depth_max_; }
    // A ready batch found no connection with room at the current depth.
    void note_no_room() { no_room_ = true; }
    // An answer arrived for a request put on a connection at started_ns.
    void on_answer(std::int64_t started_ns, std::int64_t now_ns);

private:
    void end_period(std::int64_t now_ns);
    [[nodiscard]] std::int64_t least_latency_ns() const {
        return previous_min_ns_ < current_min_ns_ ? previous_min_ns_ : current_min_ns_;
    }

    std::uint32_t start_;
    std::uint32_t depth_max_;
    std::uint32_t connections_;
    std::uint32_t depth_;
    // The least latency, in two windows so an old minimum ages out.
    std::int64_t current_min_ns_ = INT64_MAX;
    std::int64_t previous_min_ns_ = INT64_MAX;
    std::int64_t window_start_ns_ = -1;
    // The period being measured.
    std::int64_t period_start_ns_ = -1;
    std::uint32_t period_answers_ = 0;
    std::int64_t period_min_ns_ = INT64_MAX;  // the least latency in the period
    bool no_room_ = false;
    // A probe in progress: the answer rate (per s) before the step deeper;
    // the period right after the step is skipped (its answers are for
    // requests sent before it), the one after that is judged.
    enum class Probe : std::uint8_t { none, settling, judging };
    void step_deeper(double rate, std::int64_t period_min_ns);
    void judge_step(double rate, bool no_room, double bdp, std::int64_t period_min_ns, std::int64_t now_ns);
    [[nodiscard]] bool latency_bound(bool no_room, double bdp) const;
    double rate_before_step_ = 0;
    std::int64_t min_before_step_ns_ = 0;  // the least latency in the period the step was taken
    Probe probe_ = Probe::none;
    bool step_was_down_ = false;
    std::uint32_t depth_before_step_ = 0;
    bool double_next_ = true;  // the next step deeper doubles the depth (slow start)
    std::int64_t hold_until_ns_ = 0;       // no step deeper before
    std::int64_t next_down_probe_ns_ = 0;  // no step shallower (probe) before
};

}  // namespace supervent::net
