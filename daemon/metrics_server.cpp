#include "daemon/metrics_server.hpp"

#include <stdexcept>
#include <string_view>

namespace supervent::daemon {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class MetricsServer::Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(tcp::socket socket, std::shared_ptr<Render> render, std::shared_ptr<std::uint32_t> count)
        : socket_(std::move(socket)), timer_(socket_.get_executor()), render_(std::move(render)),
          count_(std::move(count)), buffer_(request_bytes_max) {
        ++*count_;
    }
    ~Connection() { --*count_; }

    void start(bool over_limit) {
        auto self = shared_from_this();
        timer_.expires_after(request_timeout);
        timer_.async_wait([self](boost::system::error_code error) {
            if (!error) self->close();
        });
        if (over_limit) {
            respond("503 Service Unavailable", "text/plain", "too many connections\n");
            return;
        }
        asio::async_read_until(socket_, buffer_, "\r\n\r\n", [self](boost::system::error_code error, std::size_t) {
            if (error == asio::error::not_found) {
                self->respond("431 Request Header Fields Too Large", "text/plain", "request too large\n");
                return;
            }
            if (error) {
                self->close();
                return;
            }
            self->answer();
        });
    }

private:
    void answer() {
        const std::string head(asio::buffers_begin(buffer_.data()), asio::buffers_end(buffer_.data()));
        const std::string_view line = std::string_view(head).substr(0, head.find("\r\n"));
        const auto first_space = line.find(' ');
        const auto second_space = line.find(' ', first_space + 1);
        if (first_space == std::string_view::npos || second_space == std::string_view::npos) {
            respond("400 Bad Request", "text/plain", "bad request line\n");
            return;
        }
        const std::string_view method = line.substr(0, first_space);
        std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
        target = target.substr(0, target.find('?'));
        if (target != "/metrics" && target != "/") {
            respond("404 Not Found", "text/plain", "not found: the metrics are at /metrics\n");
            return;
        }
        if (method != "GET" && method != "HEAD") {
            respond("405 Method Not Allowed", "text/plain", "only GET\n");
            return;
        }
        if (target == "/") {
            respond("200 OK", "text/html", "<html><body><a href=\"/metrics\">metrics</a></body></html>\n");
            return;
        }
        std::string body = (*render_)();
        if (method == "HEAD") body.clear();
        respond("200 OK", "text/plain; version=0.0.4; charset=utf-8", std::move(body));
    }

    void respond(std::string_view status, std::string_view type, std::string body) {
        reply_ = "HTTP/1.1 " + std::string(status) + "\r\nContent-Type: " + std::string(type) +
                 "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        auto self = shared_from_this();
        asio::async_write(socket_, asio::buffer(reply_), [self](boost::system::error_code, std::size_t) {
            self->close();
        });
    }

    void close() {
        boost::system::error_code ignored;
        timer_.cancel();
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    std::shared_ptr<Render> render_;
    std::shared_ptr<std::uint32_t> count_;
    asio::streambuf buffer_;
    std::string reply_;
};

MetricsServer::MetricsServer(asio::io_context& io, const std::string& listen, Render render)
    : acceptor_(io), render_(std::make_shared<Render>(std::move(render))),
      connections_(std::make_shared<std::uint32_t>(0)) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
        throw std::runtime_error("monitoring.metrics_listen (--metrics-listen): expected HOST:PORT, got '" + listen + "'");
    }
    std::string host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string port = listen.substr(colon + 1);
    boost::system::error_code error;
    tcp::resolver resolver(io);
    const auto endpoints = resolver.resolve(host, port, tcp::resolver::numeric_service, error);
    if (error || endpoints.empty()) {
        throw std::runtime_error("monitoring.metrics_listen (--metrics-listen): cannot resolve '" + listen +
                                 "': " + error.message());
    }
    const tcp::endpoint endpoint = *endpoints.begin();
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
        throw std::runtime_error("monitoring.metrics_listen (--metrics-listen): cannot listen on " + listen + ": " +
                                 error.message() +
                                 (error == asio::error::address_in_use
                                      ? " (another program has this port; 9100 is node_exporter's default: pick "
                                        "another port)"
                                      : ""));
    }
    port_ = acceptor_.local_endpoint().port();
    accept();
}

MetricsServer::~MetricsServer() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

std::string MetricsServer::address() const {
    boost::system::error_code ignored;
    const tcp::endpoint endpoint = acceptor_.local_endpoint(ignored);
    const std::string host = endpoint.address().to_string();
    return (endpoint.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(endpoint.port());
}

void MetricsServer::accept() {
    acceptor_.async_accept([this](boost::system::error_code error, tcp::socket socket) {
        if (error == asio::error::operation_aborted) return;
        if (!error) {
            const bool over_limit = *connections_ >= connections_max;
            std::make_shared<Connection>(std::move(socket), render_, connections_)->start(over_limit);
        }
        accept();
    });
}

}  // namespace supervent::daemon
