#pragma once
// Parsing an HTTP/1.1 response from a sink, and the Axiom ingest reply in its body.
//
// The parser is re-entrant over a growing buffer: the connection keeps every
// byte of the current response and asks again after each read, so responses
// split across reads at any byte are handled without parser state.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace supervent::net {

struct HttpResponse {
    int status = 0;
    bool keep_alive = true;          // false: the server will close (or HTTP/1.0)
    std::string_view body;           // into the caller's buffer or body scratch
    std::int64_t rate_limit_reset_s = -1;  // X-RateLimit-Reset (epoch seconds), -1 if absent
    std::int64_t retry_after_s = -1;       // Retry-After (seconds), -1 if absent
};

enum class ParseStatus { incomplete, complete, invalid };

struct ParseResult {
    ParseStatus status = ParseStatus::incomplete;
    std::size_t consumed_bytes = 0;  // of the input, when complete
    const char* error = nullptr;     // static text, when invalid
};

// Parses one response from the start of `data`. `at_eof` says the peer has
// closed, which completes a response delimited by the connection's end.
// `body_scratch` (at least data.size() bytes) receives a de-chunked body.
// Interim 1xx responses are skipped.
[[nodiscard]] ParseResult parse_response(std::string_view data, bool at_eof, std::span<char> body_scratch,
                                         HttpResponse& out);

// What an Axiom ingest reply says.
struct IngestReply {
    std::uint64_t ingested = 0;
    std::uint64_t failed = 0;
};

// Parses `{"ingested":N,"failed":M,…}` with simdjson. Owns its padded copy
// buffer and parser, sized once for bodies up to body_bytes_max.
class IngestReplyParser {
public:
    explicit IngestReplyParser(std::size_t body_bytes_max);
    ~IngestReplyParser();
    IngestReplyParser(const IngestReplyParser&) = delete;
    IngestReplyParser& operator=(const IngestReplyParser&) = delete;

    // False when the body is not an object with numeric "ingested" (and
    // optional "failed").
    [[nodiscard]] bool parse(std::string_view body, IngestReply& out);

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace supervent::net
