// Unit tests of the sink's pure parts: request heads, routes, the chunked
// decoder, line counting, verification, sizes, faults and the command line.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "sink/body.hpp"
#include "sink/faults.hpp"
#include "sink/http.hpp"
#include "sink/options.hpp"

using namespace supervent::sink;

TEST_CASE("request head: a complete POST with mixed-case headers", "[sink][http]") {
    const std::string head =
        "POST /v1/datasets/web/ingest?timestamp-field=_time HTTP/1.1\r\n"
        "HOST: x\r\ncontent-LENGTH: 12\r\nContent-Type: application/x-ndjson; charset=utf-8\r\n"
        "CONTENT-ENCODING: zstd\r\nexpect: 100-Continue\r\n\r\nBODY";
    const HeadResult r = parse_request_head(head);
    REQUIRE(r.status == ParseStatus::complete);
    CHECK(r.head.method == Method::post);
    CHECK(r.head.path == "/v1/datasets/web/ingest");
    CHECK(r.head.framing == BodyFraming::content_length);
    CHECK(r.head.content_length == 12);
    CHECK(r.head.content_type == ContentType::ndjson);
    CHECK(r.head.content_encoding == ContentEncoding::zstd);
    CHECK(r.head.expect_continue);
    CHECK(r.head.keep_alive);
    CHECK(r.head.head_bytes == head.size() - 4);
}

TEST_CASE("request head: every proper prefix is incomplete", "[sink][http]") {
    const std::string head = "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n";
    for (std::size_t n = 0; n < head.size(); ++n) {
        INFO("prefix " << n);
        CHECK(parse_request_head(std::string_view(head).substr(0, n)).status == ParseStatus::incomplete);
    }
    CHECK(parse_request_head(head).status == ParseStatus::complete);
}

