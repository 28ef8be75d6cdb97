// Loopback tests of the sink's server: real sockets, the server in-process on
// an ephemeral port, requests written byte for byte by a raw client.
#include <catch2/catch.hpp>

#include <simdjson.h>
#include <zstd.h>
#ifdef SUPERVENT_SINK_HAVE_ZLIB
#include <zlib.h>
#endif

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "sink/body.hpp"
#include "sink/server.hpp"
#include "test/sink/sink_test_client.hpp"

using namespace supervent::sink;
using sink_test::Client;
using sink_test::ndjson;
using sink_test::post;
using sink_test::Response;

namespace {

struct RunningServer {
    explicit RunningServer(ServerConfig config = {}) : server((config.port = 0, config.host = "127.0.0.1", config)) {
        server.start();
    }
    ~RunningServer() { server.stop(); }
    std::uint16_t port() const { return server.port(); }
    Server server;
};

std::uint64_t json_uint(const std::string& json, const char* key) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    REQUIRE_FALSE(parser.parse(json).get(root));
    std::uint64_t value = 0;
    REQUIRE_FALSE(root[key].get(value));
    return value;
}

std::string zstd_compress(const std::string& text, bool with_content_size) {
    std::string out(ZSTD_compressBound(text.size()), '\0');
    ZSTD_CCtx* context = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, with_content_size ? 1 : 0);
    std::size_t size = 0;
    if (with_content_size) {
        size = ZSTD_compress2(context, out.data(), out.size(), text.data(), text.size());
    } else {
        // Streaming compression leaves the content size out of the frame header.
        ZSTD_inBuffer in{text.data(), text.size(), 0};
        ZSTD_outBuffer o{out.data(), out.size(), 0};
        while (ZSTD_compressStream2(context, &o, &in, ZSTD_e_end) != 0) {
        }
        size = o.pos;
    }
    ZSTD_freeCCtx(context);
    REQUIRE_FALSE(ZSTD_isError(size));
    out.resize(size);
    return out;
}

#ifdef SUPERVENT_SINK_HAVE_ZLIB
std::string gzip_compress(const std::string& text) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, text.size()) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}
#endif

}  // namespace

TEST_CASE("server: NDJSON events are counted exactly", "[sink][server]") {
    RunningServer s;
    Client client(s.port());
    const std::string body = ndjson(1234, 570);
    client.send(post("/v1/datasets/web/ingest", body, "Content-Type: application/x-ndjson\r\n"));
    const Response r = client.read_response();
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type") == "application/json");
    CHECK(json_uint(r.body, "ingested") == 1234);
    CHECK(json_uint(r.body, "failed") == 0);
    CHECK(json_uint(r.body, "processedBytes") == body.size());
    const StatsSnapshot stats = s.server.stats();
    CHECK(stats.requests == 1);
    CHECK(stats.events == 1234);
    CHECK(stats.bytes_wire == body.size());
    CHECK(stats.bytes_decoded == body.size());
    CHECK(stats.datasets.at("web").events == 1234);
}

TEST_CASE("server: zstd bodies with and without a declared content size", "[sink][server]") {
    RunningServer s;
    Client client(s.port());
    const std::string body = ndjson(5000, 300);
    std::uint64_t wire_bytes = 0;
    for (bool with_size : {true, false}) {
        const std::string compressed = zstd_compress(body, with_size);
        wire_bytes += compressed.size();
        client.send(post("/v1/datasets/z/ingest", compressed, "Content-Encoding: zstd\r\n"));
        const Response r = client.read_response();
        REQUIRE(r.status == 200);
        CHECK(json_uint(r.body, "ingested") == 5000);
    }
    // Two frames back to back are one body too.
    const std::string two = zstd_compress(ndjson(10), true) + zstd_compress(ndjson(7), false);
    wire_bytes += two.size();
    client.send(post("/v1/datasets/z/ingest", two, "Content-Encoding: zstd\r\n"));
    CHECK(json_uint(client.read_response().body, "ingested") == 17);

    client.send(post("/v1/datasets/z/ingest", "not zstd at all", "Content-Encoding: zstd\r\n"));
    CHECK(client.read_response().status == 400);

    const StatsSnapshot stats = s.server.stats();
    CHECK(stats.events == 10017);
    CHECK(stats.bytes_wire == wire_bytes);
    CHECK(stats.bytes_decoded == 2 * body.size() + ndjson(10).size() + ndjson(7).size());
    CHECK(stats.rejected_requests == 1);
}

