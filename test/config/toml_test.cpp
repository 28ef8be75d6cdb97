#include <catch2/catch.hpp>

#include "config/load.hpp"
#include "toml_text.hpp"
#include "temp_file.hpp"

using supervent::config::ConfigError;
using supervent::config::load_toml_file;
using supervent::config::load_toml_text;
using supervent::config::Settings;
using supervent::config::SinkUrl;
using supervent::config::ZeroCopyMode;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Catch::Matchers::StartsWith;

namespace {

Settings load(std::string_view text) { return supervent::test::load_toml_as(text, "test.toml"); }

std::string error_of(std::string_view text) { return supervent::test::toml_error_as(text, "test.toml"); }

}  // namespace

TEST_CASE("every key is read", "[toml]") {
    const auto settings = load(R"(
[runtime]
workers = 3
batch_events = 500
pin_threads = false
socket = "/run/supervent/control.sock"

[network]
connections = 8
zero_copy = "off"
tcp_nodelay = false

[generation]
rate = 25000
events = 1000000
duration = 90
seed = 42
scenario = "web_access"

[sink]
url = "http://[::1]:9000/axiom"
dataset = "load-test_1.a"
token_file = "/etc/supervent/token"

[monitoring]
progress = true
progress_interval_ms = 250
)");
    CHECK(settings.workers == 3);
    CHECK(settings.batch_events == 500);
    CHECK_FALSE(settings.pin_threads);
    CHECK(settings.socket_path == "/run/supervent/control.sock");
    CHECK(settings.connections == 8);
    CHECK(settings.zero_copy == ZeroCopyMode::off);
    CHECK_FALSE(settings.tcp_nodelay);
    REQUIRE(settings.rate_eps);
    CHECK(*settings.rate_eps == 25000);
    CHECK(settings.events == 1000000);
    CHECK(settings.duration_s == 90);
    CHECK(settings.seed == 42);
    CHECK(settings.scenario == "web_access");
    CHECK(settings.sink.kind == SinkUrl::Kind::http);
    CHECK(settings.sink.host == "::1");
    CHECK(settings.sink.port == 9000);
    CHECK(settings.sink.path_prefix == "/axiom");
    CHECK(settings.dataset == "load-test_1.a");
    CHECK(settings.token_file == "/etc/supervent/token");
    CHECK(settings.token.empty());
    CHECK(settings.progress);
    CHECK(settings.progress_interval_ms == 250);
}

TEST_CASE("an empty file changes nothing and keys not given keep the base", "[toml]") {
    const Settings defaults;
    const auto empty = load("");
    CHECK(empty.workers == defaults.workers);
    CHECK(empty.sink.text == "http://127.0.0.1:8080");
    CHECK(empty.dataset == "supervent");

    Settings base;
    base.seed = 7;
    base.dataset = "from-base";
    const auto settings = load_toml_text("[generation]\nevents = 5\n", "test.toml", base);
    CHECK(settings.seed == 7);
    CHECK(settings.dataset == "from-base");
    CHECK(settings.events == 5);
}

TEST_CASE("inline tables and dotted keys are the same sections", "[toml]") {
    const auto settings = load("runtime = { workers = 2 }\ngeneration.seed = 9\n");
    CHECK(settings.workers == 2);
    CHECK(settings.seed == 9);
}

TEST_CASE("rate is an integer or float or unlimited", "[toml]") {
    CHECK(*load("[generation]\nrate = 5e4\n").rate_eps == 50000);
    CHECK(*load("[generation]\nrate = 0.5\n").rate_eps == 0.5);
    Settings limited;
    limited.rate_eps = 10;
    CHECK_FALSE(load_toml_text("[generation]\nrate = \"unlimited\"\n", "t", limited).rate_eps);
    CHECK_THAT(error_of("[generation]\nrate = 0\n"),
               Contains("test.toml:2: generation.rate: expected a positive number or 'unlimited' (the range is 0.01 to 1000000000000 events/s, or 'unlimited'), got 0"));
    CHECK_THAT(error_of("[generation]\nrate = -3\n"), Contains("generation.rate: expected a positive number"));
    CHECK_THAT(error_of("[generation]\nrate = \"fast\"\n"), Contains("got 'fast'"));
    CHECK_THAT(error_of("[generation]\nrate = nan\n"), Contains("generation.rate"));
    CHECK_THAT(error_of("[generation]\nrate = true\n"), Contains("got a boolean"));
}

