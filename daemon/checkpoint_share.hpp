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
//
// Failed batches: the shard gathers consecutive ones into an open range,
// which it publishes with the prefix under the same sequence lock (so a
// snapshot that sees a prefix sees every failure the open range holds below
// it), and puts a range into the ring when a failure that does not extend it
// opens the next one. A range never waits in the backlog: one the ring has no
// room for stays open, and the failure that could not open a new one is
// dropped like a change, the prefix stopping below it for good. So a range
// is in the ring before another is stored open, and a snapshot that sees the
// new open range sees the old one in the ring. The control thread keeps the
// ranges from the ring, merged, up to one past
// bounds::checkpoint_failed_ranges_max (ShardJournal::bound_failed), and adds
// the open one to each snapshot.
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
    void journal_size(Prefix at, std::uint32_t max_events) {
        journal({at.batches, at.events, max_events, 0, Change::Kind::size, false});
    }
    void journal_toggle(Prefix at, std::uint16_t source, bool enabled) {
        journal({at.batches, at.events, 0, source, Change::Kind::toggle, enabled});
    }
    // Batch `at.batches`, of `events` events, failed for good (`at.events`
    // events came before it). Call publish() next.
    void fail(Prefix at, std::uint32_t events);
    // The shard's settled prefix, held back to the oldest change the control
    // thread cannot see yet. Cheap when nothing changed.
    void publish(Prefix settled);
    // For tests: changes waiting on the shard, and whether one was dropped.
    [[nodiscard]] std::uint32_t backlog_size() const { return backlog_count_; }
    [[nodiscard]] bool journal_lost() const { return lost_; }

    // ---- the control thread's side (one thread)

    [[nodiscard]] Prefix read() const { return read_state().prefix; }
    // The journal as of now: sizes and toggles, and the settled prefix.
    [[nodiscard]] ShardJournal snapshot();
    // The shard took over the journal it resumed with (seed() ran): false
    // until its start-up replay got that far, and for good when it refused
    // the checkpoint.
    [[nodiscard]] bool seeded() const { return seeded_.load(std::memory_order_acquire); }

private:
    struct Change {
        enum class Kind : std::uint8_t { size, toggle, failed };
        std::uint64_t batch = 0;
        std::uint64_t events_before = 0;
        std::uint32_t max_events = 0;  // a size run
        std::uint16_t source = 0;      // a toggle
        Kind kind = Kind::size;
        bool enabled = false;
        std::uint64_t count = 0;       // a failed range: its batches from `batch` on
        std::uint64_t events = 0;      // and their events
    };
    // What the sequence lock guards: the prefix and the open failed range.
    struct State {
        Prefix prefix;
        ShardJournal::FailedRange open;  // count 0: none
    };
    [[nodiscard]] State read_state() const {
        for (;;) {
            const std::uint64_t before = sequence_.load();
            State state;
            state.prefix = {batches_.load(), events_.load()};
            state.open = {open_from_.load(), open_count_.load(), open_events_before_.load(), open_events_.load()};
            if (before % 2 == 0 && sequence_.load() == before) return state;
        }
    }
    static_assert((ring_entries & (ring_entries - 1)) == 0, "ring indices wrap by a mask");

    void journal(const Change& change);
    bool flush_backlog();
    void store_state(Prefix prefix);
    void lose(Prefix at);

    // Written by the shard, read by the control thread.
    alignas(64) std::atomic<std::uint64_t> sequence_{0};
    std::atomic<std::uint64_t> batches_{0};
    std::atomic<std::uint64_t> events_{0};
    std::atomic<std::uint64_t> open_from_{0};
    std::atomic<std::uint64_t> open_count_{0};
    std::atomic<std::uint64_t> open_events_before_{0};
    std::atomic<std::uint64_t> open_events_{0};
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
    Prefix lost_at_;      // the lowest change or failure dropped (when lost_)
    Prefix published_;    // as last stored
    ShardJournal::FailedRange open_;  // the open failed range (count 0: none)
    bool open_stored_ = true;         // open_ is as last stored

    // The control thread's own: the changes taken out of the ring so far.
    alignas(64) std::vector<ShardJournal::SizeRun> sizes_;
    std::vector<ShardJournal::Toggle> toggles_;
    std::vector<ShardJournal::FailedRange> failed_;  // sorted, apart; at most one past the bound
    bool seed_taken_ = false;
};

}  // namespace supervent::daemon
