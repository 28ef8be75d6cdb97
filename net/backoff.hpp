#pragma once
// Exponential backoff with jitter, shared by reconnects and batch retries.
//
// The delay for the n-th consecutive failure is drawn from the upper half of
// min << n (capped at max): growing waits, and peers that failed together do
// not all come back at the same instant. No allocation, no lock: one per owner.
#include <algorithm>
#include <cstdint>

namespace supervent::net {

class Backoff {
public:
    explicit Backoff(std::uint64_t seed) : state_(seed | 1) {}

    // A delay in [ceiling/2, ceiling], ceiling = min(max_ns, min_ns << exponent).
    [[nodiscard]] std::int64_t delay_ns(std::uint32_t exponent, std::int64_t min_ns, std::int64_t max_ns) {
        const std::uint32_t shift = std::min<std::uint32_t>(exponent, 20);
        const std::int64_t ceiling = std::min(max_ns, min_ns << shift);
        state_ ^= state_ << 13;  // xorshift64: plenty for jitter
        state_ ^= state_ >> 7;
        state_ ^= state_ << 17;
        return ceiling / 2 + static_cast<std::int64_t>(state_ % static_cast<std::uint64_t>(ceiling / 2 + 1));
    }

private:
    std::uint64_t state_;
};

}  // namespace supervent::net