TEST_CASE("server: gzip bodies", "[sink][server]") {
    RunningServer s;
    Client client(s.port());
#ifndef SUPERVENT_SINK_HAVE_ZLIB
    client.send(post("/v1/ingest/g", "\x1f\x8b not really gzip", "Content-Encoding: gzip\r\n"));
    CHECK(client.read_response().status == 415);
#else
    client.send(post("/v1/ingest/g", gzip_compress(ndjson(321)), "Content-Encoding: gzip\r\n"));
    const Response r = client.read_response();
    REQUIRE(r.status == 200);
    CHECK(json_uint(r.body, "ingested") == 321);
    // Two gzip members back to back, as `cat a.gz b.gz` makes.
    client.send(post("/v1/ingest/g", gzip_compress(ndjson(2)) + gzip_compress(ndjson(3)), "Content-Encoding: gzip\r\n"));
    CHECK(json_uint(client.read_response().body, "ingested") == 5);
#endif
}

TEST_CASE("server: chunked request bodies", "[sink][server]") {
    RunningServer s;
    Client client(s.port());
    const std::string body = ndjson(100);
    std::string request = "POST /v1/datasets/c/ingest HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (std::size_t pos = 0; pos < body.size(); pos += 777) {
        const std::string piece = body.substr(pos, 777);
        char size[32];
        std::snprintf(size, sizeof size, "%zx;ext=1\r\n", piece.size());
        request += size + piece + "\r\n";
    }
    request += "0\r\nX-Trailer: 1\r\n\r\n";
    client.send(request);
    const Response r = client.read_response();
    REQUIRE(r.status == 200);
    CHECK(json_uint(r.body, "ingested") == 100);
    CHECK(s.server.stats().bytes_wire == body.size());
    // The connection stays usable.
    client.send(post("/v1/datasets/c/ingest", ndjson(2)));
    CHECK(json_uint(client.read_response().body, "ingested") == 2);
}

TEST_CASE("server: Expect: 100-continue gets an interim answer before the body", "[sink][server]") {
    RunningServer s;
    Client client(s.port());
    const std::string body = ndjson(10);
    client.send("POST /v1/ingest/e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n");
    const Response interim = client.read_response();
    CHECK(interim.status == 100);
    client.send(body);
    const Response r = client.read_response();
    REQUIRE(r.status == 200);
    CHECK(json_uint(r.body, "ingested") == 10);
}

TEST_CASE("server: two pipelined requests in one write get two answers in order", "[sink][server]") {
    RunningServer s;
    Client client(s.port());
    client.send(post("/v1/datasets/a/ingest", ndjson(3)) + post("/v1/datasets/b/ingest", ndjson(5)));
    CHECK(json_uint(client.read_response().body, "ingested") == 3);
    CHECK(json_uint(client.read_response().body, "ingested") == 5);
    const StatsSnapshot stats = s.server.stats();
    CHECK(stats.datasets.at("a").events == 3);
    CHECK(stats.datasets.at("b").events == 5);
}

TEST_CASE("server: a request sent one byte per write", "[sink][server]") {
    RunningServer s;
    Client client(s.port());
    const std::string request = post("/v1/datasets/slow/ingest", ndjson(4), "Content-Type: application/x-ndjson\r\n");
    for (char byte : request) client.send(std::string_view(&byte, 1));
    const Response r = client.read_response();
    REQUIRE(r.status == 200);
    CHECK(json_uint(r.body, "ingested") == 4);
}

