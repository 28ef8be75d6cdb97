// HttpTransport against a scripted loopback server, driven by the ring the
// way a shard drives it. Each test checks the verdict the listener sees, that
// the kernel had let go of the buffer when the slot settled, and what the
// server received.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "net/http_transport.hpp"
#include "scripted_server.hpp"

using namespace supervent::net;
using namespace supervent::net::test;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t ms_ns = 1'000'000;
constexpr std::int64_t s_ns = 1'000'000'000;

HttpTransportConfig config_for(std::uint16_t port, bool zero_copy, std::uint32_t connections = 1) {
    HttpTransportConfig config;
    const sockaddr_in address = loopback_address(port);
    std::memcpy(&config.address, &address, sizeof address);
    config.address_bytes = sizeof address;
    config.target.host_header = "127.0.0.1:" + std::to_string(port);
    config.target.path = ingest_path("", "ds");
    config.target.token = "test-token";
    config.connections = connections;
    config.zero_copy = zero_copy;
    config.connect_timeout_ns = 2 * s_ns;
    config.request_timeout_ns = 3 * s_ns;  // below the harness's 5 s limit
    config.reconnect_backoff_min_ns = 10 * ms_ns;
    config.reconnect_backoff_max_ns = 100 * ms_ns;
    return config;
}

// NDJSON with `events` lines.
std::string ndjson(std::uint32_t events, char tag = 'a') {
    std::string body;
    for (std::uint32_t i = 0; i < events; ++i) {
        body += R"({"_time":"2024-01-01T00:00:00Z","n":)" + std::to_string(i) + R"(,"tag":")" + tag + "\"}\n";
    }
    return body;
}

// SEND_ZC when the kernel has it, and always the WRITE_FIXED fallback.
bool zero_copy_mode(const Harness& harness) {
    const bool zero_copy = GENERATE(true, false);
    if (zero_copy && !harness.ring.features().send_zc) {
        WARN("no SEND_ZC on this kernel: this case runs with WRITE_FIXED only");
        return false;
    }
    return zero_copy;
}

void check_settled(const Settled& settled, Verdict verdict, FailReason reason, std::uint32_t acked_events) {
    CHECK(settled.verdict == verdict);
    INFO("reason " << fail_reason_name(settled.reason));
    CHECK(settled.reason == reason);
    CHECK(settled.acked_events == acked_events);
    CHECK(settled.kernel_done);
    CHECK(settled.state == SlotState::settling);
}

// One request: queue a batch, run until it settles.
const Settled& send_one(Harness& harness, HttpTransport& transport, std::uint32_t slot_index, const std::string& body,
                        std::uint32_t events) {
    const std::size_t before = harness.settled.size();
    harness.queue_batch(slot_index, body, events);
    REQUIRE(harness.run_until_settled(transport, before + 1));
    REQUIRE(harness.settled.size() == before + 1);
    CHECK(harness.settled.back().slot_index == slot_index);
    CHECK(harness.settled.back().events == events);
    return harness.settled.back();
}

}  // namespace

TEST_CASE("HttpTransport: 200 with an Axiom reply acks what it ingested, over one keep-alive connection",
          "[http_transport]") {
    Harness harness;
    const bool zero_copy = zero_copy_mode(harness);
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), zero_copy));

    server.script(reply(200, axiom_reply(3, 0)));
    server.script(reply(200, axiom_reply(3, 2)));
    server.script(reply(200, axiom_reply(4, 0), "Content-Type: application/json\r\n"));

    const std::string body_a = ndjson(3, 'a');
    const std::string body_b = ndjson(5, 'b');
    const std::string body_c = ndjson(4, 'c');
    check_settled(send_one(harness, transport, 0, body_a, 3), Verdict::acked, FailReason::none, 3);
    check_settled(send_one(harness, transport, 1, body_b, 5), Verdict::acked, FailReason::partial, 3);
    check_settled(send_one(harness, transport, 0, body_c, 4), Verdict::acked, FailReason::none, 4);

    const std::vector<Request> requests = server.requests();
    REQUIRE(requests.size() == 3);
    // Head and body went out as one buffer: the slot's wire bytes, ending at the body's end.
    const Slot& last = harness.slots[0];
    CHECK(last.wire_offset + last.wire_bytes == last.body_offset + last.body_bytes);
    CHECK(std::string(last.wire_data(), last.wire_bytes) == requests[2].head + requests[2].body);
    CHECK(requests[0].body == body_a);
    CHECK(requests[1].body == body_b);
    CHECK(requests[2].body == body_c);
    for (std::size_t i = 0; i < requests.size(); ++i) {
        INFO(requests[i].head);
        CHECK(requests[i].head.starts_with("POST /v1/datasets/ds/ingest HTTP/1.1\r\n"));
        CHECK(requests[i].head.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n") !=
              std::string::npos);
        CHECK(requests[i].head.find("\r\nAuthorization: Bearer test-token\r\n") != std::string::npos);
        CHECK(requests[i].head.find("\r\nContent-Length: " + std::to_string(requests[i].body.size()) + "\r\n") !=
              std::string::npos);
        CHECK(requests[i].connection == 0);
    }
    CHECK(server.connections() == 1);
    CHECK(transport.counters().connects == 1);
    CHECK(transport.counters().connect_failures == 0);
    CHECK(transport.counters().disconnects == 0);
    if (zero_copy) {
        CHECK(transport.counters().zc_notifications >= 3);
    } else {
        CHECK(transport.counters().zc_notifications == 0);
    }
    // Every notification the kernel promised came, and the transport counted each.
    CHECK(harness.notifications == harness.notifications_promised);
    CHECK(transport.counters().zc_notifications == harness.notifications);
    CHECK(transport.fatal_error().empty());
    CHECK(harness.unreachable.empty());
}

