#pragma once
// The Prometheus endpoint: a minimal HTTP/1.1 server on the control thread
// (Boost.Asio). GET /metrics answers the text exposition format (version
// 0.0.4); anything else gets 404 or 405. One request per connection, bounded
// in size and time, so a scraper that stalls holds nothing but its socket.
#include <utility>  // before Asio: see control_server.hpp

#include <boost/asio.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace supervent::daemon {

class MetricsServer {
public:
    using Render = std::function<std::string()>;

    // Listens on `listen` ("HOST:PORT", "[V6]:PORT"; port 0 = any, see port()).
    // Throws std::runtime_error naming monitoring.metrics_listen when the
    // address cannot be resolved or bound (e.g. the port is taken).
    MetricsServer(boost::asio::io_context& io, const std::string& listen, Render render);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string address() const;

    static constexpr std::size_t request_bytes_max = 8192;
    static constexpr std::chrono::seconds request_timeout{10};
    static constexpr std::uint32_t connections_max = 16;

private:
    class Connection;
    void accept();

    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<Render> render_;
    std::shared_ptr<std::uint32_t> connections_;
    std::uint16_t port_ = 0;
};

}  // namespace supervent::daemon
