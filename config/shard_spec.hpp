#pragma once
// --shard I/N / [generation] shard = "I/N": this process runs part I of N of
// a run (issue 17). "auto/N" takes I from the environment, in this order:
// JOB_COMPLETION_INDEX (a Kubernetes Indexed Job), SUPERVENT_SHARD_INDEX,
// then the trailing "-<ordinal>" of HOSTNAME (a StatefulSet pod, "gen-3").
#include <cstdint>
#include <string>
#include <string_view>

#include "config/load.hpp"

namespace supervent::config {

struct ShardSpec {
    bool automatic = false;   // "auto/N": the index comes from the environment
    std::uint32_t index = 0;  // given, or resolved by resolve_shard_index
    std::uint32_t count = 1;
};

// Parses "I/N" or "auto/N" (0 <= I < N <= bounds::shard_parts_max). Throws ValueError
// saying what was expected.
[[nodiscard]] ShardSpec parse_shard_spec(std::string_view text);

// The index of an "auto/N" spec from the environment; throws ValueError
// naming the variables it looked at when none holds an index, or naming the
// variable whose index is not below N.
[[nodiscard]] std::uint32_t resolve_shard_index(std::uint32_t count, const GetEnv& get_env);

// Applies settings.shard_spec (if any) to settings.shard_index/shard_count,
// resolving "auto". Throws ConfigError("generation.shard: ...").
void resolve_shard(Settings& settings, const GetEnv& get_env);

}  // namespace supervent::config
