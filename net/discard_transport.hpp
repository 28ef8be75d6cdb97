#pragma once
// `discard:` — every batch is acknowledged as soon as it is generated, so a
// run measures the generator alone.
#include <string>

#include "net/transport.hpp"

namespace supervent::net {

class DiscardTransport final : public Transport {
public:
    explicit DiscardTransport(SlotListener& listener) : listener_(listener) {}

    bool try_start(Slot& slot, std::int64_t now_ns) override {
        slot.wire_offset = slot.body_offset;
        slot.wire_bytes = slot.body_bytes;
        slot.send_started_ns = now_ns;
        // Sent and answered at once: the same path as any other transport's.
        slot.move_to(SlotState::sending);
        slot.move_to(SlotState::settling);
        slot.verdict = Verdict::acked;
        slot.reason = FailReason::none;
        slot.acked_events = slot.events;
        listener_.on_slot_settled(slot, now_ns);
        return true;
    }
    void on_completion(const io_uring_cqe&, CompletionTag, std::int64_t) override {}
    void on_tick(std::int64_t, bool) override {}
    [[nodiscard]] std::int64_t next_deadline_ns() const override { return INT64_MAX; }
    void abort_in_flight(std::int64_t) override {}
    void begin_shutdown() override {}
    [[nodiscard]] bool quiescent() const override { return true; }
    [[nodiscard]] const std::string& fatal_error() const override { return no_error_; }
    [[nodiscard]] const TransportCounters& counters() const override { return counters_; }

private:
    SlotListener& listener_;
    std::string no_error_;
    TransportCounters counters_;
};

}  // namespace supervent::net
