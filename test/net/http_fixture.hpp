#pragma once
// What every HttpTransport test (plain HTTP or HTTPS) builds first: a harness
// of slots over a ring, a config for a loopback sink, and the transport made
// from that config, driven by the harness.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "harness.hpp"
#include "net/http_transport.hpp"

namespace supervent::net::test {

inline constexpr std::int64_t ms_ns = 1'000'000;
inline constexpr std::int64_t s_ns = 1'000'000'000;

// A sink on 127.0.0.1:port, one connection, timeouts well inside the
// harness's 5 s limit and short reconnect backoffs.
inline HttpTransportConfig loopback_config(std::uint16_t port, const std::string& host, const std::string& dataset) {
    HttpTransportConfig config;
    const sockaddr_in address = loopback_address(port);
    std::memcpy(&config.address, &address, sizeof address);
    config.address_bytes = sizeof address;
    config.target.host_header = host + ":" + std::to_string(port);
    config.target.path = ingest_path("", dataset);
    config.target.token = "test-token";
    config.connections = 1;
    config.connect_timeout_ns = 2 * s_ns;
    config.request_timeout_ns = 3 * s_ns;
    config.reconnect_backoff_min_ns = 10 * ms_ns;
    config.reconnect_backoff_max_ns = 100 * ms_ns;
    return config;
}

// The harness's shape: slot count, body room per slot, spare entries in the
// ring's buffer table (for HTTPS ciphertext buffers).
struct HarnessShape {
    std::uint32_t slots = 4;
    std::size_t body_bytes_max = 64 * 1024;
    std::uint32_t spare_buffers = bounds::connections_per_shard_max;
};

class HttpFixture {
public:
    explicit HttpFixture(HarnessShape shape = {}) : harness(shape.slots, shape.body_bytes_max, shape.spare_buffers) {}

    // Made from `config` on first use: a test changes config before that.
    HttpTransport& transport() {
        if (!transport_) transport_.emplace(harness.ring, harness, config);
        return *transport_;
    }
    const TransportCounters& counters() { return transport().counters(); }

    template <typename Done>
    bool run(Done&& done, std::int64_t limit_ns = 5 * s_ns) {
        return harness.run(transport(), std::forward<Done>(done), limit_ns);
    }
    bool run_until_settled(std::size_t settled_count, std::int64_t limit_ns = 5 * s_ns) {
        return harness.run_until_settled(transport(), settled_count, limit_ns);
    }
    void run_idle(std::int64_t duration_ns) { harness.run_idle(transport(), duration_ns); }
    Slot& queue_batch(std::uint32_t slot_index, const std::string& body, std::uint32_t events) {
        return harness.queue_batch(slot_index, body, events);
    }

    // One request: queue a batch, run until it settles.
    const Settled& send_one(std::uint32_t slot_index, const std::string& body, std::uint32_t events) {
        const std::size_t before = harness.settled.size();
        queue_batch(slot_index, body, events);
        REQUIRE(run_until_settled(before + 1));
        REQUIRE(harness.settled.size() == before + 1);
        CHECK(harness.settled.back().slot_index == slot_index);
        CHECK(harness.settled.back().events == events);
        return harness.settled.back();
    }

    Harness harness;
    HttpTransportConfig config;

private:
    std::optional<HttpTransport> transport_;
};

}  // namespace supervent::net::test
