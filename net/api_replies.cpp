#include "net/api_replies.hpp"

#include "net/protobuf_writer.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <climits>
#include <new>
#include <vector>

namespace supervent::net {

struct ApiReplyParser::State {
    simdjson::ondemand::parser parser;
    std::vector<char> padded;
};

ApiReplyParser::ApiReplyParser(std::size_t body_bytes_max) : state_(std::make_unique<State>()) {
    state_->padded.resize(body_bytes_max + simdjson::SIMDJSON_PADDING);
    if (state_->parser.allocate(body_bytes_max) != simdjson::SUCCESS) throw std::bad_alloc();
}

ApiReplyParser::~ApiReplyParser() = default;

ApiOutcome ApiReplyParser::parse(LogApi api, std::string_view body, std::uint32_t events) {
    if (api == LogApi::elasticsearch) return parse_bulk(body, events);
    if (api == LogApi::otlp) return parse_otlp(body, events);
    return {Verdict::acked, FailReason::none, events, 0, {}};
}

namespace {

struct BulkCounts {
    std::uint32_t items = 0, ok = 0, retriable = 0, permanent = 0, rate_limited = 0;
    int first_status = 0;
    std::string_view first_type;
};

bool retriable_status(std::int64_t status) { return status == 429 || status >= 500; }

// One item: {"create":{"status":N,"error":{"type":…}}} (whatever the action's name).
bool count_item(simdjson::ondemand::value item, BulkCounts& counts) {
    simdjson::ondemand::object wrapper;
    if (item.get_object().get(wrapper) != simdjson::SUCCESS) return false;
    std::int64_t status = 0;
    std::string_view type;
    for (auto action : wrapper) {
        simdjson::ondemand::object result;
        if (action.value().get_object().get(result) != simdjson::SUCCESS) return false;
        for (auto field : result) {
            std::string_view key;
            if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
            if (key == "status") {
                if (field.value().get_int64().get(status) != simdjson::SUCCESS) return false;
            } else if (key == "error") {
                simdjson::ondemand::object error;
                if (field.value().get_object().get(error) == simdjson::SUCCESS) {
                    std::string_view text;
                    if (error.find_field_unordered("type").get_string().get(text) == simdjson::SUCCESS) type = text;
                }
            }
        }
    }
    ++counts.items;
    if (status >= 200 && status < 300) {
        ++counts.ok;
        return true;
    }
    if (retriable_status(status)) {
        ++counts.retriable;
        if (status == 429) ++counts.rate_limited;
    } else {
        ++counts.permanent;
    }
    if (counts.first_status == 0) {
        counts.first_status = static_cast<int>(status);
        counts.first_type = type;
    }
    return true;
}

}  // namespace

ApiOutcome ApiReplyParser::parse_bulk(std::string_view body, std::uint32_t events) {
    const ApiOutcome unreadable{Verdict::retry, FailReason::bad_response, 0, 0, "a _bulk reply without errors/items"};
    if (body.empty() || body.size() + simdjson::SIMDJSON_PADDING > state_->padded.size()) return unreadable;
    if (!body.empty()) std::memcpy(state_->padded.data(), body.data(), body.size());  // an empty body's data() may be null
    simdjson::padded_string_view input(state_->padded.data(), body.size(), state_->padded.size());
    simdjson::ondemand::document document;
    simdjson::ondemand::object object;
    if (state_->parser.iterate(input).get(document) != simdjson::SUCCESS ||
        document.get_object().get(object) != simdjson::SUCCESS) {
        return unreadable;
    }
    bool errors = true;
    bool have_errors = false;
    BulkCounts counts;
    bool have_items = false;
    for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) return unreadable;
        if (key == "errors") {
            if (field.value().get_bool().get(errors) != simdjson::SUCCESS) return unreadable;
            have_errors = true;
        } else if (key == "items") {
            simdjson::ondemand::array items;
            if (field.value().get_array().get(items) != simdjson::SUCCESS) return unreadable;
            for (auto item : items) {
                simdjson::ondemand::value value;
                if (item.get(value) != simdjson::SUCCESS || !count_item(value, counts)) return unreadable;
            }
            have_items = true;
        }
    }
    if (!have_errors) return unreadable;
    if (!errors) return {Verdict::acked, FailReason::none, events, 0, {}};
    if (!have_items) return unreadable;
    // Items the reply does not list (fewer than sent) count as failed.
    const std::uint32_t ok = std::min(counts.ok, events);
    if (ok == 0 && counts.permanent == 0 && counts.retriable > 0 && counts.items == events) {
        return {Verdict::retry, counts.rate_limited > 0 ? FailReason::rate_limited : FailReason::server_error, 0,
                counts.first_status, counts.first_type};
    }
    return {Verdict::acked, ok < events ? FailReason::partial : FailReason::none, ok, counts.first_status, counts.first_type};
}

