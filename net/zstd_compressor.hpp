#pragma once
// One shard's zstd compressor: a context made once at start-up and reused for
// every batch, so compression allocates nothing after the first frame.
//
// It lives in net/ beside the framer: compression is part of turning a batch
// into wire bytes (Content-Encoding), and the shard's only user of it.
#include <cstddef>
#include <span>
#include <stdexcept>

struct ZSTD_CCtx_s;

namespace supervent::net {

class ZstdCompressor {
public:
    // level: zstd's levels, negative ones are the fast modes (-7 … 22).
    explicit ZstdCompressor(int level);
    ~ZstdCompressor();
    ZstdCompressor(const ZstdCompressor&) = delete;
    ZstdCompressor& operator=(const ZstdCompressor&) = delete;

    // The most bytes compress() may write for `input_bytes` of input.
    [[nodiscard]] static std::size_t bound_bytes(std::size_t input_bytes);
    // Compresses one whole frame into `out` (at least bound_bytes(in.size())).
    // Returns the frame's size. Throws std::runtime_error on a zstd error,
    // which with a sufficient bound means a broken invariant.
    std::size_t compress(std::span<const char> in, std::span<char> out);

    [[nodiscard]] int level() const { return level_; }

private:
    ZSTD_CCtx_s* context_ = nullptr;
    int level_ = 1;
};

}  // namespace supervent::net
