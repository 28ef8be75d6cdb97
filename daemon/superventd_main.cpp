// superventd: generate synthetic log events and ship them to a sink.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>
#include <variant>

#include "config/load.hpp"
#include "core/scenario_engine.hpp"
#include "daemon/daemon.hpp"
#include "daemon/fleet.hpp"
#include "daemon/json_writer.hpp"
#include "daemon/log.hpp"
#include "daemon/memory_estimate.hpp"
#include "net/pipeline_depth.hpp"
#include "net/ring.hpp"

namespace {

using supervent::daemon::exit_fatal;
using supervent::daemon::exit_usage;

namespace daemon = supervent::daemon;

std::uint64_t root_events(const supervent::core::ScenarioSource& source) {
    std::uint64_t roots = 0;
    for (const supervent::core::VolumeSpec& v : source.volume) roots += v.count;
    return roots;
}

// The run's buffers by docs/architecture.md's Memory formula, as the shards will size them.
void print_memory_line(const std::vector<daemon::ShardPlan>& shards) {
    const daemon::ShardMemory one = daemon::estimate_shard_memory(
        shards.front(), supervent::net::memlock_budget_bytes(static_cast<std::uint32_t>(shards.size())));
    // A ceiling: slots are pinned when first used, and a near sink keeps ~4 a connection busy.
    std::printf("memory:      ~%.0f MiB of buffers at most (%zu worker%s x %u slots of %.2f MiB, each resident once "
                "used: all of them only toward a far sink; staging, render and I/O buffers), plus ~12 MiB of code "
                "and tables\n",
                static_cast<double>(daemon::estimate_run_buffer_bytes(shards)) / (1 << 20), shards.size(),
                shards.size() == 1 ? "" : "s", one.slots, static_cast<double>(one.slot_bytes) / (1 << 20));
}

void print_check_text(const supervent::config::Settings& settings, const std::vector<daemon::ShardPlan>& plans,
                      const supervent::core::CompiledScenario& scenario) {
    std::printf("%s", supervent::config::describe(settings).c_str());
    std::printf("shards:      %zu\n", plans.size());
    print_memory_line(plans);
    for (const supervent::core::ScenarioSource& source : scenario.sources) {
        std::printf("source:      %s -> dataset %s, event bound %zu bytes", source.name.c_str(), source.dataset.c_str(),
                    source.program->event_bytes_max);
        if (scenario.backfill) std::printf(", %llu root events", static_cast<unsigned long long>(root_events(source)));
        std::printf("\n");
    }
    if (!scenario.rules.empty()) std::printf("dependencies: %zu\n", scenario.rules.size());
    if (scenario.backfill) {
        std::printf("backfill:    %llu root events, about %.0f events in all\n",
                    static_cast<unsigned long long>(scenario.roots_total), scenario.expected_events_total);
    }
    std::printf("config OK\n");
}

// --check-config --json: what the text says, for scripts.
void print_check_json(const supervent::config::Settings& settings, std::size_t shards,
                      const supervent::core::CompiledScenario& scenario, std::size_t buffer_bytes) {
    daemon::JsonWriter json;
    json.begin_object().field("ok", true).field("config", settings.config_path).field("sink", settings.sink.text);
    json.field("dataset", settings.dataset).key("rate");
    if (settings.rate_eps) json.value(*settings.rate_eps); else json.value("unlimited");
    json.field("events", settings.events).field("duration_s", settings.duration_s).field("shards", shards);
    json.field("buffer_bytes", std::uint64_t{buffer_bytes});
    json.key("sources").begin_array();
    for (const supervent::core::ScenarioSource& source : scenario.sources) {
        json.begin_object().field("name", source.name).field("dataset", source.dataset);
        json.field("event_bytes_max", std::uint64_t{source.program->event_bytes_max});
        json.key("root_events");
        if (scenario.backfill) json.value(root_events(source)); else json.null();
        json.end_object();
    }
    json.end_array().field("dependencies", std::uint64_t{scenario.rules.size()}).key("backfill");
    if (scenario.backfill) {
        json.begin_object().field("root_events", scenario.roots_total);
        json.field("events_expected", scenario.expected_events_total).end_object();
    } else {
        json.null();
    }
    json.key("warnings").begin_array();
    for (const std::string& warning : settings.warnings) json.value(warning);
    json.end_array().end_object();
    std::printf("%s\n", json.take().c_str());
}

int check_config(const supervent::config::Settings& settings) {
    // Build everything that can be checked without sending: the plan (sink
    // address, checkpoint, files) and the compiled scenario.
    for (const std::string& warning : settings.warnings) daemon::log::warning("%s", warning.c_str());
    daemon::RunPlan run = daemon::plan_shards(settings, daemon::look_up_plan_inputs(settings));
    daemon::log_plan_messages(run.messages);
    daemon::check_run_files(settings, run.shards);  // never creates or truncates the file sink's output
    const supervent::core::CompiledScenario& scenario = *run.shards.front().scenario;
    if (settings.check_config_json) {
        print_check_json(settings, run.shards.size(), scenario, daemon::estimate_run_buffer_bytes(run.shards));
    } else {
        print_check_text(settings, run.shards, scenario);
    }
    return 0;
}

// --check-config --json answers on standard output even when the settings
// are refused, so that a script reads one object either way.
bool check_config_json(int argc, char** argv) {
    bool check = false, json = false;
    for (int i = 1; i < argc; ++i) {
        check |= std::string_view(argv[i]) == "--check-config";
        json |= std::string_view(argv[i]) == "--json";
    }
    return check && json;
}

int refuse(int argc, char** argv, const char* error, int code) {
    if (!check_config_json(argc, argv)) return code;
    daemon::JsonWriter json;
    json.begin_object().field("ok", false).field("error", error).end_object();
    std::printf("%s\n", json.take().c_str());
    return code;
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
        return refuse(argc, argv, error.what(), exit_usage);
    }
    try {
        if (settings.check_config_only) return check_config(settings);
        (void)supervent::daemon::choose_seed(settings);  // said in the log once the log is set up
        // A reload re-reads the config file and reapplies these same options
        // on top, so the command line keeps winning over the file; a seed
        // drawn at start stays the run's seed.
        const std::uint64_t seed = settings.seed;
        supervent::daemon::Daemon daemon(std::move(settings), [argc, argv, seed](const std::string& path) {
            auto reloaded = supervent::config::reload_daemon_settings(argc, argv, supervent::config::process_env, path);
            if (!reloaded.seed_given) reloaded.seed = seed;
            return reloaded;
        });
        return daemon.run();
    } catch (const std::invalid_argument& error) {
        supervent::daemon::log::error("%s", error.what());
        return refuse(argc, argv, error.what(), exit_usage);
    } catch (const std::exception& error) {
        supervent::daemon::log::error("error: %s", error.what());
        return refuse(argc, argv, error.what(), exit_fatal);
    }
}