// ExportLogsServiceResponse as protobuf (to an application/x-protobuf
// request): partial_success (1) { rejected_log_records (1), error_message (2) }.
ApiOutcome ApiReplyParser::parse_otlp_protobuf(std::string_view body, std::uint32_t events) {
    const ApiOutcome all{Verdict::acked, FailReason::none, events, 0, {}};
    pb::Field field;
    std::uint64_t rejected = 0;
    std::string_view message;
    while (pb::next_field(body, field)) {
        if (field.number != 1 || field.wire != pb::Wire::len) continue;
        std::string_view partial = field.bytes;
        pb::Field inner;
        while (pb::next_field(partial, inner)) {
            if (inner.number == 1 && inner.wire == pb::Wire::varint) rejected = inner.value;
            if (inner.number == 2 && inner.wire == pb::Wire::len) message = inner.bytes;
        }
    }
    // int64: a negative count (two's complement) is nonsense: nothing rejected.
    if (rejected > INT64_MAX) return all;
    const auto failed = static_cast<std::uint32_t>(std::min<std::uint64_t>(rejected, events));
    return {Verdict::acked, failed > 0 ? FailReason::partial : FailReason::none, events - failed, 0, message};
}

ApiOutcome ApiReplyParser::parse_otlp(std::string_view body, std::uint32_t events) {
    const ApiOutcome all{Verdict::acked, FailReason::none, events, 0, {}};
    // A reply in the request's encoding: JSON is an object, protobuf a field
    // tag (partial_success's is 0x0a, a newline: so no whitespace test).
    if (!body.empty() && body.front() != '{' && body.front() != ' ') {
        return parse_otlp_protobuf(body, events);
    }
    if (body.empty() || body.size() + simdjson::SIMDJSON_PADDING > state_->padded.size()) return all;
    if (!body.empty()) std::memcpy(state_->padded.data(), body.data(), body.size());  // an empty body's data() may be null
    simdjson::padded_string_view input(state_->padded.data(), body.size(), state_->padded.size());
    simdjson::ondemand::document document;
    simdjson::ondemand::object object;
    if (state_->parser.iterate(input).get(document) != simdjson::SUCCESS ||
        document.get_object().get(object) != simdjson::SUCCESS) {
        return all;
    }
    simdjson::ondemand::object partial;
    if (object.find_field_unordered("partialSuccess").get_object().get(partial) != simdjson::SUCCESS) return all;
    std::uint64_t rejected = 0;
    std::string_view message;
    for (auto field : partial) {
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) return all;
        if (key == "rejectedLogRecords") {
            // int64 in protobuf's JSON mapping is a string; some senders write a number.
            simdjson::ondemand::value value;
            if (field.value().get(value) != simdjson::SUCCESS) return all;
            std::string_view text;
            if (value.get_string().get(text) == simdjson::SUCCESS) {
                std::from_chars(text.data(), text.data() + text.size(), rejected);
            } else if (value.get_uint64().get(rejected) != simdjson::SUCCESS) {
                return all;
            }
        } else if (key == "errorMessage") {
            if (field.value().get_string().get(message) != simdjson::SUCCESS) message = {};
        }
    }
    const auto failed = static_cast<std::uint32_t>(std::min<std::uint64_t>(rejected, events));
    return {Verdict::acked, failed > 0 ? FailReason::partial : FailReason::none, events - failed, 0, message};
}

std::optional<std::uint64_t> ApiReplyParser::hec_ack_id(std::string_view body) {
    if (body.empty() || body.size() + simdjson::SIMDJSON_PADDING > state_->padded.size()) return std::nullopt;
    std::memcpy(state_->padded.data(), body.data(), body.size());
    simdjson::padded_string_view input(state_->padded.data(), body.size(), state_->padded.size());
    simdjson::ondemand::document document;
    simdjson::ondemand::object object;
    if (state_->parser.iterate(input).get(document) != simdjson::SUCCESS ||
        document.get_object().get(object) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    std::uint64_t id = 0;
    if (object.find_field_unordered("ackId").get_uint64().get(id) != simdjson::SUCCESS) return std::nullopt;
    return id;
}

bool ApiReplyParser::hec_acks_true(std::string_view body, std::uint64_t* ids, std::size_t capacity, std::size_t& count) {
    count = 0;
    if (body.empty() || body.size() + simdjson::SIMDJSON_PADDING > state_->padded.size()) return false;
    std::memcpy(state_->padded.data(), body.data(), body.size());
    simdjson::padded_string_view input(state_->padded.data(), body.size(), state_->padded.size());
    simdjson::ondemand::document document;
    simdjson::ondemand::object object;
    simdjson::ondemand::object acks;
    if (state_->parser.iterate(input).get(document) != simdjson::SUCCESS ||
        document.get_object().get(object) != simdjson::SUCCESS ||
        object.find_field_unordered("acks").get_object().get(acks) != simdjson::SUCCESS) {
        return false;
    }
    for (auto field : acks) {
        std::string_view key;
        bool done = false;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
        if (field.value().get_bool().get(done) != simdjson::SUCCESS) return false;
        std::uint64_t id = 0;
        const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), id);
        if (!done || error != std::errc() || end != key.data() + key.size()) continue;
        if (count < capacity) ids[count++] = id;
    }
    return true;
}

}  // namespace supervent::net
