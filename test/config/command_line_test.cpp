#include <catch2/catch.hpp>

#include <vector>

#include "config/load.hpp"
#include "fake_env.hpp"
#include "temp_file.hpp"

using supervent::config::ConfigError;
using supervent::config::EarlyExit;
using supervent::config::resolve_daemon_settings;
using supervent::config::Settings;
using supervent::config::SinkUrl;
using supervent::config::ZeroCopyMode;
using supervent::test::FakeEnv;
using supervent::test::TempDir;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Catch::Matchers::StartsWith;

namespace {

std::variant<Settings, EarlyExit> run(std::vector<const char*> args, const FakeEnv& env = {}) {
    args.insert(args.begin(), "superventd");
    return resolve_daemon_settings(static_cast<int>(args.size()), args.data(), env.get());
}

Settings settings_of(std::vector<const char*> args) { return std::get<Settings>(run(std::move(args))); }

std::string error_of(std::vector<const char*> args) {
    try {
        (void)run(std::move(args));
    } catch (const ConfigError& error) {
        return error.what();
    }
    FAIL("expected a ConfigError");
    return {};
}

}  // namespace

TEST_CASE("no options give the defaults with a local sink", "[cli]") {
    const auto settings = settings_of({});
    CHECK(settings.sink.kind == SinkUrl::Kind::http);
    CHECK(settings.sink.host == "127.0.0.1");
    CHECK(settings.sink.port == 8080);
    CHECK(settings.dataset == "supervent");
    CHECK_FALSE(settings.rate_eps);
    CHECK(settings.events == 0);
    CHECK(settings.workers == 0);
    CHECK(settings.pin_threads);
    CHECK(settings.token.empty());
    CHECK(settings.config_path.empty());
    CHECK_FALSE(settings.check_config_only);
}

TEST_CASE("every option is read in the form --opt value", "[cli]") {
    const auto settings =
        settings_of({"--sink", "file:/tmp/out.ndjson", "--dataset", "logs", "--rate", "1000", "--events", "5000",
                     "--duration", "10", "--seed", "77", "--workers", "4", "--socket", "/tmp/s.sock",
                     "--check-config", "--batch-events", "100", "--connections", "3", "--zero-copy", "on",
                     "--progress", "--no-pin"});
    CHECK(settings.sink.kind == SinkUrl::Kind::file);
    CHECK(settings.sink.file_path == "/tmp/out.ndjson");
    CHECK(settings.dataset == "logs");
    CHECK(*settings.rate_eps == 1000);
    CHECK(settings.events == 5000);
    CHECK(settings.duration_s == 10);
    CHECK(settings.seed == 77);
    CHECK(settings.workers == 4);
    CHECK(settings.socket_path == "/tmp/s.sock");
    CHECK(settings.check_config_only);
    CHECK(settings.batch_events == 100);
    CHECK(settings.connections == 3);
    CHECK(settings.zero_copy == ZeroCopyMode::on);
    CHECK(settings.progress);
    CHECK_FALSE(settings.pin_threads);
}

TEST_CASE("every option is read in the form --opt=value", "[cli]") {
    const auto settings = settings_of({"--sink=stdout:", "--dataset=a.b", "--rate=2.5e3", "--events=9",
                                       "--duration=5m", "--seed=0", "--workers=1", "--socket=", "--batch-events=1",
                                       "--connections=64", "--zero-copy=off", "--pipeline-max=16"});
    CHECK(settings.sink.kind == SinkUrl::Kind::stdout_stream);
    CHECK(settings.dataset == "a.b");
    CHECK(*settings.rate_eps == 2500);
    CHECK(settings.events == 9);
    CHECK(settings.duration_s == 300);
    CHECK(settings.seed == 0);
    CHECK(settings.workers == 1);
    CHECK(settings.socket_path.empty());
    CHECK(settings.batch_events == 1);
    CHECK(settings.connections == 64);
    CHECK(settings.zero_copy == ZeroCopyMode::off);
    CHECK(settings.pipeline_depth_max == 16);
}

