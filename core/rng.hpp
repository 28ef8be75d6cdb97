#pragma once
// Lanes and seeding helpers. Every word an event's program draws comes from
// its key (core/event_key.hpp); kernels work on rng_lanes events at a time,
// and a block's event count is padded to a multiple of it.
#include <cstddef>
#include <cstdint>

namespace supervent::core {

inline constexpr std::size_t rng_lanes = 8;

// splitmix64: a quick generator for tests and tables built at start-up.
[[nodiscard]] constexpr std::uint64_t splitmix64_next(std::uint64_t& state) {
    state += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

}  // namespace supervent::core
