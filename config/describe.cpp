// The --check-config summary: what the daemon would run with, one setting a
// line, in words an operator can check at a glance. Never the token itself.
#include "config/builtin_scenario.hpp"
#include "config/load.hpp"
#include "config/sink_values.hpp"
#include "config/values.hpp"

namespace supervent::config {

namespace {

using detail::concat;

std::string yes_no(bool value) { return value ? "yes" : "no"; }

std::string http_sink(const SinkUrl& sink, std::string_view scheme) {
    const bool v6 = sink.host.find(':') != std::string::npos;
    const auto host = v6 ? concat('[', sink.host, ']') : sink.host;
    if (sink.api == SinkApi::axiom) return concat(scheme, "://", host, ':', sink.port, sink.path_prefix);
    // An HTTP log API preset (docs/sinks.md): its name, and its options as given.
    std::string options;
    for (const auto& [key, value] : sink.api_options) options += concat(options.empty() ? "?" : "&", key, '=', value);
    return concat(detail::sink_api_name(sink.api), '+', scheme, "://", host, ':', sink.port, sink.path_prefix, options,
                  " (", detail::sink_api_name(sink.api), " API)");
}

std::string syslog_sink_text(const SinkUrl& sink) {
    const std::string_view scheme = sink.kind == SinkUrl::Kind::syslog_tcp   ? "syslog+tcp"
                                    : sink.kind == SinkUrl::Kind::syslog_tls ? "syslog+tls"
                                                                             : "syslog+udp";
    const SyslogUrlOptions& o = sink.syslog;
    const std::string_view framing = sink.kind == SinkUrl::Kind::syslog_udp ? "one message per datagram"
                                     : o.newline_framing                    ? "newline framing"
                                                                            : "octet counting";
    return concat(http_sink(sink, scheme), " (", o.rfc3164 ? "RFC 3164" : "RFC 5424", ", ", framing, ", facility ",
                  int{o.facility}, o.rfc3164 ? std::string() : concat(", SD-ID ", o.sd_id), ")");
}

std::string sink_text(const SinkUrl& sink) {
    switch (sink.kind) {
        case SinkUrl::Kind::http: return http_sink(sink, "http");
        case SinkUrl::Kind::https: return http_sink(sink, "https");
        case SinkUrl::Kind::file: return concat("file ", detail::quoted(sink.file_path), " (NDJSON)");
        case SinkUrl::Kind::stdout_stream: return "standard output (NDJSON)";
        case SinkUrl::Kind::discard: return "discard (events are generated, then dropped)";
        case SinkUrl::Kind::postgresql: return concat("PostgreSQL ", sink.text, " (COPY, one transaction per batch)");
        case SinkUrl::Kind::syslog_tcp:
        case SinkUrl::Kind::syslog_tls:
        case SinkUrl::Kind::syslog_udp: return syslog_sink_text(sink);
    }
    return sink.text;
}

std::string workers_text(const Settings& settings) {
    auto text = settings.workers == 0 ? std::string("one per online CPU") : concat(settings.workers);
    return concat(text, settings.pin_threads ? ", pinned to CPUs" : ", not pinned");
}

std::string rate_text(const Settings& settings) {
    return settings.rate_eps ? concat(detail::number_text(*settings.rate_eps), " events/s") : std::string("unlimited");
}

std::string limits_text(const Settings& settings) {
    const auto events = concat(settings.events, " events");
    const auto duration = concat(detail::number_text(settings.duration_s), " s");
    if (settings.events > 0 && settings.duration_s > 0) {
        return concat("stop after ", events, " or ", duration, ", whichever comes first");
    }
    if (settings.events > 0) return concat("stop after ", events);
    if (settings.duration_s > 0) return concat("stop after ", duration);
    return "none: runs until stopped";
}

std::string token_text(const Settings& settings) {
    if (settings.token.empty()) {
        return settings.token_file.empty() ? "not set" : concat("not set (token file ", settings.token_file, ")");
    }
    return concat("set (from ", settings.token_source, ")");
}

std::string line(std::string_view label, std::string_view value) {
    constexpr std::size_t label_width = 14;
    return concat(label, ':', std::string(label_width - std::min(label_width, label.size()), ' '), value, '\n');
}

}  // namespace

std::string describe(const Settings& settings) {
    std::string text;
    text += line("config", settings.config_path.empty() ? "none (defaults and command line)" : settings.config_path);
    text += line("workers", workers_text(settings));
    text += line("batch", concat(settings.batch_events, " events per request"));
    text += line("connections", concat(settings.connections, " per worker"));
    text += line("zero copy", detail::zero_copy_name(settings.zero_copy));
    text += line("compression", detail::compression_name(settings.compression));
    text += line("format", concat(detail::format_name(settings.format), ", at most ", settings.batch_bytes_max,
                                  " body bytes per request"));
    text += line("tcp nodelay", yes_no(settings.tcp_nodelay));
    text += line("pipeline", concat("2 requests per connection, up to ", settings.pipeline_depth_max, " toward a far sink"));
    if (!settings.bind.empty()) {
        std::string entries;
        for (const auto& entry : settings.bind) entries += (entries.empty() ? "" : ", ") + entry;
        text += line("bind", entries);
    }
    text += line("timeouts", "connect " + detail::number_text(settings.connect_timeout_s) + " s, request " +
                                 detail::number_text(settings.request_timeout_s) + " s, drain " +
                                 detail::number_text(settings.drain_timeout_s) + " s");
    text += line("sink", sink_text(settings.sink));
    if (settings.sink.kind == SinkUrl::Kind::https) {
        text += line("tls", settings.tls_skip_verify ? std::string("certificate NOT verified (tls_skip_verify)")
                            : settings.ca_file.empty() ? std::string("verified against the system CA store")
                                                       : concat("verified against ", settings.ca_file));
    }
    text += line("dataset", settings.dataset);
    if (settings.sink.kind == SinkUrl::Kind::http || settings.sink.kind == SinkUrl::Kind::https) {
        const bool edge = settings.edge == EdgeMode::on ||
                          (settings.edge == EdgeMode::automatic && detail::is_axiom_edge_host(settings.sink.host));
        text += line("ingest path", concat(edge ? "edge, /v1/ingest/DATASET" : "/v1/datasets/DATASET/ingest", " (edge ",
                                           detail::edge_name(settings.edge), ")"));
        if (!settings.event_labels.empty()) text += line("event labels", detail::event_labels_json(settings.event_labels));
    }
    if (settings.sink.kind == SinkUrl::Kind::file && settings.rotate_bytes > 0) {
        text += line("rotation", concat("at ", settings.rotate_bytes, " bytes, keeping ", settings.rotate_keep, " old files"));
    }
    text += line("token", token_text(settings));
    text += line("rate", rate_text(settings));
    text += line("limits", limits_text(settings));
    text += line("seed", concat(settings.seed));
    if (settings.shard_count > 1) {
        text += line("part", concat(settings.shard_index, " of ", settings.shard_count, " (--shard ", settings.shard_spec, ")"));
    }
    if (!settings.checkpoint_path.empty()) text += line("checkpoint", settings.checkpoint_path);
    text += line("scenario", settings.sources.empty()
                                 ? settings.scenario
                                 : concat(builtin_scenario_has_sources(settings.scenario) ? settings.scenario + " (built in, " : "",
                                          settings.sources.size(), settings.sources.size() == 1 ? " source" : " sources",
                                          builtin_scenario_has_sources(settings.scenario) ? ")" : " from the config file"));
    text += line("socket", settings.socket_path.empty() ? "default (see --help)" : settings.socket_path);
    text += line("socket group", settings.socket_group.empty() ? "the daemon's own" : settings.socket_group);
    text += line("metrics", settings.metrics_listen.empty() ? "off" : "http://" + settings.metrics_listen + "/metrics");
    text += line("log level", settings.log_level);
    text += line("log format", settings.log_format);
    text += line("progress",
                 settings.progress ? concat("every ", settings.progress_interval_ms, " ms") : std::string("off"));
    return text;
}

}  // namespace supervent::config
