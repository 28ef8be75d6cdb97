#pragma once
// Branch-light number formatting from tables, for the serializer's hot loop.
// Writers may store a few bytes past what they report (see spill_bytes_max);
// the serializer budgets for that, so callers never need exact stores.
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <emmintrin.h>

namespace supervent::core {

// The farthest any writer here (or a fragment copy) stores past its end.
inline constexpr std::size_t spill_bytes_max = 64;  // the AVX-512 serializer's 64-byte chunks

namespace detail {

struct DigitTables {
    // "00".."99"
    std::array<char, 200> pairs{};
    // "000".."999", 4 bytes apart
    std::array<char, 4000> triples{};
    // "0." .. "255.": up to 4 bytes each; length (with the dot) in octet_len.
    std::array<char, 256 * 4> octets{};
    std::array<std::uint8_t, 256> octet_len{};
};

consteval DigitTables make_digit_tables() {
    DigitTables t;
    for (int i = 0; i < 100; ++i) {
        t.pairs[2 * i] = static_cast<char>('0' + i / 10);
        t.pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
    }
    for (int i = 0; i < 1000; ++i) {
        t.triples[4 * i] = static_cast<char>('0' + i / 100);
        t.triples[4 * i + 1] = static_cast<char>('0' + i / 10 % 10);
        t.triples[4 * i + 2] = static_cast<char>('0' + i % 10);
    }
    for (int i = 0; i < 256; ++i) {
        int n = 0;
        if (i >= 100) t.octets[4 * i + n++] = static_cast<char>('0' + i / 100);
        if (i >= 10) t.octets[4 * i + n++] = static_cast<char>('0' + i / 10 % 10);
        t.octets[4 * i + n++] = static_cast<char>('0' + i % 10);
        t.octets[4 * i + n++] = '.';
        t.octet_len[i] = static_cast<std::uint8_t>(n);
    }
    return t;
}

inline constexpr DigitTables digit_tables = make_digit_tables();

inline constexpr std::array<std::uint64_t, 20> powers_of_10 = [] {
    std::array<std::uint64_t, 20> p{};
    std::uint64_t v = 1;
    for (auto& x : p) {
        x = v;
        v *= 10;
    }
    return p;
}();

}  // namespace detail

[[nodiscard]] inline std::uint32_t decimal_digits(std::uint64_t v) {
    // log10 from the bit width (1233/4096 ~ log10(2)), corrected by one compare.
    const std::uint32_t guess = (static_cast<std::uint32_t>(std::bit_width(v | 1)) * 1233) >> 12;
    return guess + 1 - ((v | 1) < detail::powers_of_10[guess] ? 1u : 0u);  // v | 1: 0 has one digit
}

// Writes exactly 2 digits of v < 100.
inline void write_2_digits(char* out, std::uint32_t v) {
    std::memcpy(out, &detail::digit_tables.pairs[2 * v], 2);
}

// Writes exactly 3 digits of v < 1000.
inline void write_3_digits(char* out, std::uint32_t v) {
    std::memcpy(out, &detail::digit_tables.triples[4 * v], 3);
}

// Decimal v, no padding. Returns the end.
inline char* write_uint(char* out, std::uint64_t v) {
    const std::uint32_t digits = decimal_digits(v);
    char* p = out + digits;
    while (v >= 100) {
        p -= 2;
        write_2_digits(p, static_cast<std::uint32_t>(v % 100));
        v /= 100;
    }
    if (v >= 10) {
        write_2_digits(p - 2, static_cast<std::uint32_t>(v));
    } else {
        p[-1] = static_cast<char>('0' + v);
    }
    return out + digits;
}

// Dotted quad; stores up to 16 bytes. Returns the end.
inline char* write_ipv4(char* out, std::uint32_t ip) {
    const auto& t = detail::digit_tables;
    // Unrolled: four independent table loads, only the lengths chain.
    const std::uint32_t a = ip >> 24, b = (ip >> 16) & 0xFF, c = (ip >> 8) & 0xFF, d = ip & 0xFF;
    std::memcpy(out, &t.octets[4 * a], 4);
    out += t.octet_len[a];
    std::memcpy(out, &t.octets[4 * b], 4);
    out += t.octet_len[b];
    std::memcpy(out, &t.octets[4 * c], 4);
    out += t.octet_len[c];
    std::memcpy(out, &t.octets[4 * d], 4);
    return out + t.octet_len[d] - 1;  // drop the last octet's dot
}

// 32 lowercase hex digits of the 128-bit value hi:lo, most significant first.
// SSE2 is part of baseline x86-64, so this needs no dispatch: split bytes
// into nibbles, interleave, and map 0-9/10-15 onto '0'-'9'/'a'-'f'.
inline void write_hex_32(char* out, std::uint64_t hi, std::uint64_t lo) {
    const __m128i bytes = _mm_set_epi64x(static_cast<long long>(__builtin_bswap64(lo)),
                                         static_cast<long long>(__builtin_bswap64(hi)));
    const __m128i nibble = _mm_set1_epi8(0x0F);
    const __m128i high = _mm_and_si128(_mm_srli_epi16(bytes, 4), nibble);
    const __m128i low = _mm_and_si128(bytes, nibble);
    const auto to_ascii = [](__m128i x) {
        const __m128i letter = _mm_cmpgt_epi8(x, _mm_set1_epi8(9));
        return _mm_add_epi8(x, _mm_add_epi8(_mm_set1_epi8('0'), _mm_and_si128(letter, _mm_set1_epi8('a' - '0' - 10))));
    };
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), to_ascii(_mm_unpacklo_epi8(high, low)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), to_ascii(_mm_unpackhi_epi8(high, low)));
}

