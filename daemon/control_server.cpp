#include "daemon/control_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/bounds.hpp"

namespace supervent::daemon {
namespace asio = boost::asio;
using local_socket = asio::local::stream_protocol;

std::string default_control_socket_path() {
    if (geteuid() == 0) return "/run/supervent/superventd.sock";
    if (const char* runtime_dir = std::getenv("XDG_RUNTIME_DIR"); runtime_dir != nullptr && *runtime_dir != '\0') {
        return std::string(runtime_dir) + "/supervent/superventd.sock";
    }
    return "/tmp/supervent-" + std::to_string(geteuid()) + "/superventd.sock";
}

class ControlServer::Session : public std::enable_shared_from_this<Session> {
public:
    Session(local_socket::socket socket, const CommandHandler& handler)
        : socket_(std::move(socket)), handler_(handler), buffer_(bounds::control_request_bytes_max) {}

    void read_next() {
        auto self = shared_from_this();
        asio::async_read_until(socket_, buffer_, '\n', [self](boost::system::error_code error, std::size_t bytes) {
            if (error == asio::error::not_found) {  // a line longer than we accept
                self->reply_and_close(R"({"ok":false,"error":"request too long"})");
                return;
            }
            if (error) return;  // client went away
            std::string line(asio::buffers_begin(self->buffer_.data()),
                             asio::buffers_begin(self->buffer_.data()) + static_cast<std::ptrdiff_t>(bytes - 1));
            self->buffer_.consume(bytes);
            self->handler_(line, [self](std::string reply) { self->reply(std::move(reply)); });
        });
    }

private:
    void reply(std::string text) {
        reply_ = std::move(text) + "\n";
        auto self = shared_from_this();
        asio::async_write(socket_, asio::buffer(reply_), [self](boost::system::error_code error, std::size_t) {
            if (!error) self->read_next();
        });
    }
    void reply_and_close(std::string text) {
        reply_ = std::move(text) + "\n";
        auto self = shared_from_this();
        asio::async_write(socket_, asio::buffer(reply_), [self](boost::system::error_code, std::size_t) {
            boost::system::error_code ignored;
            self->socket_.close(ignored);
        });
    }

    local_socket::socket socket_;
    const CommandHandler& handler_;
    asio::streambuf buffer_;
    std::string reply_;
};

namespace {

// A socket file nobody answers on is left over from a crash: remove it. One
// that answers belongs to a running daemon: refuse to steal it.
void clear_stale_socket(asio::io_context& io, const std::string& path) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) return;
    if (!S_ISSOCK(info.st_mode)) throw std::runtime_error("control socket path " + path + " exists and is not a socket");
    local_socket::socket probe(io);
    boost::system::error_code error;
    probe.connect(local_socket::endpoint(path), error);
    if (!error) {
        throw std::runtime_error("another superventd is already listening on " + path +
                                 "; stop it or give this one its own --socket PATH");
    }
    ::unlink(path.c_str());
}

}  // namespace

ControlServer::ControlServer(asio::io_context& io, std::string path, CommandHandler handler)
    : io_(io), path_(std::move(path)), handler_(std::move(handler)), acceptor_(io) {
    if (path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
        throw std::runtime_error("control socket path is too long (" + std::to_string(path_.size()) + " bytes): " + path_);
    }
    const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
    std::error_code mkdir_error;
    if (!parent.empty()) std::filesystem::create_directories(parent, mkdir_error);
    clear_stale_socket(io_, path_);
    boost::system::error_code error;
    acceptor_.open(local_socket(), error);
    if (!error) acceptor_.bind(local_socket::endpoint(path_), error);
    if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
        throw std::runtime_error("cannot create the control socket " + path_ + ": " + error.message() +
                                 (mkdir_error ? " (creating its directory: " + mkdir_error.message() + ")" : ""));
    }
    ::chmod(path_.c_str(), 0660);
    accept();
}

ControlServer::~ControlServer() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    ::unlink(path_.c_str());
}

void ControlServer::accept() {
    acceptor_.async_accept([this](boost::system::error_code error, local_socket::socket socket) {
        if (error == asio::error::operation_aborted) return;
        if (!error) std::make_shared<Session>(std::move(socket), handler_)->read_next();
        accept();
    });
}

}  // namespace supervent::daemon
