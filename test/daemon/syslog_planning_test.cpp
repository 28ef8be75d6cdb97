// Planning a syslog sink (issue 20): the URL's options reach every shard's
// transport config, slots cover the batches in flight per connection, and
// the settings syslog cannot carry are refused before anything runs.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "config/load.hpp"
#include "daemon/planning.hpp"

using supervent::config::parse_sink_url;
using supervent::daemon::plan_shards;
using supervent::daemon::PlanInputs;
using Catch::Matchers::Contains;

namespace {

PlanInputs syslog_inputs() {
    PlanInputs inputs;
    inputs.online_cpus = 4;
    auto& address = reinterpret_cast<sockaddr_in&>(inputs.sink_address);
    address.sin_family = AF_INET;
    address.sin_port = htons(6514);
    REQUIRE(::inet_pton(AF_INET, "192.0.2.9", &address.sin_addr) == 1);
    inputs.sink_address_bytes = sizeof(sockaddr_in);
    return inputs;
}

}  // namespace

TEST_CASE("a syslog+tls sink plans TLS and the URL's options for every shard", "[plan][syslog]") {
    supervent::config::Settings settings;
    settings.workers = 2;
    settings.connections = 3;
    settings.ca_file = "/etc/ca.pem";
    settings.sink = parse_sink_url("syslog+tls://logs.test?format=rfc3164&framing=octet-counting&facility=local0&sd_id=x@1");
    const auto run = plan_shards(settings, syslog_inputs());
    REQUIRE(run.shards.size() == 2);
    for (const auto& plan : run.shards) {
        const auto& syslog = plan.sink.syslog;
        CHECK(plan.sink.kind == supervent::config::SinkUrl::Kind::syslog_tls);
        CHECK_FALSE(syslog.datagram);
        CHECK(syslog.connections == 3);
        CHECK(plan.slots == 3 * supervent::net::SyslogStreamTransport::depth_max);
        CHECK(syslog.tls.enabled);
        CHECK(syslog.tls.server_name == "logs.test");
        CHECK(syslog.tls.ca_file == "/etc/ca.pem");
        CHECK(syslog.format.format == supervent::net::SyslogFormat::rfc3164);
        CHECK(syslog.format.framing == supervent::net::SyslogFraming::octet_counting);
        CHECK(syslog.format.facility == 16);
        CHECK(syslog.format.sd_id == "x@1");
        CHECK(syslog.address_bytes == sizeof(sockaddr_in));
    }
}

TEST_CASE("a syslog+udp sink sends datagrams one batch at a time", "[plan][syslog]") {
    supervent::config::Settings settings;
    settings.workers = 1;
    settings.sink = parse_sink_url("syslog+udp://logs.test");
    const auto run = plan_shards(settings, syslog_inputs());
    CHECK(run.shards.front().sink.syslog.datagram);
    CHECK(run.shards.front().sink.syslog.format.framing == supervent::net::SyslogFraming::datagram);
    CHECK_FALSE(run.shards.front().sink.syslog.tls.enabled);
}

TEST_CASE("syslog sinks refuse other body formats and compression", "[plan][syslog]") {
    supervent::config::Settings settings;
    settings.workers = 1;
    settings.sink = parse_sink_url("syslog+tcp://logs.test");
    settings.compression.zstd = true;
    CHECK_THROWS_WITH(plan_shards(settings, syslog_inputs()), Contains("compression none"));
    settings.compression.zstd = false;
    settings.format = supervent::config::SinkFormat::csv;
    CHECK_THROWS_WITH(plan_shards(settings, syslog_inputs()), Contains("sink.format must be ndjson"));
}
