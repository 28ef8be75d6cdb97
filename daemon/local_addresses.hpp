#pragma once
// Turning --bind entries (addresses or interface names) into socket
// addresses to bind connections to.
#include <sys/socket.h>

#include <string>
#include <vector>

namespace supervent::daemon {

// Resolves each entry to an address of `family` (the sink's), port 0: an IP
// literal as it is, an interface name to its first address of that family.
// Throws std::invalid_argument naming the entry and what is wrong.
[[nodiscard]] std::vector<sockaddr_storage> resolve_local_addresses(const std::vector<std::string>& entries,
                                                                    int family);

// "127.0.0.2" / "::1" for messages.
[[nodiscard]] std::string address_text(const sockaddr_storage& address);

}  // namespace supervent::daemon
