// AVX2 kernels. Compiled for baseline x86-64 like everything else: only the
// functions below carry target("avx2"), so no AVX2 instruction can leak into
// shared inline code, and the set is offered only when the CPU has AVX2.
#include <immintrin.h>

#include "core/kernels.hpp"
#include "core/serialize.hpp"

namespace supervent::core {
namespace {

#define SUPERVENT_AVX2 __attribute__((target("avx2")))

// Four alias samples: returns the chosen indices as 64-bit lanes.
SUPERVENT_AVX2 inline __m256i alias_avx2(__m256i raw, const AliasView& t) {
    const __m256i count = _mm256_set1_epi64x(t.count);
    const __m256i index = _mm256_srli_epi64(_mm256_mul_epu32(_mm256_srli_epi64(raw, 32), count), 32);
    const __m256i low32 = _mm256_set1_epi64x(0xFFFF'FFFFll);
    const __m256i coin = _mm256_and_si256(raw, low32);
    const auto* threshold = reinterpret_cast<const int*>(t.threshold);
    const auto* alias = reinterpret_cast<const int*>(t.alias);
    const __m256i keep_below = _mm256_cvtepu32_epi64(_mm256_i64gather_epi32(threshold, index, 4));
    const __m256i other = _mm256_cvtepu32_epi64(_mm256_i64gather_epi32(alias, index, 4));
    // Both sides are below 2^32, so the signed 64-bit compare is an unsigned one.
    const __m256i keep = _mm256_cmpgt_epi64(keep_below, coin);
    return _mm256_blendv_epi8(other, index, keep);
}

// Tables of at most 8 entries live in registers: a lane's entry is one
// permute instead of a gather (slow on AMD and older Intel cores).
struct SmallAlias {
    __m256i count, threshold, alias;
};

SUPERVENT_AVX2 inline __m256i load_small_32(const std::uint32_t* table, std::uint32_t n) {
    alignas(32) std::uint32_t padded[8] = {};
    for (std::uint32_t i = 0; i < n; ++i) padded[i] = table[i];
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(padded));
}

SUPERVENT_AVX2 inline SmallAlias small_alias(const AliasView& t) {
    return {_mm256_set1_epi64x(t.count), load_small_32(t.threshold, t.count), load_small_32(t.alias, t.count)};
}

SUPERVENT_AVX2 inline __m256i alias_small_avx2(__m256i raw, const SmallAlias& t) {
    const __m256i low32 = _mm256_set1_epi64x(0xFFFF'FFFFll);
    const __m256i index = _mm256_srli_epi64(_mm256_mul_epu32(_mm256_srli_epi64(raw, 32), t.count), 32);
    const __m256i coin = _mm256_and_si256(raw, low32);
    // index < 8 sits in each lane's low half (the high half, 0, picks entry 0 there): keep the low half.
    const __m256i keep_below = _mm256_and_si256(_mm256_permutevar8x32_epi32(t.threshold, index), low32);
    const __m256i other = _mm256_and_si256(_mm256_permutevar8x32_epi32(t.alias, index), low32);
    return _mm256_blendv_epi8(other, index, _mm256_cmpgt_epi64(keep_below, coin));
}

constexpr std::uint32_t small_alias_max = 8;

SUPERVENT_AVX2 void sample_alias_avx2(const std::uint64_t* raw, std::size_t count, AliasView table,
                                      std::uint64_t* out) {
    if (table.count <= small_alias_max) {
        const SmallAlias small = small_alias(table);
        for (std::size_t i = 0; i < count; i += 4) {
            const __m256i r = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(raw + i));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), alias_small_avx2(r, small));
        }
        return;
    }
    for (std::size_t i = 0; i < count; i += 4) {
        const __m256i r = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(raw + i));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), alias_avx2(r, table));
    }
}

