#pragma once
// The engine's random stream: rng_lanes independent xoshiro256** generators
// advanced in lock step. Word i of a fill comes from lane i % rng_lanes, so a
// scalar loop and an 8-wide SIMD kernel produce the very same sequence.
#include <cstddef>
#include <cstdint>

namespace supervent::core {

inline constexpr std::size_t rng_lanes = 8;

// Stored word-major (s[word][lane]) so a SIMD kernel loads one state word of
// every lane with one aligned load.
struct alignas(64) RngState {
    std::uint64_t s[4][rng_lanes];
};

[[nodiscard]] constexpr std::uint64_t rotl64(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

// splitmix64: the seeding generator recommended by the xoshiro authors.
[[nodiscard]] constexpr std::uint64_t splitmix64_next(std::uint64_t& state) {
    state += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// One xoshiro256** step of one lane; the scalar reference every kernel matches.
[[nodiscard]] constexpr std::uint64_t xoshiro_next(RngState& state, std::size_t lane) {
    auto& s = state.s;
    const std::uint64_t result = rotl64(s[1][lane] * 5, 7) * 9;
    const std::uint64_t t = s[1][lane] << 17;
    s[2][lane] ^= s[0][lane];
    s[3][lane] ^= s[1][lane];
    s[1][lane] ^= s[2][lane];
    s[0][lane] ^= s[3][lane];
    s[2][lane] ^= t;
    s[3][lane] = rotl64(s[3][lane], 45);
    return result;
}

// Each shard's lanes are seeded from (seed, shard_index) through splitmix64,
// so shards (and machines running shard i of N) draw unrelated streams.
[[nodiscard]] constexpr RngState seed_rng(std::uint64_t seed, std::uint32_t shard_index) {
    std::uint64_t mix = seed;
    const std::uint64_t seed_word = splitmix64_next(mix);
    std::uint64_t shard_mix = 0x5EED'0000'0000'0000ull + shard_index;
    std::uint64_t state = seed_word ^ splitmix64_next(shard_mix);
    RngState rng{};
    for (std::size_t lane = 0; lane < rng_lanes; ++lane) {
        for (std::size_t word = 0; word < 4; ++word) {
            rng.s[word][lane] = splitmix64_next(state);
        }
    }
    return rng;
}

}  // namespace supervent::core
