// libFuzzer target: the data plane's HTTP/1.1 response parser
// (net::parse_response) and the Axiom ingest reply in the body
// (net::IngestReplyParser), on bytes a hostile or broken sink could send.
//
// Besides "no crash, no sanitizer report" it checks what the transport relies
// on: a complete response never claims more bytes than it was given, its body
// lies inside the input or the scratch buffer, and a response that is
// complete on a prefix of the bytes (a split read) is the same response when
// more bytes have arrived behind it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "net/http_response.hpp"

using supervent::net::HttpResponse;
using supervent::net::IngestReply;
using supervent::net::IngestReplyParser;
using supervent::net::ParseResult;
using supervent::net::ParseStatus;

namespace {

void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "fuzz_http_response: invariant broken: %s\n", what);
        std::abort();
    }
}

bool inside(std::string_view part, const char* begin, std::size_t size) {
    if (part.empty()) return true;
    return part.data() >= begin && part.data() + part.size() <= begin + size;
}

struct Parsed {
    ParseResult result;
    HttpResponse response;
    std::vector<char> scratch;
};

void parse(std::string_view data, bool at_eof, Parsed& out) {
    out.scratch.assign(data.size() + 1, '\0');
    out.result = supervent::net::parse_response(data, at_eof, std::span<char>(out.scratch.data(), data.size()),
                                                out.response);
    if (out.result.status == ParseStatus::complete) {
        require(out.result.consumed_bytes <= data.size(), "consumed more bytes than given");
        require(inside(out.response.body, data.data(), data.size()) ||
                    inside(out.response.body, out.scratch.data(), data.size()),
                "body outside the input and the scratch buffer");
        require(out.response.status >= 200 || out.response.status < 100, "an interim 1xx returned as the response");
    }
    if (out.result.status == ParseStatus::invalid) require(out.result.error != nullptr, "invalid without a reason");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    static IngestReplyParser reply_parser(64 * 1024);
    // The first byte picks a split point for the split-read check; the rest is the response.
    if (size < 1) return 0;
    const std::size_t split_seed = bytes[0];
    const std::string_view data(reinterpret_cast<const char*>(bytes + 1), size - 1);

    Parsed full;
    parse(data, false, full);
    Parsed closed;
    parse(data, true, closed);
    require(closed.result.status != ParseStatus::incomplete, "incomplete although the peer has closed");
    if (full.result.status == ParseStatus::complete) {
        require(closed.result.status == ParseStatus::complete &&
                    closed.result.consumed_bytes == full.result.consumed_bytes &&
                    closed.response.status == full.response.status,
                "a complete response changed when the peer closed behind it");
        IngestReply reply;
        (void)reply_parser.parse(full.response.body, reply);
    }

    // A split read: the first part alone, then everything.
    if (!data.empty()) {
        const std::size_t cut = split_seed * data.size() / 256;
        Parsed prefix;
        parse(data.substr(0, cut), false, prefix);
        if (prefix.result.status == ParseStatus::complete) {
            require(full.result.status == ParseStatus::complete, "complete on a prefix, not on the whole");
            require(full.result.consumed_bytes == prefix.result.consumed_bytes &&
                        full.response.status == prefix.response.status &&
                        full.response.keep_alive == prefix.response.keep_alive &&
                        full.response.body == prefix.response.body &&
                        full.response.rate_limit_reset_s == prefix.response.rate_limit_reset_s &&
                        full.response.retry_after_s == prefix.response.retry_after_s,
                    "a response complete on a prefix differs once more bytes arrive");
        }
        if (prefix.result.status == ParseStatus::invalid) {
            require(full.result.status == ParseStatus::invalid, "invalid on a prefix, valid on the whole");
        }
    }
    return 0;
}
