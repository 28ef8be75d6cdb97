// ndjson_to_syslog: rendered NDJSON lines become RFC 5424 / RFC 3164
// messages with correct octet counts, SD-PARAM escaping, timestamps and
// PRI, without losing or splitting a line.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "net/syslog_format.hpp"

using namespace supervent::net;

namespace {

std::string convert(std::string_view ndjson, const SyslogFormatOptions& options) {
    std::string out(1 << 20, '\0');
    const SyslogChunk chunk = ndjson_to_syslog(ndjson, {out.data(), out.size()}, options);
    REQUIRE(chunk.in_bytes == ndjson.size());
    out.resize(chunk.out_bytes);
    return out;
}

SyslogFormatOptions options_5424(SyslogFraming framing = SyslogFraming::newline) {
    SyslogFormatOptions options;
    options.framing = framing;
    options.hostname = "gen-host";
    return options;
}

// Splits octet-counted frames, checking every count against the bytes.
std::vector<std::string> split_counted(std::string_view frames) {
    std::vector<std::string> messages;
    while (!frames.empty()) {
        const auto space = frames.find(' ');
        REQUIRE(space != std::string_view::npos);
        REQUIRE(frames[0] != '0');  // MSG-LEN has no leading zero
        const std::size_t length = std::stoul(std::string(frames.substr(0, space)));
        REQUIRE(space + 1 + length <= frames.size());
        messages.emplace_back(frames.substr(space + 1, length));
        frames.remove_prefix(space + 1 + length);
    }
    return messages;
}

constexpr std::string_view web_line =
    R"({"_time":"2026-12-04T23:11:34.123456789Z","source":"web_access","event_type":"request",)"
    R"("message":"GET /index.html 200","attributes":{"status":200,"http":{"method":"GET","path":"/a b"},"ok":true}})"
    "\n";

}  // namespace

TEST_CASE("syslog RFC 5424 header fields and structured data from the attributes", "[syslog]") {
    const std::string out = convert(web_line, options_5424());
    CHECK(out ==
          "<14>1 2026-12-04T23:11:34.123456Z gen-host web_access - request "
          "[supervent@32473 status=\"200\" http.method=\"GET\" http.path=\"/a b\" ok=\"true\"] GET /index.html 200\n");
}

TEST_CASE("syslog SD-PARAM values escape quote backslash and closing bracket", "[syslog]") {
    const std::string line = R"({"_time":"2026-01-02T03:04:05Z","source":"s","event_type":"t","message":"m",)"
                             R"("attributes":{"v":"a\"b\\c]d","w":"[ok="}})"
                             "\n";
    const std::string out = convert(line, options_5424());
    CHECK(out.find(R"(v="a\"b\\c\]d")") != std::string::npos);
    CHECK(out.find(R"(w="[ok=")") != std::string::npos);  // '[' and '=' need no escape in a value
}

TEST_CASE("syslog SD-NAMEs replace forbidden characters and are cut at 32", "[syslog]") {
    const std::string line = R"({"source":"s","event_type":"t","message":"m","attributes":{"a b=c]d\"e":"1",)"
                             R"("0123456789012345678901234567890123456789":"2"}})"
                             "\n";
    const std::string out = convert(line, options_5424());
    CHECK(out.find(R"( a_b_c_d_e="1")") != std::string::npos);
    CHECK(out.find(R"( 01234567890123456789012345678901="2")") != std::string::npos);
    CHECK(out.starts_with("<14>1 - gen-host s - t "));  // no _time: NILVALUE
}

TEST_CASE("syslog octet counts match the message bytes for every digit count", "[syslog]") {
    std::string ndjson;
    std::vector<std::size_t> message_bytes = {1, 50, 95, 120, 900, 1200, 20000};
    for (const std::size_t bytes : message_bytes) {
        ndjson += R"({"_time":"2026-01-02T03:04:05.5Z","source":"s","event_type":"t","message":")" +
                  std::string(bytes, 'x') + "\"}\n";
    }
    const std::string out = convert(ndjson, options_5424(SyslogFraming::octet_counting));
    const std::vector<std::string> messages = split_counted(out);
    REQUIRE(messages.size() == message_bytes.size());
    for (std::size_t i = 0; i < messages.size(); ++i) {
        CHECK(messages[i].starts_with("<14>1 2026-01-02T03:04:05.5Z gen-host s - t - "));
        CHECK(messages[i].ends_with(std::string(message_bytes[i], 'x')));
    }
}

