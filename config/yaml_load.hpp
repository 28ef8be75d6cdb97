#pragma once
// The original (Python) supervent's YAML scenario files, and the YAML runtime
// example of its performance plan, loaded onto Settings: sources with their
// attributes, event types and volume; dependencies; event_frequencies as live
// rates; upload_config and the runtime/network/monitoring/generation
// sections as the daemon's own settings. docs/configuration.md ("The
// original YAML files") has the mapping.
//
// What the new runtime has no use for, or what sits at the wrong level, is
// accepted with a warning in Settings::warnings naming FILE:LINE: key and
// what was done; what cannot mean anything (a YAML syntax error, a
// placeholder no attribute defines, a dependency on an unknown source, a
// cycle) is a ConfigError "FILE:LINE: key.path: reason".
#include <string>
#include <string_view>

#include "config/settings.hpp"

namespace supervent::config {

[[nodiscard]] Settings load_yaml_file(const std::string& path, Settings base = {});
// The same for YAML text in memory; `origin` names it in errors and warnings.
[[nodiscard]] Settings load_yaml_text(std::string_view text, const std::string& origin, Settings base = {});

// True for a path ending in .yaml or .yml (any case).
[[nodiscard]] bool is_yaml_path(std::string_view path);

// load_yaml_file for .yaml / .yml, else load_toml_file.
[[nodiscard]] Settings load_config_file(const std::string& path, Settings base = {});

}  // namespace supervent::config
