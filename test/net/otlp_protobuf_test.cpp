// OTLP protobuf bodies: the wire-format writer (net/protobuf_writer.hpp), the
// ExportLogsServiceRequest written from an NDJSON batch, read back field by
// field with the reader, and the protobuf ExportLogsServiceResponse parsed.
#include <catch2/catch.hpp>

#include <bit>
#include <string>
#include <vector>

#include "net/api_bodies.hpp"
#include "net/api_replies.hpp"
#include "net/protobuf_writer.hpp"

using namespace supervent::net;

namespace {

std::string bytes_of(const char* begin, const char* end) { return std::string(begin, end); }

// Every field of a message with this number, in order.
std::vector<pb::Field> fields(std::string_view message, std::uint32_t number) {
    std::vector<pb::Field> found;
    pb::Field field;
    while (pb::next_field(message, field)) {
        if (field.number == number) found.push_back(field);
    }
    REQUIRE(message.empty());  // the whole message parsed
    return found;
}

std::string_view one(std::string_view message, std::uint32_t number) {
    const auto found = fields(message, number);
    REQUIRE(found.size() == 1);
    return found[0].bytes;
}

}  // namespace

TEST_CASE("protobuf varints and fixed64 are written as the spec's examples", "[otlp_protobuf]") {
    char buffer[32];
    CHECK(bytes_of(buffer, pb::put_varint(buffer, 1)) == "\x01");
    CHECK(bytes_of(buffer, pb::put_varint(buffer, 150)) == "\x96\x01");
    CHECK(bytes_of(buffer, pb::put_varint(buffer, 300)) == "\xac\x02");
    CHECK(pb::put_varint(buffer, UINT64_MAX) - buffer == 10);
    CHECK(pb::varint_bytes(127) == 1);
    CHECK(pb::varint_bytes(128) == 2);
    CHECK(pb::varint_bytes(16383) == 2);
    CHECK(pb::varint_bytes(16384) == 3);
    // field 1 varint 150: 08 96 01
    CHECK(bytes_of(buffer, pb::put_varint_field(buffer, 1, 150)) == "\x08\x96\x01");
    // field 2 string "testing": 12 07 74 65 73 74 69 6e 67
    CHECK(bytes_of(buffer, pb::put_bytes_field(buffer, 2, "testing")) == std::string("\x12\x07testing"));
    const std::string fixed = bytes_of(buffer, pb::put_fixed64_field(buffer, 1, 0x0102030405060708ULL));
    CHECK(fixed == std::string("\x09\x08\x07\x06\x05\x04\x03\x02\x01", 9));
}

TEST_CASE("a nested field's length is patched in and the contents moved back when the bound was generous", "[otlp_protobuf]") {
    std::vector<char> buffer(40000);
    for (const std::size_t length : {std::size_t{0}, std::size_t{5}, std::size_t{127}, std::size_t{128}, std::size_t{20000}}) {
        char* o = buffer.data();
        const pb::Nested nested = pb::open(o, 3, 30000);  // reserves 3 bytes
        CHECK(nested.reserved == 3);
        for (std::size_t i = 0; i < length; ++i) *o++ = static_cast<char>('a' + i % 26);
        o = pb::close(nested, o);
        std::string_view written(buffer.data(), static_cast<std::size_t>(o - buffer.data()));
        CHECK(written.size() == 1 + pb::varint_bytes(length) + length);  // canonical: no padding
        pb::Field field;
        REQUIRE(pb::next_field(written, field));
        CHECK(field.number == 3);
        CHECK(field.wire == pb::Wire::len);
        REQUIRE(field.bytes.size() == length);
        if (length > 0) CHECK(field.bytes.back() == static_cast<char>('a' + (length - 1) % 26));
        CHECK(written.empty());
    }
}

