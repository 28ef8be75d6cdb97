#include "daemon/daemon.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>  // before Asio: see control_server.hpp

#include <boost/asio.hpp>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <stdexcept>

#include "core/bounds.hpp"
#include "core/scenarios.hpp"
#include "core/schema.hpp"
#include "config/load.hpp"
#include "config/sink_values.hpp"
#include "config/toml_write.hpp"
#include "daemon/control_server.hpp"
#include "daemon/json_writer.hpp"
#include "daemon/local_addresses.hpp"
#include "daemon/log.hpp"
#include "daemon/metrics_server.hpp"
#include "daemon/sd_notify.hpp"
#include "net/body_format.hpp"
#include "net/http_request.hpp"

namespace supervent::daemon {
namespace asio = boost::asio;
namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;
constexpr auto supervise_interval = std::chrono::milliseconds(50);
constexpr auto shard_start_timeout = std::chrono::seconds(30);
// How often a checkpointed backfill writes its checkpoint: the longest stretch
// of settled batches a kill makes it send twice.
constexpr std::int64_t checkpoint_interval_ns = 1'000'000'000;

std::int64_t monotonic_ns() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * ns_per_s + now.tv_nsec;
}

std::uint32_t online_cpus() {
    const long count = sysconf(_SC_NPROCESSORS_ONLN);
    return count > 0 ? static_cast<std::uint32_t>(count) : 1;
}

void resolve_address(const config::SinkUrl& sink, net::HttpTransportConfig& http) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(sink.port);
    const int result = getaddrinfo(sink.host.c_str(), port.c_str(), &hints, &found);
    if (result != 0 || found == nullptr) {
        throw std::runtime_error("cannot resolve the sink host '" + sink.host + "': " + gai_strerror(result));
    }
    std::memcpy(&http.address, found->ai_addr, found->ai_addrlen);
    http.address_bytes = found->ai_addrlen;
    freeaddrinfo(found);
}

std::string host_header(const config::SinkUrl& sink) {
    const bool ipv6_literal = sink.host.find(':') != std::string::npos;
    std::string host = ipv6_literal ? "[" + sink.host + "]" : sink.host;
    const std::uint16_t default_port = sink.kind == config::SinkUrl::Kind::https ? 443 : 80;
    if (sink.port != default_port) host += ":" + std::to_string(sink.port);
    return host;
}

// Several shards may append to a regular file (each write of a batch is
// atomic under O_APPEND) or to /dev/null; anything else (a pipe, a
// terminal) gets one writer so lines never interleave.
bool shared_output_ok(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return true;  // will be created as a regular file
    return S_ISREG(info.st_mode) || path == "/dev/null";
}

int open_output(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open the file sink " + path + ": " + std::strerror(errno));
    return fd;
}

// Truncates a regular file after its last newline; returns the bytes removed.
std::uint64_t trim_torn_tail(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return 0;  // nothing written yet: the sink creates it
    struct stat info {};
    std::uint64_t removed = 0;
    if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) {
        char block[4096];
        off_t end = info.st_size;
        off_t keep = 0;  // no newline at all: nothing whole to keep
        bool scanned = true;
        while (end > 0) {
            const off_t start = end > off_t{sizeof block} ? end - off_t{sizeof block} : 0;
            const ssize_t n = ::pread(fd, block, static_cast<std::size_t>(end - start), start);
            if (n != end - start) {
                scanned = false;  // a read error: keep everything rather than guess
                break;
            }
            const void* newline = ::memrchr(block, '\n', static_cast<std::size_t>(n));
            if (newline != nullptr) {
                keep = start + (static_cast<const char*>(newline) - block) + 1;
                break;
            }
            end = start;
        }
        if (scanned && keep < info.st_size && ::ftruncate(fd, keep) == 0) removed = static_cast<std::uint64_t>(info.st_size - keep);
    }
    ::close(fd);
    return removed;
}

std::uint64_t share_of(std::uint64_t total, std::uint32_t index, std::uint32_t count) {
    return total / count + (index < total % count ? 1 : 0);
}

}  // namespace

namespace {

// What the engine renders for a body format: json is NDJSON turned into an
// array per batch by the shard.
core::OutputFormat output_format(config::SinkFormat format) {
    switch (format) {
        case config::SinkFormat::csv: return core::OutputFormat::csv;
        case config::SinkFormat::text: return core::OutputFormat::text;
        case config::SinkFormat::ndjson:
        case config::SinkFormat::json: break;
    }
    return core::OutputFormat::ndjson;
}

net::BodyFormat body_format(config::SinkFormat format) {
    switch (format) {
        case config::SinkFormat::json: return net::BodyFormat::json_array;
        case config::SinkFormat::csv: return net::BodyFormat::csv;
        case config::SinkFormat::text: return net::BodyFormat::text;
        case config::SinkFormat::ndjson: break;
    }
    return net::BodyFormat::ndjson;
}

// The built-in scenario compiled to CSV or text lines (the shared built-in
// program is NDJSON); null for an unknown name.
std::shared_ptr<const core::Program> builtin_program_as(const std::string& name, core::OutputFormat format) {
    if (name == "web_access") return core::compile_source(core::web_access_spec(), format);
    return nullptr;
}

// The ingest path: Axiom's edge form when asked, or (auto) for edge hosts.
bool edge_path(const config::Settings& settings) {
    if (settings.edge == config::EdgeMode::automatic) return config::detail::is_axiom_edge_host(settings.sink.host);
    return settings.edge == config::EdgeMode::on;
}

// What the sink kinds, body formats and rotation allow together.
void check_sink_settings(const config::Settings& settings) {
    using Kind = config::SinkUrl::Kind;
    const Kind kind = settings.sink.kind;
    const bool http = kind == Kind::http || kind == Kind::https;
    const bool stream = kind == Kind::file || kind == Kind::stdout_stream;
    if (settings.format == config::SinkFormat::text && http) {
        throw std::invalid_argument("sink.format = \"text\" (--format text) writes the message alone per line, which is "
                                    "no ingest format; it is for file: and stdout: sinks. Use ndjson, json or csv for " +
                                    settings.sink.text);
    }
    if (settings.format == config::SinkFormat::json && stream) {
        throw std::invalid_argument("sink.format = \"json\" (--format json) is for HTTP sinks: a file of one JSON array "
                                    "per batch is not one JSON document. Use ndjson (one event per line) for " +
                                    settings.sink.text);
    }
    if (settings.rotate_bytes > 0 && kind != Kind::file) {
        throw std::invalid_argument("sink.rotate_bytes (--rotate-bytes) rotates file: sinks; " + settings.sink.text +
                                    " is not a file");
    }
    if (!settings.event_labels.empty() && !http) {
        log::warning("sink.event_labels are sent to HTTP sinks only (as X-Axiom-Event-Labels); %s ignores them",
                     settings.sink.text.c_str());
    }
}

}  // namespace

// The run's target rate: --rate, else (live) the scenario's event frequencies.
std::optional<double> run_rate_eps(const config::Settings& settings, const core::CompiledScenario& scenario) {
    if (settings.rate_eps) return settings.rate_eps;
    if (!scenario.backfill && scenario.live_rate_eps > 0) return scenario.live_rate_eps;
    return std::nullopt;
}

std::shared_ptr<const core::CompiledScenario> compile_run_scenario(const config::Settings& settings) {
    core::ScenarioInputs inputs;
    // [sources] in the config file replace the built-in scenario.
    if (!settings.sources.empty()) {
        if (settings.scenario != config::Settings{}.scenario) {
            throw std::invalid_argument("generation.scenario ('" + settings.scenario +
                                        "') conflicts with the config file's [sources]: give one or the other");
        }
        inputs.sources = settings.sources;
    } else {
        inputs.builtin = output_format(settings.format) == core::OutputFormat::ndjson
                             ? core::builtin_program(settings.scenario)
                             : builtin_program_as(settings.scenario, output_format(settings.format));
        if (!inputs.builtin) {
            std::string known;
            for (std::string_view name : core::builtin_scenario_names()) known += (known.empty() ? "" : ", ") + std::string(name);
            throw std::invalid_argument("generation.scenario: unknown scenario '" + settings.scenario +
                                        "' (built in: " + known + ")");
        }
    }
    if (settings.window_start_ns.has_value() != settings.window_end_ns.has_value()) {
        throw std::invalid_argument("generation.start and generation.end (--start, --end) go together: give both");
    }
    if (settings.window_start_ns && *settings.window_start_ns >= *settings.window_end_ns) {
        throw std::invalid_argument("generation.start must be before generation.end");
    }
    inputs.spec = settings.scenario_spec;
    if (!settings.live) {
        inputs.window_start_ns = settings.window_start_ns;
        inputs.window_end_ns = settings.window_end_ns;
    }
    inputs.window_events = settings.events;
    inputs.default_dataset = settings.dataset;
    inputs.format = output_format(settings.format);
    // (--scale is applied by the config loaders, once.)
    return core::compile_scenario(inputs);
}

