// HttpTransport over TLS against the in-process supervent-sink serving
// HTTPS (Boost.Asio + OpenSSL, so the other end of each handshake is not
// our own TLS code), on real loopback sockets driven by the ring. The PKI is
// made per test process by tls_certs.sh with the openssl command line.
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include <openssl/ssl.h>

#include "http_fixture.hpp"
#include "tls_pki.hpp"

using namespace supervent::net;
using namespace supervent::net::test;

namespace {

HttpTransportConfig tls_config(std::uint16_t port, const Harness& harness, const std::string& server_name = "localhost") {
    HttpTransportConfig config = loopback_config(port, server_name, "tls");
    config.zero_copy = false;
    config.reconnect_backoff_max_ns = 50 * ms_ns;
    config.tls.enabled = true;
    config.tls.server_name = server_name;
    config.tls.ca_file = pki_file("ca.pem");
    config.tls.ktls = false;
    config.tls.request_bytes_max = harness.arena.slot_bytes();
    return config;
}

struct Options {
    HarnessShape shape;
    std::string certificate = "server.pem";  // the sink's, from the test PKI
    std::uint64_t max_body_bytes = supervent::sink::max_body_bytes_default;
    std::string server_name = "localhost";   // the name the client checks
    std::uint32_t delay_ms = 0;              // the sink holds each answer this long
};

// A transport to an HTTPS supervent-sink.
struct Fixture : HttpFixture {
    explicit Fixture(const Options& options = {})
        : HttpFixture(options.shape), server(start_tls_sink(options.certificate, options.max_body_bytes, options.delay_ms)) {
        config = tls_config(server->port(), harness, options.server_name);
    }

    std::unique_ptr<supervent::sink::Server> server;
};

std::string ndjson(std::uint32_t events, std::size_t pad = 0) {
    std::string body;
    const std::string filler(pad, 'x');
    for (std::uint32_t i = 0; i < events; ++i) {
        body += R"({"_time":"2024-01-01T00:00:00Z","n":)" + std::to_string(i) + R"(,"pad":")" + filler + "\"}\n";
    }
    return body;
}

// Sends `batches` batches of `events` one after another; returns the events acked.
std::uint64_t send_batches(Fixture& f, std::uint32_t batches, std::uint32_t events, std::size_t pad = 0) {
    const std::string body = ndjson(events, pad);
    std::uint64_t acked = 0;
    for (std::uint32_t i = 0; i < batches; ++i) {
        const Settled& settled = f.send_one(static_cast<std::uint32_t>(i % f.harness.slots.size()), body, events);
        INFO("fatal error: " << f.transport().fatal_error());
        REQUIRE(settled.verdict == Verdict::acked);
        CHECK(settled.kernel_done);
        acked += settled.acked_events;
    }
    return acked;
}

// Runs until the transport gives up on the sink; returns its message.
std::string fatal_error_for(const std::string& certificate, const std::string& server_name = "localhost") {
    Fixture f({.certificate = certificate, .server_name = server_name});
    f.queue_batch(0, ndjson(3), 3);
    REQUIRE(f.run([&] { return !f.transport().fatal_error().empty(); }));
    // It stopped at the handshake: nothing reached the sink, nothing was acked.
    f.run_idle(100 * ms_ns);
    CHECK(f.server->stats().requests == 0);
    CHECK(f.harness.settled.empty());
    CHECK_FALSE(f.harness.unreachable.empty());
    CHECK(f.transport().tls_counters().handshakes == 0);
    return f.transport().fatal_error();
}

}  // namespace

TEST_CASE("https: every event arrives over one verified TLS 1.3 handshake", "[tls]") {
    Fixture f;
    const std::uint64_t acked = send_batches(f, 20, 50);
    CHECK(acked == 20 * 50);
    const auto stats = f.server->stats();
    CHECK(stats.events == 20 * 50);
    CHECK(stats.invalid_events == 0);
    CHECK(stats.requests == 20);
    const TlsCounters& tls = f.transport().tls_counters();
    CHECK(tls.handshakes == 1);
    CHECK(tls.resumed == 0);
    CHECK(tls.last_version == "TLSv1.3");
    CHECK(f.counters().connects == 1);
    CHECK(f.transport().fatal_error().empty());
    // The ciphertext went out from the connection's registered buffer.
    CHECK(tls.cipher_buffers_registered);
    CHECK(tls.cipher_fixed_writes >= 20);
}

