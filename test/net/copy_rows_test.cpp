// encode_copy_rows: NDJSON events become COPY text rows; escaping of tabs,
// newlines, backslashes and \u escapes, NUL-free output, and the size bound.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "net/copy_rows.hpp"

using namespace supervent::net;

namespace {

std::string encode(const std::string& ndjson, std::uint32_t expected_rows = 1) {
    std::vector<char> out(copy_rows_bytes_max(ndjson.size(), 8));
    const CopyRows rows = encode_copy_rows(ndjson, out);
    INFO(ndjson);
    REQUIRE(rows.error == nullptr);
    CHECK(rows.rows == expected_rows);
    return {out.data(), rows.bytes};
}

}  // namespace

TEST_CASE("copy rows: an event becomes five tab-separated columns", "[copy_rows]") {
    const std::string row = encode(
        R"({"_time":"2026-01-02T03:04:05.123456789Z","source":"web","event_type":"access","message":"GET /","attributes":{"status":200,"path":"/"}})"
        "\n");
    CHECK(row == "2026-01-02T03:04:05.123456789Z\tweb\taccess\tGET /\t{\"status\":200,\"path\":\"/\"}\n");
}

TEST_CASE("copy rows: JSON escapes become COPY escapes", "[copy_rows]") {
    // tab, newline, CR, backslash, quote, slash, backspace, form feed
    const std::string row = encode(R"({"message":"a\tb\nc\rd\\e\"f\/g\bh\fi"})");
    CHECK(row == "\\N\t\\N\t\\N\ta\\tb\\nc\\rd\\\\e\"f/g\\bh\\fi\t\\N\n");
}

TEST_CASE("copy rows: unicode escapes are decoded to UTF-8 and NUL is replaced", "[copy_rows]") {
    const std::string row = encode(R"({"message":"\u00e9\u20ac\ud83d\ude00\u0000\u0009\u005c"})");
    CHECK(row == "\\N\t\\N\t\\N\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd\\t\\\\\t\\N\n");
    CHECK(row.find('\0') == std::string::npos);
    // A lone surrogate is no character: U+FFFD.
    CHECK(encode(R"({"message":"\ud800x"})") == "\\N\t\\N\t\\N\t\xef\xbf\xbdx\t\\N\n");
}

TEST_CASE("copy rows: attributes keep their JSON with backslashes doubled and no NUL escape", "[copy_rows]") {
    const std::string row = encode(R"({"attributes":{"q":"say \"hi\"\\","z":"\u0000","t":"a\tb"}})");
    CHECK(row == "\\N\t\\N\t\\N\t\\N\t{\"q\":\"say \\\\\"hi\\\\\"\\\\\\\\\",\"z\":\"\\\\ufffd\",\"t\":\"a\\\\tb\"}\n");
}

TEST_CASE("copy rows: flat attributes are gathered into the attributes column", "[copy_rows]") {
    const std::string row = encode(R"({"_time":"t","message":"m","status":200,"ok":true,"tags":["a","b"],"n":null})");
    CHECK(row == "t\t\\N\t\\N\tm\t{\"status\":200,\"ok\":true,\"tags\":[\"a\",\"b\"],\"n\":null}\n");
    const std::string both = encode(R"({"attributes":{"a":1},"b":2})");
    CHECK(both == "\\N\t\\N\t\\N\t\\N\t{\"a\":1,\"b\":2}\n");
    CHECK(encode(R"({"attributes":{},"b":2})") == "\\N\t\\N\t\\N\t\\N\t{\"b\":2}\n");
}

TEST_CASE("copy rows: null and non-string columns", "[copy_rows]") {
    CHECK(encode(R"({"_time":null,"source":12.5,"event_type":true,"message":{"k":"v\\"}})") ==
          "\\N\t12.5\ttrue\t{\"k\":\"v\\\\\\\\\"}\t\\N\n");
}

TEST_CASE("copy rows: one row per line; blank lines and a missing final newline", "[copy_rows]") {
    const std::string rows = encode("{\"message\":\"a\"}\n\n{\"message\":\"b\"}", 2);
    CHECK(rows == "\\N\t\\N\t\\N\ta\t\\N\n\\N\t\\N\t\\N\tb\t\\N\n");
}

TEST_CASE("copy rows: malformed lines are refused with the line number", "[copy_rows]") {
    for (const char* bad : {"[1,2]", "{\"a\" 1}", "{\"a\":\"open}", "{\"a\":1 \"b\":2}", "{\"a\":1} x"}) {
        const std::string ndjson = std::string("{\"message\":\"ok\"}\n") + bad + "\n";
        std::vector<char> out(copy_rows_bytes_max(ndjson.size(), 2));
        const CopyRows rows = encode_copy_rows(ndjson, out);
        INFO(bad);
        CHECK(rows.error != nullptr);
        CHECK(rows.error_line == 2);
    }
}

