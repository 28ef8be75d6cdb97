#include "net/zstd_compressor.hpp"

#include <zstd.h>

#include <string>

namespace supervent::net {

ZstdCompressor::ZstdCompressor(int level) : context_(ZSTD_createCCtx()), level_(level) {
    if (context_ == nullptr) throw std::runtime_error("cannot create a zstd compression context");
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
        ZSTD_freeCCtx(context_);
        throw std::invalid_argument("zstd level " + std::to_string(level) + " is outside " +
                                    std::to_string(ZSTD_minCLevel()) + ".." + std::to_string(ZSTD_maxCLevel()));
    }
    ZSTD_CCtx_setParameter(context_, ZSTD_c_compressionLevel, level);
    // The receiver learns the size from the frame: cheaper decompression.
    ZSTD_CCtx_setParameter(context_, ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setParameter(context_, ZSTD_c_checksumFlag, 0);
}

ZstdCompressor::~ZstdCompressor() { ZSTD_freeCCtx(context_); }

std::size_t ZstdCompressor::bound_bytes(std::size_t input_bytes) { return ZSTD_compressBound(input_bytes); }

std::size_t ZstdCompressor::compress(std::span<const char> in, std::span<char> out) {
    const std::size_t result = ZSTD_compress2(context_, out.data(), out.size(), in.data(), in.size());
    if (ZSTD_isError(result) != 0) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(result));
    return result;
}

}  // namespace supervent::net