std::vector<ShardPlan> plan_shards(const config::Settings& settings) {
    using Kind = config::SinkUrl::Kind;
    const config::SinkUrl& sink = settings.sink;
    check_sink_settings(settings);
    const std::shared_ptr<const core::CompiledScenario> scenario = compile_run_scenario(settings);
    std::uint32_t workers = settings.workers == 0 ? online_cpus() : settings.workers;
    if ((sink.kind == Kind::stdout_stream || (sink.kind == Kind::file && !shared_output_ok(sink.file_path))) &&
        workers > 1) {
        log::notice("%s is not a regular file; using one worker so lines never interleave", sink.text.c_str());
        workers = 1;
    }
    if (sink.kind == Kind::file && settings.rotate_bytes > 0 && workers > 1) {
        log::notice("%s rotates (sink.rotate_bytes): using one worker, the one writer that decides where each batch goes",
                    sink.text.c_str());
        workers = 1;
    }
    if (settings.events > 0 && settings.events < workers) workers = static_cast<std::uint32_t>(settings.events);
    std::shared_ptr<const CheckpointStart> checkpoint;
    if (!settings.checkpoint_path.empty()) {
        checkpoint = std::make_shared<const CheckpointStart>(open_checkpoint(settings, *scenario, workers));
    }

    net::HttpTransportConfig http;
    if (sink.kind == Kind::https) {
        http.tls.enabled = true;
        http.tls.server_name = sink.host;
        http.tls.ca_file = settings.ca_file;
        http.tls.skip_verify = settings.tls_skip_verify;
        if (settings.tls_skip_verify) {
            log::warning("TLS CERTIFICATE VERIFICATION IS OFF (--tls-insecure-skip-verify / sink.tls_skip_verify): "
                         "any server can pose as %s and read the token and every event. Use it for tests only",
                         sink.host.c_str());
        }
    }
    if (sink.kind == Kind::http || sink.kind == Kind::https) {
        resolve_address(sink, http);
        http.target.host_header = host_header(sink);
        // One route (request path) per source: each source's events go to its own dataset.
        http.target.path = net::ingest_path(sink.path_prefix, scenario->sources.front().dataset, edge_path(settings));
        for (std::size_t i = 1; i < scenario->sources.size(); ++i) {
            http.route_paths.push_back(net::ingest_path(sink.path_prefix, scenario->sources[i].dataset, edge_path(settings)));
        }
        http.target.token = settings.token;
        if (settings.compression.zstd) http.target.content_encoding = "zstd";
        http.local_addresses = resolve_local_addresses(settings.bind, http.address.ss_family);
        http.connections = settings.connections;
        http.tcp_nodelay = settings.tcp_nodelay;
        http.connect_timeout_ns = static_cast<std::int64_t>(settings.connect_timeout_s * ns_per_s);
        http.request_timeout_ns = static_cast<std::int64_t>(settings.request_timeout_s * ns_per_s);
        http.target.content_type = std::string(net::body_format_content_type(body_format(settings.format)));
        http.target.event_labels_json = config::detail::event_labels_json(settings.event_labels);
        // The head goes into the head room in front of the body, whose last
        // byte the JSON array's '[' may take: say so now, not from a shard.
        const std::size_t head_bytes = net::RequestHead(http.target).bytes_max();
        if (head_bytes + net::json_array_head_room_bytes > bounds::http_head_room_bytes) {
            throw std::invalid_argument("the HTTP request head (URL, dataset, token and event labels) takes up to " +
                                        std::to_string(head_bytes) + " bytes, more than the " +
                                        std::to_string(bounds::http_head_room_bytes - net::json_array_head_room_bytes) +
                                        " it may have: shorten sink.event_labels");
        }
    }
    if (sink.kind == Kind::file && checkpoint && checkpoint->resuming()) {
        // A resumed backfill appends to what the killed run wrote, less a
        // write the kill cut short: that batch was not settled, so it comes again.
        if (const std::uint64_t cut = trim_torn_tail(sink.file_path); cut > 0) {
            log::notice("%s: removed the last %llu bytes, a line the kill cut short", sink.file_path.c_str(),
                        static_cast<unsigned long long>(cut));
        }
    } else if (sink.kind == Kind::file && !(checkpoint && checkpoint->found)) {
        // Start the file afresh once; shards then append.
        const int fd = ::open(sink.file_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) throw std::runtime_error("cannot open the file sink " + sink.file_path + ": " + std::strerror(errno));
        ::close(fd);
    }

    const std::uint32_t cpus = online_cpus();
    std::vector<ShardPlan> plans(workers);
    for (std::uint32_t i = 0; i < workers; ++i) {
        ShardPlan& plan = plans[i];
        plan.index = i;
        plan.count = workers;
        plan.cpu = settings.pin_threads ? static_cast<int>(i % cpus) : -1;
        plan.batch_events = settings.batch_events;
        plan.batch_bytes_max = settings.batch_bytes_max;
        plan.rate_eps = run_rate_eps(settings, *scenario).value_or(0) / workers;
        // A backfill ends when the scenario's events are out; --events then
        // only sizes a window that has no volume entries.
        plan.events_budget = settings.events > 0 && !scenario->backfill ? share_of(settings.events, i, workers) : 0;
        plan.duration_ns = static_cast<std::int64_t>(settings.duration_s * ns_per_s);
        plan.scenario = scenario;
        plan.identity = core::SourceIdentity{settings.seed, i, workers};
        plan.checkpoint = checkpoint;
        plan.zero_copy = settings.zero_copy;
        plan.compression = settings.compression;
        plan.drain_timeout_ns = static_cast<std::int64_t>(settings.drain_timeout_s * ns_per_s);
        plan.sink.kind = sink.kind;
        plan.sink.description = sink.text;
        plan.sink.body_format = body_format(settings.format);
        switch (sink.kind) {
            case Kind::http:
            case Kind::https:
                plan.sink.http = http;
                plan.slots = settings.connections * bounds::slots_per_connection;
                break;
            case Kind::file:
                plan.sink.file_fd = open_output(sink.file_path);
                plan.sink.rotation = net::FileRotation{sink.file_path, settings.rotate_bytes, settings.rotate_keep};
                plan.slots = 2;
                break;
            case Kind::stdout_stream:
                plan.sink.file_fd = STDOUT_FILENO;
                plan.slots = 2;
                break;
            case Kind::discard:
                plan.slots = 2;
                break;
        }
    }
    return plans;
}

namespace {

// Kernel TLS as an operator should read it: on, or why not.
std::string describe_kernel_tls(const Totals& total) {
    if (total.ktls_connections > 0) return "on";
    if (total.ktls_unavailable_errno == ENOENT) return "unavailable: this kernel has no tls module (user-space TLS)";
    if (total.ktls_unavailable_errno != 0) {
        return std::string("unavailable: ") + std::strerror(total.ktls_unavailable_errno) + " (user-space TLS)";
    }
    return total.tls_handshakes > 0 ? "off (user-space TLS)" : "not tried yet";
}

// Every setting a reload or `set` may touch: whether it can change while
// running, and how to tell it changed. The others need a restart.
struct SettingKey {
    std::string_view name;
    bool live;
    bool (*differs)(const config::Settings&, const config::Settings&);
    // Part of the scenario: a reload compiles the new one and swaps it in
    // live (Shared::reload); `set` refuses it (it belongs in the file).
    bool scenario = false;
};

using S = config::Settings;
constexpr SettingKey setting_keys[] = {
    {"generation.rate", true, [](const S& a, const S& b) { return a.rate_eps != b.rate_eps; }},
    {"generation.events", true, [](const S& a, const S& b) { return a.events != b.events; }},
    {"generation.duration", true, [](const S& a, const S& b) { return a.duration_s != b.duration_s; }},
    {"monitoring.progress", true, [](const S& a, const S& b) { return a.progress != b.progress; }},
    {"monitoring.progress_interval_ms", true,
     [](const S& a, const S& b) { return a.progress_interval_ms != b.progress_interval_ms; }},
    {"monitoring.log_level", true, [](const S& a, const S& b) { return a.log_level != b.log_level; }},
    {"runtime.workers", false, [](const S& a, const S& b) { return a.workers != b.workers; }},
    {"runtime.batch_events", false, [](const S& a, const S& b) { return a.batch_events != b.batch_events; }},
    {"runtime.pin_threads", false, [](const S& a, const S& b) { return a.pin_threads != b.pin_threads; }},
    {"runtime.drain_timeout", false, [](const S& a, const S& b) { return a.drain_timeout_s != b.drain_timeout_s; }},
    {"runtime.socket", false, [](const S& a, const S& b) { return a.socket_path != b.socket_path; }},
    {"runtime.socket_group", false, [](const S& a, const S& b) { return a.socket_group != b.socket_group; }},
    {"runtime.socket_allowed_uids", false,
     [](const S& a, const S& b) { return a.socket_allowed_uids != b.socket_allowed_uids; }},
    {"runtime.socket_allowed_gids", false,
     [](const S& a, const S& b) { return a.socket_allowed_gids != b.socket_allowed_gids; }},
    {"network.connections", false, [](const S& a, const S& b) { return a.connections != b.connections; }},
    {"network.zero_copy", false, [](const S& a, const S& b) { return a.zero_copy != b.zero_copy; }},
    {"network.bind", false, [](const S& a, const S& b) { return a.bind != b.bind; }},
    {"sink.compression", false,
     [](const S& a, const S& b) {
         return a.compression.zstd != b.compression.zstd || a.compression.level != b.compression.level;
     }},
    {"network.tcp_nodelay", false, [](const S& a, const S& b) { return a.tcp_nodelay != b.tcp_nodelay; }},
    {"network.connect_timeout", false,
     [](const S& a, const S& b) { return a.connect_timeout_s != b.connect_timeout_s; }},
    {"network.request_timeout", false,
     [](const S& a, const S& b) { return a.request_timeout_s != b.request_timeout_s; }},
    {"generation.seed", false, [](const S& a, const S& b) { return a.seed != b.seed; }},
    // The scenario: a reload swaps it in live, between batches.
    {"generation.scenario", true, [](const S& a, const S& b) { return a.scenario != b.scenario; }, true},
    // Compared without their origins (file, line): a comment added above a
    // source is no change.
    {"sources", true,
     [](const S& a, const S& b) {
         if (a.sources.size() != b.sources.size()) return true;
         for (std::size_t i = 0; i < a.sources.size(); ++i) {
             if (config::without_origins(a.sources[i]) != config::without_origins(b.sources[i])) return true;
         }
         return false;
     },
     true},
    {"scenario", true,
     [](const S& a, const S& b) {
         return config::without_origins(a.scenario_spec) != config::without_origins(b.scenario_spec);
     },
     true},
    {"generation.start", true, [](const S& a, const S& b) { return a.window_start_ns != b.window_start_ns; }, true},
    {"generation.end", true, [](const S& a, const S& b) { return a.window_end_ns != b.window_end_ns; }, true},
    {"generation.live", true, [](const S& a, const S& b) { return a.live != b.live; }, true},
    {"sink.dataset", true, [](const S& a, const S& b) { return a.dataset != b.dataset; }, true},
    {"sink.url", false, [](const S& a, const S& b) { return a.sink.text != b.sink.text; }},
    {"sink.token_file", false, [](const S& a, const S& b) { return a.token_file != b.token_file; }},
    {"sink.token", false, [](const S& a, const S& b) { return a.token != b.token; }},
    {"runtime.batch_bytes", false, [](const S& a, const S& b) { return a.batch_bytes_max != b.batch_bytes_max; }},
    {"sink.format", false, [](const S& a, const S& b) { return a.format != b.format; }},
    {"sink.edge", false, [](const S& a, const S& b) { return a.edge != b.edge; }},
    {"sink.event_labels", false, [](const S& a, const S& b) { return a.event_labels != b.event_labels; }},
    {"sink.rotate_bytes", false, [](const S& a, const S& b) { return a.rotate_bytes != b.rotate_bytes; }},
    {"sink.rotate_keep", false, [](const S& a, const S& b) { return a.rotate_keep != b.rotate_keep; }},
    {"sink.ca_file", false, [](const S& a, const S& b) { return a.ca_file != b.ca_file; }},
    {"sink.tls_skip_verify", false, [](const S& a, const S& b) { return a.tls_skip_verify != b.tls_skip_verify; }},
    {"monitoring.metrics_listen", false, [](const S& a, const S& b) { return a.metrics_listen != b.metrics_listen; }},
};

const SettingKey* find_setting(std::string_view name) {
    const SettingKey* found = nullptr;
    for (const SettingKey& key : setting_keys) {
        if (key.name == name) return &key;
        const auto dot = key.name.find('.');
        if (key.name.substr(dot + 1) == name) {
            if (found != nullptr) return nullptr;  // ambiguous without its section
            found = &key;
        }
    }
    return found;
}

std::string error_reply(std::string_view message) {
    return JsonWriter().begin_object().field("ok", false).field("error", message).end_object().take();
}

std::string live_key_list() {
    std::string names;
    for (const SettingKey& key : setting_keys) {
        if (key.live && !key.scenario) names += (names.empty() ? "" : ", ") + std::string(key.name);
    }
    return names;
}

// Whether a reload must compile and swap in a new scenario.
bool scenario_differs(const config::Settings& a, const config::Settings& b) {
    for (const SettingKey& key : setting_keys) {
        if (key.scenario && key.differs(a, b)) return true;
    }
    // --events sizes a window whose sources have no volume entries.
    return a.events != b.events && b.window_start_ns.has_value();
}

// A reload's new scenario, compiled and checked, with its routes: nothing
// has changed yet when this exists.
struct ScenarioSwap {
    bool needed = false;
    std::shared_ptr<const core::CompiledScenario> scenario;
    std::vector<std::uint16_t> routes;        // by new source
    std::vector<std::string> route_datasets;  // every route's, the new ones appended
    std::vector<std::string> route_paths;
    std::vector<std::uint8_t> enabled;        // by new source: off if a source of that name was
    std::vector<std::string> added, removed, changed, unchanged, datasets_added;
};

std::string name_list(const std::vector<std::string>& names) {
    std::string text;
    for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
    return text.empty() ? "none" : text;
}

// A value from a `set` request as TOML: numbers and booleans as they are,
// anything else a quoted string ("unlimited", "5m", a path).
std::string toml_value(std::string_view text) {
    if (text == "true" || text == "false") return std::string(text);
    double number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (!text.empty() && error == std::errc() && end == text.data() + text.size()) return std::string(text);
    std::string quoted = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') quoted += '\\';
        if (static_cast<unsigned char>(c) < 0x20) continue;  // no control characters in a setting
        quoted += c;
    }
    return quoted + "\"";
}

}  // namespace

