#pragma once
// Event identity: what makes an event's content a pure function of
// (scenario, seed, event index), so that how a run is split over workers,
// processes and machines changes only the order of its events.
//
// Every event has a 64-bit key. Everything random about it (its event type,
// the words its program draws, a dependent's delay, whether a rule fires) is
// drawn from that key alone, by counter (keyed_word(key, draw)), never from
// a stream shared with other events:
//
//   stream  = hash(seed, scenario identity, source name[, volume entry])
//   root k  = event_key(stream, k)   k = the root's index in its volume entry
//                                    (live: per (source, global shard) counter)
//   child   = child_key(parent key, rule index)
//
// A root's request id is injective in (stream, k) (request_id()), so two
// roots never share one, whichever worker, part, run seed or source made
// them (but for a 2^-58 chance per pair of streams); a dependent inherits
// its root's.
#include <cstdint>
#include <string_view>

namespace supervent::core {

// A bijective 64-bit finalizer (Pelle Evensen's moremur, a better-mixing
// splitmix64 finalizer): distinct inputs give distinct outputs.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 27;
    x *= 0x3C79'AC49'2BA7'B653ull;
    x ^= x >> 33;
    x *= 0x1C69'B3F7'4AC4'AE35ull;
    x ^= x >> 27;
    return x;
}

// Two values into one: injective in `value` for a fixed `base`.
[[nodiscard]] constexpr std::uint64_t combine64(std::uint64_t base, std::uint64_t value) {
    return mix64(base ^ mix64(value + 0x9E37'79B9'7F4A'7C15ull));
}

[[nodiscard]] constexpr std::uint64_t hash_text(std::string_view text) {
    std::uint64_t h = 0xCBF2'9CE4'8422'2325ull;  // FNV-1a, then mixed
    for (const char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x0000'0100'0000'01B3ull;
    return mix64(h);
}

// The key of event k of a stream: injective in k (an odd multiplier, an
// addition and mix64 are each bijective).
[[nodiscard]] constexpr std::uint64_t event_key(std::uint64_t stream, std::uint64_t k) {
    return mix64(stream + k * 0x9E37'79B9'7F4A'7C15ull);
}

// The key of the event that rule `rule` makes from the event `parent`.
[[nodiscard]] constexpr std::uint64_t child_key(std::uint64_t parent, std::uint32_t rule) {
    return combine64(parent ^ 0xC41D'0000'0000'0000ull, rule);
}

__extension__ using uint128_t = unsigned __int128;

// Draw `draw` of the event with key `key`: wyrand's output function on the
// counter key + (draw + 1) * increment (one 64x64->128 multiply a word).
[[nodiscard]] inline std::uint64_t keyed_word(std::uint64_t key, std::uint64_t draw) {
    const std::uint64_t s = key + (draw + 1) * 0xA076'1D64'78BD'642Full;
    const uint128_t product = static_cast<uint128_t>(s) * (s ^ 0xE703'7ED1'A0B4'28DBull);
    return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

// Draw salts the engine uses on an event's key, apart from the program's
// draws (which count from 0): keyed_word(key, salt).
namespace key_draw {
inline constexpr std::uint64_t root_type = 1u << 20;
inline constexpr std::uint64_t delay_u = root_type + 2;
inline constexpr std::uint64_t delay_v = root_type + 3;
inline constexpr std::uint64_t rule_fires = root_type + 16;  // + rule index
}  // namespace key_draw

[[nodiscard]] inline double unit_double(std::uint64_t word) { return static_cast<double>(word >> 11) * 0x1.0p-53; }

// What a stream puts into its request ids (stream_tag(stream), once per stream).
[[nodiscard]] constexpr std::uint64_t stream_tag(std::uint64_t stream) { return mix64(stream ^ 0x1D5E'ED00'0000'0000ull); }

// A UUID v4 (version nibble 4, variant 10) for the event with key
// event_key(stream, k), injective in (stream, k): its 122 free bits hold the
// 64-bit key (injective in k) and 58 bits of the stream's tag XOR a
// multiplicative hash of the key, so the key and then the tag can be read
// back from an id (two streams share ids only if their 58-bit tags collide,
// a 2^-58 chance per pair), and ids of one stream share no visible prefix.
constexpr void request_id(std::uint64_t tag, std::uint64_t key, std::uint64_t& hi, std::uint64_t& lo) {
    constexpr std::uint64_t m58 = (std::uint64_t{1} << 58) - 1;
    constexpr std::uint64_t m62 = (std::uint64_t{1} << 62) - 1;
    const std::uint64_t hi_free = ((key >> 62) << 58) | ((tag ^ ((key * 0x9E37'79B9'7F4A'7C15ull) >> 6)) & m58);  // 60 bits
    hi = ((hi_free >> 12) << 16) | 0x4000ull | (hi_free & 0xFFFull);
    lo = (key & m62) | 0x8000'0000'0000'0000ull;
}

}  // namespace supervent::core
