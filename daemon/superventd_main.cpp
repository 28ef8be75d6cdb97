// superventd: generate synthetic log events and ship them to a sink.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <variant>

#include "config/load.hpp"
#include "core/scenario_engine.hpp"
#include "daemon/daemon.hpp"
#include "daemon/log.hpp"
#include "net/ring.hpp"

namespace {

constexpr int exit_usage = 2;
constexpr int exit_failure = 1;

int check_config(const supervent::config::Settings& settings) {
    // Build everything that can be checked without sending: the plan (sink
    // address, checkpoint, files) and the compiled scenario.
    for (const std::string& warning : settings.warnings) supervent::daemon::log::warning("%s", warning.c_str());
    namespace daemon = supervent::daemon;
    daemon::RunPlan run = daemon::plan_shards(settings, daemon::look_up_plan_inputs(settings));
    daemon::log_plan_messages(run.messages);
    daemon::open_run_files(settings, run.shards);
    const std::vector<daemon::ShardPlan>& plans = run.shards;
    const supervent::core::CompiledScenario& scenario = *plans.front().scenario;
    std::printf("%s", supervent::config::describe(settings).c_str());
    std::printf("shards:      %zu\n", plans.size());
    for (const supervent::core::ScenarioSource& source : scenario.sources) {
        std::uint64_t roots = 0;
        for (const supervent::core::VolumeSpec& v : source.volume) roots += v.count;
        std::printf("source:      %s -> dataset %s, event bound %zu bytes", source.name.c_str(), source.dataset.c_str(),
                    source.program->event_bytes_max);
        if (scenario.backfill) std::printf(", %llu root events", static_cast<unsigned long long>(roots));
        std::printf("\n");
    }
    if (!scenario.rules.empty()) std::printf("dependencies: %zu\n", scenario.rules.size());
    if (scenario.backfill) {
        std::printf("backfill:    %llu root events, about %.0f events in all\n",
                    static_cast<unsigned long long>(scenario.roots_total), scenario.expected_events_total);
    }
    std::printf("config OK\n");
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
