#pragma once
// What one process needs to be one part of a fleet (issue 17): the identity
// of the scenario that seeds every stream, and the run's seed.
#include <cstdint>
#include <string>

#include "config/settings.hpp"

namespace supervent::daemon {

// A hash of the scenario as written (its TOML form: sources, rules, volume,
// or the built-in's name), without file names or lines. Two scenario files,
// or an overlay and its base, get different identities, so their streams
// (request ids, times) never meet; the same scenario from another path or
// another machine gets the same one.
[[nodiscard]] std::uint64_t scenario_identity(const config::Settings& settings);

// A live run without --seed draws its seed from the system's random source
// (so two runs, or two parts, never repeat each other); a backfill keeps
// the fixed default, so the parts of a sharded backfill and a resumed run
// agree without being told. Returns true when it drew one.
bool choose_seed(config::Settings& settings);

// "I/N", for messages.
[[nodiscard]] std::string part_text(const config::Settings& settings);

// Logs the part (with --shard) and a seed choose_seed drew.
void log_part_and_seed(const config::Settings& settings);

}  // namespace supervent::daemon
