#include "sink/body.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include <zstd.h>
#ifdef SUPERVENT_SINK_HAVE_ZLIB
#include <zlib.h>
#endif

namespace supervent::sink {
namespace {

// parse_many works on windows of this size; an event larger than this fails
// the fast path and is parsed on its own instead.
constexpr std::size_t parse_many_batch_bytes = 1'000'000;

// Calls fn(line) for each non-empty line. A line holding only the CR of a
// CRLF pair is empty too, so CRLF-terminated NDJSON counts the same as LF.
template <typename Fn>
void for_each_line(std::string_view body, Fn&& fn) {
    const char* p = body.data();
    const char* const end = p + body.size();
    while (p < end) {
        const auto* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
        const char* line_end = lf == nullptr ? end : lf;
        const auto length = static_cast<std::size_t>(line_end - p);
        if (length > 1 || (length == 1 && *p != '\r')) fn(std::string_view(p, length));
        p = line_end + 1;
    }
}

// Total decompressed size when every frame declares it, from the stable API
// (ZSTD_findDecompressedSize is experimental and needs static linking).
unsigned long long zstd_decompressed_bytes(std::string_view wire) noexcept {
    unsigned long long total = 0;
    while (!wire.empty()) {
        const unsigned long long frame_bytes = ZSTD_getFrameContentSize(wire.data(), wire.size());
        if (frame_bytes == ZSTD_CONTENTSIZE_ERROR || frame_bytes == ZSTD_CONTENTSIZE_UNKNOWN) return frame_bytes;
        const std::size_t compressed_bytes = ZSTD_findFrameCompressedSize(wire.data(), wire.size());
        if (ZSTD_isError(compressed_bytes)) return ZSTD_CONTENTSIZE_ERROR;
        total += frame_bytes;
        wire.remove_prefix(compressed_bytes);
    }
    return total;
}

const char* json_error(simdjson::error_code error) noexcept { return simdjson::error_message(error); }

}  // namespace

void ByteBuffer::reserve(std::size_t bytes, std::size_t keep_bytes) {
    if (bytes <= capacity_bytes_) return;
    // Double at least, so a body growing chunk by chunk reallocates only log(n) times.
    const std::size_t new_capacity = std::max(bytes, capacity_bytes_ * 2);
    std::unique_ptr<char[]> grown(new char[new_capacity + body_padding_bytes]);
    if (keep_bytes > 0) std::memcpy(grown.get(), data_.get(), keep_bytes);
    std::memset(grown.get() + new_capacity, 0, body_padding_bytes);
    data_ = std::move(grown);
    capacity_bytes_ = new_capacity;
}

void CountResult::add_failure(std::uint64_t event_index, const char* error) noexcept {
    ++invalid;
    if (failures_count < failures.size()) failures[failures_count++] = Failure{event_index, error};
}

std::uint64_t count_lines(std::string_view body) noexcept {
    std::uint64_t lines = 0;
    for_each_line(body, [&](std::string_view) { ++lines; });
    return lines;
}

CountResult count_csv(std::string_view body, bool verify) noexcept {
    CountResult result;
    std::uint64_t header_fields = 0;  // 0 until the header record is read
    std::uint64_t index = 0;          // of the next event
    std::size_t at = 0;
    const std::size_t size = body.size();
    while (at < size) {
        // One record: fields separated by ',' up to a line break outside quotes.
        std::uint64_t fields = 1;
        const char* error = nullptr;
        const std::size_t record_start = at;
        bool field_start = true;
        for (;;) {
            if (at == size) break;
            const char c = body[at];
            if (field_start && c == '"') {
                // A quoted field: up to the closing quote ("" is a quote inside).
                ++at;
                for (;;) {
                    const void* quote = std::memchr(body.data() + at, '"', size - at);
                    if (quote == nullptr) {
                        at = size;
                        if (error == nullptr) error = "unterminated quoted field";
                        break;
                    }
                    at = static_cast<std::size_t>(static_cast<const char*>(quote) - body.data()) + 1;
                    if (at < size && body[at] == '"') {
                        ++at;
                        continue;
                    }
                    break;
                }
                field_start = false;
                if (at < size && body[at] != ',' && body[at] != '\n' && body[at] != '\r' && error == nullptr) {
                    error = "text after a closing quote";
                }
                continue;
            }
            if (c == '\n') break;
            if (c == '\r' && at + 1 < size && body[at + 1] == '\n') {
                ++at;
                break;
            }
            if (c == ',') {
                ++fields;
                field_start = true;
            } else {
                if (c == '"' && error == nullptr) error = "quote inside an unquoted field";
                field_start = false;
            }
            ++at;
        }
        const bool blank = at == record_start || (at == record_start + 1 && body[record_start] == '\r');
        if (at < size) ++at;  // the '\n'
        if (blank) continue;
        if (header_fields == 0) {
            header_fields = fields;
            continue;
        }
        if (!verify) {
            ++result.events;
        } else if (error != nullptr) {
            result.add_failure(index, error);
        } else if (fields != header_fields) {
            result.add_failure(index, "the record's field count differs from the header's");
        } else {
            ++result.events;
        }
        ++index;
    }
    return result;
}

struct BodyProcessor::Codecs {
    ZSTD_DCtx* zstd = ZSTD_createDCtx();
#ifdef SUPERVENT_SINK_HAVE_ZLIB
    z_stream zlib{};
    bool zlib_ready = false;
#endif
    ~Codecs() {
        ZSTD_freeDCtx(zstd);
#ifdef SUPERVENT_SINK_HAVE_ZLIB
        if (zlib_ready) inflateEnd(&zlib);
#endif
    }
};

BodyProcessor::BodyProcessor() : codecs_(std::make_unique<Codecs>()) {
    if (codecs_->zstd == nullptr) throw std::bad_alloc();
    // The worker thread parse_many would start per request competes with the
    // I/O threads for the same cores; one thread per connection is enough.
    parser_.threaded = false;
}

BodyProcessor::~BodyProcessor() = default;

DecodeResult BodyProcessor::decode(ContentEncoding encoding, std::string_view wire, std::uint64_t decoded_bytes_max) {
    switch (encoding) {
    case ContentEncoding::identity:
        return {BodyError::none, wire, nullptr};
    case ContentEncoding::zstd:
        return decode_zstd(wire, decoded_bytes_max);
    case ContentEncoding::gzip:
        return decode_gzip(wire, decoded_bytes_max);
    case ContentEncoding::unsupported:
        break;
    }
    return {BodyError::bad_encoding, {}, "unsupported Content-Encoding"};
}

DecodeResult BodyProcessor::decode_zstd(std::string_view wire, std::uint64_t decoded_bytes_max) {
    if (wire.empty()) return {BodyError::none, std::string_view(decoded_.data(), 0), nullptr};
    const unsigned long long known_bytes = zstd_decompressed_bytes(wire);
    if (known_bytes == ZSTD_CONTENTSIZE_ERROR) return {BodyError::bad_encoding, {}, "invalid zstd frame"};
    if (known_bytes != ZSTD_CONTENTSIZE_UNKNOWN) {
        // Every frame declares its size: one call straight into the buffer.
        if (known_bytes > decoded_bytes_max) return {BodyError::too_large, {}, "decompressed body too large"};
        decoded_.reserve(std::max<std::size_t>(known_bytes, 1), 0);
        const std::size_t got = ZSTD_decompressDCtx(codecs_->zstd, decoded_.data(), known_bytes, wire.data(), wire.size());
        if (ZSTD_isError(got) || got != known_bytes) return {BodyError::bad_encoding, {}, "corrupt zstd body"};
        return {BodyError::none, std::string_view(decoded_.data(), got), nullptr};
    }
    // Streaming frames: decompress into the buffer, doubling it when full.
    ZSTD_DCtx_reset(codecs_->zstd, ZSTD_reset_session_only);
    decoded_.reserve(std::min<std::size_t>(decoded_bytes_max, std::max<std::size_t>(wire.size() * 4, 64 * 1024)), 0);
    ZSTD_inBuffer in{wire.data(), wire.size(), 0};
    ZSTD_outBuffer out{decoded_.data(), decoded_.capacity(), 0};
    for (;;) {
        const std::size_t left = ZSTD_decompressStream(codecs_->zstd, &out, &in);
        if (ZSTD_isError(left)) return {BodyError::bad_encoding, {}, "corrupt zstd body"};
        if (left == 0 && in.pos == in.size) break;
        if (out.pos < out.size) {
            // Output room remains, so zstd stopped for lack of input.
            if (in.pos == in.size) return {BodyError::bad_encoding, {}, "truncated zstd body"};
            continue;
        }
        if (out.size >= decoded_bytes_max) return {BodyError::too_large, {}, "decompressed body too large"};
        decoded_.reserve(std::min<std::size_t>(decoded_bytes_max, out.size * 2), out.pos);
        out.dst = decoded_.data();
        out.size = decoded_.capacity();
    }
    if (out.pos > decoded_bytes_max) return {BodyError::too_large, {}, "decompressed body too large"};
    return {BodyError::none, std::string_view(decoded_.data(), out.pos), nullptr};
}

#ifdef SUPERVENT_SINK_HAVE_ZLIB
DecodeResult BodyProcessor::decode_gzip(std::string_view wire, std::uint64_t decoded_bytes_max) {
    if (wire.empty()) return {BodyError::none, std::string_view(decoded_.data(), 0), nullptr};
    z_stream& z = codecs_->zlib;
    // 15 + 32: a 32 KiB window, and accept both gzip and zlib headers.
    if (!codecs_->zlib_ready) {
        if (inflateInit2(&z, 15 + 32) != Z_OK) return {BodyError::bad_encoding, {}, "cannot start gzip decoder"};
        codecs_->zlib_ready = true;
    } else if (inflateReset(&z) != Z_OK) {
        return {BodyError::bad_encoding, {}, "cannot reset gzip decoder"};
    }
    decoded_.reserve(std::min<std::size_t>(decoded_bytes_max, std::max<std::size_t>(wire.size() * 4, 64 * 1024)), 0);
    constexpr std::size_t step_bytes_max = std::numeric_limits<uInt>::max();
    std::size_t in_pos = 0;
    std::size_t out_pos = 0;
    for (;;) {
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(wire.data() + in_pos));
        z.avail_in = static_cast<uInt>(std::min(wire.size() - in_pos, step_bytes_max));
        z.next_out = reinterpret_cast<Bytef*>(decoded_.data() + out_pos);
        z.avail_out = static_cast<uInt>(std::min(decoded_.capacity() - out_pos, step_bytes_max));
        const uInt in_before = z.avail_in;
        const uInt out_before = z.avail_out;
        const int rc = inflate(&z, Z_NO_FLUSH);
        in_pos += in_before - z.avail_in;
        out_pos += out_before - z.avail_out;
        if (rc == Z_STREAM_END) {
            if (in_pos == wire.size()) break;
            // Another gzip member follows (concatenated gzip files are valid).
            if (inflateReset(&z) != Z_OK) return {BodyError::bad_encoding, {}, "corrupt gzip body"};
            continue;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) return {BodyError::bad_encoding, {}, "corrupt gzip body"};
        if (out_pos < decoded_.capacity()) {
            if (in_pos == wire.size()) return {BodyError::bad_encoding, {}, "truncated gzip body"};
            continue;
        }
        if (decoded_.capacity() >= decoded_bytes_max) return {BodyError::too_large, {}, "decompressed body too large"};
        decoded_.reserve(std::min<std::size_t>(decoded_bytes_max, decoded_.capacity() * 2), out_pos);
    }
    if (out_pos > decoded_bytes_max) return {BodyError::too_large, {}, "decompressed body too large"};
    return {BodyError::none, std::string_view(decoded_.data(), out_pos), nullptr};
}
#else
DecodeResult BodyProcessor::decode_gzip(std::string_view, std::uint64_t) {
    return {BodyError::bad_encoding, {}, "gzip bodies are not supported by this build (zlib was missing); use zstd"};
}
#endif

