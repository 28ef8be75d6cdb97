#pragma once
// What a checkpointed backfill's shard shares with the control thread: its
// journal (the settled prefix, batch sizes and toggles), which the control
// thread copies into the checkpoint file.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "daemon/checkpoint.hpp"

namespace supervent::daemon {

// A checkpointed backfill's journal as the shard keeps it, for the control
// thread to copy into the checkpoint file. The settled prefix changes with
// every batch: a sequence lock (the shard writes, never waits), all of it
// sequentially consistent so that it needs no fences (which TSan cannot
// follow); four plain atomic stores a batch. Sizes and toggles change
// rarely: under the mutex, appended only.
struct ShardCheckpointShare {
    struct Prefix {
        std::uint64_t batches = 0;
        std::uint64_t events = 0;
    };
    void publish(Prefix prefix) {
        const std::uint64_t s = sequence.load();
        sequence.store(s + 1);  // odd: being written
        batches.store(prefix.batches);
        events.store(prefix.events);
        sequence.store(s + 2);
    }
    [[nodiscard]] Prefix read() const {
        for (;;) {
            const std::uint64_t before = sequence.load();
            const Prefix prefix{batches.load(), events.load()};
            if (before % 2 == 0 && sequence.load() == before) return prefix;
        }
    }
    // The journal as of now: sizes and toggles, and the settled prefix.
    [[nodiscard]] ShardJournal snapshot() {
        ShardJournal journal;
        const Prefix prefix = read();
        journal.batches = prefix.batches;
        journal.events = prefix.events;
        std::lock_guard lock(mutex);
        journal.sizes = sizes;
        journal.toggles = toggles;
        return journal;
    }

    std::atomic<std::uint64_t> sequence{0};
    std::atomic<std::uint64_t> batches{0};
    std::atomic<std::uint64_t> events{0};
    std::mutex mutex;
    std::vector<ShardJournal::SizeRun> sizes;
    std::vector<ShardJournal::Toggle> toggles;
};

}  // namespace supervent::daemon
