// Planning: settings -> one plan per shard, in the three steps planning.hpp
// names. Steps 1 and 3 hold every system call (getaddrinfo, sysconf, stat,
// open); plan_shards and its helpers in between use none, so that tests can
// plan any machine and any sink without touching either.
#include "daemon/planning.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "config/builtin_scenario.hpp"
#include "config/sink_values.hpp"
#include "core/bounds.hpp"
#include "core/scenarios.hpp"
#include "core/schema.hpp"
#include "core/timeline.hpp"
#include "daemon/api_planning.hpp"
#include "daemon/fleet.hpp"
#include "daemon/local_addresses.hpp"
#include "daemon/postgres_plan.hpp"
#include "net/body_format.hpp"
#include "net/http_request.hpp"

namespace supervent::daemon {
namespace {

using Kind = config::SinkUrl::Kind;

constexpr std::int64_t ns_per_s = 1'000'000'000;

bool http_sink(Kind kind) { return kind == Kind::http || kind == Kind::https; }
bool syslog_sink(Kind kind) { return kind == Kind::syslog_tcp || kind == Kind::syslog_tls || kind == Kind::syslog_udp; }

// ---- step 1: looking up

std::uint32_t online_cpus() {
    const long count = sysconf(_SC_NPROCESSORS_ONLN);
    return count > 0 ? static_cast<std::uint32_t>(count) : 1;
}

void resolve_address(const config::SinkUrl& sink, PlanInputs& inputs) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(sink.port);
    const int result = getaddrinfo(sink.host.c_str(), port.c_str(), &hints, &found);
    if (result != 0 || found == nullptr) {
        throw std::runtime_error("cannot resolve the sink host '" + sink.host + "': " + gai_strerror(result));
    }
    std::memcpy(&inputs.sink_address, found->ai_addr, found->ai_addrlen);
    inputs.sink_address_bytes = found->ai_addrlen;
    freeaddrinfo(found);
}

PlanInputs::OutputFile output_file(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return PlanInputs::OutputFile::absent;  // will be created as a regular file
    return S_ISREG(info.st_mode) ? PlanInputs::OutputFile::regular : PlanInputs::OutputFile::other;
}

// ---- step 3: opening

// A descriptor a shard appends its batches to (each write atomic under O_APPEND).
int open_output(const std::string& path, int extra_flags = 0) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | extra_flags, 0644);
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

// Starts the file sink's file afresh once (shards then append), or, resuming
// a checkpointed backfill, keeps what the killed run wrote less a write the
// kill cut short: that batch was not settled, so it comes again.
void start_output_file(const std::string& path, const CheckpointStart* checkpoint) {
    if (checkpoint && checkpoint->resuming()) {
        if (const std::uint64_t cut = trim_torn_tail(path); cut > 0) {
            log::notice("%s: removed the last %llu bytes, a line the kill cut short", path.c_str(),
                        static_cast<unsigned long long>(cut));
        }
        return;
    }
    // A completed backfill's file stays as it is: that run has nothing to do.
    if (checkpoint && checkpoint->found) return;
    ::close(open_output(path, O_TRUNC));
}

// ---- step 2: planning (no system calls from here to the end of this namespace)

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
std::shared_ptr<const core::Program> builtin_program_as(const std::string& name, core::OutputFormat format,
                                                       const std::string& timezone) {
    // Messages tell local time with the zone's offset (issue 18); the shared
    // built-in program is the UTC one.
    if (name == "web_access") {
        return core::compile_source(core::web_access_spec(), format,
                                    std::make_shared<const core::TimeZone>(core::TimeZone::parse(timezone)));
    }
    return nullptr;
}

// What the sink kinds, body formats and rotation allow together.
void check_sink_settings(const config::Settings& settings, std::vector<PlanMessage>& messages) {
    const Kind kind = settings.sink.kind;
    const bool stream = kind == Kind::file || kind == Kind::stdout_stream;
    if (settings.format == config::SinkFormat::text && http_sink(kind)) {
        throw std::invalid_argument("sink.format = \"text\" (--format text) writes the message alone per line, which is "
                                    "no ingest format; it is for file: and stdout: sinks. Use ndjson, json or csv for " +
                                    settings.sink.text);
    }
    if (settings.format == config::SinkFormat::json && stream) {
        throw std::invalid_argument("sink.format = \"json\" (--format json) is for HTTP sinks: a file of one JSON array "
                                    "per batch is not one JSON document. Use ndjson (one event per line) for " +
                                    settings.sink.text);
    }
    if (syslog_sink(kind) && (settings.format != config::SinkFormat::ndjson || settings.compression.zstd)) {
        throw std::invalid_argument("syslog sinks write their own frames from each event: sink.format must be ndjson "
                                    "(the default) and compression none for " + settings.sink.text);
    }
    if (settings.rotate_bytes > 0 && kind != Kind::file) {
        throw std::invalid_argument("sink.rotate_bytes (--rotate-bytes) rotates file: sinks; " + settings.sink.text +
                                    " is not a file");
    }
    if (!settings.event_labels.empty() && !http_sink(kind)) {
        messages.push_back({log::Level::warning, "sink.event_labels are sent to HTTP sinks only (as "
                                                 "X-Axiom-Event-Labels); " + settings.sink.text + " ignores them"});
    }
}