CountResult BodyProcessor::count(ContentType type, std::string_view body, bool verify, BodyError& body_error,
                                 const char*& message) {
    body_error = BodyError::none;
    message = nullptr;
    switch (type) {
    case ContentType::ndjson:
        if (!verify) return CountResult{count_lines(body)};
        return count_ndjson_verified(body);
    case ContentType::json:
        return count_json(body, verify, body_error, message);
    case ContentType::csv:
        // The first record is the header row.
        return count_csv(body, verify);
    case ContentType::unsupported:
        break;
    }
    body_error = BodyError::bad_json;
    message = "unsupported Content-Type";
    return {};
}

CountResult BodyProcessor::count_ndjson_verified(std::string_view body) {
    const std::uint64_t lines = count_lines(body);
    if (lines == 0) return {};
    // Fast path: one parse_many pass over the whole body. It is only trusted
    // when it found exactly one object starting on each line; anything else
    // (an error, a non-object, two documents on a line) goes line by line to
    // find out which events are bad.
    bool clean = false;
    {
        simdjson::dom::document_stream stream;
        if (!parser_.parse_many(body.data(), body.size(), parse_many_batch_bytes).get(stream)) {
            std::uint64_t documents = 0;
            std::size_t next_line_start = 0;
            clean = true;
            for (auto it = stream.begin(); it != stream.end(); ++it) {
                simdjson::dom::element element;
                const std::size_t start = it.current_index();
                if ((*it).get(element) || !element.is_object() || start < next_line_start) {
                    clean = false;
                    break;
                }
                const void* lf = std::memchr(body.data() + start, '\n', body.size() - start);
                next_line_start = lf == nullptr ? body.size() : static_cast<std::size_t>(static_cast<const char*>(lf) - body.data()) + 1;
                ++documents;
            }
            clean = clean && documents == lines && stream.truncated_bytes() == 0;
        }
    }
    if (clean) return CountResult{lines};
    return count_ndjson_per_line(body);
}

