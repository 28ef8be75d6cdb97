#pragma once
// One shard's gzip compressor (Content-Encoding: gzip), for the HTTP log
// APIs that take gzip but not zstd (Elasticsearch, Loki, Splunk HEC,
// Datadog; Axiom takes both). Like ZstdCompressor: one deflate stream made
// at start-up (zlib allocates its state there) and reset per batch, so
// compression allocates nothing on the data path.
#include <cstddef>
#include <memory>
#include <span>

namespace supervent::net {

class GzipCompressor {
public:
    // level: zlib's 1 (fastest) … 9.
    explicit GzipCompressor(int level);
    ~GzipCompressor();
    GzipCompressor(const GzipCompressor&) = delete;
    GzipCompressor& operator=(const GzipCompressor&) = delete;

    // The most bytes compress() may write for `input_bytes` of input.
    [[nodiscard]] static std::size_t bound_bytes(std::size_t input_bytes);
    // One whole gzip member into `out` (at least bound_bytes(in.size())).
    // Throws std::runtime_error on a zlib error (a broken invariant).
    std::size_t compress(std::span<const char> in, std::span<char> out);

private:
    struct Stream;
    std::unique_ptr<Stream> stream_;
};

}  // namespace supervent::net
