#include "net/file_transport.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>

namespace supervent::net {

FileTransport::FileTransport(Ring& ring, SlotListener& listener, int fd, std::string description,
                             FileRotation rotation)
    : ring_(ring), listener_(listener), fd_(fd), description_(std::move(description)), rotation_(std::move(rotation)) {
    struct stat info {};
    if (rotation_.rotate_bytes > 0 && ::fstat(fd_, &info) == 0) file_bytes_ = static_cast<std::uint64_t>(info.st_size);
}

FileTransport::~FileTransport() {
    if (fd_ > STDERR_FILENO) ::close(fd_);
}

bool FileTransport::try_start(Slot& slot, std::int64_t now_ns) {
    if (busy_ || !fatal_error_.empty()) return false;
    // Not busy: no write is in flight on the old descriptor, so it can go.
    if (rotation_.rotate_bytes > 0 && file_bytes_ > 0 && file_bytes_ + slot.body_bytes > rotation_.rotate_bytes &&
        !rotate()) {
        return false;
    }
    busy_ = true;
    written_bytes_ = 0;
    slot.wire_offset = slot.body_offset;  // no head: the body is the file content
    slot.wire_bytes = slot.body_bytes;
    slot.move_to(SlotState::sending);
    slot.send_started_ns = now_ns;
    post_write(slot);
    return true;
}

bool FileTransport::rotate() {
    const std::string& path = rotation_.path;
    auto numbered = [&](std::uint32_t n) { return path + "." + std::to_string(n); };
    // PATH.(keep-1) replaces PATH.keep (the oldest goes), …, PATH.1 → PATH.2.
    for (std::uint32_t n = rotation_.keep; n > 1; --n) {
        if (::rename(numbered(n - 1).c_str(), numbered(n).c_str()) != 0 && errno != ENOENT) {
            fatal_error_ = "rotating " + description_ + ": cannot rename " + numbered(n - 1) + ": " + std::strerror(errno);
            return false;
        }
    }
    if (::rename(path.c_str(), numbered(1).c_str()) != 0) {
        fatal_error_ = "rotating " + description_ + ": cannot rename " + path + ": " + std::strerror(errno);
        return false;
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        fatal_error_ = "rotating " + description_ + ": cannot open a new " + path + ": " + std::strerror(errno);
        return false;
    }
    if (fd_ > STDERR_FILENO) ::close(fd_);
    fd_ = fd;
    file_bytes_ = 0;
    ++rotations_;
    return true;
}

void FileTransport::post_write(Slot& slot) {
    io_uring_sqe* sqe = ring_.next_sqe();
    // Offset -1: at the file position (or append, with O_APPEND), as write(2) would.
    io_uring_prep_write_fixed(sqe, fd_, slot.wire_data() + written_bytes_,
                              static_cast<unsigned>(slot.wire_bytes - written_bytes_), static_cast<std::uint64_t>(-1),
                              static_cast<int>(slot.index));
    io_uring_sqe_set_data64(sqe, CompletionTag::file_write(slot.index).encode());
    ++slot.sends_outstanding;
}

void FileTransport::on_completion(const io_uring_cqe& cqe, CompletionTag tag, std::int64_t now_ns) {
    if (tag.op != Op::write) return;
    Slot& slot = listener_.slot_at(tag.slot_index());
    assert(slot.sends_outstanding == 1);
    --slot.sends_outstanding;
    if (cqe.res > 0) {
        written_bytes_ += static_cast<std::size_t>(cqe.res);
        file_bytes_ += static_cast<std::uint64_t>(cqe.res);
        if (written_bytes_ < slot.wire_bytes) {
            post_write(slot);
            return;
        }
    }
    busy_ = false;
    slot.move_to(SlotState::settling);
    if (cqe.res > 0) {
        slot.verdict = Verdict::acked;
        slot.reason = FailReason::none;
        slot.acked_events = slot.events;
    } else {
        // A write error (disk full, closed pipe) ends this sink: later
        // batches would fail the same way, so they are failed, not retried.
        slot.verdict = Verdict::failed;
        slot.reason = FailReason::io;
        slot.acked_events = 0;
        fatal_error_ = "writing to " + description_ + " failed: " +
                       (cqe.res == 0 ? std::string("wrote nothing") : std::string(std::strerror(-cqe.res)));
    }
    listener_.on_slot_settled(slot, now_ns);
}

}  // namespace supervent::net
