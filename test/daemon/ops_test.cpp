// Control-plane pieces in isolation: logging with syslog priorities, the
// peer credential rule, the watchdog rule, the latency histogram, the
// control server's session limits and idle timeout, the metrics server.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "http_client.hpp"
#include "unix_client.hpp"
#include "daemon/control_server.hpp"
#include "daemon/json_writer.hpp"
#include "daemon/log.hpp"
#include "daemon/metrics_server.hpp"
#include "daemon/sd_notify.hpp"
#include "daemon/shard_state.hpp"

namespace asio = boost::asio;
using namespace supervent::daemon;
using Catch::Matchers::Contains;

namespace {

std::string read_all(std::FILE* file) {
    std::rewind(file);
    std::string text;
    char buffer[4096];
    for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, file)) > 0;) text.append(buffer, got);
    return text;
}

using supervent::test::connect_unix;
using supervent::test::read_line;

std::string temp_socket_path() {
    char pattern[] = "/tmp/supervent-ops-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    return std::string(pattern) + "/ctl.sock";
}

using supervent::test::IoThread;

}  // namespace

TEST_CASE("log lines carry syslog priorities, obey the level and never show the secret", "[ops][log]") {
    std::FILE* out = std::tmpfile();
    REQUIRE(out != nullptr);
    log::set_output(out, true);
    log::set_level(log::Level::info);
    log::set_secret("tok_SECRET_1234");
    log::error("bad %d", 1);
    log::warning("careful");
    log::info("two\nlines with tok_SECRET_1234 inside");
    log::debug("not shown at info");
    log::set_level(log::Level::warning);
    log::notice("not shown at warning");
    const std::string text = read_all(out);
    CHECK(text ==
          "<3>superventd: bad 1\n<4>superventd: careful\n<6>superventd: two\n<6>lines with <redacted> inside\n");
    log::set_secret("");
    log::set_level(log::Level::info);
    log::set_output(stderr, true);
    std::fclose(out);
    CHECK(log::parse_level("debug") == log::Level::debug);
    CHECK_FALSE(log::parse_level("loud").has_value());
}

TEST_CASE("peer credentials: root, our uid, the socket group and the allowed lists", "[ops][socket]") {
    ControlServerOptions options;
    options.allowed_uids = {1000};
    options.allowed_gids = {50};
    CHECK(peer_allowed(0, 0, options, 999, -1));
    CHECK(peer_allowed(999, 999, options, 999, -1));
    CHECK(peer_allowed(1000, 1000, options, 999, -1));
    CHECK(peer_allowed(1234, 50, options, 999, -1));
    CHECK(peer_allowed(1234, 77, options, 999, 77));
    CHECK_FALSE(peer_allowed(1234, 1234, options, 999, 77));
    CHECK_FALSE(peer_allowed(65534, 65534, ControlServerOptions{}, 999, -1));
}

TEST_CASE("the watchdog pings only while every running shard turns its loop", "[ops][watchdog]") {
    const std::uint64_t before[3] = {5, 7, 9};
    const std::uint64_t moved[3] = {6, 8, 10};
    const std::uint64_t stuck[3] = {6, 7, 10};
    const bool none_done[3] = {false, false, false};
    const bool second_done[3] = {false, true, false};
    CHECK(shards_alive(moved, before, none_done, 3));
    CHECK_FALSE(shards_alive(stuck, before, none_done, 3));
    CHECK(shards_alive(stuck, before, second_done, 3));  // a finished shard has no loop to turn
}

TEST_CASE("latency histogram buckets are log-linear with inclusive upper bounds", "[ops][histogram]") {
    LatencyHistogram histogram;
    histogram.record(1);              // below 10 us
    histogram.record(10'000);         // exactly 10 us
    histogram.record(10'001);         // just above: the 20 us bucket
    histogram.record(2'500'000);      // 2.5 ms: the 3 ms bucket
    histogram.record(500'000'000'000);  // 500 s: +Inf
    CHECK(histogram.counts[0].value.load() == 2);
    CHECK(histogram.counts[1].value.load() == 1);
    const int three_ms = LatencyHistogram::bucket_of(3'000'000);
    CHECK(LatencyHistogram::bound_ns(three_ms) == 3'000'000);
    CHECK(histogram.counts[three_ms].value.load() == 1);
    CHECK(histogram.counts[LatencyHistogram::finite_buckets].value.load() == 1);
    for (int k = 1; k < LatencyHistogram::finite_buckets; ++k) {
        CAPTURE(k);
        CHECK(LatencyHistogram::bound_ns(k) > LatencyHistogram::bound_ns(k - 1));
        CHECK(LatencyHistogram::bucket_of(LatencyHistogram::bound_ns(k)) == k);
        CHECK(LatencyHistogram::bucket_of(LatencyHistogram::bound_ns(k - 1) + 1) == k);
    }
}

TEST_CASE("the control server bounds sessions and drops idle clients", "[ops][socket]") {
    IoThread io;
    const std::string path = temp_socket_path();
    ControlServerOptions options;
    options.sessions_max = 2;
    options.idle_timeout = std::chrono::milliseconds(300);
    ControlServer server(io.io, path, [](std::string_view, Responder respond) {
        respond(JsonWriter().begin_object().field("ok", true).end_object().take());
    }, options);
    io.start();

    const int first = connect_unix(path);
    const int second = connect_unix(path);
    const int third = connect_unix(path);
    CHECK_THAT(read_line(third), Contains("too many control connections (at most 2)"));
    ::close(third);
    // The idle ones are dropped after the timeout: the read sees end of file.
    const auto started = std::chrono::steady_clock::now();
    CHECK(read_line(first).empty());
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
    ::close(first);
    ::close(second);
    // Then a client is served again, and an oversized line is refused.
    const int fourth = connect_unix(path);
    REQUIRE(::send(fourth, "{\"cmd\":\"status\"}\n", 17, 0) == 17);
    CHECK(read_line(fourth) == R"({"ok":true})");
    const std::string huge(70'000, 'x');
    ::send(fourth, huge.data(), huge.size(), MSG_NOSIGNAL);
    CHECK_THAT(read_line(fourth), Contains("request too long"));
    ::close(fourth);
}

TEST_CASE("the metrics server answers /metrics, 404 elsewhere, and names the setting when the port is taken",
          "[ops][metrics]") {
    IoThread io;
    MetricsServer server(io.io, "127.0.0.1:0", [] { return std::string("supervent_up 1\n"); });
    io.start();
    auto get = [&](const char* request) { return supervent::test::http_exchange(server.port(), request); };
    const std::string ok = get("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_THAT(ok, Contains("HTTP/1.1 200 OK"));
    CHECK_THAT(ok, Contains("text/plain; version=0.0.4"));
    CHECK_THAT(ok, Contains("\r\n\r\nsupervent_up 1\n"));
    CHECK_THAT(get("GET /other HTTP/1.1\r\n\r\n"), Contains("404 Not Found"));
    CHECK_THAT(get("POST /metrics HTTP/1.1\r\n\r\n"), Contains("405"));

    asio::io_context other;
    try {
        MetricsServer clash(other, "127.0.0.1:" + std::to_string(server.port()), [] { return std::string(); });
        FAIL("a second server bound the same port");
    } catch (const std::runtime_error& error) {
        CHECK_THAT(error.what(), Contains("monitoring.metrics_listen (--metrics-listen)"));
        CHECK_THAT(error.what(), Contains("in use"));
    }
}
