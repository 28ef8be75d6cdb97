// Proves that a warmed-up connection handles requests without allocating:
// global operator new is counted (its own test program, so the counting
// touches no other test), and the client side reads into a fixed buffer.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <zstd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "sink/server.hpp"
#include "test/common/alloc_counter.hpp"
#include "test/sink/sink_test_client.hpp"

namespace {

using namespace supervent::sink;

// Reads exactly one response into `buffer` without allocating; returns its status.
int read_response_in_place(int fd, char* buffer, std::size_t capacity) {
    std::size_t used = 0;
    for (;;) {
        const ssize_t got = ::recv(fd, buffer + used, capacity - used, 0);
        if (got <= 0) return -1;
        used += static_cast<std::size_t>(got);
        const char* head_end = static_cast<const char*>(memmem(buffer, used, "\r\n\r\n", 4));
        if (head_end == nullptr) continue;
        const char* length = static_cast<const char*>(memmem(buffer, used, "Content-Length: ", 16));
        if (length == nullptr) return -1;
        const std::size_t body_bytes = std::strtoul(length + 16, nullptr, 10);
        if (used >= static_cast<std::size_t>(head_end + 4 - buffer) + body_bytes) return std::atoi(buffer + 9);
    }
}

std::uint64_t allocations_for_requests(const ServerConfig& base, const std::string& request, int count) {
    ServerConfig config = base;
    config.host = "127.0.0.1";
    config.port = 0;
    Server server(config);
    server.start();
    sink_test::Client client(server.port());
    char buffer[16384];
    for (int i = 0; i < 5; ++i) {  // warm up: buffers, parser and dataset entry grow here
        client.send(request);
        REQUIRE(read_response_in_place(client.fd(), buffer, sizeof buffer) == 200);
    }
    const std::uint64_t before = supervent::test::heap_allocations();
    for (int i = 0; i < count; ++i) {
        client.send(request);
        if (read_response_in_place(client.fd(), buffer, sizeof buffer) != 200) FAIL("request failed");
    }
    const std::uint64_t after = supervent::test::heap_allocations();
    server.stop();
    return after - before;
}

}  // namespace

TEST_CASE("allocation: warmed-up NDJSON and zstd requests allocate nothing", "[sink][alloc]") {
    const std::string body = sink_test::ndjson(2000, 570);
    const std::string plain = sink_test::post("/v1/datasets/a/ingest", body);
    CHECK(allocations_for_requests({}, plain, 50) == 0);

    std::string compressed(ZSTD_compressBound(body.size()), '\0');
    compressed.resize(ZSTD_compress(compressed.data(), compressed.size(), body.data(), body.size(), 1));
    const std::string zstd_request = sink_test::post("/v1/datasets/a/ingest", compressed, "Content-Encoding: zstd\r\n");
    CHECK(allocations_for_requests({}, zstd_request, 50) == 0);
}

TEST_CASE("allocation: --verify allocates at most twice per request", "[sink][alloc]") {
    // simdjson's document_stream allocates its (unused) stage-1 worker when
    // constructed: once for parse_many's result, once for the local it moves into.
    ServerConfig config;
    config.verify = true;
    const std::string request = sink_test::post("/v1/datasets/a/ingest", sink_test::ndjson(2000, 570));
    CHECK(allocations_for_requests(config, request, 50) <= 100);
}
