#include "daemon/metrics_server.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "web/assets.hpp"

namespace supervent::daemon {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// The page may load only itself: no CDN, no inline script, no framing, so
// what the binary embeds is all that ever runs in it.
constexpr std::string_view page_headers =
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nCache-Control: no-store\r\n";

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

// The value of header `name` in a request head, trimmed; "" when absent.
std::string_view header_value(std::string_view head, std::string_view name) {
    for (std::size_t start = head.find("\r\n"); start != std::string_view::npos && start + 2 < head.size();) {
        const std::size_t end = head.find("\r\n", start + 2);
        const std::string_view line = head.substr(start + 2, end - start - 2);
        start = end;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || !iequals(line.substr(0, colon), name)) continue;
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
        return value;
    }
    return {};
}

// Compares every byte whatever differs, so the time taken says nothing of
// how much of a guessed token was right.
bool same_secret(std::string_view given, std::string_view secret) {
    unsigned char differ = given.size() == secret.size() ? 0 : 1;
    for (std::size_t i = 0; i < secret.size(); ++i) {
        differ |= static_cast<unsigned char>(secret[i] ^ (i < given.size() ? given[i] : 0));
    }
    return differ == 0;
}

// Why a control action from the page is refused, or "" to carry it out. The
// token travels in a header of our own, which a cross-site form cannot set
// and a cross-site fetch cannot send without a preflight we never grant; an
// Origin other than the page's own is refused as well.
std::string control_refusal(const MetricsEndpoints& endpoints, std::string_view head) {
    if (endpoints.control_token.empty() || !endpoints.control) {
        return "control from the dashboard is off: it needs monitoring.dashboard_token_file";
    }
    const std::string_view host = header_value(head, "Host");
    const std::string_view origin = header_value(head, "Origin");
    if (host.empty()) return "no Host header";
    if (!origin.empty() && origin != "http://" + std::string(host)) return "cross-origin request";
    if (!same_secret(header_value(head, "X-Supervent-Token"), endpoints.control_token)) {
        return "wrong or missing X-Supervent-Token";
    }
    return {};
}

// The control-protocol request for POST /api/control/ACTION with `body`, or
// "" when it is not one the page may make. A rate is a number or
// "unlimited": letters and digits only, so it cannot break out of the JSON.
std::string control_request(std::string_view action, std::string_view body) {
    if (action == "pause" || action == "resume") return "{\"cmd\":\"" + std::string(action) + "\"}";
    if (action != "rate" || body.empty() || body.size() > 32) return {};
    const bool plain = std::all_of(body.begin(), body.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.'; });
    return plain ? "{\"cmd\":\"rate\",\"value\":\"" + std::string(body) + "\"}" : std::string();
}

}  // namespace

std::string read_dashboard_token(const std::string& path) {
    const std::string setting = "monitoring.dashboard_token_file '" + path + "'";
    std::FILE* file = std::fopen(path.c_str(), "re");
    if (file == nullptr) throw std::runtime_error(setting + ": cannot open: " + std::strerror(errno));
    char line[256] = {};
    const bool read = std::fgets(line, sizeof line, file) != nullptr;
    std::fclose(file);
    std::string token = read ? line : "";
    explicit_bzero(line, sizeof line);
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front()))) token.erase(0, 1);
    if (token.size() < 16) {
        throw std::runtime_error(setting + ": the token must be at least 16 characters (e.g. openssl rand -hex 16)");
    }
    return token;
}

class MetricsServer::Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(tcp::socket socket, std::shared_ptr<const MetricsEndpoints> endpoints,
               std::shared_ptr<std::uint32_t> count)
        : socket_(std::move(socket)), timer_(socket_.get_executor()), endpoints_(std::move(endpoints)),
          count_(std::move(count)), buffer_(request_bytes_max + control_body_bytes_max) {
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
        asio::async_read_until(socket_, buffer_, "\r\n\r\n", [self](boost::system::error_code error, std::size_t bytes) {
            if (error == asio::error::not_found || bytes > request_bytes_max) {
                self->respond("431 Request Header Fields Too Large", "text/plain", "request too large\n");
                return;
            }
            if (error) {
                self->close();
                return;
            }
            self->head_.assign(asio::buffers_begin(self->buffer_.data()),
                               asio::buffers_begin(self->buffer_.data()) + static_cast<std::ptrdiff_t>(bytes));
            self->buffer_.consume(bytes);
            self->answer();
        });
    }

