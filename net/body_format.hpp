#pragma once
// Request body formats other than the engine's own output. The engine writes
// NDJSON (or CSV / text lines for sources compiled to those); Axiom also takes
// a JSON array of events, which is the same bytes with different punctuation:
//
//   {"a":1}\n{"b":2}\n     becomes     [{"a":1},{"b":2}]
//
// so the shard turns a rendered batch into an array in place, in one pass,
// without copying or allocating, before any compression.
#include <cstddef>
#include <span>
#include <string_view>

namespace supervent::net {

// What a batch's body is, on the wire and in files.
enum class BodyFormat : unsigned char {
    ndjson,      // one JSON object per line (application/x-ndjson)
    json_array,  // [{…},{…}] (application/json)
    csv,         // a header line, then one row per event (text/csv)
    text,        // the message alone per line (text/plain; file and stdout sinks only)
};

[[nodiscard]] constexpr std::string_view body_format_name(BodyFormat format) {
    switch (format) {
        case BodyFormat::ndjson: return "ndjson";
        case BodyFormat::json_array: return "json";
        case BodyFormat::csv: return "csv";
        case BodyFormat::text: return "text";
    }
    return "ndjson";
}

// The Content-Type a sink is told for a body of this format.
[[nodiscard]] constexpr std::string_view body_format_content_type(BodyFormat format) {
    switch (format) {
        case BodyFormat::ndjson: return "application/x-ndjson";
        case BodyFormat::json_array: return "application/json";
        case BodyFormat::csv: return "text/csv";
        case BodyFormat::text: return "text/plain";
    }
    return "application/x-ndjson";
}

// Bytes the JSON array transform needs in front of the batch (for '[').
inline constexpr std::size_t json_array_head_room_bytes = 1;

// Turns the NDJSON batch at [ndjson, ndjson + bytes) into a JSON array in
// place: each line-ending '\n' becomes ',', the last one ']', and '[' is
// written at ndjson[-1], which the caller must own (json_array_head_room_bytes).
// Returns the array: it starts at ndjson - 1 and is bytes + 1 long.
//
// Preconditions (the engine's NDJSON contract): every event is one line
// ending in '\n' with no blank lines, so a raw '\n' byte only ever ends an
// event ('\n' inside a JSON string is always the escape "\n"). A batch that
// does not end in '\n' is refused: the result is an empty span and nothing is
// written. An empty batch becomes "[]", written at ndjson[-1] and ndjson[0]
// (so that one byte must be writable too).
//
// O(bytes): one memchr pass; no allocation.
[[nodiscard]] std::span<char> ndjson_to_json_array(char* ndjson, std::size_t bytes) noexcept;

}  // namespace supervent::net
