// HTTP log API presets in the sink URL: API+http(s)://HOST[:PORT][/PREFIX][?options]
// (config/sink_api.cpp), and the clear errors for what is wrong in one.
#include <catch2/catch.hpp>

#include "config/load.hpp"
#include "config/values.hpp"

using supervent::config::parse_sink_url;
using supervent::config::SinkApi;
using supervent::config::SinkUrl;
using Catch::Matchers::Contains;

TEST_CASE("each preset scheme names its API and gets the API's port", "[sink_api]") {
    const auto es = parse_sink_url("elasticsearch+https://es.example/prefix");
    CHECK(es.api == SinkApi::elasticsearch);
    CHECK(es.kind == SinkUrl::Kind::https);
    CHECK(es.port == 9200);
    CHECK(es.path_prefix == "/prefix");
    CHECK(parse_sink_url("opensearch+http://os:9201").api == SinkApi::elasticsearch);
    CHECK(parse_sink_url("OPENSEARCH+http://os:9201").port == 9201);
    CHECK(parse_sink_url("loki+http://loki").port == 3100);
    CHECK(parse_sink_url("splunk+https://hec").port == 8088);
    CHECK(parse_sink_url("otlp+http://collector").port == 4318);
    const auto datadog = parse_sink_url("datadog+https://http-intake.logs.datadoghq.com");
    CHECK(datadog.api == SinkApi::datadog);
    CHECK(datadog.port == 443);
    CHECK(parse_sink_url("http://localhost").api == SinkApi::axiom);
}

TEST_CASE("preset options come from the query and checked per API", "[sink_api]") {
    const auto loki = parse_sink_url("loki+http://loki:3100?labels=source,attributes.status&line=message&tenant=team-a");
    REQUIRE(loki.api_options.size() == 3);
    CHECK(loki.api_options[0] == std::pair<std::string, std::string>{"labels", "source,attributes.status"});
    CHECK(loki.api_options[2].second == "team-a");
    const auto hec = parse_sink_url("splunk+https://hec?sourcetype=web&index=main&channel=5e7e1c3a-0b5d-4c2e-9f1a-5375706e7401");
    CHECK(hec.api_options.size() == 3);
}

TEST_CASE("bad preset URLs and options are refused naming what is wrong", "[sink_api]") {
    CHECK_THROWS_WITH(parse_sink_url("kafka+http://k:9092"), Contains("names no HTTP log API"));
    CHECK_THROWS_WITH(parse_sink_url("loki+http:loki"), Contains("must be followed by //HOST"));
    CHECK_THROWS_WITH(parse_sink_url("loki+http://loki?labels=attributes.status"), Contains("must include source or event_type"));
    CHECK_THROWS_WITH(parse_sink_url("loki+http://loki?labels=source,a.status,b.status"), Contains("two labels would be named"));
    CHECK_THROWS_WITH(parse_sink_url("loki+http://loki?labels=source,bad-name"), Contains("is not a member path"));
    CHECK_THROWS_WITH(parse_sink_url("loki+http://loki?line=json"), Contains("expected event or message"));
    CHECK_THROWS_WITH(parse_sink_url("loki+http://loki?colour=red"), Contains("unknown option 'colour'"));
    CHECK_THROWS_WITH(parse_sink_url("loki+http://loki?tenant=a&tenant=b"), Contains("given twice"));
    CHECK_THROWS_WITH(parse_sink_url("loki+http://loki?tenant"), Contains("must be key=value"));
    CHECK_THROWS_WITH(parse_sink_url("splunk+http://hec?channel=abc"), Contains("GUID"));
    CHECK_THROWS_WITH(parse_sink_url("splunk+http://hec?index=a%20b c"), Contains("printable ASCII"));
    CHECK_THROWS_WITH(parse_sink_url("elasticsearch+http://es?index=logs"), Contains("takes no options"));
    CHECK_THROWS_WITH(parse_sink_url("otlp+http://c#frag"), Contains("fragment"));
    CHECK_THROWS_WITH(parse_sink_url("otlp+http://c:99999"), Contains("from 1 to 65535"));
    CHECK_THROWS_WITH(parse_sink_url("http://localhost?labels=source"), Contains("must not have a query"));
}

TEST_CASE("compression gzip and gzip:LEVEL for the APIs without zstd", "[sink_api]") {
    using supervent::config::detail::parse_compression;
    const auto gzip = parse_compression("gzip");
    CHECK((gzip.gzip && !gzip.zstd && gzip.level == 1));
    CHECK(parse_compression("gzip:9").level == 9);
    CHECK(supervent::config::detail::compression_name(parse_compression("gzip:6")) == "gzip:6");
    CHECK_THROWS_WITH(parse_compression("gzip:0"), Contains("from 1 to 9"));
    CHECK_THROWS_WITH(parse_compression("gzip:x"), Contains("from 1 to 9"));
    CHECK_THROWS_WITH(parse_compression("brotli"), Contains("'gzip:LEVEL'"));
}

TEST_CASE("splunk ack options: true or false and durations in range and only with ack=true", "[sink_api]") {
    const auto hec = parse_sink_url("splunk+http://hec?ack=true&ack_interval=500ms&ack_timeout=2m");
    CHECK(hec.api_options.size() == 3);
    CHECK(parse_sink_url("splunk+http://hec?ack=false").api_options.size() == 1);
    CHECK_THROWS_WITH(parse_sink_url("splunk+http://hec?ack=yes"), Contains("splunk option ack: expected true or false"));
    CHECK_THROWS_WITH(parse_sink_url("splunk+http://hec?ack=true&ack_interval=soon"), Contains("ack_interval: 'soon' is not a duration"));
    CHECK_THROWS_WITH(parse_sink_url("splunk+http://hec?ack=true&ack_interval=1ms"), Contains("outside 10ms to 60s"));
    CHECK_THROWS_WITH(parse_sink_url("splunk+http://hec?ack=true&ack_timeout=2h"), Contains("outside 1s to 1h"));
    CHECK_THROWS_WITH(parse_sink_url("splunk+http://hec?ack_interval=1s"), Contains("ack_interval needs ack=true"));
    CHECK_THROWS_WITH(parse_sink_url("splunk+http://hec?ack=true&ack_interval=5s&ack_timeout=5s"),
                      Contains("must be longer than ack_interval"));
}

TEST_CASE("otlp encoding option: json or protobuf", "[sink_api]") {
    CHECK(parse_sink_url("otlp+http://collector?encoding=protobuf").api_options.size() == 1);
    CHECK(parse_sink_url("otlp+http://collector?encoding=json").api_options.size() == 1);
    CHECK_THROWS_WITH(parse_sink_url("otlp+http://collector?encoding=proto"), Contains("expected json or protobuf"));
    CHECK_THROWS_WITH(parse_sink_url("otlp+http://collector?labels=x"), Contains("otlp sink: unknown option 'labels'; known: encoding"));
}
