#pragma once
// Request bodies of the HTTP log APIs other than Axiom's: Elasticsearch /
// OpenSearch _bulk, Grafana Loki push, Splunk HEC, OpenTelemetry OTLP/HTTP
// (JSON) and Datadog logs intake. Each is a post-pass over the batch the
// engine rendered as NDJSON, whose every line has one shape
// (core/schema_compile.cpp, put_ndjson_event):
//
//   {"_time":"YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ","source":"…","event_type":"…","message":"…"<rest>}\n
//
// where <rest> is ,"attributes":{…} (nested layout) or the attributes as
// members (flat), possibly empty. The writer reads each line once and writes
// the API's body into a caller's buffer: no allocation (its per-event tables
// are sized at construction), one pass per event (Loki: one pass to group
// events into streams, one to write them).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace supervent::net {

// Which API a sink speaks. axiom: the engine's NDJSON (or JSON array, CSV)
// as it is; the others: the body written here.
enum class LogApi : unsigned char { axiom, elasticsearch, loki, splunk_hec, otlp, datadog };

[[nodiscard]] std::string_view log_api_name(LogApi api);

// What each API takes in one request. Batches are capped so that the body
// the writer makes from them cannot pass body_bytes_max (see raw_bytes_for).
struct ApiLimits {
    std::uint32_t events_max = 0;     // 0 = no limit of the API's own
    std::size_t body_bytes_max = 0;   // the request body, uncompressed
};
[[nodiscard]] ApiLimits api_limits(LogApi api);

struct ApiOptions {
    LogApi api = LogApi::axiom;
    // Loki: the stream labels, each a member path of the event ("source",
    // "event_type", "attributes.status"); a label is named after its last
    // part. Loki: the line is the whole event (false) or its message alone.
    std::vector<std::string> loki_labels{"source", "event_type"};
    bool loki_line_message = false;
    // Splunk HEC: the envelope's sourcetype, and its index ("" = the token's default).
    std::string hec_sourcetype = "_json";
    std::string hec_index;
    // OTLP: scope.version.
    std::string scope_version = SUPERVENT_VERSION;
    // OTLP: the ExportLogsServiceRequest as protobuf (application/x-protobuf)
    // instead of its JSON mapping; the same message, field for field.
    bool otlp_protobuf = false;
};

// The most body bytes the writer makes from `raw_bytes` of NDJSON holding
// `events` events: a bound, not an estimate (typical bodies are 1.0-2.5x the
// NDJSON; the bound allows for every byte being a quote or a tiny member).
[[nodiscard]] std::size_t api_body_bytes_bound(const ApiOptions& options, std::size_t raw_bytes, std::uint32_t events);
// The most NDJSON bytes whose body cannot pass `body_bytes` for batches of
// up to `events` events: the engine's batch byte limit for this API.
[[nodiscard]] std::size_t api_raw_bytes_for(const ApiOptions& options, std::size_t body_bytes, std::uint32_t events);

// The request path of one dataset under the sink URL's prefix:
// ES /{prefix}/{dataset}/_bulk (with filter_path, so that the reply stays
// small), Loki /loki/api/v1/push, HEC /services/collector/event, OTLP
// /v1/logs, Datadog /api/v2/logs. Only Elasticsearch uses the dataset (as the index).
[[nodiscard]] std::string api_path(LogApi api, std::string_view path_prefix, std::string_view dataset);

// The Content-Type of the API's bodies (OTLP: JSON, or protobuf when asked).
[[nodiscard]] std::string_view api_content_type(LogApi api, bool otlp_protobuf = false);

// One shard's writer: tables for batch_events_max events, made once.
class ApiBodyWriter {
public:
    ApiBodyWriter(ApiOptions options, std::uint32_t batch_events_max);
    ~ApiBodyWriter();
    ApiBodyWriter(const ApiBodyWriter&) = delete;
    ApiBodyWriter& operator=(const ApiBodyWriter&) = delete;

    // Writes the body for the NDJSON batch `ndjson` (`events` lines) into
    // `out`; returns its size, or 0 (with error() saying why) when a line
    // breaks the shape above, the batch has more events than the tables, or
    // the body would not fit `out`. An empty batch makes the API's empty body.
    [[nodiscard]] std::size_t write(std::string_view ndjson, std::uint32_t events, std::span<char> out);
    [[nodiscard]] const char* error() const { return error_; }
    [[nodiscard]] const ApiOptions& options() const { return options_; }

private:
    struct Loki;
    std::size_t write_elasticsearch(std::string_view ndjson, char* out, char* end);
    std::size_t write_datadog(std::string_view ndjson, char* out, char* end);
    std::size_t write_hec(std::string_view ndjson, char* out, char* end);
    std::size_t write_otlp(std::string_view ndjson, char* out, char* end);
    std::size_t write_otlp_protobuf(std::string_view ndjson, char* out, char* end);
    std::size_t write_loki(std::string_view ndjson, std::uint32_t events, char* out, char* end);

    ApiOptions options_;
    std::uint32_t batch_events_max_ = 0;
    std::unique_ptr<Loki> loki_;
    const char* error_ = nullptr;
};

// The time of an event line's "_time" (RFC 3339, UTC, nanoseconds) in ns
// since the epoch; false when it is not of that form. Exposed for tests.
[[nodiscard]] bool parse_event_time_ns(std::string_view text, std::int64_t& ns);

}  // namespace supervent::net