struct Daemon::Shared {
    config::Settings settings;   // what runs: the start-up settings with live changes applied
    SettingsLoader load_settings;
    std::vector<ShardPlan> plans;
    std::unique_ptr<ShardStats[]> stats;
    std::unique_ptr<ShardControl[]> controls;
    std::unique_ptr<ShardError[]> errors;
    std::vector<std::unique_ptr<Shard>> shards;
    std::vector<std::thread> threads;
    std::uint32_t shard_count = 0;

    asio::io_context io;
    std::unique_ptr<ControlServer> control_server;
    std::unique_ptr<MetricsServer> metrics_server;
    Notifier notifier;
    std::int64_t started_ns = 0;
    bool stop_requested = false;
    bool paused = false;
    // The scenario the shards run (`scenario_generation`: 0 at start-up, +1
    // per reload that changed it), each source's route (request path,
    // append-only: batches queued before a reload keep theirs) and whether
    // it is enabled. Shards take changes through ShardControl::change.
    std::shared_ptr<const core::CompiledScenario> scenario;
    std::uint64_t scenario_generation = 0;
    std::vector<std::uint16_t> routes;          // by source of `scenario`
    std::vector<std::string> route_datasets;    // by route
    std::vector<std::string> route_paths;       // by route (HTTP sinks)
    std::vector<std::uint8_t> source_enabled;   // by source of `scenario`
    // Scenarios a shard may still run while it has not taken the newest
    // (its per-source counts are by that scenario's sources).
    std::map<std::uint64_t, std::shared_ptr<const core::CompiledScenario>> scenario_history;
    std::size_t batch_room_bytes = 0;  // batch_events x the start-up scenario's largest event: what a slot holds
    bool reported_ready = false;
    std::uint64_t reloads = 0;
    // A checkpointed backfill: the shards' journals, what was last written
    // to the file, and when.
    std::shared_ptr<const CheckpointStart> checkpoint;
    std::unique_ptr<ShardCheckpointShare[]> checkpoint_shares;
    Checkpoint checkpoint_written;
    std::int64_t checkpoint_written_ns = 0;  // when the file last changed (status)
    std::int64_t checkpoint_checked_ns = 0;  // when the shards' journals were last looked at
    bool checkpoint_error_logged = false;
    void write_checkpoint(bool final);
    void json_checkpoint(JsonWriter& json) const;
    std::string startup_config_path;

    // Rate sampling for status: generated events at the last sample.
    std::int64_t sample_ns = 0;
    std::uint64_t sample_events = 0;
    std::uint64_t sample_bytes = 0;
    double rate_actual_eps = 0;
    double bytes_rate_actual = 0;
    std::int64_t last_progress_ns = 0;
    std::int64_t last_status_ns = 0;
    std::int64_t last_watchdog_ns = 0;
    std::vector<std::uint64_t> watchdog_turns;
    bool watchdog_withheld = false;

    [[nodiscard]] Totals totals() const;
    [[nodiscard]] std::string state() const;
    [[nodiscard]] std::string status_json() const;
    [[nodiscard]] std::string metrics_text() const;
    void handle_command(std::string_view request, Responder respond);
    // Replies owed to `stop` requests that wait for the end of the drain.
    std::vector<Responder> stop_waiters;
    void request_stop();
    void push_pause();
    void push_rate();
    void push_events();
    void push_duration();
    // Applies what changed between `settings` and `next` that can change
    // live; lists it in `changed` and the rest in `restart_needed`.
    void apply_live(const config::Settings& next, std::vector<std::string_view>& changed,
                    std::vector<std::string_view>& restart_needed);
    [[nodiscard]] std::string reload(const std::string& path);
    [[nodiscard]] std::string set_setting(std::string_view key, std::string_view value);
    [[nodiscard]] std::string set_rate(simdjson::dom::element value);
    [[nodiscard]] std::string sources_json(simdjson::dom::element request);
    void init_scenario();
    [[nodiscard]] ScenarioSwap prepare_scenario(config::Settings& next) const;
    void swap_scenario(ScenarioSwap& swap, const config::Settings& next);
    void push_change();
    [[nodiscard]] bool all_sources_disabled() const {
        return !source_enabled.empty() &&
               std::none_of(source_enabled.begin(), source_enabled.end(), [](std::uint8_t on) { return on != 0; });
    }
    // Events generated per source of `scenario`, over every shard; nullopt
    // past bounds::scenario_sources_counted_max.
    [[nodiscard]] std::vector<std::optional<std::uint64_t>> source_counts() const;
    void json_sources(JsonWriter& json) const;
    void json_progress(JsonWriter& json) const;
    // Backfill progress: root events over every shard.
    std::uint64_t sample_roots = 0;
    double roots_rate = 0;  // root events per second, smoothed
    void sample_rates(std::int64_t now_ns);
    void print_progress(std::int64_t now_ns) const;
    void report_to_systemd(std::int64_t now_ns);
    [[nodiscard]] bool all_done() const;
};

Totals Daemon::Shared::totals() const {
    Totals total;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const ShardStats& shard = stats[i];
        // acked and failed before generated: see ShardStats.
        total.events_acked += shard.events_acked.get();
        // Failed = the sum of its reasons, read in one pass: a batch failing
        // between two reads cannot make rejected + dropped differ from failed.
        // (The shard bumps a reason before generated is read below, as it
        // bumps events_failed, so in flight never goes negative.)
        for (int reason = 0; reason < static_cast<int>(net::FailReason::count_); ++reason) {
            const std::uint64_t events = shard.events_failed_by_reason[reason].get();
            total.events_failed_by_reason[reason] += events;
            total.events_failed += events;
        }
        total.events_generated += shard.events_generated.get();
        total.bytes_generated += shard.bytes_generated.get();
        total.bytes_sent += shard.bytes_sent.get();
        total.requests_sent += shard.requests_sent.get();
        total.requests_acked += shard.requests_acked.get();
        total.requests_retried += shard.requests_retried.get();
        total.requests_ambiguous += shard.requests_ambiguous.get();
        total.requests_failed += shard.requests_failed.get();
        total.connects += shard.connects.get();
        total.connect_failures += shard.connect_failures.get();
        total.zc_notifications += shard.zc_notifications.get();
        total.zc_copied += shard.zc_copied.get();
        total.tls_handshakes += shard.tls_handshakes.get();
        total.tls_resumed += shard.tls_resumed.get();
        total.ktls_connections += shard.ktls_connections.get();
        if (const auto error = static_cast<int>(shard.ktls_unavailable_errno.get()); error != 0) {
            total.ktls_unavailable_errno = error;
        }
        total.tls_cipher_fixed_writes += shard.tls_cipher_fixed_writes.get();
        total.latency_ns_sum += shard.latency_ns_sum.get();
        total.slots_total += shard.slots_total.get();
        total.slots_busy += shard.slots_busy.get();
    }
    return total;
}

std::string Daemon::Shared::state() const {
    bool any_failed = false, all_finished = true, any_draining = false, any_starting = false;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const ShardPhase phase = stats[i].phase.load(std::memory_order_acquire);
        any_failed |= phase == ShardPhase::failed;
        all_finished &= phase == ShardPhase::finished || phase == ShardPhase::failed;
        any_draining |= phase == ShardPhase::draining;
        any_starting |= phase == ShardPhase::starting;
    }
    if (any_failed) return "failed";
    if (all_finished) return "finished";
    if (any_starting) return "starting";
    if (any_draining || stop_requested) return "draining";
    if (paused || all_sources_disabled()) return "paused";
    return "running";
}

