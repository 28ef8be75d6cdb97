#include "net/http_response.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <vector>

namespace supervent::net {
namespace {

constexpr std::string_view crlf = "\r\n";
constexpr std::string_view header_end_mark = "\r\n\r\n";

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

bool icontains(std::string_view haystack, std::string_view needle) {
    if (needle.size() > haystack.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
        if (iequals(haystack.substr(i, needle.size()), needle)) return true;
    }
    return false;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// Non-negative decimal; false on anything else or overflow past 2^62.
bool parse_decimal(std::string_view text, std::int64_t& out) {
    if (text.empty() || text.size() > 18) return false;
    std::int64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    out = value;
    return true;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

struct Head {
    int status = 0;
    bool keep_alive = true;
    bool chunked = false;
    std::int64_t content_length = -1;
    std::int64_t rate_limit_reset_s = -1;
    std::int64_t retry_after_s = -1;
};

// "HTTP/1.1 200 OK"
const char* parse_status_line(std::string_view line, Head& head) {
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return "malformed status line";
    if (line[7] != '0' && line[7] != '1') return "unsupported HTTP version";
    head.keep_alive = line[7] == '1';
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (line[i] < '0' || line[i] > '9') return "malformed status code";
        status = status * 10 + (line[i] - '0');
    }
    if (line.size() > 12 && line[12] != ' ') return "malformed status line";
    head.status = status;
    return nullptr;
}

const char* parse_header(std::string_view line, Head& head) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return "malformed header line";
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
        std::int64_t length = 0;
        if (!parse_decimal(value, length)) return "malformed Content-Length";
        if (head.content_length >= 0 && head.content_length != length) return "conflicting Content-Length headers";
        head.content_length = length;
    } else if (iequals(name, "transfer-encoding")) {
        head.chunked = icontains(value, "chunked");
    } else if (iequals(name, "connection")) {
        if (icontains(value, "close")) head.keep_alive = false;
        else if (icontains(value, "keep-alive")) head.keep_alive = true;
    } else if (iequals(name, "x-ratelimit-reset")) {
        (void)parse_decimal(value, head.rate_limit_reset_s);
    } else if (iequals(name, "retry-after")) {
        (void)parse_decimal(value, head.retry_after_s);
    }
    return nullptr;
}

const char* parse_head(std::string_view head_text, Head& head) {
    std::size_t line_end = head_text.find(crlf);
    if (const char* error = parse_status_line(head_text.substr(0, line_end), head)) return error;
    while (line_end != std::string_view::npos && line_end + 2 < head_text.size()) {
        const std::size_t line_begin = line_end + 2;
        line_end = head_text.find(crlf, line_begin);
        const std::string_view line = head_text.substr(line_begin, line_end - line_begin);
        if (line.empty()) break;
        if (const char* error = parse_header(line, head)) return error;
    }
    return nullptr;
}

// Decodes a chunked body starting at data[offset]. On completion sets body
// (in scratch) and the offset just past the final CRLF.
ParseResult decode_chunked(std::string_view data, std::size_t offset, std::span<char> scratch,
                           std::string_view& body) {
    std::size_t body_bytes = 0;
    for (;;) {
        const std::size_t size_end = data.find(crlf, offset);
        if (size_end == std::string_view::npos) return {ParseStatus::incomplete};
        std::size_t chunk_bytes = 0;
        std::size_t i = offset;
        for (; i < size_end && hex_digit(data[i]) >= 0; ++i) {
            if (chunk_bytes > (std::size_t{1} << 40)) return {ParseStatus::invalid, 0, "chunk size too large"};
            chunk_bytes = chunk_bytes * 16 + static_cast<std::size_t>(hex_digit(data[i]));
        }
        if (i == offset || (i < size_end && data[i] != ';' && data[i] != ' ')) {
            return {ParseStatus::invalid, 0, "malformed chunk size"};
        }
        offset = size_end + 2;
        if (chunk_bytes == 0) {
            // Trailers (ignored) end with an empty line.
            for (;;) {
                const std::size_t line_end = data.find(crlf, offset);
                if (line_end == std::string_view::npos) return {ParseStatus::incomplete};
                const bool empty_line = line_end == offset;
                offset = line_end + 2;
                if (empty_line) break;
            }
            body = std::string_view(scratch.data(), body_bytes);
            return {ParseStatus::complete, offset};
        }
        if (data.size() < offset + chunk_bytes + 2) return {ParseStatus::incomplete};
        if (data.substr(offset + chunk_bytes, 2) != crlf) return {ParseStatus::invalid, 0, "chunk not followed by CRLF"};
        if (body_bytes + chunk_bytes > scratch.size()) return {ParseStatus::invalid, 0, "chunked body too large"};
        std::memcpy(scratch.data() + body_bytes, data.data() + offset, chunk_bytes);
        body_bytes += chunk_bytes;
        offset += chunk_bytes + 2;
    }
}

}  // namespace