TEST_CASE("duration is seconds or a duration string", "[toml]") {
    CHECK(load("[generation]\nduration = 30\n").duration_s == 30);
    CHECK(load("[generation]\nduration = 1.5\n").duration_s == 1.5);
    CHECK(load("[generation]\nduration = \"30s\"\n").duration_s == 30);
    CHECK(load("[generation]\nduration = \"5m\"\n").duration_s == 300);
    CHECK(load("[generation]\nduration = \"1h\"\n").duration_s == 3600);
    CHECK(load("[generation]\nduration = \"1h30m\"\n").duration_s == 5400);
    CHECK(load("[generation]\nduration = \"250ms\"\n").duration_s == Approx(0.25));
    CHECK_THAT(error_of("[generation]\nduration = \"5 minutes\"\n"),
               Contains("test.toml:2: generation.duration: expected seconds or a duration such as 30s"));
    CHECK_THAT(error_of("[generation]\nduration = -1\n"), Contains("non-negative"));
    CHECK_THAT(error_of("[generation]\nduration = \"5d\"\n"), Contains("got '5d'"));
}

TEST_CASE("unknown keys name the key path and its line", "[toml]") {
    const auto message = error_of("[runtime]\nworkers = 2\n\nwokers = 3\n");
    CHECK_THAT(message, StartsWith("test.toml:4: runtime.wokers: unknown key (did you mean 'workers'?)"));
    CHECK_THAT(message, Contains("[runtime] accepts workers, batch_events, batch_bytes, pin_threads, drain_timeout, socket, socket_group, "
                                "socket_allowed_uids, socket_allowed_gids and watch_config"));
}

TEST_CASE("unknown sections name the section and its line", "[toml]") {
    const auto message = error_of("[runtime]\nworkers = 1\n[runtimes]\nx = 1\n");
    CHECK_THAT(message, StartsWith("test.toml:3: runtimes: unknown section (did you mean 'runtime'?)"));
    CHECK_THAT(message, Contains("expected one of runtime, network, generation, sink, monitoring, sources or scenario"));
    CHECK_THAT(error_of("top_level = 1\n"), StartsWith("test.toml:1: top_level: unknown section"));
    CHECK_THAT(error_of("runtime = 5\n"), Contains("test.toml:1: runtime: expected a section [runtime]"));
}

TEST_CASE("wrong types name what was expected and what was found", "[toml]") {
    CHECK_THAT(error_of("[runtime]\nworkers = \"4\"\n"),
               Contains("test.toml:2: runtime.workers: expected a whole number, got a string"));
    CHECK_THAT(error_of("[runtime]\npin_threads = \"yes\"\n"),
               Contains("runtime.pin_threads: expected true or false, got a string"));
    CHECK_THAT(error_of("[sink]\ndataset = 5\n"), Contains("sink.dataset: expected a string, got an integer"));
    CHECK_THAT(error_of("[runtime]\nbatch_events = 1.5\n"), Contains("got a floating-point number"));
    CHECK_THAT(error_of("[network]\nzero_copy = true\n"), Contains("network.zero_copy: expected a string"));
    CHECK_THAT(error_of("[network]\nzero_copy = \"maybe\"\n"), Contains("expected 'auto', 'on' or 'off'"));
}

TEST_CASE("out-of-range values give the range", "[toml]") {
    CHECK_THAT(error_of("[runtime]\nbatch_events = 0\n"),
               Contains("runtime.batch_events: must be from 1 to 10000, got 0"));
    CHECK_THAT(error_of("[runtime]\nbatch_events = 10001\n"), Contains("must be from 1 to 10000"));
    CHECK_THAT(error_of("[runtime]\nworkers = 257\n"), Contains("runtime.workers: must be from 0 to 256"));
    CHECK_THAT(error_of("[network]\nconnections = 0\n"), Contains("network.connections: must be from 1 to 64"));
    CHECK_THAT(error_of("[network]\nconnections = 65\n"), Contains("must be from 1 to 64"));
    CHECK_THAT(error_of("[network]\npipeline_depth_max = 33\n"), Contains("network.pipeline_depth_max: must be from 1 to 32"));
    CHECK_THAT(error_of("[generation]\nseed = -1\n"), Contains("generation.seed: must not be negative"));
    CHECK_THAT(error_of("[generation]\nevents = -5\n"), Contains("generation.events: must not be negative"));
    CHECK_THAT(error_of("[monitoring]\nprogress_interval_ms = 5\n"), Contains("must be from 100 to 3600000"));
    CHECK_THAT(error_of("[runtime]\nsocket = \"/" + std::string(200, 's') + "\"\n"),
               Contains("runtime.socket: socket path is 201 bytes"));
}

