// The compression ratio superventd reports (status, /metrics, the summary):
// body_bytes_uncompressed over body_bytes_compressed, counted by the shard
// for exactly the bodies it compressed, and the frames still decode to
// exactly the events (the sink counts and verifies them).
#include <catch2/catch.hpp>

#include "daemon/stat_table.hpp"
#include "net/zstd_compressor.hpp"
#include "shard_harness.hpp"
#include "sink/server.hpp"

namespace {

using supervent::daemon::Stat;

struct Run {
    std::uint64_t acked = 0;
    std::uint64_t bytes_generated = 0;
    std::uint64_t uncompressed = 0;
    std::uint64_t compressed = 0;
};

Run run_compressed(const supervent::config::Compression& compression, std::uint16_t port, std::uint64_t events) {
    supervent::daemon::ShardPlan plan = supervent::test::http_plan(port, events, 2000);
    plan.compression = compression;
    plan.sink.http.target.content_encoding = "zstd";
    supervent::daemon::ShardStats stats;
    supervent::daemon::ShardControl control;
    supervent::daemon::ShardError error;
    supervent::daemon::Shard shard(plan, stats, control, error);
    shard.run();
    INFO("error: " << error.text);
    return {stats[Stat::events_acked].get(), stats[Stat::bytes_generated].get(), stats[Stat::body_bytes_uncompressed].get(),
            stats[Stat::body_bytes_compressed].get()};
}

}  // namespace

TEST_CASE("compression_ratio is uncompressed over compressed bytes and 0 before any", "[compression]") {
    using supervent::daemon::compression_ratio;
    CHECK(compression_ratio(0, 0) == 0.0);
    CHECK(compression_ratio(1000, 0) == 0.0);
    CHECK(compression_ratio(800, 100) == 8.0);
    CHECK(supervent::daemon::stat_spec(Stat::body_bytes_uncompressed).key == "body_bytes_uncompressed");
}

TEST_CASE("the ratio counters count the bodies the sink decodes exactly", "[compression][shard][http][zstd]") {
    const bool fast = GENERATE(false, true);
    supervent::sink::ServerConfig config;
    config.verify = true;  // every event parsed as JSON by the sink
    supervent::sink::Server sink(config);
    sink.start();
    const Run run = run_compressed(supervent::config::Compression{true, 1, false, fast}, sink.port(), 20'000);
    const auto received = sink.stats();
    sink.stop();
    CHECK(run.acked == 20'000);
    CHECK(received.events == 20'000);
    CHECK(received.invalid_events == 0);
    // Uncompressed: the NDJSON the engine rendered, byte for byte what the sink decoded.
    CHECK(run.uncompressed == run.bytes_generated);
    CHECK(received.bytes_decoded == run.uncompressed);
    // Compressed: the frames, which are the bodies on the wire (no retries here).
    CHECK(received.bytes_wire == run.compressed);
    // web_access compresses well above the floor of 7 at level 1 and zstd:fast.
    CHECK(supervent::daemon::compression_ratio(run.uncompressed, run.compressed) > 7.0);
}

TEST_CASE("without compression the ratio counters stay at zero", "[compression][shard]") {
    supervent::daemon::ShardStats stats;
    supervent::daemon::ShardControl control;
    supervent::daemon::ShardError error;
    supervent::daemon::Shard shard(supervent::test::discard_plan(5'000, 1000), stats, control, error);
    shard.run();
    CHECK(stats[Stat::events_generated].get() == 5'000);
    CHECK(stats[Stat::body_bytes_uncompressed].get() == 0);
    CHECK(stats[Stat::body_bytes_compressed].get() == 0);
}

TEST_CASE("zstd profiles parse, print back and refuse bad keys and values naming them", "[compression][zstd]") {
    using supervent::net::parse_zstd_profile;
    const auto fast = supervent::net::zstd_fast_profile();
    CHECK(fast.level == 1);
    CHECK(supervent::net::zstd_profile_spec(fast) == supervent::net::zstd_fast_profile_spec);
    const auto profile = parse_zstd_profile("level=-3,hlog=12,mml=7,lit=raw");
    CHECK(profile.level == -3);
    CHECK(profile.hash_log == 12);
    CHECK(profile.min_match == 7);
    CHECK(profile.literals == supervent::net::ZstdLiterals::raw);
    CHECK_THROWS_WITH(parse_zstd_profile("hlog=99"), Catch::Contains("zstd hlog 99 is outside"));
    CHECK_THROWS_WITH(parse_zstd_profile("speed=3"), Catch::Contains("'speed' is unknown"));
    CHECK_THROWS_WITH(parse_zstd_profile("mml=x"), Catch::Contains("zstd mml 'x' is not an integer"));
    CHECK_THROWS_WITH(parse_zstd_profile("lit=lz4"), Catch::Contains("zstd lit 'lz4'"));
    // A frame of a tuned profile decodes like any other (the sink's own check above); here the bound holds.
    supervent::net::ZstdCompressor compressor(profile);
    const std::string text(10'000, 'a');
    std::string out(supervent::net::ZstdCompressor::bound_bytes(text.size()), '\0');
    CHECK(compressor.compress(text, out) < 100);
}
