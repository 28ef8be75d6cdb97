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

TEST_CASE("an event becomes five tab-separated columns", "[copy_rows]") {
    const std::string row = encode(
        R"({"_time":"2026-01-02T03:04:05.123456789Z","source":"web","event_type":"access","message":"GET /","attributes":{"status":200,"path":"/"}})"
        "\n");
    CHECK(row == "2026-01-02T03:04:05.123456789Z\tweb\taccess\tGET /\t{\"status\":200,\"path\":\"/\"}\n");
}

TEST_CASE("JSON escapes become COPY escapes", "[copy_rows]") {
    // tab, newline, CR, backslash, quote, slash, backspace, form feed
    const std::string row = encode(R"({"message":"a\tb\nc\rd\\e\"f\/g\bh\fi"})");
    CHECK(row == "\\N\t\\N\t\\N\ta\\tb\\nc\\rd\\\\e\"f/g\\bh\\fi\t\\N\n");
}

TEST_CASE("unicode escapes are decoded to UTF-8 and NUL is replaced", "[copy_rows]") {
    const std::string row = encode(R"({"message":"\u00e9\u20ac\ud83d\ude00\u0000\u0009\u005c"})");
    CHECK(row == "\\N\t\\N\t\\N\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd\\t\\\\\t\\N\n");
    CHECK(row.find('\0') == std::string::npos);
    // A lone surrogate is no character: U+FFFD.
    CHECK(encode(R"({"message":"\ud800x"})") == "\\N\t\\N\t\\N\t\xef\xbf\xbdx\t\\N\n");
}

TEST_CASE("attributes keep their JSON with backslashes doubled and no NUL escape", "[copy_rows]") {
    const std::string row = encode(R"({"attributes":{"q":"say \"hi\"\\","z":"\u0000","t":"a\tb"}})");
    CHECK(row == "\\N\t\\N\t\\N\t\\N\t{\"q\":\"say \\\\\"hi\\\\\"\\\\\\\\\",\"z\":\"\\\\ufffd\",\"t\":\"a\\\\tb\"}\n");
}

TEST_CASE("flat attributes are gathered into the attributes column", "[copy_rows]") {
    const std::string row = encode(R"({"_time":"t","message":"m","status":200,"ok":true,"tags":["a","b"],"n":null})");
    CHECK(row == "t\t\\N\t\\N\tm\t{\"status\":200,\"ok\":true,\"tags\":[\"a\",\"b\"],\"n\":null}\n");
    const std::string both = encode(R"({"attributes":{"a":1},"b":2})");
    CHECK(both == "\\N\t\\N\t\\N\t\\N\t{\"a\":1,\"b\":2}\n");
    CHECK(encode(R"({"attributes":{},"b":2})") == "\\N\t\\N\t\\N\t\\N\t{\"b\":2}\n");
}

TEST_CASE("null and non-string columns", "[copy_rows]") {
    CHECK(encode(R"({"_time":null,"source":12.5,"event_type":true,"message":{"k":"v\\"}})") ==
          "\\N\t12.5\ttrue\t{\"k\":\"v\\\\\\\\\"}\t\\N\n");
}

TEST_CASE("one row per line; blank lines and a missing final newline", "[copy_rows]") {
    const std::string rows = encode("{\"message\":\"a\"}\n\n{\"message\":\"b\"}", 2);
    CHECK(rows == "\\N\t\\N\t\\N\ta\t\\N\n\\N\t\\N\t\\N\tb\t\\N\n");
}

TEST_CASE("malformed lines are refused with the line number", "[copy_rows]") {
    for (const char* bad : {"[1,2]", "{\"a\" 1}", "{\"a\":\"open}", "{\"a\":1 \"b\":2}", "{\"a\":1} x"}) {
        const std::string ndjson = std::string("{\"message\":\"ok\"}\n") + bad + "\n";
        std::vector<char> out(copy_rows_bytes_max(ndjson.size(), 2));
        const CopyRows rows = encode_copy_rows(ndjson, out);
        INFO(bad);
        CHECK(rows.error != nullptr);
        CHECK(rows.error_line == 2);
    }
}

TEST_CASE("the worst case stays within the bound and a small buffer is refused", "[copy_rows]") {
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

TEST_CASE("escapes are found at every position of long values", "[copy_rows]") {
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