TEST_CASE("https: with no room in the ring's buffer table, ciphertext goes out by plain send", "[tls]") {
    Fixture f({.shape = {.spare_buffers = 0}});
    CHECK(send_batches(f, 5, 50) == 5 * 50);
    CHECK(f.server->stats().events == 5 * 50);
    CHECK_FALSE(f.transport().tls_counters().cipher_buffers_registered);
    CHECK(f.transport().tls_counters().cipher_fixed_writes == 0);
}

TEST_CASE("https: a request of many TLS records (about 1 MB) goes out whole from the connection's buffer", "[tls]") {
    Fixture f({.shape = {.slots = 2, .body_bytes_max = 2 * 1024 * 1024}});
    // 1000 events of ~1 KiB: ~64 records of 16 KiB each.
    const std::uint64_t acked = send_batches(f, 3, 1000, 1000);
    CHECK(acked == 3000);
    CHECK(f.server->stats().events == 3000);
    CHECK(f.server->stats().bytes_wire > 3 * 1000 * 1000);
    CHECK(f.transport().tls_counters().handshakes == 1);
}

TEST_CASE("https: requests are sealed by our record sealer or by SSL_write when it is off", "[tls][sealer]") {
    const bool seal = GENERATE(true, false);
    Fixture f({.shape = {.slots = 2, .body_bytes_max = 2 * 1024 * 1024}});
    f.config.tls.seal_records = seal;
    CHECK(send_batches(f, 3, 1000, 1000) == 3000);  // ~64 records each
    CHECK(f.server->stats().events == 3000);
    CHECK(f.server->stats().invalid_events == 0);
    CHECK(f.transport().tls_counters().sealed_connections == (seal ? 1u : 0u));
}

TEST_CASE("https: a connection whose key sealed its share of records is replaced and nothing is lost",
          "[tls][sealer]") {
    Fixture f({.shape = {.slots = 2, .body_bytes_max = 2 * 1024 * 1024}});
    f.config.tls.records_per_key_renew = 100;  // ~1.5 batches of ~64 records
    f.config.tls.records_per_key_max = 200;
    CHECK(send_batches(f, 6, 1000, 1000) == 6000);
    CHECK(f.server->stats().events == 6000);
    const TlsCounters& tls = f.transport().tls_counters();
    CHECK(tls.renewals >= 2);
    CHECK(tls.handshakes == tls.renewals + 1);
    CHECK(tls.resumed == tls.renewals);  // a renewal resumes the kept session
    CHECK(f.counters().disconnects == 0);
    CHECK(f.counters().requests_ambiguous == 0);
}

TEST_CASE("https: requests pipelined on one connection are sealed in turn and answered in order", "[tls][pipeline]") {
    // A sink 200 ms away and one connection 4 deep: after the first answer
    // (which shows the connection stays open) the rest go out behind one
    // another through the one cipher buffer. One at a time, 6 batches would
    // take 1,200 ms; pipelined about 400 (room for a sanitizer's slowdown).
    constexpr std::uint32_t delay_ms = 200;
    Fixture f({.shape = {.slots = 6, .body_bytes_max = 1024 * 1024}, .delay_ms = delay_ms});
    f.config.pipeline_depth = 4;
    f.config.pipeline_depth_max = 4;
    constexpr std::uint32_t batch_count = 6;
    std::uint64_t events_sent = 0;
    const auto started = std::chrono::steady_clock::now();
    for (std::uint32_t i = 0; i < batch_count; ++i) {
        const std::uint32_t events = 10 + 200 * i;  // up to ~1,000 events of 200 bytes: many records
        f.queue_batch(i, ndjson(events, 150), events);
        events_sent += events;
    }
    REQUIRE(f.run_until_settled(batch_count));
    const auto elapsed_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    INFO("fatal error: " << f.transport().fatal_error());
    for (std::uint32_t i = 0; i < batch_count; ++i) {
        const Settled& settled = f.harness.settled[i];
        CHECK(settled.slot_index == i);  // answers settle their own batches, in order
        CHECK(settled.verdict == Verdict::acked);
        CHECK(settled.acked_events == 10 + 200 * i);
    }
    CHECK(elapsed_ms < 4 * delay_ms);
    CHECK(f.server->stats().events == events_sent);
    CHECK(f.server->stats().requests == batch_count);
    CHECK(f.counters().connects == 1);
    CHECK(f.counters().requests_ambiguous == 0);
    CHECK(f.transport().tls_counters().handshakes == 1);
}

