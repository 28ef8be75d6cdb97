#pragma once
// The scenario parts of the TOML config that go beyond one source's schema:
// [[sources.NAME.volume]] entries and the [scenario] section (time zone,
// [[scenario.dependencies]], [[scenario.rates]], [scenario.live]).
// config/toml_load.cpp calls these; they are apart so the TOML and YAML
// scenario readers can be read side by side. Every key is documented in
// config/scenario.example.toml and docs/configuration.md.
#include <cstdint>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "core/scenario.hpp"
#include "core/schema.hpp"

namespace supervent::config::detail {

struct TomlProblem {
    std::uint32_t line = 0;
    std::string message;  // "FILE:LINE: key.path: reason"
};

// `node`: the value of sources.NAME.volume (an array of tables). `path`: "sources.NAME.volume".
void read_toml_volume(const toml::node& node, const std::string& file, const std::string& path,
                      std::vector<core::VolumeSpec>& out, std::vector<TomlProblem>& problems);

// `node`: the [scenario] table. Replaces `out` with what it says.
void read_toml_scenario(const toml::node& node, const std::string& file, core::ScenarioSpec& out,
                        std::vector<TomlProblem>& problems);

// `node`: the value of scenario.incidents (an array of tables; config/toml_incident.cpp).
void read_toml_incidents(const toml::node& node, const std::string& file, std::vector<core::IncidentSpec>& out,
                         std::vector<TomlProblem>& problems);

}  // namespace supervent::config::detail