// Several shards may append to a regular file (each write of a batch is
// atomic under O_APPEND) or to /dev/null; anything else (a pipe, a
// terminal) gets one writer so lines never interleave.
bool shared_output_ok(const config::SinkUrl& sink, const PlanInputs& inputs) {
    return inputs.output_file != PlanInputs::OutputFile::other || sink.file_path == "/dev/null";
}

// How many shards: --workers (0 = one per online CPU), but one where a
// single writer must keep the lines whole or decide the rotation, and never
// more than --events (a shard without an event would only cost).
std::uint32_t plan_workers(const config::Settings& settings, const PlanInputs& inputs,
                           std::vector<PlanMessage>& messages) {
    const config::SinkUrl& sink = settings.sink;
    std::uint32_t workers = settings.workers == 0 ? inputs.online_cpus : settings.workers;
    if ((sink.kind == Kind::stdout_stream || (sink.kind == Kind::file && !shared_output_ok(sink, inputs))) &&
        workers > 1) {
        messages.push_back({log::Level::notice,
                            sink.text + " is not a regular file; using one worker so lines never interleave"});
        workers = 1;
    }
    if (sink.kind == Kind::file && settings.rotate_bytes > 0 && workers > 1) {
        messages.push_back({log::Level::notice, sink.text + " rotates (sink.rotate_bytes): using one worker, the one "
                                                            "writer that decides where each batch goes"});
        workers = 1;
    }
    if (settings.events > 0 && settings.events < workers) workers = static_cast<std::uint32_t>(settings.events);
    return workers;
}

std::string host_header(const config::SinkUrl& sink) {
    const bool ipv6_literal = sink.host.find(':') != std::string::npos;
    std::string host = ipv6_literal ? "[" + sink.host + "]" : sink.host;
    const std::uint16_t default_port = sink.kind == Kind::https ? 443 : 80;
    if (sink.port != default_port) host += ":" + std::to_string(sink.port);
    return host;
}

void plan_tls(const config::Settings& settings, net::TlsClientConfig& tls, std::vector<PlanMessage>& messages) {
    tls.enabled = true;
    tls.server_name = settings.sink.host;
    tls.ca_file = settings.ca_file;
    tls.skip_verify = settings.tls_skip_verify;
    if (settings.tls_skip_verify) {
        messages.push_back({log::Level::warning,
                            "TLS CERTIFICATE VERIFICATION IS OFF (--tls-insecure-skip-verify / sink.tls_skip_verify): "
                            "any server can pose as " + settings.sink.host +
                                " and read the token and every event. Use it for tests only"});
    }
}

// The head goes into the head room in front of the body, whose last byte the
// JSON array's '[' may take: say so now, not from a shard.
void check_head_room(const net::IngestTarget& target) {
    const std::size_t head_bytes = net::RequestHead(target).bytes_max();
    if (head_bytes + net::json_array_head_room_bytes > bounds::http_head_room_bytes) {
        throw std::invalid_argument("the HTTP request head (URL, dataset, token and event labels) takes up to " +
                                    std::to_string(head_bytes) + " bytes, more than the " +
                                    std::to_string(bounds::http_head_room_bytes - net::json_array_head_room_bytes) +
                                    " it may have: shorten sink.event_labels");
    }
}

