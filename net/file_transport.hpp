#pragma once
// Batches appended to a file, a pipe or stdout with WRITE_FIXED from the
// registered slot: one write in flight at a time, so bytes land in order.
//
// Size-based rotation (file: sinks): before a batch that would take the file
// past rotate_bytes, PATH.(keep-1) → PATH.keep, …, PATH.1 → PATH.2, PATH →
// PATH.1 and a new PATH is opened. It happens in try_start, on the ring's
// thread, only while no write is in flight (one at a time, so between
// batches): a batch is never split over two files, and no byte is lost.
#include <cstdint>
#include <string>

#include "net/ring.hpp"
#include "net/transport.hpp"

namespace supervent::net {

struct FileRotation {
    std::string path;              // the file fd writes (renamed when it rotates)
    std::uint64_t rotate_bytes = 0;  // 0 = never rotate
    std::uint32_t keep = 5;        // rotated files kept: PATH.1 (newest) … PATH.keep
};

class FileTransport final : public Transport {
public:
    // Takes ownership of fd (closes it, unless it is stdout). With
    // rotation.rotate_bytes > 0, fd must be an O_APPEND descriptor of
    // rotation.path; the bytes already in it count towards the first file.
    FileTransport(Ring& ring, SlotListener& listener, int fd, std::string description, FileRotation rotation = {});
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

    // Files begun by rotation so far.
    [[nodiscard]] std::uint64_t rotations() const { return rotations_; }

private:
    void post_write(Slot& slot);
    // Renames the files along and opens a new PATH; false (and fatal_error_
    // set) when the file system refuses.
    bool rotate();

    Ring& ring_;
    SlotListener& listener_;
    int fd_;
    std::string description_;
    bool busy_ = false;
    std::size_t written_bytes_ = 0;  // of the current slot
    FileRotation rotation_;
    std::uint64_t file_bytes_ = 0;   // in the current file (with rotation)
    std::uint64_t rotations_ = 0;
    std::string fatal_error_;
    TransportCounters counters_;
};

}  // namespace supervent::net
