#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "core/digits.hpp"
#include "core/rng.hpp"

using namespace supervent::core;

namespace {
std::string uint_text(std::uint64_t v) {
    char buf[64];
    return std::string(buf, write_uint(buf, v));
}
}  // namespace

TEST_CASE("write_uint matches std::to_string at every digit boundary", "[digits]") {
    std::uint64_t p = 1;
    for (int d = 0; d < 20; ++d) {
        for (const std::uint64_t v : {p - 1, p, p + 1, p * 9, p * 5 + 3}) {
            CHECK(uint_text(v) == std::to_string(v));
            CHECK(decimal_digits(v) == std::to_string(v).size());
        }
        if (d < 19) p *= 10;
    }
    CHECK(uint_text(UINT64_MAX) == std::to_string(UINT64_MAX));
}

TEST_CASE("write_padded pads with zeros", "[digits]") {
    char buf[16] = {};
    write_padded(buf, 7, 3);
    CHECK(std::string(buf, 3) == "007");
    write_padded(buf, 12345, 6);
    CHECK(std::string(buf, 6) == "012345");
}

TEST_CASE("write_ipv4 prints dotted quads", "[digits]") {
    char buf[32];
    CHECK(std::string(buf, write_ipv4(buf, 0x0A010203)) == "10.1.2.3");
    CHECK(std::string(buf, write_ipv4(buf, 0xFFFFFFFF)) == "255.255.255.255");
    CHECK(std::string(buf, write_ipv4(buf, 0)) == "0.0.0.0");
    CHECK(std::string(buf, write_ipv4(buf, 0xC0A86401)) == "192.168.100.1");
}

TEST_CASE("write_uuid prints 8-4-4-4-12 lowercase hex", "[digits]") {
    char buf[36];
    write_uuid(buf, 0x0123456789ABCDEFull, 0xFEDCBA9876543210ull);
    CHECK(std::string(buf, 36) == "01234567-89ab-cdef-fedc-ba9876543210");
}

TEST_CASE("write_hex_32 matches a byte-by-byte rendering", "[digits]") {
    std::uint64_t seed = 3;
    for (int i = 0; i < 1000; ++i) {
        const std::uint64_t hi = i == 0 ? 0 : i == 1 ? UINT64_MAX : splitmix64_next(seed);
        const std::uint64_t lo = i == 0 ? 0 : i == 1 ? UINT64_MAX : splitmix64_next(seed);
        char got[32];
        write_hex_32(got, hi, lo);
        std::string want;
        for (const std::uint64_t half : {hi, lo}) {
            for (int shift = 60; shift >= 0; shift -= 4) want += "0123456789abcdef"[(half >> shift) & 15];
        }
        CHECK(std::string(got, 32) == want);
    }
}
