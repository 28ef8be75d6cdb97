// ndjson_to_json_array: a rendered NDJSON batch becomes a JSON array in place,
// checked by parsing the result with simdjson; and the request head carries
// the format's Content-Type, the edge path and the event labels.
#include <catch2/catch.hpp>

#include <simdjson.h>

#include <string>
#include <vector>

#include "net/body_format.hpp"
#include "net/http_request.hpp"

using namespace supervent::net;

namespace {

// The buffer a shard has: head room, then the NDJSON body, then spare room.
struct Buffer {
    std::string bytes;
    std::size_t body_offset = 16;
    explicit Buffer(std::string_view ndjson) : bytes(16, '#') {
        bytes += ndjson;
        bytes += std::string(16, '#');
    }
    char* body() { return bytes.data() + body_offset; }
};

std::string transform(std::string_view ndjson) {
    Buffer buffer(ndjson);
    const auto array = ndjson_to_json_array(buffer.body(), ndjson.size());
    // Nothing outside [body - 1, body + size) was touched.
    CHECK(buffer.bytes.substr(0, buffer.body_offset - 1) == std::string(buffer.body_offset - 1, '#'));
    CHECK(buffer.bytes.substr(buffer.body_offset + std::max<std::size_t>(ndjson.size(), 1)) ==
          std::string(16 - (ndjson.empty() ? 1 : 0), '#'));
    return std::string(array.data(), array.size());
}

// Parses `json` as an array of objects and returns how many there are (-1 if not).
long objects_in(const std::string& json) {
    simdjson::dom::parser parser;
    simdjson::dom::array array;
    if (parser.parse(json).get(array) != simdjson::SUCCESS) return -1;
    long count = 0;
    for (simdjson::dom::element element : array) {
        if (!element.is_object()) return -1;
        ++count;
    }
    return count;
}

}  // namespace

TEST_CASE("JSON array: an empty batch is []", "[body_format]") {
    const std::string json = transform("");
    CHECK(json == "[]");
    CHECK(objects_in(json) == 0);
}

TEST_CASE("JSON array: one event", "[body_format]") {
    const std::string json = transform("{\"a\":1}\n");
    CHECK(json == "[{\"a\":1}]");
    CHECK(objects_in(json) == 1);
}

TEST_CASE("JSON array: many events, same length plus one", "[body_format]") {
    std::string ndjson;
    std::string expected = "[";
    for (int i = 0; i < 10'000; ++i) {
        const std::string event = R"({"_time":"2026-01-01T00:00:00.)" + std::to_string(100000000 + i) +
                                  R"(Z","n":)" + std::to_string(i) + R"(,"attributes":{"k":[1,2,{"x":null}]}})";
        ndjson += event + '\n';
        expected += event + (i + 1 < 10'000 ? "," : "]");
    }
    const std::string json = transform(ndjson);
    CHECK(json.size() == ndjson.size() + 1);
    CHECK(json == expected);
    CHECK(objects_in(json) == 10'000);
}

TEST_CASE("JSON array: escaped newlines and brackets inside strings stay as they are", "[body_format]") {
    const std::string ndjson =
        "{\"message\":\"line one\\nline two\\r\\n\",\"q\":\"\\\"[,]\\\"\"}\n"
        "{\"message\":\"tab\\there \\\\n not a newline\",\"u\":\"\\u000a\"}\n"
        "{\"message\":\"caf\xC3\xA9 \xE2\x82\xAC\"}\n";
    const std::string json = transform(ndjson);
    CHECK(objects_in(json) == 3);
    simdjson::dom::parser parser;
    simdjson::dom::array array;
    REQUIRE(parser.parse(json).get(array) == simdjson::SUCCESS);
    std::vector<std::string> messages;
    for (simdjson::dom::element element : array) {
        std::string_view message;
        REQUIRE(element["message"].get_string().get(message) == simdjson::SUCCESS);
        messages.emplace_back(message);
    }
    CHECK(messages[0] == "line one\nline two\r\n");
    CHECK(messages[1] == "tab\there \\n not a newline");
    CHECK(messages[2] == "caf\xC3\xA9 \xE2\x82\xAC");
}

