#pragma once
// What a 2xx answer of an HTTP log API says about the batch it answers
// (net/api_bodies.hpp writes the requests):
//
//   Elasticsearch _bulk  {"errors":false,…}: all taken. {"errors":true,"items":[{"create":{"status":201}},
//                        {"create":{"status":429,"error":{"type":…}}},…]}: per item. The rule:
//                        items with 2xx are acknowledged; when every failed item is
//                        retriable (429 or 5xx) and none succeeded, the whole batch is
//                        retried (nothing was taken, so nothing is sent twice);
//                        otherwise the failed items, retriable or not, fail as
//                        `partial` (retrying part of a batch would need its body cut
//                        apart, and a whole retry would duplicate what was taken).
//   OTLP/HTTP            {"partialSuccess":{"rejectedLogRecords":N,…}}: N fail (partial); {} all taken.
//                        With protobuf bodies the reply is ExportLogsServiceResponse in
//                        protobuf: partial_success (1) { rejected_log_records (1) }.
//   Loki (204), Splunk HEC ({"text":"Success","code":0}), Datadog (202 {}): all taken.
//   Splunk HEC with indexer acknowledgement: the event reply's ackId
//                        ({"text":"Success","code":0,"ackId":7}), then POST
//                        /services/collector/ack answers {"acks":{"7":true,"8":false}}
//                        (net/api_acks.hpp holds the batch until true).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "net/api_bodies.hpp"
#include "net/slot.hpp"

namespace supervent::net {

struct ApiOutcome {
    Verdict verdict = Verdict::acked;
    FailReason reason = FailReason::none;  // partial when some failed; rate_limited/server_error for a retry
    std::uint32_t acked_events = 0;
    // The first failed item's status and error type (Elasticsearch), or the
    // reply's error message (OTLP): what the failure facts show.
    int item_status = 0;
    std::string_view detail;  // into the reply body or static text
};

class ApiReplyParser {
public:
    explicit ApiReplyParser(std::size_t body_bytes_max);
    ~ApiReplyParser();
    ApiReplyParser(const ApiReplyParser&) = delete;
    ApiReplyParser& operator=(const ApiReplyParser&) = delete;

    // The outcome of a 2xx answer with `body` to a batch of `events`. A
    // body that cannot be read (not the API's JSON) takes the batch, as a
    // plain 2xx does for Axiom, except for Elasticsearch, whose 2xx says
    // nothing without its items: that is a bad response, retried.
    [[nodiscard]] ApiOutcome parse(LogApi api, std::string_view body, std::uint32_t events);

    // HEC with acks: the ackId of an event POST's reply; nullopt when it has
    // none (the token does not acknowledge: then the 2xx takes the batch).
    [[nodiscard]] std::optional<std::uint64_t> hec_ack_id(std::string_view body);
    // HEC with acks: the ackIds an ack poll's reply answers true, into
    // ids[0..count) (at most capacity; ids answered false or not a number are
    // skipped). False when the body is not {"acks":{…}}.
    [[nodiscard]] bool hec_acks_true(std::string_view body, std::uint64_t* ids, std::size_t capacity, std::size_t& count);

private:
    [[nodiscard]] ApiOutcome parse_bulk(std::string_view body, std::uint32_t events);
    [[nodiscard]] ApiOutcome parse_otlp(std::string_view body, std::uint32_t events);
    [[nodiscard]] ApiOutcome parse_otlp_protobuf(std::string_view body, std::uint32_t events);
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace supervent::net
