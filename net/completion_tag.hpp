#pragma once
// The one place where io_uring user_data is encoded and decoded.
//
// Layout (64 bits): op (8) | target index (24) | generation (32).
// What target and generation hold depends on the op, so tags are made only by
// the named constructors below and read only through the accessors that match:
//
//   connect, recv, tls_send, frames_send, ack_send  target = connection, generation = its socket's
//   send                     target = slot, generation = connection (8) | its
//                            socket's generation, low 24 bits (24): the result
//                            and the zero-copy notification must find the
//                            buffer even after the connection has gone
//   write                    target = slot (a file stream has one socket-less
//                            descriptor: no generation)
//
// The generation changes every time a connection gets a new socket, so a late
// completion from an old socket can be told from one of the new socket.
#include <cassert>
#include <cstdint>

#include "core/bounds.hpp"

namespace supervent::net {

enum class Op : std::uint8_t {
    none = 0,
    connect = 1,
    send = 2,   // SEND_ZC or WRITE_FIXED on a socket (a notification CQE carries the same tag)
    recv = 3,
    write = 4,  // WRITE_FIXED on a file
    wake = 5,   // a timeout used only to wake the loop
    tls_send = 6,  // ciphertext from a connection's own buffer (HTTPS); target = connection
    frames_send = 7,  // syslog frames from a connection's own buffer (net/syslog_transport.hpp); target = connection
    ack_send = 8,     // a Splunk HEC ack poll from the transport's own buffer (net/api_acks.hpp); target = connection
};

class CompletionTag {
public:
    static constexpr std::uint32_t target_index_max = (1u << 24) - 1;
    static constexpr std::uint32_t send_connection_bits = 8;
    static constexpr std::uint32_t send_connection_index_max = (1u << send_connection_bits) - 1;
    static constexpr std::uint32_t send_generation_max = (1u << (32 - send_connection_bits)) - 1;

    // Public: every completion is dispatched on it. The rest is reached through
    // the accessors, which know what the op put there.
    Op op = Op::none;

    constexpr CompletionTag() = default;

    // connect, recv or tls_send on a connection's current socket.
    [[nodiscard]] static constexpr CompletionTag connection(Op op, std::uint32_t connection_index,
                                                            std::uint32_t generation) {
        assert(op == Op::connect || op == Op::recv || op == Op::tls_send || op == Op::frames_send || op == Op::ack_send);
        return CompletionTag{op, connection_index, generation};
    }
    // A send of a slot on a connection; the generation keeps its low 24 bits.
    [[nodiscard]] static constexpr CompletionTag send(std::uint32_t slot_index, std::uint32_t connection_index,
                                                      std::uint32_t generation) {
        assert(connection_index <= send_connection_index_max);
        return CompletionTag{Op::send, slot_index,
                             (connection_index << (32 - send_connection_bits)) | (generation & send_generation_max)};
    }
    // A write of a slot to a file.
    [[nodiscard]] static constexpr CompletionTag file_write(std::uint32_t slot_index) {
        return CompletionTag{Op::write, slot_index, 0};
    }

    [[nodiscard]] constexpr std::uint64_t encode() const {
        return (std::uint64_t{static_cast<std::uint8_t>(op)} << 56) |
               (std::uint64_t{target_index_ & target_index_max} << 32) | generation_;
    }
    [[nodiscard]] static constexpr CompletionTag decode(std::uint64_t user_data) {
        return CompletionTag{static_cast<Op>(user_data >> 56),
                             static_cast<std::uint32_t>((user_data >> 32) & target_index_max),
                             static_cast<std::uint32_t>(user_data)};
    }

    [[nodiscard]] constexpr std::uint32_t slot_index() const {
        assert(op == Op::send || op == Op::write);
        return target_index_;
    }
    [[nodiscard]] constexpr std::uint32_t connection_index() const {
        if (op == Op::send) return generation_ >> (32 - send_connection_bits);
        assert(op == Op::connect || op == Op::recv || op == Op::tls_send || op == Op::frames_send || op == Op::ack_send);
        return target_index_;
    }
    // The socket generation as far as the tag holds it (24 bits for a send).
    [[nodiscard]] constexpr std::uint32_t connection_generation() const {
        if (op == Op::send) return generation_ & send_generation_max;
        assert(op == Op::connect || op == Op::recv || op == Op::tls_send || op == Op::frames_send || op == Op::ack_send);
        return generation_;
    }

private:
    constexpr CompletionTag(Op op_, std::uint32_t target_index, std::uint32_t generation)
        : op(op_), target_index_(target_index), generation_(generation) {}

    std::uint32_t target_index_ = 0;  // < 2^24
    std::uint32_t generation_ = 0;
};

static_assert(bounds::connections_per_shard_max - 1 <= CompletionTag::send_connection_index_max,
              "a send tag has 8 bits for the connection");
static_assert(bounds::slots_per_shard_max - 1 <= CompletionTag::target_index_max);
static_assert(bounds::http_slots_per_shard_max - 1 <= CompletionTag::target_index_max);
static_assert(CompletionTag::decode(CompletionTag::connection(Op::recv, 77, 0xdeadbeef).encode()).connection_index() == 77);
static_assert(CompletionTag::decode(CompletionTag::send(5, 63, 0xdeadbeef).encode()).connection_index() == 63);
static_assert(CompletionTag::decode(CompletionTag::send(5, 63, 0xdeadbeef).encode()).connection_generation() == 0xadbeef);

}  // namespace supervent::net
