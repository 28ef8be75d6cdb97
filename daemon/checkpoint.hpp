#pragma once
// A backfill's checkpoint: how far each shard's batches are settled, and
// what it takes to make those batches again.
//
// A shard's backfill is deterministic: its engine, given the same compiled
// scenario, seed and shard index, makes the same batches when it is asked for
// the same sizes in the same order and its sources are turned on and off
// between the same batches. So the checkpoint does not store the engine's
// state; it stores the shard's journal (the batch sizes asked for and the
// source toggles, both rare changes) and the settled prefix: batches
// [0, batches) are each acknowledged or failed. A resumed shard replays the
// journal up to there without sending, then goes on from the next batch.
//
// At-least-once: batches settled after the newest checkpoint write (at most
// a checkpoint interval ago), and batches settled out of order beyond the
// prefix, are made and sent again after a resume. None is skipped.
//
// The file is text, one record a line, written whole to PATH.tmp, synced and
// renamed over PATH, so a kill at any moment leaves the old file or the new.
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
    std::vector<SizeRun> sizes;
    std::vector<Toggle> toggles;
    std::uint64_t batches = 0;  // batches [0, batches) are settled
    std::uint64_t events = 0;   // the events in them

    // Drops the entries that only matter for batches from `batches` on.
    void trim_to_settled();
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

[[nodiscard]] std::string checkpoint_text(const Checkpoint& checkpoint);
// Throws std::runtime_error naming `origin` and the line.
[[nodiscard]] Checkpoint parse_checkpoint(std::string_view text, std::string_view origin);

// Before a run starts: the checkpoint must be (or become) a regular file,
// not a symbolic link, in a directory this process can create files in, and
// at most bounds::checkpoint_bytes_max. Throws std::invalid_argument
// ("--checkpoint PATH: why") otherwise: a missing or read-only directory,
// a directory, a FIFO, a device (/dev/zero, /dev/full), a link to any.
// Creates and removes PATH.tmp to prove the writes will work.
void check_checkpoint_path(const std::string& path);

// Why the checkpoint a run resumed from must not be overwritten by `next`,
// or "" when it may: a shard whose settled prefix is behind the one it
// resumed from has not replayed it yet, or refused it (it does not fit the
// run); writing then would throw away what the file records.
[[nodiscard]] std::string resumed_checkpoint_kept(const CheckpointStart& start, const Checkpoint& next);

// nullopt when there is no file at `path`; throws when it cannot be read or
// parsed, is not a regular file, or is larger than bounds::checkpoint_bytes_max.
[[nodiscard]] std::optional<Checkpoint> load_checkpoint(const std::string& path);
// Atomic: PATH.tmp written, fsynced, renamed over PATH, directory fsynced. Throws on failure.
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);

}  // namespace supervent::daemon
