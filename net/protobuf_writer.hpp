#pragma once
// A minimal protocol buffers wire-format writer (and reader) for the OTLP
// protobuf bodies (net/api_bodies.cpp) and replies (net/api_replies.cpp):
// varints, fixed64, length-delimited fields. No generated code, no library,
// no allocation: the caller's buffer is written front to back.
//
// A nested message's length comes before its contents, which are not known
// yet: open() reserves as many bytes as the varint of an upper bound of the
// length needs, close() writes the real length there and, when it needs
// fewer bytes than reserved (a bound past 127 or 16383 for a shorter
// message), moves the contents back by the difference. A tight bound (each
// caller's is the most its contents can take) makes that move rare, and the
// bytes on the wire are canonical (minimal varints) either way.
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace supervent::net::pb {

enum class Wire : std::uint8_t { varint = 0, fixed64 = 1, len = 2, fixed32 = 5 };

[[nodiscard]] constexpr std::size_t varint_bytes(std::uint64_t value) {
    std::size_t bytes = 1;
    while (value >= 0x80) {
        value >>= 7;
        ++bytes;
    }
    return bytes;
}

inline char* put_varint(char* o, std::uint64_t value) {
    while (value >= 0x80) {
        *o++ = static_cast<char>(static_cast<std::uint8_t>(value) | 0x80);
        value >>= 7;
    }
    *o++ = static_cast<char>(value);
    return o;
}

inline char* put_tag(char* o, std::uint32_t field, Wire wire) {
    return put_varint(o, (std::uint64_t{field} << 3) | static_cast<std::uint8_t>(wire));
}

inline char* put_varint_field(char* o, std::uint32_t field, std::uint64_t value) {
    return put_varint(put_tag(o, field, Wire::varint), value);
}

inline char* put_fixed64_field(char* o, std::uint32_t field, std::uint64_t value) {
    o = put_tag(o, field, Wire::fixed64);
    for (int i = 0; i < 8; ++i) *o++ = static_cast<char>(value >> (8 * i));  // little-endian
    return o;
}

inline char* put_double_field(char* o, std::uint32_t field, double value) {
    return put_fixed64_field(o, field, std::bit_cast<std::uint64_t>(value));
}

inline char* put_bytes_field(char* o, std::uint32_t field, std::string_view bytes) {
    o = put_varint(put_tag(o, field, Wire::len), bytes.size());
    if (!bytes.empty()) std::memcpy(o, bytes.data(), bytes.size());
    return o + bytes.size();
}

// A length-delimited field being written: where its length goes.
struct Nested {
    char* length_at = nullptr;
    std::size_t reserved = 0;
};

// Starts field `field` (a message or string) whose contents will be at most `bound` bytes.
inline Nested open(char*& o, std::uint32_t field, std::size_t bound) {
    o = put_tag(o, field, Wire::len);
    const Nested nested{o, varint_bytes(bound)};
    o += nested.reserved;
    return nested;
}

// Ends the field `nested` at o; returns the new end (moved back when the
// length needed fewer bytes than reserved).
inline char* close(const Nested& nested, char* o) {
    char* const contents = nested.length_at + nested.reserved;
    const auto length = static_cast<std::size_t>(o - contents);
    const std::size_t need = varint_bytes(length);
    assert(need <= nested.reserved && "the bound given to open() was too small");
    if (need < nested.reserved) {
        std::memmove(nested.length_at + need, contents, length);
        o -= nested.reserved - need;
    }
    put_varint(nested.length_at, length);
    return o;
}

// ---- reading (replies) --------------------------------------------------------

// One field of a message: its number, wire type and value (a varint's or
// fixed's value, or a length-delimited field's bytes).
struct Field {
    std::uint32_t number = 0;
    Wire wire = Wire::varint;
    std::uint64_t value = 0;
    std::string_view bytes;
};

inline bool get_varint(std::string_view& in, std::uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
        const auto byte = static_cast<std::uint8_t>(in.front());
        in.remove_prefix(1);
        value |= std::uint64_t{byte & 0x7fu} << shift;
        if ((byte & 0x80) == 0) return true;
    }
    return false;
}

// The next field of `in` (consumed); false at the end or on malformed input.
inline bool next_field(std::string_view& in, Field& field) {
    std::uint64_t key = 0;
    if (in.empty() || !get_varint(in, key)) return false;
    field.number = static_cast<std::uint32_t>(key >> 3);
    field.wire = static_cast<Wire>(key & 7);
    field.bytes = {};
    switch (field.wire) {
        case Wire::varint: return get_varint(in, field.value);
        case Wire::fixed64:
        case Wire::fixed32: {
            const std::size_t bytes = field.wire == Wire::fixed64 ? 8 : 4;
            if (in.size() < bytes) return false;
            field.value = 0;
            for (std::size_t i = 0; i < bytes; ++i) field.value |= std::uint64_t{static_cast<std::uint8_t>(in[i])} << (8 * i);
            in.remove_prefix(bytes);
            return true;
        }
        case Wire::len: {
            std::uint64_t length = 0;
            if (!get_varint(in, length) || length > in.size()) return false;
            field.bytes = in.substr(0, length);
            in.remove_prefix(length);
            return true;
        }
    }
    return false;
}

}  // namespace supervent::net::pb