TEST_CASE("HttpTransport: a 2xx without an Axiom reply acks the whole batch", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    server.script(reply(200, "ok"));
    server.script(reply(200));
    server.script(reply(204, "", ""));
    server.script(reply(200, R"({"status":"fine"})"));
    check_settled(send_one(harness, transport, 0, ndjson(7), 7), Verdict::acked, FailReason::none, 7);
    check_settled(send_one(harness, transport, 1, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    check_settled(send_one(harness, transport, 2, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    check_settled(send_one(harness, transport, 3, ndjson(9), 9), Verdict::acked, FailReason::none, 9);
    CHECK(server.connections() == 1);
}

TEST_CASE("HttpTransport: an Axiom reply claiming more than was sent acks only what was sent", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    server.script(reply(200, axiom_reply(50, 0)));
    check_settled(send_one(harness, transport, 0, ndjson(5), 5), Verdict::acked, FailReason::none, 5);
}

TEST_CASE("HttpTransport: 5xx is retried as a server error, the connection stays usable", "[http_transport]") {
    Harness harness;
    const bool zero_copy = zero_copy_mode(harness);
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), zero_copy));
    server.script(reply(503, "unavailable"));
    server.script(reply(500));
    server.script(reply(200, axiom_reply(2, 0)));
    check_settled(send_one(harness, transport, 0, ndjson(2), 2), Verdict::retry, FailReason::server_error, 0);
    check_settled(send_one(harness, transport, 0, ndjson(2), 2), Verdict::retry, FailReason::server_error, 0);
    check_settled(send_one(harness, transport, 0, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    CHECK(server.connections() == 1);
    CHECK(transport.fatal_error().empty());
}

TEST_CASE("HttpTransport: 429 waits until X-RateLimit-Reset", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));

    const std::int64_t reset_s = static_cast<std::int64_t>(std::time(nullptr)) + 30;
    server.script(reply(429, "slow down",
                        "X-RateLimit-Limit: 600\r\nX-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: " +
                            std::to_string(reset_s) + "\r\n"));
    const std::int64_t before_ns = monotonic_ns();
    const Settled settled = send_one(harness, transport, 0, ndjson(3), 3);
    const std::int64_t after_ns = monotonic_ns();
    check_settled(settled, Verdict::retry, FailReason::rate_limited, 0);
    INFO("retry_at - before = " << (settled.retry_at_ns - before_ns) / ms_ns << " ms");
    CHECK(settled.retry_at_ns >= before_ns + 28 * s_ns);
    CHECK(settled.retry_at_ns <= after_ns + 31 * s_ns);
    CHECK(transport.fatal_error().empty());
}

TEST_CASE("HttpTransport: 429 with Retry-After waits that many seconds", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    server.script(reply(429, "", "Retry-After: 7\r\n"));
    const std::int64_t before_ns = monotonic_ns();
    const Settled settled = send_one(harness, transport, 0, ndjson(3), 3);
    const std::int64_t after_ns = monotonic_ns();
    check_settled(settled, Verdict::retry, FailReason::rate_limited, 0);
    CHECK(settled.retry_at_ns >= before_ns + 7 * s_ns);
    CHECK(settled.retry_at_ns <= after_ns + 7 * s_ns);
}

TEST_CASE("HttpTransport: 401/403/404 fail the batch and stop the sink with a clear message", "[http_transport]") {
    const int status = GENERATE(401, 403, 404);
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    server.script(reply(status, R"({"message":"no"})"));
    check_settled(send_one(harness, transport, 0, ndjson(4), 4), Verdict::failed, FailReason::rejected, 0);
    INFO(transport.fatal_error());
    CHECK_FALSE(transport.fatal_error().empty());
    CHECK(transport.fatal_error().find(std::to_string(status)) != std::string::npos);
    // Nothing more goes to a sink that refused us for good.
    harness.queue_batch(1, ndjson(1), 1);
    CHECK_FALSE(transport.try_start(harness.slots[1], monotonic_ns()));
    CHECK(server.requests().size() == 1);
}

TEST_CASE("HttpTransport: 401 message points at the token", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    server.script(reply(401));
    check_settled(send_one(harness, transport, 0, ndjson(1), 1), Verdict::failed, FailReason::rejected, 0);
    CHECK(transport.fatal_error().find("token") != std::string::npos);
    CHECK(transport.fatal_error().find("test-token") == std::string::npos);  // never the secret itself
}

TEST_CASE("HttpTransport: other 4xx fail the batch without stopping the sink", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    server.script(reply(413, "too large"));
    server.script(reply(200, axiom_reply(1, 0)));
    check_settled(send_one(harness, transport, 0, ndjson(1), 1), Verdict::failed, FailReason::rejected, 0);
    CHECK(transport.fatal_error().empty());
    check_settled(send_one(harness, transport, 0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
}

TEST_CASE("HttpTransport: 430 stops the sink: monthly quota used up", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    server.script(reply(430, "", "X-IngestLimit-Limit: 1000\r\nX-IngestLimit-Remaining: 0\r\n"));
    check_settled(send_one(harness, transport, 0, ndjson(6), 6), Verdict::failed, FailReason::quota, 0);
    INFO(transport.fatal_error());
    CHECK(transport.fatal_error().find("quota") != std::string::npos);
    harness.queue_batch(1, ndjson(1), 1);
    CHECK_FALSE(transport.try_start(harness.slots[1], monotonic_ns()));
}

TEST_CASE("HttpTransport: a response split across several delayed writes", "[http_transport]") {
    Harness harness;
    const bool zero_copy = zero_copy_mode(harness);
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), zero_copy));
    const std::string full = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                             std::to_string(axiom_reply(4, 2).size()) + "\r\n\r\n" + axiom_reply(4, 2);
    Reply split;
    split.pieces = {full.substr(0, 3), full.substr(3, 14), full.substr(17, 30), full.substr(47, 25),
                    full.substr(72, 20), full.substr(92)};
    split.gap = 25ms;
    server.script(split);
    check_settled(send_one(harness, transport, 0, ndjson(6), 6), Verdict::acked, FailReason::partial, 4);
    CHECK(server.connections() == 1);
}

