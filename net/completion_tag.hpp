#pragma once
// The one place where io_uring user_data is encoded and decoded.
//
// Layout (64 bits): op (8) | target index (24) | generation (32).
// The target is a connection or a file stream; the generation changes every
// time that target gets a new socket, so a late completion from an old
// socket is recognised and ignored instead of corrupting the new one.
#include <cstdint>

namespace supervent::net {

enum class Op : std::uint8_t {
    none = 0,
    connect = 1,
    send = 2,   // SEND_ZC or WRITE_FIXED on a socket (a notification CQE carries the same tag)
    recv = 3,
    write = 4,  // WRITE_FIXED on a file
    wake = 5,   // a timeout used only to wake the loop
    tls_send = 6,  // ciphertext from a connection's own buffer (HTTPS); target = connection
};

struct CompletionTag {
    Op op = Op::none;
    std::uint32_t target_index = 0;  // < 2^24
    std::uint32_t generation = 0;

    static constexpr std::uint32_t target_index_max = (1u << 24) - 1;

    [[nodiscard]] constexpr std::uint64_t encode() const {
        return (std::uint64_t{static_cast<std::uint8_t>(op)} << 56) |
               (std::uint64_t{target_index & target_index_max} << 32) | generation;
    }
    [[nodiscard]] static constexpr CompletionTag decode(std::uint64_t user_data) {
        return CompletionTag{static_cast<Op>(user_data >> 56),
                             static_cast<std::uint32_t>((user_data >> 32) & target_index_max),
                             static_cast<std::uint32_t>(user_data)};
    }
};

static_assert(CompletionTag::decode(CompletionTag{Op::recv, 77, 0xdeadbeef}.encode()).target_index == 77);
static_assert(CompletionTag::decode(CompletionTag{Op::recv, 77, 0xdeadbeef}.encode()).generation == 0xdeadbeef);
static_assert(CompletionTag::decode(CompletionTag{Op::wake, 1, 2}.encode()).op == Op::wake);

}  // namespace supervent::net
