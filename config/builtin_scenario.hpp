#pragma once
// `--scenario NAME` / generation.scenario: the built-in scenarios written in
// TOML (scenarios/*.toml, embedded in the binary) become the run's sources.
#include "config/settings.hpp"

namespace supervent::config {

// When settings.scenario names a built-in written in TOML, loads its text as
// a config layer beneath everything else: its [sources] become
// settings.sources and its [scenario] the dependencies and rates, keeping a
// --timezone or live shape the user gave. web_access (the default) stays
// the compiled program of core/web_access.cpp and changes nothing here.
// Throws ConfigError for an unknown name (listing the built-ins) and for a
// built-in named beside [sources] of the config file.
void apply_builtin_scenario(Settings& settings);

// True when `name` is a built-in whose sources apply_builtin_scenario puts
// in settings.sources (every built-in but web_access).
[[nodiscard]] bool builtin_scenario_has_sources(std::string_view name);

}  // namespace supervent::config
