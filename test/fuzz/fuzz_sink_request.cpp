// libFuzzer target: supervent-sink's request parsing (sink/http): the
// request head, the route, and the in-place chunked body decoder, fed the
// way the server feeds it: the bytes arrive in pieces at arbitrary points.
//
// Checks beyond the sanitizers: views into the head stay inside the input;
// the decoder never writes decoded bytes past the raw position it has read
// (it decodes in place); and decoding in pieces gives the same body and the
// same verdict as decoding all bytes at once.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sink/http.hpp"

namespace sink = supervent::sink;

namespace {

void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "fuzz_sink_request: invariant broken: %s\n", what);
        std::abort();
    }
}

bool inside(std::string_view part, std::string_view whole) {
    if (part.empty()) return true;
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

struct Decoded {
    sink::ParseStatus status = sink::ParseStatus::incomplete;
    bool too_large = false;
    std::size_t raw_pos = 0;
    std::string body;
};

// Decodes body[0, size) arriving in pieces of `step` bytes (0: all at once).
Decoded decode(std::string_view raw, std::size_t step, std::uint64_t limit) {
    std::vector<char> buffer(raw.begin(), raw.end());
    sink::ChunkedDecoder decoder;
    decoder.reset();
    Decoded out;
    std::size_t raw_pos = 0, decoded_end = 0;
    std::size_t available = step == 0 ? raw.size() : 0;
    for (;;) {
        if (step != 0) available = std::min(raw.size(), available + step);
        const auto result = decoder.decode(buffer.data(), raw_pos, available, decoded_end, limit);
        require(decoded_end <= raw_pos && raw_pos <= available, "decoded past the raw position");
        out.status = result.status;
        if (result.status != sink::ParseStatus::incomplete || available == raw.size()) break;
    }
    out.too_large = decoder.too_large();
    out.raw_pos = raw_pos;
    out.body.assign(buffer.data(), decoded_end);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size < 2) return 0;
    const std::size_t step = bytes[0] % 17;       // piece size for the split decode (0: not split)
    const std::uint64_t limit = 1 + bytes[1] * 64;  // the decoded body limit
    const std::string_view data(reinterpret_cast<const char*>(bytes + 2), size - 2);

    const sink::HeadResult parsed = sink::parse_request_head(data);
    if (parsed.status == sink::ParseStatus::error) {
        require(parsed.error != nullptr && parsed.error_status >= 400 && parsed.error_status < 600,
                "an error without a reason or an HTTP error status");
    }
    if (parsed.status == sink::ParseStatus::complete) {
        const sink::RequestHead& head = parsed.head;
        require(head.head_bytes > 0 && head.head_bytes <= data.size(), "head longer than the input");
        // An absolute-form target without a path ("http://host") gets the static path "/".
        const bool static_root = head.path.data() != nullptr && head.path == "/" && !inside(head.path, data);
        require(inside(head.target, data) && (inside(head.path, data) || static_root) &&
                    inside(head.content_type_text, data) &&
                    inside(head.content_encoding_text, data),
                "a head field points outside the input");
        const sink::Route route = sink::match_route(head.path);
        require(route.kind != sink::RouteKind::ingest || (!route.dataset.empty() && inside(route.dataset, data)),
                "an ingest route without a dataset inside the path");
        // Every prefix that is not complete must say incomplete, never error
        // (the server would refuse a request that is merely split).
        const sink::HeadResult shorter = sink::parse_request_head(data.substr(0, head.head_bytes - 1));
        require(shorter.status != sink::ParseStatus::complete, "complete one byte before its end");
    }

    // The chunked decoder on whatever follows the head (or on everything).
    const std::string_view body =
        parsed.status == sink::ParseStatus::complete ? data.substr(parsed.head.head_bytes) : data;
    const Decoded whole = decode(body, 0, limit);
    const Decoded pieces = decode(body, step == 0 ? 1 : step, limit);
    require(whole.status == pieces.status, "the verdict depends on how the bytes were split");
    if (whole.status == sink::ParseStatus::complete) {
        require(whole.body == pieces.body && whole.raw_pos == pieces.raw_pos,
                "the decoded body depends on how the bytes were split");
        require(whole.body.size() <= limit, "decoded body over the limit");
    }
    return 0;
}
