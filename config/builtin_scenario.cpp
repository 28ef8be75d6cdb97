#include "config/builtin_scenario.hpp"

#include <string>

#include "config/load.hpp"
#include "scenarios/catalogue.hpp"

namespace supervent::config {

bool builtin_scenario_has_sources(std::string_view name) {
    return name != Settings{}.scenario && scenarios::find(name) != nullptr;
}

void apply_builtin_scenario(Settings& settings) {
    const std::string& name = settings.scenario;
    if (name == Settings{}.scenario) return;  // web_access: core/web_access.cpp's program
    const scenarios::Builtin* builtin = scenarios::find(name);
    if (builtin == nullptr) {
        throw ConfigError("generation.scenario (--scenario): unknown scenario '" + name + "' (built in: " +
                          std::string(scenarios::names_text()) + "; supervent-ctl sources --builtin describes them)");
    }
    if (!settings.sources.empty()) {
        throw ConfigError("generation.scenario (--scenario): the built-in scenario '" + name +
                          "' conflicts with the config file's [sources]: give one or the other (supervent-ctl "
                          "sources --builtin " + name + " prints its TOML to copy into the file)");
    }
    // The built-in's own text holds only [sources] and [scenario]; a test
    // (e2e.scenario_catalogue) loads each with no warnings.
    Settings loaded = load_toml_text(builtin->toml, "<built-in " + name + ">");
    core::ScenarioSpec spec = std::move(loaded.scenario_spec);
    if (settings.scenario_spec.timezone != core::ScenarioSpec{}.timezone) spec.timezone = settings.scenario_spec.timezone;
    if (settings.scenario_spec.live != core::LiveShape{}) spec.live = settings.scenario_spec.live;
    settings.sources = std::move(loaded.sources);
    settings.scenario_spec = std::move(spec);
}

}  // namespace supervent::config