TEST_CASE("copy rows: the worst case stays within the bound and a small buffer is refused", "[copy_rows]") {
    // Every byte of the attributes a backslash escape: the most expansion there is.
    std::string ndjson = "{\"attributes\":{\"k\":\"";
    for (int i = 0; i < 500; ++i) ndjson += "\\\\";
    ndjson += "\"}}\n";
    std::vector<char> out(copy_rows_bytes_max(ndjson.size(), 1));
    const CopyRows rows = encode_copy_rows(ndjson, out);
    REQUIRE(rows.error == nullptr);
    CHECK(rows.bytes <= copy_row_bytes_max(ndjson.size() - 1));
    std::vector<char> small(ndjson.size());
    CHECK(encode_copy_rows(ndjson, small).error != nullptr);
}

TEST_CASE("copy rows: escapes are found at every position of long values", "[copy_rows]") {
    // The scans go 16 bytes at a time: a special byte must be found in any lane and in the tail.
    for (std::size_t before = 0; before < 40; ++before) {
        for (const auto& [json, copy] : {std::pair<std::string, std::string>{"\\t", "\\t"}, {"\\\\", "\\\\"},
                                         {"\\\"", "\""}, {"\\u00e9", "\xc3\xa9"}}) {
            const std::string a(before, 'a');
            const std::string b(37 - before % 37, 'b');
            const std::string row = encode("{\"message\":\"" + a + json + b + "\",\"attributes\":{\"k\":\"" + a + json +
                                           b + "\"}}");
            // In the jsonb column the JSON escape stays, its backslashes doubled for COPY.
            std::string json_in_copy;
            for (char c : json) json_in_copy += c == '\\' ? std::string("\\\\") : std::string(1, c);
            CHECK(row == "\\N\t\\N\t\\N\t" + a + copy + b + "\t{\"k\":\"" + a + json_in_copy + b + "\"}\n");
        }
    }
}

namespace {

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string be64(std::uint64_t v) { return be32(static_cast<std::uint32_t>(v >> 32)) + be32(static_cast<std::uint32_t>(v)); }

std::string binary_rows(const std::string& ndjson, const char** error = nullptr) {
    std::vector<char> out(copy_rows_bytes_max(ndjson.size(), 8));
    const CopyRows rows = encode_copy_rows(ndjson, out, CopyFormat::binary);
    if (error != nullptr) *error = rows.error;
    return {out.data(), rows.bytes};
}

}  // namespace

TEST_CASE("copy rows: binary rows: int64 microseconds since 2000 and text as its bytes and jsonb as version 1 and JSON", "[copy_rows]") {
    const std::string row = binary_rows(
        R"({"_time":"2026-01-02T03:04:05.123456789Z","source":"w\tb","event_type":null,"message":"a\"\n\u00e9\u0000","attributes":{"k":"\"x\\","z":"\u0000"}})");
    const std::string time = be32(8) + be64(820638245123457);  // rounded half up from ...456789 ns
    const std::string source = be32(3) + "w\tb";
    const std::string message = "a\"\n\xc3\xa9\xef\xbf\xbd";
    const std::string attributes = std::string(1, '\1') + R"({"k":"\"x\\","z":"\ufffd"})";
    CHECK(row == std::string("\0\5", 2) + time + source + be32(0xffffffffu) + be32(static_cast<std::uint32_t>(message.size())) +
                     message + be32(static_cast<std::uint32_t>(attributes.size())) + attributes);
}

TEST_CASE("copy rows: binary rows: time zones and missing columns and refusals", "[copy_rows]") {
    const std::string offset = binary_rows(R"({"_time":"2000-01-01T00:00:00+02:00"})");
    CHECK(offset.substr(2, 12) == be32(8) + be64(static_cast<std::uint64_t>(-7200000000LL)));
    CHECK(binary_rows("{}") == std::string("\0\5", 2) + be32(0xffffffffu) + be32(0xffffffffu) + be32(0xffffffffu) +
                                    be32(0xffffffffu) + be32(0xffffffffu));
    const char* error = nullptr;
    (void)binary_rows(R"({"_time":1767323045})", &error);
    CHECK(error != nullptr);
    (void)binary_rows(R"({"_time":"yesterday"})", &error);
    CHECK(error != nullptr);
}