TEST_CASE("otlp protobuf: the request's records carry every field of the JSON body", "[otlp_protobuf]") {
    ApiOptions options;
    options.api = LogApi::otlp;
    options.otlp_protobuf = true;
    options.scope_version = "1.2.3";
    ApiBodyWriter writer(options, 8);
    const std::string ndjson =
        R"({"_time":"2026-12-04T23:23:00.558876025Z","source":"web","event_type":"access","message":"GET \"/a\\b\" \u00e9\ud83d\ude00",)"
        R"("attributes":{"status":503,"level":"warn","ratio":0.5,"neg":-1,"ok":true,"none":null,"tags":["x",2],"ctx":{"k":"v"},"empty":{}}})"
        "\n"
        R"({"_time":"2026-12-04T23:23:01.000000000Z","source":"db","event_type":"query","message":"select"})"
        "\n";
    std::vector<char> out(8192);
    const std::size_t bytes = writer.write(ndjson, 2, out);
    REQUIRE(writer.error() == nullptr);
    REQUIRE(bytes > 0);
    CHECK(api_content_type(LogApi::otlp, true) == "application/x-protobuf");
    const std::string_view request(out.data(), bytes);
    const auto resource_logs = fields(request, 1);
    REQUIRE(resource_logs.size() == 2);  // one per source run

    // resource { attributes { key "service.name" value { string_value "web" } } }
    const std::string_view service = one(one(resource_logs[0].bytes, 1), 1);
    CHECK(one(service, 1) == "service.name");
    CHECK(one(one(service, 2), 1) == "web");
    const std::string_view scope_logs = one(resource_logs[0].bytes, 2);
    const std::string_view scope = one(scope_logs, 1);
    CHECK(one(scope, 1) == "supervent");
    CHECK(one(scope, 2) == "1.2.3");
    const auto records = fields(scope_logs, 2);
    REQUIRE(records.size() == 1);
    const std::string_view record = records[0].bytes;

    const auto time = fields(record, 1);
    REQUIRE(time.size() == 1);
    CHECK(time[0].wire == pb::Wire::fixed64);
    CHECK(time[0].value == 1796426580558876025ULL);
    const auto severity = fields(record, 2);
    REQUIRE(severity.size() == 1);
    CHECK(severity[0].value == 13);  // warn
    CHECK(one(record, 3) == "warn");
    CHECK(one(one(record, 5), 1) == "GET \"/a\\b\" \xc3\xa9\xf0\x9f\x98\x80");  // unescaped UTF-8

    const auto attributes = fields(record, 6);
    REQUIRE(attributes.size() == 10);  // event_type and the nine
    CHECK(one(attributes[0].bytes, 1) == "event_type");
    CHECK(one(one(attributes[0].bytes, 2), 1) == "access");
    CHECK(one(attributes[1].bytes, 1) == "status");
    CHECK(fields(one(attributes[1].bytes, 2), 3).at(0).value == 503);  // int_value
    CHECK(std::bit_cast<double>(fields(one(attributes[3].bytes, 2), 4).at(0).value) == 0.5);  // double_value
    CHECK(fields(one(attributes[4].bytes, 2), 3).at(0).value == UINT64_MAX);  // -1 as int64
    CHECK(fields(one(attributes[5].bytes, 2), 2).at(0).value == 1);  // bool_value
    CHECK(one(attributes[6].bytes, 2).empty());  // null: an empty AnyValue
    const auto tags = fields(one(one(attributes[7].bytes, 2), 5), 1);  // array_value.values
    REQUIRE(tags.size() == 2);
    CHECK(one(tags[0].bytes, 1) == "x");
    CHECK(fields(tags[1].bytes, 3).at(0).value == 2);
    const auto ctx = fields(one(one(attributes[8].bytes, 2), 6), 1);  // kvlist_value.values
    REQUIRE(ctx.size() == 1);
    CHECK(one(ctx[0].bytes, 1) == "k");
    CHECK(fields(one(attributes[9].bytes, 2), 6).size() == 1);  // an empty kvlist

    // The second source's record: INFO by default.
    const std::string_view second = fields(one(resource_logs[1].bytes, 2), 2).at(0).bytes;
    CHECK(fields(second, 2).at(0).value == 9);
    CHECK(one(second, 3) == "INFO");
}

TEST_CASE("otlp protobuf: a batch too large for its buffer is refused and not overrun", "[otlp_protobuf]") {
    ApiOptions options;
    options.api = LogApi::otlp;
    options.otlp_protobuf = true;
    ApiBodyWriter writer(options, 4);
    const std::string line = R"({"_time":"2026-12-04T23:23:00.558876025Z","source":"web","event_type":"a","message":"m"})" "\n";
    std::vector<char> out(700);
    CHECK(writer.write(line, 1, out) == 0);
    CHECK(writer.error() != nullptr);
}

TEST_CASE("otlp protobuf reply: partial_success rejects records", "[otlp_protobuf]") {
    ApiReplyParser parser(4096);
    const std::string partial("\x0a\x18\x08\x05\x12\x14some records refused", 26);
    const ApiOutcome some = parser.parse(LogApi::otlp, partial, 10);
    CHECK(some.acked_events == 5);
    CHECK(some.reason == FailReason::partial);
    CHECK(some.detail == "some records refused");
    CHECK(parser.parse(LogApi::otlp, "", 10).acked_events == 10);  // empty message: all taken
    CHECK(parser.parse(LogApi::otlp, std::string("\x0a\x00", 2), 10).acked_events == 10);
    CHECK(parser.parse(LogApi::otlp, "\x0a\x05\x08", 10).acked_events == 10);  // truncated: read what is there
}
