#pragma once
// The control socket: a Unix stream socket speaking JSON lines, served by
// Boost.Asio on the control thread. One request line in, one reply line out.
// Boost 1.74's Asio uses std::exchange without including <utility> (fixed in 1.75).
#include <utility>

#include <boost/asio.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace supervent::daemon {

// Sends the reply (one line, without '\n') to a request. May be called later,
// from the control thread, e.g. once a stop has finished draining; the
// client's next request is read only after it.
using Responder = std::function<void(std::string reply)>;
// Takes one request line (without '\n') and answers it through the responder.
using CommandHandler = std::function<void(std::string_view request, Responder respond)>;

class ControlServer {
public:
    // Binds `path` (creating its directory; replacing a stale socket; refusing
    // one that a live daemon still answers on) with mode 0660. Throws
    // std::runtime_error naming the path and what to do.
    ControlServer(boost::asio::io_context& io, std::string path, CommandHandler handler);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    [[nodiscard]] const std::string& path() const { return path_; }

private:
    class Session;
    void accept();

    boost::asio::io_context& io_;
    std::string path_;
    CommandHandler handler_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
};

// The socket path used when none is configured: /run/supervent/superventd.sock
// for root, $XDG_RUNTIME_DIR/supervent/superventd.sock otherwise, falling back
// to /tmp/supervent-UID/superventd.sock.
[[nodiscard]] std::string default_control_socket_path();

}  // namespace supervent::daemon
