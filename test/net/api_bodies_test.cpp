// net::ApiBodyWriter: each HTTP log API's body from an NDJSON batch of the
// engine's shape, parsed back with simdjson and checked field by field:
// escaping, timestamps' units, the empty batch, a batch at the limit, and
// the replies (ES per-item statuses, OTLP partialSuccess).
#include <catch2/catch.hpp>

#include <simdjson.h>

#include <string>
#include <vector>

#include "net/api_bodies.hpp"
#include "net/api_replies.hpp"
#include "net/gzip_compressor.hpp"

#include <zlib.h>

using namespace supervent::net;

namespace {

// 2026-12-04T23:23:00.558876025Z
constexpr std::int64_t t0_ns = 1'796'426'580'558'876'025;

std::string event(std::string_view time, std::string_view type, std::string_view message, std::string_view attributes) {
    return std::string(R"({"_time":")") + std::string(time) + R"(","source":"web \"edge\" log","event_type":")" +
           std::string(type) + R"(","message":")" + std::string(message) + R"(","attributes":)" + std::string(attributes) +
           "}\n";
}

const std::string e1 = event("2026-12-04T23:23:00.558876025Z", "access", R"(GET \"/a\\b\" 200)",
                             R"({"method":"GET","status":200,"ms":9.5,"ok":true,"tags":["x",1],"n":null,"level":"warn"})");
const std::string e2 = event("2026-12-04T23:23:01.000000001Z", "error", "boom", R"({"method":"POST","status":503})");
const std::string e3 = event("2026-12-04T23:23:02.000000000Z", "access", "ok", R"({"method":"GET","status":404})");

std::string write(ApiOptions options, std::string_view ndjson, std::uint32_t events, std::size_t room = 1 << 20) {
    ApiBodyWriter writer(std::move(options), 16);
    std::string out(room, '\0');
    const std::size_t bytes = writer.write(ndjson, events, {out.data(), out.size()});
    INFO((writer.error() ? writer.error() : ""));
    REQUIRE(writer.error() == nullptr);
    out.resize(bytes);
    return out;
}

ApiOptions with(LogApi api) {
    ApiOptions options;
    options.api = api;
    options.scope_version = "1.2.3";
    return options;
}

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& text) {
    simdjson::dom::element root;
    REQUIRE(parser.parse(text).get(root) == simdjson::SUCCESS);
    return root;
}

}  // namespace

TEST_CASE("the event time parses to nanoseconds since the epoch", "[api_bodies]") {
    std::int64_t ns = 0;
    REQUIRE(parse_event_time_ns("2026-12-04T23:23:00.558876025Z", ns));
    CHECK(ns == t0_ns);
    REQUIRE(parse_event_time_ns("1970-01-01T00:00:00.000000001Z", ns));
    CHECK(ns == 1);
    REQUIRE(parse_event_time_ns("2000-02-29T12:00:00.000000000Z", ns));
    CHECK(ns == 951'825'600'000'000'000);
    CHECK_FALSE(parse_event_time_ns("2026-12-04T23:23:00.558876Z", ns));
    CHECK_FALSE(parse_event_time_ns("2026-13-04T23:23:00.558876025Z", ns));
    CHECK_FALSE(parse_event_time_ns("2026-12-04 23:23:00.558876025Z", ns));
}

TEST_CASE("elasticsearch: a create action line before each document and @timestamp for _time", "[api_bodies]") {
    const std::string body = write(with(LogApi::elasticsearch), e1 + e2, 2);
    std::vector<std::string> lines;
    for (std::size_t start = 0; start < body.size();) {
        const auto newline = body.find('\n', start);
        REQUIRE(newline != std::string::npos);
        lines.push_back(body.substr(start, newline - start));
        start = newline + 1;
    }
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == R"({"create":{}})");
    CHECK(lines[2] == R"({"create":{}})");
    simdjson::dom::parser parser;
    const auto doc = parse(parser, lines[1]);
    CHECK(std::string_view(doc["@timestamp"]) == "2026-12-04T23:23:00.558876025Z");
    CHECK(doc["_time"].error() == simdjson::NO_SUCH_FIELD);
    CHECK(std::string_view(doc["message"]) == R"(GET "/a\b" 200)");  // escapes kept as they were
    CHECK(std::string_view(doc["source"]) == R"(web "edge" log)");
    CHECK(write(with(LogApi::elasticsearch), "", 0).empty());  // an empty batch: an empty body
}

TEST_CASE("datadog: a JSON array with ddsource and service and date", "[api_bodies]") {
    const std::string body = write(with(LogApi::datadog), e1 + e2 + e3, 3);
    simdjson::dom::parser parser;
    const auto root = parse(parser, body);
    simdjson::dom::array logs = root;
    REQUIRE(logs.size() == 3);
    const auto first = logs.at(0);
    CHECK(std::string_view(first["ddsource"]) == "supervent");
    CHECK(std::string_view(first["service"]) == R"(web "edge" log)");
    CHECK(std::string_view(first["date"]) == "2026-12-04T23:23:00.558876025Z");
    CHECK(std::string_view(first["message"]) == R"(GET "/a\b" 200)");
    CHECK(write(with(LogApi::datadog), "", 0) == "[]");
}