// Where and how every shard posts: the same for all of them.
net::HttpTransportConfig plan_http(const config::Settings& settings, const PlanInputs& inputs,
                                   const core::CompiledScenario& scenario, std::vector<PlanMessage>& messages) {
    const config::SinkUrl& sink = settings.sink;
    net::HttpTransportConfig http;
    if (sink.kind == Kind::https) plan_tls(settings, http.tls, messages);
    http.address = inputs.sink_address;
    http.address_bytes = inputs.sink_address_bytes;
    http.target.host_header = host_header(sink);
    // One route (request path) per source: each source's events go to its own dataset.
    http.target.path = sink_route_path(settings, scenario.sources.front().dataset);
    for (std::size_t i = 1; i < scenario.sources.size(); ++i) {
        http.route_paths.push_back(sink_route_path(settings, scenario.sources[i].dataset));
    }
    http.target.token = settings.token;
    if (settings.compression.zstd) http.target.content_encoding = "zstd";
    if (settings.compression.gzip) http.target.content_encoding = "gzip";
    http.local_addresses = inputs.local_addresses;
    http.connections = settings.connections;
    http.pipeline_depth_max = settings.pipeline_depth_max;
    http.pipeline_depth = std::min(http.pipeline_depth, settings.pipeline_depth_max);
    http.tcp_nodelay = settings.tcp_nodelay;
    http.connect_timeout_ns = static_cast<std::int64_t>(settings.connect_timeout_s * ns_per_s);
    http.request_timeout_ns = static_cast<std::int64_t>(settings.request_timeout_s * ns_per_s);
    http.target.content_type = std::string(net::body_format_content_type(body_format(settings.format)));
    http.target.event_labels_json = config::detail::event_labels_json(settings.event_labels);
    plan_api_http(settings, settings.batch_events, http);  // an HTTP log API preset: its headers and answers
    check_head_room(http.target);
    return http;
}

// Where and how every shard sends syslog messages (net/syslog_transport.hpp).
net::SyslogTransportConfig plan_syslog(const config::Settings& settings, const PlanInputs& inputs,
                                       std::vector<PlanMessage>& messages) {
    const config::SinkUrl& sink = settings.sink;
    net::SyslogTransportConfig syslog;
    syslog.address = inputs.sink_address;
    syslog.address_bytes = inputs.sink_address_bytes;
    syslog.local_addresses = inputs.local_addresses;
    syslog.datagram = sink.kind == Kind::syslog_udp;
    syslog.connections = std::min(settings.connections, bounds::slots_per_shard_max / net::SyslogStreamTransport::depth_max);
    syslog.connect_timeout_ns = static_cast<std::int64_t>(settings.connect_timeout_s * ns_per_s);
    syslog.request_timeout_ns = static_cast<std::int64_t>(settings.request_timeout_s * ns_per_s);
    syslog.format.format = sink.syslog.rfc3164 ? net::SyslogFormat::rfc3164 : net::SyslogFormat::rfc5424;
    syslog.format.framing = syslog.datagram              ? net::SyslogFraming::datagram
                            : sink.syslog.newline_framing ? net::SyslogFraming::newline
                                                          : net::SyslogFraming::octet_counting;
    syslog.format.facility = sink.syslog.facility;
    syslog.format.hostname = sink.syslog.hostname;  // "" = the machine's name, looked up by the transport
    syslog.format.sd_id = sink.syslog.sd_id;
    if (sink.kind == Kind::syslog_tls) plan_tls(settings, syslog.tls, messages);
    return syslog;
}

// What every shard of the run shares, worked out once.
struct CommonPlan {
    std::shared_ptr<const core::CompiledScenario> scenario;
    std::uint32_t workers = 1;
    double rate_eps = 0;  // the run's; 0 = unlimited
    net::HttpTransportConfig http;
    net::PostgresTransportConfig postgres;
    net::SyslogTransportConfig syslog;
};

void plan_sink(const config::Settings& settings, const CommonPlan& common, ShardPlan& plan) {
    const config::SinkUrl& sink = settings.sink;
    plan.sink.kind = sink.kind;
    plan.sink.description = sink.text;
    plan.sink.body_format = body_format(settings.format);
    plan.sink.api = api_options(sink);
    switch (sink.kind) {
        case Kind::http:
        case Kind::https:
            plan.sink.http = common.http;
            // The pipeline deepens toward a far sink: a slot for each
            // request a connection may have in flight, and one behind them.
            plan.slots = settings.connections * bounds::http_slots_per_connection(settings.pipeline_depth_max);
            break;
        case Kind::file:
            // file_fd: open_run_files opens one per shard once planning is done.
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
        case Kind::postgresql:
            plan.sink.postgres = common.postgres;
            plan.slots = settings.connections * bounds::slots_per_connection;
            break;
        case Kind::syslog_tcp:
        case Kind::syslog_tls:
        case Kind::syslog_udp:
            plan.sink.syslog = common.syslog;
            // Stream batches wait in flight for TCP's acknowledgement; UDP sends one at a time.
            plan.slots = common.syslog.datagram ? 3 : common.syslog.connections * net::SyslogStreamTransport::depth_max;
            break;
    }
}

