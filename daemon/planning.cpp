#include "daemon/planning.hpp"


#include <fcntl.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "config/sink_values.hpp"
#include "core/bounds.hpp"
#include "core/scenarios.hpp"
#include "core/schema.hpp"
#include "daemon/local_addresses.hpp"
#include "daemon/log.hpp"
#include "net/body_format.hpp"
#include "net/http_request.hpp"

namespace supervent::daemon {
namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;
constexpr auto supervise_interval = std::chrono::milliseconds(50);
constexpr auto shard_start_timeout = std::chrono::seconds(30);
// How often a checkpointed backfill writes its checkpoint: the longest stretch
// of settled batches a kill makes it send twice.
constexpr std::int64_t checkpoint_interval_ns = 1'000'000'000;

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
std::uint64_t share_of(std::uint64_t total, std::uint32_t index, std::uint32_t count) {
    return total / count + (index < total % count ? 1 : 0);
}

bool edge_path(const config::Settings& settings) {
    if (settings.edge == config::EdgeMode::automatic) return config::detail::is_axiom_edge_host(settings.sink.host);
    return settings.edge == config::EdgeMode::on;
}

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

}  // namespace supervent::daemon