std::string Daemon::Shared::status_json() const {
    const Totals total = totals();
    const double uptime_s = double(monotonic_ns() - started_ns) / ns_per_s;
    JsonWriter json;
    json.begin_object().field("ok", true).field("state", state());
    json.field("events_generated", total.events_generated)
        .field("events_acked", total.events_acked)
        .field("events_failed", total.events_failed)
        .field("events_rejected", total.events_rejected())
        .field("events_dropped", total.events_dropped())
        .field("events_in_flight", total.events_in_flight());
    json.key("events_target");
    if (settings.events > 0) json.value(settings.events); else json.null();
    json.key("duration_target_s");
    if (settings.duration_s > 0) json.value(settings.duration_s); else json.null();
    json.field("bytes_generated", total.bytes_generated).field("bytes_sent", total.bytes_sent);
    json.key("rate_target");
    if (settings.rate_eps) json.value(*settings.rate_eps); else json.value("unlimited");
    json.field("rate_actual", rate_actual_eps).field("bytes_per_second", bytes_rate_actual);
    json.field("uptime_s", uptime_s).field("workers", shard_count);
    json.field("paused", paused).field("reloads", reloads);
    json.field("requests_sent", total.requests_sent)
        .field("requests_acked", total.requests_acked)
        .field("requests_retried", total.requests_retried)
        .field("requests_ambiguous", total.requests_ambiguous)
        .field("requests_failed", total.requests_failed);
    json.field("connects", total.connects).field("connect_failures", total.connect_failures);
    json.field("zc_notifications", total.zc_notifications).field("zc_copied", total.zc_copied);
    json.key("tls");
    if (settings.sink.kind == config::SinkUrl::Kind::https) {
        json.begin_object()
            .field("handshakes", total.tls_handshakes)
            .field("resumed", total.tls_resumed)
            .field("kernel_tls", describe_kernel_tls(total))
            .field("ciphertext_fixed_writes", total.tls_cipher_fixed_writes)
            .end_object();
    } else {
        json.null();
    }
    json.field("slots_busy", total.slots_busy).field("slots_total", total.slots_total);
    json.field("mean_request_latency_ms",
               total.requests_acked > 0 ? double(total.latency_ns_sum) / double(total.requests_acked) / 1e6 : 0.0);
    json.key("events_failed_by_reason").begin_object();
    for (int reason = 1; reason < static_cast<int>(net::FailReason::count_); ++reason) {
        if (total.events_failed_by_reason[reason] > 0) {
            json.field(net::fail_reason_name(static_cast<net::FailReason>(reason)), total.events_failed_by_reason[reason]);
        }
    }
    json.end_object();
    // The dropped ones alone (every reason but partial), for "dropped (by reason)".
    json.key("events_dropped_by_reason").begin_object();
    for (int reason = 1; reason < static_cast<int>(net::FailReason::count_); ++reason) {
        if (reason != static_cast<int>(net::FailReason::partial) && total.events_failed_by_reason[reason] > 0) {
            json.field(net::fail_reason_name(static_cast<net::FailReason>(reason)), total.events_failed_by_reason[reason]);
        }
    }
    json.end_object();
    json.field("sink", settings.sink.text).field("dataset", settings.dataset);
    json.field("config", settings.config_path).field("log_level", settings.log_level);
    json.field("control_sessions", control_server ? control_server->sessions() : 0u);
    json.key("metrics");
    if (metrics_server) json.value("http://" + metrics_server->address() + "/metrics"); else json.null();
    json_sources(json);
    json_progress(json);
    json_checkpoint(json);
    json.key("shards").begin_array();
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const ShardStats& shard = stats[i];
        json.begin_object()
            .field("index", i)
            .field("phase", shard_phase_name(shard.phase.load(std::memory_order_acquire)))
            .field("events_acked", shard.events_acked.get())
            .field("events_failed", shard.events_failed.get())
            .field("events_generated", shard.events_generated.get())
            .field("slots_busy", shard.slots_busy.get())
            .field("backpressured", shard.backpressured.load(std::memory_order_relaxed))
            .end_object();
    }
    json.end_array();
    json.key("errors").begin_array();
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        std::lock_guard lock(errors[i].mutex);
        if (!errors[i].text.empty()) json.value(errors[i].text);
    }
    json.end_array();
    json.end_object();
    return json.take();
}

// Prometheus text exposition format 0.0.4. Counters are sums of per-shard
// counters that only grow; per-shard series carry a shard="N" label.
std::string Daemon::Shared::metrics_text() const {
    std::string out;
    out.reserve(16384);
    char line[256];
    auto family = [&](const char* name, const char* type, const char* help) {
        out += "# HELP ";
        out += name;
        out += ' ';
        out += help;
        out += "\n# TYPE ";
        out += name;
        out += ' ';
        out += type;
        out += '\n';
    };
    auto sample = [&](const char* name, const char* labels, double value) {
        std::snprintf(line, sizeof line, "%s%s %.17g\n", name, labels, value);
        out += line;
    };
    auto per_shard = [&](const char* name, const char* type, const char* help, auto read) {
        family(name, type, help);
        for (std::uint32_t i = 0; i < shard_count; ++i) {
            char labels[32];
            std::snprintf(labels, sizeof labels, "{shard=\"%u\"}", i);
            sample(name, labels, double(read(stats[i])));
        }
    };
    const Totals total = totals();

    family("supervent_build_info", "gauge", "Version of superventd.");
    out += "supervent_build_info{version=\"" SUPERVENT_VERSION "\"} 1\n";
    family("supervent_workers", "gauge", "Worker threads (shards).");
    sample("supervent_workers", "", shard_count);
    family("supervent_uptime_seconds", "gauge", "Seconds since superventd started.");
    sample("supervent_uptime_seconds", "", double(monotonic_ns() - started_ns) / ns_per_s);
    family("supervent_paused", "gauge", "1 while generation is paused (pause, or the source disabled).");
    sample("supervent_paused", "", paused || all_sources_disabled() ? 1 : 0);
    family("supervent_rate_target_events_per_second", "gauge", "Target event rate over all workers; 0 = unlimited.");
    sample("supervent_rate_target_events_per_second", "", settings.rate_eps ? *settings.rate_eps : 0.0);
    family("supervent_rate_events_per_second", "gauge", "Events generated per second, sampled every 0.5 s.");
    sample("supervent_rate_events_per_second", "", rate_actual_eps);
    family("supervent_reloads_total", "counter", "Successful configuration reloads.");
    sample("supervent_reloads_total", "", double(reloads));

    per_shard("supervent_events_generated_total", "counter", "Events generated.",
              [](const ShardStats& s) { return s.events_generated.get(); });
    per_shard("supervent_events_acked_total", "counter", "Events acknowledged by the sink.",
              [](const ShardStats& s) { return s.events_acked.get(); });
    // One family partitioned by reason (so sum() is every failed event):
    // reason="partial" = the sink reported them failed; any other reason =
    // supervent dropped them. generated = acked + failed + in flight.
    family("supervent_events_failed_total", "counter",
           "Events not delivered, by reason: partial = reported failed by the sink; any other = dropped by supervent.");
    for (int reason = 1; reason < static_cast<int>(net::FailReason::count_); ++reason) {
        char labels[64];
        std::snprintf(labels, sizeof labels, "{reason=\"%s\"}", net::fail_reason_name(static_cast<net::FailReason>(reason)));
        sample("supervent_events_failed_total", labels, double(total.events_failed_by_reason[reason]));
    }
    family("supervent_events_in_flight", "gauge", "Events generated and not yet acknowledged or failed.");
    sample("supervent_events_in_flight", "", double(total.events_in_flight()));
    per_shard("supervent_bytes_generated_total", "counter", "Serialized event bytes, before compression.",
              [](const ShardStats& s) { return s.bytes_generated.get(); });
    per_shard("supervent_bytes_sent_total", "counter", "Wire bytes of completed requests, head included.",
              [](const ShardStats& s) { return s.bytes_sent.get(); });
    family("supervent_bytes_sent_by_local_address_total", "counter",
           "Wire bytes of acknowledged requests by local address (--bind / network.bind).");
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const auto& addresses = plans[i].sink.http.local_addresses;
        for (std::size_t a = 0; a < addresses.size() && a < bounds::local_addresses_max; ++a) {
            char host[INET6_ADDRSTRLEN] = "?";
            const sockaddr_storage& address = addresses[a];
            if (address.ss_family == AF_INET) {
                ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, host, sizeof host);
            } else if (address.ss_family == AF_INET6) {
                ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, host, sizeof host);
            }
            char labels[96];
            std::snprintf(labels, sizeof labels, "{shard=\"%u\",address=\"%s\"}", i, host);
            sample("supervent_bytes_sent_by_local_address_total", labels, double(stats[i].bytes_by_local_address[a].get()));
        }
    }
    per_shard("supervent_requests_sent_total", "counter", "Requests put on the wire (retries included).",
              [](const ShardStats& s) { return s.requests_sent.get(); });
    family("supervent_requests_total", "counter", "Requests by outcome.");
    sample("supervent_requests_total", "{outcome=\"acked\"}", double(total.requests_acked));
    sample("supervent_requests_total", "{outcome=\"retried\"}", double(total.requests_retried));
    sample("supervent_requests_total", "{outcome=\"failed\"}", double(total.requests_failed));
    family("supervent_requests_ambiguous_total", "counter",
           "Requests cut off after being fully sent, before an answer: the sink may have taken them.");
    sample("supervent_requests_ambiguous_total", "", double(total.requests_ambiguous));
    per_shard("supervent_connects_total", "counter", "Connections opened to the sink.",
              [](const ShardStats& s) { return s.connects.get(); });
    per_shard("supervent_connect_failures_total", "counter", "Failed connection attempts.",
              [](const ShardStats& s) { return s.connect_failures.get(); });
    if (settings.sink.kind == config::SinkUrl::Kind::https) {
        per_shard("supervent_tls_handshakes_total", "counter", "TLS handshakes completed with the sink.",
                  [](const ShardStats& s) { return s.tls_handshakes.get(); });
        per_shard("supervent_tls_resumed_total", "counter", "TLS handshakes that resumed a kept session.",
                  [](const ShardStats& s) { return s.tls_resumed.get(); });
        per_shard("supervent_ktls_connections_total", "counter", "TLS connections whose sends the kernel encrypts.",
                  [](const ShardStats& s) { return s.ktls_connections.get(); });
    }
    per_shard("supervent_zerocopy_notifications_total", "counter", "Zero-copy send notifications received.",
              [](const ShardStats& s) { return s.zc_notifications.get(); });
    per_shard("supervent_zerocopy_copied_total", "counter", "Zero-copy sends the kernel had to copy after all.",
              [](const ShardStats& s) { return s.zc_copied.get(); });
    per_shard("supervent_slots_busy", "gauge", "Send buffer slots in use (filling, queued, sending, settling).",
              [](const ShardStats& s) { return s.slots_busy.get(); });
    per_shard("supervent_slots", "gauge", "Send buffer slots.", [](const ShardStats& s) { return s.slots_total.get(); });
    family("supervent_buffer_utilization_ratio", "gauge", "Busy send buffer slots over all slots.");
    sample("supervent_buffer_utilization_ratio", "",
           total.slots_total > 0 ? double(total.slots_busy) / double(total.slots_total) : 0.0);
    per_shard("supervent_backpressured", "gauge", "1 while a worker wants a free slot and has none (sink-bound).",
              [](const ShardStats& s) { return s.backpressured.load(std::memory_order_relaxed) ? 1 : 0; });
    per_shard("supervent_backfill_roots_total", "gauge",
              "Backfill: root events this worker's share of the scenario holds (0 when live; a reload starts afresh).",
              [](const ShardStats& s) { return s.roots_total.get(); });
    per_shard("supervent_backfill_roots_done", "gauge", "Backfill: root events generated so far of roots_total.",
              [](const ShardStats& s) { return s.roots_done.get(); });
    per_shard("supervent_dependents_pending", "gauge", "Dependent events waiting for their time.",
              [](const ShardStats& s) { return s.dependents_pending.get(); });

    family("supervent_request_latency_seconds", "histogram",
           "Time from send to the sink's response, of acknowledged requests.");
    std::uint64_t cumulative = 0;
    for (int k = 0; k < LatencyHistogram::buckets; ++k) {
        for (std::uint32_t i = 0; i < shard_count; ++i) {
            cumulative += stats[i].latency.counts[k].value.load(std::memory_order_acquire);
        }
        if (k < LatencyHistogram::finite_buckets) {
            char labels[48];
            std::snprintf(labels, sizeof labels, "{le=\"%g\"}", double(LatencyHistogram::bound_ns(k)) / 1e9);
            sample("supervent_request_latency_seconds_bucket", labels, double(cumulative));
        }
    }
    sample("supervent_request_latency_seconds_bucket", "{le=\"+Inf\"}", double(cumulative));
    sample("supervent_request_latency_seconds_sum", "", double(total.latency_ns_sum) / 1e9);
    sample("supervent_request_latency_seconds_count", "", double(cumulative));
    return out;
}

