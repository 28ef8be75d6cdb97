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
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http_fixture.hpp"
#include "scripted_server.hpp"

using namespace supervent::net;
using namespace supervent::net::test;
using namespace std::chrono_literals;

namespace {

// if_available: SEND_ZC when the kernel has it. both: a case with SEND_ZC
// (when the kernel has it) and one with the WRITE_FIXED fallback.
enum class ZeroCopy { if_available, both, off, on };

struct Options {
    std::uint32_t slots = 4;
    std::size_t body_bytes_max = 64 * 1024;
    ZeroCopy zero_copy = ZeroCopy::if_available;
    std::uint32_t connections = 1;
    std::uint32_t pipeline_depth = HttpTransportConfig{}.pipeline_depth;
    std::int64_t request_timeout_ns = 3 * s_ns;  // below the harness's 5 s limit
    bool refused = false;                        // a port where nothing listens instead of the server's
    std::optional<std::uint16_t> port;           // the sink's; none: the scripted server's
};

bool pick_zero_copy(ZeroCopy mode, const Harness& harness) {
    switch (mode) {
        case ZeroCopy::if_available: return harness.ring.features().send_zc;
        case ZeroCopy::off: return false;
        case ZeroCopy::on: return true;
        case ZeroCopy::both: break;
    }
    const bool zero_copy = GENERATE(true, false);
    if (zero_copy && !harness.ring.features().send_zc) {
        WARN("no SEND_ZC on this kernel: this case runs with WRITE_FIXED only");
        return false;
    }
    return zero_copy;
}

// A transport to a ScriptedServer (or to options.port).
struct Fixture : HttpFixture {
    explicit Fixture(const Options& options = {})
        : HttpFixture({options.slots, options.body_bytes_max}), zero_copy(pick_zero_copy(options.zero_copy, harness)) {
        // A closed port is picked once the server has its own, so the two cannot be one.
        const std::uint16_t port = options.refused ? closed_loopback_port() : options.port.value_or(server.port());
        config = loopback_config(port, "127.0.0.1", "ds");
        config.connections = options.connections;
        config.zero_copy = zero_copy;
        config.pipeline_depth = options.pipeline_depth;
        config.request_timeout_ns = options.request_timeout_ns;
    }

    ScriptedServer server;
    const bool zero_copy;
};

// NDJSON with `events` lines.
std::string ndjson(std::uint32_t events, char tag = 'a') {
    std::string body;
    for (std::uint32_t i = 0; i < events; ++i) {
        body += R"({"_time":"2024-01-01T00:00:00Z","n":)" + std::to_string(i) + R"(,"tag":")" + tag + "\"}\n";
    }
    return body;
}

void check_settled(const Settled& settled, Verdict verdict, FailReason reason, std::uint32_t acked_events) {
    CHECK(settled.verdict == verdict);
    INFO("reason " << fail_reason_name(settled.reason));
    CHECK(settled.reason == reason);
    CHECK(settled.acked_events == acked_events);
    CHECK(settled.kernel_done);
    CHECK(settled.state == SlotState::settling);
}

// The reply, then the server closes the connection.
Reply closing(Reply answer) {
    answer.close_after = true;
    return answer;
}