// `digits` (<= 21) base-62 digits drawn from 128 random bits: each digit is
// the high part of the running value times 62, so every digit uses fresh bits.
inline char* write_base62(char* out, std::uint64_t hi, std::uint64_t lo, std::uint32_t digits) {
    constexpr char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    __extension__ using uint128 = unsigned __int128;
    uint128 x = (static_cast<uint128>(hi) << 64) | lo;
    for (std::uint32_t i = 0; i < digits; ++i) {
        // x * 62 = digit * 2^128 + rest: split into 64-bit halves to keep the carry.
        const uint128 low_product = static_cast<uint128>(static_cast<std::uint64_t>(x)) * 62;
        const uint128 high_product = static_cast<uint128>(static_cast<std::uint64_t>(x >> 64)) * 62 + (low_product >> 64);
        out[i] = alphabet[static_cast<std::uint64_t>(high_product >> 64)];
        x = (high_product << 64) | static_cast<std::uint64_t>(low_product);
    }
    return out + digits;
}

// IPv6 as eight groups of 1-4 lowercase hex digits (RFC 4291 full form: no
// "::" shortening, which random addresses would almost never allow anyway).
// Stores up to 3 bytes past the end.
inline char* write_ipv6(char* out, std::uint64_t hi, std::uint64_t lo) {
    char hex[32 + 4];  // the last group's 4-byte copy may read past the digits
    write_hex_32(hex, hi, lo);
    for (int group = 0; group < 8; ++group) {
        const std::uint64_t half = group < 4 ? hi : lo;
        const auto value = static_cast<std::uint32_t>((half >> (48 - 16 * (group % 4))) & 0xFFFF);
        const std::uint32_t digits = (static_cast<std::uint32_t>(std::bit_width(value | 1)) + 3) / 4;
        std::memcpy(out, hex + 4 * group + 4 - digits, 4);
        out += digits;
        *out++ = ':';
    }
    return out - 1;
}

// 8-4-4-4-12 form of a 128-bit UUID given as two big-endian halves. Writes 36 bytes.
inline void write_uuid(char* out, std::uint64_t hi, std::uint64_t lo) {
    char hex[32];
    write_hex_32(hex, hi, lo);
    std::memcpy(out, hex, 8);
    out[8] = '-';
    std::memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    std::memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    std::memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    std::memcpy(out + 24, hex + 20, 12);
}

}  // namespace supervent::core

namespace supervent::core {

// Copies n bytes in 32-byte chunks: reads and stores up to 31 bytes past n.
// The source must be readable that far (pools are padded); the destination's
// extra bytes are overwritten by whatever is written next.
inline char* copy_spilling(char* out, const char* src, std::size_t n) {
    // Most fragments fit one chunk: copy it unconditionally, loop only for the rest.
    std::memcpy(out, src, 32);
    for (std::size_t i = 32; i < n; i += 32) std::memcpy(out + i, src + i, 32);
    return out + n;
}

// v zero-padded to exactly `digits` digits (v < 10^digits).
inline void write_padded(char* out, std::uint64_t v, std::uint32_t digits) {
    for (std::uint32_t i = digits; i >= 2; i -= 2) {
        write_2_digits(out + i - 2, static_cast<std::uint32_t>(v % 100));
        v /= 100;
    }
    if (digits % 2 == 1) out[0] = static_cast<char>('0' + v);
}

}  // namespace supervent::core