ShardPlan plan_shard(const config::Settings& settings, const PlanInputs& inputs, const CommonPlan& common,
                     std::uint32_t i) {
    const std::uint32_t workers = common.workers;
    ShardPlan plan;
    plan.index = i;
    plan.count = workers;
    plan.cpu = settings.pin_threads ? static_cast<int>(i % inputs.online_cpus) : -1;
    plan.batch_events = settings.batch_events;
    plan.batch_bytes_max = settings.batch_bytes_max;
    plan.rate_eps = common.rate_eps / workers;
    // A backfill ends when the scenario's events are out; --events then
    // only sizes a window that has no volume entries.
    // --shard I/N: worker w of part I is shard I + N*w of N*W. A backfill's
    // root k then belongs to part k % N whatever each part's worker count,
    // so a part's share is the same with any --workers.
    const std::uint32_t global_index = settings.shard_index + settings.shard_count * i;
    const std::uint32_t global_count = settings.shard_count * workers;
    plan.events_budget =
        settings.events > 0 && !common.scenario->backfill ? share_of(settings.events, global_index, global_count) : 0;
    plan.duration_ns = static_cast<std::int64_t>(settings.duration_s * ns_per_s);
    plan.scenario = common.scenario;
    plan.identity = core::SourceIdentity{settings.seed, global_index, global_count};
    plan.zero_copy = settings.zero_copy;
    plan.compression = settings.compression;
    plan.drain_timeout_ns = static_cast<std::int64_t>(settings.drain_timeout_s * ns_per_s);
    plan.retry_for_ns = static_cast<std::int64_t>(settings.retry_for_s * ns_per_s);
    plan_sink(settings, common, plan);
    return plan;
}

}  // namespace

std::uint64_t share_of(std::uint64_t total, std::uint32_t index, std::uint32_t count) {
    return total / count + (index < total % count ? 1 : 0);
}

bool edge_path(const config::Settings& settings) {
    if (settings.edge == config::EdgeMode::automatic) return config::detail::is_axiom_edge_host(settings.sink.host);
    return settings.edge == config::EdgeMode::on;
}

// Live without a rate: the scenario's own root volume over its window — each
// volume entry's count per its own window, or per the file's start..end
// (start_time/end_time, --start/--end) — so `--live` plays the file at the
// pace it describes instead of all at once. 0 without counts or a window.
double live_volume_rate_eps(const config::Settings& settings) {
    double eps = 0;
    for (const core::SourceSpec& source : settings.sources) {
        for (const core::VolumeSpec& v : source.volume) {
            std::int64_t span = v.end_ns - v.start_ns;
            if (span <= 0 && settings.window_start_ns && settings.window_end_ns) span = *settings.window_end_ns - *settings.window_start_ns;
            if (span > 0) eps += static_cast<double>(v.count) * 1e9 / static_cast<double>(span);
        }
    }
    return eps;
}

// The run's target rate: --rate, else (live) the scenario's event frequencies,
// else (live) its volume over its window.
std::optional<double> run_rate_eps(const config::Settings& settings, const core::CompiledScenario& scenario) {
    if (settings.rate_eps) return settings.rate_eps;
    if (!scenario.backfill && scenario.live_rate_eps > 0) return scenario.live_rate_eps;
    if (settings.rate_unlimited) return std::nullopt;
    if (const double eps = live_volume_rate_eps(settings); !scenario.backfill && eps > 0) return eps;
    return std::nullopt;
}

