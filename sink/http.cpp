#include "sink/http.hpp"

#include <cstring>

#include "core/bounds.hpp"

namespace supervent::sink {
namespace {

constexpr char lower_ascii(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool is_token_char(char c) noexcept {
    // RFC 9110 tchar: visible ASCII except delimiters.
    if (c <= 32 || c >= 127) return false;
    return std::strchr("\"(),/:;<=>?@[\\]{}", c) == nullptr;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Reads one line ending in LF (a CR before it is dropped). Returns false when
// no full line is available yet.
bool next_line(std::string_view data, std::size_t& pos, std::string_view& line) noexcept {
    if (pos >= data.size()) return false;  // also keeps a null data() (an empty view) away from memchr
    const void* lf = std::memchr(data.data() + pos, '\n', data.size() - pos);
    if (lf == nullptr) return false;
    const auto lf_pos = static_cast<std::size_t>(static_cast<const char*>(lf) - data.data());
    line = data.substr(pos, lf_pos - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = lf_pos + 1;
    return true;
}

bool parse_decimal(std::string_view s, std::uint64_t& out) noexcept {
    if (s.empty() || s.size() > 18) return false;  // 18 digits cannot overflow
    std::uint64_t value = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = value;
    return true;
}

HeadResult fail(int status, const char* error) noexcept {
    HeadResult r;
    r.status = ParseStatus::error;
    r.error_status = status;
    r.error = error;
    return r;
}

Method parse_method(std::string_view m) noexcept {
    if (m == "POST") return Method::post;
    if (m == "GET") return Method::get;
    return Method::other;
}

ContentType parse_content_type(std::string_view value) noexcept {
    const auto semicolon = value.find(';');
    const std::string_view media = trim(value.substr(0, semicolon));
    if (media.empty()) return ContentType::ndjson;
    for (std::string_view ndjson : {"application/x-ndjson", "application/ndjson", "application/x-jsonlines",
                                    "application/jsonl", "application/jsonlines"}) {
        if (iequals(media, ndjson)) return ContentType::ndjson;
    }
    if (iequals(media, "application/json")) return ContentType::json;
    if (iequals(media, "text/csv")) return ContentType::csv;
    return ContentType::unsupported;
}

ContentEncoding parse_content_encoding(std::string_view value) noexcept {
    if (value.empty() || iequals(value, "identity")) return ContentEncoding::identity;
    if (iequals(value, "zstd")) return ContentEncoding::zstd;
    if (iequals(value, "gzip") || iequals(value, "x-gzip")) return ContentEncoding::gzip;
    return ContentEncoding::unsupported;
}

// "Connection: close" wins; "keep-alive" revives an HTTP/1.0 connection.
void apply_connection_tokens(std::string_view value, bool& keep_alive) noexcept {
    while (!value.empty()) {
        const auto comma = value.find(',');
        const std::string_view token = trim(value.substr(0, comma));
        if (iequals(token, "close")) keep_alive = false;
        else if (iequals(token, "keep-alive")) keep_alive = true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
}

std::string_view path_of(std::string_view target) noexcept {
    // Absolute form (a proxy-style request): drop scheme and authority.
    for (std::string_view scheme : {"http://", "https://"}) {
        if (target.substr(0, scheme.size()) == scheme) {
            const auto slash = target.find('/', scheme.size());
            target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
        }
    }
    return target.substr(0, target.find_first_of("?#"));
}

struct HeaderState {
    bool seen_content_length = false;
    bool seen_transfer_encoding = false;
};

// Applies one header line; returns an error result's fields via `error_*`.
bool apply_header(std::string_view line, RequestHead& head, HeaderState& seen, int& error_status,
                  const char*& error) noexcept {
    if (line.front() == ' ' || line.front() == '\t') {
        error_status = 400, error = "obsolete header line folding is not accepted";
        return false;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        error_status = 400, error = "malformed header line";
        return false;
    }
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
        if (!is_token_char(c)) {
            error_status = 400, error = "malformed header name";
            return false;
        }
    }
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
        std::uint64_t length = 0;
        if (!parse_decimal(value, length) || (seen.seen_content_length && length != head.content_length)) {
            error_status = 400, error = "invalid Content-Length";
            return false;
        }
        seen.seen_content_length = true;
        head.content_length = length;
    } else if (iequals(name, "transfer-encoding")) {
        if (!iequals(value, "chunked")) {
            error_status = 501, error = "unsupported Transfer-Encoding: only chunked is implemented";
            return false;
        }
        seen.seen_transfer_encoding = true;
    } else if (iequals(name, "content-type")) {
        head.content_type_text = value;
        head.content_type = parse_content_type(value);
    } else if (iequals(name, "content-encoding")) {
        head.content_encoding_text = value;
        head.content_encoding = parse_content_encoding(value);
    } else if (iequals(name, "x-axiom-event-labels")) {
        head.event_labels = value;
    } else if (iequals(name, "connection")) {
        apply_connection_tokens(value, head.keep_alive);
    } else if (iequals(name, "expect")) {
        if (!iequals(value, "100-continue")) {
            error_status = 417, error = "unsupported Expect header";
            return false;
        }
        head.expect_continue = true;
    }
    return true;
}

bool parse_request_line(std::string_view line, RequestHead& head) noexcept {
    const auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0) return false;
    const auto sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return false;
    const std::string_view method = line.substr(0, sp1);
    for (char c : method) {
        if (!is_token_char(c)) return false;
    }
    head.method = parse_method(method);
    head.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (version == "HTTP/1.1") head.keep_alive = true;
    else if (version == "HTTP/1.0") head.keep_alive = false;
    else return false;
    if (head.target.front() != '/' && head.target.front() != 'h' && head.target != "*") return false;
    head.path = path_of(head.target);
    return true;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
    }
    return true;
}

HeadResult parse_request_head(std::string_view data) noexcept {
    HeadResult result;
    std::size_t pos = 0;
    std::string_view line;
    // Tolerate blank lines before a request (RFC 9112 §2.2).
    do {
        if (!next_line(data, pos, line)) return result;
    } while (line.empty());
    if (!parse_request_line(line, result.head)) return fail(400, "malformed request line");

    HeaderState seen;
    for (;;) {
        if (!next_line(data, pos, line)) return result;  // incomplete
        if (line.empty()) break;
        int error_status = 0;
        const char* error = nullptr;
        if (!apply_header(line, result.head, seen, error_status, error)) return fail(error_status, error);
    }
    if (seen.seen_transfer_encoding && seen.seen_content_length) {
        // Both framings at once is how request smuggling starts; refuse it.
        return fail(400, "both Content-Length and Transfer-Encoding");
    }
    if (seen.seen_transfer_encoding) result.head.framing = BodyFraming::chunked;
    else if (seen.seen_content_length && result.head.content_length > 0) result.head.framing = BodyFraming::content_length;
    result.head.head_bytes = pos;
    result.status = ParseStatus::complete;
    return result;
}

Route match_route(std::string_view path) noexcept {
    constexpr std::string_view datasets_prefix = "/v1/datasets/";
    constexpr std::string_view ingest_suffix = "/ingest";
    constexpr std::string_view edge_prefix = "/v1/ingest/";
    auto valid_dataset = [](std::string_view name) {
        return !name.empty() && name.size() <= bounds::dataset_name_bytes_max && name.find('/') == std::string_view::npos;
    };
    if (path == "/stats") return {RouteKind::stats, {}};
    if (path.starts_with(datasets_prefix) && path.ends_with(ingest_suffix) &&
        path.size() > datasets_prefix.size() + ingest_suffix.size()) {
        const auto name = path.substr(datasets_prefix.size(),
                                      path.size() - datasets_prefix.size() - ingest_suffix.size());
        if (valid_dataset(name)) return {RouteKind::ingest, name};
    }
    if (path.starts_with(edge_prefix)) {
        const auto name = path.substr(edge_prefix.size());
        if (valid_dataset(name)) return {RouteKind::ingest, name, true};
    }
    return {RouteKind::not_found, {}};
}

ChunkedDecoder::Step ChunkedDecoder::decode(char* data, std::size_t& raw_pos, std::size_t raw_end,
                                            std::size_t& decoded_end, std::uint64_t decoded_bytes_max) noexcept {
    const std::string_view raw(data, raw_end);
    std::string_view line;
    auto error = [](const char* text) { return Step{ParseStatus::error, text}; };
    // Bounds the framing lines we wait for, so a peer cannot make us buffer forever.
    auto line_too_long = [&] { return raw_end - raw_pos > chunk_line_bytes_max; };
    while (state_ != State::done) {
        switch (state_) {
        case State::size_line: {
            std::size_t pos = raw_pos;
            if (!next_line(raw, pos, line)) {
                return line_too_long() ? error("chunk size line too long") : Step{};
            }
            line = trim(line.substr(0, line.find(';')));  // drop chunk extensions
            if (line.empty() || line.size() > 15) return error("malformed chunk size");
            std::uint64_t size = 0;
            for (char c : line) {
                const char l = lower_ascii(c);
                const int digit = (l >= '0' && l <= '9') ? l - '0' : (l >= 'a' && l <= 'f') ? l - 'a' + 10 : -1;
                if (digit < 0) return error("malformed chunk size");
                size = size * 16 + static_cast<std::uint64_t>(digit);
            }
            if (size > decoded_bytes_max - decoded_bytes_) {
                too_large_ = true;
                return error("chunked body larger than the body size limit");
            }
            raw_pos = pos;
            chunk_left_bytes_ = size;
            state_ = size == 0 ? State::trailer : State::data;
            break;
        }
        case State::data: {
            const std::size_t available = raw_end - raw_pos;
            const std::size_t take = available < chunk_left_bytes_ ? available : static_cast<std::size_t>(chunk_left_bytes_);
            if (take == 0) return {};
            if (decoded_end != raw_pos) std::memmove(data + decoded_end, data + raw_pos, take);
            decoded_end += take;
            decoded_bytes_ += take;
            raw_pos += take;
            chunk_left_bytes_ -= take;
            if (chunk_left_bytes_ == 0) state_ = State::data_crlf;
            break;
        }
        case State::data_crlf: {
            std::size_t pos = raw_pos;
            if (!next_line(raw, pos, line)) return line_too_long() ? error("missing CRLF after chunk") : Step{};
            if (!line.empty()) return error("missing CRLF after chunk");
            raw_pos = pos;
            state_ = State::size_line;
            break;
        }
        case State::trailer: {
            std::size_t pos = raw_pos;
            if (!next_line(raw, pos, line)) return line_too_long() ? error("trailer line too long") : Step{};
            raw_pos = pos;
            if (line.empty()) state_ = State::done;  // trailer fields are ignored
            break;
        }
        case State::done:
            break;
        }
    }
    return {ParseStatus::complete, nullptr};
}

}  // namespace supervent::sink
