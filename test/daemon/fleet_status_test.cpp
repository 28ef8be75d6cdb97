// supervent-ctl fleet status: URLs, rows from status JSON, the table and totals.
#include <catch2/catch.hpp>

#include <string>

#include "daemon/fleet_status.hpp"

using namespace supervent::daemon;

TEST_CASE("fleet status URLs: forms accepted and the default path", "[fleet]") {
    std::string error;
    auto url = parse_status_url("http://10.0.0.7:9464", error);
    REQUIRE(url);
    CHECK(url->host == "10.0.0.7");
    CHECK(url->port == "9464");
    CHECK(url->path == "/api/status");
    url = parse_status_url("pod-0.supervent-live:9464/", error);
    REQUIRE(url);
    CHECK(url->host == "pod-0.supervent-live");
    CHECK(url->path == "/api/status");
    url = parse_status_url("http://[::1]:9464/proxy/api/status", error);
    REQUIRE(url);
    CHECK(url->host == "::1");
    CHECK(url->port == "9464");
    CHECK(url->path == "/proxy/api/status");
    url = parse_status_url("http://example.org", error);
    REQUIRE(url);
    CHECK(url->port == "80");
    CHECK_FALSE(parse_status_url("https://10.0.0.7:9464", error));
    CHECK(error.find("https") != std::string::npos);
    CHECK_FALSE(parse_status_url("http://:9464", error));
    CHECK_FALSE(parse_status_url("http://host:94x4", error));
    CHECK_FALSE(parse_status_url("http://[::1:9464", error));
}

TEST_CASE("fleet status rows: part and seed when the daemon reports them", "[fleet]") {
    FleetRow part;
    part.url = "http://a:1";
    part.reachable = read_fleet_row(R"({"ok":true,"state":"running","rate_actual":2500.4,"events_generated":1200,
        "events_acked":1000,"events_failed":50,"events_in_flight":150,"seed":42,"shard":{"index":2,"count":4},
        "progress":{"roots_done":300,"roots_total":1000,"fraction":0.3,"eta_s":70.0}})", part);
    REQUIRE(part.reachable);
    CHECK(part.shard_index == 2u);
    CHECK(part.shard_count == 4u);
    CHECK(part.seed == 42u);
    CHECK(part.roots_total == 1000u);
    CHECK(part.eta_s == 70.0);
    FleetRow live;
    live.url = "http://b:1";
    live.reachable = read_fleet_row(R"({"ok":true,"state":"running","rate_actual":1000,"events_acked":500,
        "events_failed":0,"events_in_flight":20,"progress":null})", live);
    REQUIRE(live.reachable);
    CHECK_FALSE(live.seed);
    CHECK_FALSE(live.shard_index);
    CHECK_FALSE(live.roots_total);
    FleetRow gone;
    gone.url = "http://c:1";
    gone.error = "connect: Connection refused";
    FleetRow quoted;
    REQUIRE(read_fleet_row(R"({"state":"running","seed":"18446744073709551615"})", quoted));
    CHECK(quoted.seed == 18446744073709551615u);
    FleetRow garbage;
    CHECK_FALSE(read_fleet_row("<html>", garbage));

    const std::string table = render_fleet_table({part, live, gone});
    CHECK(table.find("2/4") != std::string::npos);
    CHECK(table.find("http://c:1  unreachable: connect: Connection refused") != std::string::npos);
    CHECK(table.find("total (2 of 3 reachable)") != std::string::npos);
    CHECK(table.find("1,500") != std::string::npos);  // acked 1,000 + 500
    CHECK(table.find("1m10s") != std::string::npos);  // the backfill part's ETA

    const std::string json = render_fleet_json({part, live, gone});
    CHECK(json.find(R"("shard":{"index":2,"count":4})") != std::string::npos);
    CHECK(json.find(R"("seed":null)") != std::string::npos);
    CHECK(json.find(R"("reachable":false,"error":"connect: Connection refused")") != std::string::npos);
    CHECK(json.find(R"("events_acked":1500)") != std::string::npos);
    CHECK(json.find(R"("roots_done":300,"roots_total":1000,"fraction":0.300,"eta_s":70.000)") != std::string::npos);
}

TEST_CASE("supervent-ctl --instance NAME is superventd@NAME's socket", "[fleet]") {
    std::string error;
    CHECK(instance_socket_path("node0", error) == "/run/supervent/node0.sock");
    CHECK(error.empty());
    CHECK(instance_socket_path("nic-eth1.part_2", error) == "/run/supervent/nic-eth1.part_2.sock");
    for (const char* bad : {"", "../etc/x", "a/b", ".hidden", "sp ace"}) {
        error.clear();
        CHECK(instance_socket_path(bad, error).empty());
        CHECK(error.find("--instance") != std::string::npos);
    }
    CHECK(instance_socket_path(std::string(65, 'a'), error).empty());
}
