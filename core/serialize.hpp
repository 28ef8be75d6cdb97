#pragma once
// The per-event serializer loop, written once and compiled once per kernel
// set (kernels_*.cpp instantiate serialize_planned<Chunk> inside a function
// carrying their target attribute), so fixed-size fragment copies become
// one or two vector moves of that set's width: 32-byte SSE pairs for the
// scalar set, 32-byte AVX moves for AVX2, 64-byte chunks for AVX-512.
//
// A ProgramSource resolves its program's puts into PlannedPuts once, at
// construction: pointers to the literal, to the value columns of the block
// and to the text table's entries, so a put costs no table-of-tables lookups.
// Output bytes are the same for every Chunk: only how far a copy spills past
// its end differs, and spill_bytes_max covers the widest.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/digits.hpp"
#include "core/program.hpp"
#include "core/time_format.hpp"

namespace supervent::core {

struct PlannedPut {
    const char* literal = nullptr;
    std::uint32_t literal_bytes = 0;
    PutKind kind = PutKind::literal_only;
    std::uint8_t scale = 0;
    const std::uint64_t* column = nullptr;   // the block's values of the put's column
    const std::uint64_t* column2 = nullptr;  // the next column (UUID, hex, base62, IPv6 low halves)
    const TextEntry* entries = nullptr;      // text: the first entry of its table
    const TimeFormat* time = nullptr;        // time: the format and this shard's cache of it
    TimeFormatCache* cache = nullptr;
};

struct PlannedShape {
    const PlannedPut* first = nullptr;
    std::uint32_t count = 0;  // puts before the tail
    // The shape's closing literal ("}}\n"), copied after the puts without a
    // dispatch of its own.
    const char* tail = nullptr;
    std::uint32_t tail_bytes = 0;
};

struct SerializePlan {
    const char* pool = nullptr;
    const PlannedShape* shapes = nullptr;
    const std::uint64_t* shape_column = nullptr;  // the block's shape per event; null: shape 0
};

namespace serialize_detail {

// Copies n bytes in Chunk-byte pieces: reads and stores up to Chunk - 1
// bytes past n (pools and caches are padded by spill_bytes_max).
template <std::size_t Chunk>
[[gnu::always_inline]] inline char* copy_chunks(char* out, const char* src, std::size_t n) {
    static_assert(Chunk <= spill_bytes_max);
    std::memcpy(out, src, Chunk);
    for (std::size_t i = Chunk; i < n; i += Chunk) std::memcpy(out + i, src + i, Chunk);
    return out + n;
}

inline char* write_int(char* out, std::int64_t v) {
    if (v < 0) *out++ = '-';
    return write_uint(out, v < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v));
}

inline char* write_fixed(char* out, std::int64_t v, std::uint32_t scale) {
    if (v < 0) *out++ = '-';
    const std::uint64_t magnitude = v < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    const std::uint64_t unit = detail::powers_of_10[scale];
    out = write_uint(out, magnitude / unit);
    *out++ = '.';
    if (scale == 3) {  // the common case (milliseconds): one table copy, no loop
        write_3_digits(out, static_cast<std::uint32_t>(magnitude % 1000));
        return out + 3;
    }
    write_padded(out, magnitude % unit, scale);
    return out + scale;
}

inline std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    const std::int64_t q = a / b;
    return q - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

template <std::size_t Chunk>
[[gnu::always_inline]] inline char* put_value(const PlannedPut& op, const char* pool, std::uint32_t event, char* out) {
    const std::uint64_t value = op.column[event];
    if (op.kind == PutKind::text) [[likely]] {  // most puts: one predictable branch instead of the jump table
        const TextEntry t = op.entries[value];
        return copy_chunks<Chunk>(out, pool + t.offset, t.bytes);
    }
    switch (op.kind) {
        case PutKind::literal_only:
            return out;
        case PutKind::text: {
            const TextEntry t = op.entries[value];
            return copy_chunks<Chunk>(out, pool + t.offset, t.bytes);
        }
        case PutKind::uint_decimal:
            return write_uint(out, value);
        case PutKind::int_decimal:
            return write_int(out, static_cast<std::int64_t>(value));
        case PutKind::fixed_decimal:
            return write_fixed(out, static_cast<std::int64_t>(value), op.scale);
        case PutKind::ipv4:
            return write_ipv4(out, static_cast<std::uint32_t>(value));
        case PutKind::uuid:
            write_uuid(out, value, op.column2[event]);
            return out + 36;
        case PutKind::hex: {
            alignas(64) char hex[spill_bytes_max];
            write_hex_32(hex, value, op.column2[event]);
            return copy_chunks<Chunk>(out, hex, op.scale);
        }
        case PutKind::base62:
            return write_base62(out, value, op.column2[event], op.scale);
        case PutKind::ipv6:
            return write_ipv6(out, value, op.column2[event]);
        case PutKind::time:
            return op.time->write(out, static_cast<std::int64_t>(value), *op.cache);
        case PutKind::span_hex: {
            if (value == 0) return out;
            alignas(32) char hex[32];
            write_hex_32(hex, value, 0);
            std::memcpy(out, hex, 16);
            return out + 16;
        }
        case PutKind::epoch:
            return write_int(out, floor_div(static_cast<std::int64_t>(value),
                                            static_cast<std::int64_t>(detail::powers_of_10[9 - op.scale])));
    }
    return out;
}

}  // namespace serialize_detail

// Serializes events 0..count-1 of the block; event_ends, when given, gets
// the offset from `base` just past each event. Returns the end.
template <std::size_t Chunk>
[[gnu::always_inline]] inline char* serialize_planned(const SerializePlan& plan, std::uint32_t count, char* out,
                                                      std::uint32_t* event_ends, const char* base) {
    const char* pool = plan.pool;
    for (std::uint32_t e = 0; e < count; ++e) {
        const PlannedShape shape = plan.shapes[plan.shape_column ? plan.shape_column[e] : 0];
        for (const PlannedPut *op = shape.first, *end = shape.first + shape.count; op != end; ++op) {
            out = serialize_detail::copy_chunks<Chunk>(out, op->literal, op->literal_bytes);
            out = serialize_detail::put_value<Chunk>(*op, pool, e, out);
        }
        out = serialize_detail::copy_chunks<Chunk>(out, shape.tail, shape.tail_bytes);
        if (event_ends) event_ends[e] = static_cast<std::uint32_t>(out - base);
    }
    return out;
}

}  // namespace supervent::core