TEST_CASE("the command line overrides the config file wherever --config stands", "[cli]") {
    const TempDir dir;
    const auto config = dir.write("c.toml",
                                  "[generation]\nseed = 5\nrate = 100\n[sink]\ndataset = \"from-file\"\n"
                                  "url = \"discard:\"\n[runtime]\nworkers = 2\n");
    for (const auto& args : {std::vector<const char*>{"--config", config.c_str(), "--seed", "9", "--rate=unlimited"},
                             std::vector<const char*>{"--seed", "9", "--rate=unlimited", "--config", config.c_str()}}) {
        const auto settings = settings_of(args);
        CHECK(settings.seed == 9);
        CHECK_FALSE(settings.rate_eps);
        CHECK(settings.dataset == "from-file");
        CHECK(settings.sink.kind == SinkUrl::Kind::discard);
        CHECK(settings.workers == 2);
        CHECK(settings.config_path == config);
    }
    const std::string config_option = "--config=" + config;
    CHECK(settings_of({"--workers", "7", config_option.c_str()}).workers == 7);
}

TEST_CASE("later options win over earlier ones", "[cli]") {
    CHECK(settings_of({"--seed", "1", "--seed", "2"}).seed == 2);
}

TEST_CASE("bad numbers are refused with the option and the value", "[cli]") {
    CHECK_THAT(error_of({"--rate", "abc"}), Equals("--rate: expected a positive number or 'unlimited' (the range is 0.01 to 1000000000000 events/s, or 'unlimited'), got 'abc'"));
    CHECK_THAT(error_of({"--rate", "0"}), Contains("--rate: expected a positive number"));
    CHECK_THAT(error_of({"--rate", "-5"}), Contains("--rate: expected a positive number"));
    CHECK_THAT(error_of({"--rate", "inf"}), Contains("--rate:"));
    CHECK_THAT(error_of({"--rate", "1e13"}), Contains("the range is 0.01 to 1000000000000 events/s, or 'unlimited'"));
    CHECK_THAT(error_of({"--workers", "x"}), Equals("--workers: expected a whole number from 0 to 256, got 'x'"));
    CHECK_THAT(error_of({"--workers", "300"}), Equals("--workers: must be from 0 to 256, got 300"));
    CHECK_THAT(error_of({"--batch-events", "0"}), Contains("--batch-events: must be from 1 to 10000"));
    CHECK_THAT(error_of({"--connections=65"}), Contains("--connections: must be from 1 to 64"));
    CHECK_THAT(error_of({"--pipeline-max", "0"}), Contains("--pipeline-max: must be from 1 to 32"));
    CHECK_THAT(error_of({"--events", "-1"}), Contains("--events: expected a non-negative whole number, got '-1'"));
    CHECK_THAT(error_of({"--events", "1.5"}), Contains("--events: expected a non-negative whole number"));
    CHECK_THAT(error_of({"--seed", " 1"}), Contains("--seed: expected a non-negative whole number"));
    CHECK_THAT(error_of({"--seed", "99999999999999999999999"}), Contains("--seed:") && Contains("too large"));
    CHECK_THAT(error_of({"--events="}), Contains("--events: expected a non-negative whole number, got ''"));
    CHECK_THAT(error_of({"--zero-copy", "yes"}), Contains("--zero-copy: expected 'auto', 'on' or 'off'"));
    CHECK_THAT(error_of({"--dataset", "a b"}), StartsWith("--dataset: dataset name may only contain"));
    CHECK_THAT(error_of({"--sink", "ftp://x"}), StartsWith("--sink: unsupported sink URL"));
}

TEST_CASE("durations in seconds or with units", "[cli]") {
    CHECK(settings_of({"--duration", "30"}).duration_s == 30);
    CHECK(settings_of({"--duration", "0.5"}).duration_s == 0.5);
    CHECK(settings_of({"--duration", "30s"}).duration_s == 30);
    CHECK(settings_of({"--duration", "5m"}).duration_s == 300);
    CHECK(settings_of({"--duration", "2h"}).duration_s == 7200);
    CHECK(settings_of({"--duration", "1m30s"}).duration_s == 90);
    CHECK(settings_of({"--duration", "1500ms"}).duration_s == Approx(1.5));
    CHECK(settings_of({"--duration", "0"}).duration_s == 0);
    for (const auto* bad : {"abc", "5x", "m", "-3", "5 m", "", "1e3"}) {
        CAPTURE(bad);
        CHECK_THAT(error_of({"--duration", bad}), StartsWith("--duration: expected seconds or a duration"));
    }
    CHECK_THAT(error_of({"--duration", "99999999999"}), Contains("too long"));
}

