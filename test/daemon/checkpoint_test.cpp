// The checkpoint file: written and read back the same, refused with the file
// and line when it is damaged, saved atomically, and open_checkpoint's rules
// (a live run refused, another run's checkpoint refused, never overwritten).
// And the journal a shard shares with the control thread: a full ring holds
// the settled prefix back, never the shard, and never lets it claim batches
// whose sizes and toggles the control thread has not got.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "config/settings.hpp"
#include "core/scenario_engine.hpp"
#include "daemon/checkpoint.hpp"
#include "daemon/checkpoint_share.hpp"
#include "daemon/daemon.hpp"

using supervent::daemon::Checkpoint;
using supervent::daemon::ShardJournal;
using Catch::Matchers::Contains;

namespace {

Checkpoint sample() {
    Checkpoint c;
    c.fingerprint = "0123456789abcdef";
    c.shards.resize(2);
    c.shards[0].batches = 7;
    c.shards[0].events = 13000;
    c.shards[0].sizes = {{0, 2000}, {5, 500}};
    c.shards[0].toggles = {{3, 1, false}, {6, 1, true}};
    c.shards[0].failed = {{1, 2, 2000, 4000}, {5, 1, 10000, 500}};
    c.shards[1].batches = 6;
    c.shards[1].events = 12000;
    c.shards[1].sizes = {{0, 2000}};
    return c;
}

std::string parse_error(const std::string& text) {
    try {
        (void)supervent::daemon::parse_checkpoint(text, "ck");
    } catch (const std::runtime_error& error) {
        return error.what();
    }
    FAIL("expected an error for:\n" << text);
    return {};
}

std::string temp_dir() {
    const auto dir = std::filesystem::temp_directory_path() / ("supervent-checkpoint-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir.string();
}

supervent::config::Settings backfill_settings() {
    supervent::config::Settings s;
    s.window_start_ns = 1'700'000'000'000'000'000;
    s.window_end_ns = 1'700'086'400'000'000'000;
    s.events = 10000;
    s.workers = 2;
    s.sink = supervent::config::SinkUrl{supervent::config::SinkUrl::Kind::discard, "", 0, "", "", "discard:"};
    return s;
}

}  // namespace

TEST_CASE("a checkpoint reads back as it was written", "[checkpoint]") {
    const Checkpoint c = sample();
    const std::string text = supervent::daemon::checkpoint_text(c);
    CHECK_THAT(text, Contains("supervent checkpoint 2\n") && Contains("shard 0 batches 7 events 13000") &&
                         Contains("toggle 0 3 1 off") && Contains("failed 0 1 2 2000 4000\nfailed 0 5 1 10000 500"));
    CHECK(supervent::daemon::parse_checkpoint(text, "ck") == c);
    Checkpoint done = c;
    done.complete = true;
    CHECK(supervent::daemon::parse_checkpoint(supervent::daemon::checkpoint_text(done), "ck").complete);
}

TEST_CASE("a damaged checkpoint is refused with the file and line", "[checkpoint]") {
    CHECK_THAT(parse_error(""), Contains("ck: empty file"));
    CHECK_THAT(parse_error("hello\n"), Contains("ck:1: not a supervent checkpoint"));
    const std::string whole = "supervent checkpoint 2\nfingerprint ab\nworkers 1\nshard 0 batches 1 events 1\n";
    CHECK_THAT(parse_error(whole.substr(0, whole.find("events"))), Contains("ck:4: \"shard\" takes 5 values"));  // cut short
    const std::string head = "supervent checkpoint 1\nfingerprint ab\nworkers 1\n";
    CHECK_THAT(parse_error(head + "shard 1 batches 1 events 1\n"), Contains("ck:4: shard 1 is past the workers line"));
    CHECK_THAT(parse_error(head + "shard 0 batches x events 1\n"), Contains("ck:4: expected a number, got \"x\""));
    CHECK_THAT(parse_error(head + "size 0 1\n"), Contains("ck:4: \"size\" takes 3 values"));
    CHECK_THAT(parse_error(head + "toggle 0 1 2 maybe\n"), Contains("ck:4: a toggle ends in on or off"));
    CHECK_THAT(parse_error(head + "colour blue\n"), Contains("ck:4: unknown record \"colour\""));
    CHECK_THAT(parse_error("supervent checkpoint 1\nworkers 1\n"), Contains("incomplete checkpoint"));
}

TEST_CASE("a format 1 checkpoint still loads and a newer format is refused by name", "[checkpoint]") {
    // As superventd before failed batches were recorded wrote it.
    const std::string v1 = "supervent checkpoint 1\nfingerprint ab\nworkers 1\ncomplete no\n"
                           "shard 0 batches 4 events 4000\nsize 0 0 1000\n";
    const Checkpoint old = supervent::daemon::parse_checkpoint(v1, "ck");
    CHECK(old.shards.at(0).batches == 4);
    CHECK(old.shards.at(0).failed.empty());
    CHECK_THAT(supervent::daemon::checkpoint_text(old), Contains("supervent checkpoint 2\n"));
    CHECK_THAT(parse_error(v1 + "failed 0 1 1 1000 1000\n"), Contains("ck:7: a format 1 checkpoint has no failed records"));
    CHECK_THAT(parse_error("supervent checkpoint 3\nfingerprint ab\nworkers 1\n"),
               Contains("ck:1: checkpoint format 3, which this superventd does not read (it reads 1 to 2)"));
    CHECK_THAT(parse_error("supervent checkpoint two\n"), Contains("ck:1: not a supervent checkpoint"));
}

TEST_CASE("failed ranges out of order or past the watermark are refused", "[checkpoint]") {
    const std::string head = "supervent checkpoint 2\nfingerprint ab\nworkers 1\nshard 0 batches 10 events 10000\n";
    CHECK_NOTHROW(supervent::daemon::parse_checkpoint(head + "failed 0 2 2 2000 2000\nfailed 0 9 1 9000 1000\n", "ck"));
    CHECK_THAT(parse_error(head + "failed 0 2 2\n"), Contains("ck:5: \"failed\" takes 5 values"));
    CHECK_THAT(parse_error(head + "failed 0 9 2 9000 2000\n"), Contains("shard 0: the failed range from batch 9 goes past the watermark"));
    CHECK_THAT(parse_error(head + "failed 0 5 1 5000 1000\nfailed 0 2 1 2000 1000\n"),
               Contains("the failed range from batch 2 overlaps or comes before the one above it"));
    CHECK_THAT(parse_error(head + "failed 0 2 2 2000 2000\nfailed 0 4 1 4000 1000\n"),
               Contains("the failed range from batch 4 overlaps or comes before"));  // touching: written as one
    CHECK_THAT(parse_error(head + "failed 0 2 0 2000 0\n"), Contains("the failed range from batch 2 is empty"));
    CHECK_THAT(parse_error(head + "failed 0 2 x 2000 0\n"), Contains("ck:5: expected a number, got \"x\""));
}

TEST_CASE("failed ranges beyond the bound move the watermark back to the first that does not fit", "[checkpoint]") {
    constexpr std::uint64_t bound = supervent::bounds::checkpoint_failed_ranges_max;
    ShardJournal j;
    j.batches = 3 * bound + 10;
    j.events = j.batches * 100;
    for (std::uint64_t r = 0; r < bound + 3; ++r) j.failed.push_back({3 * r, 1, 300 * r, 100});
    j.bound_failed();
    CHECK(j.failed.size() == bound);
    CHECK(j.batches == 3 * bound);  // the first range beyond the bound: sent again with all after it
    CHECK(j.events == 300 * bound);
    // A file with more is refused; one with exactly the bound loads.
    Checkpoint c;
    c.fingerprint = "ab";
    c.shards = {j};
    CHECK(supervent::daemon::parse_checkpoint(supervent::daemon::checkpoint_text(c), "ck") == c);
    c.shards[0].failed.push_back({3 * bound, 1, 300 * bound, 100});
    c.shards[0].batches = 3 * bound + 10;
    c.shards[0].events = c.shards[0].batches * 100;
    CHECK_THAT(parse_error(supervent::daemon::checkpoint_text(c)),
               Contains("shard 0: " + std::to_string(bound + 1) + " failed ranges, more than the " + std::to_string(bound)));
}

TEST_CASE("a failed range the watermark cuts lowers the watermark to its start", "[checkpoint]") {
    ShardJournal j;
    j.batches = 6;
    j.events = 600;
    j.failed = {{1, 1, 100, 100}, {4, 3, 400, 300}, {9, 1, 900, 100}};
    j.bound_failed();
    CHECK(j.failed == std::vector<ShardJournal::FailedRange>{{1, 1, 100, 100}});
    CHECK(j.batches == 4);
    CHECK(j.events == 400);
}

TEST_CASE("add_failed_range keeps ranges sorted and merges those that touch", "[checkpoint]") {
    std::vector<ShardJournal::FailedRange> ranges;
    supervent::daemon::add_failed_range(ranges, {10, 2, 1000, 200});
    supervent::daemon::add_failed_range(ranges, {3, 1, 300, 100});
    supervent::daemon::add_failed_range(ranges, {12, 1, 1200, 100});  // after 10..11
    supervent::daemon::add_failed_range(ranges, {9, 1, 900, 100});    // before 10..12
    supervent::daemon::add_failed_range(ranges, {5, 1, 500, 100});
    CHECK(ranges == std::vector<ShardJournal::FailedRange>{{3, 1, 300, 100}, {5, 1, 500, 100}, {9, 4, 900, 400}});
    supervent::daemon::add_failed_range(ranges, {4, 1, 400, 100});  // fills the gap: one range
    CHECK(ranges == std::vector<ShardJournal::FailedRange>{{3, 3, 300, 300}, {9, 4, 900, 400}});
}

TEST_CASE("a resumed shard still sending failed batches again keeps the rest of the resumed file", "[checkpoint]") {
    ShardJournal resumed;
    resumed.batches = 20;
    resumed.events = 2000;
    resumed.sizes = {{0, 100}};
    resumed.toggles = {{3, 0, false}, {4, 0, true}};
    resumed.failed = {{2, 3, 200, 300}, {8, 4, 800, 400}, {15, 1, 1500, 100}};
    // This run has settled batches 0..9: 2..4 delivered, 8 failed again; 9 is in flight.
    ShardJournal current;
    current.batches = 9;
    current.events = 900;
    current.sizes = {{0, 100}};
    current.failed = {{8, 1, 800, 100}};
    const ShardJournal merged = supervent::daemon::resumed_journal(resumed, current);
    CHECK(merged.batches == 20);
    CHECK(merged.events == 2000);
    CHECK(merged.failed == std::vector<ShardJournal::FailedRange>{{8, 4, 800, 400}, {15, 1, 1500, 100}});
    CHECK(merged.sizes == resumed.sizes);
    CHECK(merged.toggles == resumed.toggles);
    // A shard that has not got anywhere (or never started) writes the resumed journal back.
    CHECK(supervent::daemon::resumed_journal(resumed, ShardJournal{}) == resumed);
    // Past the watermark this run's journal is the whole story.
    current.batches = 25;
    current.events = 2500;
    CHECK(supervent::daemon::resumed_journal(resumed, current) == current);
}

TEST_CASE("trim_to_settled keeps what the settled batches need", "[checkpoint]") {
    ShardJournal j = sample().shards[0];
    j.batches = 4;
    j.trim_to_settled();
    CHECK(j.sizes == std::vector<ShardJournal::SizeRun>{{0, 2000}});
    CHECK(j.toggles == std::vector<ShardJournal::Toggle>{{3, 1, false}});
    CHECK(j.failed == std::vector<ShardJournal::FailedRange>{{1, 2, 2000, 4000}});
}

TEST_CASE("save_checkpoint replaces the file whole; load_checkpoint reads it or says there is none", "[checkpoint]") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/ck";
    std::filesystem::remove(path);
    CHECK_FALSE(supervent::daemon::load_checkpoint(path).has_value());
    supervent::daemon::save_checkpoint(path, sample());
    CHECK(supervent::daemon::load_checkpoint(path) == sample());
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
    Checkpoint next = sample();
    next.shards[1].batches = 9;
    supervent::daemon::save_checkpoint(path, next);
    CHECK(supervent::daemon::load_checkpoint(path)->shards[1].batches == 9);
    CHECK_THROWS_WITH(supervent::daemon::save_checkpoint(dir + "/no/such/dir/ck", next), Contains("cannot write the checkpoint"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("open_checkpoint: live runs and other runs' checkpoints are refused", "[checkpoint]") {
    const std::string dir = temp_dir();
    supervent::config::Settings settings = backfill_settings();
    settings.checkpoint_path = dir + "/ck";
    std::filesystem::remove(settings.checkpoint_path);
    const auto scenario = supervent::daemon::compile_run_scenario(settings);
    const auto start = supervent::daemon::open_checkpoint(settings, *scenario, 2);
    CHECK_FALSE(start.found.has_value());
    CHECK(start.fingerprint.size() == 16);

    // The same run finds its own checkpoint; a changed seed, window or worker count does not.
    Checkpoint written;
    written.fingerprint = start.fingerprint;
    written.shards.resize(2);
    supervent::daemon::save_checkpoint(settings.checkpoint_path, written);
    CHECK(supervent::daemon::open_checkpoint(settings, *scenario, 2).resuming());
    CHECK_THROWS_WITH(supervent::daemon::open_checkpoint(settings, *scenario, 3), Contains("was written by another run"));
    supervent::config::Settings reseeded = settings;
    reseeded.seed = 2;
    CHECK_THROWS_WITH(supervent::daemon::open_checkpoint(reseeded, *scenario, 2), Contains("was written by another run"));
    // The rate, sink and connections are not part of the run's batches.
    supervent::config::Settings faster = settings;
    faster.rate_eps = 1000;
    faster.connections = 7;
    CHECK(supervent::daemon::open_checkpoint(faster, *scenario, 2).resuming());

    supervent::config::Settings live = settings;
    live.live = true;
    const auto live_scenario = supervent::daemon::compile_run_scenario(live);
    CHECK_THROWS_WITH(supervent::daemon::open_checkpoint(live, *live_scenario, 2), Contains("only a backfill"));
    std::filesystem::remove_all(dir);
}

namespace {

using supervent::daemon::ShardCheckpointShare;
constexpr std::uint64_t events_per_batch = 10;
constexpr std::uint64_t ring = ShardCheckpointShare::ring_entries;
constexpr std::uint64_t backlog = ShardCheckpointShare::backlog_entries;

ShardCheckpointShare::Prefix at(std::uint64_t batch) { return {batch, batch * events_per_batch}; }

// The shard's side of batches [from, to): each asks for a size of its own
// and is settled as soon as it is made.
void make_batches(ShardCheckpointShare& share, std::uint64_t from, std::uint64_t to) {
    for (std::uint64_t batch = from; batch < to; ++batch) {
        share.journal_size(at(batch), 1000 + static_cast<std::uint32_t>(batch));
        share.publish(at(batch + 1));
    }
}

// The journal holds every size run its settled batches need (one a batch, in order).
void check_replayable(const ShardJournal& journal) {
    REQUIRE(journal.sizes.size() >= journal.batches);
    for (std::uint64_t batch = 0; batch < journal.batches; ++batch) {
        REQUIRE(journal.sizes[batch] == ShardJournal::SizeRun{batch, 1000 + static_cast<std::uint32_t>(batch)});
    }
    CHECK(journal.events == journal.batches * events_per_batch);
}

}  // namespace

TEST_CASE("a full journal ring holds the settled prefix back until the control thread drains it", "[checkpoint]") {
    auto share = std::make_unique<ShardCheckpointShare>();  // 12 KiB: not on the stack
    make_batches(*share, 0, ring + 10);
    CHECK(share->backlog_size() == 10);
    ShardJournal journal = share->snapshot();
    CHECK(journal.batches == ring);  // the first change the control thread could not see
    check_replayable(journal);
    // The ring has room again: the next publish moves the backlog in and the prefix on.
    share->publish(at(ring + 10));
    CHECK(share->backlog_size() == 0);
    journal = share->snapshot();
    CHECK(journal.batches == ring + 10);
    check_replayable(journal);
    CHECK_FALSE(share->journal_lost());
}

TEST_CASE("a journal change that finds ring and backlog full stops the prefix below it for good", "[checkpoint]") {
    auto share = std::make_unique<ShardCheckpointShare>();
    make_batches(*share, 0, ring + backlog + 5);
    CHECK(share->journal_lost());
    CHECK(share->backlog_size() == backlog);
    CHECK(share->snapshot().batches == ring);
    ShardJournal journal;
    for (int drain = 0; drain < 3; ++drain) {
        share->publish(at(ring + backlog + 5));
        journal = share->snapshot();
    }
    CHECK(journal.batches == ring + backlog);  // the batch of the first change dropped
    check_replayable(journal);
    make_batches(*share, ring + backlog + 5, ring + backlog + 20);
    journal = share->snapshot();
    CHECK(journal.batches == ring + backlog);
    CHECK(journal.sizes.size() == ring + backlog);
}

TEST_CASE("a resumed shard's journal goes on from its seed", "[checkpoint]") {
    auto share = std::make_unique<ShardCheckpointShare>();
    CHECK(share->snapshot() == ShardJournal{});
    share->seed({{0, 500}, {3, 700}}, {{2, 1, false}, {5, 1, true}});
    share->publish(at(5));
    share->journal_size(at(5), 900);
    share->journal_toggle(at(6), 1, false);
    share->publish(at(7));
    const ShardJournal journal = share->snapshot();
    CHECK(journal.sizes == std::vector<ShardJournal::SizeRun>{{0, 500}, {3, 700}, {5, 900}});
    CHECK(journal.toggles == std::vector<ShardJournal::Toggle>{{2, 1, false}, {5, 1, true}, {6, 1, false}});
    CHECK(journal.batches == 7);
    CHECK(journal.events == 70);
}

// Run under TSan by CI: the shard and the control thread as they really run.
TEST_CASE("the journal's shard and control thread sides run side by side", "[checkpoint]") {
    auto share = std::make_unique<ShardCheckpointShare>();
    constexpr std::uint64_t batches = 100'000;
    constexpr std::uint64_t size_every = 32, toggle_every = 256;
    std::atomic<bool> done{false};
    std::thread shard([&] {
        for (std::uint64_t batch = 0; batch < batches; ++batch) {
            if (batch % size_every == 0) share->journal_size(at(batch), static_cast<std::uint32_t>(batch));
            if (batch % toggle_every == 0) share->journal_toggle(at(batch), 0, batch / toggle_every % 2 == 1);
            share->publish(at(batch + 1));
        }
        done.store(true);
    });
    std::uint64_t last = 0;
    bool finished = false;
    while (!finished) {
        finished = done.load();  // before the snapshot: the last one sees all the shard did
        const ShardJournal journal = share->snapshot();
        // Never a prefix without the changes it needs; never one that goes back.
        REQUIRE(journal.batches >= last);
        REQUIRE(journal.sizes.size() >= (journal.batches + size_every - 1) / size_every);
        REQUIRE(journal.toggles.size() >= (journal.batches + toggle_every - 1) / toggle_every);
        REQUIRE(journal.events == journal.batches * events_per_batch);
        last = journal.batches;
    }
    shard.join();
    // What the shard left in its backlog goes in with its next publish.
    share->publish(at(batches));
    const ShardJournal journal = share->snapshot();
    if (!share->journal_lost()) CHECK(journal.batches == batches);
    CHECK(journal.sizes.size() >= (journal.batches + size_every - 1) / size_every);
}

namespace {

// The failed batches a snapshot records, one by one.
std::vector<std::uint64_t> failed_batches_of(const ShardJournal& journal) {
    std::vector<std::uint64_t> batches;
    for (const auto& range : journal.failed) {
        for (std::uint64_t b = range.from; b < range.end(); ++b) batches.push_back(b);
    }
    return batches;
}

}  // namespace

TEST_CASE("failed batches reach the snapshot as ranges below the prefix", "[checkpoint]") {
    auto share = std::make_unique<ShardCheckpointShare>();
    share->journal_size(at(0), 10);
    // Batches 0..9 made; 2, 3, 4 fail in order, 7 and 6 out of order; the rest are acknowledged.
    for (const std::uint64_t b : {2, 3, 4, 7, 6}) share->fail(at(b), events_per_batch);
    share->publish(at(10));
    ShardJournal journal = share->snapshot();
    CHECK(journal.batches == 10);
    CHECK(journal.failed == std::vector<ShardJournal::FailedRange>{{2, 3, 20, 30}, {6, 2, 60, 20}});
    CHECK(journal.failed_events() == 50);
    // The open range grows in later snapshots without being counted twice.
    share->fail(at(8), events_per_batch);
    share->publish(at(10));
    journal = share->snapshot();
    CHECK(failed_batches_of(journal) == std::vector<std::uint64_t>{2, 3, 4, 6, 7, 8});
    // A failure at or past the prefix is not written (a resume sends it with everything after the watermark).
    share->fail(at(12), events_per_batch);
    share->publish(at(11));
    journal = share->snapshot();
    CHECK(journal.batches == 11);
    CHECK(failed_batches_of(journal) == std::vector<std::uint64_t>{2, 3, 4, 6, 7, 8});
    share->publish(at(13));
    CHECK(failed_batches_of(share->snapshot()) == std::vector<std::uint64_t>{2, 3, 4, 6, 7, 8, 12});
}

TEST_CASE("a range read open and then found closed in the ring counts once", "[checkpoint]") {
    auto share = std::make_unique<ShardCheckpointShare>();
    share->fail(at(3), events_per_batch);
    share->publish(at(5));
    CHECK(share->snapshot().failed == std::vector<ShardJournal::FailedRange>{{3, 1, 30, 10}});
    // The shard closes it (into the ring) and opens the next, not yet published:
    // the sequence lock still says 3 is open, the ring has it closed.
    share->fail(at(5), events_per_batch);
    CHECK(share->snapshot().failed == std::vector<ShardJournal::FailedRange>{{3, 1, 30, 10}});
    share->publish(at(6));
    CHECK(share->snapshot().failed == std::vector<ShardJournal::FailedRange>{{3, 1, 30, 10}, {5, 1, 50, 10}});
}

TEST_CASE("a failure the full ring cannot take holds the prefix below it for good", "[checkpoint]") {
    auto share = std::make_unique<ShardCheckpointShare>();
    // Every other batch fails: each failure closes the open range into the ring.
    std::uint64_t batch = 0;
    for (; batch < 2 * (ring + 2); batch += 2) share->fail(at(batch), events_per_batch);
    CHECK(share->journal_lost());
    share->publish(at(batch));
    ShardJournal journal = share->snapshot();
    // The ring held `ring` closed ranges and one stayed open; the next failure was dropped.
    CHECK(journal.batches == 2 * (ring + 1));
    CHECK(journal.failed.size() == ring + 1);
    share->publish(at(batch + 100));
    CHECK(share->snapshot().batches == 2 * (ring + 1));
}

TEST_CASE("the failed ranges' shard and control thread sides run side by side", "[checkpoint]") {
    auto share = std::make_unique<ShardCheckpointShare>();
    constexpr std::uint64_t batches = 100'000;
    std::atomic<bool> done{false};
    // Runs of three batches fail, the rest are acknowledged.
    const auto fails = [](std::uint64_t b) { return b % 128 < 3; };  // 782 ranges: within the bound
    std::thread shard([&] {
        for (std::uint64_t b = 0; b < batches; ++b) {
            if (fails(b)) share->fail(at(b), events_per_batch);
            share->publish(at(b + 1));
        }
        done.store(true);
    });
    bool finished = false;
    ShardJournal journal;
    while (!finished) {
        finished = done.load();
        journal = share->snapshot();
        // Every failure below the watermark recorded, nothing else.
        std::uint64_t next = 0;
        for (const auto& range : journal.failed) {
            for (; next < range.from; ++next) REQUIRE_FALSE(fails(next));
            for (; next < range.end(); ++next) REQUIRE(fails(next));
        }
        for (; next < journal.batches; ++next) REQUIRE_FALSE(fails(next));
        REQUIRE(journal.events == journal.batches * events_per_batch);
    }
    shard.join();
    if (!share->journal_lost()) CHECK(journal.batches == batches);
}
