#pragma once
// The JSON scanning and COPY field writers of net/copy_rows.cpp, shared with
// the typed rows of net/copy_typed.cpp. Internal to net/: none of them
// checks room (the callers check a whole line's worst case once).
#include <cstdint>

namespace supervent::net::copy_detail {

// Past spaces, tabs and CRs.
[[nodiscard]] const char* skip_space(const char* p, const char* end);
// Past one JSON value starting at p (a string, object, array, number or
// literal); null when it does not end before `end`.
[[nodiscard]] const char* skip_value(const char* p, const char* end);
// A JSON string's content (between its quotes) as the bytes it stands for.
[[nodiscard]] char* put_string_binary(const char* p, const char* end, char* out);
// JSON text as it is, \u0000 as \ufffd.
[[nodiscard]] char* put_json_binary(const char* p, const char* end, char* out);
// RFC 3339 -> microseconds since 2000-01-01 UTC; false when it is not that.
[[nodiscard]] bool rfc3339_to_pg_micros(const char* p, const char* end, std::int64_t& micros);
void put_be32(char* out, std::uint32_t value);
void put_be64(char* out, std::uint64_t value);

}  // namespace supervent::net::copy_detail
