// The default scenario, written in the source model like any configured
// scenario. Weights are rough shares of real API traffic: mostly successful
// GETs, a tail of client and server errors.
#include <initializer_list>
#include <string_view>

#include "core/scenarios.hpp"

namespace supervent::core {
namespace {

FieldSpec choice_field(std::string name, std::initializer_list<std::string_view> values,
                       std::initializer_list<double> weights, SchemaValue::Type type = SchemaValue::Type::string) {
    FieldSpec f;
    f.name = std::move(name);
    f.kind = FieldKind::choice;
    f.origin = {"<built-in web_access>", 0, "fields." + f.name};
    for (const std::string_view v : values) f.values.push_back({type, std::string(v)});
    f.weights = weights;
    return f;
}

FieldSpec histogram_field(std::string name, FieldKind kind, std::initializer_list<WeightedRange> ranges) {
    FieldSpec f;
    f.name = std::move(name);
    f.kind = kind;
    f.origin = {"<built-in web_access>", 0, "fields." + f.name};
    f.distribution = Distribution::histogram;
    f.ranges = ranges;
    f.precision = 3;
    return f;
}

}  // namespace

SourceSpec web_access_spec() {
    SourceSpec s;
    s.name = "web_access";
    s.description = "web access log";
    s.dataset = "supervent";
    s.origin = {"<built-in web_access>", 0, "sources.web_access"};
    // Endpoints as (method, path) rows: a method each path takes (no POST
    // /health, no DELETE of a script); the status then fits the method and
    // HEAD, 204 and 304 carry no body (core/value_rows.hpp).
    struct Endpoint {
        std::string_view method, path;
        double weight;
    };
    static constexpr Endpoint endpoints[] = {
        {"GET", "/api/v1/users", 8},          {"POST", "/api/v1/users", 2},           {"GET", "/api/v1/users/profile", 5},
        {"PUT", "/api/v1/users/profile", 1},  {"PATCH", "/api/v1/users/profile", 1},  {"GET", "/api/v1/orders", 6},
        {"POST", "/api/v1/orders", 3},        {"GET", "/api/v1/orders/history", 3},   {"GET", "/api/v1/products", 12},
        {"HEAD", "/api/v1/products", 1},      {"GET", "/api/v1/products/search", 8},  {"GET", "/api/v1/cart", 3},
        {"POST", "/api/v1/cart", 2},          {"DELETE", "/api/v1/cart", 1},          {"POST", "/api/v1/checkout", 2},
        {"POST", "/api/v1/payments", 2},      {"POST", "/api/v1/auth/login", 4},      {"POST", "/api/v1/auth/logout", 1},
        {"POST", "/api/v1/auth/refresh", 3},  {"GET", "/api/v1/inventory", 2},        {"PUT", "/api/v1/inventory", 1},
        {"GET", "/api/v1/reviews", 3},        {"POST", "/api/v1/reviews", 1},         {"GET", "/api/v1/notifications", 3},
        {"DELETE", "/api/v1/notifications", 1}, {"GET", "/api/v1/search", 6},        {"GET", "/api/v2/recommendations", 3},
        {"GET", "/health", 8},                {"HEAD", "/health", 2},                 {"GET", "/metrics", 5},
        {"GET", "/static/js/app.js", 3},      {"HEAD", "/static/js/app.js", 1},
    };
    FieldSpec method = choice_field("method", {}, {});
    FieldSpec path = choice_field("path", {}, {});
    for (const Endpoint& e : endpoints) {
        method.values.push_back({SchemaValue::Type::string, std::string(e.method)});
        method.weights.push_back(e.weight);
        path.values.push_back({SchemaValue::Type::string, std::string(e.path)});
    }
    method.group = path.group = "endpoint";
    s.fields.push_back(method);
    s.fields.push_back(path);
    s.fields.push_back(choice_field("protocol", {"HTTP/1.1", "HTTP/2.0"}, {80, 20}));
    s.fields.push_back(choice_field("status",
                                    {"200", "201", "204", "301", "304", "400", "401", "403", "404", "429", "500", "502", "503"},
                                    {70, 6, 3, 1, 5, 3, 2, 1, 5, 1, 1.5, 0.8, 0.7}, SchemaValue::Type::integer));
    // Response sizes: mostly small JSON, some pages, a few downloads.
    s.fields.push_back(histogram_field("bytes", FieldKind::integer,
                                       {{100, 999, 25}, {1'000, 9'999, 50}, {10'000, 99'999, 20}, {100'000, 2'000'000, 5}}));
    FieldSpec client_ip;
    client_ip.name = "client_ip";
    client_ip.kind = FieldKind::ipv4;
    client_ip.origin = {"<built-in web_access>", 0, "fields.client_ip"};
    client_ip.cidrs = {"private"};
    s.fields.push_back(client_ip);
    s.fields.push_back(choice_field(
        "user_agent",
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
         "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
         "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
         "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
         "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
         "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
         "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36",
         "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
         "curl/8.4.0", "python-requests/2.31.0",
         "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
         "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"},
        {25, 12, 10, 8, 5, 12, 8, 6, 5, 4, 3, 2}));
    s.fields.push_back(choice_field("referer",
                                    {"-", "https://www.google.com/", "https://www.bing.com/", "https://example.com/",
                                     "https://example.com/products", "https://t.co/", "https://duckduckgo.com/"},
                                    {40, 25, 5, 12, 10, 4, 4}));
    s.fields.push_back(histogram_field("response_time_ms", FieldKind::floating,
                                       {{1, 19.999, 60}, {20, 99.999, 30}, {100, 999.999, 9}, {1'000, 5'000, 1}}));
    // request_id is the built-in UUID v4, added last.
    EventTypeSpec access;
    access.name = "access";
    access.origin = {"<built-in web_access>", 0, "event_types.access"};
    // Apache combined: %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"
    access.message = R"({client_ip} - - [{timestamp:%d/%b/%Y:%H:%M:%S %z}] "{method} {path} {protocol}" {status} {bytes} "{referer}" "{user_agent}")";
    s.event_types.push_back(access);
    return s;
}

std::shared_ptr<const Program> web_access_program() { return compile_source(web_access_spec()); }

}  // namespace supervent::core