TEST_CASE("server: bodies larger than the initial read buffer", "[sink][server]") {
    ServerConfig config;
    config.read_buffer_bytes = 64 * 1024;
    RunningServer s(config);
    Client client(s.port());
    const std::string body = ndjson(10'000, 570);  // ~5.7 MB
    for (int i = 0; i < 3; ++i) {
        client.send(post("/v1/datasets/big/ingest", body));
        CHECK(json_uint(client.read_response().body, "ingested") == 10'000);
    }
    CHECK(s.server.stats().events == 30'000);
}

TEST_CASE("server: the edge path - query strings - per-dataset counts - GET /stats", "[sink][server]") {
    RunningServer s;
    Client client(s.port());
    client.send(post("/v1/ingest/edge?timestamp-field=_time", ndjson(7)));
    CHECK(json_uint(client.read_response().body, "ingested") == 7);
    client.send(post("/v1/datasets/other/ingest", ndjson(2)));
    CHECK(client.read_response().status == 200);
    client.send(post("/v1/ingest/edge", ndjson(1)));
    CHECK(client.read_response().status == 200);

    client.send("GET /stats HTTP/1.1\r\nHost: t\r\n\r\n");
    const Response r = client.read_response();
    REQUIRE(r.status == 200);
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    REQUIRE_FALSE(parser.parse(r.body).get(root));
    CHECK(std::uint64_t(root["requests"]) == 3);
    CHECK(std::uint64_t(root["events"]) == 10);
    CHECK(std::uint64_t(root["datasets"]["edge"]["requests"]) == 2);
    CHECK(std::uint64_t(root["datasets"]["edge"]["events"]) == 8);
    CHECK(std::uint64_t(root["datasets"]["other"]["events"]) == 2);
    CHECK(std::uint64_t(root["invalid_events"]) == 0);
}

TEST_CASE("server: 404 405 415 keep the connection - 413 closes it", "[sink][server]") {
    ServerConfig config;
    config.max_body_bytes = 1000;
    RunningServer s(config);
    Client client(s.port());
    client.send(post("/v1/nothing/here", "{}\n"));
    Response r = client.read_response();
    CHECK(r.status == 404);
    CHECK(json_uint(r.body, "code") == 404);

    client.send("GET /v1/datasets/x/ingest HTTP/1.1\r\nHost: t\r\n\r\n");
    r = client.read_response();
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "POST");

    client.send(post("/stats", "{}\n"));
    CHECK(client.read_response().status == 405);

    client.send(post("/v1/ingest/x", "{}\n", "Content-Type: text/plain\r\n"));
    r = client.read_response();
    CHECK(r.status == 415);
    CHECK(r.body.find("text/plain") != std::string::npos);

    client.send(post("/v1/ingest/x", "{}\n"));
    CHECK(client.read_response().status == 200);

    client.send(post("/v1/ingest/x", std::string(1001, 'x')));
    r = client.read_response();
    CHECK(r.status == 413);
    CHECK(r.header("connection") == "close");
    CHECK(client.closed_by_peer());
    CHECK(s.server.stats().rejected_requests == 3);  // 405 on ingest, 415, 413
}

TEST_CASE("server: malformed HTTP gets 400 and the connection is closed", "[sink][server]") {
    RunningServer s;
    Client client(s.port());
    client.send("THIS IS NOT HTTP\r\n\r\n");
    const Response r = client.read_response();
    CHECK(r.status == 400);
    CHECK(client.closed_by_peer());
}

TEST_CASE("server: Connection: close is honoured", "[sink][server]") {
    RunningServer s;
    Client client(s.port());
    client.send(post("/v1/ingest/x", ndjson(2), "Connection: close\r\n"));
    const Response r = client.read_response();
    CHECK(r.status == 200);
    CHECK(r.header("connection") == "close");
    CHECK(client.closed_by_peer());
}

TEST_CASE("server: --verify reports invalid events in failed and failures", "[sink][server]") {
    ServerConfig config;
    config.verify = true;
    RunningServer s(config);
    Client client(s.port());
    std::string body = ndjson(5);
    body += "{\"broken\":\n";
    body += "42\n";
    body += ndjson(3);
    client.send(post("/v1/datasets/v/ingest", body));
    const Response r = client.read_response();
    REQUIRE(r.status == 200);
    CHECK(json_uint(r.body, "ingested") == 8);
    CHECK(json_uint(r.body, "failed") == 2);
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    REQUIRE_FALSE(parser.parse(r.body).get(root));
    simdjson::dom::array failures;
    REQUIRE_FALSE(root["failures"].get(failures));
    REQUIRE(failures.size() == 2);
    std::string_view error;
    REQUIRE_FALSE(failures.at(0)["error"].get(error));
    CHECK(error.starts_with("event 5: "));
    REQUIRE_FALSE(failures.at(1)["error"].get(error));
    CHECK(error == "event 6: event is not a JSON object");
    std::string_view timestamp;
    REQUIRE_FALSE(failures.at(0)["timestamp"].get(timestamp));
    CHECK(timestamp.size() == 30);  // 2024-01-01T00:00:00.000000000Z

    const StatsSnapshot stats = s.server.stats();
    CHECK(stats.events == 8);
    CHECK(stats.invalid_events == 2);
    CHECK(stats.datasets.at("v").events == 8);
}

TEST_CASE("server: JSON array bodies", "[sink][server]") {
    ServerConfig config;
    config.verify = true;
    RunningServer s(config);
    Client client(s.port());
    client.send(post("/v1/ingest/arr", "[{\"a\":1},{\"b\":2},3]", "Content-Type: application/json\r\n"));
    Response r = client.read_response();
    CHECK(json_uint(r.body, "ingested") == 2);
    CHECK(json_uint(r.body, "failed") == 1);
    client.send(post("/v1/ingest/arr", "[{\"a\":1},", "Content-Type: application/json\r\n"));
    CHECK(client.read_response().status == 400);
}

TEST_CASE("server: several connections over several I/O threads", "[sink][server]") {
    ServerConfig config;
    config.threads = 2;
    RunningServer s(config);
    std::vector<std::thread> senders;
    for (int t = 0; t < 4; ++t) {
        senders.emplace_back([&s, t] {
            Client client(s.port());
            for (int i = 0; i < 25; ++i) {
                client.send(post("/v1/datasets/d" + std::to_string(t) + "/ingest", ndjson(40)));
                if (client.read_response().status != 200) return;
            }
        });
    }
    for (auto& sender : senders) sender.join();
    const StatsSnapshot stats = s.server.stats();
    CHECK(stats.requests == 100);
    CHECK(stats.events == 4000);
    CHECK(stats.datasets.size() == 4);
}

TEST_CASE("server faults: injected statuses carry Axiom's limit headers", "[sink][server][faults]") {
    for (int status : {503, 429, 430}) {
        ServerConfig config;
        config.faults = FaultPlan::parse("status=" + std::to_string(status) + "@100%", 1);
        RunningServer s(config);
        Client client(s.port());
        client.send(post("/v1/ingest/f", ndjson(3)));
        const Response r = client.read_response();
        CHECK(r.status == status);
        if (status == 429) {
            CHECK(r.header("x-ratelimit-remaining") == "0");
            CHECK_FALSE(r.header("x-ratelimit-reset").empty());
        }
        if (status == 430) CHECK(r.header("x-ingestlimit-remaining") == "0");
        // Still alive: the sink answered instead of ingesting.
        client.send("GET /stats HTTP/1.1\r\n\r\n");
        CHECK(client.read_response().status == 200);
        const StatsSnapshot stats = s.server.stats();
        CHECK(stats.events == 0);
        CHECK(stats.faults_injected == 1);
        CHECK(stats.rejected_requests == 1);
    }
}

TEST_CASE("server faults: close and delay", "[sink][server][faults]") {
    {
        ServerConfig config;
        config.faults = FaultPlan::parse("close@100%", 1);
        RunningServer s(config);
        Client client(s.port());
        client.send(post("/v1/ingest/f", ndjson(3)));
        CHECK(client.closed_by_peer());
        CHECK(s.server.stats().events == 0);
    }
    {
        ServerConfig config;
        config.faults = FaultPlan::parse("delay=200ms@100%", 1);
        RunningServer s(config);
        Client client(s.port());
        const auto start = std::chrono::steady_clock::now();
        client.send(post("/v1/ingest/f", ndjson(3)));
        CHECK(json_uint(client.read_response().body, "ingested") == 3);
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(200));
    }
    {
        ServerConfig config;
        // The first read (up to the 1 MiB buffer) comes before the decision;
        // the rest of a 3 MB body at 4 MiB/s takes about half a second.
        config.faults = FaultPlan::parse("slow_read=4MiB/s@100%", 1);
        RunningServer s(config);
        Client client(s.port());
        const std::string body = ndjson(30'000, 100);
        std::thread sender([&] { client.send(post("/v1/ingest/f", body)); });
        const auto start = std::chrono::steady_clock::now();
        const Response r = client.read_response();
        sender.join();
        CHECK(json_uint(r.body, "ingested") == 30'000);
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(250));
    }
}
