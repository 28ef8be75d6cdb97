#include "net/ring.hpp"

#include <cassert>
#include <cerrno>
#include <cstring>
#include <string>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <cstdio>

namespace supervent::net {
namespace {

std::string errno_text(int err) { return std::string(std::strerror(err)); }

// Tries the fastest setup first and falls back: DEFER_TASKRUN needs 6.1,
// SINGLE_ISSUER 6.0, COOP_TASKRUN 5.19.
int init_ring(io_uring& ring, std::uint32_t entries, RingFeatures& features) {
    const std::uint32_t flag_sets[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    int result = -EINVAL;
    for (std::uint32_t flags : flag_sets) {
        io_uring_params params{};
        params.flags = flags;
        result = io_uring_queue_init_params(entries, &ring, &params);
        if (result == 0) {
            features.single_issuer = (flags & IORING_SETUP_SINGLE_ISSUER) != 0;
            features.defer_taskrun = (flags & IORING_SETUP_DEFER_TASKRUN) != 0;
            features.sq_entries = params.sq_entries;
            features.cq_entries = params.cq_entries;
            return 0;
        }
        if (result != -EINVAL) break;
    }
    return result;
}

// The opcode probe cannot see SEND_ZC's flags; REPORT_USAGE came with 6.2.
bool kernel_at_least(int major, int minor) {
    utsname name{};
    if (uname(&name) != 0) return false;
    int kernel_major = 0, kernel_minor = 0;
    if (std::sscanf(name.release, "%d.%d", &kernel_major, &kernel_minor) != 2) return false;
    return kernel_major > major || (kernel_major == major && kernel_minor >= minor);
}

void probe_opcodes(io_uring& ring, RingFeatures& features) {
    io_uring_probe* probe = io_uring_get_probe_ring(&ring);
    if (probe == nullptr) return;
    features.send_zc = io_uring_opcode_supported(probe, IORING_OP_SEND_ZC) != 0;
    features.send_zc_report_usage = features.send_zc && kernel_at_least(6, 2);
    features.write_fixed = io_uring_opcode_supported(probe, IORING_OP_WRITE_FIXED) != 0;
    features.connect = io_uring_opcode_supported(probe, IORING_OP_CONNECT) != 0;
    features.recv = io_uring_opcode_supported(probe, IORING_OP_RECV) != 0;
    io_uring_free_probe(probe);
}

}  // namespace

std::string describe_memlock_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return "unknown";
    if (limit.rlim_cur == RLIM_INFINITY) return "unlimited";
    return std::to_string(limit.rlim_cur / 1024) + " KiB";
}

Ring::Ring(std::uint32_t entries) {
    const int result = init_ring(ring_, entries, features_);
    if (result == -ENOSYS) {
        throw RingError("io_uring is not available in this kernel (ENOSYS); superventd needs Linux 6.0 or newer");
    }
    if (result == -EPERM) {
        throw RingError("io_uring is disabled (EPERM): set sysctl kernel.io_uring_disabled=0, "
                        "or allow io_uring for this service (seccomp / container policy)");
    }
    if (result == -ENOMEM) {
        throw RingError("io_uring ring allocation failed (ENOMEM); memlock limit is " + describe_memlock_limit() +
                        ": raise it (LimitMEMLOCK= in the unit, ulimit -l)");
    }
    if (result < 0) {
        throw RingError("io_uring_queue_init failed: " + errno_text(-result));
    }
    probe_opcodes(ring_, features_);
    if (!features_.connect || !features_.recv || !features_.write_fixed) {
        io_uring_queue_exit(&ring_);
        throw RingError("this kernel's io_uring lacks CONNECT/RECV/WRITE_FIXED; superventd needs Linux 6.0 or newer");
    }
}

Ring::~Ring() { io_uring_queue_exit(&ring_); }

void Ring::register_buffers(std::span<const iovec> buffers, std::uint32_t spare) {
    reserve_buffers(static_cast<std::uint32_t>(buffers.size()), spare);
    update_buffers(0, buffers);
}

void Ring::reserve_buffers(std::uint32_t reserved, std::uint32_t spare) {
    // A sparse table, filled by updates: buffers can be added to it later
    // (a second registration would be refused with EBUSY).
    const std::uint32_t table_size = reserved + spare;
    const int result = io_uring_register_buffers_sparse(&ring_, table_size);
    if (result < 0) throw RingError("io_uring_register_buffers failed: " + errno_text(-result));
    buffer_table_size_ = table_size;
    next_spare_ = reserved;
}

void Ring::register_buffer_at(std::uint32_t index, const iovec& buffer) {
    assert(index < next_spare_);
    update_buffers(index, std::span<const iovec>(&buffer, 1));
}

std::optional<std::uint32_t> Ring::add_buffers(std::span<const iovec> buffers) {
    if (buffer_table_size_ == 0 || buffers.size() > buffer_table_size_ - next_spare_) return std::nullopt;
    const std::uint32_t first = next_spare_;
    update_buffers(first, buffers);
    next_spare_ += static_cast<std::uint32_t>(buffers.size());
    return first;
}

void Ring::update_buffers(std::uint32_t first, std::span<const iovec> buffers) {
    if (buffers.empty()) return;
    const int result = io_uring_register_buffers_update_tag(&ring_, first, buffers.data(), nullptr,
                                                            static_cast<unsigned>(buffers.size()));
    if (result == -ENOMEM || result == -EPERM) {
        std::size_t total_bytes = 0;
        for (const iovec& buffer : buffers) total_bytes += buffer.iov_len;
        throw RingError("registering " + std::to_string(total_bytes >> 20) +
                        " MiB of send buffers failed (" + errno_text(-result) + "); the memlock limit is " +
                        describe_memlock_limit() +
                        ": raise it (LimitMEMLOCK=infinity in the unit, ulimit -l) or lower "
                        "runtime.batch_events / network.connections");
    }
    if (result < 0) throw RingError("io_uring_register_buffers failed: " + errno_text(-result));
    if (static_cast<std::size_t>(result) != buffers.size()) {
        throw RingError("io_uring registered " + std::to_string(result) + " of " + std::to_string(buffers.size()) +
                        " buffers");
    }
}

io_uring_sqe* Ring::next_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe != nullptr) return sqe;
    const int submitted = io_uring_submit(&ring_);
    if (submitted < 0) throw RingError("io_uring_submit failed: " + errno_text(-submitted));
    sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) throw RingError("io_uring submission queue stays full after submit");
    return sqe;
}

int Ring::submit_and_wait(std::int64_t timeout_ns) {
    int result = 0;
    if (timeout_ns <= 0) {
        result = io_uring_submit(&ring_);
        if (features_.defer_taskrun && result >= 0) {
            // With DEFER_TASKRUN completions are only posted when we ask.
            result = io_uring_get_events(&ring_);
        }
    } else {
        __kernel_timespec timeout{};
        timeout.tv_sec = timeout_ns / 1'000'000'000;
        timeout.tv_nsec = timeout_ns % 1'000'000'000;
        io_uring_cqe* cqe = nullptr;
        result = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &timeout, nullptr);
    }
    if (result == -ETIME || result == -EINTR || result == -EAGAIN || result == -EBUSY) return 0;
    return result < 0 ? result : 0;
}

}  // namespace supervent::net
