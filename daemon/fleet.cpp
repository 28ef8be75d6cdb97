// One part of a fleet: scenario identity and the run's seed (daemon/fleet.hpp).
#include "daemon/fleet.hpp"

#include <random>

#include "config/toml_write.hpp"
#include "core/event_key.hpp"
#include "daemon/log.hpp"

namespace supervent::daemon {

std::uint64_t scenario_identity(const config::Settings& settings) {
    // Only what defines the scenario's events; to_toml writes no origins.
    config::Settings scenario;
    scenario.scenario = settings.scenario;
    scenario.sources = settings.sources;
    scenario.scenario_spec = settings.scenario_spec;
    return core::hash_text(config::to_toml(scenario));
}

bool choose_seed(config::Settings& settings) {
    const bool live = settings.live || !settings.window_start_ns.has_value();
    if (settings.seed_given || !live) return false;
    std::random_device device;
    settings.seed = (std::uint64_t{device()} << 32) ^ device();
    return true;
}

void log_part_and_seed(const config::Settings& settings) {
    const bool live = settings.live || !settings.window_start_ns.has_value();
    if (!settings.seed_given && live) {
        log::notice("seed %llu, drawn at random (--seed %llu replays this run)",
                    static_cast<unsigned long long>(settings.seed), static_cast<unsigned long long>(settings.seed));
    }
    if (settings.shard_count > 1) log::notice("part %s of the run (--shard)", part_text(settings).c_str());
}

std::string part_text(const config::Settings& settings) {
    return std::to_string(settings.shard_index) + "/" + std::to_string(settings.shard_count);
}

}  // namespace supervent::daemon
