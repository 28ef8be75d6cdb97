#include "daemon/daemon.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>  // before Asio: see control_server.hpp

#include <boost/asio.hpp>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <stdexcept>

#include "core/bounds.hpp"
#include "daemon/control_server.hpp"
#include "daemon/json_writer.hpp"
#include "daemon/sd_notify.hpp"
#include "net/http_request.hpp"

namespace supervent::daemon {
namespace asio = boost::asio;
namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;
constexpr auto supervise_interval = std::chrono::milliseconds(50);
constexpr auto shard_start_timeout = std::chrono::seconds(30);

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

std::uint64_t share_of(std::uint64_t total, std::uint32_t index, std::uint32_t count) {
    return total / count + (index < total % count ? 1 : 0);
}

}  // namespace

std::vector<ShardPlan> plan_shards(const config::Settings& settings) {
    using Kind = config::SinkUrl::Kind;
    const config::SinkUrl& sink = settings.sink;
    if (sink.kind == Kind::https) {
        throw std::runtime_error("HTTPS sinks (" + sink.text +
                                 ") are not supported yet: TLS arrives with its own issue. Use an http:// "
                                 "receiver (supervent-sink, or a TLS-terminating proxy) for now");
    }
    const auto scenarios = core::builtin_scenario_names();
    if (std::find(scenarios.begin(), scenarios.end(), settings.scenario) == scenarios.end()) {
        std::string known;
        for (std::string_view name : scenarios) known += (known.empty() ? "" : ", ") + std::string(name);
        throw std::invalid_argument("generation.scenario: unknown scenario '" + settings.scenario +
                                    "' (built in: " + known + ")");
    }
    std::uint32_t workers = settings.workers == 0 ? online_cpus() : settings.workers;
    if ((sink.kind == Kind::stdout_stream || (sink.kind == Kind::file && !shared_output_ok(sink.file_path))) &&
        workers > 1) {
        std::cerr << "superventd: note: " << sink.text << " is not a regular file; using one worker so lines never "
                  << "interleave\n";
        workers = 1;
    }
    if (settings.events > 0 && settings.events < workers) workers = static_cast<std::uint32_t>(settings.events);

    net::HttpTransportConfig http;
    if (sink.kind == Kind::http) {
        resolve_address(sink, http);
        http.target.host_header = host_header(sink);
        http.target.path = net::ingest_path(sink.path_prefix, settings.dataset);
        http.target.token = settings.token;
        http.connections = settings.connections;
        http.tcp_nodelay = settings.tcp_nodelay;
        http.connect_timeout_ns = static_cast<std::int64_t>(settings.connect_timeout_s * ns_per_s);
        http.request_timeout_ns = static_cast<std::int64_t>(settings.request_timeout_s * ns_per_s);
        if (settings.compression.zstd) http.target.content_encoding = "zstd";
    }
    if (sink.kind == Kind::file) {
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
        plan.rate_eps = settings.rate_eps ? *settings.rate_eps / workers : 0;
        plan.events_budget = settings.events > 0 ? share_of(settings.events, i, workers) : 0;
        plan.duration_ns = static_cast<std::int64_t>(settings.duration_s * ns_per_s);
        plan.scenario = settings.scenario;
        plan.identity = core::SourceIdentity{settings.seed, i, workers};
        plan.zero_copy = settings.zero_copy;
        plan.compression = settings.compression;
        plan.drain_timeout_ns = static_cast<std::int64_t>(settings.drain_timeout_s * ns_per_s);
        plan.sink.kind = sink.kind;
        plan.sink.description = sink.text;
        switch (sink.kind) {
            case Kind::http:
                plan.sink.http = http;
                plan.slots = settings.connections * bounds::slots_per_connection;
                break;
            case Kind::file:
                plan.sink.file_fd = open_output(sink.file_path);
                plan.slots = 2;
                break;
            case Kind::stdout_stream:
                plan.sink.file_fd = STDOUT_FILENO;
                plan.slots = 2;
                break;
            case Kind::discard:
            case Kind::https:
                plan.slots = 2;
                break;
        }
    }
    return plans;
}

