// superventd: generate synthetic log events and ship them to a sink.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <variant>

#include "config/load.hpp"
#include "core/event_source.hpp"
#include "core/schema.hpp"
#include "daemon/daemon.hpp"
#include "daemon/log.hpp"
#include "net/ring.hpp"

namespace {

constexpr int exit_usage = 2;
constexpr int exit_failure = 1;

int check_config(const supervent::config::Settings& settings) {
    // Build everything that can be checked without sending: the plan (sink
    // address, files) and the scenario's source.
    auto plans = supervent::daemon::plan_shards(settings);
    // The config file's first source when it has [sources], else the built-in scenario.
    auto source = !plans.empty() && plans.front().program
                      ? supervent::core::make_program_source(plans.front().program, {settings.seed, 0, 1},
                                                             settings.batch_events)
                      : supervent::core::make_builtin_source(settings.scenario, {settings.seed, 0, 1},
                                                             settings.batch_events);
    std::printf("%s", supervent::config::describe(settings).c_str());
    std::printf("shards:      %zu\nevent bound: %zu bytes (scenario %s)\nconfig OK\n", plans.size(),
                source->event_bytes_max(), std::string(source->name()).c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // Sends use MSG_NOSIGNAL; this covers writes to a closed pipe or socket.
    std::signal(SIGPIPE, SIG_IGN);
    supervent::config::Settings settings;
    try {
        auto resolved = supervent::config::resolve_daemon_settings(argc, argv, [](const char* name) {
            return static_cast<const char*>(std::getenv(name));
        });
        if (auto* early = std::get_if<supervent::config::EarlyExit>(&resolved)) {
            std::fputs(early->text.c_str(), stdout);
            return 0;
        }
        settings = std::move(std::get<supervent::config::Settings>(resolved));
    } catch (const supervent::config::ConfigError& error) {
        supervent::daemon::log::error("%s\n(see superventd --help)", error.what());
        return exit_usage;
    }
    try {
        if (settings.check_config_only) return check_config(settings);
        // A reload re-reads the config file and reapplies these same options
        // on top, so the command line keeps winning over the file.
        supervent::daemon::Daemon daemon(std::move(settings), [argc, argv](const std::string& path) {
            return supervent::config::reload_daemon_settings(argc, argv, supervent::config::process_env, path);
        });
        return daemon.run();
    } catch (const std::invalid_argument& error) {
        supervent::daemon::log::error("%s", error.what());
        return exit_usage;
    } catch (const std::exception& error) {
        supervent::daemon::log::error("error: %s", error.what());
        return exit_failure;
    }
}