TEST_CASE("dataset names follow the rules", "[toml]") {
    CHECK_THAT(error_of("[sink]\ndataset = \"\"\n"), Contains("sink.dataset: dataset name must not be empty"));
    CHECK_THAT(error_of("[sink]\ndataset = \"my data\"\n"), Contains("found ' ' at position 3"));
    CHECK_THAT(error_of("[sink]\ndataset = \"a/b\"\n"), Contains("letters, digits, '.', '_' and '-'"));
    const std::string longest(supervent::bounds::dataset_name_bytes_max, 'd');
    CHECK(load("[sink]\ndataset = \"" + longest + "\"\n").dataset == longest);
    CHECK_THAT(error_of("[sink]\ndataset = \"" + longest + "d\"\n"), Contains("at most 128"));
}

TEST_CASE("bad sink URLs are reported at their line", "[toml]") {
    CHECK_THAT(error_of("[sink]\n\nurl = \"ftp://x\"\n"), StartsWith("test.toml:3: sink.url: unsupported sink URL"));
}

TEST_CASE("a literal token is refused without echoing it", "[toml]") {
    const auto message = error_of("[sink]\ntoken = \"xaat-secret-value\"\n");
    CHECK_THAT(message, StartsWith("test.toml:2: sink.token: the token must not be written into the config file"));
    CHECK_THAT(message, Contains("AXIOM_TOKEN") && Contains("token_file") && Contains("credential"));
    CHECK_THAT(message, !Contains("xaat-secret-value"));
}

TEST_CASE("every problem is reported in line order", "[toml]") {
    const auto message = error_of("[sink]\ndataset = \"\"\n[runtime]\nbatch_events = 0\nwokers = 1\n");
    CHECK_THAT(message, Contains("test.toml:2: sink.dataset"));
    CHECK_THAT(message, Contains("\ntest.toml:4: runtime.batch_events"));
    CHECK_THAT(message, Contains("\ntest.toml:5: runtime.wokers"));
    CHECK(message.find(":2:") < message.find(":4:"));
    CHECK(message.find(":4:") < message.find(":5:"));
}

TEST_CASE("syntax errors give line and column", "[toml]") {
    CHECK_THAT(error_of("[runtime]\nworkers = 1\nbatch_events = \n"), StartsWith("test.toml:3:16: "));
    CHECK_THAT(error_of("[runtime]\nworkers = 1\nworkers = 2\n"), StartsWith("test.toml:3:"));
    CHECK_THAT(error_of("[runtime\n"), StartsWith("test.toml:1:"));
}

TEST_CASE("file errors name the file and a missing file says so", "[toml]") {
    const supervent::test::TempDir dir;
    const auto good = dir.write("good.toml", "[generation]\nseed = 3\n");
    const auto settings = load_toml_file(good);
    CHECK(settings.seed == 3);
    CHECK(settings.config_path == good);

    const auto bad = dir.write("bad.toml", "[generation]\nsed = 3\n");
    CHECK_THROWS_WITH(load_toml_file(bad), StartsWith(bad + ":2: generation.sed: unknown key"));

    const auto missing = dir.path() + "/missing.toml";
    CHECK_THROWS_WITH(load_toml_file(missing),
                      Equals(missing + ": cannot open config file: No such file or directory"));
    CHECK_THROWS_WITH(load_toml_file(dir.path()), Contains("cannot read config file"));
}

TEST_CASE("timeouts take seconds or duration strings and must be positive", "[toml]") {
    const auto settings = supervent::config::load_toml_text(
        "[runtime]\ndrain_timeout = \"2m\"\n[network]\nconnect_timeout = 0.5\nrequest_timeout = \"1500ms\"\n", "t.toml");
    CHECK(settings.drain_timeout_s == Approx(120));
    CHECK(settings.connect_timeout_s == Approx(0.5));
    CHECK(settings.request_timeout_s == Approx(1.5));
    CHECK_THROWS_WITH(supervent::config::load_toml_text("[network]\nrequest_timeout = 0\n", "t.toml"),
                      Catch::Contains("t.toml:2: network.request_timeout") && Catch::Contains("greater than 0"));
    CHECK_THROWS_WITH(supervent::config::load_toml_text("[runtime]\ndrain_timeout = true\n", "t.toml"),
                      Catch::Contains("runtime.drain_timeout"));
}

