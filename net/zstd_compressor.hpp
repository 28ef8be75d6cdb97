#pragma once
// One shard's zstd compressor: a context made once at start-up and reused for
// every batch, so compression allocates nothing after the first frame.
//
// It lives in net/ beside the framer: compression is part of turning a batch
// into wire bytes (Content-Encoding), and the shard's only user of it.
//
// What the context does is a ZstdProfile: a zstd level, and optionally the
// level's advanced parameters overridden one by one. `--compression zstd:N`
// is level N exactly as the zstd CLI's -N (or --fast=-N); `zstd:fast` (and
// plain `zstd`) is zstd_fast_profile_spec, tuned on web_access batches with
// supervent-bench-zstd (BENCHMARKS.md, "zstd: the speed/ratio frontier").
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

struct ZSTD_CCtx_s;

namespace supervent::net {

// How zstd codes the literals (bytes no match covers).
enum class ZstdLiterals : unsigned char {
    level_default,  // what the level does (Huffman, or raw for the --fast levels)
    huffman,        // always Huffman-coded
    raw,            // stored as they are: cheaper on both ends, larger on the wire
};

// A level and, where non-zero, the advanced parameters that replace the
// level's own (zstd's ZSTD_c_* of the same names; 0 keeps the level's value).
struct ZstdProfile {
    int level = 1;
    int strategy = 0;       // ZSTD_c_strategy: 1 fast, 2 dfast, 3 greedy, ...
    int window_log = 0;     // ZSTD_c_windowLog
    int hash_log = 0;       // ZSTD_c_hashLog
    int chain_log = 0;      // ZSTD_c_chainLog
    int search_log = 0;     // ZSTD_c_searchLog
    int min_match = 0;      // ZSTD_c_minMatch
    int target_length = 0;  // ZSTD_c_targetLength (strategy fast: the acceleration)
    ZstdLiterals literals = ZstdLiterals::level_default;

    friend bool operator==(const ZstdProfile&, const ZstdProfile&) = default;
};

// The tuned profile `--compression zstd:fast` (and plain `zstd`) names:
// level 1's fast strategy with a 2^11-entry hash table instead of 2^13, which
// stays in the core's L1 cache: on web_access batches 1.14x level 1's
// compression speed at a ratio of 8.26 instead of 8.45 (supervent-bench-zstd).
inline constexpr std::string_view zstd_fast_profile_spec = "level=1,hlog=11";

// Parses "key=value,key=value": keys level, strategy, wlog, hlog, clog, slog,
// mml, tlen, lit (auto|huffman|raw). Throws std::invalid_argument naming the
// key or value refused. The values are checked against libzstd's bounds.
[[nodiscard]] ZstdProfile parse_zstd_profile(std::string_view spec);
[[nodiscard]] ZstdProfile zstd_fast_profile();
// The profile back as parse_zstd_profile's grammar (keys that are set only).
[[nodiscard]] std::string zstd_profile_spec(const ZstdProfile& profile);

class ZstdCompressor {
public:
    // level: zstd's levels, negative ones are the fast modes (-7 … 22).
    explicit ZstdCompressor(int level);
    explicit ZstdCompressor(const ZstdProfile& profile);
    ~ZstdCompressor();
    ZstdCompressor(const ZstdCompressor&) = delete;
    ZstdCompressor& operator=(const ZstdCompressor&) = delete;

    // The most bytes compress() may write for `input_bytes` of input.
    [[nodiscard]] static std::size_t bound_bytes(std::size_t input_bytes);
    // Compresses one whole frame into `out` (at least bound_bytes(in.size())).
    // Returns the frame's size. Throws std::runtime_error on a zstd error,
    // which with a sufficient bound means a broken invariant.
    std::size_t compress(std::span<const char> in, std::span<char> out);

    [[nodiscard]] int level() const { return profile_.level; }
    [[nodiscard]] const ZstdProfile& profile() const { return profile_; }

private:
    ZSTD_CCtx_s* context_ = nullptr;
    ZstdProfile profile_;
};

}  // namespace supervent::net