CountResult BodyProcessor::count_ndjson_per_line(std::string_view body) {
    CountResult result;
    std::uint64_t index = 0;
    for_each_line(body, [&](std::string_view line) {
        simdjson::dom::element element;
        // The line sits inside the padded body, so no copy is needed.
        const simdjson::error_code error = parser_.parse(line.data(), line.size(), false).get(element);
        if (error) result.add_failure(index, json_error(error));
        else if (!element.is_object()) result.add_failure(index, "event is not a JSON object");
        else ++result.events;
        ++index;
    });
    return result;
}

CountResult BodyProcessor::count_json(std::string_view body, bool verify, BodyError& body_error, const char*& message) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return {};
    simdjson::dom::element root;
    if (const auto error = parser_.parse(body.data(), body.size(), false).get(root); error) {
        body_error = BodyError::bad_json;
        message = json_error(error);
        return {};
    }
    if (root.is_object()) return CountResult{1};
    simdjson::dom::array array;
    if (root.get(array)) {
        body_error = BodyError::bad_json;
        message = "expected a JSON array of objects or one object";
        return {};
    }
    CountResult result;
    std::uint64_t index = 0;
    for (simdjson::dom::element element : array) {
        if (verify && !element.is_object()) result.add_failure(index, "event is not a JSON object");
        else ++result.events;
        ++index;
    }
    return result;
}

}  // namespace supervent::sink