TEST_CASE("HttpTransport: a chunked response, in delayed pieces", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    const std::string json = axiom_reply(2, 1);
    // Three data chunks (hex sizes, an extension), then the last chunk with a trailer.
    Reply chunked;
    chunked.pieces.push_back("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::size_t third = json.size() / 3;
    const std::string parts[] = {json.substr(0, third), json.substr(third, third), json.substr(2 * third)};
    for (const std::string& part : parts) {
        char size_line[32];
        std::snprintf(size_line, sizeof size_line, "%zx;x=y\r\n", part.size());
        chunked.pieces.push_back(size_line + part + "\r\n");
    }
    chunked.pieces.push_back("0\r\nX-Trailer: t\r\n\r\n");
    chunked.gap = 20ms;
    server.script(chunked);
    server.script(reply(200, axiom_reply(3, 0)));
    check_settled(send_one(harness, transport, 0, ndjson(3), 3), Verdict::acked, FailReason::partial, 2);
    // The connection is reusable after a chunked response.
    check_settled(send_one(harness, transport, 1, ndjson(3), 3), Verdict::acked, FailReason::none, 3);
    CHECK(server.connections() == 1);
}

TEST_CASE("HttpTransport: 100 Continue before the real response", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    Reply interim;
    interim.pieces = {"HTTP/1.1 100 Continue\r\n\r\n",
                      "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(axiom_reply(5, 0).size()) + "\r\n\r\n" +
                          axiom_reply(5, 0)};
    interim.gap = 20ms;
    server.script(interim);
    check_settled(send_one(harness, transport, 0, ndjson(5), 5), Verdict::acked, FailReason::none, 5);
}

TEST_CASE("HttpTransport: the server closing mid-response is retried, the next request reconnects",
          "[http_transport]") {
    Harness harness;
    const bool zero_copy = zero_copy_mode(harness);
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), zero_copy));
    Reply cut;
    cut.pieces = {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"inge"};
    cut.close_after = true;
    server.script(cut);
    server.script(reply(200, axiom_reply(2, 0)));

    const Settled first = send_one(harness, transport, 0, ndjson(2), 2);
    CHECK(first.verdict == Verdict::retry);
    INFO("reason " << fail_reason_name(first.reason));
    CHECK((first.reason == FailReason::bad_response || first.reason == FailReason::transport));
    CHECK(first.acked_events == 0);
    CHECK(first.kernel_done);

    check_settled(send_one(harness, transport, 0, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    CHECK(server.connections() == 2);
    CHECK(transport.counters().connects == 2);
}

TEST_CASE("HttpTransport: the server closing before any response is a transport error", "[http_transport]") {
    Harness harness;
    const bool zero_copy = zero_copy_mode(harness);
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), zero_copy));
    SECTION("after reading the request") {
        Reply silent;
        silent.close_after = true;
        server.script(silent);
    }
    SECTION("before reading the body (a reset)") {
        Reply reset;
        reset.read_body = false;
        server.script(reset);
    }
    server.script(reply(200, axiom_reply(3, 0)));
    check_settled(send_one(harness, transport, 0, ndjson(3), 3), Verdict::retry, FailReason::transport, 0);
    check_settled(send_one(harness, transport, 0, ndjson(3), 3), Verdict::acked, FailReason::none, 3);
    CHECK(server.connections() == 2);
}

