#pragma once
// A backfill's checkpoint: how far each shard's batches are settled, and
// what it takes to make those batches again.
//
// A shard's backfill is deterministic: its engine, given the same compiled
// scenario, seed and shard index, makes the same batches when it is asked for
// the same sizes in the same order and its sources are turned on and off
// between the same batches. So the checkpoint does not store the engine's
// state; it stores the shard's journal (the batch sizes asked for and the
// source toggles, both rare changes), the watermark and the batches below it
// that failed: batches [0, batches) are each acknowledged, except those in
// `failed`. A resumed shard replays the journal up to the watermark, making
// every batch again in order (the engine's state depends on each) but
// sending only the failed ones; then it goes on from the watermark.
//
// Exactly once for what a run settled and recorded: no acknowledged batch
// below the watermark is sent again, no failed one is skipped. At least once
// for the rest: batches settled after the newest checkpoint write (at most a
// checkpoint interval ago), and batches settled out of order beyond the
// watermark, are made and sent again after a resume. None is skipped.
//
// The failed batches are kept as ranges of consecutive batches, at most
// bounds::checkpoint_failed_ranges_max a shard. Beyond that the watermark
// stops at the first range that does not fit: a resume sends that range and
// everything after it again, as format 1 did from the first failed batch.
//
// The file is text, one record a line, written whole to PATH.tmp, synced and
// renamed over PATH, so a kill at any moment leaves the old file or the new.
// Format 2 (this one) adds `failed` records; a format 1 file (no failed
// batches: its watermark stopped at the first) still loads as it is.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace supervent::core {
struct CompiledScenario;
}

namespace supervent::daemon {

struct ShardJournal {
    struct SizeRun {
        std::uint64_t from_batch = 0;  // this size holds from this batch on
        std::uint32_t max_events = 0;
        bool operator==(const SizeRun&) const = default;
    };
    struct Toggle {
        std::uint64_t at_batch = 0;    // applied before this batch is made
        std::uint16_t source = 0;
        bool enabled = true;
        bool operator==(const Toggle&) const = default;
    };
    // Batches [from, from + count) failed; `events_before` events were made
    // before `from`, `events` in the range.
    struct FailedRange {
        std::uint64_t from = 0;
        std::uint64_t count = 0;
        std::uint64_t events_before = 0;
        std::uint64_t events = 0;
        [[nodiscard]] std::uint64_t end() const { return from + count; }
        bool operator==(const FailedRange&) const = default;
    };
    std::vector<SizeRun> sizes;
    std::vector<Toggle> toggles;
    std::vector<FailedRange> failed;  // sorted, apart (never adjacent), all below `batches`
    std::uint64_t batches = 0;  // the watermark: batches [0, batches) are settled
    std::uint64_t events = 0;   // the events in them, the failed ones too

    // Drops the entries that only matter for batches from `batches` on; a
    // failed range that crosses it lowers the watermark to its start.
    void trim_to_settled();
    // Caps `failed` at bounds::checkpoint_failed_ranges_max ranges: the
    // watermark drops to the first range beyond, which a resume then sends
    // with everything after it.
    void bound_failed();
    [[nodiscard]] std::uint64_t failed_events() const;
    [[nodiscard]] std::uint64_t failed_batches() const;
    bool operator==(const ShardJournal&) const = default;
};

struct Checkpoint {
    std::string fingerprint;  // run_fingerprint() of the run that wrote it
    // --shard: the part of the run it records ("part I N" line; none = 0/1).
    std::uint32_t part_index = 0;
    std::uint32_t part_count = 1;
    bool complete = false;    // every batch of the backfill settled
    std::vector<ShardJournal> shards;
    bool operator==(const Checkpoint&) const = default;
};

// What a run starts from: its checkpoint file, the run's fingerprint, and
// the checkpoint found there (written by this same run, or nothing).
struct CheckpointStart {
    std::string path;
    std::string fingerprint;
    std::uint32_t part_index = 0;  // --shard I/N of this run
    std::uint32_t part_count = 1;
    std::optional<Checkpoint> found;
    [[nodiscard]] bool resuming() const { return found && !found->complete; }
    [[nodiscard]] bool complete() const { return found && found->complete; }
};

// Reads settings.checkpoint_path for a run of `workers` shards. Throws
// std::invalid_argument for a live run (nothing to resume), for a path the
// checkpoint cannot live at (check_checkpoint_path), when the file holds
// another part's checkpoint (--shard) or another run's (it is never
// overwritten).
[[nodiscard]] CheckpointStart open_checkpoint(const config::Settings& settings, const core::CompiledScenario& scenario,
                                              std::uint32_t workers);

// What makes a run's batches: the scenario and its resolved window, seed,
// workers, batch limits and format. Not the sink, rate, connections or
// compression, which a resumed run may change.
[[nodiscard]] std::string run_fingerprint(const config::Settings& settings, const core::CompiledScenario& scenario,
                                          std::uint32_t workers);

// Adds a failed range to a sorted list of apart ranges, merging it with its
// neighbours when they touch; for the control thread and the tests.
void add_failed_range(std::vector<ShardJournal::FailedRange>& ranges, const ShardJournal::FailedRange& range);

[[nodiscard]] std::string checkpoint_text(const Checkpoint& checkpoint);
// Throws std::runtime_error naming `origin` and the line: a damaged file, one
// of another format (a newer superventd's), failed ranges out of order,
// overlapping, beyond the watermark or more than the bound.
[[nodiscard]] Checkpoint parse_checkpoint(std::string_view text, std::string_view origin);

// Before a run starts: the checkpoint must be (or become) a regular file,
// not a symbolic link, in a directory this process can create files in, and
// at most bounds::checkpoint_bytes_max. Throws std::invalid_argument
// ("--checkpoint PATH: why") otherwise: a missing or read-only directory,
// a directory, a FIFO, a device (/dev/zero, /dev/full), a link to any.
// Creates and removes PATH.tmp to prove the writes will work.
void check_checkpoint_path(const std::string& path);

// Why the checkpoint a run resumed from must not be overwritten by `next`,
// or "" when it may: a shard whose watermark is behind the one it resumed
// from (after resumed_journal, only one whose failed ranges went past the
// bound); writing then would throw away what the file records.
[[nodiscard]] std::string resumed_checkpoint_kept(const CheckpointStart& start, const Checkpoint& next);

// A resumed shard's journal for the file while this run is still below the
// watermark it resumed from (`current.batches` < `resumed.batches`): the
// resumed watermark, the failures this run recorded below where it has got
// to, and the resumed failed ranges from there on, which it has still to send
// (a range it is inside of cut there). At or past the watermark: `current`.
// So a run stopped while it sends failed batches again records those it
// delivered.
[[nodiscard]] ShardJournal resumed_journal(const ShardJournal& resumed, ShardJournal current);

// nullopt when there is no file at `path`; throws when it cannot be read or
// parsed, is not a regular file, or is larger than bounds::checkpoint_bytes_max.
[[nodiscard]] std::optional<Checkpoint> load_checkpoint(const std::string& path);
// Atomic: PATH.tmp written, fsynced, renamed over PATH, directory fsynced. Throws on failure.
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);

}  // namespace supervent::daemon
