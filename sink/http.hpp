#pragma once
// HTTP/1.1 request parsing for supervent-sink: the request head, the route,
// and an in-place chunked body decoder. Pure functions over byte ranges, so
// split reads, pipelining and malformed input are unit-testable without sockets.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace supervent::sink {

// A request head larger than this is refused with 431: the sink's clients
// send short heads, so a long one is a bug or an attack.
inline constexpr std::size_t request_head_bytes_max = 64 * 1024;
// A chunk-size line or trailer line longer than this is malformed.
inline constexpr std::size_t chunk_line_bytes_max = 4096;

enum class ParseStatus { complete, incomplete, error };

enum class Method { get, post, other };
enum class BodyFraming { none, content_length, chunked };
enum class ContentType { ndjson, json, csv, unsupported };
enum class ContentEncoding { identity, zstd, gzip, unsupported };

// What the server needs from a head. The string views point into the
// receive buffer and are only valid until that buffer is compacted or grown.
struct RequestHead {
    Method method = Method::other;
    std::string_view target;  // as sent: path and query
    std::string_view path;    // target without the query string
    BodyFraming framing = BodyFraming::none;
    std::uint64_t content_length = 0;
    ContentType content_type = ContentType::ndjson;  // NDJSON when no Content-Type
    std::string_view content_type_text;               // for error messages
    ContentEncoding content_encoding = ContentEncoding::identity;
    std::string_view content_encoding_text;
    std::string_view event_labels;  // X-Axiom-Event-Labels as sent; empty = none
    bool expect_continue = false;
    bool keep_alive = true;  // HTTP/1.1 default; HTTP/1.0 needs "Connection: keep-alive"
    std::size_t head_bytes = 0;  // request line, headers and the blank line
};

struct HeadResult {
    ParseStatus status = ParseStatus::incomplete;
    RequestHead head;
    int error_status = 0;          // HTTP status to answer with on error
    const char* error = nullptr;   // static text for the error body
};

// Parses one request head from the start of `data`. `incomplete` means more
// bytes are needed; the caller refuses heads beyond request_head_bytes_max.
[[nodiscard]] HeadResult parse_request_head(std::string_view data) noexcept;

// The routes the sink serves.
enum class RouteKind { ingest, stats, not_found };
struct Route {
    RouteKind kind = RouteKind::not_found;
    std::string_view dataset;  // for ingest
    bool edge = false;         // ingest by the edge path /v1/ingest/{dataset}
};
// `/v1/datasets/{dataset}/ingest`, `/v1/ingest/{dataset}` and `/stats`.
[[nodiscard]] Route match_route(std::string_view path) noexcept;

[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

// Decodes a chunked body in place: payload bytes are moved down over the
// chunk framing so the decoded body ends up contiguous, starting where the
// raw body started. Works incrementally over bytes as they arrive.
class ChunkedDecoder {
public:
    struct Step {
        ParseStatus status = ParseStatus::incomplete;
        const char* error = nullptr;
    };

    void reset() noexcept {
        state_ = State::size_line;
        chunk_left_bytes_ = 0;
        decoded_bytes_ = 0;
        too_large_ = false;
    }

    // Consumes raw bytes in [raw_pos, raw_end) of `data`, advancing raw_pos,
    // and appends payload at decoded_end (always <= raw_pos). `complete`
    // leaves raw_pos just past the body, where a pipelined request starts.
    // Fails once the decoded body would exceed decoded_bytes_max.
    [[nodiscard]] Step decode(char* data, std::size_t& raw_pos, std::size_t raw_end,
                              std::size_t& decoded_end, std::uint64_t decoded_bytes_max) noexcept;

    // True when the last error was the size limit (answer 413, not 400).
    [[nodiscard]] bool too_large() const noexcept { return too_large_; }

private:
    enum class State { size_line, data, data_crlf, trailer, done };
    State state_ = State::size_line;
    std::uint64_t chunk_left_bytes_ = 0;
    std::uint64_t decoded_bytes_ = 0;
    bool too_large_ = false;
};

}  // namespace supervent::sink