TEST_CASE("compression is none, zstd or zstd:LEVEL", "[toml]") {
    CHECK_FALSE(load_toml_text("[sink]\ncompression = \"none\"\n", "t.toml").compression.zstd);
    const auto plain = load_toml_text("[sink]\ncompression = \"zstd\"\n", "t.toml").compression;
    CHECK(plain.zstd);
    CHECK(plain.level == 1);
    CHECK(plain.zstd_fast);  // plain zstd is the tuned level 1
    const auto tuned = load_toml_text("[sink]\ncompression = \"zstd:fast\"\n", "t.toml").compression;
    CHECK((tuned.zstd && tuned.zstd_fast && tuned.level == 1));
    CHECK_FALSE(load_toml_text("[sink]\ncompression = \"zstd:1\"\n", "t.toml").compression.zstd_fast);
    const auto fast = load_toml_text("[sink]\ncompression = \"zstd:-5\"\n", "t.toml").compression;
    CHECK(fast.zstd);
    CHECK(fast.level == -5);
    CHECK(load_toml_text("[sink]\ncompression = \"zstd:19\"\n", "t.toml").compression.level == 19);
    for (const char* bad : {"zstd:0", "zstd:20", "zstd:-8", "zstd:x", "zstd:", "gzip:10", "brotli", "ZSTD"}) {
        CAPTURE(bad);
        CHECK_THROWS_WITH(load_toml_text(std::string("[sink]\ncompression = \"") + bad + "\"\n", "t.toml"),
                          Contains("t.toml:2: sink.compression"));
    }
}

TEST_CASE("network.bind takes a list or one string of addresses and interface names", "[toml]") {
    CHECK(load_toml_text("[network]\nbind = [\"127.0.0.2\", \"eth1\"]\n", "t.toml").bind ==
          std::vector<std::string>{"127.0.0.2", "eth1"});
    CHECK(load_toml_text("[network]\nbind = \"10.0.0.1,10.0.0.2\"\n", "t.toml").bind ==
          std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
    CHECK(load_toml_text("[network]\nbind = []\n", "t.toml").bind.empty());
    CHECK_THROWS_WITH(load_toml_text("[network]\nbind = [\"a b\"]\n", "t.toml"), Contains("t.toml:2: network.bind"));
    CHECK_THROWS_WITH(load_toml_text("[network]\nbind = 5\n", "t.toml"), Contains("network.bind"));
    CHECK_THROWS_WITH(load_toml_text("[network]\nbind = \"a,,b\"\n", "t.toml"), Contains("network.bind"));
}

TEST_CASE("generation.start and end take RFC 3339 times", "[toml]") {
    const auto settings = load_toml_text(
        "[generation]\nstart = \"2026-01-01T00:00:00Z\"\nend = \"2026-01-01T01:30:00.25+01:00\"\n", "t.toml");
    REQUIRE(settings.window_start_ns);
    REQUIRE(settings.window_end_ns);
    CHECK(*settings.window_start_ns == 1'767'225'600'000'000'000);
    CHECK(*settings.window_end_ns == 1'767'225'600'000'000'000 + 1'800'000'000'000 + 250'000'000);
    CHECK(load_toml_text("[generation]\nstart = \"2024-02-29T12:00:00Z\"\n", "t.toml").window_start_ns ==
          1'709'208'000'000'000'000);
    for (const char* bad : {"2026-02-30T00:00:00Z", "2026-01-01 00:00:00", "2026-01-01T00:00:00", "yesterday",
                            "2026-01-01T24:00:00Z", "2026-01-01T00:00:00.Z"}) {
        CAPTURE(bad);
        CHECK_THROWS_WITH(load_toml_text(std::string("[generation]\nstart = \"") + bad + "\"\n", "t.toml"),
                          Contains("t.toml:2: generation.start") && Contains("RFC 3339"));
    }
    // Beyond what nanoseconds since 1970 hold in 64 bits: refused, not overflowed (fuzz_yaml found 8707).
    for (const char* far : {"8707-12-09T11:00:00Z", "2262-04-12T00:00:00Z", "1600-01-01T00:00:00Z"}) {
        CAPTURE(far);
        CHECK_THROWS_WITH(load_toml_text(std::string("[generation]\nend = \"") + far + "\"\n", "t.toml"),
                          Contains("t.toml:2: generation.end") && Contains("1678 to 2262"));
    }
    CHECK(load_toml_text("[generation]\nend = \"2262-01-01T00:00:00Z\"\n", "t.toml").window_end_ns ==
          9'214'646'400'000'000'000);
}
