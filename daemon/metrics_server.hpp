#pragma once
// The metrics listener: a minimal HTTP/1.1 server on the control thread
// (Boost.Asio). GET /metrics answers the Prometheus text exposition format
// (version 0.0.4); / and its files are the dashboard (web/, embedded);
// GET /api/status is the status JSON, GET /healthz 200 while the shards run
// and 503 otherwise (also once the sink refused us for good); POST /api/control/{pause,resume,rate} exist only with a
// dashboard token. One request per connection, bounded in size and time, so
// a client that stalls holds nothing but its socket; every answer is made on
// the control thread from what it already holds, never waiting on a shard.
#include <utility>  // before Asio: see control_server.hpp

#include <boost/asio.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace supervent::daemon {

// What the listener answers with; each is called on the control thread.
struct MetricsEndpoints {
    std::function<std::string()> metrics;  // /metrics
    std::function<std::string()> status;   // /api/status: the status JSON
    std::function<bool()> healthy;         // /healthz: true while the shards run
    // A control-protocol request line ({"cmd":"pause"} ...) from the
    // dashboard, answered through `respond` with the control reply.
    std::function<void(std::string request, std::function<void(std::string)> respond)> control;
    // Pause/resume/rate from the page need this in X-Supervent-Token; empty:
    // the page is read-only and every control action is refused.
    std::string control_token;
};

// The dashboard token from monitoring.dashboard_token_file: the file's first
// line, trimmed. Throws std::runtime_error naming the setting (never the
// token) when it cannot be read or is shorter than 16 characters.
[[nodiscard]] std::string read_dashboard_token(const std::string& path);

class MetricsServer {
public:
    using Render = std::function<std::string()>;

    // Listens on `listen` ("HOST:PORT", "[V6]:PORT"; port 0 = any, see port()).
    // Throws std::runtime_error naming monitoring.metrics_listen when the
    // address cannot be resolved or bound (e.g. the port is taken).
    MetricsServer(boost::asio::io_context& io, const std::string& listen, MetricsEndpoints endpoints);
    // Only /metrics (and the page, which then shows nothing live).
    MetricsServer(boost::asio::io_context& io, const std::string& listen, Render render)
        : MetricsServer(io, listen, MetricsEndpoints{std::move(render), {}, {}, {}, {}}) {}
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string address() const;

    static constexpr std::size_t request_bytes_max = 8192;
    static constexpr std::size_t control_body_bytes_max = 256;
    static constexpr std::chrono::seconds request_timeout{10};
    static constexpr std::uint32_t connections_max = 16;

private:
    class Connection;
    void accept();

    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<const MetricsEndpoints> endpoints_;
    std::shared_ptr<std::uint32_t> connections_;
    std::uint16_t port_ = 0;
};

}  // namespace supervent::daemon