struct Daemon::Shared {
    config::Settings settings;
    std::vector<ShardPlan> plans;
    std::unique_ptr<ShardStats[]> stats;
    std::unique_ptr<ShardControl[]> controls;
    std::unique_ptr<ShardError[]> errors;
    std::vector<std::unique_ptr<Shard>> shards;
    std::vector<std::thread> threads;
    std::uint32_t shard_count = 0;

    asio::io_context io;
    std::unique_ptr<ControlServer> control_server;
    std::int64_t started_ns = 0;
    bool stop_requested = false;
    bool paused = false;

    // Rate sampling for status: generated events at the last sample.
    std::int64_t sample_ns = 0;
    std::uint64_t sample_events = 0;
    std::uint64_t sample_bytes = 0;
    double rate_actual_eps = 0;
    double bytes_rate_actual = 0;
    std::int64_t last_progress_ns = 0;

    [[nodiscard]] Totals totals() const;
    [[nodiscard]] std::string state() const;
    [[nodiscard]] std::string status_json() const;
    void handle_command(std::string_view request, Responder respond);
    // Replies owed to `stop` requests that wait for the end of the drain.
    std::vector<Responder> stop_waiters;
    void request_stop();
    void sample_rates(std::int64_t now_ns);
    void print_progress(std::int64_t now_ns) const;
    [[nodiscard]] bool all_done() const;
};

Totals Daemon::Shared::totals() const {
    Totals total;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const ShardStats& shard = stats[i];
        // acked and failed before generated: see ShardStats.
        total.events_acked += shard.events_acked.get();
        total.events_failed += shard.events_failed.get();
        for (int reason = 0; reason < static_cast<int>(net::FailReason::count_); ++reason) {
            total.events_failed_by_reason[reason] += shard.events_failed_by_reason[reason].get();
        }
        total.events_generated += shard.events_generated.get();
        total.bytes_generated += shard.bytes_generated.get();
        total.bytes_sent += shard.bytes_sent.get();
        total.requests_sent += shard.requests_sent.get();
        total.requests_acked += shard.requests_acked.get();
        total.requests_retried += shard.requests_retried.get();
        total.requests_failed += shard.requests_failed.get();
        total.connects += shard.connects.get();
        total.connect_failures += shard.connect_failures.get();
        total.zc_notifications += shard.zc_notifications.get();
        total.zc_copied += shard.zc_copied.get();
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
    if (paused) return "paused";
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
        .field("events_in_flight", total.events_in_flight());
    json.key("events_target");
    if (settings.events > 0) json.value(settings.events); else json.null();
    json.field("bytes_generated", total.bytes_generated).field("bytes_sent", total.bytes_sent);
    json.key("rate_target");
    if (settings.rate_eps) json.value(*settings.rate_eps); else json.value("unlimited");
    json.field("rate_actual", rate_actual_eps).field("bytes_per_second", bytes_rate_actual);
    json.field("uptime_s", uptime_s).field("workers", shard_count);
    json.field("requests_sent", total.requests_sent)
        .field("requests_acked", total.requests_acked)
        .field("requests_retried", total.requests_retried)
        .field("requests_failed", total.requests_failed);
    json.field("connects", total.connects).field("connect_failures", total.connect_failures);
    json.field("zc_notifications", total.zc_notifications).field("zc_copied", total.zc_copied);
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
    json.field("sink", settings.sink.text).field("dataset", settings.dataset);
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

void Daemon::Shared::handle_command(std::string_view request, Responder respond) {
    simdjson::dom::parser parser;
    simdjson::dom::element document;
    if (parser.parse(request.data(), request.size()).get(document) != simdjson::SUCCESS) {
        respond(R"({"ok":false,"error":"malformed request: expected one JSON object per line, e.g. {\"cmd\":\"status\"}"})");
        return;
    }
    std::string_view command;
    if (document["cmd"].get_string().get(command) != simdjson::SUCCESS) {
        respond(R"({"ok":false,"error":"the request has no \"cmd\" string"})");
        return;
    }
    if (command == "status") {
        respond(status_json());
    } else if (command == "stop") {
        request_stop();
        bool wait = false;
        if (document["wait"].get_bool().get(wait) == simdjson::SUCCESS && wait) {
            // Answered with the final status once every shard has settled.
            stop_waiters.push_back(std::move(respond));
        } else {
            respond(JsonWriter().begin_object().field("ok", true).field("state", state()).end_object().take());
        }
    } else if (command == "version") {
        respond(JsonWriter().begin_object().field("ok", true).field("version", SUPERVENT_VERSION).end_object().take());
    } else {
        respond(JsonWriter()
                    .begin_object()
                    .field("ok", false)
                    .field("error", "unknown command '" + std::string(command) + "' (known: status, stop, version)")
                    .end_object()
                    .take());
    }
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
    sample_ns = now_ns;
    sample_events = total.events_generated;
    sample_bytes = total.bytes_sent;
}

