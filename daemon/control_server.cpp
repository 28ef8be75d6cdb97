#include "daemon/control_server.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/bounds.hpp"
#include "daemon/json_writer.hpp"
#include "daemon/log.hpp"

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

bool peer_allowed(std::uint32_t uid, std::uint32_t gid, const ControlServerOptions& options, std::uint32_t own_uid,
                  std::int64_t socket_gid) {
    if (uid == 0 || uid == own_uid) return true;
    if (std::find(options.allowed_uids.begin(), options.allowed_uids.end(), uid) != options.allowed_uids.end()) return true;
    if (socket_gid >= 0 && gid == static_cast<std::uint32_t>(socket_gid)) return true;
    return std::find(options.allowed_gids.begin(), options.allowed_gids.end(), gid) != options.allowed_gids.end();
}

struct ControlServer::State {
    CommandHandler handler;
    ControlServerOptions options;
    std::int64_t socket_gid = -1;
    std::uint32_t sessions = 0;
};

std::uint32_t ControlServer::sessions() const { return state_->sessions; }

// One client. The idle timer runs while the session waits for the client
// (its next request, or the client reading a reply) and never while the
// daemon works on an answer, e.g. a stop that waits for the drain.
class ControlServer::Session : public std::enable_shared_from_this<Session> {
public:
    Session(local_socket::socket socket, std::shared_ptr<State> state)
        : socket_(std::move(socket)),
          state_(std::move(state)),
          timer_(socket_.get_executor()),
          buffer_(bounds::control_request_bytes_max) {
        ++state_->sessions;
    }
    ~Session() { --state_->sessions; }

    // A member of an allowed group by a supplementary group (`adduser NAME
    // supervent`) is served too: SO_PEERGROUPS lists them (Linux 4.13).
    bool by_groups(std::uint32_t uid) {
        gid_t groups[256];
        socklen_t bytes = sizeof groups;
        if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERGROUPS, groups, &bytes) != 0) return false;
        for (std::size_t i = 0; i < bytes / sizeof(gid_t); ++i) {
            if (peer_allowed(uid, groups[i], state_->options, geteuid(), state_->socket_gid)) return true;
        }
        return false;
    }

    void start() {
        ucred peer{};
        socklen_t peer_bytes = sizeof peer;
        if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer, &peer_bytes) != 0) {
            reply_and_close(error_json("cannot read the peer's credentials: " + std::string(std::strerror(errno))));
            return;
        }
        if (!peer_allowed(peer.uid, peer.gid, state_->options, geteuid(), state_->socket_gid) && !by_groups(peer.uid)) {
            log::warning("control socket: refused a client with uid %u gid %u (pid %d): not root, not the daemon's "
                         "user, not in runtime.socket_group or socket_allowed_uids/gids",
                         peer.uid, peer.gid, peer.pid);
            // Read the request first, so the client gets the answer instead of
            // a broken pipe; its request is never looked at.
            refusal_ = error_json("permission denied: uid " + std::to_string(peer.uid) + " (gid " +
                                  std::to_string(peer.gid) +
                                  ") may not use this control socket; see runtime.socket_group and "
                                  "runtime.socket_allowed_uids in the daemon's config");
        }
        read_next();
    }

    void reply_and_close(std::string text) {
        reply_ = std::move(text) + "\n";
        auto self = shared_from_this();
        arm_timer();
        asio::async_write(socket_, asio::buffer(reply_), [self](boost::system::error_code, std::size_t) {
            self->close();
        });
    }

    static std::string error_json(std::string_view message) {
        return JsonWriter().begin_object().field("ok", false).field("error", message).end_object().take();
    }

