#include "daemon/local_addresses.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace supervent::daemon {
namespace {

const char* family_name(int family) { return family == AF_INET6 ? "IPv6" : "IPv4"; }

bool parse_literal(const std::string& entry, int family, sockaddr_storage& out) {
    std::memset(&out, 0, sizeof out);
    if (family == AF_INET) {
        auto& v4 = reinterpret_cast<sockaddr_in&>(out);
        v4.sin_family = AF_INET;
        return inet_pton(AF_INET, entry.c_str(), &v4.sin_addr) == 1;
    }
    auto& v6 = reinterpret_cast<sockaddr_in6&>(out);
    v6.sin6_family = AF_INET6;
    return inet_pton(AF_INET6, entry.c_str(), &v6.sin6_addr) == 1;
}

bool is_literal_of_other_family(const std::string& entry, int family) {
    unsigned char buffer[sizeof(in6_addr)];
    return inet_pton(family == AF_INET ? AF_INET6 : AF_INET, entry.c_str(), buffer) == 1;
}

bool find_interface_address(const std::string& name, int family, sockaddr_storage& out, bool& interface_seen) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return false;
    std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> owner(list, &freeifaddrs);
    for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
        if (entry->ifa_name == nullptr || name != entry->ifa_name) continue;
        interface_seen = true;
        if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != family) continue;
        std::memset(&out, 0, sizeof out);
        std::memcpy(&out, entry->ifa_addr, family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
        // Port 0: the kernel picks the source port.
        if (family == AF_INET) reinterpret_cast<sockaddr_in&>(out).sin_port = 0;
        else reinterpret_cast<sockaddr_in6&>(out).sin6_port = 0;
        return true;
    }
    return false;
}

bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
    if (a.ss_family != b.ss_family) return false;
    if (a.ss_family == AF_INET) {
        return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr ==
               reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
    }
    return std::memcmp(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr,
                       &reinterpret_cast<const sockaddr_in6&>(b).sin6_addr, sizeof(in6_addr)) == 0;
}

// Adds `address` (from `entry`) unless an earlier entry named it already: two
// entries for one address would spread connections unevenly over the NICs
// and export its series twice.
void add_once(std::vector<sockaddr_storage>& addresses, const std::vector<std::string>& entries,
              const std::string& entry, const sockaddr_storage& address) {
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        if (!same_address(addresses[i], address)) continue;
        const std::string& earlier = entries[i];
        throw std::invalid_argument("network.bind: '" + entry + "' is " +
                                    (earlier == entry ? "given twice"
                                                      : "the same address as '" + earlier + "' (" +
                                                            address_text(address) + ")") +
                                    ": name each local address once");
    }
    addresses.push_back(address);
}

}  // namespace

std::vector<sockaddr_storage> resolve_local_addresses(const std::vector<std::string>& entries, int family) {
    std::vector<sockaddr_storage> addresses;
    for (const std::string& entry : entries) {
        sockaddr_storage address{};
        if (parse_literal(entry, family, address)) {
            add_once(addresses, entries, entry, address);
            continue;
        }
        if (is_literal_of_other_family(entry, family)) {
            throw std::invalid_argument("network.bind: " + entry + " is not an " + family_name(family) +
                                        " address, but the sink is reached over " + family_name(family));
        }
        bool interface_seen = false;
        if (find_interface_address(entry, family, address, interface_seen)) {
            add_once(addresses, entries, entry, address);
            continue;
        }
        throw std::invalid_argument(interface_seen ? "network.bind: interface " + entry + " has no " +
                                                         family_name(family) + " address"
                                                   : "network.bind: '" + entry +
                                                         "' is neither an IP address nor an interface on this machine");
    }
    return addresses;
}

std::string address_text(const sockaddr_storage& address) {
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text, sizeof text);
    } else {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, text, sizeof text);
    }
    return text;
}

}  // namespace supervent::daemon