void Daemon::Shared::print_progress(std::int64_t now_ns) const {
    const Totals total = totals();
    std::fprintf(stderr,
                 "superventd: [%6.1fs] generated %llu  acked %llu  failed %llu  in flight %llu  %.2f M events/s  "
                 "%.1f MB/s\n",
                 double(now_ns - started_ns) / ns_per_s, static_cast<unsigned long long>(total.events_generated),
                 static_cast<unsigned long long>(total.events_acked),
                 static_cast<unsigned long long>(total.events_failed),
                 static_cast<unsigned long long>(total.events_in_flight()), rate_actual_eps / 1e6,
                 bytes_rate_actual / 1e6);
}

Daemon::Daemon(config::Settings settings) : shared_(std::make_unique<Shared>()) {
    shared_->settings = std::move(settings);
}

Daemon::~Daemon() {
    if (!shared_) return;
    shared_->request_stop();
    for (std::thread& thread : shared_->threads) {
        if (thread.joinable()) thread.join();
    }
}

namespace {

void print_summary(const Totals& total, double elapsed_s, const config::Settings& settings) {
    std::fprintf(stderr,
                 "superventd: summary: %llu events generated, %llu acknowledged, %llu failed, %llu in flight\n"
                 "superventd: summary: %.2f s, %.0f events/s, %.1f MB/s sent (%llu requests, %llu retried) to %s\n",
                 static_cast<unsigned long long>(total.events_generated),
                 static_cast<unsigned long long>(total.events_acked),
                 static_cast<unsigned long long>(total.events_failed),
                 static_cast<unsigned long long>(total.events_in_flight()), elapsed_s,
                 elapsed_s > 0 ? double(total.events_acked) / elapsed_s : 0.0,
                 elapsed_s > 0 ? double(total.bytes_sent) / elapsed_s / 1e6 : 0.0,
                 static_cast<unsigned long long>(total.requests_acked),
                 static_cast<unsigned long long>(total.requests_retried), settings.sink.text.c_str());
    for (int reason = 1; reason < static_cast<int>(net::FailReason::count_); ++reason) {
        if (total.events_failed_by_reason[reason] > 0) {
            std::fprintf(stderr, "superventd: summary: %llu events failed: %s\n",
                         static_cast<unsigned long long>(total.events_failed_by_reason[reason]),
                         net::fail_reason_name(static_cast<net::FailReason>(reason)));
        }
    }
}

}  // namespace

