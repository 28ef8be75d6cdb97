#pragma once
// The plain-C fixed-schema web_access serializer supervent-bench-core measures
// the engine against (see web_access_peer.cpp for what it does and why).
#include <cstddef>
#include <cstdint>

namespace supervent::bench {

class PlainCPeer {
public:
    // Longest event it writes, with room to spare.
    static constexpr std::size_t event_bytes_max = 1024;
    // Writes `count` NDJSON events timed within [begin_ns, end_ns); returns the bytes.
    std::size_t write_batch(std::uint32_t count, std::int64_t begin_ns, std::int64_t end_ns, char* out);

private:
    char* write_event(char* p, std::int64_t time_ns);
    void render_second(std::int64_t second);

    std::uint64_t state_ = 42;
    std::int64_t second_ = -1;
    char rfc3339_[20] = {};  // "2026-11-18T11:06:40."
    char apache_[26] = {};   // "18/Nov/2026:11:06:40 +0000"
};

}  // namespace supervent::bench
