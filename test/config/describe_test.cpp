#include <catch2/catch.hpp>

#include "config/load.hpp"

using supervent::config::describe;
using supervent::config::parse_sink_url;
using supervent::config::Settings;
using Catch::Matchers::Contains;

TEST_CASE("describe() names every setting in words", "[describe]") {
    Settings settings;
    settings.workers = 4;
    settings.batch_events = 500;
    settings.connections = 3;
    settings.sink = parse_sink_url("http://[::1]:9000/axiom");
    settings.dataset = "load";
    settings.rate_eps = 1000000;
    settings.events = 5000;
    settings.duration_s = 90;
    settings.seed = 42;
    settings.socket_path = "/run/supervent/control.sock";
    settings.progress = true;
    const auto text = describe(settings);
    CHECK_THAT(text, Contains("workers:       4, pinned to CPUs\n"));
    CHECK_THAT(text, Contains("batch:         500 events per request\n"));
    CHECK_THAT(text, Contains("connections:   3 per worker\n"));
    CHECK_THAT(text, Contains("sink:          http://[::1]:9000/axiom\n"));
    CHECK_THAT(text, Contains("dataset:       load\n"));
    CHECK_THAT(text, Contains("rate:          1000000 events/s\n"));
    CHECK_THAT(text, Contains("limits:        stop after 5000 events or 90 s, whichever comes first\n"));
    CHECK_THAT(text, Contains("seed:          42\n"));
    CHECK_THAT(text, Contains("scenario:      web_access\n"));
    CHECK_THAT(text, Contains("token:         not set\n"));
    CHECK_THAT(text, Contains("socket:        /run/supervent/control.sock\n"));
    CHECK_THAT(text, Contains("progress:      every 1000 ms\n"));
}

TEST_CASE("describe() of the defaults", "[describe]") {
    const auto text = describe(Settings{});
    CHECK_THAT(text, Contains("config:        none (defaults and command line)"));
    CHECK_THAT(text, Contains("workers:       one per online CPU, pinned to CPUs"));
    CHECK_THAT(text, Contains("sink:          http://127.0.0.1:8080\n"));
    CHECK_THAT(text, Contains("rate:          unlimited"));
    CHECK_THAT(text, Contains("limits:        none: runs until stopped"));
    CHECK_THAT(text, Contains("zero copy:     auto"));
}

TEST_CASE("describe() of one limit alone", "[describe]") {
    Settings settings;
    settings.events = 10;
    CHECK_THAT(describe(settings), Contains("limits:        stop after 10 events\n"));
    settings.events = 0;
    settings.duration_s = 0.5;
    CHECK_THAT(describe(settings), Contains("limits:        stop after 0.5 s\n"));
}

TEST_CASE("describe() of the other sink kinds", "[describe]") {
    Settings settings;
    settings.sink = parse_sink_url("file:/tmp/x.ndjson");
    CHECK_THAT(describe(settings), Contains("sink:          file '/tmp/x.ndjson' (NDJSON)"));
    settings.sink = parse_sink_url("https://api.axiom.co");
    CHECK_THAT(describe(settings), Contains("sink:          https://api.axiom.co:443"));
    CHECK_THAT(describe(settings), Contains("tls:           verified against the system CA store"));
    settings.ca_file = "/etc/ca.pem";
    CHECK_THAT(describe(settings), Contains("tls:           verified against /etc/ca.pem"));
    settings.sink = parse_sink_url("stdout:");
    CHECK_THAT(describe(settings), Contains("standard output"));
    settings.sink = parse_sink_url("discard:");
    CHECK_THAT(describe(settings), Contains("discard"));
}
