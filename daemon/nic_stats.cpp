#include "daemon/nic_stats.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace supervent::daemon {

namespace {

// The counters an operator compares with supervent's bytes and failures.
constexpr const char* counter_names[] = {"tx_bytes", "rx_bytes", "tx_packets", "rx_packets",
                                         "tx_errors", "tx_dropped", "rx_errors", "rx_dropped"};

bool same_host(const sockaddr* a, const sockaddr_storage& b) {
    if (a == nullptr || a->sa_family != b.ss_family) return false;
    if (a->sa_family == AF_INET) {
        return reinterpret_cast<const sockaddr_in*>(a)->sin_addr.s_addr ==
               reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
    }
    if (a->sa_family == AF_INET6) {
        return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr,
                           &reinterpret_cast<const sockaddr_in6&>(b).sin6_addr, sizeof(in6_addr)) == 0;
    }
    return false;
}

// The local address the kernel would pick to reach `sink`.
bool route_source(const sockaddr_storage& sink, socklen_t sink_bytes, sockaddr_storage& local) {
    const int fd = ::socket(sink.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    socklen_t local_bytes = sizeof local;
    const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&sink), sink_bytes) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_bytes) == 0;
    ::close(fd);
    return ok;
}

// The interface's counters the kernel offers, in counter_names order.
std::vector<std::pair<const char*, std::uint64_t>> read_counters(const std::string& name) {
    std::vector<std::pair<const char*, std::uint64_t>> counters;
    for (const char* counter : counter_names) {
        const std::string path = "/sys/class/net/" + name + "/statistics/" + counter;
        std::FILE* file = std::fopen(path.c_str(), "re");
        if (file == nullptr) continue;
        unsigned long long value = 0;
        if (std::fscanf(file, "%llu", &value) == 1) counters.emplace_back(counter, value);
        std::fclose(file);
    }
    return counters;
}

}  // namespace

std::vector<std::string> interfaces_in_use(const sockaddr_storage& sink, socklen_t sink_bytes,
                                           const std::vector<sockaddr_storage>& local) {
    std::vector<sockaddr_storage> wanted = local;
    if (wanted.empty() && sink_bytes > 0) {
        sockaddr_storage source{};
        if (route_source(sink, sink_bytes, source)) wanted.push_back(source);
    }
    std::vector<std::string> names;
    ifaddrs* list = nullptr;
    if (wanted.empty() || ::getifaddrs(&list) != 0) return names;
    for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
        const bool used = std::any_of(wanted.begin(), wanted.end(),
                                      [&](const sockaddr_storage& address) { return same_host(entry->ifa_addr, address); });
        if (used && std::find(names.begin(), names.end(), entry->ifa_name) == names.end()) names.emplace_back(entry->ifa_name);
    }
    ::freeifaddrs(list);
    return names;
}

void write_interface_counters(JsonWriter& json, const std::vector<std::string>& names) {
    json.begin_array();
    for (const std::string& name : names) {
        json.begin_object().field("name", name);
        for (const auto& [counter, value] : read_counters(name)) json.field(counter, value);
        json.end_object();
    }
    json.end_array();
}

// One family per counter (supervent_interface_tx_bytes_total ...), a series
// per interface, so Grafana can set them beside supervent's own bytes.
void write_interface_metrics(PrometheusText& out, const std::vector<std::string>& names) {
    std::vector<std::vector<std::pair<const char*, std::uint64_t>>> values;
    for (const std::string& name : names) values.push_back(read_counters(name));
    for (const char* counter : counter_names) {
        const std::string family = std::string("supervent_interface_") + counter + "_total";
        out.family(family, "counter",
                   std::string("The interface's own ") + counter + " (/sys/class/net/NAME/statistics), for the NICs in use.");
        for (std::size_t i = 0; i < names.size(); ++i) {
            for (const auto& [name, value] : values[i]) {
                if (std::strcmp(name, counter) == 0) out.sample(family, "interface=\"" + names[i] + "\"", double(value));
            }
        }
    }
}

}  // namespace supervent::daemon
