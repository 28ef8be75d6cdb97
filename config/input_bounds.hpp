#pragma once
// What a config file may contain before toml++ or yaml-cpp sees it: its size,
// nesting depth, key paths and number of nodes (YAML aliases counted as the
// nodes they repeat, an alias inside its own anchor refused). Both parsers
// trust their input's shape: toml++ recurses once per dotted key part, and
// the YAML loader's walk expands every alias. Each check is one linear pass
// that builds nothing, so a hostile file is refused in the time it takes to
// read it, with "ORIGIN:LINE: reason" (bounds in core/bounds.hpp).
#include <string>
#include <string_view>

namespace supervent::config::detail {

// The whole file at `path`, at most bounds::config_file_bytes_max bytes.
// Throws ConfigError naming the file (cannot open, cannot read, too large).
[[nodiscard]] std::string read_config_text(const std::string& path);

// Throw ConfigError("ORIGIN:LINE: reason") for text beyond the bounds. What
// is not valid TOML or YAML is left for the parser to report: the TOML check
// returns how many bytes of `text` it followed (all, or up to and including
// the first byte that is not TOML), and only those may be given to toml++;
// yaml-cpp's own event parser does the YAML check, so it follows every byte.
[[nodiscard]] std::size_t check_toml_bounds(std::string_view text, const std::string& origin);
void check_yaml_bounds(std::string_view text, const std::string& origin);

}  // namespace supervent::config::detail
