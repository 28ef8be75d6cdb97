#pragma once
// One io_uring instance, owned by exactly one shard thread.
//
// The ring is created on the thread that will submit to it (SINGLE_ISSUER),
// probes what the kernel offers once, and decodes nothing: completion tags
// are encoded and decoded in one place, net/completion_tag.hpp.
#include <liburing.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <sys/uio.h>

namespace supervent::net {

// What this kernel's io_uring can do, probed once at ring creation.
struct RingFeatures {
    bool send_zc = false;         // IORING_OP_SEND_ZC
    bool write_fixed = false;     // IORING_OP_WRITE_FIXED (the zero-copy fallback)
    bool connect = false;         // IORING_OP_CONNECT
    bool recv = false;            // IORING_OP_RECV
    bool send_zc_report_usage = false;  // IORING_SEND_ZC_REPORT_USAGE (Linux 6.2+)
    bool single_issuer = false;   // IORING_SETUP_SINGLE_ISSUER accepted
    bool defer_taskrun = false;   // IORING_SETUP_DEFER_TASKRUN accepted
    std::uint32_t sq_entries = 0;
    std::uint32_t cq_entries = 0;
};

// Start-up failures carry a message an operator can act on.
struct RingError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Ring {
public:
    // Creates a ring with room for `entries` submissions. Throws RingError
    // (io_uring disabled, too old a kernel, ...) with what to do about it.
    explicit Ring(std::uint32_t entries);
    ~Ring();
    Ring(const Ring&) = delete;
    Ring& operator=(const Ring&) = delete;

    [[nodiscard]] const RingFeatures& features() const { return features_; }
    [[nodiscard]] io_uring* raw() { return &ring_; }

    // Registers fixed buffers; index i of `buffers` becomes buf_index i.
    // The table has room for `spare` more, which add_buffers fills later
    // (a transport's own buffers: TLS ciphertext). Throws RingError with the
    // memlock limit when the kernel refuses.
    void register_buffers(std::span<const iovec> buffers, std::uint32_t spare = 0);
    // The table alone, for buffers registered when first used: entries
    // [0, reserved) wait for register_buffer_at, the `spare` after them for
    // add_buffers. Pinning a buffer faults its pages in (the kernel zeroes
    // them): a shard whose sink is near never pays for the slots a deep
    // pipeline would use.
    void reserve_buffers(std::uint32_t reserved, std::uint32_t spare = 0);
    // Registers `buffer` as buf_index `index` (< reserved). Throws RingError
    // as register_buffers.
    void register_buffer_at(std::uint32_t index, const iovec& buffer);
    // Registers more fixed buffers after those already registered and
    // returns the buf_index of the first; nullopt when the table has no room
    // left (or was never registered). Throws RingError as register_buffers.
    [[nodiscard]] std::optional<std::uint32_t> add_buffers(std::span<const iovec> buffers);

    // A submission entry, submitting what is queued first when the queue is
    // full. Never null: a ring that cannot submit is a fatal error.
    [[nodiscard]] io_uring_sqe* next_sqe();

    // Submits queued entries and waits up to timeout_ns for at least one
    // completion (0 = do not wait). Returns 0 or a negative errno other than
    // ETIME/EINTR/EAGAIN/EBUSY, which mean "nothing yet".
    [[nodiscard]] int submit_and_wait(std::int64_t timeout_ns);

    // Calls fn(const io_uring_cqe&) for every ready completion, then marks
    // them seen. Returns how many there were.
    template <typename Fn>
    std::uint32_t drain(Fn&& fn) {
        std::uint32_t count = 0;
        unsigned head = 0;
        io_uring_cqe* cqe = nullptr;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            fn(*cqe);
            ++count;
        }
        io_uring_cq_advance(&ring_, count);
        return count;
    }

private:
    void update_buffers(std::uint32_t first, std::span<const iovec> buffers);

    io_uring ring_{};
    RingFeatures features_{};
    std::uint32_t next_spare_ = 0;  // add_buffers' next buf_index
    std::uint32_t buffer_table_size_ = 0;
};

// Human-readable description of the memlock limit, for error messages.
[[nodiscard]] std::string describe_memlock_limit();

}  // namespace supervent::net
