// The checkpoint file: written and read back the same, refused with the file
// and line when it is damaged, saved atomically, and open_checkpoint's rules
// (a live run refused, another run's checkpoint refused, never overwritten).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/settings.hpp"
#include "core/scenario_engine.hpp"
#include "daemon/checkpoint.hpp"
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
    CHECK_THAT(text, Contains("shard 0 batches 7 events 13000") && Contains("toggle 0 3 1 off"));
    CHECK(supervent::daemon::parse_checkpoint(text, "ck") == c);
    Checkpoint done = c;
    done.complete = true;
    CHECK(supervent::daemon::parse_checkpoint(supervent::daemon::checkpoint_text(done), "ck").complete);
}

TEST_CASE("a damaged checkpoint is refused with the file and line", "[checkpoint]") {
    CHECK_THAT(parse_error(""), Contains("ck: empty file"));
    CHECK_THAT(parse_error("hello\n"), Contains("ck:1: not a supervent checkpoint"));
    const std::string head = "supervent checkpoint 1\nfingerprint ab\nworkers 1\n";
    CHECK_THAT(parse_error(head + "shard 1 batches 1 events 1\n"), Contains("ck:4: shard 1 is past the workers line"));
    CHECK_THAT(parse_error(head + "shard 0 batches x events 1\n"), Contains("ck:4: expected a number, got \"x\""));
    CHECK_THAT(parse_error(head + "size 0 1\n"), Contains("ck:4: \"size\" takes 3 values"));
    CHECK_THAT(parse_error(head + "toggle 0 1 2 maybe\n"), Contains("ck:4: a toggle ends in on or off"));
    CHECK_THAT(parse_error(head + "colour blue\n"), Contains("ck:4: unknown record \"colour\""));
    CHECK_THAT(parse_error("supervent checkpoint 1\nworkers 1\n"), Contains("incomplete checkpoint"));
}

TEST_CASE("trim_to_settled keeps what the settled batches need", "[checkpoint]") {
    ShardJournal j = sample().shards[0];
    j.batches = 4;
    j.trim_to_settled();
    CHECK(j.sizes == std::vector<ShardJournal::SizeRun>{{0, 2000}});
    CHECK(j.toggles == std::vector<ShardJournal::Toggle>{{3, 1, false}});
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