// One HTTP/1.0 answer: the server closes after it.
Reply http10_reply(const std::string& json) {
    return Reply{{"HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(json.size()) + "\r\n\r\n" + json}};
}

// One keep-alive exchange first: only a connection that has shown it stays
// open takes a second request before the first is answered.
void warm_connection(Fixture& f) {
    f.server.script(reply(200, axiom_reply(1, 0)));
    check_settled(f.send_one(0, ndjson(1, 'w'), 1), Verdict::acked, FailReason::none, 1);
    f.harness.settled.clear();
}

}  // namespace

TEST_CASE("HttpTransport: 200 with an Axiom reply acks what it ingested, over one keep-alive connection",
          "[http_transport]") {
    Fixture f({.zero_copy = ZeroCopy::both});
    f.server.script(reply(200, axiom_reply(3, 0)));
    f.server.script(reply(200, axiom_reply(3, 2)));
    f.server.script(reply(200, axiom_reply(4, 0), "Content-Type: application/json\r\n"));

    const std::string body_a = ndjson(3, 'a');
    const std::string body_b = ndjson(5, 'b');
    const std::string body_c = ndjson(4, 'c');
    check_settled(f.send_one(0, body_a, 3), Verdict::acked, FailReason::none, 3);
    check_settled(f.send_one(1, body_b, 5), Verdict::acked, FailReason::partial, 3);
    check_settled(f.send_one(0, body_c, 4), Verdict::acked, FailReason::none, 4);

    const std::vector<Request> requests = f.server.requests();
    REQUIRE(requests.size() == 3);
    // Head and body went out as one buffer: the slot's wire bytes, ending at the body's end.
    const Slot& last = f.harness.slots[0];
    CHECK(last.wire_offset + last.wire_bytes == last.body_offset + last.body_bytes);
    CHECK(std::string(last.wire_data(), last.wire_bytes) == requests[2].head + requests[2].body);
    CHECK(requests[0].body == body_a);
    CHECK(requests[1].body == body_b);
    CHECK(requests[2].body == body_c);
    for (std::size_t i = 0; i < requests.size(); ++i) {
        INFO(requests[i].head);
        CHECK(requests[i].head.starts_with("POST /v1/datasets/ds/ingest HTTP/1.1\r\n"));
        CHECK(requests[i].head.find("\r\nHost: 127.0.0.1:" + std::to_string(f.server.port()) + "\r\n") !=
              std::string::npos);
        CHECK(requests[i].head.find("\r\nAuthorization: Bearer test-token\r\n") != std::string::npos);
        CHECK(requests[i].head.find("\r\nContent-Length: " + std::to_string(requests[i].body.size()) + "\r\n") !=
              std::string::npos);
        CHECK(requests[i].connection == 0);
    }
    CHECK(f.server.connections() == 1);
    CHECK(f.counters().connects == 1);
    CHECK(f.counters().connect_failures == 0);
    CHECK(f.counters().disconnects == 0);
    if (f.zero_copy) {
        CHECK(f.counters().zc_notifications >= 3);
    } else {
        CHECK(f.counters().zc_notifications == 0);
    }
    // Every notification the kernel promised came, and the transport counted each.
    CHECK(f.harness.notifications == f.harness.notifications_promised);
    CHECK(f.counters().zc_notifications == f.harness.notifications);
    CHECK(f.transport().fatal_error().empty());
    CHECK(f.harness.unreachable.empty());
}

TEST_CASE("HttpTransport: a 2xx without an Axiom reply acks the whole batch", "[http_transport]") {
    Fixture f;
    f.server.script(reply(200, "ok"));
    f.server.script(reply(200));
    f.server.script(reply(204, "", ""));
    f.server.script(reply(200, R"({"status":"fine"})"));
    check_settled(f.send_one(0, ndjson(7), 7), Verdict::acked, FailReason::none, 7);
    check_settled(f.send_one(1, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    check_settled(f.send_one(2, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    check_settled(f.send_one(3, ndjson(9), 9), Verdict::acked, FailReason::none, 9);
    CHECK(f.server.connections() == 1);
}

TEST_CASE("HttpTransport: an Axiom reply claiming more than was sent acks only what was sent", "[http_transport]") {
    Fixture f;
    f.server.script(reply(200, axiom_reply(50, 0)));
    check_settled(f.send_one(0, ndjson(5), 5), Verdict::acked, FailReason::none, 5);
}

TEST_CASE("HttpTransport: 5xx is retried as a server error, the connection stays usable", "[http_transport]") {
    Fixture f({.zero_copy = ZeroCopy::both});
    f.server.script(reply(503, "unavailable"));
    f.server.script(reply(500));
    f.server.script(reply(200, axiom_reply(2, 0)));
    check_settled(f.send_one(0, ndjson(2), 2), Verdict::retry, FailReason::server_error, 0);
    check_settled(f.send_one(0, ndjson(2), 2), Verdict::retry, FailReason::server_error, 0);
    check_settled(f.send_one(0, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    CHECK(f.server.connections() == 1);
    CHECK(f.transport().fatal_error().empty());
}

TEST_CASE("HttpTransport: 429 waits until X-RateLimit-Reset", "[http_transport]") {
    Fixture f;
    const std::int64_t reset_s = static_cast<std::int64_t>(std::time(nullptr)) + 30;
    f.server.script(reply(429, "slow down",
                          "X-RateLimit-Limit: 600\r\nX-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: " +
                              std::to_string(reset_s) + "\r\n"));
    const std::int64_t before_ns = monotonic_ns();
    const Settled settled = f.send_one(0, ndjson(3), 3);
    const std::int64_t after_ns = monotonic_ns();
    check_settled(settled, Verdict::retry, FailReason::rate_limited, 0);
    INFO("retry_at - before = " << (settled.retry_at_ns - before_ns) / ms_ns << " ms");
    CHECK(settled.retry_at_ns >= before_ns + 28 * s_ns);
    CHECK(settled.retry_at_ns <= after_ns + 31 * s_ns);
    CHECK(f.transport().fatal_error().empty());
}

TEST_CASE("HttpTransport: 429 and 503 with Retry-After wait that many seconds", "[http_transport]") {
    const int status = GENERATE(429, 503);
    Fixture f;
    f.server.script(reply(status, "", "Retry-After: 7\r\n"));
    const std::int64_t before_ns = monotonic_ns();
    const Settled settled = f.send_one(0, ndjson(3), 3);
    const std::int64_t after_ns = monotonic_ns();
    check_settled(settled, Verdict::retry, status == 429 ? FailReason::rate_limited : FailReason::server_error, 0);
    CHECK(settled.retry_at_ns >= before_ns + 7 * s_ns);
    CHECK(settled.retry_at_ns <= after_ns + 7 * s_ns);
}

TEST_CASE("HttpTransport: 400 and 413 fail the batch at once; the status and body are noted", "[http_transport]") {
    const int status = GENERATE(400, 413);
    Fixture f;
    f.server.script(reply(status, R"({"message":"invalid JSON at line 1"})"));
    check_settled(f.send_one(0, ndjson(4), 4), Verdict::failed, FailReason::rejected, 0);
    CHECK(f.transport().fatal_error().empty());  // this batch, not the sink, was refused
    const auto& noted = f.transport().counters().last_failure;
    CHECK(noted.count == 1);
    CHECK(noted.http_status == status);
    CHECK(noted.reason == FailReason::rejected);
    CHECK(noted.detail_text() == R"({"message":"invalid JSON at line 1"})");
    CHECK(f.transport().counters().failures_by_reason[static_cast<int>(FailReason::rejected)] == 1);
}

TEST_CASE("HttpTransport: 401/403/404 fail the batch and stop the sink with a clear message", "[http_transport]") {
    const int status = GENERATE(401, 403, 404);
    Fixture f;
    f.server.script(reply(status, R"({"message":"no"})"));
    check_settled(f.send_one(0, ndjson(4), 4), Verdict::failed, FailReason::rejected, 0);
    INFO(f.transport().fatal_error());
    CHECK_FALSE(f.transport().fatal_error().empty());
    CHECK(f.transport().fatal_error().find(std::to_string(status)) != std::string::npos);
    // Nothing more goes to a sink that refused us for good.
    f.queue_batch(1, ndjson(1), 1);
    CHECK_FALSE(f.transport().try_start(f.harness.slots[1], monotonic_ns()));
    CHECK(f.server.requests().size() == 1);
}

TEST_CASE("HttpTransport: 401 message points at the token", "[http_transport]") {
    Fixture f;
    f.server.script(reply(401));
    check_settled(f.send_one(0, ndjson(1), 1), Verdict::failed, FailReason::rejected, 0);
    CHECK(f.transport().fatal_error().find("token") != std::string::npos);
    CHECK(f.transport().fatal_error().find("test-token") == std::string::npos);  // never the secret itself
}

TEST_CASE("HttpTransport: other 4xx fail the batch without stopping the sink", "[http_transport]") {
    Fixture f;
    f.server.script(reply(413, "too large"));
    f.server.script(reply(200, axiom_reply(1, 0)));
    check_settled(f.send_one(0, ndjson(1), 1), Verdict::failed, FailReason::rejected, 0);
    CHECK(f.transport().fatal_error().empty());
    check_settled(f.send_one(0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
}

TEST_CASE("HttpTransport: 430 stops the sink: monthly quota used up", "[http_transport]") {
    Fixture f;
    f.server.script(reply(430, "", "X-IngestLimit-Limit: 1000\r\nX-IngestLimit-Remaining: 0\r\n"));
    check_settled(f.send_one(0, ndjson(6), 6), Verdict::failed, FailReason::quota, 0);
    INFO(f.transport().fatal_error());
    CHECK(f.transport().fatal_error().find("quota") != std::string::npos);
    f.queue_batch(1, ndjson(1), 1);
    CHECK_FALSE(f.transport().try_start(f.harness.slots[1], monotonic_ns()));
}

TEST_CASE("HttpTransport: a response split across several delayed writes", "[http_transport]") {
    Fixture f({.zero_copy = ZeroCopy::both});
    const std::string full = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                             std::to_string(axiom_reply(4, 2).size()) + "\r\n\r\n" + axiom_reply(4, 2);
    f.server.script({.pieces = {full.substr(0, 3), full.substr(3, 14), full.substr(17, 30), full.substr(47, 25),
                                full.substr(72, 20), full.substr(92)},
                     .gap = 25ms});
    check_settled(f.send_one(0, ndjson(6), 6), Verdict::acked, FailReason::partial, 4);
    CHECK(f.server.connections() == 1);
}

TEST_CASE("HttpTransport: a chunked response, in delayed pieces", "[http_transport]") {
    Fixture f;
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
    f.server.script(chunked);
    f.server.script(reply(200, axiom_reply(3, 0)));
    check_settled(f.send_one(0, ndjson(3), 3), Verdict::acked, FailReason::partial, 2);
    // The connection is reusable after a chunked response.
    check_settled(f.send_one(1, ndjson(3), 3), Verdict::acked, FailReason::none, 3);
    CHECK(f.server.connections() == 1);
}

TEST_CASE("HttpTransport: 100 Continue before the real response", "[http_transport]") {
    Fixture f;
    const std::string json = axiom_reply(5, 0);
    f.server.script({.pieces = {"HTTP/1.1 100 Continue\r\n\r\n",
                                "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(json.size()) + "\r\n\r\n" + json},
                     .gap = 20ms});
    check_settled(f.send_one(0, ndjson(5), 5), Verdict::acked, FailReason::none, 5);
}

TEST_CASE("HttpTransport: the server closing mid-response is retried, the next request reconnects",
          "[http_transport]") {
    Fixture f({.zero_copy = ZeroCopy::both});
    f.server.script({.pieces = {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"inge"}, .close_after = true});
    f.server.script(reply(200, axiom_reply(2, 0)));

    const Settled first = f.send_one(0, ndjson(2), 2);
    CHECK(first.verdict == Verdict::retry);
    INFO("reason " << fail_reason_name(first.reason));
    CHECK((first.reason == FailReason::bad_response || first.reason == FailReason::transport));
    CHECK(first.acked_events == 0);
    CHECK(first.kernel_done);

    check_settled(f.send_one(0, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    CHECK(f.server.connections() == 2);
    CHECK(f.counters().connects == 2);
}

TEST_CASE("HttpTransport: the server closing before any response is a transport error", "[http_transport]") {
    Fixture f({.zero_copy = ZeroCopy::both});
    SECTION("after reading the request") { f.server.script({.close_after = true}); }
    SECTION("before reading the body (a reset)") { f.server.script({.read_body = false}); }
    f.server.script(reply(200, axiom_reply(3, 0)));
    check_settled(f.send_one(0, ndjson(3), 3), Verdict::retry, FailReason::transport, 0);
    check_settled(f.send_one(0, ndjson(3), 3), Verdict::acked, FailReason::none, 3);
    CHECK(f.server.connections() == 2);
}

TEST_CASE("HttpTransport: a large body arrives intact", "[http_transport]") {
    constexpr std::size_t body_bytes_max = 2 << 20;
    Fixture f({.slots = 2, .body_bytes_max = body_bytes_max, .zero_copy = ZeroCopy::both});
    std::string body = ndjson(20'000, 'z');
    REQUIRE(body.size() > (1u << 20));
    REQUIRE(body.size() < body_bytes_max);
    f.server.script(reply(200, axiom_reply(20'000, 0)));
    check_settled(f.send_one(1, body, 20'000), Verdict::acked, FailReason::none, 20'000);
    const std::vector<Request> requests = f.server.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].body.size() == body.size());
    CHECK(requests[0].body == body);
}

TEST_CASE("HttpTransport: large requests back to back keep one connection", "[http_transport]") {
    // A response is only handled once the whole request was sent; if the
    // send completion were seen after the response, the connection would be
    // dropped for nothing.
    Fixture f({.slots = 2, .body_bytes_max = 1 << 20, .zero_copy = ZeroCopy::both});
    constexpr int request_count = 8;
    for (int i = 0; i < request_count; ++i) f.server.script(reply(200, axiom_reply(15'000, 0)));
    const std::string body = ndjson(15'000, 'L');
    REQUIRE(body.size() > (512u << 10));
    for (int i = 0; i < request_count; ++i) {
        check_settled(f.send_one(static_cast<std::uint32_t>(i % 2), body, 15'000), Verdict::acked, FailReason::none,
                      15'000);
    }
    CHECK(f.server.requests().size() == request_count);
    CHECK(f.server.connections() == 1);
    CHECK(f.harness.notifications == f.harness.notifications_promised);
    CHECK(f.counters().zc_notifications == f.harness.notifications);
}

TEST_CASE("HttpTransport: an HTTP/1.0 or Connection: close response gets a fresh connection next",
          "[http_transport]") {
    Fixture f;
    const std::string json = axiom_reply(1, 0);
    f.server.script(http10_reply(json));
    f.server.script(reply(200, json, "Connection: close\r\n"));
    f.server.script(reply(200, json));
    check_settled(f.send_one(0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    check_settled(f.send_one(0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    check_settled(f.send_one(0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    const std::vector<Request> requests = f.server.requests();
    REQUIRE(requests.size() == 3);
    CHECK(requests[0].connection == 0);
    CHECK(requests[1].connection == 1);
    CHECK(requests[2].connection == 2);
    CHECK(f.server.wait_for([&] { return f.server.client_closes() == 2; }));
}

TEST_CASE("HttpTransport: the server closing an idle keep-alive connection", "[http_transport]") {
    Fixture f({.zero_copy = ZeroCopy::both});
    f.server.script(closing(reply(200, axiom_reply(2, 0))));  // keep-alive as far as the client knows
    f.server.script(reply(200, axiom_reply(2, 0)));

    check_settled(f.send_one(0, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    REQUIRE(f.server.wait_for([&] { return f.server.server_closes() == 1; }));
    // The transport notices the close through the recv it keeps posted.
    REQUIRE(f.run([&] { return f.transport().quiescent(); }));
    CHECK(f.counters().disconnects == 0);  // an orderly close, not a failure

    check_settled(f.send_one(1, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    CHECK(f.server.connections() == 2);
    CHECK(f.counters().connects == 2);
}

TEST_CASE("HttpTransport: connect refused reports the sink unreachable and retries with backoff",
          "[http_transport]") {
    Fixture f({.refused = true});
    f.queue_batch(0, ndjson(1), 1);
    REQUIRE(f.run([&] { return f.harness.unreachable.size() >= 3; }));
    for (const Unreachable& unreachable : f.harness.unreachable) CHECK(unreachable.reason == FailReason::connect);
    // Backoff: attempts are spaced, not back to back.
    CHECK(f.harness.unreachable[2].now_ns - f.harness.unreachable[0].now_ns >= 10 * ms_ns);
    CHECK(f.counters().connect_failures >= 3);
    CHECK(f.counters().connects == 0);
    // The batch itself was never taken.
    CHECK(f.harness.settled.empty());
    CHECK(f.harness.slots[0].state == SlotState::queued);
    CHECK(f.harness.queue.size() == 1);
    CHECK(f.transport().fatal_error().empty());
}

TEST_CASE("HttpTransport: no response within the request timeout is retried", "[http_transport]") {
    Fixture f({.request_timeout_ns = 200 * ms_ns});
    f.server.script(Reply{});  // reads the request, never answers
    f.server.script(reply(200, axiom_reply(1, 0)));
    const std::int64_t started_ns = monotonic_ns();
    check_settled(f.send_one(0, ndjson(1), 1), Verdict::retry, FailReason::timeout, 0);
    CHECK(monotonic_ns() - started_ns >= 200 * ms_ns);
    CHECK(f.server.wait_for([&] { return f.server.client_closes() == 1; }));
    check_settled(f.send_one(0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
}

TEST_CASE("HttpTransport: several slots over several connections", "[http_transport]") {
    Fixture f({.slots = 6, .zero_copy = ZeroCopy::both, .connections = 2});
    for (int i = 0; i < 6; ++i) f.server.script(reply(200, axiom_reply(4, 0)));
    for (std::uint32_t i = 0; i < 6; ++i) f.queue_batch(i, ndjson(4, static_cast<char>('a' + i)), 4);
    REQUIRE(f.run_until_settled(6));
    for (const Settled& settled : f.harness.settled) check_settled(settled, Verdict::acked, FailReason::none, 4);
    CHECK(f.server.connections() == 2);
    const std::vector<Request> requests = f.server.requests();
    REQUIRE(requests.size() == 6);
    std::vector<std::string> bodies;
    for (const Request& request : requests) bodies.push_back(request.body);
    std::sort(bodies.begin(), bodies.end());
    for (std::uint32_t i = 0; i < 6; ++i) CHECK(bodies[i] == ndjson(4, static_cast<char>('a' + i)));
}

TEST_CASE("HttpTransport: SEND_ZC notifications report copies when asked", "[http_transport][send_zc]") {
    Fixture f({.zero_copy = ZeroCopy::on});
    if (!f.harness.ring.features().send_zc) {
        WARN("no SEND_ZC on this kernel: nothing to check");
        return;
    }
    f.config.zc_report_usage = true;
    f.server.script(reply(200, axiom_reply(2, 0)));
    check_settled(f.send_one(0, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    CHECK(f.counters().zc_notifications >= 1);
    // Loopback delivers to a local socket, so the kernel copies after all and says so.
    CHECK(f.counters().zc_copied >= 1);
    CHECK(f.counters().zc_copied <= f.counters().zc_notifications);
}

TEST_CASE("HttpTransport: shutdown closes idle connections and becomes quiescent", "[http_transport]") {
    Fixture f({.connections = 2});
    CHECK(f.transport().quiescent());
    f.server.script(reply(200, axiom_reply(1, 0)));
    check_settled(f.send_one(0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    CHECK_FALSE(f.transport().quiescent());
    f.transport().begin_shutdown();
    REQUIRE(f.run([&] { return f.transport().quiescent(); }));
    CHECK(f.server.wait_for([&] { return f.server.client_closes() == 2; }));
    f.queue_batch(1, ndjson(1), 1);
    CHECK_FALSE(f.transport().try_start(f.harness.slots[1], monotonic_ns()));
}

TEST_CASE("HttpTransport: with nothing to send, no deadline in the past", "[http_transport]") {
    // A shard sleeps until next_deadline_ns(); a deadline already passed while
    // there is nothing to do makes it spin.
    Fixture f;
    std::int64_t now_ns = monotonic_ns();
    f.transport().on_tick(now_ns, false);
    CHECK(f.transport().next_deadline_ns() > now_ns);

    // And again after the server closed an idle connection.
    f.server.script(closing(reply(200, axiom_reply(1, 0))));
    check_settled(f.send_one(0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    REQUIRE(f.run([&] { return f.transport().quiescent(); }));
    now_ns = monotonic_ns();
    f.transport().on_tick(now_ns, false);
    CHECK(f.transport().next_deadline_ns() > now_ns);
}

TEST_CASE("HttpTransport: with work waiting on an unreachable sink, the next reconnect is the deadline",
          "[http_transport]") {
    Fixture f({.refused = true});
    f.queue_batch(0, ndjson(1), 1);
    REQUIRE(f.run([&] { return !f.harness.unreachable.empty(); }));
    const std::int64_t now_ns = monotonic_ns();
    f.transport().on_tick(now_ns, true);
    // Either still backing off (the reconnect time) or connecting again (the connect timeout).
    CHECK(f.transport().next_deadline_ns() > now_ns);
    CHECK(f.transport().next_deadline_ns() <= now_ns + 2 * s_ns);
}

TEST_CASE("HttpTransport: an answer before the whole body was sent, then a close", "[http_transport]") {
    // Two slots stay under an 8 MiB memlock limit.
    Fixture f({.slots = 2, .body_bytes_max = 3584 * 1024, .zero_copy = ZeroCopy::both});
    f.server.script({.pieces = {"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
                     .close_after = true,
                     .read_body = false});
    f.server.script(reply(200, axiom_reply(2, 0)));
    const std::string body = ndjson(62'000);
    REQUIRE(body.size() > (3u << 20));
    check_settled(f.send_one(0, body, 62'000), Verdict::failed, FailReason::rejected, 0);
    check_settled(f.send_one(1, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    CHECK(f.server.connections() == 2);
}

TEST_CASE("HttpTransport: a peer that stops reading mid-body times out and lets go of the slot",
          "[http_transport]") {
    // The slot may be reused only once the kernel has let go of its buffer;
    // after giving up on a stalled peer that must not take longer than the
    // timeout itself (a zero-copy send pins the pages until the unsent data
    // is dropped).
    Fixture f({.slots = 2, .body_bytes_max = 3584 * 1024, .zero_copy = ZeroCopy::both,
               .request_timeout_ns = 300 * ms_ns});
    f.server.script({.read_body = false, .hold_after = true});
    const std::string body = ndjson(62'000);
    const std::int64_t started_ns = monotonic_ns();
    f.queue_batch(0, body, 62'000);
    REQUIRE(f.run_until_settled(1, 2 * s_ns));
    check_settled(f.harness.settled[0], Verdict::retry, FailReason::timeout, 0);
    CHECK(f.harness.settled[0].now_ns - started_ns >= 300 * ms_ns);
    CHECK(f.harness.settled[0].now_ns - started_ns < 1300 * ms_ns);
    CHECK(f.harness.notifications == f.harness.notifications_promised);
}

TEST_CASE("HttpTransport: an answer before the body was read, from a peer that keeps reading",
          "[http_transport]") {
    Fixture f({.slots = 2, .body_bytes_max = 1 << 20});
    f.server.script({.pieces = {"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n"}, .read_body = false});
    f.server.script(reply(200, axiom_reply(2, 0)));
    check_settled(f.send_one(0, ndjson(10'000), 10'000), Verdict::failed, FailReason::rejected, 0);
    check_settled(f.send_one(1, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
}

TEST_CASE("HttpTransport: a response larger than the limit is a bad response", "[http_transport]") {
    Fixture f;
    f.server.script(reply(200, std::string(supervent::bounds::http_response_bytes_max + 100, 'x')));
    f.server.script(reply(200, axiom_reply(1, 0)));
    check_settled(f.send_one(0, ndjson(1), 1), Verdict::retry, FailReason::bad_response, 0);
    check_settled(f.send_one(0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
}

TEST_CASE("HttpTransport: stray bytes on an idle connection drop it", "[http_transport]") {
    Fixture f;
    Reply with_junk = reply(200, axiom_reply(1, 0));
    with_junk.pieces.push_back("HTTP/1.1 200 OK\r\n");  // a response to nothing
    with_junk.gap = 50ms;
    f.server.script(with_junk);
    f.server.script(reply(200, axiom_reply(1, 0)));
    check_settled(f.send_one(0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    REQUIRE(f.run([&] { return f.counters().disconnects == 1; }));
    check_settled(f.send_one(0, ndjson(1), 1), Verdict::acked, FailReason::none, 1);
    CHECK(f.server.connections() == 2);
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

    Fixture f({.port = port});
    f.config.connect_timeout_ns = 150 * ms_ns;
    f.queue_batch(0, ndjson(1), 1);
    const std::int64_t started_ns = monotonic_ns();
    REQUIRE(f.run([&] { return !f.harness.unreachable.empty(); }));
    CHECK(f.harness.unreachable[0].reason == FailReason::timeout);
    CHECK(f.harness.unreachable[0].now_ns - started_ns >= 150 * ms_ns);
    CHECK(f.counters().connect_failures >= 1);
    CHECK(f.harness.settled.empty());
    // The abandoned connect is reaped: the transport can shut down cleanly.
    f.harness.queue.clear();
    f.transport().begin_shutdown();
    CHECK(f.run([&] { return f.transport().quiescent(); }));
}

TEST_CASE("HttpTransport: shutdown with a request in flight lets it finish", "[http_transport]") {
    Fixture f;
    Reply slow = reply(200, axiom_reply(3, 0));
    slow.pieces.insert(slow.pieces.begin(), "");
    slow.gap = 200ms;
    f.server.script(slow);
    f.queue_batch(0, ndjson(3), 3);
    REQUIRE(f.run([&] { return f.server.requests().size() == 1; }));
    f.transport().begin_shutdown();
    CHECK_FALSE(f.transport().quiescent());
    REQUIRE(f.run_until_settled(1));
    check_settled(f.harness.settled[0], Verdict::acked, FailReason::none, 3);
    REQUIRE(f.run([&] { return f.transport().quiescent(); }));
}

TEST_CASE("HttpTransport: a server that closes every new connection gets reconnects with backoff",
          "[http_transport]") {
    // Work is waiting (a batch in its retry backoff, say) but nothing is sent:
    // connections that the server closes before serving anything must not be
    // reopened back to back.
    Fixture f;
    f.server.close_on_accept(true);
    f.config.reconnect_backoff_min_ns = 20 * ms_ns;
    f.config.reconnect_backoff_max_ns = 200 * ms_ns;
    HttpTransport& transport = f.transport();
    const std::int64_t until_ns = monotonic_ns() + 500 * ms_ns;
    while (monotonic_ns() < until_ns) {
        transport.on_tick(monotonic_ns(), true);
        REQUIRE(f.harness.ring.submit_and_wait(1'000'000) == 0);
        const std::int64_t now_ns = monotonic_ns();
        f.harness.ring.drain([&](const io_uring_cqe& cqe) {
            transport.on_completion(cqe, CompletionTag::decode(cqe.user_data), now_ns);
        });
    }
    INFO("connections accepted in 500 ms: " << f.server.connections());
    CHECK(f.server.connections() >= 2);
    // 20 ms doubling to 200 ms (half of it jitter) allows about a dozen in 500 ms.
    CHECK(f.server.connections() <= 30);
}

TEST_CASE("HttpTransport: a body delimited by the server closing", "[http_transport]") {
    Fixture f;
    f.server.script({.pieces = {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n", axiom_reply(3, 1)},
                     .gap = 20ms,
                     .close_after = true});
    f.server.script(reply(200, axiom_reply(4, 0)));
    check_settled(f.send_one(0, ndjson(4), 4), Verdict::acked, FailReason::partial, 3);
    check_settled(f.send_one(0, ndjson(4), 4), Verdict::acked, FailReason::none, 4);
    CHECK(f.server.connections() == 2);
    CHECK(f.counters().disconnects == 0);
}

TEST_CASE("HttpTransport: pipelined requests on one connection are answered in order", "[http_transport]") {
    // Four batches, one connection, two requests in flight on it: each answer
    // must settle the batch it belongs to (the reply's count says which).
    Fixture f({.zero_copy = ZeroCopy::both, .pipeline_depth = 2});
    constexpr std::uint32_t batch_count = 4;
    for (std::uint32_t i = 0; i < batch_count; ++i) f.server.script(reply(200, axiom_reply(i + 1, 0)));
    for (std::uint32_t i = 0; i < batch_count; ++i) f.queue_batch(i, ndjson(i + 1, char('a' + i)), i + 1);
    REQUIRE(f.run_until_settled(batch_count));
    REQUIRE(f.harness.settled.size() == batch_count);
    for (std::uint32_t i = 0; i < batch_count; ++i) {
        CHECK(f.harness.settled[i].slot_index == i);
        check_settled(f.harness.settled[i], Verdict::acked, FailReason::none, i + 1);
    }
    const std::vector<Request> requests = f.server.requests();
    REQUIRE(requests.size() == batch_count);
    for (std::uint32_t i = 0; i < batch_count; ++i) CHECK(requests[i].body == ndjson(i + 1, char('a' + i)));
    CHECK(f.server.connections() == 1);
    CHECK(f.counters().disconnects == 0);
    CHECK(f.harness.notifications == f.harness.notifications_promised);
}

TEST_CASE("HttpTransport: a close after one answer retries the request pipelined behind it", "[http_transport]") {
    Fixture f({.zero_copy = ZeroCopy::both, .pipeline_depth = 2});
    f.server.script(closing(reply(200, axiom_reply(1, 0))));
    f.server.script(reply(200, axiom_reply(2, 0)));

    f.queue_batch(0, ndjson(1, 'a'), 1);
    f.queue_batch(1, ndjson(2, 'b'), 2);
    REQUIRE(f.run_until_settled(2));
    check_settled(f.harness.settled[0], Verdict::acked, FailReason::none, 1);
    CHECK(f.harness.settled[1].slot_index == 1);
    CHECK(f.harness.settled[1].verdict == Verdict::retry);
    CHECK(f.harness.settled[1].acked_events == 0);
    CHECK(f.harness.settled[1].kernel_done);

    // The retry goes out on a fresh connection and is acked there (the
    // harness freed the slot when it settled).
    check_settled(f.send_one(1, ndjson(2, 'b'), 2), Verdict::acked, FailReason::none, 2);
    CHECK(f.server.connections() == 2);
    CHECK(f.harness.notifications == f.harness.notifications_promised);
}

TEST_CASE("HttpTransport: zero copy \"auto\" to a loopback sink copies from the start", "[http_transport][send_zc]") {
    // Loopback copies every zero-copy send on delivery; auto mode knows it
    // without sampling notifications first.
    Fixture f({.zero_copy = ZeroCopy::on});
    if (!f.harness.ring.features().send_zc) {
        WARN("no SEND_ZC on this kernel: nothing to decide");
        return;
    }
    f.config.zc_report_usage = f.harness.ring.features().send_zc_report_usage;
    f.config.zc_adaptive = f.config.zc_report_usage;
    f.server.script(reply(200, axiom_reply(2, 0)));
    check_settled(f.send_one(0, ndjson(2), 2), Verdict::acked, FailReason::none, 2);
    CHECK(f.counters().zc_abandoned == f.config.zc_adaptive);
    if (f.config.zc_adaptive) CHECK(f.harness.notifications_promised == 0);
}

TEST_CASE("HttpTransport: a timeout charges the attempt to the oldest request, not the one pipelined behind it",
          "[http_transport]") {
    Fixture f({.zero_copy = ZeroCopy::off, .pipeline_depth = 2, .request_timeout_ns = 200 * ms_ns});
    warm_connection(f);
    f.server.script({.hold_after = true});  // reads the first request, then neither answers, reads nor closes
    f.queue_batch(0, ndjson(1, 'a'), 1);
    f.queue_batch(1, ndjson(2, 'b'), 2);
    REQUIRE(f.run_until_settled(2));
    REQUIRE(f.harness.settled[0].slot_index == 0);
    check_settled(f.harness.settled[0], Verdict::retry, FailReason::timeout, 0);
    CHECK(f.harness.settled[0].attempt_charged);
    CHECK(f.harness.settled[1].slot_index == 1);
    CHECK(f.harness.settled[1].verdict == Verdict::retry);
    CHECK_FALSE(f.harness.settled[1].attempt_charged);  // it never had its answer's turn
}

// ---- pipelining against servers that close (review of db323d3)

TEST_CASE("HttpTransport: a fresh connection is not pipelined; Connection: close costs the next request nothing",
          "[http_transport]") {
    Fixture f({.zero_copy = ZeroCopy::off, .pipeline_depth = 2});
    f.server.script(reply(200, axiom_reply(1, 0), "Connection: close\r\n"));
    f.server.script(reply(200, axiom_reply(2, 0)));
    f.queue_batch(0, ndjson(1, 'a'), 1);
    f.queue_batch(1, ndjson(2, 'b'), 2);
    REQUIRE(f.run_until_settled(2));
    check_settled(f.harness.settled[0], Verdict::acked, FailReason::none, 1);
    check_settled(f.harness.settled[1], Verdict::acked, FailReason::none, 2);  // waited, then a new connection
    CHECK(f.server.connections() == 2);
    CHECK(f.counters().requests_ambiguous == 0);
}

TEST_CASE("HttpTransport: an answer that closes the connection does not charge the request pipelined behind it",
          "[http_transport]") {
    const int status = GENERATE(200, 503);
    Fixture f({.zero_copy = ZeroCopy::off, .pipeline_depth = 2});
    warm_connection(f);
    f.server.script(reply(status, status == 200 ? axiom_reply(1, 0) : "busy", "Connection: close\r\n"));
    f.queue_batch(0, ndjson(1, 'a'), 1);
    f.queue_batch(1, ndjson(2, 'b'), 2);
    REQUIRE(f.run_until_settled(2));
    REQUIRE(f.harness.settled[0].slot_index == 0);
    CHECK(f.harness.settled[0].verdict == (status == 200 ? Verdict::acked : Verdict::retry));
    CHECK(f.harness.settled[0].attempt_charged);  // the 503 is its own
    REQUIRE(f.harness.settled[1].slot_index == 1);
    CHECK(f.harness.settled[1].verdict == Verdict::retry);
    CHECK_FALSE(f.harness.settled[1].attempt_charged);  // the server said it would not read it
}

TEST_CASE("HttpTransport: an HTTP/1.0 sink (no keep-alive) never gets a pipelined request", "[http_transport]") {
    Fixture f({.zero_copy = ZeroCopy::off});  // default pipeline_depth
    for (int i = 0; i < 8; ++i) f.server.script(http10_reply(axiom_reply(1, 0)));
    f.queue_batch(0, ndjson(1, 'a'), 1);
    f.queue_batch(1, ndjson(1, 'b'), 1);
    f.queue_batch(2, ndjson(1, 'c'), 1);
    f.queue_batch(3, ndjson(1, 'd'), 1);
    REQUIRE(f.run_until_settled(4));
    std::size_t charged_retries = 0;
    for (const Settled& s : f.harness.settled) {
        if (s.verdict == Verdict::retry && s.attempt_charged) ++charged_retries;
    }
    CHECK(charged_retries == 0);  // the sink answered every request it read
    CHECK(f.counters().requests_ambiguous == 0);
}

TEST_CASE("HttpTransport: large pipelined requests keep byte order on the wire", "[http_transport]") {
    Fixture f({.body_bytes_max = 3 << 20, .zero_copy = ZeroCopy::both, .pipeline_depth = 2});
    for (std::uint32_t i = 0; i < 4; ++i) f.server.script(reply(200, axiom_reply(30'000, 0)));
    for (std::uint32_t i = 0; i < 4; ++i) f.queue_batch(i, ndjson(30'000, char('a' + i)), 30'000);
    REQUIRE(f.run_until_settled(4));
    for (std::uint32_t i = 0; i < 4; ++i) {
        CHECK(f.harness.settled[i].slot_index == i);
        check_settled(f.harness.settled[i], Verdict::acked, FailReason::none, 30'000);
    }
    const std::vector<Request> requests = f.server.requests();
    REQUIRE(requests.size() == 4);
    for (std::uint32_t i = 0; i < 4; ++i) CHECK(requests[i].body == ndjson(30'000, char('a' + i)));
    CHECK(f.harness.notifications == f.harness.notifications_promised);
}

TEST_CASE("HttpTransport: shutdown with two requests on a connection lets both finish", "[http_transport]") {
    Fixture f({.zero_copy = ZeroCopy::off, .pipeline_depth = 2});
    warm_connection(f);
    f.server.script(reply(200, axiom_reply(1, 0)));
    f.server.script(reply(200, axiom_reply(2, 0)));
    f.queue_batch(0, ndjson(1, 'a'), 1);
    f.queue_batch(1, ndjson(2, 'b'), 2);
    // Start both, then shut down before answers.
    (void)f.run([&] { return f.harness.queue.empty(); });
    f.transport().begin_shutdown();
    REQUIRE(f.run([&] { return f.harness.settled.size() == 2 && f.transport().quiescent(); }));
    check_settled(f.harness.settled[0], Verdict::acked, FailReason::none, 1);
    check_settled(f.harness.settled[1], Verdict::acked, FailReason::none, 2);
}

TEST_CASE("HttpTransport: an HTTP/1.0 sink loses no batch under the shard's retry limit", "[http_transport]") {
    Fixture f({.zero_copy = ZeroCopy::off, .connections = 2});  // default pipeline_depth (2)
    constexpr std::uint32_t batches = 300;
    for (std::uint32_t i = 0; i < 3 * batches; ++i) f.server.script(http10_reply(axiom_reply(1, 0)));
    std::vector<std::uint32_t> attempts(4, 0);
    std::uint32_t started = 0, acked = 0, failed = 0;
    std::size_t seen = 0;
    for (std::uint32_t i = 0; i < 4; ++i) { f.queue_batch(i, ndjson(1), 1); ++started; }
    REQUIRE(f.run([&] {
        for (; seen < f.harness.settled.size(); ++seen) {
            const Settled& s = f.harness.settled[seen];
            bool refill = false;
            if (s.verdict == Verdict::acked) { ++acked; refill = true; }
            else if (s.verdict == Verdict::retry) {
                if (s.attempt_charged && ++attempts[s.slot_index] > 5) { ++failed; refill = true; }
                else f.queue_batch(s.slot_index, ndjson(1), 1);
            } else { ++failed; refill = true; }
            if (refill) {
                attempts[s.slot_index] = 0;
                if (started < batches) { f.queue_batch(s.slot_index, ndjson(1), 1); ++started; }
            }
        }
        return acked + failed == batches;
    }, 60 * s_ns));
    INFO("acked " << acked << " failed " << failed << " ambiguous " << f.counters().requests_ambiguous);
    CHECK(failed == 0);
}

TEST_CASE("HttpTransport: an early answer to the first request costs the unsent one behind it nothing",
          "[http_transport]") {
    Fixture f({.slots = 2, .body_bytes_max = 3584 * 1024, .zero_copy = ZeroCopy::off, .pipeline_depth = 2});
    warm_connection(f);
    f.server.script({.pieces = {"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n"},
                     .read_body = false,
                     .hold_after = true});
    f.queue_batch(0, ndjson(62'000), 62'000);
    f.queue_batch(1, ndjson(2, 'b'), 2);
    REQUIRE(f.run_until_settled(2));
    const Settled& first = f.harness.settled[0].slot_index == 0 ? f.harness.settled[0] : f.harness.settled[1];
    const Settled& second = f.harness.settled[0].slot_index == 0 ? f.harness.settled[1] : f.harness.settled[0];
    check_settled(first, Verdict::failed, FailReason::rejected, 0);
    CHECK(second.verdict == Verdict::retry);
    CHECK(f.counters().requests_ambiguous == 0);  // never sent
    CHECK_FALSE(second.attempt_charged);          // never sent, never its turn
}
