#pragma once
// One shard's send buffers: a single mapping cut into equal slots, each
// registered with the shard's ring as a fixed buffer (slot i = buf_index i).
// Allocated once at start-up; huge pages when the system has them.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <sys/uio.h>

namespace supervent::net {

class BufferArena {
public:
    // Maps slot_count slots of at least slot_bytes each. Throws
    // std::runtime_error when memory cannot be had.
    BufferArena(std::uint32_t slot_count, std::size_t slot_bytes);
    ~BufferArena();
    BufferArena(const BufferArena&) = delete;
    BufferArena& operator=(const BufferArena&) = delete;

    [[nodiscard]] std::uint32_t slot_count() const { return static_cast<std::uint32_t>(iovecs_.size()); }
    [[nodiscard]] std::size_t slot_bytes() const { return slot_bytes_; }
    [[nodiscard]] char* slot_data(std::uint32_t slot_index) const {
        return static_cast<char*>(iovecs_[slot_index].iov_base);
    }
    // For Ring::register_buffers.
    [[nodiscard]] std::span<const iovec> iovecs() const { return iovecs_; }
    [[nodiscard]] bool huge_pages() const { return huge_pages_; }
    [[nodiscard]] std::size_t mapped_bytes() const { return mapped_bytes_; }

private:
    void* base_ = nullptr;
    std::size_t mapped_bytes_ = 0;
    std::size_t slot_bytes_ = 0;
    bool huge_pages_ = false;
    std::vector<iovec> iovecs_;
};

}  // namespace supervent::net
