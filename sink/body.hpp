#pragma once
// Request bodies for supervent-sink: decompression into a reusable buffer and
// event counting (lines, or simdjson-verified events). One BodyProcessor per
// connection, so its buffers and parser grow once and are then reused: a
// warmed-up connection does not allocate per request.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <simdjson.h>

#include "sink/http.hpp"

namespace supervent::sink {

// Bytes that must be readable after any body handed to the counter:
// simdjson reads up to this far past the end of its input.
inline constexpr std::size_t body_padding_bytes = simdjson::SIMDJSON_PADDING;
#ifdef SUPERVENT_SINK_HAVE_ZLIB
inline constexpr bool gzip_supported = true;
#else
inline constexpr bool gzip_supported = false;
#endif
// Only the first few invalid events are described in a response, as Axiom does.
inline constexpr std::size_t failures_listed_max = 10;

// A growable byte buffer that keeps body_padding_bytes readable past its
// capacity and never shrinks, so steady-state traffic causes no allocation.
class ByteBuffer {
public:
    [[nodiscard]] char* data() noexcept { return data_.get(); }
    [[nodiscard]] const char* data() const noexcept { return data_.get(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_bytes_; }
    // Grows to at least `bytes`, keeping the first `keep_bytes`.
    void reserve(std::size_t bytes, std::size_t keep_bytes);

private:
    std::unique_ptr<char[]> data_;
    std::size_t capacity_bytes_ = 0;
};

struct Failure {
    std::uint64_t event_index = 0;  // 0-based position of the event in the body
    const char* error = nullptr;    // static text
};

struct CountResult {
    std::uint64_t events = 0;   // accepted (valid, or all when not verifying)
    std::uint64_t invalid = 0;  // rejected by --verify
    std::array<Failure, failures_listed_max> failures{};
    std::size_t failures_count = 0;  // entries used in `failures`

    void add_failure(std::uint64_t event_index, const char* error) noexcept;
};

enum class BodyError { none, too_large, bad_encoding, bad_json };

struct DecodeResult {
    BodyError error = BodyError::none;
    std::string_view body;        // decoded bytes, padded by body_padding_bytes
    const char* message = nullptr;  // static text when error != none
};

// Counts non-empty lines: the sink's definition of an NDJSON event.
[[nodiscard]] std::uint64_t count_lines(std::string_view body) noexcept;

// Counts the records of an RFC 4180 CSV body after its header record: quoted
// fields may hold commas, doubled quotes and line breaks; LF or CRLF end a
// record; blank lines are skipped. With `verify` a record is an event only
// when it is well formed and has as many fields as the header; the others
// are failures (bad quoting, wrong field count).
[[nodiscard]] CountResult count_csv(std::string_view body, bool verify) noexcept;

class BodyProcessor {
public:
    BodyProcessor();
    ~BodyProcessor();
    BodyProcessor(const BodyProcessor&) = delete;
    BodyProcessor& operator=(const BodyProcessor&) = delete;

    // Decompresses `wire` (padded) when `encoding` asks for it; otherwise
    // returns it as is. Refuses output beyond decoded_bytes_max.
    [[nodiscard]] DecodeResult decode(ContentEncoding encoding, std::string_view wire,
                                      std::uint64_t decoded_bytes_max);

    // Counts the events of a decoded, padded body. With `verify` every event
    // must be a valid JSON object. A JSON body that does not parse at all
    // sets `body_error` instead (the whole request is refused).
    [[nodiscard]] CountResult count(ContentType type, std::string_view body, bool verify,
                                    BodyError& body_error, const char*& message);

private:
    DecodeResult decode_zstd(std::string_view wire, std::uint64_t decoded_bytes_max);
    DecodeResult decode_gzip(std::string_view wire, std::uint64_t decoded_bytes_max);
    CountResult count_ndjson_verified(std::string_view body);
    CountResult count_ndjson_per_line(std::string_view body);
    CountResult count_json(std::string_view body, bool verify, BodyError& body_error, const char*& message);

    ByteBuffer decoded_;
    simdjson::dom::parser parser_;
    struct Codecs;  // zstd and zlib contexts, kept out of this header
    std::unique_ptr<Codecs> codecs_;
};

}  // namespace supervent::sink