void Daemon::Shared::push_pause() {
    const bool pause = paused;
    for (std::uint32_t i = 0; i < shard_count; ++i) controls[i].paused.store(pause, std::memory_order_release);
}

void Daemon::Shared::push_rate() {
    const double share = settings.rate_eps ? *settings.rate_eps / shard_count : 0;
    for (std::uint32_t i = 0; i < shard_count; ++i) controls[i].rate_eps.store(share, std::memory_order_release);
}

// A new event limit: what is left of it (the limit less what all shards
// generated so far) is split evenly on top of what each has generated, so
// the run ends at exactly the limit unless a shard outruns its share before
// it reads the new budget (then by at most that shard's excess). A limit
// already reached stops every shard now. (A budget of 0 would mean
// unlimited, so a shard that has generated nothing and gets no share is
// given 1: the run may end one event per such shard past the limit.)
void Daemon::Shared::push_events() {
    std::vector<std::uint64_t> generated(shard_count);
    std::uint64_t total = 0;
    for (std::uint32_t i = 0; i < shard_count; ++i) total += generated[i] = stats[i].events_generated.get();
    const std::uint64_t left = settings.events > total ? settings.events - total : 0;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const std::uint64_t budget = settings.events == 0 ? 0 : std::max<std::uint64_t>(1, generated[i] + share_of(left, i, shard_count));
        controls[i].events_budget.store(budget, std::memory_order_release);
    }
}

void Daemon::Shared::push_duration() {
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        controls[i].duration_ns.store(static_cast<std::int64_t>(settings.duration_s * ns_per_s), std::memory_order_release);
    }
}

void Daemon::Shared::apply_live(const config::Settings& next, std::vector<std::string_view>& changed,
                                std::vector<std::string_view>& restart_needed) {
    for (const SettingKey& key : setting_keys) {
        if (!key.differs(settings, next)) continue;
        (key.live ? changed : restart_needed).push_back(key.name);
    }
    if (changed.empty()) return;
    const bool rate_changed = settings.rate_eps != next.rate_eps;
    const bool events_changed = settings.events != next.events;
    const bool duration_changed = settings.duration_s != next.duration_s;
    settings.rate_eps = next.rate_eps;
    settings.events = next.events;
    settings.duration_s = next.duration_s;
    settings.progress = next.progress;
    settings.progress_interval_ms = next.progress_interval_ms;
    settings.log_level = next.log_level;
    if (const auto level = log::parse_level(settings.log_level)) log::set_level(*level);
    if (rate_changed) push_rate();
    if (events_changed) push_events();
    if (duration_changed) push_duration();
}

// The start-up scenario as the shards were planned: one route per source.
void Daemon::Shared::init_scenario() {
    if (plans.empty()) return;
    scenario = plans.front().scenario;
    scenario_generation = 0;
    scenario_history = {{0, scenario}};
    routes.clear();
    route_datasets.clear();
    route_paths.clear();
    const net::HttpTransportConfig& http = plans.front().sink.http;
    for (std::size_t i = 0; i < scenario->sources.size(); ++i) {
        routes.push_back(static_cast<std::uint16_t>(i));
        route_datasets.push_back(scenario->sources[i].dataset);
        route_paths.push_back(i == 0 ? http.target.path : (i - 1 < http.route_paths.size() ? http.route_paths[i - 1] : ""));
    }
    source_enabled.assign(scenario->sources.size(), 1);
    std::size_t event_bytes = 0;
    for (const core::ScenarioSource& source : scenario->sources) event_bytes = std::max(event_bytes, source.program->event_bytes_max);
    batch_room_bytes = std::size_t{plans.front().batch_events} * event_bytes;
}

// Compiles and checks a reload's scenario and maps its sources to routes,
// changing nothing: throws with the reason for the operator.
ScenarioSwap Daemon::Shared::prepare_scenario(config::Settings& next) const {
    ScenarioSwap swap;
    swap.scenario = compile_run_scenario(next);
    // No --rate and no rate in the file: the new scenario's event frequencies.
    next.rate_eps = run_rate_eps(next, *swap.scenario);
    swap.needed = scenario_differs(settings, next) && scenario != nullptr;
    if (!swap.needed) return swap;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const ShardPhase phase = stats[i].phase.load(std::memory_order_acquire);
        if (phase != ShardPhase::starting && phase != ShardPhase::running) {
            throw std::runtime_error("a new scenario needs a restart: worker " + std::to_string(i) + " is " +
                                     shard_phase_name(phase) + " (a backfill that ended, or a limit reached)");
        }
    }
    const core::CompiledScenario& after = *swap.scenario;
    std::size_t event_bytes = 0;
    for (const core::ScenarioSource& source : after.sources) event_bytes = std::max(event_bytes, source.program->event_bytes_max);
    if (batch_room_bytes > 0 && event_bytes > batch_room_bytes) {
        throw std::runtime_error("the new scenario's largest event (" + std::to_string(event_bytes) +
                                 " bytes) does not fit the send buffers sized at start-up (" +
                                 std::to_string(batch_room_bytes) + " bytes per batch): restart superventd to run it");
    }
    // Routes: a dataset already routed keeps its route; a new one is appended.
    using Kind = config::SinkUrl::Kind;
    const bool http = !plans.empty() && (settings.sink.kind == Kind::http || settings.sink.kind == Kind::https);
    swap.route_datasets = route_datasets;
    swap.route_paths = route_paths;
    for (const core::ScenarioSource& source : after.sources) {
        const auto known = std::find(swap.route_datasets.begin(), swap.route_datasets.end(), source.dataset);
        if (known != swap.route_datasets.end()) {
            swap.routes.push_back(static_cast<std::uint16_t>(known - swap.route_datasets.begin()));
            continue;
        }
        if (swap.route_datasets.size() >= bounds::http_routes_max) {
            throw std::runtime_error("dataset '" + source.dataset + "' would be the " +
                                     std::to_string(bounds::http_routes_max + 1) + "th of this run: at most " +
                                     std::to_string(bounds::http_routes_max) +
                                     " datasets per run, counting every one an earlier reload added; restart superventd");
        }
        std::string path;
        if (http) {
            path = net::ingest_path(settings.sink.path_prefix, source.dataset, edge_path(settings));
            net::IngestTarget target = plans.front().sink.http.target;
            target.path = path;
            if (net::RequestHead(target).bytes_max() + net::json_array_head_room_bytes > bounds::http_head_room_bytes) {
                throw std::runtime_error("the HTTP request head for dataset '" + source.dataset +
                                         "' does not fit its head room: shorten the dataset name or sink.event_labels");
            }
        }
        swap.routes.push_back(static_cast<std::uint16_t>(swap.route_datasets.size()));
        swap.route_datasets.push_back(source.dataset);
        swap.route_paths.push_back(path);
        swap.datasets_added.push_back(source.dataset);
    }
    // What changed, source by source (by name).
    auto spec_of = [](const config::Settings& from, const std::string& name) -> const core::SourceSpec* {
        for (const core::SourceSpec& spec : from.sources) {
            if (spec.name == name) return &spec;
        }
        return nullptr;
    };
    const core::CompiledScenario& before = *scenario;
    for (std::size_t i = 0; i < after.sources.size(); ++i) {
        const core::ScenarioSource& source = after.sources[i];
        const core::ScenarioSource* old = nullptr;
        std::size_t old_index = 0;
        for (std::size_t j = 0; j < before.sources.size(); ++j) {
            if (before.sources[j].name == source.name) {
                old = &before.sources[j];
                old_index = j;
            }
        }
        if (old == nullptr) {
            swap.added.push_back(source.name);
            swap.enabled.push_back(1);
            continue;
        }
        const core::SourceSpec* a = spec_of(settings, source.name);
        const core::SourceSpec* b = spec_of(next, source.name);
        const bool same = old->dataset == source.dataset && (a == nullptr) == (b == nullptr) &&
                          (a == nullptr || config::without_origins(*a) == config::without_origins(*b));
        (same ? swap.unchanged : swap.changed).push_back(source.name);
        swap.enabled.push_back(old_index < source_enabled.size() ? source_enabled[old_index] : 1);
    }
    for (const core::ScenarioSource& source : before.sources) {
        const bool kept = std::any_of(after.sources.begin(), after.sources.end(),
                                      [&](const core::ScenarioSource& s) { return s.name == source.name; });
        if (!kept) swap.removed.push_back(source.name);
    }
    return swap;
}

// Hands every shard the scenario and which sources are on.
void Daemon::Shared::push_change() {
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        ShardControl& control = controls[i];
        {
            std::lock_guard lock(control.change_mutex);
            control.change.generation = scenario_generation;
            control.change.scenario = scenario;
            control.change.routes = routes;
            control.change.route_paths = route_paths;
            control.change.enabled = source_enabled;
        }
        control.change_version.fetch_add(1, std::memory_order_acq_rel);
    }
}