ParseResult parse_response(std::string_view data, bool at_eof, std::span<char> body_scratch, HttpResponse& out) {
    std::size_t offset = 0;
    for (;;) {
        const std::size_t head_end = data.find(header_end_mark, offset);
        if (head_end == std::string_view::npos) {
            if (at_eof) return {ParseStatus::invalid, 0, "connection closed before a complete response"};
            return {ParseStatus::incomplete};
        }
        Head head;
        if (const char* error = parse_head(data.substr(offset, head_end + 2 - offset), head)) {
            return {ParseStatus::invalid, 0, error};
        }
        const std::size_t body_begin = head_end + header_end_mark.size();
        if (head.status >= 100 && head.status < 200) {  // interim (100 Continue): the real one follows
            offset = body_begin;
            continue;
        }
        out = HttpResponse{head.status, head.keep_alive, {}, head.rate_limit_reset_s, head.retry_after_s};
        if (head.status == 204 || head.status == 304) return {ParseStatus::complete, body_begin};
        if (head.chunked) {
            ParseResult result = decode_chunked(data, body_begin, body_scratch, out.body);
            if (result.status == ParseStatus::incomplete && at_eof) {
                return {ParseStatus::invalid, 0, "connection closed inside a chunked body"};
            }
            return result;
        }
        if (head.content_length >= 0) {
            const auto length = static_cast<std::size_t>(head.content_length);
            if (data.size() - body_begin < length) {
                if (at_eof) return {ParseStatus::invalid, 0, "connection closed before the end of the body"};
                return {ParseStatus::incomplete};
            }
            out.body = data.substr(body_begin, length);
            return {ParseStatus::complete, body_begin + length};
        }
        // No length: the body runs to the end of the connection.
        if (!at_eof) return {ParseStatus::incomplete};
        out.keep_alive = false;
        out.body = data.substr(body_begin);
        return {ParseStatus::complete, data.size()};
    }
}

struct IngestReplyParser::State {
    simdjson::ondemand::parser parser;
    std::vector<char> padded;
};

IngestReplyParser::IngestReplyParser(std::size_t body_bytes_max) : state_(std::make_unique<State>()) {
    state_->padded.resize(body_bytes_max + simdjson::SIMDJSON_PADDING);
    // Reserve the parser's internal buffers now, not on the first reply.
    if (state_->parser.allocate(body_bytes_max) != simdjson::SUCCESS) throw std::bad_alloc();
}

IngestReplyParser::~IngestReplyParser() = default;

bool IngestReplyParser::parse(std::string_view body, IngestReply& out) {
    if (body.size() + simdjson::SIMDJSON_PADDING > state_->padded.size()) return false;
    if (body.empty()) return false;  // also: a 204's body has no data pointer, and memcpy from null is UB
    std::memcpy(state_->padded.data(), body.data(), body.size());
    simdjson::padded_string_view input(state_->padded.data(), body.size(), state_->padded.size());
    simdjson::ondemand::document document;
    if (state_->parser.iterate(input).get(document) != simdjson::SUCCESS) return false;
    simdjson::ondemand::object object;
    if (document.get_object().get(object) != simdjson::SUCCESS) return false;
    IngestReply reply;
    bool have_ingested = false;
    for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
        if (key == "ingested") {
            if (field.value().get_uint64().get(reply.ingested) != simdjson::SUCCESS) return false;
            have_ingested = true;
        } else if (key == "failed") {
            if (field.value().get_uint64().get(reply.failed) != simdjson::SUCCESS) return false;
        }
    }
    if (!have_ingested) return false;
    out = reply;
    return true;
}

}  // namespace supervent::net
