// RequestHead: the HTTP/1.1 request head written right-aligned in front of
// the body, so head and body are one contiguous buffer.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/bounds.hpp"
#include "net/http_request.hpp"

using supervent::net::IngestTarget;
using supervent::net::RequestHead;
using supervent::net::ingest_path;
namespace bounds = supervent::bounds;

namespace {

constexpr char canary = '#';
constexpr std::size_t margin_bytes = 64;

struct Written {
    std::string head;
    bool bytes_before_untouched = true;
    bool body_untouched = true;
};

// Writes the head in front of a body (filled with 'b') inside a canary-filled
// buffer with exactly bytes_max() + margin_bytes of room before the body.
Written write_head(const RequestHead& head, std::size_t body_bytes) {
    const std::size_t body_stored_bytes = std::min<std::size_t>(body_bytes, 4096);
    std::vector<char> buffer(margin_bytes + head.bytes_max() + body_stored_bytes + margin_bytes, canary);
    char* const body_begin = buffer.data() + margin_bytes + head.bytes_max();
    std::fill(body_begin, body_begin + body_stored_bytes, 'b');

    const std::size_t head_bytes = head.write_before(body_begin, body_bytes);
    Written written;
    written.head.assign(body_begin - head_bytes, head_bytes);
    for (char* p = buffer.data(); p < body_begin - head_bytes; ++p) {
        if (*p != canary) written.bytes_before_untouched = false;
    }
    for (char* p = body_begin; p < body_begin + body_stored_bytes; ++p) {
        if (*p != 'b') written.body_untouched = false;
    }
    for (char* p = body_begin + body_stored_bytes; p < buffer.data() + buffer.size(); ++p) {
        if (*p != canary) written.body_untouched = false;
    }
    return written;
}

IngestTarget target(std::string token = {}) {
    IngestTarget t;
    t.host_header = "127.0.0.1:8080";
    t.path = ingest_path("", "ds");
    t.token = std::move(token);
    return t;
}

const std::string user_agent = "User-Agent: supervent/" SUPERVENT_VERSION "\r\n";

}  // namespace

TEST_CASE("ingest_path: dataset, prefix and edge forms", "[http_request]") {
    CHECK(ingest_path("", "ds") == "/v1/datasets/ds/ingest");
    CHECK(ingest_path("/proxy/axiom", "web-logs") == "/proxy/axiom/v1/datasets/web-logs/ingest");
    CHECK(ingest_path("", "ds", true) == "/v1/ingest/ds");
    CHECK(ingest_path("/edge", "ds", true) == "/edge/v1/ingest/ds");
}

TEST_CASE("RequestHead: exact bytes ending at the body, for several body sizes", "[http_request]") {
    const RequestHead head(target());
    for (const std::size_t body_bytes : {std::size_t{0}, std::size_t{9}, std::size_t{10}, std::size_t{12345678}}) {
        INFO("body of " << body_bytes << " bytes");
        const Written written = write_head(head, body_bytes);
        CHECK(written.head == "POST /v1/datasets/ds/ingest HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n" + user_agent +
                                  "Content-Type: application/x-ndjson\r\nContent-Length: " +
                                  std::to_string(body_bytes) + "\r\n\r\n");
        CHECK(written.bytes_before_untouched);
        CHECK(written.body_untouched);
        CHECK(written.head.size() <= head.bytes_max());
    }
}

TEST_CASE("RequestHead: Authorization only with a token", "[http_request]") {
    const Written without = write_head(RequestHead(target()), 5);
    CHECK(without.head.find("Authorization") == std::string::npos);

    const Written with = write_head(RequestHead(target("xaat-secret")), 5);
    const std::size_t at = with.head.find("\r\nAuthorization: Bearer xaat-secret\r\n");
    CHECK(at != std::string::npos);
    CHECK(with.head.find("Authorization", at + 3) == std::string::npos);
    CHECK(with.head.ends_with("Content-Length: 5\r\n\r\n"));
    CHECK(with.bytes_before_untouched);
    CHECK(with.body_untouched);
}

TEST_CASE("RequestHead: content type, encoding and edge path", "[http_request]") {
    IngestTarget t = target();
    t.path = ingest_path("/p", "logs", true);
    t.content_type = "application/json";
    t.content_encoding = "zstd";
    const Written written = write_head(RequestHead(t), 123);
    CHECK(written.head == "POST /p/v1/ingest/logs HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n" + user_agent +
                              "Content-Type: application/json\r\nContent-Encoding: zstd\r\nContent-Length: 123\r\n\r\n");
}

TEST_CASE("RequestHead: never more than bytes_max, which the largest length reaches", "[http_request]") {
    const RequestHead head(target("token"));
    const Written largest = write_head(head, std::numeric_limits<std::size_t>::max());
    CHECK(largest.head.size() == head.bytes_max());
    CHECK(largest.head.ends_with("Content-Length: " + std::to_string(std::numeric_limits<std::size_t>::max()) +
                                 "\r\n\r\n"));
    CHECK(largest.bytes_before_untouched);
    CHECK(largest.body_untouched);
    for (std::size_t body_bytes = 1; body_bytes < std::numeric_limits<std::size_t>::max() / 10; body_bytes *= 10) {
        const Written written = write_head(head, body_bytes);
        CHECK(written.head.size() < head.bytes_max());
        CHECK(written.bytes_before_untouched);
    }
}

TEST_CASE("RequestHead: the longest URL, dataset and token fit the head room", "[http_request]") {
    IngestTarget t;
    t.host_header = std::string(255, 'h');
    t.path = ingest_path(std::string(bounds::url_bytes_max - t.host_header.size(), 'p'),
                         std::string(bounds::dataset_name_bytes_max, 'd'));
    t.token = std::string(bounds::token_bytes_max, 't');
    t.content_encoding = "zstd";
    const RequestHead head(t);
    CHECK(head.bytes_max() <= bounds::http_head_room_bytes);
}
