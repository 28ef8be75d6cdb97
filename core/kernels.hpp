#pragma once
// The column kernels of the generator: the only code that touches every
// event's random words. One scalar reference plus SIMD variants behind one
// table of function pointers, chosen once at start-up (one indirect call per
// column per block, never per event), and the serializer loop compiled
// for each set's vector width. Every variant must produce exactly the
// reference's output; test/core/kernels_test.cpp checks it.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/rng.hpp"

namespace supervent::core {

struct SerializePlan;  // core/serialize.hpp

// Walker/Vose alias table: a weighted choice from one random word.
// index = hi32(word) * count >> 32; keep it if lo32(word) < threshold[index],
// else take alias[index].
struct AliasView {
    const std::uint32_t* threshold = nullptr;
    const std::uint32_t* alias = nullptr;
    std::uint32_t count = 0;
};

// Weighted buckets of integers: a bucket from the alias table, then a
// uniform value lo[b] + (hi32(word) * span[b] >> 32). Spans fit 32 bits
// (span 0 means 2^32), which covers every range the schemas need and keeps
// the multiply a 32x32->64 one that every SIMD width has.
struct BucketView {
    AliasView pick;
    const std::uint64_t* lo = nullptr;
    const std::uint64_t* span = nullptr;
};

struct Kernels {
    std::string_view name;
    // out[i] = the alias sample of raw[i]; count is a multiple of rng_lanes.
    void (*sample_alias)(const std::uint64_t* raw, std::size_t count, AliasView table,
                         std::uint64_t* out);
    // out[i] = a value of bucket sample(raw_pick[i]) drawn with raw_value[i].
    void (*sample_buckets)(const std::uint64_t* raw_pick, const std::uint64_t* raw_value,
                           std::size_t count, BucketView buckets, std::uint64_t* out);
    // out[i] = keyed_word(keys[i], draw) (core/event_key.hpp): draw `draw` of
    // `count` events (a multiple of rng_lanes). SIMD sets build the 64x64->128
    // product from four 32x32->64 ones.
    void (*fill_keyed)(const std::uint64_t* keys, std::size_t count, std::uint64_t draw, std::uint64_t* out);
    // Serializes a block's `count` events (core/serialize.hpp), compiled for
    // the set's vector width: its fixed fragment copies are that wide.
    char* (*serialize)(const SerializePlan& plan, std::uint32_t count, char* out, std::uint32_t* event_ends,
                       const char* base);
};

[[nodiscard]] const Kernels& scalar_kernels();
// Every kernel set this CPU can run, the scalar reference first.
[[nodiscard]] std::span<const Kernels* const> supported_kernels();
// The best supported set, or the one SUPERVENT_KERNEL=scalar|avx2|avx512
// names. Throws std::runtime_error when the forced one is unknown or
// unsupported here, so a typo never silently benchmarks the wrong code.
[[nodiscard]] const Kernels& select_kernels();

// Scalar one-event forms, shared by every variant's tail and by tests.
[[nodiscard]] inline std::uint64_t alias_sample_one(std::uint64_t raw, const AliasView& table) {
    const auto index = static_cast<std::uint32_t>(((raw >> 32) * table.count) >> 32);
    const auto coin = static_cast<std::uint32_t>(raw);
    return coin < table.threshold[index] ? index : table.alias[index];
}

[[nodiscard]] inline std::uint64_t bucket_sample_one(std::uint64_t raw_pick, std::uint64_t raw_value,
                                                     const BucketView& buckets) {
    const std::uint64_t bucket = alias_sample_one(raw_pick, buckets.pick);
    const std::uint64_t span = buckets.span[bucket];
    const std::uint64_t offset = ((raw_value >> 32) * (span == 0 ? (std::uint64_t{1} << 32) : span)) >> 32;
    return buckets.lo[bucket] + offset;
}

}  // namespace supervent::core
