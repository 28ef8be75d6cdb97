#pragma once
// Trace context for dependency chains (W3C Trace Context, OpenTelemetry's
// log data model): the ids a traced event carries, as pure functions of
// event keys (core/event_key.hpp), so they are the same whichever shard,
// part or batch renders the event.
//
//   trace_id        32 hex: a bijective mix of the root's request id, so the
//                   whole chain (which inherits the root's request id) shares it
//   span_id         16 hex: span_of(the event's own key), never 0
//   parent_span_id  16 hex: span_of(the parent's key); empty on a root
//   duration_ms     the span's length: from the event to the end of the
//                   latest descendant its rules may make (0 on a leaf), so
//                   child delay + child duration <= parent duration, equal
//                   for the latest child (docs/configuration.md, "Traces")
//   traceparent     00-<trace_id>-<span_id>-01 (opt-in on top of the ids)
//
// The engine hands the values to a program as input columns (GenKind::input,
// one slot each, below); the program writes them like any other field.
#include <array>
#include <cstdint>
#include <string_view>

#include "core/event_key.hpp"

namespace supervent::core {

// Input column slots of a traced program: EventInputs::trace[slot * stride + i].
namespace trace_slot {
inline constexpr std::uint16_t trace_hi = 0;
inline constexpr std::uint16_t trace_lo = 1;
inline constexpr std::uint16_t span = 2;
inline constexpr std::uint16_t parent_span = 3;
inline constexpr std::uint16_t duration_ns = 4;
inline constexpr std::uint16_t count = 5;
}  // namespace trace_slot

// The fields trace context adds to a source, in the order they are written.
inline constexpr std::string_view trace_id_field = "trace_id";
inline constexpr std::string_view span_id_field = "span_id";
inline constexpr std::string_view parent_span_id_field = "parent_span_id";
inline constexpr std::string_view duration_ms_field = "duration_ms";
inline constexpr std::string_view traceparent_field = "traceparent";
inline constexpr std::array<std::string_view, 5> trace_field_names{trace_id_field, span_id_field, parent_span_id_field,
                                                                   duration_ms_field, traceparent_field};

[[nodiscard]] constexpr bool is_trace_field(std::string_view name) {
    for (const std::string_view n : trace_field_names) {
        if (n == name) return true;
    }
    return false;
}

// An event's span id: injective in the key (mix64 is a bijection), and never
// 0 (an all-zero span id is invalid in W3C Trace Context; 0 means "no parent").
[[nodiscard]] constexpr std::uint64_t span_of(std::uint64_t key) {
    const std::uint64_t span = mix64(key ^ 0x5BA2'0000'0000'0000ull);
    return span != 0 ? span : 1;
}

// A chain's trace id from its request id (which every event of the chain
// shares): two Feistel rounds of mix64, a bijection of the 128 bits, so two
// chains never share a trace id; not all zero but for a 2^-128 chance.
constexpr void trace_of(std::uint64_t request_hi, std::uint64_t request_lo, std::uint64_t& hi, std::uint64_t& lo) {
    hi = request_hi ^ mix64(request_lo ^ 0x7ACE'0000'0000'0001ull);
    lo = request_lo ^ mix64(hi ^ 0x7ACE'0000'0000'0002ull);
}

// The draw salt of an inherited (entity) field: its words are
// keyed_word(entity key, entity_salt(name) + j), not keyed_word(own key, draw).
[[nodiscard]] constexpr std::uint64_t entity_salt(std::string_view field) {
    return hash_text(field) | 0x8000'0000'0000'0000ull;  // far from the program's and the engine's draws
}

}  // namespace supervent::core