TEST_CASE("splunk HEC: an envelope per event with time in seconds and milliseconds", "[api_bodies]") {
    ApiOptions options = with(LogApi::splunk_hec);
    options.hec_index = "main";
    const std::string body = write(options, e1 + e2, 2);
    CHECK(body.starts_with(R"({"time":1796426580.558,"source":"web \"edge\" log","sourcetype":"_json","index":"main","event":{"_time")"));
    const auto second = body.find('\n') + 1;
    CHECK(body.substr(second, 22) == R"({"time":1796426581.000)");
    simdjson::dom::parser parser;
    const auto envelope = parse(parser, body.substr(0, second - 1));
    CHECK(std::string_view(envelope["event"]["event_type"]) == "access");
    CHECK(int64_t(envelope["event"]["attributes"]["status"]) == 200);
    CHECK(write(options, "", 0).empty());
}

TEST_CASE("otlp: resourceLogs and scope and records with ns times as strings and typed attributes and severity", "[api_bodies]") {
    const std::string body = write(with(LogApi::otlp), e1 + e2 + e3, 3);
    simdjson::dom::parser parser;
    const auto root = parse(parser, body);
    simdjson::dom::array resources = root["resourceLogs"];
    REQUIRE(resources.size() == 1);
    const auto resource = resources.at(0);
    CHECK(std::string_view(resource["resource"]["attributes"].at(0)["key"]) == "service.name");
    CHECK(std::string_view(resource["resource"]["attributes"].at(0)["value"]["stringValue"]) == R"(web "edge" log)");
    const auto scope = resource["scopeLogs"].at(0);
    CHECK(std::string_view(scope["scope"]["name"]) == "supervent");
    CHECK(std::string_view(scope["scope"]["version"]) == "1.2.3");
    simdjson::dom::array records = scope["logRecords"];
    REQUIRE(records.size() == 3);
    const auto first = records.at(0);
    CHECK(std::string_view(first["timeUnixNano"]) == std::to_string(t0_ns));
    CHECK(std::string_view(first["body"]["stringValue"]) == R"(GET "/a\b" 200)");
    CHECK(int64_t(first["severityNumber"]) == 13);  // level "warn"
    CHECK(std::string_view(first["severityText"]) == "warn");
    std::string seen;
    for (auto kv : simdjson::dom::array(first["attributes"])) {
        const std::string_view key = kv["key"];
        const auto value = kv["value"];
        if (key == "status") CHECK(std::string_view(value["intValue"]) == "200");  // int64 as a decimal string
        if (key == "ms") CHECK(double(value["doubleValue"]) == 9.5);
        if (key == "ok") CHECK(bool(value["boolValue"]));
        if (key == "tags") CHECK(std::string_view(value["arrayValue"]["values"].at(0)["stringValue"]) == "x");
        if (key == "n") CHECK(simdjson::dom::object(value).size() == 0);
        seen += std::string(key) + ",";
    }
    CHECK(seen == "event_type,method,status,ms,ok,tags,n,level,");
    CHECK(int64_t(records.at(1)["severityNumber"]) == 17);  // no level: status 503
    CHECK(std::string_view(records.at(1)["severityText"]) == "ERROR");
    CHECK(int64_t(records.at(2)["severityNumber"]) == 13);  // status 404
    CHECK(write(with(LogApi::otlp), "", 0) == R"({"resourceLogs":[]})");
}

TEST_CASE("loki: streams by label values and entries in batch order and lines escaped and ns timestamps", "[api_bodies]") {
    ApiOptions options = with(LogApi::loki);
    options.loki_labels = {"source", "attributes.method"};
    const std::string body = write(options, e1 + e2 + e3, 3);
    simdjson::dom::parser parser;
    const auto root = parse(parser, body);
    simdjson::dom::array streams = root["streams"];
    REQUIRE(streams.size() == 2);
    const auto get = streams.at(0);
    CHECK(std::string_view(get["stream"]["method"]) == "GET");
    CHECK(std::string_view(get["stream"]["source"]) == R"(web "edge" log)");
    simdjson::dom::array values = get["values"];
    REQUIRE(values.size() == 2);  // e1 and e3, in order
    CHECK(std::string_view(values.at(0).at(0)) == std::to_string(t0_ns));
    CHECK(std::string_view(values.at(1).at(0)) == "1796426582000000000");
    const std::string_view line = values.at(0).at(1);
    CHECK(line == std::string_view(e1).substr(0, e1.size() - 1));  // the event itself, once unescaped
    CHECK(std::string_view(streams.at(1)["stream"]["method"]) == "POST");
    CHECK(write(options, "", 0) == R"({"streams":[]})");

    options.loki_line_message = true;
    const std::string messages = write(options, e1, 1);
    simdjson::dom::parser parser2;
    CHECK(std::string_view(parse(parser2, messages)["streams"].at(0)["values"].at(0).at(1)) == R"(GET "/a\b" 200)");
}

TEST_CASE("a batch at the limit fits its bound exactly; one byte less is refused and not overrun", "[api_bodies]") {
    std::string batch;
    for (int i = 0; i < 16; ++i) batch += (i % 2 == 0 ? e1 : e2);
    for (LogApi api : {LogApi::elasticsearch, LogApi::datadog, LogApi::splunk_hec, LogApi::otlp, LogApi::loki}) {
        const ApiOptions options = with(api);
        const std::size_t bound = api_body_bytes_bound(options, batch.size(), 16);
        const std::string body = write(options, batch, 16, bound);
        CHECK(body.size() <= bound);
        // The raw cap for the API's limit keeps the bound within it.
        const std::size_t limit = api_limits(api).body_bytes_max;
        CHECK(api_body_bytes_bound(options, api_raw_bytes_for(options, limit, 1000), 1000) <= limit);
        // Far too little room: the writer says so and writes nothing past it.
        ApiBodyWriter writer(options, 16);
        std::string small(200, '\0');
        CHECK(writer.write(batch, 16, {small.data(), small.size()}) == 0);
        CHECK(writer.error() != nullptr);
    }
}

TEST_CASE("malformed batches are refused with a reason", "[api_bodies]") {
    ApiBodyWriter writer(with(LogApi::otlp), 4);
    std::string out(1 << 16, '\0');
    CHECK(writer.write(R"({"a":1})" "\n", 1, {out.data(), out.size()}) == 0);
    CHECK(writer.write(e1.substr(0, e1.size() - 1), 1, {out.data(), out.size()}) == 0);  // no final newline
    CHECK(writer.write(e1 + e1 + e1 + e1 + e1, 5, {out.data(), out.size()}) == 0);      // more than the tables
}

TEST_CASE("the _bulk reply: per-item statuses decide acked and partial and retried", "[api_replies]") {
    ApiReplyParser parser(1 << 16);
    ApiOutcome all = parser.parse(LogApi::elasticsearch, R"({"errors":false})", 3);
    CHECK((all.verdict == Verdict::acked && all.acked_events == 3 && all.reason == FailReason::none));
    ApiOutcome some = parser.parse(LogApi::elasticsearch,
                                   R"({"errors":true,"items":[{"create":{"status":201}},{"create":{"status":400,)"
                                   R"("error":{"type":"mapper_parsing_exception"}}},{"create":{"status":429}}]})",
                                   3);
    CHECK((some.verdict == Verdict::acked && some.acked_events == 1 && some.reason == FailReason::partial));
    CHECK(some.item_status == 400);
    CHECK(some.detail == "mapper_parsing_exception");
    ApiOutcome throttled = parser.parse(
        LogApi::elasticsearch, R"({"errors":true,"items":[{"create":{"status":429}},{"index":{"status":503}}]})", 2);
    CHECK((throttled.verdict == Verdict::retry && throttled.reason == FailReason::rate_limited));
    ApiOutcome unreadable = parser.parse(LogApi::elasticsearch, "<html>", 2);
    CHECK((unreadable.verdict == Verdict::retry && unreadable.reason == FailReason::bad_response));
}

TEST_CASE("the OTLP reply: partialSuccess rejects records and as a string or a number", "[api_replies]") {
    ApiReplyParser parser(1 << 16);
    CHECK(parser.parse(LogApi::otlp, "{}", 10).acked_events == 10);
    CHECK(parser.parse(LogApi::otlp, "", 10).acked_events == 10);
    const ApiOutcome partial =
        parser.parse(LogApi::otlp, R"({"partialSuccess":{"rejectedLogRecords":"3","errorMessage":"bad"}})", 10);
    CHECK((partial.acked_events == 7 && partial.reason == FailReason::partial && partial.detail == "bad"));
    CHECK(parser.parse(LogApi::otlp, R"({"partialSuccess":{"rejectedLogRecords":4}})", 10).acked_events == 6);
    CHECK(parser.parse(LogApi::loki, "", 5).acked_events == 5);
}

TEST_CASE("gzip: one member per body that inflates back to it and within its bound", "[api_bodies][gzip]") {
    std::string body;
    for (int i = 0; i < 50; ++i) body += e1 + e2;
    GzipCompressor gzip(1);
    std::string out(GzipCompressor::bound_bytes(body.size()), '\0');
    for (int round = 0; round < 2; ++round) {  // the stream is reset per batch
        const std::size_t bytes = gzip.compress({body.data(), body.size()}, {out.data(), out.size()});
        REQUIRE(bytes > 18);
        CHECK(static_cast<unsigned char>(out[0]) == 0x1f);  // the gzip magic
        CHECK(static_cast<unsigned char>(out[1]) == 0x8b);
        z_stream z{};
        REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
        std::string back(body.size() + 16, '\0');
        z.next_in = reinterpret_cast<Bytef*>(out.data());
        z.avail_in = static_cast<uInt>(bytes);
        z.next_out = reinterpret_cast<Bytef*>(back.data());
        z.avail_out = static_cast<uInt>(back.size());
        CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END);
        back.resize(back.size() - z.avail_out);
        inflateEnd(&z);
        CHECK(back == body);
    }
    CHECK_THROWS(GzipCompressor(0));
}
