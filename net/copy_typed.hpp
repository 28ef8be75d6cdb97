#pragma once
// Typed COPY rows for the postgresql:// sink's columns=typed
// (docs/sinks/postgresql.md, "Typed columns"): one column per field of the
// source's schema, each in PostgreSQL's binary COPY format for its type,
// instead of one jsonb column of attributes the server must parse.
//
//   _time  source  event_type  message  <field 1>  <field 2> ...
//
// A field's value is found by its dotted path ("http.method") in the
// event's "attributes" object (nested layout) or among its top-level keys
// (flat layout). A field the event does not carry is NULL; a key the
// columns do not know fails the batch naming it (nothing is dropped
// silently). Binary formats (PostgreSQL's *send functions):
//
//   bigint            8 bytes, big-endian two's complement
//   double precision  8 bytes, IEEE 754 big-endian
//   boolean           1 byte, 0 or 1
//   uuid              16 bytes
//   inet              family (2 = IPv4, 3 = IPv6), bits, is_cidr (0), length, address
//   timestamptz       8 bytes, microseconds since 2000-01-01 UTC
//   text              the string's bytes, JSON escapes undone
//
// No allocation: values are found in the NDJSON line and written straight
// into the caller's buffer; a line of L bytes never becomes more than
// typed_row_bytes_max(L, columns) bytes.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "net/copy_rows.hpp"

namespace supervent::net {

enum class PgType : std::uint8_t { text, bigint, float8, boolean, uuid, inet, timestamptz };

// How PostgreSQL names the type (CREATE TABLE, and format_type() of an existing column).
[[nodiscard]] std::string_view pg_type_name(PgType type);

struct TypedColumn {
    std::string name;  // the column ("http_method")
    std::string path;  // the field's dotted name in the event ("http.method")
    PgType type = PgType::text;
    bool operator==(const TypedColumn&) const = default;
};

// Columns a table may have besides the four fixed ones (PostgreSQL allows 1600).
inline constexpr std::size_t typed_columns_max = 256;

// The most bytes one line of `line_bytes` becomes with `columns` field columns:
// every field's value at most doubles (a 1-byte boolean, a 7-byte "1.0e0"
// float's 8), each has a 4-byte length, an inet's 20 bytes come from at least 7.
[[nodiscard]] constexpr std::size_t typed_row_bytes_max(std::size_t line_bytes, std::size_t columns) {
    return 2 * line_bytes + 8 * (columns + 4) + 32;
}

// Writes one binary COPY tuple per non-empty line of `ndjson` into `out`
// (no header or trailer: the caller frames the stream). `flat`: the fields
// are top-level keys, not members of "attributes".
[[nodiscard]] CopyRows encode_typed_copy_rows(std::string_view ndjson, std::span<const TypedColumn> columns, bool flat,
                                              std::span<char> out);

}  // namespace supervent::net