SUPERVENT_AVX2 void sample_buckets_avx2(const std::uint64_t* raw_pick, const std::uint64_t* raw_value,
                                        std::size_t count, BucketView b, std::uint64_t* out) {
    const auto* lo_table = reinterpret_cast<const long long*>(b.lo);
    const auto* span_table = reinterpret_cast<const long long*>(b.span);
    const __m256i zero = _mm256_setzero_si256();
    if (b.pick.count <= 4) {  // a few buckets (sizes, latencies, private ranges): permutes, no gathers
        const SmallAlias pick = small_alias(b.pick);
        alignas(32) std::uint64_t lo_padded[4] = {}, span_padded[4] = {};
        for (std::uint32_t k = 0; k < b.pick.count; ++k) lo_padded[k] = b.lo[k], span_padded[k] = b.span[k];
        const __m256i lo_table = _mm256_load_si256(reinterpret_cast<const __m256i*>(lo_padded));
        const __m256i span_table = _mm256_load_si256(reinterpret_cast<const __m256i*>(span_padded));
        for (std::size_t i = 0; i < count; i += 4) {
            const __m256i pick_raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(raw_pick + i));
            const __m256i value = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(raw_value + i));
            const __m256i bucket = alias_small_avx2(pick_raw, pick);
            // Dword indices 2b (low half) and 2b + 1 (high half) pick the 64-bit entry b.
            const __m256i twice = _mm256_slli_epi64(bucket, 1);
            const __m256i words = _mm256_or_si256(twice, _mm256_slli_epi64(_mm256_add_epi64(twice, _mm256_set1_epi64x(1)), 32));
            const __m256i lo = _mm256_permutevar8x32_epi32(lo_table, words);
            const __m256i span = _mm256_permutevar8x32_epi32(span_table, words);
            const __m256i high = _mm256_srli_epi64(value, 32);
            const __m256i scaled = _mm256_srli_epi64(_mm256_mul_epu32(high, span), 32);
            const __m256i offset = _mm256_blendv_epi8(scaled, high, _mm256_cmpeq_epi64(span, zero));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_add_epi64(lo, offset));
        }
        return;
    }
    for (std::size_t i = 0; i < count; i += 4) {
        const __m256i pick = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(raw_pick + i));
        const __m256i value = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(raw_value + i));
        const __m256i bucket = alias_avx2(pick, b.pick);
        const __m256i lo = _mm256_i64gather_epi64(lo_table, bucket, 8);
        const __m256i span = _mm256_i64gather_epi64(span_table, bucket, 8);
        const __m256i high = _mm256_srli_epi64(value, 32);
        // span 0 stands for 2^32, whose product shifted down is `high` itself.
        const __m256i scaled = _mm256_srli_epi64(_mm256_mul_epu32(high, span), 32);
        const __m256i offset = _mm256_blendv_epi8(scaled, high, _mm256_cmpeq_epi64(span, zero));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_add_epi64(lo, offset));
    }
}

// keyed_word on four events: s = key + (draw + 1) * inc; the 128-bit product
// s * (s ^ c) from 32-bit halves; its two halves XORed.
SUPERVENT_AVX2 void fill_keyed_avx2(const std::uint64_t* keys, std::size_t count, std::uint64_t draw,
                                    std::uint64_t* out) {
    const __m256i inc = _mm256_set1_epi64x(static_cast<long long>((draw + 1) * 0xA076'1D64'78BD'642Full));
    const __m256i c = _mm256_set1_epi64x(static_cast<long long>(0xE703'7ED1'A0B4'28DBull));
    const __m256i m32 = _mm256_set1_epi64x(0xFFFF'FFFFll);
    for (std::size_t i = 0; i < count; i += 4) {
        const __m256i a = _mm256_add_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(keys + i)), inc);
        const __m256i b = _mm256_xor_si256(a, c);
        const __m256i a1 = _mm256_srli_epi64(a, 32);
        const __m256i b1 = _mm256_srli_epi64(b, 32);
        const __m256i p00 = _mm256_mul_epu32(a, b);
        const __m256i p01 = _mm256_mul_epu32(a, b1);
        const __m256i p10 = _mm256_mul_epu32(a1, b);
        const __m256i p11 = _mm256_mul_epu32(a1, b1);
        const __m256i mid = _mm256_add_epi64(_mm256_add_epi64(_mm256_srli_epi64(p00, 32), _mm256_and_si256(p01, m32)),
                                             _mm256_and_si256(p10, m32));
        const __m256i lo = _mm256_or_si256(_mm256_and_si256(p00, m32), _mm256_slli_epi64(mid, 32));
        const __m256i hi = _mm256_add_epi64(_mm256_add_epi64(p11, _mm256_srli_epi64(p01, 32)),
                                            _mm256_add_epi64(_mm256_srli_epi64(p10, 32), _mm256_srli_epi64(mid, 32)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_xor_si256(lo, hi));
    }
}

// The serializer with AVX available: a 64-byte chunk is two 32-byte moves,
// so nearly every fragment is one unconditional copy.
SUPERVENT_AVX2 char* serialize_avx2(const SerializePlan& plan, std::uint32_t count, char* out,
                                    std::uint32_t* event_ends, const char* base) {
    return serialize_planned<64>(plan, count, out, event_ends, base);
}

constexpr Kernels avx2_set{"avx2", sample_alias_avx2, sample_buckets_avx2, fill_keyed_avx2, serialize_avx2};

}  // namespace

const Kernels* avx2_kernels_if_supported() {
    return __builtin_cpu_supports("avx2") ? &avx2_set : nullptr;
}

}  // namespace supervent::core
