#include "net/gzip_compressor.hpp"

#include <zlib.h>

#include <stdexcept>
#include <string>

namespace supervent::net {

struct GzipCompressor::Stream {
    z_stream z{};
};

GzipCompressor::GzipCompressor(int level) : stream_(std::make_unique<Stream>()) {
    if (level < 1 || level > 9) throw std::invalid_argument("gzip level " + std::to_string(level) + " is outside 1..9");
    // windowBits 15 + 16: a gzip header and trailer around the deflate data.
    if (deflateInit2(&stream_->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        throw std::runtime_error("cannot create a gzip (zlib) compression stream");
    }
}

GzipCompressor::~GzipCompressor() { deflateEnd(&stream_->z); }

std::size_t GzipCompressor::bound_bytes(std::size_t input_bytes) {
    // zlib's compressBound is for its 6-byte zlib wrapper; gzip's is 18.
    return compressBound(static_cast<uLong>(input_bytes)) + 18;
}

std::size_t GzipCompressor::compress(std::span<const char> in, std::span<char> out) {
    z_stream& z = stream_->z;
    if (deflateReset(&z) != Z_OK) throw std::runtime_error("gzip: deflateReset failed");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int result = deflate(&z, Z_FINISH);
    if (result != Z_STREAM_END) throw std::runtime_error("gzip: deflate did not finish (" + std::to_string(result) + ")");
    return out.size() - z.avail_out;
}

}  // namespace supervent::net