int Daemon::run() {
    Shared& shared = *shared_;
    shared.plans = plan_shards(shared.settings);
    shared.shard_count = static_cast<std::uint32_t>(shared.plans.size());
    shared.stats = std::make_unique<ShardStats[]>(shared.shard_count);
    shared.controls = std::make_unique<ShardControl[]>(shared.shard_count);
    shared.errors = std::make_unique<ShardError[]>(shared.shard_count);
    shared.started_ns = monotonic_ns();
    shared.sample_ns = shared.started_ns;
    shared.last_progress_ns = shared.started_ns;

    // The control plane (signals, socket) exists before any shard runs, so
    // that SIGTERM during start-up still drains cleanly.
    asio::signal_set signals(shared.io, SIGINT, SIGTERM);
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& error, int signal_number) {
            if (error) return;
            std::fprintf(stderr, "superventd: %s: stopping; settling every batch in flight\n",
                         signal_number == SIGINT ? "SIGINT" : "SIGTERM");
            shared.request_stop();
            signals.async_wait(on_signal);
        };
    signals.async_wait(on_signal);
    const std::string socket_path =
        shared.settings.socket_path.empty() ? default_control_socket_path() : shared.settings.socket_path;
    try {
        shared.control_server = std::make_unique<ControlServer>(
            shared.io, socket_path,
            [&shared](std::string_view request, Responder respond) { shared.handle_command(request, std::move(respond)); });
    } catch (const std::exception& failure) {
        if (!shared.settings.socket_path.empty()) throw;  // asked for explicitly: a hard error
        std::fprintf(stderr, "superventd: warning: running without a control socket: %s\n", failure.what());
    }

    for (std::uint32_t i = 0; i < shared.shard_count; ++i) {
        shared.controls[i].rate_eps.store(shared.plans[i].rate_eps, std::memory_order_release);
        shared.shards.push_back(
            std::make_unique<Shard>(shared.plans[i], shared.stats[i], shared.controls[i], shared.errors[i]));
    }
    for (std::uint32_t i = 0; i < shared.shard_count; ++i) {
        shared.threads.emplace_back([shard = shared.shards[i].get()] { shard->run(); });
    }

    const Notifier notifier;
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
    bool reported_ready = false;
    bool reported_stopping = false;
    const auto start_deadline = std::chrono::steady_clock::now() + shard_start_timeout;
    std::function<void(const boost::system::error_code&)> supervise = [&](const boost::system::error_code& error) {
        if (error) return;
        const std::int64_t now_ns = monotonic_ns();
        const std::string state = shared.state();
        if (state == "starting" && std::chrono::steady_clock::now() > start_deadline) {
            std::fprintf(stderr, "superventd: shards did not start within %lld s\n",
                         static_cast<long long>(shard_start_timeout.count()));
            shared.request_stop();
        }
        if (!reported_ready && state != "starting") {
            // Every shard has its ring and registered buffers (or failed).
            reported_ready = true;
            notifier.notify("READY=1\nSTATUS=" + std::to_string(shared.shard_count) + " shards running");
            if (shared.control_server) {
                std::fprintf(stderr, "superventd: %u shards running; control socket %s\n", shared.shard_count,
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
            notifier.notify("STOPPING=1\nSTATUS=draining: settling every batch in flight");
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
    const double elapsed_s = double(monotonic_ns() - shared.started_ns) / ns_per_s;
    const Totals total = shared.totals();
    print_summary(total, elapsed_s, shared.settings);

    bool clean = total.events_failed == 0 && total.events_in_flight() == 0;
    for (std::uint32_t i = 0; i < shared.shard_count; ++i) {
        std::lock_guard lock(shared.errors[i].mutex);
        if (!shared.errors[i].text.empty()) {
            std::fprintf(stderr, "superventd: error: shard %u: %s\n", i, shared.errors[i].text.c_str());
            clean = false;
        }
        if (shared.stats[i].phase.load() == ShardPhase::failed) clean = false;
    }
    shared.control_server.reset();
    return clean ? 0 : 1;
}

}  // namespace supervent::daemon
