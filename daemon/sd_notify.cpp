#include "daemon/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace supervent::daemon {

Notifier::Notifier() {
    if (const char* path = std::getenv("NOTIFY_SOCKET"); path != nullptr) socket_path_ = path;
}

bool Notifier::notify(std::string_view state) const {
    if (socket_path_.empty() || socket_path_.size() >= sizeof(sockaddr_un{}.sun_path)) return false;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, socket_path_.data(), socket_path_.size());
    socklen_t address_bytes = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
    if (address.sun_path[0] == '@') address.sun_path[0] = '\0';  // abstract namespace
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                                  reinterpret_cast<const sockaddr*>(&address), address_bytes);
    ::close(fd);
    return sent == static_cast<ssize_t>(state.size());
}

}  // namespace supervent::daemon
