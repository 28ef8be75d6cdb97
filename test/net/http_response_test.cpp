// parse_response: the HTTP/1.1 response parser the transport runs over a
// growing receive buffer. Every valid response is also fed one byte at a
// time (every prefix), as a server may split it anywhere.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_response.hpp"

namespace {

using supervent::net::HttpResponse;
using supervent::net::ParseResult;
using supervent::net::ParseStatus;
using supervent::net::parse_response;

struct Parsed {
    ParseResult result;
    HttpResponse response;
    std::string body;  // copied: the view may point into the scratch buffer
};

Parsed parse(std::string_view data, bool at_eof = false, std::size_t scratch_bytes = 0) {
    std::vector<char> scratch(scratch_bytes != 0 ? scratch_bytes : data.size() + 1);
    Parsed parsed;
    parsed.result = parse_response(data, at_eof, scratch, parsed.response);
    if (parsed.result.status == ParseStatus::complete) parsed.body = std::string(parsed.response.body);
    return parsed;
}

const char* status_name(ParseStatus status) {
    switch (status) {
        case ParseStatus::incomplete: return "incomplete";
        case ParseStatus::complete: return "complete";
        case ParseStatus::invalid: return "invalid";
    }
    return "?";
}

// Every strict prefix is incomplete while the connection is open, and the
// whole text is complete with exactly its own size consumed.
void check_every_split(const std::string& text, int status, const std::string& body) {
    for (std::size_t prefix_bytes = 0; prefix_bytes < text.size(); ++prefix_bytes) {
        const Parsed parsed = parse(std::string_view(text).substr(0, prefix_bytes));
        INFO("prefix of " << prefix_bytes << " bytes: " << status_name(parsed.result.status));
        REQUIRE(parsed.result.status == ParseStatus::incomplete);
    }
    const Parsed whole = parse(text);
    REQUIRE(whole.result.status == ParseStatus::complete);
    CHECK(whole.result.consumed_bytes == text.size());
    CHECK(whole.response.status == status);
    CHECK(whole.body == body);
}

// The connection closing after any strict prefix is an error, not a response.
void check_eof_at_every_prefix_is_invalid(const std::string& text) {
    for (std::size_t prefix_bytes = 0; prefix_bytes < text.size(); ++prefix_bytes) {
        const Parsed parsed = parse(std::string_view(text).substr(0, prefix_bytes), true);
        INFO("EOF after " << prefix_bytes << " bytes: " << status_name(parsed.result.status));
        REQUIRE(parsed.result.status == ParseStatus::invalid);
        CHECK(parsed.result.error != nullptr);
    }
}

const std::string content_length_response =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"ingested\":1}";
const std::string chunked_response =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    "4\r\n{\"in\r\n"
    "A;name=value\r\ngested\":12\r\n"
    "1 ; ext\r\n}\r\n"
    "0\r\nX-Trailer: yes\r\nAnother: one\r\n\r\n";
const std::string continue_response =
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";

}  // namespace

TEST_CASE("parse_response: status line and Content-Length body", "[http_response]") {
    const Parsed parsed = parse(content_length_response);
    REQUIRE(parsed.result.status == ParseStatus::complete);
    CHECK(parsed.result.consumed_bytes == content_length_response.size());
    CHECK(parsed.response.status == 200);
    CHECK(parsed.response.keep_alive);
    CHECK(parsed.body == "{\"ingested\":1}");
    CHECK(parsed.response.rate_limit_reset_s == -1);
    CHECK(parsed.response.retry_after_s == -1);
}

TEST_CASE("parse_response: a status line without a reason phrase", "[http_response]") {
    const Parsed parsed = parse("HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n");
    REQUIRE(parsed.result.status == ParseStatus::complete);
    CHECK(parsed.response.status == 503);
    CHECK(parsed.body.empty());
}

