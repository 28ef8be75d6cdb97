#pragma once
// The control socket: a Unix stream socket speaking JSON lines, served by
// Boost.Asio on the control thread. One request line in, one reply line out.
// Boost 1.74's Asio uses std::exchange without including <utility> (fixed in 1.75).
#include <utility>

#include <boost/asio.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace supervent::daemon {

// Sends the reply (one line, without '\n') to a request. May be called later,
// from the control thread, e.g. once a stop has finished draining; the
// client's next request is read only after it.
using Responder = std::function<void(std::string reply)>;
// Takes one request line (without '\n') and answers it through the responder.
using CommandHandler = std::function<void(std::string_view request, Responder respond)>;

// Who may talk to the daemon, and how much of the control thread a client
// may hold. Defaults: root and the daemon's own uid; 64 sessions; a client
// silent for 30 s (or not reading its reply) is disconnected.
struct ControlServerOptions {
    std::string group;                        // chown the socket to this group (name or gid); "" = leave it
    std::vector<std::uint32_t> allowed_uids;  // besides root and the daemon's euid
    std::vector<std::uint32_t> allowed_gids;  // besides `group`
    std::uint32_t sessions_max = 64;
    std::chrono::milliseconds idle_timeout{30'000};
};

class ControlServer {
public:
    // Binds `path` (creating its directory; replacing a stale socket; refusing
    // one that a live daemon still answers on) with mode 0660, owned by
    // options.group when given. Throws std::runtime_error naming the path
    // (or the setting) and what to do.
    ControlServer(boost::asio::io_context& io, std::string path, CommandHandler handler,
                  ControlServerOptions options = {});
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::uint32_t sessions() const;

    struct State;  // shared with the sessions, which may outlive the server briefly

private:
    class Session;
    void accept();

    boost::asio::io_context& io_;
    std::string path_;
    std::shared_ptr<State> state_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
};

// Whether a peer with these credentials may use the socket.
[[nodiscard]] bool peer_allowed(std::uint32_t uid, std::uint32_t gid, const ControlServerOptions& options,
                                std::uint32_t own_uid, std::int64_t socket_gid);

// The socket path used when none is configured: /run/supervent/superventd.sock
// for root, $XDG_RUNTIME_DIR/supervent/superventd.sock otherwise, falling back
// to /tmp/supervent-UID/superventd.sock.
[[nodiscard]] std::string default_control_socket_path();

}  // namespace supervent::daemon
