#include <catch2/catch.hpp>

#include "config/load.hpp"

using supervent::config::ConfigError;
using supervent::config::parse_sink_url;
using supervent::config::SinkUrl;
using Catch::Matchers::Contains;

TEST_CASE("http URL with host and port and prefix", "[sink_url]") {
    const auto url = parse_sink_url("http://ingest.example.com:8080/proxy/");
    CHECK(url.kind == SinkUrl::Kind::http);
    CHECK(url.host == "ingest.example.com");
    CHECK(url.port == 8080);
    CHECK(url.path_prefix == "/proxy");
    CHECK(url.text == "http://ingest.example.com:8080/proxy/");
}

TEST_CASE("http and https URLs get their default ports", "[sink_url]") {
    CHECK(parse_sink_url("http://localhost").port == 80);
    CHECK(parse_sink_url("http://localhost/").path_prefix.empty());
    const auto secure = parse_sink_url("https://api.axiom.co");
    CHECK(secure.kind == SinkUrl::Kind::https);
    CHECK(secure.port == 443);
    CHECK(secure.host == "api.axiom.co");
}

TEST_CASE("the scheme is case-insensitive", "[sink_url]") {
    CHECK(parse_sink_url("HTTP://127.0.0.1:9000").port == 9000);
}

TEST_CASE("IPv6 literals go in brackets", "[sink_url]") {
    const auto url = parse_sink_url("http://[::1]:8080/a/b");
    CHECK(url.host == "::1");
    CHECK(url.port == 8080);
    CHECK(url.path_prefix == "/a/b");
    CHECK(parse_sink_url("http://[2001:db8::7]").port == 80);
    CHECK_THROWS_WITH(parse_sink_url("http://::1:8080"), Contains("brackets"));
    CHECK_THROWS_WITH(parse_sink_url("http://[::1:8080"), Contains("closing ']'"));
    CHECK_THROWS_WITH(parse_sink_url("http://[nope]:80"), Contains("not a valid IPv6 address"));
    CHECK_THROWS_WITH(parse_sink_url("http://[::1]x"), Contains("after the host"));
}

TEST_CASE("ports must be 1 to 65535", "[sink_url]") {
    CHECK(parse_sink_url("http://h:1").port == 1);
    CHECK(parse_sink_url("http://h:65535").port == 65535);
    for (const auto* bad : {"http://h:0", "http://h:65536", "http://h:", "http://h:8o", "http://h:-1",
                            "http://h:99999999999999999999999"}) {
        CAPTURE(bad);
        CHECK_THROWS_WITH(parse_sink_url(bad), Contains("from 1 to 65535"));
    }
}

TEST_CASE("http URLs refuse user information and queries and fragments", "[sink_url]") {
    CHECK_THROWS_WITH(parse_sink_url("http://user:secret@host"), Contains("user information"));
    CHECK_THROWS_WITH(parse_sink_url("http://user:secret@host"), !Contains("secret"));
    CHECK_THROWS_WITH(parse_sink_url("http://host/x?a=1"), Contains("query"));
    CHECK_THROWS_WITH(parse_sink_url("http://host/#frag"), Contains("fragment"));
}

TEST_CASE("http URLs refuse empty or odd hosts and unsafe paths", "[sink_url]") {
    CHECK_THROWS_WITH(parse_sink_url("http://"), Contains("no host"));
    CHECK_THROWS_WITH(parse_sink_url("http://:80"), Contains("no host"));
    CHECK_THROWS_WITH(parse_sink_url("http://ho st"), Contains("host"));
    CHECK_THROWS_WITH(parse_sink_url("http://host/a b"), Contains("spaces"));
    CHECK_THROWS_WITH(parse_sink_url("http://host/a\r\nX: y"), Contains("control characters"));
}

TEST_CASE("file and stdout and discard sinks", "[sink_url]") {
    const auto file = parse_sink_url("file:/var/tmp/events.ndjson");
    CHECK(file.kind == SinkUrl::Kind::file);
    CHECK(file.file_path == "/var/tmp/events.ndjson");
    CHECK(parse_sink_url("file:relative/out.ndjson").file_path == "relative/out.ndjson");
    CHECK(parse_sink_url("file:///abs/out.ndjson").file_path == "/abs/out.ndjson");
    CHECK_THROWS_WITH(parse_sink_url("file:"), Contains("needs a path"));
    CHECK_THROWS_WITH(parse_sink_url("file://host/x"), Contains("no host"));
    CHECK(parse_sink_url("stdout:").kind == SinkUrl::Kind::stdout_stream);
    CHECK(parse_sink_url("discard:").kind == SinkUrl::Kind::discard);
    CHECK_THROWS_WITH(parse_sink_url("stdout:x"), Contains("nothing after the colon"));
}

TEST_CASE("unknown forms list the accepted ones", "[sink_url]") {
    for (const auto* bad : {"ftp://host", "localhost:8080", "http:/host", "stdout", "", "tcp://h:1"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_sink_url(bad), ConfigError);
        CHECK_THROWS_WITH(parse_sink_url(bad), Contains("file:PATH") && Contains("http://HOST[:PORT][/PREFIX]"));
    }
}

TEST_CASE("URLs longer than the bound are refused", "[sink_url]") {
    const std::string long_url = "http://h/" + std::string(supervent::bounds::url_bytes_max, 'a');
    CHECK_THROWS_WITH(parse_sink_url(long_url), Contains("at most"));
}
