#pragma once
// This thread's CPU time, the clock of every benchmark here: other jobs on
// the cores (a shared machine) count as little as they can.
#include <time.h>

namespace supervent::bench {

inline double thread_cpu_s() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

}  // namespace supervent::bench
