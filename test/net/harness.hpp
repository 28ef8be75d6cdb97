#pragma once
// Drives a Transport the way a shard does, without a shard: a fake
// SlotListener owning a few Slots over a BufferArena registered with a Ring,
// and a loop of on_tick / submit_and_wait / drain / on_completion.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstring>
#include <cstdint>
#include <deque>
#include <string_view>
#include <vector>

#include "core/bounds.hpp"
#include "loopback.hpp"
#include "net/buffer_arena.hpp"
#include "net/ring.hpp"
#include "net/transport.hpp"

namespace supervent::net::test {

// What a slot looked like when the transport settled it.
struct Settled {
    std::uint32_t slot_index = 0;
    Verdict verdict = Verdict::acked;
    FailReason reason = FailReason::none;
    std::uint32_t events = 0;
    std::uint32_t acked_events = 0;
    std::int64_t retry_at_ns = 0;
    std::int64_t now_ns = 0;
    bool kernel_done = false;
    SlotState state = SlotState::free;
    bool attempt_charged = true;
};

struct Unreachable {
    FailReason reason = FailReason::none;
    std::int64_t now_ns = 0;
};

class Harness final : public SlotListener {
public:
    static constexpr std::size_t body_offset_bytes = bounds::http_head_room_bytes;

    // spare_buffers: room in the ring's buffer table for the transport's own
    // (TLS ciphertext), as a shard leaves it.
    explicit Harness(std::uint32_t slot_count = 4, std::size_t body_bytes_max = 64 * 1024,
                     std::uint32_t spare_buffers = bounds::connections_per_shard_max)
        : ring(64), arena(slot_count, body_offset_bytes + body_bytes_max) {
        // As superventd does: a peer closing mid-write must be an error value, not a signal.
        std::signal(SIGPIPE, SIG_IGN);
        ring.register_buffers(arena.iovecs(), spare_buffers);
        slots.resize(slot_count);
        for (std::uint32_t i = 0; i < slot_count; ++i) {
            slots[i].index = i;
            slots[i].data = arena.slot_data(i);
            slots[i].capacity_bytes = arena.slot_bytes();
        }
    }

    void on_slot_settled(Slot& slot, std::int64_t now_ns) override {
        settled.push_back(Settled{slot.index, slot.verdict, slot.reason, slot.events, slot.acked_events,
                                  slot.retry_at_ns, now_ns, slot.kernel_done(), slot.state, slot.attempt_charged});
        slot.attempt_charged = true;
        slot.move_to(SlotState::free);
    }
    std::int64_t on_sink_unreachable(FailReason reason, std::int64_t now_ns) override {
        unreachable.push_back(Unreachable{reason, now_ns});
        return INT64_MAX;  // no batch waiting: the connection's own backoff applies
    }
    Slot& slot_at(std::uint32_t slot_index) override { return slots.at(slot_index); }

    // Writes a batch into a free slot and queues it.
    Slot& queue_batch(std::uint32_t slot_index, std::string_view body, std::uint32_t events) {
        Slot& slot = slots.at(slot_index);
        REQUIRE(slot.state == SlotState::free);
        REQUIRE(body_offset_bytes + body.size() <= slot.capacity_bytes);
        slot.move_to(SlotState::filling);
        slot.move_to(SlotState::queued);
        slot.body_offset = body_offset_bytes;
        slot.body_bytes = body.size();
        std::memcpy(slot.data + slot.body_offset, body.data(), body.size());
        slot.events = events;
        slot.wire_offset = 0;
        slot.wire_bytes = 0;
        queue.push_back(slot_index);
        return slot;
    }

    // Runs the loop until done() or the time limit; false on timeout.
    template <typename Done>
    bool run(Transport& transport, Done&& done, std::int64_t limit_ns = 5'000'000'000) {
        const std::int64_t deadline_ns = monotonic_ns() + limit_ns;
        for (;;) {
            if (done()) return true;
            std::int64_t now_ns = monotonic_ns();
            if (now_ns >= deadline_ns) return false;
            while (!queue.empty() && transport.try_start(slots.at(queue.front()), now_ns)) queue.pop_front();
            transport.on_tick(now_ns, !queue.empty());
            const int result = ring.submit_and_wait(1'000'000);
            REQUIRE(result == 0);
            now_ns = monotonic_ns();
            ring.drain([&](const io_uring_cqe& cqe) {
                const CompletionTag tag = CompletionTag::decode(cqe.user_data);
                ++completions;
                if ((cqe.flags & IORING_CQE_F_MORE) != 0) ++notifications_promised;
                if ((cqe.flags & IORING_CQE_F_NOTIF) != 0) ++notifications;
                transport.on_completion(cqe, tag, now_ns);
            });
        }
    }

    bool run_until_settled(Transport& transport, std::size_t settled_count,
                           std::int64_t limit_ns = 5'000'000'000) {
        return run(transport, [&] { return settled.size() >= settled_count; }, limit_ns);
    }

    // Runs the loop for a while with nothing queued (lets closes be noticed).
    void run_idle(Transport& transport, std::int64_t duration_ns) {
        const std::int64_t until_ns = monotonic_ns() + duration_ns;
        (void)run(transport, [&] { return monotonic_ns() >= until_ns; }, duration_ns + 1'000'000'000);
    }

    Ring ring;
    BufferArena arena;
    std::vector<Slot> slots;
    std::deque<std::uint32_t> queue;
    std::vector<Settled> settled;
    std::vector<Unreachable> unreachable;
    std::uint64_t completions = 0;
    std::uint64_t notifications_promised = 0;  // CQEs with IORING_CQE_F_MORE
    std::uint64_t notifications = 0;           // CQEs with IORING_CQE_F_NOTIF
};

}  // namespace supervent::net::test
