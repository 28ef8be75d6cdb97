#pragma once
// The rendered NDJSON batch as rows of PostgreSQL's COPY text or binary
// format (https://www.postgresql.org/docs/15/sql-copy.html), for the
// postgresql:// sink. One event line becomes one row of five columns:
//
//   _time  source  event_type  message  attributes
//
// The first four take the event's top-level values of those names: a JSON
// string is unescaped (\" -> ", \uXXXX -> UTF-8) and written with COPY's
// escapes (\\ \t \n \r \b \f) in text, as its bytes in binary; a number or
// true/false as it is; a missing key or null as NULL. In binary, _time is
// parsed from RFC 3339 into PostgreSQL's microseconds since 2000.
// attributes is JSON text for a jsonb column: the event's "attributes"
// object with every other top-level key merged in (the "flat" attribute
// layout), backslashes doubled in text COPY. PostgreSQL text holds no
// NUL: \u0000 becomes U+FFFD in every column.
//
// No allocation, no bounds check per byte: a line of L bytes never becomes
// more than copy_row_bytes_max(L) (backslashes at most double; everything
// else shrinks or stays), checked once per line against the room left.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace supervent::net {

// The most bytes one NDJSON line of `line_bytes` (its newline not counted) becomes.
[[nodiscard]] constexpr std::size_t copy_row_bytes_max(std::size_t line_bytes) { return 2 * line_bytes + 32; }
// Room that holds any batch of `events` lines totalling `ndjson_bytes`.
[[nodiscard]] constexpr std::size_t copy_rows_bytes_max(std::size_t ndjson_bytes, std::size_t events) {
    return 2 * ndjson_bytes + 32 * events;
}

struct CopyRows {
    std::size_t bytes = 0;       // written to `out`
    std::uint32_t rows = 0;
    const char* error = nullptr; // why a line could not be turned into a row; null = none
    std::size_t error_line = 0;  // 1-based, with error
    std::string_view error_name; // the column or key the error is about, if any (typed rows)
};

enum class CopyFormat : std::uint8_t {
    text,    // tab-separated, COPY's escapes, \N for NULL
    binary,  // PGCOPY tuples: _time as int64 microseconds since 2000, text as its bytes, jsonb as 1 + JSON text
};

// Binary COPY's stream begins with this header and ends with the trailer
// (https://www.postgresql.org/docs/15/sql-copy.html, "Binary Format").
inline constexpr char copy_binary_header[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\xff', '\r', '\n', '\0',
                                                0, 0, 0, 0, 0, 0, 0, 0};
inline constexpr char copy_binary_trailer[2] = {'\xff', '\xff'};

// Writes one row per non-empty line of `ndjson` into `out`. Binary rows need
// `_time` as an RFC 3339 string (or null): anything else is an error.
[[nodiscard]] CopyRows encode_copy_rows(std::string_view ndjson, std::span<char> out,
                                        CopyFormat format = CopyFormat::text);

}  // namespace supervent::net