TEST_CASE("JSON array: a batch not ending in a newline is refused untouched", "[body_format]") {
    Buffer buffer("{\"a\":1}\n{\"b\":2}");
    const std::string before = buffer.bytes;
    const auto array = ndjson_to_json_array(buffer.body(), 15);
    CHECK(array.empty());
    CHECK(buffer.bytes == before);
}

TEST_CASE("JSON array: the transform works in the slot's own head room", "[body_format]") {
    // As the shard does: body at a fixed offset, head written before the array.
    std::string slot(4096, '\0');
    const std::size_t body_offset = 2048;
    const std::string ndjson = "{\"a\":1}\n{\"b\":2}\n";
    slot.replace(body_offset, ndjson.size(), ndjson);
    const auto array = ndjson_to_json_array(slot.data() + body_offset, ndjson.size());
    REQUIRE(array.data() == slot.data() + body_offset - json_array_head_room_bytes);
    IngestTarget target{"sink:8080", ingest_path("", "logs"), "", std::string(body_format_content_type(BodyFormat::json_array)), ""};
    const RequestHead head(target);
    REQUIRE(head.bytes_max() + json_array_head_room_bytes <= body_offset);
    const std::size_t head_bytes = head.write_before(array.data(), array.size());
    const std::string wire(array.data() - head_bytes, head_bytes + array.size());
    CHECK(wire.find("Content-Type: application/json\r\n") != std::string::npos);
    CHECK(wire.ends_with("Content-Length: 17\r\n\r\n[{\"a\":1},{\"b\":2}]"));
}

TEST_CASE("body formats: names and content types", "[body_format]") {
    CHECK(body_format_content_type(BodyFormat::ndjson) == "application/x-ndjson");
    CHECK(body_format_content_type(BodyFormat::json_array) == "application/json");
    CHECK(body_format_content_type(BodyFormat::csv) == "text/csv");
    CHECK(body_format_content_type(BodyFormat::text) == "text/plain");
    CHECK(body_format_name(BodyFormat::json_array) == "json");
}

TEST_CASE("request head: edge path and X-Axiom-Event-Labels", "[body_format]") {
    CHECK(ingest_path("", "logs", true) == "/v1/ingest/logs");
    CHECK(ingest_path("/proxy", "logs", true) == "/proxy/v1/ingest/logs");
    CHECK(ingest_path("/proxy", "logs", false) == "/proxy/v1/datasets/logs/ingest");

    IngestTarget target;
    target.host_header = "eu-central-1.aws.edge.axiom.co";
    target.path = ingest_path("", "logs", true);
    target.token = "xaat-secret";
    target.event_labels_json = R"({"env":"prod","caf\u00e9":"\"x\""})";
    const RequestHead head(target);
    std::string buffer(1024, '\0');
    const std::size_t head_bytes = head.write_before(buffer.data() + 1000, 24);
    const std::string text(buffer.data() + 1000 - head_bytes, head_bytes);
    CHECK(text.starts_with("POST /v1/ingest/logs HTTP/1.1\r\nHost: eu-central-1.aws.edge.axiom.co\r\n"));
    CHECK(text.find("\r\nX-Axiom-Event-Labels: {\"env\":\"prod\",\"caf\\u00e9\":\"\\\"x\\\"\"}\r\n") != std::string::npos);
    CHECK(text.ends_with("Content-Length: 24\r\n\r\n"));
    CHECK(head_bytes <= head.bytes_max());

    // No labels, no header.
    target.event_labels_json.clear();
    const RequestHead plain(target);
    const std::size_t plain_bytes = plain.write_before(buffer.data() + 1000, 24);
    CHECK(std::string(buffer.data() + 1000 - plain_bytes, plain_bytes).find("X-Axiom-Event-Labels") == std::string::npos);
}
