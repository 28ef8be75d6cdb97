#pragma once
// The systemd notify protocol (sd_notify(3)), spoken directly: one datagram
// of "KEY=VALUE" lines to $NOTIFY_SOCKET. A no-op when not run by systemd.
#include <cstdint>
#include <string>
#include <string_view>

namespace supervent::daemon {

class Notifier {
public:
    // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the
    // environment ("" / 0 = not under systemd, no watchdog).
    Notifier();
    explicit Notifier(std::string socket_path, std::int64_t watchdog_usec = 0)
        : socket_path_(std::move(socket_path)), watchdog_usec_(watchdog_usec) {}

    [[nodiscard]] bool enabled() const { return !socket_path_.empty(); }
    // The watchdog interval systemd expects pings within; 0 = no watchdog.
    [[nodiscard]] std::int64_t watchdog_usec() const { return watchdog_usec_; }
    // Sends `state` (e.g. "READY=1\nSTATUS=running"). Returns false on error.
    bool notify(std::string_view state) const;

private:
    std::string socket_path_;
    std::int64_t watchdog_usec_ = 0;
};

// CLOCK_MONOTONIC in microseconds, for RELOADING=1's MONOTONIC_USEC=.
[[nodiscard]] std::int64_t monotonic_usec();

// The watchdog's rule: ping only while every shard that is still running
// has turned its loop since the last ping (a stuck shard withholds it).
[[nodiscard]] bool shards_alive(const std::uint64_t* turns_now, const std::uint64_t* turns_before,
                                const bool* shard_done, std::uint32_t shard_count);

}  // namespace supervent::daemon
