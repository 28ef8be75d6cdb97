#pragma once
// The network interfaces a run's connections leave by, and the interfaces'
// own counters (/sys/class/net/NAME/statistics), for status and the
// dashboard: what the NIC saw beside what supervent counted. Control path only.
#include <sys/socket.h>

#include <string>
#include <vector>

#include "daemon/json_writer.hpp"
#include "daemon/telemetry.hpp"

namespace supervent::daemon {

// The interfaces holding the --bind addresses `local`, or, without any, the
// one the kernel routes `sink` by (a UDP socket's connect sends nothing).
// Empty when neither can be told (a file or discard sink: sink_bytes 0).
[[nodiscard]] std::vector<std::string> interfaces_in_use(const sockaddr_storage& sink, socklen_t sink_bytes,
                                                         const std::vector<sockaddr_storage>& local);

// [{"name":"eth0","rx_bytes":N,"tx_bytes":N,...}] read now; a counter the
// kernel does not offer is left out.
void write_interface_counters(JsonWriter& json, const std::vector<std::string>& names);

// The same counters as Prometheus families, a series per interface.
void write_interface_metrics(PrometheusText& out, const std::vector<std::string>& names);

}  // namespace supervent::daemon
