// The dashboard's side of the metrics listener: /api/status, /healthz, the
// embedded page, and control actions that need the dashboard token.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "daemon/metrics_server.hpp"
#include "web/assets.hpp"

using namespace supervent::daemon;
using supervent::test::http_exchange;
using supervent::test::IoThread;
using Catch::Matchers::Contains;

namespace {

constexpr const char* token = "0123456789abcdef-secret";

// A listener whose status, health and control are the test's own.
struct Listener {
    IoThread io;
    bool healthy = true;
    std::vector<std::string> requests;  // control requests handed to the control thread
    std::unique_ptr<MetricsServer> server;

    explicit Listener(std::string control_token) {
        MetricsEndpoints endpoints;
        endpoints.metrics = [] { return std::string("supervent_up 1\n"); };
        endpoints.status = [] { return std::string(R"({"ok":true,"state":"running"})"); };
        endpoints.healthy = [this] { return healthy; };
        endpoints.control = [this](std::string request, std::function<void(std::string)> respond) {
            requests.push_back(request);
            respond(R"({"ok":true})");
        };
        endpoints.control_token = std::move(control_token);
        server = std::make_unique<MetricsServer>(io.io, "127.0.0.1:0", std::move(endpoints));
        io.start();
    }
    std::string get(const std::string& path) {
        return http_exchange(server->port(), "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    }
    // POST /api/control/ACTION as the page sends it, from the page's own origin.
    std::string post(const std::string& action, const std::string& body, const std::string& headers) {
        const std::string host = server->address();
        return http_exchange(server->port(), "POST /api/control/" + action + " HTTP/1.1\r\nHost: " + host +
                                                 "\r\nOrigin: http://" + host + "\r\n" + headers +
                                                 "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    }
};

std::string with_token(const std::string& value) { return "X-Supervent-Token: " + value + "\r\n"; }

}  // namespace

TEST_CASE("/api/status is the status JSON, /healthz follows the shards", "[dashboard]") {
    Listener listener("");
    const std::string status = listener.get("/api/status");
    CHECK_THAT(status, Contains("HTTP/1.1 200 OK"));
    CHECK_THAT(status, Contains("Content-Type: application/json"));
    CHECK_THAT(status, Contains("Cache-Control: no-store"));
    CHECK_THAT(status, Contains("\r\n\r\n{\"ok\":true,\"state\":\"running\"}"));
    CHECK_THAT(listener.get("/healthz"), Contains("HTTP/1.1 200 OK"));
    listener.healthy = false;
    CHECK_THAT(listener.get("/healthz"), Contains("HTTP/1.1 503"));
    CHECK_THAT(listener.get("/metrics"), Contains("supervent_up 1"));
}

TEST_CASE("a listener with /metrics only answers /api/status 404 and /healthz 503", "[dashboard]") {
    IoThread io;
    MetricsServer server(io.io, "127.0.0.1:0", [] { return std::string("supervent_up 1\n"); });
    io.start();
    CHECK_THAT(http_exchange(server.port(), "GET /api/status HTTP/1.1\r\n\r\n"), Contains("404 Not Found"));
    CHECK_THAT(http_exchange(server.port(), "GET /healthz HTTP/1.1\r\n\r\n"), Contains("503"));
}

TEST_CASE("the page is embedded, self-contained and small", "[dashboard]") {
    Listener listener("");
    const std::string page = listener.get("/");
    CHECK_THAT(page, Contains("HTTP/1.1 200 OK"));
    CHECK_THAT(page, Contains("text/html"));
    CHECK_THAT(page, Contains("Content-Security-Policy: default-src 'self'"));
    CHECK_THAT(page, Contains("/dashboard.js"));
    CHECK_THAT(listener.get("/dashboard.js"), Contains("/api/status"));
    CHECK_THAT(listener.get("/dashboard.css"), Contains("text/css"));
    CHECK(supervent::web::assets_bytes() < 300 * 1024);
    // Nothing from elsewhere: no absolute URL in any asset.
    for (const char* path : {"/", "/dashboard.js", "/dashboard.css"}) {
        const supervent::web::Asset* asset = supervent::web::find_asset(path);
        REQUIRE(asset != nullptr);
        CHECK(asset->body.find("http://") == std::string_view::npos);
        CHECK(asset->body.find("https://") == std::string_view::npos);
    }
    CHECK_THAT(listener.get("/nothing"), Contains("404"));
}

TEST_CASE("without a dashboard token every control action is refused", "[dashboard]") {
    Listener listener("");
    const std::string reply = listener.post("pause", "", with_token(token));
    CHECK_THAT(reply, Contains("403 Forbidden"));
    CHECK_THAT(reply, Contains("monitoring.dashboard_token_file"));
    CHECK(listener.requests.empty());
}

TEST_CASE("with a dashboard token: the right header, the page's origin, POST only", "[dashboard]") {
    Listener listener(token);
    CHECK_THAT(listener.post("pause", "", ""), Contains("403 Forbidden"));
    CHECK_THAT(listener.post("pause", "", with_token("0123456789abcdef-secreT")), Contains("403 Forbidden"));
    CHECK_THAT(listener.get("/api/control/pause"), Contains("405"));
    // A page elsewhere that somehow has the token is still refused.
    const std::string cross = http_exchange(listener.server->port(),
                                            "POST /api/control/pause HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: "
                                            "http://evil.example\r\n" + with_token(token) + "Content-Length: 0\r\n\r\n");
    CHECK_THAT(cross, Contains("403 Forbidden"));
    CHECK(listener.requests.empty());

    CHECK_THAT(listener.post("pause", "", with_token(token)), Contains("200 OK"));
    CHECK_THAT(listener.post("rate", "5000", with_token(token)), Contains("200 OK"));
    CHECK_THAT(listener.post("rate", "1\"}", with_token(token)), Contains("400 Bad Request"));
    CHECK_THAT(listener.post("stop", "", with_token(token)), Contains("400 Bad Request"));
    REQUIRE(listener.requests.size() == 2);
    CHECK(listener.requests[0] == R"({"cmd":"pause"})");
    CHECK(listener.requests[1] == R"({"cmd":"rate","value":"5000"})");
    // The token is in no answer.
    for (const char* path : {"/", "/dashboard.js", "/api/status", "/metrics"}) {
        CHECK(listener.get(path).find(token) == std::string::npos);
    }
}

TEST_CASE("the dashboard token file: trimmed, at least 16 characters, never quoted", "[dashboard]") {
    char path[] = "/tmp/supervent-dashboard-token-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    auto write = [&](const char* text) {
        std::FILE* file = std::fopen(path, "w");
        std::fputs(text, file);
        std::fclose(file);
    };
    write("  0123456789abcdef-secret\n");
    CHECK(read_dashboard_token(path) == token);
    write("short-secret\n");
    try {
        (void)read_dashboard_token(path);
        FAIL("a short token was taken");
    } catch (const std::runtime_error& error) {
        CHECK_THAT(error.what(), Contains("monitoring.dashboard_token_file"));
        CHECK(std::string(error.what()).find("short-secret") == std::string::npos);
    }
    ::unlink(path);
    CHECK_THROWS_WITH(read_dashboard_token(path), Contains("cannot open"));
}
