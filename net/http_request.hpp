#pragma once
// The HTTP/1.1 request head for one (sink, dataset): everything but the
// Content-Length digits is rendered once at start-up; per request we only
// write the digits. The head is written right-aligned in front of the body,
// so head and body go out as one contiguous registered buffer.
#include <cstddef>
#include <string>
#include <string_view>

namespace supervent::net {

struct IngestTarget {
    std::string host_header;     // "host" or "host:port"
    std::string path;            // e.g. "/v1/datasets/supervent/ingest"
    std::string token;           // empty = no Authorization header
    std::string content_type = "application/x-ndjson";
    std::string content_encoding;  // empty = identity
    // X-Axiom-Event-Labels: a JSON object whose keys and values Axiom adds to
    // every event of the request (config::detail::event_labels_json renders
    // it as pure ASCII, so it is a valid header value); empty = no header.
    std::string event_labels_json;
    // What goes before the token: Axiom's "Authorization: Bearer ", an HTTP
    // log API's own ("Authorization: ApiKey ", "Authorization: Splunk ",
    // "DD-API-KEY: "; net/api_bodies.hpp).
    std::string auth_prefix = "Authorization: Bearer ";
    // Further header lines, each ending in CRLF (a Splunk channel, a Loki tenant).
    std::string extra_headers;
};

// "/prefix/v1/datasets/{dataset}/ingest", or with `edge` the form Axiom's
// edge deployments serve (https://{region}.edge.axiom.co): "/prefix/v1/ingest/{dataset}".
[[nodiscard]] std::string ingest_path(std::string_view path_prefix, std::string_view dataset, bool edge = false);

class RequestHead {
public:
    explicit RequestHead(const IngestTarget& target);

    // The most bytes write_before() ever writes.
    [[nodiscard]] std::size_t bytes_max() const { return before_length_.size() + digits_max + after_length_.size(); }

    // Writes the head so that it ends exactly at body_begin; the caller
    // guarantees bytes_max() bytes of room before it. Returns the head size.
    std::size_t write_before(char* body_begin, std::size_t body_bytes) const;

private:
    static constexpr std::size_t digits_max = 20;
    std::string before_length_;  // "POST … Content-Length: "
    std::string after_length_;   // "\r\n\r\n"
};

}  // namespace supervent::net