TEST_CASE("parse_response: consumes only the first response of a longer buffer", "[http_response]") {
    const std::string two = content_length_response + "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n";
    const Parsed parsed = parse(two);
    REQUIRE(parsed.result.status == ParseStatus::complete);
    CHECK(parsed.result.consumed_bytes == content_length_response.size());
    CHECK(parsed.response.status == 200);
    CHECK(parsed.body == "{\"ingested\":1}");
}

TEST_CASE("parse_response: header names in any case", "[http_response]") {
    const std::string text =
        "HTTP/1.1 429 Too Many Requests\r\ncOnTeNt-LeNgTh: 3\r\nCONNECTION: CLOSE\r\n"
        "x-ratelimit-reset: 1700000000\r\nRETRY-AFTER: 17\r\n\r\nabc";
    const Parsed parsed = parse(text);
    REQUIRE(parsed.result.status == ParseStatus::complete);
    CHECK(parsed.response.status == 429);
    CHECK(parsed.body == "abc");
    CHECK_FALSE(parsed.response.keep_alive);
    CHECK(parsed.response.rate_limit_reset_s == 1700000000);
    CHECK(parsed.response.retry_after_s == 17);

    const Parsed chunked = parse("HTTP/1.1 200 OK\r\ntransfer-ENCODING: Chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n");
    REQUIRE(chunked.result.status == ParseStatus::complete);
    CHECK(chunked.body == "hi");
}

TEST_CASE("parse_response: header values are trimmed of spaces and tabs", "[http_response]") {
    const Parsed parsed = parse("HTTP/1.1 200 OK\r\nContent-Length: \t 2 \t\r\n\r\nok");
    REQUIRE(parsed.result.status == ParseStatus::complete);
    CHECK(parsed.body == "ok");
}

