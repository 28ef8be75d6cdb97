#pragma once
// The systemd notify protocol (sd_notify(3)), spoken directly: one datagram
// of "KEY=VALUE" lines to $NOTIFY_SOCKET. A no-op when not run by systemd.
#include <string>
#include <string_view>

namespace supervent::daemon {

class Notifier {
public:
    // Reads NOTIFY_SOCKET from the environment ("" = not under systemd).
    Notifier();
    explicit Notifier(std::string socket_path) : socket_path_(std::move(socket_path)) {}

    [[nodiscard]] bool enabled() const { return !socket_path_.empty(); }
    // Sends `state` (e.g. "READY=1\nSTATUS=running"). Returns false on error.
    bool notify(std::string_view state) const;

private:
    std::string socket_path_;
};

}  // namespace supervent::daemon
