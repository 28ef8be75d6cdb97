// CompletionTag: io_uring user_data is encoded and decoded in one place, and
// each op's packing is read back through the accessor its completion uses.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>

#include "net/completion_tag.hpp"

using supervent::net::CompletionTag;
using supervent::net::Op;

namespace {

constexpr std::uint32_t generation_max = 0xffffffffu;
constexpr std::uint32_t slot_max = CompletionTag::target_index_max;
constexpr std::uint32_t connection_max = CompletionTag::send_connection_index_max;

CompletionTag round_trip(CompletionTag tag) { return CompletionTag::decode(tag.encode()); }

}  // namespace

TEST_CASE("CompletionTag: connection tags (connect, recv, tls_send) keep the index and the whole generation",
          "[completion_tag]") {
    const Op op = GENERATE(Op::connect, Op::recv, Op::tls_send);
    const std::uint32_t index = GENERATE(0u, 1u, 77u, CompletionTag::target_index_max);
    const std::uint32_t generation = GENERATE(0u, 1u, 0xdeadbeefu, generation_max);
    const CompletionTag back = round_trip(CompletionTag::connection(op, index, generation));
    CHECK(back.op == op);
    CHECK(back.connection_index() == index);
    CHECK(back.connection_generation() == generation);
}

TEST_CASE("CompletionTag: a send tag keeps the slot, the connection and the generation's low 24 bits",
          "[completion_tag]") {
    const std::uint32_t slot = GENERATE(0u, 1u, 129u, slot_max);
    const std::uint32_t connection = GENERATE(0u, 1u, 63u, connection_max);
    const std::uint32_t generation = GENERATE(0u, 1u, CompletionTag::send_generation_max, generation_max);
    const CompletionTag back = round_trip(CompletionTag::send(slot, connection, generation));
    CHECK(back.op == Op::send);
    CHECK(back.slot_index() == slot);
    CHECK(back.connection_index() == connection);
    CHECK(back.connection_generation() == (generation & CompletionTag::send_generation_max));
}

TEST_CASE("CompletionTag: a file write tag keeps the slot", "[completion_tag]") {
    const std::uint32_t slot = GENERATE(0u, 1u, slot_max);
    const CompletionTag back = round_trip(CompletionTag::file_write(slot));
    CHECK(back.op == Op::write);
    CHECK(back.slot_index() == slot);
}

TEST_CASE("CompletionTag: random tags of every packing round trip", "[completion_tag]") {
    std::mt19937_64 rng(Catch::rngSeed());
    for (int i = 0; i < 100'000; ++i) {
        const auto slot = static_cast<std::uint32_t>(rng()) & slot_max;
        const auto connection = static_cast<std::uint32_t>(rng()) & connection_max;
        const auto generation = static_cast<std::uint32_t>(rng());
        const CompletionTag on_connection = round_trip(CompletionTag::connection(Op::recv, slot, generation));
        REQUIRE(on_connection.connection_index() == slot);
        REQUIRE(on_connection.connection_generation() == generation);
        const CompletionTag send = round_trip(CompletionTag::send(slot, connection, generation));
        REQUIRE(send.slot_index() == slot);
        REQUIRE(send.connection_index() == connection);
        REQUIRE(send.connection_generation() == (generation & CompletionTag::send_generation_max));
        REQUIRE(round_trip(CompletionTag::file_write(slot)).slot_index() == slot);
    }
}

TEST_CASE("CompletionTag: the default tag is op none and encodes to 0", "[completion_tag]") {
    CHECK(CompletionTag{}.encode() == 0);
    CHECK(CompletionTag::decode(0).op == Op::none);
}

TEST_CASE("CompletionTag: an oversized index cannot spill into the op", "[completion_tag]") {
    const CompletionTag back = round_trip(CompletionTag::connection(Op::recv, 0xffffffffu, 5));
    CHECK(back.op == Op::recv);
    CHECK(back.connection_index() == CompletionTag::target_index_max);
    CHECK(back.connection_generation() == 5);
}

TEST_CASE("CompletionTag: every 64-bit value decodes and re-encodes to itself", "[completion_tag]") {
    // Covers the ops no constructor makes (none, wake): whatever the ring
    // hands back decodes without loss.
    std::mt19937_64 rng(Catch::rngSeed() + 1);
    for (int i = 0; i < 100'000; ++i) {
        const std::uint64_t user_data = rng();
        REQUIRE(CompletionTag::decode(user_data).encode() == user_data);
    }
    CHECK(CompletionTag::decode(std::uint64_t{static_cast<std::uint8_t>(Op::wake)} << 56).op == Op::wake);
}