private:
    void answer() {
        const std::string_view line = std::string_view(head_).substr(0, head_.find("\r\n"));
        const auto first_space = line.find(' ');
        const auto second_space = line.find(' ', first_space + 1);
        if (first_space == std::string_view::npos || second_space == std::string_view::npos) {
            respond("400 Bad Request", "text/plain", "bad request line\n");
            return;
        }
        const std::string_view method = line.substr(0, first_space);
        std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
        target = target.substr(0, target.find('?'));
        if (target.starts_with("/api/control/")) {
            read_control_body(std::string(target.substr(std::string_view("/api/control/").size())), method);
            return;
        }
        if (method != "GET" && method != "HEAD") {
            respond("405 Method Not Allowed", "text/plain", "only GET\n");
            return;
        }
        answer_get(target, method == "HEAD");
    }

    void answer_get(std::string_view target, bool head_only) {
        const MetricsEndpoints& endpoints = *endpoints_;
        std::string_view status = "200 OK";
        std::string_view type;
        std::string body;
        std::string_view extra;
        if (target == "/metrics" && endpoints.metrics) {
            type = "text/plain; version=0.0.4; charset=utf-8";
            body = endpoints.metrics();
        } else if (target == "/api/status" && endpoints.status) {
            type = "application/json";
            body = endpoints.status();
            extra = "Cache-Control: no-store\r\n";
        } else if (target == "/healthz") {
            const bool healthy = endpoints.healthy && endpoints.healthy();
            status = healthy ? "200 OK" : "503 Service Unavailable";
            type = "text/plain";
            body = healthy ? "ok\n" : "shards not running, or the sink refused us for good (see /api/status)\n";
        } else if (const web::Asset* asset = web::find_asset(target)) {
            type = asset->content_type;
            body = asset->body;
            extra = page_headers;
        } else {
            respond("404 Not Found", "text/plain", "not found: the metrics are at /metrics, the dashboard at /\n");
            return;
        }
        if (head_only) body.clear();
        respond(status, type, std::move(body), extra);
    }

    // A control action: its body (a rate's value) is read first, bounded;
    // then it is checked and handed to the control thread's command handler.
    void read_control_body(std::string action, std::string_view method) {
        if (method != "POST") {
            respond("405 Method Not Allowed", "text/plain", "control actions are POST\n");
            return;
        }
        const std::string_view length_text = header_value(head_, "Content-Length");
        std::size_t length = 0;
        for (const char c : length_text) {
            if (c < '0' || c > '9' || length > control_body_bytes_max) break;
            length = length * 10 + std::size_t(c - '0');
        }
        if (length > control_body_bytes_max) {
            respond("413 Content Too Large", "text/plain", "control body too large\n");
            return;
        }
        const std::size_t have = buffer_.size();
        auto self = shared_from_this();
        asio::async_read(socket_, buffer_, asio::transfer_exactly(length > have ? length - have : 0),
                         [self, action = std::move(action), length](boost::system::error_code error, std::size_t) {
                             if (error) return self->close();
                             const std::string body(asio::buffers_begin(self->buffer_.data()),
                                                    asio::buffers_begin(self->buffer_.data()) +
                                                        static_cast<std::ptrdiff_t>(std::min(length, self->buffer_.size())));
                             self->answer_control(action, body);
                         });
    }

    void answer_control(std::string_view action, std::string_view body) {
        if (const std::string refusal = control_refusal(*endpoints_, head_); !refusal.empty()) {
            respond("403 Forbidden", "application/json", "{\"ok\":false,\"error\":\"" + refusal + "\"}\n");
            return;
        }
        std::string request = control_request(action, body);
        if (request.empty()) {
            respond("400 Bad Request", "application/json",
                    "{\"ok\":false,\"error\":\"the page may pause, resume or set a rate (a number or unlimited)\"}\n");
            return;
        }
        auto self = shared_from_this();
        endpoints_->control(std::move(request), [self](std::string reply) {
            const bool ok = reply.find("\"ok\":true") != std::string::npos;
            self->respond(ok ? "200 OK" : "409 Conflict", "application/json", std::move(reply));
        });
    }

    void respond(std::string_view status, std::string_view type, std::string body, std::string_view extra = {}) {
        reply_ = "HTTP/1.1 " + std::string(status) + "\r\nContent-Type: " + std::string(type) +
                 "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra) +
                 "Connection: close\r\n\r\n" + body;
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
    std::shared_ptr<const MetricsEndpoints> endpoints_;
    std::shared_ptr<std::uint32_t> count_;
    asio::streambuf buffer_;
    std::string head_;
    std::string reply_;
};
MetricsServer::MetricsServer(asio::io_context& io, const std::string& listen, MetricsEndpoints endpoints)
    : acceptor_(io), endpoints_(std::make_shared<const MetricsEndpoints>(std::move(endpoints))),
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
    const auto resolved = resolver.resolve(host, port, tcp::resolver::numeric_service, error);
    if (error || resolved.empty()) {
        throw std::runtime_error("monitoring.metrics_listen (--metrics-listen): cannot resolve '" + listen +
                                 "': " + error.message());
    }
    const tcp::endpoint endpoint = *resolved.begin();
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
            std::make_shared<Connection>(std::move(socket), endpoints_, connections_)->start(over_limit);
        }
        accept();
    });
}

}  // namespace supervent::daemon
