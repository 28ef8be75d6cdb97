#pragma once
// Settings as the native TOML config: what `supervent-ctl convert FILE.yaml`
// prints. load_toml_text() reads the text back into the same scenario
// (sources, scenario section, window, scale) and the same runtime settings,
// origins apart; test/config/toml_write_test.cpp checks it for every original
// YAML file.
#include <string>

#include "config/settings.hpp"
#include "core/scenario.hpp"
#include "core/schema.hpp"

namespace supervent::config {

// Writes the settings that differ from the defaults ([runtime], [network],
// [generation], [sink] dataset, [monitoring] metrics_listen), the scenario
// ([scenario], [sources.NAME] with fields, event types and volume) and the
// loader's warnings as comments. Never writes the token. Volume counts are
// written as they are in `settings`: convert a file before --scale applies.
[[nodiscard]] std::string to_toml(const Settings& settings);

// Copies with every SchemaOrigin cleared, to compare what two loaders made of
// the same scenario (SourceSpec::operator== compares origins too).
[[nodiscard]] core::SourceSpec without_origins(core::SourceSpec spec);
[[nodiscard]] core::ScenarioSpec without_origins(core::ScenarioSpec spec);

}  // namespace supervent::config
