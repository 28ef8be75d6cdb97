// CompletionTag: io_uring user_data is encoded and decoded in one place.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>

#include "net/completion_tag.hpp"

using supervent::net::CompletionTag;
using supervent::net::Op;

TEST_CASE("CompletionTag: random tags round trip", "[completion_tag]") {
    const Op ops[] = {Op::none, Op::connect, Op::send, Op::recv, Op::write, Op::wake};
    std::mt19937_64 rng(Catch::rngSeed());
    for (int i = 0; i < 100'000; ++i) {
        const CompletionTag tag{ops[rng() % 6], static_cast<std::uint32_t>(rng()) & CompletionTag::target_index_max,
                                static_cast<std::uint32_t>(rng())};
        const CompletionTag back = CompletionTag::decode(tag.encode());
        REQUIRE(back.op == tag.op);
        REQUIRE(back.target_index == tag.target_index);
        REQUIRE(back.generation == tag.generation);
    }
}

TEST_CASE("CompletionTag: the extremes of each field", "[completion_tag]") {
    const CompletionTag max_tag{Op::wake, CompletionTag::target_index_max, 0xffffffffu};
    const CompletionTag back = CompletionTag::decode(max_tag.encode());
    CHECK(back.op == Op::wake);
    CHECK(back.target_index == CompletionTag::target_index_max);
    CHECK(back.generation == 0xffffffffu);

    const CompletionTag zero = CompletionTag::decode(CompletionTag{}.encode());
    CHECK(zero.op == Op::none);
    CHECK(zero.target_index == 0);
    CHECK(zero.generation == 0);
    CHECK(CompletionTag{}.encode() == 0);
}

TEST_CASE("CompletionTag: an oversized index cannot spill into the op", "[completion_tag]") {
    const CompletionTag tag{Op::recv, 0xffffffffu, 5};
    const CompletionTag back = CompletionTag::decode(tag.encode());
    CHECK(back.op == Op::recv);
    CHECK(back.target_index == CompletionTag::target_index_max);
    CHECK(back.generation == 5);
}

TEST_CASE("CompletionTag: every 64-bit value decodes and re-encodes to itself", "[completion_tag]") {
    std::mt19937_64 rng(Catch::rngSeed() + 1);
    for (int i = 0; i < 100'000; ++i) {
        const std::uint64_t user_data = rng();
        REQUIRE(CompletionTag::decode(user_data).encode() == user_data);
    }
}
