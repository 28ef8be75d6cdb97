#pragma once
// Fault injection for supervent-sink (--faults): the one place that decides,
// per ingest request, whether the sink misbehaves and how. The server asks
// FaultPlan::decide once a request head is parsed and acts on the answer.
//
// Spec: comma-separated RULE@SHARE, SHARE as "10%" or "0.1"; shares add up to
// at most 1 and each request gets at most one fault. Rules:
//   status=CODE       answer CODE (400..599) instead of ingesting; 429 carries
//                     X-RateLimit-Limit/-Remaining/-Reset, 430 X-IngestLimit-*
//   close             close the connection after the head, without answering
//   delay=MS[ms]      ingest normally, answer after MS milliseconds
//   slow_read=RATE    read the body at about RATE bytes/s (K/M/KiB/MiB suffixes)
// Example: "status=503@10%,status=429@5%,close@2%,delay=50ms@10%"
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace supervent::sink {

enum class FaultKind { none, status, close, delay, slow_read };

struct FaultAction {
    FaultKind kind = FaultKind::none;
    int status = 0;                   // status
    std::uint32_t delay_ms = 0;       // delay
    std::uint64_t bytes_per_s = 0;    // slow_read
};

struct FaultRule {
    FaultAction action;
    double share = 0;  // of ingest requests, 0..1
};

class FaultPlan {
public:
    FaultPlan() = default;
    // Throws std::invalid_argument naming the bad rule.
    static FaultPlan parse(std::string_view spec, std::uint64_t seed);

    // Deterministic in (seed, request_sequence): a rerun with the same seed
    // and request order injects the same faults.
    [[nodiscard]] FaultAction decide(std::uint64_t request_sequence) const noexcept;
    [[nodiscard]] bool empty() const noexcept { return rules_.empty(); }
    [[nodiscard]] const std::vector<FaultRule>& rules() const noexcept { return rules_; }

private:
    std::vector<FaultRule> rules_;
    std::uint64_t seed_ = 1;
};

// Parses "1048576", "64KiB", "1M", "2GiB" (K/M/G are powers of 1000, KiB/MiB/GiB of 1024).
// Throws std::invalid_argument.
[[nodiscard]] std::uint64_t parse_size_bytes(std::string_view text);

}  // namespace supervent::sink