TEST_CASE("https: a pipelined connection near its key's record limit drains and renews and nothing is lost",
          "[tls][sealer][pipeline]") {
    Fixture f({.shape = {.slots = 4, .body_bytes_max = 2 * 1024 * 1024}});
    f.config.pipeline_depth = 4;
    f.config.pipeline_depth_max = 4;
    f.config.tls.records_per_key_renew = 600;  // batches of ~64 records; a 2 MiB slot could take 128
    f.config.tls.records_per_key_max = 700;
    const std::string body = ndjson(1000, 1000);
    for (std::uint32_t round = 0; round < 4; ++round) {
        for (std::uint32_t i = 0; i < 4; ++i) f.queue_batch(i, body, 1000);
        REQUIRE(f.run_until_settled(4 * (round + 1)));
    }
    INFO("fatal error: " << f.transport().fatal_error());
    CHECK(f.transport().fatal_error().empty());
    for (const Settled& settled : f.harness.settled) CHECK(settled.verdict == Verdict::acked);
    CHECK(f.server->stats().events == 16 * 1000);
    const TlsCounters& tls = f.transport().tls_counters();
    CHECK(tls.renewals >= 1);
    CHECK(tls.handshakes == tls.renewals + 1);
    CHECK(f.counters().disconnects == 0);
    CHECK(f.counters().requests_ambiguous == 0);
}

TEST_CASE("https: TLS 1.2 works too", "[tls]") {
    Fixture f;
    f.config.tls.max_version = TLS1_2_VERSION;
    CHECK(send_batches(f, 5, 10) == 50);
    CHECK(f.server->stats().events == 50);
    CHECK(f.transport().tls_counters().last_version == "TLSv1.2");
}

TEST_CASE("https: a certificate for the IP address verifies when the URL names the address", "[tls]") {
    Fixture f({.server_name = "127.0.0.1"});
    CHECK(send_batches(f, 2, 10) == 20);
    CHECK(f.server->stats().events == 20);
}

TEST_CASE("https: a reconnect resumes the kept session (TLS 1.3 ticket and TLS 1.2)", "[tls]") {
    const int version = GENERATE(0, TLS1_2_VERSION);
    INFO("max version " << (version == 0 ? "TLS 1.3" : "TLS 1.2"));
    // A body over the sink's limit is answered 413 with Connection: close,
    // which makes the transport open a new connection.
    Fixture f({.max_body_bytes = 4096});
    f.config.tls.max_version = version;

    CHECK(send_batches(f, 1, 5) == 5);
    f.queue_batch(1, ndjson(100, 100), 100);  // ~13 KB > 4096
    REQUIRE(f.run_until_settled(2));
    CHECK(f.harness.settled.back().verdict == Verdict::failed);
    CHECK(f.harness.settled.back().reason == FailReason::rejected);
    CHECK(send_batches(f, 2, 5) == 10);

    CHECK(f.server->stats().events == 15);
    CHECK(f.counters().connects == 2);
    CHECK(f.transport().tls_counters().handshakes == 2);
    CHECK(f.transport().tls_counters().resumed == 1);
}

TEST_CASE("https: a certificate from an unknown CA stops the sink and names the check and --ca-file", "[tls]") {
    const std::string message = fatal_error_for("untrusted.pem");
    INFO(message);
    CHECK(message.find("certificate authority") != std::string::npos);
    CHECK(message.find("unable to get local issuer certificate") != std::string::npos);
    CHECK(message.find("--ca-file") != std::string::npos);
}

