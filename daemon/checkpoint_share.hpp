#pragma once
// What a checkpointed backfill's shard shares with the control thread: its
// journal (the settled prefix, batch sizes and toggles), which the control
// thread copies into the checkpoint file. The shard writes it on its data
// path, so its side takes no lock, allocates nothing and never waits.
#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "core/bounds.hpp"
#include "daemon/checkpoint.hpp"

namespace supervent::daemon {

// A checkpointed backfill's journal as the shard keeps it, for the control
// thread to copy into the checkpoint file.
//
// The settled prefix changes with every batch: a sequence lock (the shard
// writes, never waits), all of it sequentially consistent so that it needs no
// fences (which TSan cannot follow); four plain atomic stores a batch.
//
// Sizes and toggles change rarely (a size run per rate change and for a
// budget's last batch, a toggle per `sources` command: in practice none to a
// few per checkpoint interval). They go through a single-producer
// single-consumer ring of fixed capacity, which snapshot() drains into the
// control thread's own vectors.
//
// The rule that makes it safe: the published prefix never passes a change
// the control thread cannot see. Replaying batch b needs every change whose
// batch is <= b, so a prefix P needs every change with batch < P. A change is
// made with the batch it applies to (the next one the shard makes), so
// changes come in batch order, and one that finds the ring full waits on the
// shard in a backlog (fixed capacity, FIFO) and holds the prefix at its
// batch; it goes into the ring, oldest first, as soon as the control thread
// has made room, and the prefix moves on with the next publish. The shard
// puts a change into the ring before it publishes a prefix beyond it, and
// snapshot() reads the prefix before it reads the ring: a snapshot that sees
// prefix P sees every change P needs (all sequentially consistent, so TSan
// follows it). Should the backlog overflow too (a script hammering the
// control socket faster than the control thread drains), the change is
// dropped and the prefix stays below its batch for the rest of the run: a
// resume then sends those batches again (at least once still holds) rather
// than replaying a journal with a hole in it.
class ShardCheckpointShare {
public:
    struct Prefix {
        std::uint64_t batches = 0;
        std::uint64_t events = 0;  // made in batches [0, batches)
    };
    static constexpr std::uint32_t ring_entries = bounds::checkpoint_journal_ring_entries;
    static constexpr std::uint32_t backlog_entries = bounds::checkpoint_journal_backlog_entries;

    // ---- the shard's side (one thread)

    // Start-up only (allocates): a resumed run's journal of the settled
    // batches and the toggles it starts with, before anything else is
    // journaled or published.
    void seed(std::vector<ShardJournal::SizeRun> sizes, std::vector<ShardJournal::Toggle> toggles);
    // A change from batch `at.batches` on; `at.events` events came before it.
    void journal_size(Prefix at, std::uint32_t max_events) { journal({at.batches, at.events, max_events, 0, false, false}); }
    void journal_toggle(Prefix at, std::uint16_t source, bool enabled) {
        journal({at.batches, at.events, 0, source, true, enabled});
    }
    // The shard's settled prefix, held back to the oldest change the control
    // thread cannot see yet. Cheap when nothing changed.
    void publish(Prefix settled);
    // For tests: changes waiting on the shard, and whether one was dropped.
    [[nodiscard]] std::uint32_t backlog_size() const { return backlog_count_; }
    [[nodiscard]] bool journal_lost() const { return lost_; }

    // ---- the control thread's side (one thread)

    [[nodiscard]] Prefix read() const {
        for (;;) {
            const std::uint64_t before = sequence_.load();
            const Prefix prefix{batches_.load(), events_.load()};
            if (before % 2 == 0 && sequence_.load() == before) return prefix;
        }
    }
    // The journal as of now: sizes and toggles, and the settled prefix.
    [[nodiscard]] ShardJournal snapshot();

private:
    struct Change {
        std::uint64_t batch = 0;
        std::uint64_t events_before = 0;
        std::uint32_t max_events = 0;  // a size run
        std::uint16_t source = 0;      // a toggle
        bool toggle = false;
        bool enabled = false;
    };
    static_assert((ring_entries & (ring_entries - 1)) == 0, "ring indices wrap by a mask");

    void journal(const Change& change);
    bool flush_backlog();
    void store_prefix(Prefix prefix);

    // Written by the shard, read by the control thread.
    alignas(64) std::atomic<std::uint64_t> sequence_{0};
    std::atomic<std::uint64_t> batches_{0};
    std::atomic<std::uint64_t> events_{0};
    std::atomic<std::uint64_t> head_{0};   // changes put into the ring, ever
    std::atomic<bool> seeded_{false};      // seed_sizes_ and seed_toggles_ are written
    std::array<Change, ring_entries> ring_{};
    std::vector<ShardJournal::SizeRun> seed_sizes_;
    std::vector<ShardJournal::Toggle> seed_toggles_;

    // Written by the control thread, read by the shard.
    alignas(64) std::atomic<std::uint64_t> tail_{0};  // changes taken out of the ring, ever

    // The shard's own.
    alignas(64) std::array<Change, backlog_entries> backlog_{};
    std::uint32_t backlog_first_ = 0;
    std::uint32_t backlog_count_ = 0;
    bool lost_ = false;
    Prefix lost_at_;      // the first change dropped (when lost_)
    Prefix published_;    // as last stored

    // The control thread's own: the changes taken out of the ring so far.
    alignas(64) std::vector<ShardJournal::SizeRun> sizes_;
    std::vector<ShardJournal::Toggle> toggles_;
    bool seed_taken_ = false;
};

}  // namespace supervent::daemon