TEST_CASE("rate is a number or unlimited", "[cli]") {
    CHECK(*settings_of({"--rate", "50000"}).rate_eps == 50000);
    CHECK(*settings_of({"--rate", "0.25"}).rate_eps == 0.25);
    CHECK_FALSE(settings_of({"--rate", "unlimited"}).rate_eps);
}

TEST_CASE("unknown options and stray arguments and wrong arity are errors", "[cli]") {
    CHECK_THAT(error_of({"--rat", "5"}), StartsWith("unknown option '--rat' (did you mean '--rate'?)"));
    CHECK_THAT(error_of({"--frobnicate"}), Equals("unknown option '--frobnicate'; see superventd --help"));
    CHECK_THAT(error_of({"stray"}), StartsWith("unexpected argument 'stray'"));
    CHECK_THAT(error_of({"-x"}), StartsWith("unexpected argument '-x'"));
    CHECK_THAT(error_of({"--progress=yes"}), Equals("--progress: takes no value"));
    CHECK_THAT(error_of({"--sink"}), Equals("--sink: needs a value (URL)"));
    CHECK_THAT(error_of({"--sink", "--dataset", "x"}), Equals("--sink: needs a value (URL)"));
}

TEST_CASE("config option: given once and its errors name the file", "[cli]") {
    const TempDir dir;
    const auto bad = dir.write("bad.toml", "[runtime]\nworkers = -1\n");
    CHECK_THAT(error_of({"--config", bad.c_str()}), StartsWith(bad + ":2: runtime.workers: must not be negative"));
    const auto missing = dir.path() + "/none.toml";
    CHECK_THAT(error_of({"--config", missing.c_str()}), Contains("none.toml: cannot open config file"));
    const auto good = dir.write("good.toml", "");
    CHECK_THAT(error_of({"--config", good.c_str(), "--config", good.c_str()}), Contains("more than once"));
    CHECK_THAT(error_of({"--config="}), Contains("--config: needs a file name"));
}

TEST_CASE("help and version exit early", "[cli]") {
    const auto help = run({"--help"});
    REQUIRE(std::holds_alternative<EarlyExit>(help));
    const auto& text = std::get<EarlyExit>(help).text;
    CHECK_THAT(text, StartsWith("Usage: superventd"));
    for (const auto* option : {"--config FILE", "--sink URL", "--dataset NAME", "--rate N|unlimited", "--events N",
                               "--duration TIME", "--seed N", "--workers N", "--socket PATH", "--check-config",
                               "--batch-events N", "--connections N", "--zero-copy auto|on|off",
                               "--token-file FILE", "--progress", "--no-pin", "--help", "--version", "AXIOM_TOKEN",
                               "CREDENTIALS_DIRECTORY", "file:PATH", "stdout:", "discard:", "https://"}) {
        CAPTURE(option);
        CHECK_THAT(text, Contains(option));
    }
    CHECK(std::holds_alternative<EarlyExit>(run({"-h"})));
    // Help wins over other options, even ones with bad values.
    CHECK(std::holds_alternative<EarlyExit>(run({"--rate", "abc", "--help"})));

    const auto version = run({"--version"});
    REQUIRE(std::holds_alternative<EarlyExit>(version));
    CHECK(std::get<EarlyExit>(version).text == std::string("superventd ") + SUPERVENT_VERSION + "\n");
}

TEST_CASE("help lines fit an 80-column terminal", "[cli]") {
    const auto text = std::get<EarlyExit>(run({"--help"})).text;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        const auto line = text.substr(start, end - start);
        CAPTURE(line);
        CHECK(line.size() <= 80);
        start = end == std::string::npos ? text.size() : end + 1;
    }
}