TEST_CASE("HttpTransport: a large body arrives intact", "[http_transport]") {
    constexpr std::size_t body_bytes_max = 2 << 20;
    Harness harness(2, body_bytes_max);
    const bool zero_copy = zero_copy_mode(harness);
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), zero_copy));
    std::string body = ndjson(20'000, 'z');
    REQUIRE(body.size() > (1u << 20));
    REQUIRE(body.size() < body_bytes_max);
    server.script(reply(200, axiom_reply(20'000, 0)));
    check_settled(send_one(harness, transport, 1, body, 20'000), Verdict::acked, FailReason::none, 20'000);
    const std::vector<Request> requests = server.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].body.size() == body.size());
    CHECK(requests[0].body == body);
}

TEST_CASE("HttpTransport: large requests back to back keep one connection", "[http_transport]") {
    // A response is only handled once the whole request was sent; if the
    // send completion were seen after the response, the connection would be
    // dropped for nothing.
    Harness harness(2, 1 << 20);
    const bool zero_copy = zero_copy_mode(harness);
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), zero_copy));
    constexpr int request_count = 8;
    for (int i = 0; i < request_count; ++i) server.script(reply(200, axiom_reply(15'000, 0)));
    const std::string body = ndjson(15'000, 'L');
    REQUIRE(body.size() > (512u << 10));
    for (int i = 0; i < request_count; ++i) {
        check_settled(send_one(harness, transport, static_cast<std::uint32_t>(i % 2), body, 15'000), Verdict::acked,
                      FailReason::none, 15'000);
    }
    CHECK(server.requests().size() == request_count);
    CHECK(server.connections() == 1);
    CHECK(harness.notifications == harness.notifications_promised);
    CHECK(transport.counters().zc_notifications == harness.notifications);
}

TEST_CASE("HttpTransport: an HTTP/1.0 or Connection: close response gets a fresh connection next",
          "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    const std::string json = axiom_reply(1, 0);
    server.script(Reply{{"HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(json.size()) + "\r\n\r\n" + json}});
    server.script(reply(200, json, "Connection: close\r\n"));
    server.script(reply(200, json));
    check_settled(send_one(harness, transport, 0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    check_settled(send_one(harness, transport, 0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    check_settled(send_one(harness, transport, 0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    const std::vector<Request> requests = server.requests();
    REQUIRE(requests.size() == 3);
    CHECK(requests[0].connection == 0);
    CHECK(requests[1].connection == 1);
    CHECK(requests[2].connection == 2);
    CHECK(server.wait_for([&] { return server.client_closes() == 2; }));
}

TEST_CASE("HttpTransport: the server closing an idle keep-alive connection", "[http_transport]") {
    Harness harness;
    const bool zero_copy = zero_copy_mode(harness);
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), zero_copy));
    Reply then_close = reply(200, axiom_reply(2, 0));  // keep-alive as far as the client knows
    then_close.close_after = true;
    server.script(then_close);
    server.script(reply(200, axiom_reply(2, 0)));

    check_settled(send_one(harness, transport, 0, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    REQUIRE(server.wait_for([&] { return server.server_closes() == 1; }));
    // The transport notices the close through the recv it keeps posted.
    REQUIRE(harness.run(transport, [&] { return transport.quiescent(); }));
    CHECK(transport.counters().disconnects == 0);  // an orderly close, not a failure

    check_settled(send_one(harness, transport, 1, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    CHECK(server.connections() == 2);
    CHECK(transport.counters().connects == 2);
}

TEST_CASE("HttpTransport: connect refused reports the sink unreachable and retries with backoff",
          "[http_transport]") {
    Harness harness;
    HttpTransport transport(harness.ring, harness, config_for(closed_loopback_port(), harness.ring.features().send_zc));
    harness.queue_batch(0, ndjson(1), 1);
    REQUIRE(harness.run(transport, [&] { return harness.unreachable.size() >= 3; }));
    for (const Unreachable& unreachable : harness.unreachable) CHECK(unreachable.reason == FailReason::connect);
    // Backoff: attempts are spaced, not back to back.
    CHECK(harness.unreachable[2].now_ns - harness.unreachable[0].now_ns >= 10 * ms_ns);
    CHECK(transport.counters().connect_failures >= 3);
    CHECK(transport.counters().connects == 0);
    // The batch itself was never taken.
    CHECK(harness.settled.empty());
    CHECK(harness.slots[0].state == SlotState::queued);
    CHECK(harness.queue.size() == 1);
    CHECK(transport.fatal_error().empty());
}

TEST_CASE("HttpTransport: no response within the request timeout is retried", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransportConfig config = config_for(server.port(), harness.ring.features().send_zc);
    config.request_timeout_ns = 200 * ms_ns;
    HttpTransport transport(harness.ring, harness, config);
    server.script(Reply{});  // reads the request, never answers
    server.script(reply(200, axiom_reply(1, 0)));
    const std::int64_t started_ns = monotonic_ns();
    check_settled(send_one(harness, transport, 0, ndjson(1), 1), Verdict::retry, FailReason::timeout, 0);
    CHECK(monotonic_ns() - started_ns >= 200 * ms_ns);
    CHECK(server.wait_for([&] { return server.client_closes() == 1; }));
    check_settled(send_one(harness, transport, 0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
}

TEST_CASE("HttpTransport: several slots over several connections", "[http_transport]") {
    Harness harness(6);
    const bool zero_copy = zero_copy_mode(harness);
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), zero_copy, 2));
    for (int i = 0; i < 6; ++i) server.script(reply(200, axiom_reply(4, 0)));
    for (std::uint32_t i = 0; i < 6; ++i) harness.queue_batch(i, ndjson(4, static_cast<char>('a' + i)), 4);
    REQUIRE(harness.run_until_settled(transport, 6));
    for (const Settled& settled : harness.settled) check_settled(settled, Verdict::acked, FailReason::none, 4);
    CHECK(server.connections() == 2);
    const std::vector<Request> requests = server.requests();
    REQUIRE(requests.size() == 6);
    std::vector<std::string> bodies;
    for (const Request& request : requests) bodies.push_back(request.body);
    std::sort(bodies.begin(), bodies.end());
    for (std::uint32_t i = 0; i < 6; ++i) CHECK(bodies[i] == ndjson(4, static_cast<char>('a' + i)));
}

TEST_CASE("HttpTransport: SEND_ZC notifications report copies when asked", "[http_transport][send_zc]") {
    Harness harness;
    if (!harness.ring.features().send_zc) {
        WARN("no SEND_ZC on this kernel: nothing to check");
        return;
    }
    ScriptedServer server;
    HttpTransportConfig config = config_for(server.port(), true);
    config.zc_report_usage = true;
    HttpTransport transport(harness.ring, harness, config);
    server.script(reply(200, axiom_reply(2, 0)));
    check_settled(send_one(harness, transport, 0, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    CHECK(transport.counters().zc_notifications >= 1);
    // Loopback delivers to a local socket, so the kernel copies after all and says so.
    CHECK(transport.counters().zc_copied >= 1);
    CHECK(transport.counters().zc_copied <= transport.counters().zc_notifications);
}

TEST_CASE("HttpTransport: shutdown closes idle connections and becomes quiescent", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc, 2));
    CHECK(transport.quiescent());
    server.script(reply(200, axiom_reply(1, 0)));
    check_settled(send_one(harness, transport, 0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    CHECK_FALSE(transport.quiescent());
    transport.begin_shutdown();
    REQUIRE(harness.run(transport, [&] { return transport.quiescent(); }));
    CHECK(server.wait_for([&] { return server.client_closes() == 2; }));
    harness.queue_batch(1, ndjson(1), 1);
    CHECK_FALSE(transport.try_start(harness.slots[1], monotonic_ns()));
}

TEST_CASE("HttpTransport: with nothing to send, no deadline in the past", "[http_transport]") {
    // A shard sleeps until next_deadline_ns(); a deadline already passed while
    // there is nothing to do makes it spin.
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));

    std::int64_t now_ns = monotonic_ns();
    transport.on_tick(now_ns, false);
    CHECK(transport.next_deadline_ns() > now_ns);

    // And again after the server closed an idle connection.
    Reply then_close = reply(200, axiom_reply(1, 0));
    then_close.close_after = true;
    server.script(then_close);
    check_settled(send_one(harness, transport, 0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    REQUIRE(harness.run(transport, [&] { return transport.quiescent(); }));
    now_ns = monotonic_ns();
    transport.on_tick(now_ns, false);
    CHECK(transport.next_deadline_ns() > now_ns);
}

TEST_CASE("HttpTransport: with work waiting on an unreachable sink, the next reconnect is the deadline",
          "[http_transport]") {
    Harness harness;
    HttpTransport transport(harness.ring, harness, config_for(closed_loopback_port(), harness.ring.features().send_zc));
    harness.queue_batch(0, ndjson(1), 1);
    REQUIRE(harness.run(transport, [&] { return !harness.unreachable.empty(); }));
    const std::int64_t now_ns = monotonic_ns();
    transport.on_tick(now_ns, true);
    // Either still backing off (the reconnect time) or connecting again (the connect timeout).
    CHECK(transport.next_deadline_ns() > now_ns);
    CHECK(transport.next_deadline_ns() <= now_ns + 2 * s_ns);
}

TEST_CASE("HttpTransport: an answer before the whole body was sent, then a close", "[http_transport]") {
    constexpr std::size_t body_bytes_max = 3584 * 1024;  // two slots stay under an 8 MiB memlock limit
    Harness harness(2, body_bytes_max);
    const bool zero_copy = zero_copy_mode(harness);
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), zero_copy));
    Reply early;
    early.read_body = false;
    early.close_after = true;
    early.pieces = {"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"};
    server.script(early);
    server.script(reply(200, axiom_reply(2, 0)));
    const std::string body = ndjson(62'000);
    REQUIRE(body.size() > (3u << 20));
    check_settled(send_one(harness, transport, 0, body, 62'000), Verdict::failed, FailReason::rejected, 0);
    check_settled(send_one(harness, transport, 1, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    CHECK(server.connections() == 2);
}

TEST_CASE("HttpTransport: a peer that stops reading mid-body times out and lets go of the slot",
          "[http_transport]") {
    // The slot may be reused only once the kernel has let go of its buffer;
    // after giving up on a stalled peer that must not take longer than the
    // timeout itself (a zero-copy send pins the pages until the unsent data
    // is dropped).
    constexpr std::size_t body_bytes_max = 3584 * 1024;
    Harness harness(2, body_bytes_max);
    const bool zero_copy = zero_copy_mode(harness);
    ScriptedServer server;
    HttpTransportConfig config = config_for(server.port(), zero_copy);
    config.request_timeout_ns = 300 * ms_ns;
    HttpTransport transport(harness.ring, harness, config);
    Reply stall;
    stall.read_body = false;
    stall.hold_after = true;
    server.script(stall);
    const std::string body = ndjson(62'000);
    const std::int64_t started_ns = monotonic_ns();
    harness.queue_batch(0, body, 62'000);
    REQUIRE(harness.run_until_settled(transport, 1, 2 * s_ns));
    check_settled(harness.settled[0], Verdict::retry, FailReason::timeout, 0);
    CHECK(harness.settled[0].now_ns - started_ns >= 300 * ms_ns);
    CHECK(harness.settled[0].now_ns - started_ns < 1300 * ms_ns);
    CHECK(harness.notifications == harness.notifications_promised);
}

TEST_CASE("HttpTransport: an answer before the body was read, from a peer that keeps reading",
          "[http_transport]") {
    Harness harness(2, 1 << 20);
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    Reply early;
    early.read_body = false;
    early.pieces = {"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n"};
    server.script(early);
    server.script(reply(200, axiom_reply(2, 0)));
    check_settled(send_one(harness, transport, 0, ndjson(10'000), 10'000), Verdict::failed, FailReason::rejected, 0);
    check_settled(send_one(harness, transport, 1, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
}

TEST_CASE("HttpTransport: a response larger than the limit is a bad response", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    server.script(reply(200, std::string(supervent::bounds::http_response_bytes_max + 100, 'x')));
    server.script(reply(200, axiom_reply(1, 0)));
    check_settled(send_one(harness, transport, 0, ndjson(1), 1), Verdict::retry, FailReason::bad_response, 0);
    check_settled(send_one(harness, transport, 0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
}

TEST_CASE("HttpTransport: stray bytes on an idle connection drop it", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    Reply with_junk = reply(200, axiom_reply(1, 0));
    with_junk.pieces.push_back("HTTP/1.1 200 OK\r\n");  // a response to nothing
    with_junk.gap = 50ms;
    server.script(with_junk);
    server.script(reply(200, axiom_reply(1, 0)));
    check_settled(send_one(harness, transport, 0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    REQUIRE(harness.run(transport, [&] { return transport.counters().disconnects == 1; }));
    check_settled(send_one(harness, transport, 0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    CHECK(server.connections() == 2);
}

TEST_CASE("HttpTransport: a connect that never completes times out", "[http_transport]") {
    // A listener that never accepts, with its queue already full: SYNs go unanswered.
    std::uint16_t port = 0;
    Fd listener = listen_loopback(port);
    REQUIRE(::listen(listener.get(), 0) == 0);
    std::vector<Fd> fillers;
    for (int i = 0; i < 4; ++i) {
        Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        const sockaddr_in address = loopback_address(port);
        (void)::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
        fillers.push_back(std::move(fd));
    }
    std::this_thread::sleep_for(50ms);

    Harness harness;
    HttpTransportConfig config = config_for(port, harness.ring.features().send_zc);
    config.connect_timeout_ns = 150 * ms_ns;
    HttpTransport transport(harness.ring, harness, config);
    harness.queue_batch(0, ndjson(1), 1);
    const std::int64_t started_ns = monotonic_ns();
    REQUIRE(harness.run(transport, [&] { return !harness.unreachable.empty(); }));
    CHECK(harness.unreachable[0].reason == FailReason::timeout);
    CHECK(harness.unreachable[0].now_ns - started_ns >= 150 * ms_ns);
    CHECK(transport.counters().connect_failures >= 1);
    CHECK(harness.settled.empty());
    // The abandoned connect is reaped: the transport can shut down cleanly.
    harness.queue.clear();
    transport.begin_shutdown();
    CHECK(harness.run(transport, [&] { return transport.quiescent(); }));
}

TEST_CASE("HttpTransport: shutdown with a request in flight lets it finish", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    Reply slow = reply(200, axiom_reply(3, 0));
    slow.pieces.insert(slow.pieces.begin(), "");
    slow.gap = 200ms;
    server.script(slow);
    harness.queue_batch(0, ndjson(3), 3);
    REQUIRE(harness.run(transport, [&] { return server.requests().size() == 1; }));
    transport.begin_shutdown();
    CHECK_FALSE(transport.quiescent());
    REQUIRE(harness.run_until_settled(transport, 1));
    check_settled(harness.settled[0], Verdict::acked, FailReason::none, 3);
    REQUIRE(harness.run(transport, [&] { return transport.quiescent(); }));
}

TEST_CASE("HttpTransport: a server that closes every new connection gets reconnects with backoff",
          "[http_transport]") {
    // Work is waiting (a batch in its retry backoff, say) but nothing is sent:
    // connections that the server closes before serving anything must not be
    // reopened back to back.
    Harness harness;
    ScriptedServer server;
    server.close_on_accept(true);
    HttpTransportConfig config = config_for(server.port(), harness.ring.features().send_zc);
    config.reconnect_backoff_min_ns = 20 * ms_ns;
    config.reconnect_backoff_max_ns = 200 * ms_ns;
    HttpTransport transport(harness.ring, harness, config);
    const std::int64_t until_ns = monotonic_ns() + 500 * ms_ns;
    while (monotonic_ns() < until_ns) {
        transport.on_tick(monotonic_ns(), true);
        REQUIRE(harness.ring.submit_and_wait(1'000'000) == 0);
        const std::int64_t now_ns = monotonic_ns();
        harness.ring.drain([&](const io_uring_cqe& cqe) {
            transport.on_completion(cqe, CompletionTag::decode(cqe.user_data), now_ns);
        });
    }
    INFO("connections accepted in 500 ms: " << server.connections());
    CHECK(server.connections() >= 2);
    // 20 ms doubling to 200 ms (half of it jitter) allows about a dozen in 500 ms.
    CHECK(server.connections() <= 30);
}

TEST_CASE("HttpTransport: a body delimited by the server closing", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransport transport(harness.ring, harness, config_for(server.port(), harness.ring.features().send_zc));
    Reply until_close;
    until_close.pieces = {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n", axiom_reply(3, 1)};
    until_close.gap = 20ms;
    until_close.close_after = true;
    server.script(until_close);
    server.script(reply(200, axiom_reply(4, 0)));
    check_settled(send_one(harness, transport, 0, ndjson(4), 4), Verdict::acked, FailReason::partial, 3);
    check_settled(send_one(harness, transport, 0, ndjson(4), 4), Verdict::acked, FailReason::none, 4);
    CHECK(server.connections() == 2);
    CHECK(transport.counters().disconnects == 0);
}

TEST_CASE("HttpTransport: pipelined requests on one connection are answered in order", "[http_transport]") {
    // Four batches, one connection, two requests in flight on it: each answer
    // must settle the batch it belongs to (the reply's count says which).
    Harness harness;
    const bool zero_copy = zero_copy_mode(harness);
    ScriptedServer server;
    HttpTransportConfig config = config_for(server.port(), zero_copy);
    config.pipeline_depth = 2;
    HttpTransport transport(harness.ring, harness, config);
    constexpr std::uint32_t batch_count = 4;
    for (std::uint32_t i = 0; i < batch_count; ++i) server.script(reply(200, axiom_reply(i + 1, 0)));
    for (std::uint32_t i = 0; i < batch_count; ++i) harness.queue_batch(i, ndjson(i + 1, char('a' + i)), i + 1);
    REQUIRE(harness.run_until_settled(transport, batch_count));
    REQUIRE(harness.settled.size() == batch_count);
    for (std::uint32_t i = 0; i < batch_count; ++i) {
        CHECK(harness.settled[i].slot_index == i);
        check_settled(harness.settled[i], Verdict::acked, FailReason::none, i + 1);
    }
    const std::vector<Request> requests = server.requests();
    REQUIRE(requests.size() == batch_count);
    for (std::uint32_t i = 0; i < batch_count; ++i) CHECK(requests[i].body == ndjson(i + 1, char('a' + i)));
    CHECK(server.connections() == 1);
    CHECK(transport.counters().disconnects == 0);
    CHECK(harness.notifications == harness.notifications_promised);
}

TEST_CASE("HttpTransport: a close after one answer retries the request pipelined behind it", "[http_transport]") {
    Harness harness;
    const bool zero_copy = zero_copy_mode(harness);
    ScriptedServer server;
    HttpTransportConfig config = config_for(server.port(), zero_copy);
    config.pipeline_depth = 2;
    HttpTransport transport(harness.ring, harness, config);
    Reply answer_then_close = reply(200, axiom_reply(1, 0));
    answer_then_close.close_after = true;
    server.script(answer_then_close);
    server.script(reply(200, axiom_reply(2, 0)));

    harness.queue_batch(0, ndjson(1, 'a'), 1);
    harness.queue_batch(1, ndjson(2, 'b'), 2);
    REQUIRE(harness.run_until_settled(transport, 2));
    check_settled(harness.settled[0], Verdict::acked, FailReason::none, 1);
    CHECK(harness.settled[1].slot_index == 1);
    CHECK(harness.settled[1].verdict == Verdict::retry);
    CHECK(harness.settled[1].acked_events == 0);
    CHECK(harness.settled[1].kernel_done);

    // The retry goes out on a fresh connection and is acked there.
    harness.slots[1].state = SlotState::free;
    check_settled(send_one(harness, transport, 1, ndjson(2, 'b'), 2), Verdict::acked, FailReason::none, 2);
    CHECK(server.connections() == 2);
    CHECK(harness.notifications == harness.notifications_promised);
}

TEST_CASE("HttpTransport: zero copy \"auto\" to a loopback sink copies from the start", "[http_transport][send_zc]") {
    // Loopback copies every zero-copy send on delivery; auto mode knows it
    // without sampling notifications first.
    Harness harness;
    if (!harness.ring.features().send_zc) {
        WARN("no SEND_ZC on this kernel: nothing to decide");
        return;
    }
    ScriptedServer server;
    HttpTransportConfig config = config_for(server.port(), true);
    config.zc_report_usage = harness.ring.features().send_zc_report_usage;
    config.zc_adaptive = config.zc_report_usage;
    HttpTransport transport(harness.ring, harness, config);
    server.script(reply(200, axiom_reply(2, 0)));
    check_settled(send_one(harness, transport, 0, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    CHECK(transport.counters().zc_abandoned == config.zc_adaptive);
    if (config.zc_adaptive) CHECK(harness.notifications_promised == 0);
}

// One keep-alive exchange first: only a connection that has shown it stays
// open takes a second request before the first is answered.
void warm_connection(Harness& harness, HttpTransport& transport, ScriptedServer& server) {
    server.script(reply(200, axiom_reply(1, 0)));
    check_settled(send_one(harness, transport, 0, ndjson(1, 'w'), 1), Verdict::acked, FailReason::none, 1);
    harness.settled.clear();
}

TEST_CASE("HttpTransport: a timeout charges the attempt to the oldest request, not the one pipelined behind it",
          "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransportConfig config = config_for(server.port(), false);
    config.pipeline_depth = 2;
    config.request_timeout_ns = 200 * ms_ns;
    HttpTransport transport(harness.ring, harness, config);
    warm_connection(harness, transport, server);
    Reply silent;  // reads the first request, then neither answers, reads nor closes
    silent.hold_after = true;
    server.script(silent);
    harness.queue_batch(0, ndjson(1, 'a'), 1);
    harness.queue_batch(1, ndjson(2, 'b'), 2);
    REQUIRE(harness.run_until_settled(transport, 2));
    REQUIRE(harness.settled[0].slot_index == 0);
    check_settled(harness.settled[0], Verdict::retry, FailReason::timeout, 0);
    CHECK(harness.settled[0].attempt_charged);
    CHECK(harness.settled[1].slot_index == 1);
    CHECK(harness.settled[1].verdict == Verdict::retry);
    CHECK_FALSE(harness.settled[1].attempt_charged);  // it never had its answer's turn
}

// ---- pipelining against servers that close (review of db323d3)

TEST_CASE("HttpTransport: a fresh connection is not pipelined; Connection: close costs the next request nothing",
          "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransportConfig config = config_for(server.port(), false);
    config.pipeline_depth = 2;
    HttpTransport transport(harness.ring, harness, config);
    server.script(reply(200, axiom_reply(1, 0), "Connection: close\r\n"));
    server.script(reply(200, axiom_reply(2, 0)));
    harness.queue_batch(0, ndjson(1, 'a'), 1);
    harness.queue_batch(1, ndjson(2, 'b'), 2);
    REQUIRE(harness.run_until_settled(transport, 2));
    check_settled(harness.settled[0], Verdict::acked, FailReason::none, 1);
    check_settled(harness.settled[1], Verdict::acked, FailReason::none, 2);  // waited, then a new connection
    CHECK(server.connections() == 2);
    CHECK(transport.counters().requests_ambiguous == 0);
}

TEST_CASE("HttpTransport: an answer that closes the connection does not charge the request pipelined behind it",
          "[http_transport]") {
    const int status = GENERATE(200, 503);
    Harness harness;
    ScriptedServer server;
    HttpTransportConfig config = config_for(server.port(), false);
    config.pipeline_depth = 2;
    HttpTransport transport(harness.ring, harness, config);
    warm_connection(harness, transport, server);
    server.script(reply(status, status == 200 ? axiom_reply(1, 0) : "busy", "Connection: close\r\n"));
    harness.queue_batch(0, ndjson(1, 'a'), 1);
    harness.queue_batch(1, ndjson(2, 'b'), 2);
    REQUIRE(harness.run_until_settled(transport, 2));
    REQUIRE(harness.settled[0].slot_index == 0);
    CHECK(harness.settled[0].verdict == (status == 200 ? Verdict::acked : Verdict::retry));
    CHECK(harness.settled[0].attempt_charged);  // the 503 is its own
    REQUIRE(harness.settled[1].slot_index == 1);
    CHECK(harness.settled[1].verdict == Verdict::retry);
    CHECK_FALSE(harness.settled[1].attempt_charged);  // the server said it would not read it
}

TEST_CASE("HttpTransport: an HTTP/1.0 sink (no keep-alive) never gets a pipelined request", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransportConfig config = config_for(server.port(), false);  // default pipeline_depth
    HttpTransport transport(harness.ring, harness, config);
    const std::string json = axiom_reply(1, 0);
    for (int i = 0; i < 8; ++i) {
        server.script(Reply{{"HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(json.size()) + "\r\n\r\n" + json}});
    }
    harness.queue_batch(0, ndjson(1, 'a'), 1);
    harness.queue_batch(1, ndjson(1, 'b'), 1);
    harness.queue_batch(2, ndjson(1, 'c'), 1);
    harness.queue_batch(3, ndjson(1, 'd'), 1);
    REQUIRE(harness.run_until_settled(transport, 4));
    std::size_t charged_retries = 0;
    for (const Settled& s : harness.settled) {
        if (s.verdict == Verdict::retry && s.attempt_charged) ++charged_retries;
    }
    CHECK(charged_retries == 0);  // the sink answered every request it read
    CHECK(transport.counters().requests_ambiguous == 0);
}

TEST_CASE("HttpTransport: large pipelined requests keep byte order on the wire", "[http_transport]") {
    Harness harness(4, 3 << 20);
    const bool zero_copy = zero_copy_mode(harness);
    ScriptedServer server;
    HttpTransportConfig config = config_for(server.port(), zero_copy);
    config.pipeline_depth = 2;
    HttpTransport transport(harness.ring, harness, config);
    for (std::uint32_t i = 0; i < 4; ++i) server.script(reply(200, axiom_reply(30'000, 0)));
    for (std::uint32_t i = 0; i < 4; ++i) harness.queue_batch(i, ndjson(30'000, char('a' + i)), 30'000);
    REQUIRE(harness.run_until_settled(transport, 4));
    for (std::uint32_t i = 0; i < 4; ++i) {
        CHECK(harness.settled[i].slot_index == i);
        check_settled(harness.settled[i], Verdict::acked, FailReason::none, 30'000);
    }
    const std::vector<Request> requests = server.requests();
    REQUIRE(requests.size() == 4);
    for (std::uint32_t i = 0; i < 4; ++i) CHECK(requests[i].body == ndjson(30'000, char('a' + i)));
    CHECK(harness.notifications == harness.notifications_promised);
}

TEST_CASE("HttpTransport: shutdown with two requests on a connection lets both finish", "[http_transport]") {
    Harness harness;
    ScriptedServer server;
    HttpTransportConfig config = config_for(server.port(), false);
    config.pipeline_depth = 2;
    HttpTransport transport(harness.ring, harness, config);
    warm_connection(harness, transport, server);
    server.script(reply(200, axiom_reply(1, 0)));
    server.script(reply(200, axiom_reply(2, 0)));
    harness.queue_batch(0, ndjson(1, 'a'), 1);
    harness.queue_batch(1, ndjson(2, 'b'), 2);
    // Start both, then shut down before answers.
    (void)harness.run(transport, [&] { return harness.queue.empty(); });
    transport.begin_shutdown();
    REQUIRE(harness.run(transport, [&] { return harness.settled.size() == 2 && transport.quiescent(); }));
    check_settled(harness.settled[0], Verdict::acked, FailReason::none, 1);
    check_settled(harness.settled[1], Verdict::acked, FailReason::none, 2);
}

TEST_CASE("HttpTransport: an HTTP/1.0 sink loses no batch under the shard's retry limit", "[http_transport]") {
    Harness harness(4);
    ScriptedServer server;
    HttpTransportConfig config = config_for(server.port(), false, 2);  // default pipeline_depth (2)
    HttpTransport transport(harness.ring, harness, config);
    const std::string json = axiom_reply(1, 0);
    constexpr std::uint32_t batches = 300;
    for (std::uint32_t i = 0; i < 3 * batches; ++i) {
        server.script(Reply{{"HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(json.size()) + "\r\n\r\n" + json}});
    }
    std::vector<std::uint32_t> attempts(4, 0);
    std::uint32_t started = 0, acked = 0, failed = 0;
    std::size_t seen = 0;
    for (std::uint32_t i = 0; i < 4; ++i) { harness.queue_batch(i, ndjson(1), 1); ++started; }
    REQUIRE(harness.run(transport, [&] {
        for (; seen < harness.settled.size(); ++seen) {
            const Settled& s = harness.settled[seen];
            bool refill = false;
            if (s.verdict == Verdict::acked) { ++acked; refill = true; }
            else if (s.verdict == Verdict::retry) {
                if (s.attempt_charged && ++attempts[s.slot_index] > 5) { ++failed; refill = true; }
                else harness.queue_batch(s.slot_index, ndjson(1), 1);
            } else { ++failed; refill = true; }
            if (refill) {
                attempts[s.slot_index] = 0;
                if (started < batches) { harness.queue_batch(s.slot_index, ndjson(1), 1); ++started; }
            }
        }
        return acked + failed == batches;
    }, 60 * s_ns));
    INFO("acked " << acked << " failed " << failed << " ambiguous " << transport.counters().requests_ambiguous);
    CHECK(failed == 0);
}

TEST_CASE("HttpTransport: an early answer to the first request costs the unsent one behind it nothing",
          "[http_transport]") {
    constexpr std::size_t body_bytes_max = 3584 * 1024;
    Harness harness(2, body_bytes_max);
    ScriptedServer server;
    HttpTransportConfig config = config_for(server.port(), false);
    config.pipeline_depth = 2;
    HttpTransport transport(harness.ring, harness, config);
    warm_connection(harness, transport, server);
    Reply early;
    early.read_body = false;
    early.hold_after = true;
    early.pieces = {"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n"};
    server.script(early);
    harness.queue_batch(0, ndjson(62'000), 62'000);
    harness.queue_batch(1, ndjson(2, 'b'), 2);
    REQUIRE(harness.run_until_settled(transport, 2));
    const Settled& first = harness.settled[0].slot_index == 0 ? harness.settled[0] : harness.settled[1];
    const Settled& second = harness.settled[0].slot_index == 0 ? harness.settled[1] : harness.settled[0];
    check_settled(first, Verdict::failed, FailReason::rejected, 0);
    CHECK(second.verdict == Verdict::retry);
    CHECK(transport.counters().requests_ambiguous == 0);  // never sent
    CHECK_FALSE(second.attempt_charged);                  // never sent, never its turn
}
