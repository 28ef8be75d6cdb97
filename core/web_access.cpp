// The default scenario. Weights are rough shares of real API traffic: mostly
// successful GETs, a tail of client and server errors.
#include <array>
#include <string_view>

#include "core/scenarios.hpp"

namespace supervent::core {
namespace {

constexpr std::array<std::string_view, 6> methods = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"};
constexpr std::array<double, 6> method_weights = {70, 15, 5, 3, 3, 4};

constexpr std::array<std::string_view, 20> paths = {
    "/api/v1/users",          "/api/v1/users/profile",   "/api/v1/orders",
    "/api/v1/orders/history", "/api/v1/products",        "/api/v1/products/search",
    "/api/v1/cart",           "/api/v1/checkout",        "/api/v1/payments",
    "/api/v1/auth/login",     "/api/v1/auth/logout",     "/api/v1/auth/refresh",
    "/api/v1/inventory",      "/api/v1/reviews",         "/api/v1/notifications",
    "/api/v1/search",         "/api/v2/recommendations", "/health",
    "/metrics",               "/static/js/app.js",
};
constexpr std::array<double, 20> path_weights = {10, 6, 8, 3, 12, 8, 5, 2, 2, 4, 1, 3, 2, 3, 4, 6, 3, 10, 5, 3};

constexpr std::array<std::string_view, 2> protocols = {"HTTP/1.1", "HTTP/2.0"};
constexpr std::array<double, 2> protocol_weights = {80, 20};

constexpr std::array<std::string_view, 13> statuses = {"200", "201", "204", "301", "304", "400", "401",
                                                       "403", "404", "429", "500", "502", "503"};
constexpr std::array<double, 13> status_weights = {70, 6, 3, 1, 5, 3, 2, 1, 5, 1, 1.5, 0.8, 0.7};

constexpr std::array<std::string_view, 12> user_agents = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    "curl/8.4.0",
    "python-requests/2.31.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
};
constexpr std::array<double, 12> user_agent_weights = {25, 12, 10, 8, 5, 12, 8, 6, 5, 4, 3, 2};

constexpr std::array<std::string_view, 7> referers = {
    "-", "https://www.google.com/", "https://www.bing.com/", "https://example.com/",
    "https://example.com/products", "https://t.co/", "https://duckduckgo.com/",
};
constexpr std::array<double, 7> referer_weights = {40, 25, 5, 12, 10, 4, 4};

// Response sizes: mostly small JSON, some pages, a few downloads.
constexpr std::array<IntBucket, 4> byte_buckets = {{
    {100, 999, 25}, {1'000, 9'999, 50}, {10'000, 99'999, 20}, {100'000, 2'000'000, 5},
}};

// RFC 1918 private ranges, weighted roughly by how often each shows up.
constexpr std::array<IntBucket, 3> private_ipv4_buckets = {{
    {0x0A00'0000, 0x0AFF'FFFF, 60},  // 10.0.0.0/8
    {0xAC10'0000, 0xAC1F'FFFF, 20},  // 172.16.0.0/12
    {0xC0A8'0000, 0xC0A8'FFFF, 20},  // 192.168.0.0/16
}};

// Response times in microseconds, printed as milliseconds with 3 decimals.
constexpr std::array<IntBucket, 4> response_time_us_buckets = {{
    {1'000, 19'999, 60}, {20'000, 99'999, 30}, {100'000, 999'999, 9}, {1'000'000, 5'000'000, 1},
}};

}  // namespace

std::shared_ptr<const Program> web_access_program() {
    ProgramBuilder b("web_access");
    const Column time = b.event_time();
    const Column method = b.choice(methods, method_weights);
    const Column path = b.choice(paths, path_weights);
    const Column protocol = b.choice(protocols, protocol_weights);
    const Column status = b.choice(statuses, status_weights);
    const Column bytes = b.buckets(byte_buckets);
    const Column client_ip = b.buckets(private_ipv4_buckets);
    const Column user_agent = b.choice(user_agents, user_agent_weights);
    const Column referer = b.choice(referers, referer_weights);
    const Column response_time_us = b.buckets(response_time_us_buckets);
    const Column request_id = b.uuid4();

    b.raw(R"({"_time":")");
    b.put_time(time, "%Y-%m-%dT%H:%M:%S.%NZ", TextContext::json_string);
    b.raw(R"(","source":"web access log","event_type":"access","message":")");
    // Apache combined: %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"
    b.put_ipv4(client_ip);
    b.text(" - - [");
    b.put_time(time, "%d/%b/%Y:%H:%M:%S %z", TextContext::json_string);
    b.text("] \"");
    b.put_text(method);
    b.text(" ");
    b.put_text(path);
    b.text(" ");
    b.put_text(protocol);
    b.text("\" ");
    b.put_text(status);
    b.text(" ");
    b.put_uint(bytes);
    b.text(" \"");
    b.put_text(referer);
    b.text("\" \"");
    b.put_text(user_agent);
    b.text("\"");
    b.raw(R"(","attributes":{"method":")");
    b.put_text(method);
    b.raw(R"(","path":")");
    b.put_text(path);
    b.raw(R"(","protocol":")");
    b.put_text(protocol);
    b.raw(R"(","status":)");
    b.put_text(status);
    b.raw(R"(,"bytes":)");
    b.put_uint(bytes);
    b.raw(R"(,"client_ip":")");
    b.put_ipv4(client_ip);
    b.raw(R"(","user_agent":")");
    b.put_text(user_agent);
    b.raw(R"(","referer":")");
    b.put_text(referer);
    b.raw(R"(","response_time_ms":)");
    b.put_fixed(response_time_us, 3);
    b.raw(R"(,"request_id":")");
    b.put_uuid(request_id);
    b.raw("\"}}\n");
    return b.finish();
}

}  // namespace supervent::core