TEST_CASE("parse_response: a response split at every byte", "[http_response]") {
    SECTION("Content-Length") { check_every_split(content_length_response, 200, "{\"ingested\":1}"); }
    SECTION("chunked with extensions and trailers") {
        check_every_split(chunked_response, 200, "{\"ingested\":12}");
    }
    SECTION("100 Continue first") { check_every_split(continue_response, 201, "ok"); }
    SECTION("no headers, empty body") { check_every_split("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, ""); }
}

TEST_CASE("parse_response: chunked bodies are de-chunked into the scratch buffer", "[http_response]") {
    std::vector<char> scratch(chunked_response.size());
    HttpResponse response;
    const ParseResult result = parse_response(chunked_response, false, scratch, response);
    REQUIRE(result.status == ParseStatus::complete);
    CHECK(result.consumed_bytes == chunked_response.size());
    CHECK(response.body == "{\"ingested\":12}");
    CHECK(response.body.data() == scratch.data());
    CHECK(response.keep_alive);
}

TEST_CASE("parse_response: chunked with upper-case hex sizes and many chunks", "[http_response]") {
    std::string expected_body;
    std::string text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 1; i <= 40; ++i) {
        const std::string chunk(static_cast<std::size_t>(i), static_cast<char>('a' + i % 26));
        char size_line[16];
        std::snprintf(size_line, sizeof size_line, "%X\r\n", i);
        text += size_line + chunk + "\r\n";
        expected_body += chunk;
    }
    text += "0\r\n\r\n";
    const Parsed parsed = parse(text);
    REQUIRE(parsed.result.status == ParseStatus::complete);
    CHECK(parsed.result.consumed_bytes == text.size());
    CHECK(parsed.body == expected_body);
}

TEST_CASE("parse_response: a chunked body larger than the scratch buffer is invalid", "[http_response]") {
    const std::string text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n0\r\n\r\n";
    CHECK(parse(text, false, 7).result.status == ParseStatus::invalid);
    CHECK(parse(text, false, 8).result.status == ParseStatus::complete);
}

TEST_CASE("parse_response: 100 Continue is skipped", "[http_response]") {
    const Parsed parsed = parse(continue_response);
    REQUIRE(parsed.result.status == ParseStatus::complete);
    CHECK(parsed.response.status == 201);
    CHECK(parsed.body == "ok");
    CHECK(parsed.result.consumed_bytes == continue_response.size());

    const Parsed only_interim = parse("HTTP/1.1 100 Continue\r\n\r\n");
    CHECK(only_interim.result.status == ParseStatus::incomplete);
}

TEST_CASE("parse_response: HTTP/1.0 and Connection headers decide keep-alive", "[http_response]") {
    SECTION("HTTP/1.0 closes by default") {
        const Parsed parsed = parse("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
        REQUIRE(parsed.result.status == ParseStatus::complete);
        CHECK_FALSE(parsed.response.keep_alive);
        CHECK(parsed.body == "ok");
    }
    SECTION("HTTP/1.0 with Connection: keep-alive stays open") {
        const Parsed parsed = parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
        REQUIRE(parsed.result.status == ParseStatus::complete);
        CHECK(parsed.response.keep_alive);
    }
    SECTION("HTTP/1.1 with Connection: close") {
        const Parsed parsed = parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        REQUIRE(parsed.result.status == ParseStatus::complete);
        CHECK_FALSE(parsed.response.keep_alive);
    }
    SECTION("HTTP/1.1 stays open") {
        const Parsed parsed = parse("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
        REQUIRE(parsed.result.status == ParseStatus::complete);
        CHECK(parsed.response.keep_alive);
    }
}

TEST_CASE("parse_response: a body delimited by the end of the connection", "[http_response]") {
    const std::string text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until EOF";
    for (std::size_t prefix_bytes = 0; prefix_bytes <= text.size(); ++prefix_bytes) {
        INFO("prefix of " << prefix_bytes << " bytes");
        REQUIRE(parse(std::string_view(text).substr(0, prefix_bytes)).result.status == ParseStatus::incomplete);
    }
    const Parsed parsed = parse(text, true);
    REQUIRE(parsed.result.status == ParseStatus::complete);
    CHECK(parsed.result.consumed_bytes == text.size());
    CHECK(parsed.body == "all of this until EOF");
    CHECK_FALSE(parsed.response.keep_alive);

    const Parsed empty = parse("HTTP/1.1 200 OK\r\n\r\n", true);
    REQUIRE(empty.result.status == ParseStatus::complete);
    CHECK(empty.body.empty());
}

TEST_CASE("parse_response: 204 and 304 have no body", "[http_response]") {
    const std::string no_content = "HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n";
    const Parsed parsed = parse(no_content);
    REQUIRE(parsed.result.status == ParseStatus::complete);
    CHECK(parsed.response.status == 204);
    CHECK(parsed.result.consumed_bytes == no_content.size());
    CHECK(parsed.body.empty());
    CHECK(parsed.response.keep_alive);

    const Parsed not_modified = parse("HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\n");
    REQUIRE(not_modified.result.status == ParseStatus::complete);
    CHECK(not_modified.response.status == 304);
    CHECK(not_modified.result.consumed_bytes == 29);
}

TEST_CASE("parse_response: malformed status lines are invalid", "[http_response]") {
    const char* const lines[] = {
        "HTTP/1.1 20 OK",      "HTTP/1.1 2x0 OK", "HTTP/2 200 OK",   "HTTP/1.1 200OK", "ICY 200 OK",
        "http/1.1 200 OK",     "HTTP/1.2 200 OK", "HTTP/1.1  200 OK", "",              "HTTP/1.1",
        "HTTP/1.1-200 OK",
    };
    for (const char* line : lines) {
        const std::string text = std::string(line) + "\r\nContent-Length: 0\r\n\r\n";
        INFO("status line: '" << line << "'");
        const Parsed parsed = parse(text);
        CHECK(parsed.result.status == ParseStatus::invalid);
        CHECK(parsed.result.error != nullptr);
    }
}

TEST_CASE("parse_response: malformed header lines are invalid", "[http_response]") {
    CHECK(parse("HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n").result.status == ParseStatus::invalid);
    CHECK(parse("HTTP/1.1 200 OK\r\n: no name\r\nContent-Length: 0\r\n\r\n").result.status == ParseStatus::invalid);
}

TEST_CASE("parse_response: bad or conflicting Content-Length is invalid", "[http_response]") {
    const char* const values[] = {"abc", "-1", "5 5", "", "+5", "0x10", "1234567890123456789012"};
    for (const char* value : values) {
        INFO("Content-Length: '" << value << "'");
        const std::string text = std::string("HTTP/1.1 200 OK\r\nContent-Length: ") + value + "\r\n\r\nhello";
        CHECK(parse(text).result.status == ParseStatus::invalid);
    }
    const Parsed conflicting = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
    CHECK(conflicting.result.status == ParseStatus::invalid);
    CHECK(conflicting.result.error != nullptr);

    const Parsed repeated = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello");
    REQUIRE(repeated.result.status == ParseStatus::complete);
    CHECK(repeated.body == "hello");
}

TEST_CASE("parse_response: bad chunk framing is invalid", "[http_response]") {
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const char* const bodies[] = {
        "zz\r\nabc\r\n0\r\n\r\n",               // not hex
        "5x\r\nhello\r\n0\r\n\r\n",             // junk after the size
        "\r\nhello\r\n0\r\n\r\n",               // no size at all
        "5\r\nhelloXY0\r\n\r\n",                // chunk not followed by CRLF
        "ffffffffffffffffffff\r\nhello\r\n",    // size overflows
        "-5\r\nhello\r\n0\r\n\r\n",             // negative
    };
    for (const char* body : bodies) {
        INFO("chunked body: '" << body << "'");
        const Parsed parsed = parse(head + body);
        CHECK(parsed.result.status == ParseStatus::invalid);
        CHECK(parsed.result.error != nullptr);
    }
}

TEST_CASE("parse_response: EOF before a complete response is invalid", "[http_response]") {
    SECTION("Content-Length") { check_eof_at_every_prefix_is_invalid(content_length_response); }
    SECTION("chunked") { check_eof_at_every_prefix_is_invalid(chunked_response); }
    SECTION("after 100 Continue") { check_eof_at_every_prefix_is_invalid(continue_response); }
    SECTION("a complete response at EOF is still complete") {
        const Parsed parsed = parse(content_length_response, true);
        REQUIRE(parsed.result.status == ParseStatus::complete);
        CHECK(parsed.body == "{\"ingested\":1}");
    }
}

TEST_CASE("parse_response: X-RateLimit-Reset and Retry-After", "[http_response]") {
    const Parsed parsed = parse(
        "HTTP/1.1 429 Too Many Requests\r\nX-RateLimit-Limit: 600\r\nX-RateLimit-Remaining: 0\r\n"
        "X-RateLimit-Reset: 1767225600\r\nRetry-After: 42\r\nContent-Length: 0\r\n\r\n");
    REQUIRE(parsed.result.status == ParseStatus::complete);
    CHECK(parsed.response.status == 429);
    CHECK(parsed.response.rate_limit_reset_s == 1767225600);
    CHECK(parsed.response.retry_after_s == 42);

    // Values that are not plain seconds (an HTTP date) are ignored, not errors.
    const Parsed dated = parse("HTTP/1.1 503 Unavailable\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
                               "Content-Length: 0\r\n\r\n");
    REQUIRE(dated.result.status == ParseStatus::complete);
    CHECK(dated.response.retry_after_s == -1);
}

TEST_CASE("parse_response: Transfer-Encoding chunked wins over Content-Length", "[http_response]") {
    const std::string text =
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    const Parsed parsed = parse(text);
    REQUIRE(parsed.result.status == ParseStatus::complete);
    CHECK(parsed.body == "hello");
    CHECK(parsed.result.consumed_bytes == text.size());
}
