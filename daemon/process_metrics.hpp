#pragma once
// The process_* metrics Prometheus client libraries export by convention
// (CPU seconds, memory, file descriptors, start time), read from /proc/self
// and the kernel at scrape time. Control path only.
#include "daemon/telemetry.hpp"

namespace supervent::daemon {

// Appends process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds and
// process_start_time_seconds. What cannot be read is left out.
void write_process_metrics(PrometheusText& out);

}  // namespace supervent::daemon
