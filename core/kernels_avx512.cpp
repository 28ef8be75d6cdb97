// AVX-512 kernels (F + VL): eight 64-bit lanes a vector. Like the AVX2 set,
// only these functions carry the target
// attribute, and the set is offered only when the CPU has the features.
// GCC 12's _mm512_undefined_epi32() initialises a value from itself on
// purpose, which -Wmaybe-uninitialized reports wherever an intrinsic using it
// is inlined. It is a known false positive (GCC bug 105593); silence it here only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "core/kernels.hpp"
#include "core/serialize.hpp"

namespace supervent::core {
namespace {

#define SUPERVENT_AVX512 __attribute__((target("avx512f,avx512vl")))

// Eight alias samples as 64-bit lanes.
SUPERVENT_AVX512 inline __m512i alias_avx512(__m512i raw, const AliasView& t) {
    const __m512i index = _mm512_srli_epi64(_mm512_mul_epu32(_mm512_srli_epi64(raw, 32), _mm512_set1_epi64(t.count)), 32);
    const __m512i coin = _mm512_and_si512(raw, _mm512_set1_epi64(0xFFFF'FFFFll));
    const __m512i keep_below = _mm512_cvtepu32_epi64(_mm512_i64gather_epi32(index, t.threshold, 4));
    const __m512i other = _mm512_cvtepu32_epi64(_mm512_i64gather_epi32(index, t.alias, 4));
    return _mm512_mask_blend_epi64(_mm512_cmplt_epu64_mask(coin, keep_below), other, index);
}

// A table of at most 16 entries held in two registers: a lane's entry is a
// permute (one instruction) instead of a gather (many uops on every x86 that
// has them). Most choices are that small (protocols, statuses, agents).
struct SmallAlias {
    __m512i count, threshold, alias;
};

SUPERVENT_AVX512 inline SmallAlias small_alias(const AliasView& t) {
    const auto present = static_cast<__mmask16>((1u << t.count) - 1);
    return {_mm512_set1_epi64(t.count), _mm512_maskz_loadu_epi32(present, t.threshold),
            _mm512_maskz_loadu_epi32(present, t.alias)};
}

SUPERVENT_AVX512 inline __m512i alias_small_avx512(__m512i raw, const SmallAlias& t) {
    const __m512i low32 = _mm512_set1_epi64(0xFFFF'FFFFll);
    const __m512i index = _mm512_srli_epi64(_mm512_mul_epu32(_mm512_srli_epi64(raw, 32), t.count), 32);
    const __m512i coin = _mm512_and_si512(raw, low32);
    // index < 16 sits in each lane's low half (its high half is 0, picking entry 0 there): keep the low half.
    const __m512i keep_below = _mm512_and_si512(_mm512_permutexvar_epi32(index, t.threshold), low32);
    const __m512i other = _mm512_and_si512(_mm512_permutexvar_epi32(index, t.alias), low32);
    return _mm512_mask_blend_epi64(_mm512_cmplt_epu64_mask(coin, keep_below), other, index);
}

constexpr std::uint32_t small_alias_max = 16;

SUPERVENT_AVX512 void sample_alias_avx512(const std::uint64_t* raw, std::size_t count, AliasView table,
                                          std::uint64_t* out) {
    if (table.count <= small_alias_max) {
        const SmallAlias small = small_alias(table);
        for (std::size_t i = 0; i < count; i += rng_lanes) {
            _mm512_storeu_si512(out + i, alias_small_avx512(_mm512_loadu_si512(raw + i), small));
        }
        return;
    }
    for (std::size_t i = 0; i < count; i += rng_lanes) {
        _mm512_storeu_si512(out + i, alias_avx512(_mm512_loadu_si512(raw + i), table));
    }
}

SUPERVENT_AVX512 void sample_buckets_avx512(const std::uint64_t* raw_pick, const std::uint64_t* raw_value,
                                            std::size_t count, BucketView b, std::uint64_t* out) {
    if (b.pick.count <= rng_lanes) {  // a few buckets (sizes, latencies, private ranges): permutes, no gathers
        const SmallAlias pick = small_alias(b.pick);
        const auto present = static_cast<__mmask8>((1u << b.pick.count) - 1);
        const __m512i lo_table = _mm512_maskz_loadu_epi64(present, b.lo);
        const __m512i span_table = _mm512_maskz_loadu_epi64(present, b.span);
        for (std::size_t i = 0; i < count; i += rng_lanes) {
            const __m512i bucket = alias_small_avx512(_mm512_loadu_si512(raw_pick + i), pick);
            const __m512i lo = _mm512_permutexvar_epi64(bucket, lo_table);
            const __m512i span = _mm512_permutexvar_epi64(bucket, span_table);
            const __m512i high = _mm512_srli_epi64(_mm512_loadu_si512(raw_value + i), 32);
            const __m512i scaled = _mm512_srli_epi64(_mm512_mul_epu32(high, span), 32);
            const __mmask8 full = _mm512_cmpeq_epi64_mask(span, _mm512_setzero_si512());
            _mm512_storeu_si512(out + i, _mm512_add_epi64(lo, _mm512_mask_blend_epi64(full, scaled, high)));
        }
        return;
    }
    for (std::size_t i = 0; i < count; i += rng_lanes) {
        const __m512i bucket = alias_avx512(_mm512_loadu_si512(raw_pick + i), b.pick);
        const __m512i lo = _mm512_i64gather_epi64(bucket, b.lo, 8);
        const __m512i span = _mm512_i64gather_epi64(bucket, b.span, 8);
        const __m512i high = _mm512_srli_epi64(_mm512_loadu_si512(raw_value + i), 32);
        // span 0 stands for 2^32, whose product shifted down is `high` itself.
        const __m512i scaled = _mm512_srli_epi64(_mm512_mul_epu32(high, span), 32);
        const __mmask8 full = _mm512_cmpeq_epi64_mask(span, _mm512_setzero_si512());
        _mm512_storeu_si512(out + i, _mm512_add_epi64(lo, _mm512_mask_blend_epi64(full, scaled, high)));
    }
}

// keyed_word on eight events, as fill_keyed_avx2 does on four.
SUPERVENT_AVX512 void fill_keyed_avx512(const std::uint64_t* keys, std::size_t count, std::uint64_t draw,
                                        std::uint64_t* out) {
    const __m512i inc = _mm512_set1_epi64(static_cast<long long>((draw + 1) * 0xA076'1D64'78BD'642Full));
    const __m512i c = _mm512_set1_epi64(static_cast<long long>(0xE703'7ED1'A0B4'28DBull));
    const __m512i m32 = _mm512_set1_epi64(0xFFFF'FFFFll);
    for (std::size_t i = 0; i < count; i += 8) {
        const __m512i a = _mm512_add_epi64(_mm512_loadu_si512(keys + i), inc);
        const __m512i b = _mm512_xor_si512(a, c);
        const __m512i a1 = _mm512_srli_epi64(a, 32);
        const __m512i b1 = _mm512_srli_epi64(b, 32);
        const __m512i p00 = _mm512_mul_epu32(a, b);
        const __m512i p01 = _mm512_mul_epu32(a, b1);
        const __m512i p10 = _mm512_mul_epu32(a1, b);
        const __m512i p11 = _mm512_mul_epu32(a1, b1);
        const __m512i mid = _mm512_add_epi64(_mm512_add_epi64(_mm512_srli_epi64(p00, 32), _mm512_and_si512(p01, m32)),
                                             _mm512_and_si512(p10, m32));
        const __m512i lo = _mm512_or_si512(_mm512_and_si512(p00, m32), _mm512_slli_epi64(mid, 32));
        const __m512i hi = _mm512_add_epi64(_mm512_add_epi64(p11, _mm512_srli_epi64(p01, 32)),
                                            _mm512_add_epi64(_mm512_srli_epi64(p10, 32), _mm512_srli_epi64(mid, 32)));
        _mm512_storeu_si512(out + i, _mm512_xor_si512(lo, hi));
    }
}

// The serializer in 64-byte chunks: most fragments and texts are one chunk,
// a user agent two instead of four or five.
SUPERVENT_AVX512 char* serialize_avx512(const SerializePlan& plan, std::uint32_t count, char* out,
                                        std::uint32_t* event_ends, const char* base) {
    return serialize_planned<64>(plan, count, out, event_ends, base);
}

constexpr Kernels avx512_set{"avx512", sample_alias_avx512, sample_buckets_avx512,
                             fill_keyed_avx512, serialize_avx512};

}  // namespace

const Kernels* avx512_kernels_if_supported() {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") ? &avx512_set : nullptr;
}

}  // namespace supervent::core
