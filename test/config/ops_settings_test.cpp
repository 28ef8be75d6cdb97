// The control-plane settings: control socket access, metrics endpoint, log
// level, and re-resolving the settings for a reload.
#include <catch2/catch.hpp>

#include <fstream>

#include "config/load.hpp"
#include "fake_env.hpp"
#include "temp_file.hpp"

using supervent::config::ConfigError;
using supervent::config::load_toml_text;
using supervent::config::Settings;
using Catch::Matchers::Contains;

namespace {

std::string error_of(std::string_view text) {
    try {
        (void)load_toml_text(text, "ops.toml");
    } catch (const ConfigError& error) {
        return error.what();
    }
    FAIL("expected a ConfigError for:\n" << text);
    return {};
}

}  // namespace

TEST_CASE("socket access, metrics and log level keys are read", "[ops]") {
    const Settings settings = load_toml_text(
        "[runtime]\nsocket_group = \"adm\"\nsocket_allowed_uids = [1000, 1001]\nsocket_allowed_gids = [50]\n"
        "[monitoring]\nmetrics_listen = \"0.0.0.0:9464\"\nlog_level = \"debug\"\n",
        "ops.toml");
    CHECK(settings.socket_group == "adm");
    CHECK(settings.socket_allowed_uids == std::vector<std::uint32_t>{1000, 1001});
    CHECK(settings.socket_allowed_gids == std::vector<std::uint32_t>{50});
    CHECK(settings.metrics_listen == "0.0.0.0:9464");
    CHECK(settings.log_level == "debug");
}

TEST_CASE("defaults: metrics off, log level info, no extra socket users", "[ops]") {
    const Settings settings;
    CHECK(settings.metrics_listen.empty());
    CHECK(settings.log_level == "info");
    CHECK(settings.socket_group.empty());
    CHECK(settings.socket_allowed_uids.empty());
}

TEST_CASE("metrics_listen: a bare port is localhost, IPv6 in brackets", "[ops]") {
    CHECK(load_toml_text("monitoring.metrics_listen = \"9464\"", "t").metrics_listen == "127.0.0.1:9464");
    CHECK(load_toml_text("monitoring.metrics_listen = \"[::1]:9464\"", "t").metrics_listen == "[::1]:9464");
    CHECK(load_toml_text("monitoring.metrics_listen = \":9464\"", "t").metrics_listen == "127.0.0.1:9464");
    CHECK_THAT(error_of("[monitoring]\nmetrics_listen = \"localhost:http\"\n"),
               Contains("ops.toml:2: monitoring.metrics_listen: expected HOST:PORT"));
    CHECK_THAT(error_of("[monitoring]\nmetrics_listen = \"1.2.3.4:70000\"\n"), Contains("port must be from 0 to 65535"));
    CHECK_THAT(error_of("[monitoring]\nmetrics_listen = \"::1:9100\"\n"), Contains("in brackets"));
}

TEST_CASE("bad log levels and id lists are refused naming the key", "[ops]") {
    CHECK_THAT(error_of("[monitoring]\nlog_level = \"loud\"\n"),
               Contains("ops.toml:2: monitoring.log_level: expected error, warning, notice, info or debug"));
    CHECK_THAT(error_of("[runtime]\nsocket_allowed_uids = 1000\n"),
               Contains("runtime.socket_allowed_uids: expected a list of numeric ids"));
    CHECK_THAT(error_of("[runtime]\nsocket_allowed_uids = [-1]\n"), Contains("must not be negative"));
    CHECK_THAT(error_of("[runtime]\nsocket_group = \"a b\"\n"), Contains("runtime.socket_group: not a group name"));
}

TEST_CASE("command-line options for the control plane", "[ops]") {
    supervent::test::FakeEnv env;
    const char* argv[] = {"superventd", "--socket-group", "adm", "--metrics-listen", "9464", "--log-level", "warning"};
    const auto resolved = supervent::config::resolve_daemon_settings(7, argv, env.get());
    const auto& settings = std::get<Settings>(resolved);
    CHECK(settings.socket_group == "adm");
    CHECK(settings.metrics_listen == "127.0.0.1:9464");
    CHECK(settings.log_level == "warning");
    CHECK_THAT(supervent::config::daemon_help_text(), Contains("--metrics-listen HOST:PORT"));
    CHECK_THAT(supervent::config::daemon_help_text(), Contains("--log-level LEVEL"));
    CHECK_THAT(supervent::config::daemon_help_text(), Contains("--socket-group GROUP"));
    CHECK_THAT(supervent::config::daemon_help_text(), Contains("SIGHUP                  reload the --config file"));
}

TEST_CASE("a reload re-reads the file and the command line still wins", "[ops]") {
    supervent::test::TempDir dir;
    const std::string first_path = dir.write("first.toml", "[generation]\nrate = 1000\nseed = 5\n");
    const std::string second_path = dir.write("second.toml", "[generation]\nrate = 2000\nseed = 6\nevents = 77\n");
    supervent::test::FakeEnv env;
    const char* argv[] = {"superventd", "--config", first_path.c_str(), "--seed", "9"};
    const Settings start = std::get<Settings>(supervent::config::resolve_daemon_settings(5, argv, env.get()));
    CHECK(start.rate_eps == 1000);
    CHECK(start.seed == 9);
    const Settings reloaded = supervent::config::reload_daemon_settings(5, argv, env.get(), second_path);
    CHECK(reloaded.rate_eps == 2000);
    CHECK(reloaded.events == 77);
    CHECK(reloaded.seed == 9);  // --seed beats the file, as at start-up
    CHECK(reloaded.config_path == second_path);
    const Settings again = supervent::config::reload_daemon_settings(5, argv, env.get(), "");
    CHECK(again.rate_eps == 1000);
    CHECK_THROWS_WITH(supervent::config::reload_daemon_settings(5, argv, env.get(), "/nonexistent/x.toml"),
                      Contains("/nonexistent/x.toml: cannot open config file"));
}