TEST_CASE("request head: connection semantics", "[sink][http]") {
    CHECK_FALSE(parse_request_head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").head.keep_alive);
    CHECK_FALSE(parse_request_head("GET / HTTP/1.0\r\n\r\n").head.keep_alive);
    CHECK(parse_request_head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").head.keep_alive);
    CHECK(parse_request_head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").head.framing == BodyFraming::chunked);
    CHECK(parse_request_head("POST / HTTP/1.1\r\nContent-Type: application/json\r\n\r\n").head.content_type == ContentType::json);
    CHECK(parse_request_head("POST / HTTP/1.1\r\nContent-Type: text/plain\r\n\r\n").head.content_type == ContentType::unsupported);
    CHECK(parse_request_head("POST / HTTP/1.1\r\nContent-Encoding: br\r\n\r\n").head.content_encoding == ContentEncoding::unsupported);
}

TEST_CASE("request head: malformed input is an error with a status", "[sink][http]") {
    struct Case {
        const char* text;
        int status;
    };
    const Case cases[] = {
        {"GARBAGE\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nExpect: something\r\n\r\n", 417},
        {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        const HeadResult r = parse_request_head(c.text);
        CHECK(r.status == ParseStatus::error);
        CHECK(r.error_status == c.status);
        CHECK(r.error != nullptr);
    }
}

TEST_CASE("routes: both ingest paths - stats - everything else", "[sink][http]") {
    CHECK(match_route("/v1/datasets/web-logs/ingest").kind == RouteKind::ingest);
    CHECK(match_route("/v1/datasets/web-logs/ingest").dataset == "web-logs");
    CHECK(match_route("/v1/ingest/edge").dataset == "edge");
    CHECK(match_route("/stats").kind == RouteKind::stats);
    CHECK(match_route("/v1/datasets//ingest").kind == RouteKind::not_found);
    CHECK(match_route("/v1/datasets/a/b/ingest").kind == RouteKind::not_found);
    CHECK(match_route("/v1/ingest/").kind == RouteKind::not_found);
    CHECK(match_route("/").kind == RouteKind::not_found);
}

namespace {

// Runs the decoder over `raw` delivered `step` bytes at a time, as reads would.
std::string dechunk(const std::string& raw, std::size_t step, ParseStatus& status, std::size_t& consumed,
                    std::uint64_t max = 1 << 20) {
    std::string buffer = raw;
    ChunkedDecoder decoder;
    decoder.reset();
    std::size_t raw_pos = 0;
    std::size_t decoded_end = 0;
    status = ParseStatus::incomplete;
    for (std::size_t end = std::min(step, raw.size());; end = std::min(end + step, raw.size())) {
        status = decoder.decode(buffer.data(), raw_pos, end, decoded_end, max).status;
        if (status != ParseStatus::incomplete || end == raw.size()) break;
    }
    consumed = raw_pos;
    return buffer.substr(0, decoded_end);
}

}  // namespace

TEST_CASE("chunked decoder: any split of the input gives the same body", "[sink][http]") {
    const std::string raw = "5;ext=1\r\nhello\r\nA\r\n, chunked!\r\n1\r\n\n\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    for (std::size_t step = 1; step <= raw.size(); ++step) {
        INFO("step " << step);
        ParseStatus status;
        std::size_t consumed = 0;
        const std::string body = dechunk(raw, step, status, consumed);
        REQUIRE(status == ParseStatus::complete);
        CHECK(body == "hello, chunked!\n");
        CHECK(raw.substr(consumed) == "NEXT");
    }
}

TEST_CASE("chunked decoder: malformed and oversized bodies", "[sink][http]") {
    ParseStatus status;
    std::size_t consumed = 0;
    (void)dechunk("zz\r\nhello\r\n0\r\n\r\n", 100, status, consumed);
    CHECK(status == ParseStatus::error);
    (void)dechunk("5\r\nhelloXX0\r\n\r\n", 100, status, consumed);
    CHECK(status == ParseStatus::error);

    std::string buffer = "10\r\n0123456789abcdef\r\n0\r\n\r\n";
    ChunkedDecoder decoder;
    decoder.reset();
    std::size_t raw_pos = 0, decoded_end = 0;
    CHECK(decoder.decode(buffer.data(), raw_pos, buffer.size(), decoded_end, 8).status == ParseStatus::error);
    CHECK(decoder.too_large());
}

TEST_CASE("line counting: non-empty lines - LF or CRLF - last line without LF", "[sink][body]") {
    CHECK(count_lines("") == 0);
    CHECK(count_lines("\n\n") == 0);
    CHECK(count_lines("a") == 1);
    CHECK(count_lines("a\nb\n") == 2);
    CHECK(count_lines("a\r\n\r\nb") == 2);
    CHECK(count_lines("\na\n\n\nb\n\n") == 2);
}

namespace {

// Copies `text` into a padded buffer, as the server's receive buffer is.
struct Padded {
    explicit Padded(std::string_view text) : storage(text.size() + body_padding_bytes, ' ') {
        std::memcpy(storage.data(), text.data(), text.size());
        view = std::string_view(storage.data(), text.size());
    }
    std::string storage;
    std::string_view view;
};

CountResult count(BodyProcessor& processor, ContentType type, std::string_view text, bool verify) {
    const Padded padded(text);
    BodyError error = BodyError::none;
    const char* message = nullptr;
    CountResult result = processor.count(type, padded.view, verify, error, message);
    REQUIRE(error == BodyError::none);
    return result;
}

}  // namespace

TEST_CASE("verification: valid NDJSON takes the fast path and counts every line", "[sink][body]") {
    BodyProcessor processor;
    const CountResult r = count(processor, ContentType::ndjson, "{\"a\":1}\n{\"b\":[1,2]}\r\n\n{}\n", true);
    CHECK(r.events == 3);
    CHECK(r.invalid == 0);
}

TEST_CASE("verification: invalid lines are counted and located", "[sink][body]") {
    BodyProcessor processor;
    const CountResult r =
        count(processor, ContentType::ndjson, "{\"a\":1}\nnot json\n[1,2]\n{\"x\":1} {\"y\":2}\n{\"a\":\n   \n{}\n", true);
    CHECK(r.events == 2);
    CHECK(r.invalid == 5);
    REQUIRE(r.failures_count == 5);
    CHECK(r.failures[0].event_index == 1);
    CHECK(r.failures[1].event_index == 2);
    CHECK(std::string(r.failures[1].error) == "event is not a JSON object");
    CHECK(r.failures[2].event_index == 3);
    CHECK(r.failures[3].event_index == 4);
    CHECK(r.failures[4].event_index == 5);
}

TEST_CASE("verification: the failures list is capped but the count is not", "[sink][body]") {
    BodyProcessor processor;
    std::string body;
    for (int i = 0; i < 25; ++i) body += "nope\n{}\n";
    const CountResult r = count(processor, ContentType::ndjson, body, true);
    CHECK(r.events == 25);
    CHECK(r.invalid == 25);
    CHECK(r.failures_count == failures_listed_max);
}

TEST_CASE("JSON array bodies count elements - verify rejects non-objects", "[sink][body]") {
    BodyProcessor processor;
    CHECK(count(processor, ContentType::json, "[{\"a\":1},{},{}]", false).events == 3);
    CHECK(count(processor, ContentType::json, "{\"a\":1}", true).events == 1);
    const CountResult r = count(processor, ContentType::json, "[{}, 3, \"s\", {}]", true);
    CHECK(r.events == 2);
    CHECK(r.invalid == 2);
    CHECK(count(processor, ContentType::csv, "a,b\n1,2\n3,4\n", false).events == 2);

    const Padded bad("[{\"a\":1},");
    BodyError error = BodyError::none;
    const char* message = nullptr;
    (void)processor.count(ContentType::json, bad.view, false, error, message);
    CHECK(error == BodyError::bad_json);
    CHECK(message != nullptr);
}

TEST_CASE("sizes accept SI and binary suffixes", "[sink][options]") {
    CHECK(parse_size_bytes("123") == 123);
    CHECK(parse_size_bytes("64KiB") == 65536);
    CHECK(parse_size_bytes("2M") == 2'000'000);
    CHECK(parse_size_bytes("64MiB") == 64ull << 20);
    CHECK_THROWS_AS(parse_size_bytes("12 parsecs"), std::invalid_argument);
    CHECK_THROWS_AS(parse_size_bytes(""), std::invalid_argument);
}

TEST_CASE("fault specs parse and decisions follow the shares", "[sink][faults]") {
    const FaultPlan plan = FaultPlan::parse("status=503@10%,status=429@0.05,close@2%,delay=50ms@10%,slow_read=64KiB/s@1%", 7);
    REQUIRE(plan.rules().size() == 5);
    CHECK(plan.rules()[0].action.status == 503);
    CHECK(plan.rules()[3].action.delay_ms == 50);
    CHECK(plan.rules()[4].action.bytes_per_s == 65536);

    int counts[5] = {};
    constexpr int draws = 100'000;
    for (int i = 0; i < draws; ++i) counts[static_cast<int>(plan.decide(static_cast<std::uint64_t>(i)).kind)]++;
    CHECK(counts[static_cast<int>(FaultKind::status)] == Approx(0.15 * draws).epsilon(0.05));
    CHECK(counts[static_cast<int>(FaultKind::close)] == Approx(0.02 * draws).epsilon(0.1));
    CHECK(counts[static_cast<int>(FaultKind::delay)] == Approx(0.10 * draws).epsilon(0.05));
    CHECK(counts[static_cast<int>(FaultKind::none)] == Approx(0.72 * draws).epsilon(0.02));
    // Same seed, same decisions.
    const FaultPlan again = FaultPlan::parse("status=503@10%,status=429@0.05,close@2%,delay=50ms@10%,slow_read=64KiB/s@1%", 7);
    for (std::uint64_t i = 0; i < 1000; ++i) CHECK(again.decide(i).kind == plan.decide(i).kind);

    CHECK_THROWS_AS(FaultPlan::parse("status=503", 1), std::invalid_argument);
    CHECK_THROWS_AS(FaultPlan::parse("status=200@1%", 1), std::invalid_argument);
    CHECK_THROWS_AS(FaultPlan::parse("explode@1%", 1), std::invalid_argument);
    CHECK_THROWS_AS(FaultPlan::parse("close@60%,status=500@50%", 1), std::invalid_argument);
    CHECK_THROWS_AS(FaultPlan::parse("close@abc", 1), std::invalid_argument);
}

TEST_CASE("command line: listen addresses and options", "[sink][options]") {
    std::string host;
    std::uint16_t port = 0;
    parse_listen("0.0.0.0:9000", host, port);
    CHECK(host == "0.0.0.0");
    CHECK(port == 9000);
    parse_listen("[::1]:0", host, port);
    CHECK(host == "::1");
    CHECK(port == 0);
    CHECK_THROWS_AS(parse_listen("::1:80", host, port), UsageError);
    CHECK_THROWS_AS(parse_listen("localhost", host, port), UsageError);
    CHECK_THROWS_AS(parse_listen("localhost:70000", host, port), UsageError);

    const Options o = parse_options({"--listen", "127.0.0.1:0", "--threads=2", "--verify", "--max-body-bytes", "1MiB",
                                     "--report", "r.json", "--port-file", "p", "--faults-seed", "9", "--faults",
                                     "close@1%", "--delay-ms", "50"});
    CHECK(o.server.port == 0);
    CHECK(o.server.delay_ms == 50);
    CHECK_THROWS_AS(parse_options({"--delay-ms", "60001"}), UsageError);
    CHECK(o.server.threads == 2);
    CHECK(o.server.verify);
    CHECK(o.server.max_body_bytes == 1 << 20);
    CHECK(o.report_file == "r.json");
    CHECK(o.port_file == "p");
    CHECK(o.faults_seed == 9);
    CHECK(o.server.faults.rules().size() == 1);
    CHECK_THROWS_AS(parse_options({"--bogus"}), UsageError);
    CHECK_THROWS_AS(parse_options({"--threads"}), UsageError);
    CHECK_THROWS_AS(parse_options({"--threads", "0"}), UsageError);
    CHECK_THROWS_AS(parse_options({"--verify=yes"}), UsageError);
    CHECK_THROWS_AS(parse_options({"--max-body-bytes", "5GiB"}), UsageError);
    CHECK_THROWS_AS(parse_options({"--faults", "nonsense"}), UsageError);
    CHECK(parse_options({"--help"}).help);
}