private:
    void read_next() {
        auto self = shared_from_this();
        arm_timer();
        asio::async_read_until(socket_, buffer_, '\n', [self](boost::system::error_code error, std::size_t bytes) {
            self->timer_.cancel();
            if (error == asio::error::not_found) {  // a line longer than we accept
                self->reply_and_close(error_json("request too long: at most " +
                                                 std::to_string(bounds::control_request_bytes_max) +
                                                 " bytes per line"));
                return;
            }
            if (error) {
                self->close();
                return;  // client went away, or idled out
            }
            if (!self->refusal_.empty()) {
                self->reply_and_close(std::move(self->refusal_));
                return;
            }
            std::string line(asio::buffers_begin(self->buffer_.data()),
                             asio::buffers_begin(self->buffer_.data()) + static_cast<std::ptrdiff_t>(bytes - 1));
            self->buffer_.consume(bytes);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            self->state_->handler(line, [self](std::string reply) { self->reply(std::move(reply)); });
        });
    }

    void reply(std::string text) {
        if (!socket_.is_open()) return;
        reply_ = std::move(text) + "\n";
        auto self = shared_from_this();
        arm_timer();
        asio::async_write(socket_, asio::buffer(reply_), [self](boost::system::error_code error, std::size_t) {
            self->timer_.cancel();
            if (error) {
                self->close();
                return;
            }
            self->read_next();
        });
    }

    void arm_timer() {
        timer_.expires_after(state_->options.idle_timeout);
        std::weak_ptr<Session> weak = shared_from_this();
        timer_.async_wait([weak](boost::system::error_code error) {
            if (error) return;  // cancelled: the client did something
            if (auto self = weak.lock()) self->close();
        });
    }

    void close() {
        boost::system::error_code ignored;
        timer_.cancel();
        socket_.shutdown(local_socket::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

    local_socket::socket socket_;
    std::shared_ptr<State> state_;
    asio::steady_timer timer_;
    asio::streambuf buffer_;
    std::string reply_;
    std::string refusal_;  // set for a peer that may not talk to us
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

// A group name or number to a gid; throws naming the setting.
gid_t resolve_group(const std::string& group) {
    gid_t numeric = 0;
    const auto [end, error] = std::from_chars(group.data(), group.data() + group.size(), numeric);
    if (error == std::errc() && end == group.data() + group.size()) return numeric;
    std::vector<char> buffer(16384);
    ::group entry{};
    ::group* found = nullptr;
    const int result = ::getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (result != 0 || found == nullptr) {
        throw std::runtime_error("runtime.socket_group (--socket-group): no group named '" + group + "'" +
                                 (result != 0 ? std::string(": ") + std::strerror(result) : std::string()));
    }
    return found->gr_gid;
}

}  // namespace

ControlServer::ControlServer(asio::io_context& io, std::string path, CommandHandler handler,
                             ControlServerOptions options)
    : io_(io), path_(std::move(path)), state_(std::make_shared<State>()), acceptor_(io) {
    state_->handler = std::move(handler);
    state_->options = std::move(options);
    if (path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
        throw std::runtime_error("control socket path is too long (" + std::to_string(path_.size()) + " bytes): " + path_);
    }
    if (!state_->options.group.empty()) state_->socket_gid = resolve_group(state_->options.group);
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
    if (state_->socket_gid >= 0 && ::chown(path_.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(state_->socket_gid)) != 0) {
        const std::string reason = std::strerror(errno);
        ::unlink(path_.c_str());
        throw std::runtime_error("runtime.socket_group (--socket-group): cannot give the control socket " + path_ +
                                 " to group " + state_->options.group + ": " + reason);
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
        if (!error) {
            auto session = std::make_shared<Session>(std::move(socket), state_);
            if (state_->sessions > state_->options.sessions_max) {
                // Said once, then closed: a client that opens connections
                // without end cannot starve the ones already served.
                session->reply_and_close(Session::error_json(
                    "too many control connections (at most " + std::to_string(state_->options.sessions_max) +
                    "); try again later"));
            } else {
                session->start();
            }
        }
        accept();
    });
}

}  // namespace supervent::daemon
