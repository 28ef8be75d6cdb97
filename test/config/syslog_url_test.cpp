// syslog+tcp|tls|udp:// sink URLs: default ports, the query's options and
// the errors --check-config prints for bad ones.
#include <catch2/catch.hpp>

#include "config/load.hpp"

using supervent::config::ConfigError;
using supervent::config::parse_sink_url;
using supervent::config::SinkUrl;
using Catch::Matchers::Contains;

TEST_CASE("syslog URLs get their kinds and default ports", "[sink_url][syslog]") {
    const auto tcp = parse_sink_url("syslog+tcp://logs.example.com");
    CHECK(tcp.kind == SinkUrl::Kind::syslog_tcp);
    CHECK(tcp.host == "logs.example.com");
    CHECK(tcp.port == 514);
    CHECK(parse_sink_url("syslog+tls://[::1]").port == 6514);
    CHECK(parse_sink_url("syslog+tls://[::1]").host == "::1");
    const auto udp = parse_sink_url("SYSLOG+UDP://10.0.0.1:5140");
    CHECK(udp.kind == SinkUrl::Kind::syslog_udp);
    CHECK(udp.port == 5140);
    CHECK_FALSE(tcp.syslog.rfc3164);
    CHECK_FALSE(tcp.syslog.newline_framing);
    CHECK(tcp.syslog.facility == 1);
    CHECK(tcp.syslog.sd_id == "supervent@32473");
}

TEST_CASE("syslog options from the query", "[sink_url][syslog]") {
    const auto url = parse_sink_url("syslog+tcp://h:601?format=rfc5424&framing=newline&facility=local3&hostname=gen-1&sd_id=meta@99.1");
    CHECK(url.syslog.newline_framing);
    CHECK(url.syslog.facility == 19);
    CHECK(url.syslog.hostname == "gen-1");
    CHECK(url.syslog.sd_id == "meta@99.1");
    CHECK(parse_sink_url("syslog+tcp://h?facility=23").syslog.facility == 23);
    // rfc3164 frames with LF unless framing says otherwise, in either order.
    CHECK(parse_sink_url("syslog+tcp://h?format=rfc3164").syslog.newline_framing);
    CHECK_FALSE(parse_sink_url("syslog+tcp://h?framing=octet-counting&format=rfc3164").syslog.newline_framing);
    CHECK_FALSE(parse_sink_url("syslog+tcp://h?format=rfc3164&framing=octet-counting").syslog.newline_framing);
}

TEST_CASE("bad syslog options are named", "[sink_url][syslog]") {
    CHECK_THROWS_WITH(parse_sink_url("syslog+tcp://h?format=json"), Contains("format='json' must be rfc5424 or rfc3164"));
    CHECK_THROWS_WITH(parse_sink_url("syslog+tcp://h?framing=lf"), Contains("framing='lf'"));
    CHECK_THROWS_WITH(parse_sink_url("syslog+udp://h?framing=newline"), Contains("UDP sends one message per datagram"));
    CHECK_THROWS_WITH(parse_sink_url("syslog+tcp://h?facility=24"), Contains("facility='24'"));
    CHECK_THROWS_WITH(parse_sink_url("syslog+tcp://h?facility=local9"), Contains("must be 0 to 23"));
    CHECK_THROWS_WITH(parse_sink_url("syslog+tcp://h?sd_id=meta"), Contains("needs '@'"));
    CHECK_THROWS_WITH(parse_sink_url("syslog+tcp://h?sd_id=a b@1"), Contains("sd_id"));
    CHECK_THROWS_WITH(parse_sink_url("syslog+tcp://h?hostname=a b"), Contains("hostname"));
    CHECK_THROWS_WITH(parse_sink_url("syslog+tcp://h?color=red"), Contains("unknown syslog sink option 'color'"));
    CHECK_THROWS_WITH(parse_sink_url("syslog+tcp://h?format"), Contains("needs a value"));
    CHECK_THROWS_WITH(parse_sink_url("syslog+tcp://h/path"), Contains("no path"));
    CHECK_THROWS_WITH(parse_sink_url("syslog+tcp://h:0"), Contains("1 to 65535"));
    CHECK_THROWS_WITH(parse_sink_url("syslog+tcp://"), Contains("no host"));
    CHECK_THROWS_WITH(parse_sink_url("syslog://h"), Contains("syslog+tcp://"));
}
