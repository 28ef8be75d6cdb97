#include "daemon/api_planning.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>

#include "config/values.hpp"

namespace supervent::daemon {
namespace {

// X-Splunk-Request-Channel when the URL names none: HEC wants one GUID per
// client when indexer acknowledgement is on, and ignores it otherwise.
constexpr std::string_view default_hec_channel = "5e7e1c3a-0b5d-4c2e-9f1a-5375706e7401";

std::string_view option(const config::SinkUrl& sink, std::string_view key, std::string_view fallback = {}) {
    for (const auto& [name, value] : sink.api_options) {
        if (name == key) return value;
    }
    return fallback;
}

std::vector<std::string> split_commas(std::string_view text) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto comma = text.find(',', start);
        parts.emplace_back(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        if (comma == std::string_view::npos) return parts;
        start = comma + 1;
    }
}

std::int64_t option_ns(const config::SinkUrl& sink, std::string_view key, std::int64_t fallback) {
    const std::string_view text = option(sink, key);
    return text.empty() ? fallback : static_cast<std::int64_t>(config::detail::parse_duration(text) * 1e9);
}

// HEC indexer acknowledgement (ack=true; net/api_acks.hpp): a 1 s poll per
// worker's channel by default, and 60 s for an ack before the batch is resent.
net::HecAckConfig hec_ack_config(const config::SinkUrl& sink) {
    net::HecAckConfig ack;
    ack.enabled = option(sink, "ack") == "true";
    ack.poll_interval_ns = option_ns(sink, "ack_interval", ack.poll_interval_ns);
    ack.timeout_ns = option_ns(sink, "ack_timeout", ack.timeout_ns);
    return ack;
}

// The channel: the URL's, or a fixed one. With acks the ackIds are numbered
// per channel, so a run (and each of its workers, net/api_acks.hpp) gets
// its own random one, and two daemons never poll for each other's ids.
std::string hec_channel(const config::SinkUrl& sink, bool ack) {
    if (const std::string_view given = option(sink, "channel"); !given.empty()) return std::string(given);
    if (!ack) return std::string(default_hec_channel);
    std::random_device random;
    std::string guid(default_hec_channel);
    constexpr std::string_view hex = "0123456789abcdef";
    for (char& c : guid) {
        if (c != '-') c = hex[random() & 0xfu];
    }
    return guid;
}

}  // namespace

net::LogApi log_api(config::SinkApi api) {
    switch (api) {
        case config::SinkApi::axiom: return net::LogApi::axiom;
        case config::SinkApi::elasticsearch: return net::LogApi::elasticsearch;
        case config::SinkApi::loki: return net::LogApi::loki;
        case config::SinkApi::splunk: return net::LogApi::splunk_hec;
        case config::SinkApi::otlp: return net::LogApi::otlp;
        case config::SinkApi::datadog: return net::LogApi::datadog;
    }
    return net::LogApi::axiom;
}

net::ApiOptions api_options(const config::SinkUrl& sink) {
    net::ApiOptions options;
    options.api = log_api(sink.api);
    if (const std::string_view labels = option(sink, "labels"); !labels.empty()) options.loki_labels = split_commas(labels);
    options.loki_line_message = option(sink, "line") == "message";
    options.hec_sourcetype = std::string(option(sink, "sourcetype", "_json"));
    options.hec_index = std::string(option(sink, "index"));
    options.otlp_protobuf = option(sink, "encoding") == "protobuf";
    return options;
}

std::string sink_route_path(const config::Settings& settings, std::string_view dataset) {
    const net::LogApi api = log_api(settings.sink.api);
    if (api == net::LogApi::axiom) return net::ingest_path(settings.sink.path_prefix, dataset, edge_path(settings));
    return net::api_path(api, settings.sink.path_prefix, dataset);
}

