#include "net/buffer_arena.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <sys/mman.h>

namespace supervent::net {
namespace {

constexpr std::size_t page_bytes = 4096;
constexpr std::size_t huge_page_bytes = 2u << 20;

constexpr std::size_t round_up(std::size_t value, std::size_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

}  // namespace

BufferArena::BufferArena(std::uint32_t slot_count, std::size_t slot_bytes) {
    if (slot_count == 0 || slot_bytes == 0) throw std::invalid_argument("buffer arena needs at least one slot");
    // Slots start on page boundaries so the kernel can pin each independently.
    slot_bytes_ = round_up(slot_bytes, page_bytes);
    const std::size_t total_bytes = slot_bytes_ * slot_count;

    // Explicit huge pages first (only when the administrator reserved some),
    // then ordinary pages with a transparent-huge-page hint.
    mapped_bytes_ = round_up(total_bytes, huge_page_bytes);
    base_ = mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    huge_pages_ = base_ != MAP_FAILED;
    if (!huge_pages_) {
        mapped_bytes_ = total_bytes;
        base_ = mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base_ == MAP_FAILED) {
            base_ = nullptr;
            throw std::runtime_error("cannot map " + std::to_string(total_bytes >> 20) +
                                     " MiB of send buffers: " + std::strerror(errno));
        }
        (void)madvise(base_, mapped_bytes_, MADV_HUGEPAGE);  // a hint; failure is harmless
    }
    // Every slot holds a request head with the Authorization token, and event data nobody
    // debugs from a core file: keep the arena out of core dumps.
    (void)madvise(base_, mapped_bytes_, MADV_DONTDUMP);
    iovecs_.reserve(slot_count);
    for (std::uint32_t i = 0; i < slot_count; ++i) {
        iovecs_.push_back(iovec{static_cast<char*>(base_) + std::size_t{i} * slot_bytes_, slot_bytes_});
    }
}

BufferArena::~BufferArena() {
    if (base_ != nullptr) munmap(base_, mapped_bytes_);
}

}  // namespace supervent::net