TEST_CASE("syslog non-ASCII MSG gets the UTF-8 BOM and escapes decode to UTF-8", "[syslog]") {
    const std::string line = R"({"source":"s","event_type":"t","message":"caf\u00e9 \ud83d\ude00 na\u00efve ü",)"
                             R"("attributes":{"city":"Z\u00fcrich"}})"
                             "\n";
    const std::string out = convert(line, options_5424());
    CHECK(out.find(" \xEF\xBB\xBF" "caf\xC3\xA9 \xF0\x9F\x98\x80 na\xC3\xAFve \xC3\xBC\n") != std::string::npos);
    CHECK(out.find("city=\"Z\xC3\xBCrich\"") != std::string::npos);
    const std::string ascii = convert(web_line, options_5424());
    CHECK(ascii.find("\xEF\xBB\xBF") == std::string::npos);  // plain ASCII: MSG-ANY, no BOM
}

TEST_CASE("syslog newline framing turns an LF inside MSG into a space", "[syslog]") {
    const std::string line = R"({"source":"s","event_type":"t","message":"one\ntwo"})" "\n";
    CHECK(convert(line, options_5424()).ends_with(" one two\n"));
    const std::string counted = convert(line, options_5424(SyslogFraming::octet_counting));
    CHECK(split_counted(counted).front().ends_with(" one\ntwo"));  // octet counting carries it as is
}

TEST_CASE("syslog PRI takes the severity attribute and the facility", "[syslog]") {
    SyslogFormatOptions options = options_5424();
    options.facility = 16;  // local0
    const auto pri_of = [&](std::string_view severity) {
        const std::string line = R"({"source":"s","event_type":"t","message":"m","attributes":{"level":)" +
                                 std::string(severity) + "}}\n";
        const std::string out = convert(line, options);
        return out.substr(0, out.find('>') + 1);
    };
    CHECK(pri_of(R"("error")") == "<131>");
    CHECK(pri_of(R"("WARNING")") == "<132>");
    CHECK(pri_of(R"("debug")") == "<135>");
    CHECK(pri_of("0") == "<128>");
    CHECK(pri_of(R"("unheard-of")") == "<134>");  // informational
}

TEST_CASE("syslog HOSTNAME comes from a host attribute when the event has one", "[syslog]") {
    const std::string line = R"({"source":"s","event_type":"t","message":"m","attributes":{"host":"web-7"}})" "\n";
    CHECK(convert(line, options_5424()).starts_with("<14>1 - web-7 s - t "));
}

TEST_CASE("syslog RFC 3164 form with its timestamp and tag", "[syslog]") {
    SyslogFormatOptions options = options_5424();
    options.format = SyslogFormat::rfc3164;
    const std::string out = convert(web_line, options);
    CHECK(out == "<14>Dec  4 23:11:34 gen-host web_access: GET /index.html 200\n");
    const std::string two_digit_day =
        convert(R"({"_time":"2026-03-14T01:02:03Z","source":"my app!","event_type":"t","message":"m"})" "\n", options);
    CHECK(two_digit_day == "<14>Mar 14 01:02:03 gen-host my_app_: m\n");
}

TEST_CASE("syslog flat attributes beside the four keys become parameters too", "[syslog]") {
    const std::string line = R"({"_time":"2026-01-02T03:04:05Z","source":"s","event_type":"t","message":"m","user":"ann","n":[1,2]})" "\n";
    CHECK(convert(line, options_5424()).find(R"([supervent@32473 user="ann" n="[1,2\]"])") != std::string::npos);
}

TEST_CASE("syslog datagram framing records each message's end", "[syslog]") {
    SyslogFormatOptions options = options_5424(SyslogFraming::datagram);
    const std::string ndjson = std::string(web_line) + std::string(web_line) + std::string(web_line);
    std::string out(64 * 1024, '\0');
    std::vector<std::uint32_t> ends(2);
    const SyslogChunk first = ndjson_to_syslog(ndjson, {out.data(), out.size()}, options, ends);
    CHECK(first.frames == 2);  // as many as frame_ends holds
    CHECK(first.in_bytes == 2 * web_line.size());
    CHECK(ends[1] == 2 * ends[0]);
    CHECK(out.substr(0, ends[0]).ends_with("GET /index.html 200"));  // no LF, no count
}

TEST_CASE("syslog conversion stops before a line that might not fit", "[syslog]") {
    const SyslogFormatOptions options = options_5424();
    const std::string ndjson = std::string(web_line) + std::string(web_line);
    std::string out(syslog_frame_bytes_max(web_line.size(), options) + 10, '\0');
    const SyslogChunk chunk = ndjson_to_syslog(ndjson, {out.data(), out.size()}, options);
    CHECK(chunk.frames == 1);
    CHECK(chunk.in_bytes == web_line.size());
    const SyslogChunk rest = ndjson_to_syslog(std::string_view(ndjson).substr(chunk.in_bytes), {out.data(), out.size()}, options);
    CHECK(rest.frames == 1);
}

TEST_CASE("syslog a malformed line still becomes one message", "[syslog]") {
    const std::string out = convert("{\"source\":\"s\",\"message\":\"m\",\"x\":\n", options_5424());
    CHECK(out.starts_with("<14>1 - gen-host s - - "));
    CHECK(out.ends_with(" m\n"));
}