void check_api_settings(const config::Settings& settings, std::vector<PlanMessage>& messages) {
    const config::SinkApi api = settings.sink.api;
    if (api == config::SinkApi::axiom) return;
    const std::string name(config::detail::sink_api_name(api));
    if (settings.format != config::SinkFormat::ndjson) {
        throw std::invalid_argument("sink.format (--format) does not apply to " + settings.sink.text + ": the " + name +
                                    " preset writes the API's own body; leave it at ndjson");
    }
    if (settings.compression.zstd && api != config::SinkApi::otlp) {
        throw std::invalid_argument("--compression zstd: " + name +
                                    " does not take zstd request bodies (the OpenTelemetry Collector, otlp+…, does); "
                                    "use --compression gzip (or none) for " + settings.sink.text);
    }
    if (!settings.event_labels.empty()) {
        messages.push_back({log::Level::warning, "sink.event_labels are Axiom's (X-Axiom-Event-Labels); the " + name +
                                                     " preset ignores them"});
    }
    if (settings.token.empty() && (api == config::SinkApi::splunk || api == config::SinkApi::datadog)) {
        messages.push_back({log::Level::warning, "no token: " + name + " refuses requests without one (set AXIOM_TOKEN or "
                                                                       "--token-file; it is sent as the API's key)"});
    }
}

void plan_api_http(const config::Settings& settings, std::uint32_t batch_events, net::HttpTransportConfig& http) {
    const config::SinkUrl& sink = settings.sink;
    http.api = log_api(sink.api);
    if (http.api == net::LogApi::axiom) return;
    http.target.content_type = std::string(net::api_content_type(http.api, option(sink, "encoding") == "protobuf"));
    switch (sink.api) {
        case config::SinkApi::elasticsearch:
            http.target.auth_prefix = "Authorization: ApiKey ";  // an API key's encoded form
            // Every item answers (filtered to status and error type: ~30-80 bytes each).
            http.response_bytes_max = bounds::http_response_bytes_max + std::size_t{batch_events} * 128;
            break;
        case config::SinkApi::splunk:
            http.target.auth_prefix = "Authorization: Splunk ";
            http.hec_ack = hec_ack_config(sink);
            http.target.extra_headers = "X-Splunk-Request-Channel: " + hec_channel(sink, http.hec_ack.enabled) + "\r\n";
            break;
        case config::SinkApi::datadog: http.target.auth_prefix = "DD-API-KEY: "; break;
        case config::SinkApi::loki:
            if (const std::string_view tenant = option(sink, "tenant"); !tenant.empty()) {
                http.target.extra_headers = "X-Scope-OrgID: " + std::string(tenant) + "\r\n";
            }
            break;
        case config::SinkApi::otlp:
        case config::SinkApi::axiom: break;
    }
}

void cap_api_batch(const config::Settings& settings, ShardPlan& plan, std::vector<PlanMessage>* messages) {
    if (settings.sink.api == config::SinkApi::axiom) return;
    const net::ApiOptions& options = plan.sink.api;
    const net::ApiLimits limits = net::api_limits(options.api);
    const std::uint32_t events = limits.events_max > 0 ? std::min(plan.batch_events, limits.events_max) : plan.batch_events;
    const std::size_t raw_max = net::api_raw_bytes_for(options, limits.body_bytes_max, events);
    const std::size_t bytes = plan.batch_bytes_max > 0 ? std::min<std::size_t>(plan.batch_bytes_max, raw_max) : raw_max;
    if (raw_max < bounds::event_bytes_max) {
        throw std::invalid_argument("the " + std::string(net::log_api_name(options.api)) + " preset's request limit leaves no room "
                                    "for a batch of " + std::to_string(events) + " events: lower --batch-events");
    }
    if (messages != nullptr && (events < plan.batch_events || bytes < plan.batch_bytes_max)) {
        messages->push_back({log::Level::notice,
                             std::string(net::log_api_name(options.api)) + ": batches capped at " + std::to_string(events) +
                                 " events and " + std::to_string(bytes) + " rendered bytes, so that a request body stays within " +
                                 std::to_string(limits.body_bytes_max) + " bytes (docs/sinks.md)"});
    }
    plan.batch_events = events;
    plan.batch_bytes_max = bytes;
}

}  // namespace supervent::daemon