void Daemon::Shared::swap_scenario(ScenarioSwap& swap, const config::Settings& next) {
    settings.sources = next.sources;
    settings.scenario_spec = next.scenario_spec;
    settings.scenario = next.scenario;
    settings.dataset = next.dataset;
    settings.window_start_ns = next.window_start_ns;
    settings.window_end_ns = next.window_end_ns;
    settings.live = next.live;
    scenario = swap.scenario;
    ++scenario_generation;
    scenario_history[scenario_generation] = scenario;
    routes = std::move(swap.routes);
    route_datasets = std::move(swap.route_datasets);
    route_paths = std::move(swap.route_paths);
    source_enabled = std::move(swap.enabled);
    // Forget scenarios no shard runs any more.
    std::uint64_t oldest = scenario_generation;
    for (std::uint32_t i = 0; i < shard_count; ++i) oldest = std::min(oldest, stats[i].scenario_generation.get());
    std::erase_if(scenario_history, [&](const auto& entry) { return entry.first < oldest; });
    push_change();
    // A backfill ends by itself; a live scenario keeps the run's event limit.
    if (scenario->backfill || settings.events == 0) {
        for (std::uint32_t i = 0; i < shard_count; ++i) controls[i].events_budget.store(0, std::memory_order_release);
    } else {
        push_events();
    }
}

std::vector<std::optional<std::uint64_t>> Daemon::Shared::source_counts() const {
    std::vector<std::optional<std::uint64_t>> counts;
    if (!scenario) return counts;
    const std::size_t n = scenario->sources.size();
    for (std::size_t i = 0; i < n; ++i) {
        if (i < bounds::scenario_sources_counted_max) counts.emplace_back(0); else counts.emplace_back();
    }
    std::uint64_t values[bounds::scenario_sources_counted_max];
    for (std::uint32_t shard = 0; shard < shard_count; ++shard) {
        const ShardStats& s = stats[shard];
        std::uint64_t generation = UINT64_MAX;
        for (int attempt = 0; attempt < 10000; ++attempt) {  // a swap rewrites the counts in microseconds
            generation = s.scenario_generation.get();
            if (generation == UINT64_MAX) continue;
            for (std::size_t i = 0; i < bounds::scenario_sources_counted_max; ++i) values[i] = s.source_events[i].get();
            if (s.scenario_generation.get() == generation) break;
            generation = UINT64_MAX;
        }
        const auto ran = scenario_history.find(generation);
        if (ran == scenario_history.end()) continue;
        const core::CompiledScenario& theirs = *ran->second;
        for (std::size_t j = 0; j < theirs.sources.size() && j < bounds::scenario_sources_counted_max; ++j) {
            for (std::size_t i = 0; i < n && i < bounds::scenario_sources_counted_max; ++i) {
                if (theirs.sources[j].name == scenario->sources[i].name) *counts[i] += values[j];
            }
        }
    }
    return counts;
}

void Daemon::Shared::json_sources(JsonWriter& json) const {
    json.key("sources").begin_array();
    if (scenario) {
        const auto counts = source_counts();
        for (std::size_t i = 0; i < scenario->sources.size(); ++i) {
            json.begin_object()
                .field("name", scenario->sources[i].name)
                .field("dataset", scenario->sources[i].dataset)
                .field("enabled", i >= source_enabled.size() || source_enabled[i] != 0);
            json.key("events_generated");
            if (counts[i]) json.value(*counts[i]); else json.null();
            json.end_object();
        }
    }
    json.end_array();
    json.field("scenario_generation", scenario_generation);
}

// A backfill's progress: root events done of all, and an ETA from the
// recent root rate. null for a live run.
void Daemon::Shared::json_progress(JsonWriter& json) const {
    json.key("progress");
    if (!scenario || !scenario->backfill) {
        json.null();
        return;
    }
    std::uint64_t done = 0, all = 0, pending = 0;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        done += stats[i].roots_done.get();
        all += stats[i].roots_total.get();
        pending += stats[i].dependents_pending.get();
    }
    done = std::min(done, all);
    json.begin_object().field("roots_done", done).field("roots_total", all);
    json.field("fraction", all > 0 ? double(done) / double(all) : 1.0);
    json.key("eta_s");
    if (done >= all) json.value(0.0);
    else if (roots_rate > 0) json.value(double(all - done) / roots_rate);
    else json.null();
    json.field("dependents_pending", pending).end_object();
}

std::string Daemon::Shared::reload(const std::string& path) {
    if (stop_requested) return error_reply("the daemon is stopping: nothing to reload");
    if (path.empty()) {
        return error_reply("no config file to reload: superventd was started without --config; name one: reload FILE");
    }
    notifier.notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()) + "\nSTATUS=reloading " + path);
    config::Settings next;
    ScenarioSwap swap;
    try {
        next = load_settings(path);
        // The scenario too is compiled and checked before anything changes.
        swap = prepare_scenario(next);
        if (swap.needed && checkpoint) {
            throw std::invalid_argument("the scenario of a checkpointed backfill (" + checkpoint->path +
                                        ") cannot change while it runs: its checkpoint replays this one. Let it "
                                        "finish, or stop it, remove the checkpoint and start the new scenario");
        }
    } catch (const std::exception& failure) {
        log::error("reload of %s refused, running on unchanged: %s", path.c_str(), failure.what());
        notifier.notify("READY=1\nSTATUS=reload refused: running on unchanged");
        return error_reply(std::string("reload refused, nothing changed: ") + failure.what());
    }
    std::vector<std::string_view> changed, restart_needed;
    apply_live(next, changed, restart_needed);
    // Every shard takes the new scenario between two batches: what is queued
    // or in flight settles as it was, to its own dataset, on the same connections.
    if (swap.needed) swap_scenario(swap, next);
    settings.config_path = next.config_path;
    ++reloads;
    JsonWriter reply;
    reply.begin_object().field("ok", true).field("config", path);
    reply.key("changed").begin_array();
    for (std::string_view key : changed) reply.value(key);
    reply.end_array().key("restart_needed").begin_array();
    for (std::string_view key : restart_needed) reply.value(key);
    reply.end_array();
    reply.key("scenario");
    if (swap.needed) {
        auto names = [&reply](const char* key, const std::vector<std::string>& list) {
            reply.key(key).begin_array();
            for (const std::string& name : list) reply.value(name);
            reply.end_array();
        };
        reply.begin_object().field("generation", scenario_generation).field("backfill", scenario->backfill);
        names("added", swap.added);
        names("removed", swap.removed);
        names("changed", swap.changed);
        names("unchanged", swap.unchanged);
        names("datasets_added", swap.datasets_added);
        reply.end_object();
    } else {
        reply.null();
    }
    std::string changed_text, restart_text;
    for (std::string_view key : changed) changed_text += (changed_text.empty() ? "" : ", ") + std::string(key);
    for (std::string_view key : restart_needed) restart_text += (restart_text.empty() ? "" : ", ") + std::string(key);
    log::notice("reloaded %s: %s%s%s", path.c_str(), changed.empty() ? "nothing to change live" : ("applied " + changed_text).c_str(),
                restart_needed.empty() ? "" : "; these need a restart and keep their old values: ",
                restart_text.c_str());
    if (swap.needed) {
        log::notice("new scenario (generation %llu, %s): sources added: %s; removed: %s; changed: %s; unchanged: %s; "
                    "new datasets: %s",
                    static_cast<unsigned long long>(scenario_generation), scenario->backfill ? "backfill" : "live",
                    name_list(swap.added).c_str(), name_list(swap.removed).c_str(), name_list(swap.changed).c_str(),
                    name_list(swap.unchanged).c_str(), name_list(swap.datasets_added).c_str());
    }
    reply.field("message", restart_needed.empty()
                               ? std::string("reloaded")
                               : "reloaded; these settings need a restart and keep their running values: " + restart_text);
    reply.end_object();
    notifier.notify("READY=1\nSTATUS=reloaded " + path);
    return reply.take();
}

std::string Daemon::Shared::set_setting(std::string_view key_name, std::string_view value) {
    const SettingKey* key = find_setting(key_name);
    if (key == nullptr) {
        return error_reply("unknown setting '" + std::string(key_name) + "'; settings that change live: " + live_key_list());
    }
    if (key->scenario) {
        return error_reply(std::string(key->name) +
                           " is part of the scenario: change it in the config file and run `supervent-ctl reload`");
    }
    if (!key->live) {
        return error_reply(std::string(key->name) +
                           " needs a restart: put it in the config file and restart superventd (settings that "
                           "change live: " + live_key_list() + ")");
    }
    const auto dot = key->name.find('.');
    const std::string toml = "[" + std::string(key->name.substr(0, dot)) + "]\n" +
                             std::string(key->name.substr(dot + 1)) + " = " + toml_value(value) + "\n";
    config::Settings next;
    try {
        next = config::load_toml_text(toml, "set", settings);
    } catch (const std::exception& failure) {
        std::string message = failure.what();
        if (message.starts_with("set:")) message = message.substr(message.find(' ') + 1);  // "set:2: " adds nothing
        return error_reply(message);
    }
    std::vector<std::string_view> changed, restart_needed;
    apply_live(next, changed, restart_needed);
    log::notice("set %s = %s", std::string(key->name).c_str(), std::string(value).c_str());
    JsonWriter reply;
    reply.begin_object().field("ok", true).field("key", key->name).field("changed", !changed.empty());
    reply.end_object();
    return reply.take();
}

std::string Daemon::Shared::set_rate(simdjson::dom::element value) {
    std::string text;
    double number = 0;
    std::string_view string;
    if (value.get_double().get(number) == simdjson::SUCCESS) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.17g", number);
        text = buffer;
    } else if (value.get_string().get(string) == simdjson::SUCCESS) {
        text = string;
    } else {
        return error_reply("rate needs \"value\": a number of events per second or \"unlimited\"");
    }
    std::string reply = set_setting("generation.rate", text);
    if (reply.starts_with("{\"ok\":false")) return reply;
    JsonWriter json;
    json.begin_object().field("ok", true).key("rate_target");
    if (settings.rate_eps) json.value(*settings.rate_eps); else json.value("unlimited");
    json.field("workers", shard_count).end_object();
    return json.take();
}

std::string Daemon::Shared::sources_json(simdjson::dom::element request) {
    std::string_view name;
    bool enable = false;
    const bool naming = request["name"].get_string().get(name) == simdjson::SUCCESS;
    const bool toggling = request["enabled"].get_bool().get(enable) == simdjson::SUCCESS;
    if (naming != toggling) return error_reply("to enable or disable a source give both \"name\" and \"enabled\"");
    if (naming) {
        std::string known;
        std::size_t found = SIZE_MAX;
        for (std::size_t i = 0; scenario && i < scenario->sources.size(); ++i) {
            known += (known.empty() ? "" : ", ") + scenario->sources[i].name;
            if (scenario->sources[i].name == name) found = i;
        }
        if (found == SIZE_MAX) {
            return error_reply("no source named '" + std::string(name) + "'; the running scenario has: " +
                               (known.empty() ? std::string("none yet") : known));
        }
        if (stop_requested) return error_reply("the daemon is stopping");
        if (source_enabled[found] != (enable ? 1 : 0)) {
            source_enabled[found] = enable ? 1 : 0;
            push_change();
            log::notice("source %s %s%s", std::string(name).c_str(), enable ? "enabled" : "disabled",
                        all_sources_disabled() ? " (every source is disabled: nothing is generated)" : "");
        }
    }
    JsonWriter json;
    json.begin_object().field("ok", true);
    json_sources(json);
    json.end_object();
    return json.take();
}

