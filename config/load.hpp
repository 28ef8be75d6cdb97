#pragma once
// Turning files, the command line and the environment into Settings.
#include <functional>
#include <string>
#include <string_view>
#include <variant>

#include "config/settings.hpp"

namespace supervent::config {

// Reads an environment variable; returns nullptr when unset. Injected so
// tests do not depend on the process environment.
using GetEnv = std::function<const char*(const char*)>;
// The process environment (std::getenv), for callers outside tests.
[[nodiscard]] const char* process_env(const char* name);

// Parses `http://host[:port][/prefix]`, `https://…`, `file:PATH`, `stdout:`
// and `discard:`. Throws ConfigError naming what is wrong.
[[nodiscard]] SinkUrl parse_sink_url(std::string_view text);

// Loads a TOML config file on top of `base`. Unknown keys, wrong types and
// out-of-range values throw ConfigError("FILE:LINE: key.path: reason").
[[nodiscard]] Settings load_toml_file(const std::string& path, Settings base = {});
// The same for TOML text already in memory; `origin` names it in errors.
[[nodiscard]] Settings load_toml_text(std::string_view text, const std::string& origin, Settings base = {});

// The whole resolution for superventd: defaults, then `--config FILE`, then
// the other options, then the token from the environment (AXIOM_TOKEN), a
// `--token-file`, or a systemd credential ($CREDENTIALS_DIRECTORY/axiom-token).
// Returns EarlyExit for --help / --version. Throws ConfigError.
[[nodiscard]] std::variant<Settings, EarlyExit> resolve_daemon_settings(int argc, const char* const* argv,
                                                                        const GetEnv& get_env);

// For a reload: the same resolution with `config_path` in place of the
// --config file (empty = the one on the command line, or none), so the other
// options still override the file as they did at start-up. Throws ConfigError.
[[nodiscard]] Settings reload_daemon_settings(int argc, const char* const* argv, const GetEnv& get_env,
                                              const std::string& config_path);

// Fills settings.token and settings.token_source from, in order: AXIOM_TOKEN,
// settings.token_file, $CREDENTIALS_DIRECTORY/axiom-token. Leaves them empty
// when none is there. Throws ConfigError, never with the token in it.
// resolve_daemon_settings calls it; a reload can call it again.
void resolve_token(Settings& settings, const GetEnv& get_env);

// The text --help prints, listing every option.
[[nodiscard]] std::string daemon_help_text();

// A human-readable summary for --check-config. Never contains the token.
[[nodiscard]] std::string describe(const Settings& settings);

}  // namespace supervent::config
