// IngestReplyParser: the Axiom ingest reply in a 2xx body, parsed with simdjson.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "net/http_response.hpp"

using supervent::net::IngestReply;
using supervent::net::IngestReplyParser;

TEST_CASE("IngestReplyParser: an Axiom reply in any key order", "[ingest_reply]") {
    IngestReplyParser parser(4096);
    const char* const bodies[] = {
        R"({"ingested":9998,"failed":2,"failures":[{"timestamp":"2024-01-01T00:00:00Z","error":"bad"},{"timestamp":"x","error":"y"}],"processedBytes":123456})",
        R"({"processedBytes":123456,"failures":[{"error":"bad","ingested":5}],"failed":2,"ingested":9998})",
        R"({"failed":2,"processedBytes":123456,"ingested":9998,"failures":[]})",
        "{\n  \"failures\" : [ ] ,\n  \"ingested\" : 9998 ,\n\t\"failed\" : 2\n}\n",
    };
    for (const char* body : bodies) {
        INFO(body);
        IngestReply reply;
        REQUIRE(parser.parse(body, reply));
        CHECK(reply.ingested == 9998);
        CHECK(reply.failed == 2);
    }
}

TEST_CASE("IngestReplyParser: failed is optional", "[ingest_reply]") {
    IngestReplyParser parser(256);
    IngestReply reply{7, 7};
    REQUIRE(parser.parse(R"({"ingested":3})", reply));
    CHECK(reply.ingested == 3);
    CHECK(reply.failed == 0);
}

TEST_CASE("IngestReplyParser: replies of different lengths through one parser", "[ingest_reply]") {
    IngestReplyParser parser(1024);
    IngestReply reply;
    REQUIRE(parser.parse(R"({"ingested":1000000,"failed":0,"failures":[],"processedBytes":99999999})", reply));
    CHECK(reply.ingested == 1000000);
    // A shorter reply after a longer one: stale bytes from before must not leak in.
    REQUIRE(parser.parse(R"({"ingested":4})", reply));
    CHECK(reply.ingested == 4);
    CHECK(reply.failed == 0);
}

TEST_CASE("IngestReplyParser: a reply without a numeric ingested is refused", "[ingest_reply]") {
    IngestReplyParser parser(1024);
    const char* const bodies[] = {
        R"({"failed":0,"failures":[],"processedBytes":10})",
        R"({"ingested":"5","failed":0})",
        R"({"ingested":-1,"failed":0})",
        R"({"ingested":1.5})",
        R"({"ingested":null})",
        R"({"ingested":5,"failed":"x"})",
        R"({"Ingested":5})",
        R"({})",
    };
    for (const char* body : bodies) {
        INFO(body);
        IngestReply reply;
        CHECK_FALSE(parser.parse(body, reply));
    }
}

TEST_CASE("IngestReplyParser: bodies that are not a JSON object are refused", "[ingest_reply]") {
    IngestReplyParser parser(1024);
    const char* const bodies[] = {
        "", "ok", "OK\n", "<html><body>502 Bad Gateway</body></html>", "[1,2,3]", "42", "\"ingested\"",
        R"({"ingested":)", R"({"ingested" 5})", R"({ingested:5})",
    };
    for (const char* body : bodies) {
        INFO("'" << body << "'");
        IngestReply reply;
        CHECK_FALSE(parser.parse(body, reply));
    }
}

TEST_CASE("IngestReplyParser: a body larger than the maximum is refused", "[ingest_reply]") {
    constexpr std::size_t body_bytes_max = 200;
    IngestReplyParser parser(body_bytes_max);
    const std::string head = R"({"ingested":77,"pad":")";
    const std::string tail = "\"}";
    const std::string at_max = head + std::string(body_bytes_max - head.size() - tail.size(), 'x') + tail;
    REQUIRE(at_max.size() == body_bytes_max);
    IngestReply reply;
    REQUIRE(parser.parse(at_max, reply));
    CHECK(reply.ingested == 77);

    const std::string over_max = head + std::string(body_bytes_max - head.size() - tail.size() + 1, 'x') + tail;
    REQUIRE(over_max.size() == body_bytes_max + 1);
    IngestReply untouched{1, 2};
    CHECK_FALSE(parser.parse(over_max, untouched));
    CHECK(untouched.ingested == 1);
    CHECK(untouched.failed == 2);
}

TEST_CASE("IngestReplyParser: an empty body without a data pointer (a 204's) is refused", "[ingest_reply]") {
    IngestReplyParser parser(256);
    IngestReply reply;
    CHECK_FALSE(parser.parse(std::string_view{}, reply));
    CHECK_FALSE(parser.parse(std::string_view("", 0), reply));
}
