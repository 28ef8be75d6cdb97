#include "net/body_format.hpp"

#include <cstring>

namespace supervent::net {

std::span<char> ndjson_to_json_array(char* ndjson, std::size_t bytes) noexcept {
    char* const begin = ndjson - json_array_head_room_bytes;
    if (bytes == 0) {
        begin[0] = '[';
        begin[1] = ']';
        return {begin, 2};
    }
    char* const last = ndjson + bytes - 1;
    if (*last != '\n') return {};
    // Every '\n' before the last is an event boundary: memchr skips the
    // event bodies at memory speed.
    char* cursor = ndjson;
    while (cursor < last) {
        auto* newline = static_cast<char*>(std::memchr(cursor, '\n', static_cast<std::size_t>(last - cursor)));
        if (newline == nullptr) break;
        *newline = ',';
        cursor = newline + 1;
    }
    *last = ']';
    *begin = '[';
    return {begin, bytes + json_array_head_room_bytes};
}

}  // namespace supervent::net