void Daemon::Shared::handle_command(std::string_view request, Responder respond) {
    simdjson::dom::parser parser;
    simdjson::dom::element document;
    if (parser.parse(request.data(), request.size()).get(document) != simdjson::SUCCESS || !document.is_object()) {
        respond(R"({"ok":false,"error":"malformed request: expected one JSON object per line, e.g. {\"cmd\":\"status\"}"})");
        return;
    }
    std::string_view command;
    if (document["cmd"].get_string().get(command) != simdjson::SUCCESS) {
        respond(R"({"ok":false,"error":"the request has no \"cmd\" string"})");
        return;
    }
    auto ok_state = [this] { return JsonWriter().begin_object().field("ok", true).field("state", state()).end_object().take(); };
    if (command == "status") {
        respond(status_json());
    } else if (command == "stop") {
        request_stop();
        bool wait = false;
        if (document["wait"].get_bool().get(wait) == simdjson::SUCCESS && wait) {
            // Answered with the final status once every shard has settled.
            stop_waiters.push_back(std::move(respond));
        } else {
            respond(ok_state());
        }
    } else if (command == "pause" || command == "resume") {
        if (stop_requested) {
            respond(error_reply("the daemon is stopping"));
            return;
        }
        paused = command == "pause";
        push_pause();
        log::notice("%s", paused ? "paused: no new batches until resume" : "resumed");
        respond(ok_state());
    } else if (command == "rate") {
        simdjson::dom::element value;
        if (document["value"].get(value) != simdjson::SUCCESS) {
            respond(error_reply("rate needs \"value\": a number of events per second or \"unlimited\""));
            return;
        }
        respond(set_rate(value));
    } else if (command == "set") {
        std::string_view key;
        simdjson::dom::element value;
        if (document["key"].get_string().get(key) != simdjson::SUCCESS || document["value"].get(value) != simdjson::SUCCESS) {
            respond(error_reply("set needs \"key\" and \"value\""));
            return;
        }
        std::string text;
        std::string_view string;
        if (value.get_string().get(string) == simdjson::SUCCESS) {
            text = string;
        } else {
            text = simdjson::minify(value);
        }
        respond(set_setting(key, text));
    } else if (command == "reload") {
        std::string_view file;
        const std::string path = document["file"].get_string().get(file) == simdjson::SUCCESS ? std::string(file)
                                                                                               : startup_config_path;
        respond(reload(path));
    } else if (command == "sources") {
        respond(sources_json(document));
    } else if (command == "version") {
        respond(JsonWriter().begin_object().field("ok", true).field("version", SUPERVENT_VERSION).end_object().take());
    } else {
        respond(error_reply("unknown command '" + std::string(command) +
                            "' (known: status, pause, resume, rate, set, reload, sources, stop, version)"));
    }
}

// Copies every shard's journal into the checkpoint file when it moved on.
// `final`: after the shards ended; the backfill is complete when every shard
// made its last batch and every event was acknowledged.
void Daemon::Shared::write_checkpoint(bool final) {
    Checkpoint next;
    next.fingerprint = checkpoint->fingerprint;
    for (std::uint32_t i = 0; i < shard_count; ++i) next.shards.push_back(checkpoint_shares[i].snapshot());
    if (final) {
        const Totals total = totals();
        bool all_made = true;
        for (std::uint32_t i = 0; i < shard_count; ++i) all_made &= stats[i].scenario_done.load(std::memory_order_acquire);
        next.complete = all_made && total.events_failed == 0 && total.events_in_flight() == 0;
    }
    if (next == checkpoint_written) return;
    try {
        save_checkpoint(checkpoint->path, next);
        checkpoint_written = std::move(next);
        checkpoint_written_ns = monotonic_ns();
        checkpoint_error_logged = false;
    } catch (const std::exception& failure) {
        // The backfill goes on; a resume then starts from an older checkpoint.
        if (!checkpoint_error_logged) log::error("%s", failure.what());
        checkpoint_error_logged = true;
    }
}

void Daemon::Shared::json_checkpoint(JsonWriter& json) const {
    json.key("checkpoint");
    if (!checkpoint) {
        json.null();
        return;
    }
    std::uint64_t settled = 0, resumed = 0;
    for (const ShardJournal& shard : checkpoint_written.shards) settled += shard.events;
    for (std::uint32_t i = 0; i < shard_count; ++i) resumed += stats[i].events_resumed.get();
    json.begin_object()
        .field("path", checkpoint->path)
        .field("resumed_events", resumed)
        .field("settled_events", settled)
        .field("complete", checkpoint_written.complete)
        .field("written_s_ago", checkpoint_written_ns > 0 ? double(monotonic_ns() - checkpoint_written_ns) / ns_per_s : -1.0)
        .end_object();
}

void Daemon::Shared::request_stop() {
    stop_requested = true;
    for (std::uint32_t i = 0; i < shard_count; ++i) controls[i].stop_requested.store(true, std::memory_order_release);
}

bool Daemon::Shared::all_done() const {
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const ShardPhase phase = stats[i].phase.load(std::memory_order_acquire);
        if (phase != ShardPhase::finished && phase != ShardPhase::failed) return false;
    }
    return true;
}

void Daemon::Shared::sample_rates(std::int64_t now_ns) {
    if (now_ns - sample_ns < ns_per_s / 2) return;
    const Totals total = totals();
    const double elapsed_s = double(now_ns - sample_ns) / ns_per_s;
    rate_actual_eps = double(total.events_generated - sample_events) / elapsed_s;
    bytes_rate_actual = double(total.bytes_sent - sample_bytes) / elapsed_s;
    // Root events per second for a backfill's ETA, smoothed over a few
    // samples; a reload (roots_done back to 0) starts it afresh. Roots a
    // resumed backfill replayed are not this run's pace.
    std::uint64_t roots = 0;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const std::uint64_t resumed = stats[i].roots_resumed.get();
        const std::uint64_t done = stats[i].roots_done.get();
        roots += done > resumed ? done - resumed : 0;
    }
    if (roots >= sample_roots) {
        const double rate = double(roots - sample_roots) / elapsed_s;
        roots_rate = roots_rate > 0 ? 0.7 * roots_rate + 0.3 * rate : rate;
    } else {
        roots_rate = 0;
    }
    sample_roots = roots;
    sample_ns = now_ns;
    sample_events = total.events_generated;
    sample_bytes = total.bytes_sent;
}

void Daemon::Shared::print_progress(std::int64_t now_ns) const {
    const Totals total = totals();
    log::info("[%6.1fs] generated %llu  acked %llu  failed %llu  in flight %llu  %.2f M events/s  %.1f MB/s",
              double(now_ns - started_ns) / ns_per_s, static_cast<unsigned long long>(total.events_generated),
              static_cast<unsigned long long>(total.events_acked), static_cast<unsigned long long>(total.events_failed),
              static_cast<unsigned long long>(total.events_in_flight()), rate_actual_eps / 1e6, bytes_rate_actual / 1e6);
    if (scenario && scenario->backfill) {
        std::uint64_t done = 0, all = 0;
        for (std::uint32_t i = 0; i < shard_count; ++i) {
            done += stats[i].roots_done.get();
            all += stats[i].roots_total.get();
        }
        log::info("[%6.1fs] backfill: %llu of %llu root events (%.1f %%)", double(now_ns - started_ns) / ns_per_s,
                  static_cast<unsigned long long>(done), static_cast<unsigned long long>(all),
                  all > 0 ? 100.0 * double(done) / double(all) : 100.0);
    }
}

// STATUS= with the live rate every second; WATCHDOG=1 every half interval,
// but only while every running shard keeps turning its loop.
void Daemon::Shared::report_to_systemd(std::int64_t now_ns) {
    if (!notifier.enabled() || !reported_ready) return;
    if (now_ns - last_status_ns >= ns_per_s && !stop_requested) {
        last_status_ns = now_ns;
        const Totals total = totals();
        char text[256];
        std::snprintf(text, sizeof text, "STATUS=%s: %.0f events/s (target %s), %llu acked, %llu failed",
                      state().c_str(), rate_actual_eps,
                      settings.rate_eps ? std::to_string(static_cast<long long>(*settings.rate_eps)).c_str() : "unlimited",
                      static_cast<unsigned long long>(total.events_acked),
                      static_cast<unsigned long long>(total.events_failed));
        notifier.notify(text);
    }
    const std::int64_t watchdog_ns = notifier.watchdog_usec() * 1000;
    if (watchdog_ns <= 0 || now_ns - last_watchdog_ns < watchdog_ns / 2) return;
    std::vector<std::uint64_t> turns(shard_count);
    std::unique_ptr<bool[]> done(new bool[shard_count]);
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        turns[i] = stats[i].loop_turns.get();
        const ShardPhase phase = stats[i].phase.load(std::memory_order_acquire);
        done[i] = phase == ShardPhase::finished || phase == ShardPhase::failed;
    }
    if (watchdog_turns.size() != shard_count) watchdog_turns.assign(shard_count, UINT64_MAX);
    if (shards_alive(turns.data(), watchdog_turns.data(), done.get(), shard_count)) {
        notifier.notify("WATCHDOG=1");
        last_watchdog_ns = now_ns;
        watchdog_turns = std::move(turns);
        watchdog_withheld = false;
    } else if (!watchdog_withheld) {
        watchdog_withheld = true;
        log::error("a worker has not turned its loop for %lld ms: withholding the watchdog ping",
                   static_cast<long long>((now_ns - last_watchdog_ns) / 1'000'000));
    }
}

Daemon::Daemon(config::Settings settings, SettingsLoader load_settings) : shared_(std::make_unique<Shared>()) {
    shared_->settings = std::move(settings);
    shared_->startup_config_path = shared_->settings.config_path;
    shared_->load_settings = load_settings ? std::move(load_settings) : [](const std::string& path) {
        config::Settings next = config::load_toml_file(path);
        config::resolve_token(next, config::process_env);
        return next;
    };
}

Daemon::~Daemon() {
    if (!shared_) return;
    shared_->request_stop();
    for (std::thread& thread : shared_->threads) {
        if (thread.joinable()) thread.join();
    }
}

