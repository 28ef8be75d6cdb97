#pragma once
// Batches appended to a file, a pipe or stdout with WRITE_FIXED from the
// registered slot: one write in flight at a time, so bytes land in order.
#include <cstdint>
#include <string>

#include "net/ring.hpp"
#include "net/transport.hpp"

namespace supervent::net {

class FileTransport final : public Transport {
public:
    // Takes ownership of fd (closes it, unless it is stdout).
    FileTransport(Ring& ring, SlotListener& listener, int fd, std::string description);
    ~FileTransport() override;

    bool try_start(Slot& slot, std::int64_t now_ns) override;
    void on_completion(const io_uring_cqe& cqe, CompletionTag tag, std::int64_t now_ns) override;
    void on_tick(std::int64_t, bool) override {}
    [[nodiscard]] std::int64_t next_deadline_ns() const override { return INT64_MAX; }
    // A file write cannot be recalled; it completes on its own.
    void abort_in_flight(std::int64_t) override {}
    void begin_shutdown() override {}
    [[nodiscard]] bool quiescent() const override { return !busy_; }
    [[nodiscard]] const std::string& fatal_error() const override { return fatal_error_; }
    [[nodiscard]] const TransportCounters& counters() const override { return counters_; }

private:
    void post_write(Slot& slot);

    Ring& ring_;
    SlotListener& listener_;
    int fd_;
    std::string description_;
    bool busy_ = false;
    std::size_t written_bytes_ = 0;  // of the current slot
    std::string fatal_error_;
    TransportCounters counters_;
};

}  // namespace supervent::net