std::shared_ptr<const core::CompiledScenario> compile_run_scenario(const config::Settings& settings) {
    core::ScenarioInputs inputs;
    // [sources] in the config file replace the built-in scenario.
    if (!settings.sources.empty()) {
        // (A built-in written in TOML arrives as [sources]: config/builtin_scenario.cpp.)
        if (settings.scenario != config::Settings{}.scenario && !config::builtin_scenario_has_sources(settings.scenario)) {
            throw std::invalid_argument("generation.scenario ('" + settings.scenario +
                                        "') conflicts with the config file's [sources]: give one or the other");
        }
        inputs.sources = settings.sources;
    } else {
        inputs.builtin = output_format(settings.format) == core::OutputFormat::ndjson && settings.scenario_spec.timezone == "UTC"
                             ? core::builtin_program(settings.scenario)
                             : builtin_program_as(settings.scenario, output_format(settings.format), settings.scenario_spec.timezone);
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
    inputs.identity = scenario_identity(settings);  // streams of different scenarios never meet
    // (--scale is applied by the config loaders, once.)
    return core::compile_scenario(inputs);
}

PlanInputs look_up_plan_inputs(const config::Settings& settings) {
    const config::SinkUrl& sink = settings.sink;
    PlanInputs inputs;
    inputs.online_cpus = online_cpus();
    if (sink.kind == Kind::file) inputs.output_file = output_file(sink.file_path);
    if (http_sink(sink.kind) || syslog_sink(sink.kind)) {
        resolve_address(sink, inputs);
        inputs.local_addresses = resolve_local_addresses(settings.bind, inputs.sink_address.ss_family);
    }
    return inputs;
}

RunPlan plan_shards(const config::Settings& settings, const PlanInputs& inputs) {
    RunPlan run;
    check_sink_settings(settings, run.messages);
    check_api_settings(settings, run.messages);
    CommonPlan common;
    common.scenario = compile_run_scenario(settings);
    common.workers = plan_workers(settings, inputs, run.messages);
    // The rate (--rate or the scenario's) is the whole fleet's: a part runs 1/N of it.
    common.rate_eps = run_rate_eps(settings, *common.scenario).value_or(0) / settings.shard_count;
    if (http_sink(settings.sink.kind)) common.http = plan_http(settings, inputs, *common.scenario, run.messages);
    if (settings.sink.kind == Kind::postgresql) {
        std::vector<std::string> notes;  // typed tables' columns, for the log and --check-config
        common.postgres = plan_postgres(settings, *common.scenario, &notes);
        for (std::string& note : notes) run.messages.push_back({log::Level::notice, std::move(note)});
    }
    if (syslog_sink(settings.sink.kind)) common.syslog = plan_syslog(settings, inputs, run.messages);
    run.shards.reserve(common.workers);
    for (std::uint32_t i = 0; i < common.workers; ++i) run.shards.push_back(plan_shard(settings, inputs, common, i));
    for (ShardPlan& plan : run.shards) cap_api_batch(settings, plan, plan.index == 0 ? &run.messages : nullptr);
    return run;
}

void log_plan_messages(const std::vector<PlanMessage>& messages) {
    for (const PlanMessage& message : messages) {
        if (message.level == log::Level::warning) {
            log::warning("%s", message.text.c_str());
        } else {
            log::notice("%s", message.text.c_str());
        }
    }
}

// The checkpoint's fingerprint covers the planned worker count and the
// compiled scenario: it can only be checked once the run is planned.
std::shared_ptr<const CheckpointStart> plan_checkpoint(const config::Settings& settings, std::vector<ShardPlan>& plans) {
    if (settings.checkpoint_path.empty()) return nullptr;
    const auto workers = static_cast<std::uint32_t>(plans.size());
    auto checkpoint = std::make_shared<const CheckpointStart>(open_checkpoint(settings, *plans.front().scenario, workers));
    for (ShardPlan& plan : plans) plan.checkpoint = checkpoint;
    return checkpoint;
}

void check_run_files(const config::Settings& settings, std::vector<ShardPlan>& plans) {
    if (plans.empty()) return;
    (void)plan_checkpoint(settings, plans);
    if (settings.sink.kind != Kind::file) return;
    const std::string& path = settings.sink.file_path;
    // Opened for appending only, never created or truncated; O_NONBLOCK so a
    // FIFO without a reader answers ENXIO instead of waiting for one.
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) {
        ::close(fd);
        return;
    }
    if (errno == ENXIO) return;  // a FIFO: the run waits for its reader
    if (errno != ENOENT) throw std::runtime_error("cannot open the file sink " + path + ": " + std::strerror(errno));
    const std::size_t slash = path.rfind('/');
    const std::string directory = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    if (::faccessat(AT_FDCWD, directory.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
        throw std::runtime_error("cannot create the file sink " + path + ": " + directory + ": " + std::strerror(errno));
    }
}

void open_run_files(const config::Settings& settings, std::vector<ShardPlan>& plans) {
    if (plans.empty()) return;
    const std::shared_ptr<const CheckpointStart> checkpoint = plan_checkpoint(settings, plans);
    if (settings.sink.kind != Kind::file) return;
    start_output_file(settings.sink.file_path, checkpoint.get());
    for (ShardPlan& plan : plans) plan.sink.file_fd = open_output(settings.sink.file_path);
}

}  // namespace supervent::daemon
