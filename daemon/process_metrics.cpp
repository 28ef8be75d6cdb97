#include "daemon/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

namespace supervent::daemon {
namespace {

double seconds_of(const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; }
double seconds_of(const timespec& t) { return double(t.tv_sec) + double(t.tv_nsec) / 1e9; }

// Open descriptors: the entries of /proc/self/fd, less the one listing it.
long open_fds() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) return -1;
    long count = 0;
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] != '.') ++count;
    }
    ::closedir(dir);
    return count - 1;
}

// When the process started, in Unix seconds: its age is CLOCK_BOOTTIME now
// less its start in clock ticks after boot (/proc/self/stat field 22), so no
// /proc/stat is needed (the unit's ProcSubset=pid hides it).
double start_time_seconds() {
    std::FILE* file = std::fopen("/proc/self/stat", "r");
    if (file == nullptr) return -1;
    char text[1024];
    const std::size_t got = std::fread(text, 1, sizeof text - 1, file);
    std::fclose(file);
    text[got] = '\0';
    // Fields after the command name, which is in parentheses and may hold spaces.
    const char* field = nullptr;
    for (std::size_t i = got; i > 0; --i) {
        if (text[i - 1] == ')') {
            field = text + i;
            break;
        }
    }
    unsigned long long start_ticks = 0;
    if (field == nullptr ||
        std::sscanf(field, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                    &start_ticks) != 1) {
        return -1;
    }
    timespec boot{}, real{};
    ::clock_gettime(CLOCK_BOOTTIME, &boot);
    ::clock_gettime(CLOCK_REALTIME, &real);
    return seconds_of(real) - (seconds_of(boot) - double(start_ticks) / double(::sysconf(_SC_CLK_TCK)));
}

}  // namespace

void write_process_metrics(PrometheusText& out) {
    rusage usage{};
    if (::getrusage(RUSAGE_SELF, &usage) == 0) {
        out.family("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
        out.sample("process_cpu_seconds_total", "", seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime));
    }
    unsigned long long pages_virtual = 0, pages_resident = 0;
    if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(statm, "%llu %llu", &pages_virtual, &pages_resident) == 2) {
            const double page = double(::sysconf(_SC_PAGESIZE));
            out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
            out.sample("process_resident_memory_bytes", "", double(pages_resident) * page);
            out.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
            out.sample("process_virtual_memory_bytes", "", double(pages_virtual) * page);
        }
        std::fclose(statm);
    }
    if (const long fds = open_fds(); fds >= 0) {
        out.family("process_open_fds", "gauge", "Open file descriptors.");
        out.sample("process_open_fds", "", double(fds));
    }
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
        out.family("process_max_fds", "gauge", "The most file descriptors the process may open.");
        out.sample("process_max_fds", "", double(files.rlim_cur));
    }
    if (const double started = start_time_seconds(); started > 0) {
        out.family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.");
        out.sample("process_start_time_seconds", "", started);
    }
}

}  // namespace supervent::daemon
