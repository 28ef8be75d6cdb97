#include "net/http_request.hpp"

#include <cassert>
#include <cstring>

namespace supervent::net {

std::string ingest_path(std::string_view path_prefix, std::string_view dataset, bool edge) {
    std::string path(path_prefix);
    path += edge ? "/v1/ingest/" : "/v1/datasets/";
    path += dataset;
    if (!edge) path += "/ingest";
    return path;
}

RequestHead::RequestHead(const IngestTarget& target) {
    before_length_ = "POST " + target.path + " HTTP/1.1\r\nHost: " + target.host_header +
                     "\r\nUser-Agent: supervent/" SUPERVENT_VERSION "\r\nContent-Type: " + target.content_type + "\r\n";
    if (!target.content_encoding.empty()) before_length_ += "Content-Encoding: " + target.content_encoding + "\r\n";
    if (!target.token.empty()) before_length_ += target.auth_prefix + target.token + "\r\n";
    before_length_ += target.extra_headers;
    if (!target.event_labels_json.empty()) before_length_ += "X-Axiom-Event-Labels: " + target.event_labels_json + "\r\n";
    before_length_ += "Content-Length: ";
    after_length_ = "\r\n\r\n";
}

std::size_t RequestHead::write_before(char* body_begin, std::size_t body_bytes) const {
    char digits[digits_max];
    std::size_t digit_count = 0;
    do {
        digits[digits_max - 1 - digit_count++] = static_cast<char>('0' + body_bytes % 10);
        body_bytes /= 10;
    } while (body_bytes != 0);

    char* cursor = body_begin - after_length_.size();
    std::memcpy(cursor, after_length_.data(), after_length_.size());
    cursor -= digit_count;
    std::memcpy(cursor, digits + digits_max - digit_count, digit_count);
    cursor -= before_length_.size();
    std::memcpy(cursor, before_length_.data(), before_length_.size());
    const auto head_bytes = static_cast<std::size_t>(body_begin - cursor);
    assert(head_bytes <= bytes_max());
    return head_bytes;
}

}  // namespace supervent::net