TEST_CASE("https: a certificate for another name stops the sink and names the host and the certificate's names",
          "[tls]") {
    const std::string message = fatal_error_for("wrong-name.pem");
    INFO(message);
    CHECK(message.find("host name") != std::string::npos);
    CHECK(message.find("hostname mismatch") != std::string::npos);
    CHECK(message.find("'localhost'") != std::string::npos);
    CHECK(message.find("DNS:wrong.example") != std::string::npos);
}

TEST_CASE("https: an expired certificate stops the sink and says when it expired", "[tls]") {
    const std::string message = fatal_error_for("expired.pem");
    INFO(message);
    CHECK(message.find("validity period") != std::string::npos);
    CHECK(message.find("certificate has expired") != std::string::npos);
    CHECK(message.find("2020") != std::string::npos);
}

TEST_CASE("https: the system store (no --ca-file) does not trust the test CA", "[tls]") {
    Fixture f;
    f.config.tls.ca_file.clear();
    f.queue_batch(0, ndjson(3), 3);
    REQUIRE(f.run([&] { return !f.transport().fatal_error().empty(); }));
    INFO(f.transport().fatal_error());
    CHECK(f.transport().fatal_error().find("system store") != std::string::npos);
}

TEST_CASE("https: skip-verify accepts any certificate", "[tls]") {
    Fixture f({.certificate = "untrusted.pem"});
    f.config.tls.skip_verify = true;
    CHECK(send_batches(f, 2, 10) == 20);
    CHECK(f.server->stats().events == 20);
}

TEST_CASE("https: an unreadable CA file is refused when the transport is made", "[tls]") {
    HttpFixture f;
    f.config = tls_config(1, f.harness);
    f.config.tls.ca_file = pki_file("no-such-ca.pem");
    try {
        (void)f.transport();
        FAIL("a missing CA file was accepted");
    } catch (const TlsError& error) {
        const std::string message = error.what();
        INFO(message);
        CHECK(message.find("no-such-ca.pem") != std::string::npos);
        CHECK(message.find("--ca-file") != std::string::npos);
    }
}

TEST_CASE("https: TLS to a plain HTTP server fails with a reason instead of hanging", "[tls]") {
    supervent::sink::ServerConfig plain;
    plain.host = "127.0.0.1";
    plain.port = 0;
    supervent::sink::Server server(plain);
    server.start();
    HttpFixture f;
    f.config = tls_config(server.port(), f.harness);
    f.queue_batch(0, ndjson(3), 3);
    REQUIRE(f.run([&] { return !f.transport().fatal_error().empty(); }));
    INFO(f.transport().fatal_error());
    CHECK(f.transport().fatal_error().find("TLS handshake with localhost failed") != std::string::npos);
}

TEST_CASE("https: kernel TLS is used where the kernel has it or else the user-space path is chosen and says why",
          "[tls][ktls]") {
    Fixture f;
    f.config.tls.ktls = true;
    CHECK(send_batches(f, 10, 20) == 200);
    CHECK(f.server->stats().events == 200);
    const TlsCounters& tls = f.transport().tls_counters();
    if (tls.ktls_connections > 0) {
        CHECK(tls.ktls_unavailable_errno == 0);
        std::printf("kTLS RAN: the kernel encrypted the requests of %llu connection(s)\n",
                    static_cast<unsigned long long>(tls.ktls_connections));
    } else {
        // The fallback: the probe failed and said why, and no connection tried again.
        CHECK(tls.ktls_unavailable_errno != 0);
        CHECK(tls.sealed_connections > 0);  // the keys the kernel could not take went to the sealer
        std::printf("kTLS DID NOT RUN: this kernel has no TLS ULP (setsockopt TCP_ULP \"tls\": %s); "
                    "checked instead that the user-space fallback was chosen and delivered every event\n",
                    std::strerror(tls.ktls_unavailable_errno));
        WARN("kTLS did not run on this kernel (" << std::strerror(tls.ktls_unavailable_errno)
                                                  << "); only the fallback was tested");
    }
}
