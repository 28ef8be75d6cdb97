#include "daemon/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <ctime>
#include <cstdlib>
#include <cstring>

namespace supervent::daemon {

Notifier::Notifier() {
    if (const char* path = std::getenv("NOTIFY_SOCKET"); path != nullptr) socket_path_ = path;
    const char* usec = std::getenv("WATCHDOG_USEC");
    const char* pid = std::getenv("WATCHDOG_PID");
    // WATCHDOG_PID names the process systemd watches; another one's is not ours.
    if (usec != nullptr && (pid == nullptr || std::strtoll(pid, nullptr, 10) == ::getpid())) {
        watchdog_usec_ = std::max<long long>(0, std::strtoll(usec, nullptr, 10));
    }
}

std::int64_t monotonic_usec() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return std::int64_t{now.tv_sec} * 1'000'000 + now.tv_nsec / 1000;
}

bool shards_alive(const std::uint64_t* turns_now, const std::uint64_t* turns_before, const bool* shard_done,
                  std::uint32_t shard_count) {
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        if (!shard_done[i] && turns_now[i] == turns_before[i]) return false;
    }
    return true;
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