namespace {

// elapsed_s is the time spent generating and sending: a resumed backfill's
// replay (resumed_events made again, not sent) is left out of the rates.
void print_summary(const Totals& total, double elapsed_s, const config::Settings& settings,
                   std::uint64_t resumed_events, double replay_s) {
    if (resumed_events > 0) {
        log::notice("summary: resumed after %llu events the checkpoint had settled (replayed in %.2f s, not sent again)",
                    static_cast<unsigned long long>(resumed_events), replay_s);
    }
    log::notice("summary: %llu events generated, %llu acknowledged, %llu failed, %llu in flight",
                static_cast<unsigned long long>(total.events_generated),
                static_cast<unsigned long long>(total.events_acked),
                static_cast<unsigned long long>(total.events_failed),
                static_cast<unsigned long long>(total.events_in_flight()));
    log::notice("summary: %.2f s, %.0f events/s, %.1f MB/s sent (%llu requests, %llu retried) to %s", elapsed_s,
                elapsed_s > 0 ? double(total.events_acked) / elapsed_s : 0.0,
                elapsed_s > 0 ? double(total.bytes_sent) / elapsed_s / 1e6 : 0.0,
                static_cast<unsigned long long>(total.requests_acked),
                static_cast<unsigned long long>(total.requests_retried), settings.sink.text.c_str());
    if (settings.sink.kind == config::SinkUrl::Kind::https) {
        log::notice("summary: TLS: %llu handshakes (%llu resumed), kernel TLS %s",
                    static_cast<unsigned long long>(total.tls_handshakes),
                    static_cast<unsigned long long>(total.tls_resumed), describe_kernel_tls(total).c_str());
    }
    for (int reason = 1; reason < static_cast<int>(net::FailReason::count_); ++reason) {
        if (total.events_failed_by_reason[reason] > 0) {
            log::warning("summary: %llu events failed: %s",
                         static_cast<unsigned long long>(total.events_failed_by_reason[reason]),
                         net::fail_reason_name(static_cast<net::FailReason>(reason)));
        }
    }
}

}  // namespace

void Daemon::handle_control_request(std::string_view request, std::function<void(std::string)> respond) {
    shared_->handle_command(request, std::move(respond));
}

int Daemon::run() {
    Shared& shared = *shared_;
    if (const auto level = log::parse_level(shared.settings.log_level)) log::set_level(*level);
    log::set_secret(shared.settings.token);
    // The token now sits in this process's memory (settings, request heads, send buffers): no core
    // dump may carry it, and no other process of this uid may ptrace it out. Without a token the
    // daemon stays dumpable, for debugging.
    if (!shared.settings.token.empty()) (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    for (const std::string& warning : shared.settings.warnings) log::warning("%s", warning.c_str());
    shared.plans = plan_shards(shared.settings);
    if (!shared.plans.empty()) shared.settings.rate_eps = run_rate_eps(shared.settings, *shared.plans.front().scenario);
    if (!shared.plans.empty() && shared.plans.front().checkpoint && shared.plans.front().checkpoint->complete()) {
        log::notice("the backfill of checkpoint %s is complete: nothing to do (remove the file to run it again)",
                    shared.plans.front().checkpoint->path.c_str());
        return 0;
    }
    shared.shard_count = static_cast<std::uint32_t>(shared.plans.size());
    if (!shared.plans.empty() && shared.plans.front().checkpoint) {
        shared.checkpoint = shared.plans.front().checkpoint;
        shared.checkpoint_shares = std::make_unique<ShardCheckpointShare[]>(shared.shard_count);
        for (std::uint32_t i = 0; i < shared.shard_count; ++i) shared.plans[i].checkpoint_share = &shared.checkpoint_shares[i];
        if (shared.checkpoint->resuming()) {
            std::uint64_t settled = 0;
            for (const ShardJournal& shard : shared.checkpoint->found->shards) settled += shard.events;
            shared.checkpoint_written = *shared.checkpoint->found;
            log::notice("resuming the backfill of checkpoint %s: %llu events were settled before; making them again "
                        "without sending, then going on",
                        shared.checkpoint->path.c_str(), static_cast<unsigned long long>(settled));
        }
    }
    shared.stats = std::make_unique<ShardStats[]>(shared.shard_count);
    shared.controls = std::make_unique<ShardControl[]>(shared.shard_count);
    shared.errors = std::make_unique<ShardError[]>(shared.shard_count);
    shared.init_scenario();
    shared.started_ns = monotonic_ns();
    shared.sample_ns = shared.started_ns;
    shared.last_progress_ns = shared.started_ns;

    // The control plane (signals, socket, metrics) exists before any shard
    // runs, so that SIGTERM during start-up still drains cleanly.
    asio::signal_set signals(shared.io, SIGINT, SIGTERM, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& error, int signal_number) {
            if (error) return;
            if (signal_number == SIGHUP) {
                log::notice("SIGHUP: reloading %s",
                            shared.startup_config_path.empty() ? "(no config file)" : shared.startup_config_path.c_str());
                const std::string reply = shared.reload(shared.startup_config_path);
                if (reply.starts_with("{\"ok\":false")) log::warning("SIGHUP: %s", reply.c_str());
            } else {
                log::notice("%s: stopping; settling every batch in flight", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
                shared.request_stop();
            }
            signals.async_wait(on_signal);
        };
    signals.async_wait(on_signal);
    if (!shared.settings.metrics_listen.empty()) {
        shared.metrics_server = std::make_unique<MetricsServer>(shared.io, shared.settings.metrics_listen,
                                                                [&shared] { return shared.metrics_text(); });
        log::info("metrics at http://%s/metrics", shared.metrics_server->address().c_str());
    }
    const std::string socket_path =
        shared.settings.socket_path.empty() ? default_control_socket_path() : shared.settings.socket_path;
    try {
        ControlServerOptions options;
        options.group = shared.settings.socket_group;
        options.allowed_uids = shared.settings.socket_allowed_uids;
        options.allowed_gids = shared.settings.socket_allowed_gids;
        shared.control_server = std::make_unique<ControlServer>(
            shared.io, socket_path,
            [&shared](std::string_view request, Responder respond) { shared.handle_command(request, std::move(respond)); },
            std::move(options));
    } catch (const std::exception& failure) {
        if (!shared.settings.socket_path.empty() || !shared.settings.socket_group.empty()) throw;  // asked for explicitly
        log::warning("running without a control socket: %s", failure.what());
    }

    for (std::uint32_t i = 0; i < shared.shard_count; ++i) {
        shared.controls[i].rate_eps.store(shared.plans[i].rate_eps, std::memory_order_release);
        shared.shards.push_back(
            std::make_unique<Shard>(shared.plans[i], shared.stats[i], shared.controls[i], shared.errors[i]));
    }
    for (std::uint32_t i = 0; i < shared.shard_count; ++i) {
        shared.threads.emplace_back([shard = shared.shards[i].get()] { shard->run(); });
    }

    asio::steady_timer supervisor(shared.io);
    asio::steady_timer final_replies(shared.io);
    // Every shard is done: answer the stops that wait, give the replies a
    // moment to leave, then end the control loop.
    auto finish = [&] {
        if (shared.stop_waiters.empty()) {
            shared.io.stop();
            return;
        }
        const std::string final_status = shared.status_json();
        for (Responder& respond : shared.stop_waiters) respond(final_status);
        shared.stop_waiters.clear();
        final_replies.expires_after(std::chrono::milliseconds(200));
        final_replies.async_wait([&](const boost::system::error_code&) { shared.io.stop(); });
    };
    bool reported_stopping = false;
    const auto start_deadline = std::chrono::steady_clock::now() + shard_start_timeout;
    std::function<void(const boost::system::error_code&)> supervise = [&](const boost::system::error_code& error) {
        if (error) return;
        const std::int64_t now_ns = monotonic_ns();
        const std::string state = shared.state();
        if (state == "starting" && std::chrono::steady_clock::now() > start_deadline) {
            log::error("shards did not start within %lld s", static_cast<long long>(shard_start_timeout.count()));
            shared.request_stop();
        }
        if (!shared.reported_ready && state != "starting") {
            // Every shard has its ring and registered buffers (or failed).
            shared.reported_ready = true;
            shared.notifier.notify("READY=1\nSTATUS=" + std::to_string(shared.shard_count) + " shards running");
            if (shared.control_server) {
                log::info("%u shards running; control socket %s", shared.shard_count,
                          shared.control_server->path().c_str());
            }
        }
        if (state == "failed") shared.request_stop();  // one shard down: drain the others
        shared.sample_rates(now_ns);
        if (shared.settings.progress &&
            now_ns - shared.last_progress_ns >= std::int64_t{shared.settings.progress_interval_ms} * 1'000'000) {
            shared.last_progress_ns = now_ns;
            shared.print_progress(now_ns);
        }
        if ((shared.stop_requested || state == "draining") && !reported_stopping) {
            reported_stopping = true;
            shared.notifier.notify("STOPPING=1\nSTATUS=draining: settling every batch in flight");
        }
        shared.report_to_systemd(now_ns);
        if (shared.checkpoint && now_ns - shared.checkpoint_checked_ns >= checkpoint_interval_ns) {
            shared.checkpoint_checked_ns = now_ns;
            shared.write_checkpoint(false);  // only when a journal moved on
        }
        if (shared.all_done()) {
            finish();
            return;
        }
        supervisor.expires_after(supervise_interval);
        supervisor.async_wait(supervise);
    };
    supervisor.expires_after(supervise_interval);
    supervisor.async_wait(supervise);
    shared.io.run();

    for (std::thread& thread : shared.threads) thread.join();
    shared.threads.clear();
    std::uint64_t resumed_events = 0, replay_ns = 0;
    for (std::uint32_t i = 0; i < shared.shard_count; ++i) {
        resumed_events += shared.stats[i].events_resumed.get();
        replay_ns = std::max(replay_ns, shared.stats[i].replay_ns.get());  // shards replay side by side
    }
    const double replay_s = double(replay_ns) / ns_per_s;
    const double elapsed_s = std::max(0.0, double(monotonic_ns() - shared.started_ns) / ns_per_s - replay_s);
    const Totals total = shared.totals();
    print_summary(total, elapsed_s, shared.settings, resumed_events, replay_s);
    if (shared.checkpoint) {
        shared.write_checkpoint(true);
        log::notice("checkpoint %s: %s", shared.checkpoint->path.c_str(),
                    shared.checkpoint_written.complete ? "the backfill is complete"
                                                       : "written; start again with it to resume the backfill");
    }

    bool clean = total.events_failed == 0 && total.events_in_flight() == 0;
    for (std::uint32_t i = 0; i < shared.shard_count; ++i) {
        std::lock_guard lock(shared.errors[i].mutex);
        if (!shared.errors[i].text.empty()) {
            log::error("shard %u: %s", i, shared.errors[i].text.c_str());
            clean = false;
        }
        if (shared.stats[i].phase.load() == ShardPhase::failed) clean = false;
    }
    shared.control_server.reset();
    shared.metrics_server.reset();
    return clean ? 0 : 1;
}

}  // namespace supervent::daemon
