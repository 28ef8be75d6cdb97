// supervent-ctl: talk to a running superventd over its control socket.
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <simdjson.h>

#include <climits>
#include <csignal>
#include <cstdlib>
#include <algorithm>
#include <vector>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "config/settings.hpp"
#include "config/toml_write.hpp"
#include "config/values.hpp"
#include "config/yaml_load.hpp"
#include "daemon/control_server.hpp"
#include "daemon/fleet_status.hpp"
#include "daemon/json_writer.hpp"
#include "daemon/text_format.hpp"
#include "scenarios/catalogue.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_command_failed = 1;
constexpr int exit_usage = 2;
constexpr int exit_unreachable = 3;

constexpr const char* usage_text =
    "usage: supervent-ctl [--socket PATH | --instance NAME] [--json] [--timeout SECONDS] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  status                 what the daemon is doing: rates, totals, per-shard lines (a table)\n"
    "  watch [--interval S] [--count N]\n"
    "                         refresh the status every S seconds (default 1) until the daemon exits\n"
    "                         (or N times); a bounded run shows a progress bar with an ETA\n"
    "  pause                  stop starting new batches (batches in flight still settle)\n"
    "  resume                 start generating again\n"
    "  rate N|unlimited       change the target rate (events/s over all workers) live\n"
    "  set KEY VALUE          change a setting live: generation.rate, generation.events,\n"
    "                         generation.duration, monitoring.progress, monitoring.progress_interval_ms,\n"
    "                         monitoring.log_level (the section may be left off: set rate 5000);\n"
    "                         other settings need a restart and are refused, naming the key\n"
    "  reload [FILE]          validate FILE (default: the daemon's --config file) and apply what can\n"
    "                         change live, the scenario too ([sources], [scenario], dataset, window):\n"
    "                         it is swapped in between batches, keeping batches in flight and\n"
    "                         connections; an invalid file is refused and nothing changes\n"
    "  sources                list the running scenario's sources: dataset, enabled, events generated\n"
    "  sources --builtin [NAME]\n"
    "                         the scenarios built into superventd (--scenario NAME), one a line with\n"
    "                         its description; with NAME, that scenario's TOML, to copy and change;\n"
    "                         needs no daemon\n"
    "  sources enable|disable NAME\n"
    "                         enable or disable a source live (a disabled source makes no events;\n"
    "                         in a backfill its events wait until it is enabled again)\n"
    "  incident start NAME [--for DURATION]\n"
    "                         start the scenario's incident NAME ([[scenario.incidents]]) live: its\n"
    "                         effects change the attribute mix until stopped, or for DURATION (10m)\n"
    "  incident stop [NAME]   stop the active incident (NAME: only if it is the active one)\n"
    "  stop                   stop generating, wait until every batch in flight has settled, print the\n"
    "                         final counts\n"
    "  version                the daemon's version\n"
    "  dashboard              print the URL of the daemon's live dashboard (needs --metrics-listen)\n"
    "  fleet status URL...    one table for many daemons: each one's http://HOST:PORT (its\n"
    "                         --metrics-listen; /api/status is read) with state, part, seed, rate,\n"
    "                         acked, failed, in flight, backfill progress and ETA, then the totals;\n"
    "                         --file F reads the URLs from F, one a line; an unreachable daemon is\n"
    "                         a row saying why and exit code 3 (--timeout: per daemon, default 5)\n"
    "  convert FILE           print FILE (a scenario file of the original tool, .yaml/.yml, or a TOML\n"
    "                         config) as the equivalent TOML config, with what the conversion noted\n"
    "                         as comments; needs no daemon (exit 1 with the reason for a bad file)\n"
    "\n"
    "Options:\n"
    "  --socket PATH      the daemon's control socket (default: a daemon of your own at\n"
    "                     $XDG_RUNTIME_DIR/supervent/superventd.sock when it is there, else the\n"
    "                     service's /run/supervent/superventd.sock)\n"
    "  --instance NAME    the daemon of the unit superventd@NAME: --socket /run/supervent/NAME.sock\n"
    "  --file F           fleet status: read the daemons' URLs from F (one a line, # comments)\n"
    "  --json             print the daemon's reply as JSON (watch: one status object per line)\n"
    "  --timeout SECONDS  how long stop waits for the drain to finish (default 60)\n"
    "  --for DURATION     incident start: end the incident after DURATION (30s, 10m, 1h30m)\n"
    "  -h, --help         print this help\n"
    "  --version          print supervent-ctl's version\n"
    "\n"
    "Exit codes: 0 ok, 1 the command failed, 2 usage, 3 the daemon is unreachable.\n";

struct Options {
    std::string socket_path;
    bool json = false;
    double timeout_s = 60;
    std::string command;
    std::vector<std::string> args;
    double interval_s = 1;
    std::uint64_t count = 0;  // watch: refreshes; 0 = until the daemon exits
    std::string instance;     // --instance NAME: superventd@NAME's socket
    std::string fleet_file;   // fleet status --file F
    bool builtin = false;     // sources --builtin: the catalogue, not the daemon's sources
    bool timeout_given = false;
    double incident_for_s = 0;  // incident start --for; 0 = until stopped
};

struct Reply {
    bool reached = false;
    std::string text;
    std::string error;  // why the daemon could not be reached
};

// One request, one reply line, on a fresh connection.
Reply ask_daemon(const std::string& socket_path, const std::string& request, int reply_timeout_ms = 10'000) {
    Reply reply;
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof address.sun_path) {
        reply.error = "socket path too long";
        ::close(fd);
        return reply;
    }
    std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        reply.error = std::strerror(errno);
        ::close(fd);
        return reply;
    }
    const std::string line = request + "\n";
    if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
        // The daemon may have answered (a refusal) and closed before reading:
        // its answer, if any, is still there to read.
        reply.error = std::strerror(errno);
    }
    char buffer[65536];
    for (;;) {
        pollfd waiter{fd, POLLIN, 0};
        if (::poll(&waiter, 1, reply_timeout_ms) <= 0) {
            reply.error = "no reply within " + std::to_string(reply_timeout_ms / 1000) + " s";
            break;
        }
        const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
        if (got <= 0) {
            if (reply.error.empty()) reply.error = got == 0 ? "the daemon closed the connection" : std::strerror(errno);
            break;
        }
        reply.text.append(buffer, static_cast<std::size_t>(got));
        if (const auto end = reply.text.find('\n'); end != std::string::npos) {
            reply.text.resize(end);
            reply.reached = true;
            break;
        }
    }
    ::close(fd);
    return reply;
}

// Says why superventd could not be reached; the exit code for it.
int unreachable(const Options& options, const Reply& reply) {
    std::fprintf(stderr, "supervent-ctl: cannot reach superventd at %s: %s\n", options.socket_path.c_str(),
                 reply.error.c_str());
    return exit_unreachable;
}

using supervent::daemon::with_commas;

// Field readers for display: a missing or mistyped field shows as 0 / "".
std::uint64_t u64(simdjson::dom::element object, const char* key) {
    std::uint64_t value = 0;
    return object[key].get_uint64().get(value) == simdjson::SUCCESS ? value : 0;
}
double f64(simdjson::dom::element object, const char* key) {
    double value = 0;
    return object[key].get_double().get(value) == simdjson::SUCCESS ? value : 0;
}
bool flag(simdjson::dom::element object, const char* key) {
    bool value = false;
    return object[key].get_bool().get(value) == simdjson::SUCCESS && value;
}
std::string_view str(simdjson::dom::element object, const char* key) {
    std::string_view value;
    return object[key].get_string().get(value) == simdjson::SUCCESS ? value : std::string_view();
}

std::string duration_text(double seconds);

// "incident     outage (12s so far, 48s left)", or none with the ones defined.
void print_incident_line(simdjson::dom::element status) {
    simdjson::dom::array defined;
    if (status["incidents"].get_array().get(defined) != simdjson::SUCCESS || defined.size() == 0) return;
    simdjson::dom::element active;
    if (status["incident"].get(active) == simdjson::SUCCESS && active.is_object()) {
        double remaining = -1;
        const bool timed = active["remaining_s"].get_double().get(remaining) == simdjson::SUCCESS;
        std::printf("incident     %s (%s so far, %s)\n", std::string(str(active, "name")).c_str(),
                    duration_text(f64(active, "since_s")).c_str(),
                    timed ? (duration_text(remaining) + " left").c_str() : "until stopped");
        return;
    }
    std::string names;
    for (simdjson::dom::element name : defined) names += (names.empty() ? "" : ", ") + std::string(name.get_string().value_unsafe());
    std::printf("incident     none (defined: %s)\n", names.c_str());
}

void print_status_table(simdjson::dom::element status) {
    std::string rate_target = "unlimited";
    double target = 0;
    if (status["rate_target"].get_double().get(target) == simdjson::SUCCESS) rate_target = with_commas(std::uint64_t(target)) + " events/s";
    const std::uint64_t workers = u64(status, "workers");
    std::printf("state        %s   (uptime %.1f s, %llu %s)\n", std::string(str(status, "state")).c_str(),
                f64(status, "uptime_s"), static_cast<unsigned long long>(workers), workers == 1 ? "worker" : "workers");
    std::printf("sink         %s   dataset %s\n", std::string(str(status, "sink")).c_str(),
                std::string(str(status, "dataset")).c_str());
    // generated = acked + failed (by the sink) + dropped (by us) + in flight.
    std::printf("events       generated %s = acked %s + failed %s + dropped %s + in flight %s",
                with_commas(u64(status, "events_generated")).c_str(), with_commas(u64(status, "events_acked")).c_str(),
                with_commas(u64(status, "events_rejected")).c_str(), with_commas(u64(status, "events_dropped")).c_str(),
                with_commas(u64(status, "events_in_flight")).c_str());
    std::uint64_t events_target = 0;
    if (status["events_target"].get_uint64().get(events_target) == simdjson::SUCCESS && events_target > 0) {
        std::printf("   of %s (%.1f %%)", with_commas(events_target).c_str(),
                    100.0 * double(u64(status, "events_acked")) / double(events_target));
    }
    // The same unit for both rates, so they compare at a glance.
    std::printf("\nrate         actual %s events/s, %.1f MB/s   target %s\n",
                with_commas(static_cast<std::uint64_t>(f64(status, "rate_actual") + 0.5)).c_str(),
                f64(status, "bytes_per_second") / 1e6, rate_target.c_str());
    std::printf("requests     sent %s   acked %s   retried %s (ambiguous %s)   failed %s   mean latency %.2f ms\n",
                with_commas(u64(status, "requests_sent")).c_str(), with_commas(u64(status, "requests_acked")).c_str(),
                with_commas(u64(status, "requests_retried")).c_str(),
                with_commas(u64(status, "requests_ambiguous")).c_str(), with_commas(u64(status, "requests_failed")).c_str(),
                f64(status, "mean_request_latency_ms"));
    double ratio = 0;
    if (status["compression_ratio"].get_double().get(ratio) == simdjson::SUCCESS) {
        std::printf("compression  %s   ratio %.2f (bodies %.1f MB before, %.1f MB after)\n",
                    std::string(str(status, "compression")).c_str(), ratio,
                    double(u64(status, "body_bytes_uncompressed")) / 1e6, double(u64(status, "body_bytes_compressed")) / 1e6);
    }
    std::printf("slots        %llu of %llu busy\n", static_cast<unsigned long long>(u64(status, "slots_busy")),
                static_cast<unsigned long long>(u64(status, "slots_total")));
    simdjson::dom::element tls;
    if (status["tls"].get(tls) == simdjson::SUCCESS && tls.is_object()) {
        std::printf("tls          %s handshakes (%s resumed)   kernel TLS %s\n", with_commas(u64(tls, "handshakes")).c_str(),
                    with_commas(u64(tls, "resumed")).c_str(), std::string(str(tls, "kernel_tls")).c_str());
    }
    simdjson::dom::object reasons;
    if (status["events_failed_by_reason"].get_object().get(reasons) == simdjson::SUCCESS) {
        for (auto [reason, count] : reasons) {
            // partial: the sink said these events failed; any other reason: we dropped the batch.
            std::printf("%s %s: %s events\n", reason == "partial" ? "failed      " : "dropped     ",
                        reason == "partial" ? "reported by the sink" : std::string(reason).c_str(),
                        with_commas(count.get_uint64().value_unsafe()).c_str());
        }
    }
    simdjson::dom::array shards;
    if (status["shards"].get_array().get(shards) == simdjson::SUCCESS) {
        std::printf("\nshard  phase      %15s %15s %12s  depth  slots busy\n", "generated", "acked", "failed");
        for (simdjson::dom::element shard : shards) {
            const bool backpressured = flag(shard, "backpressured");
            // depth: HTTP requests in flight per connection at most, now (0: not an HTTP sink).
            std::printf("%5llu  %-9s  %15s %15s %12s  %5llu  %llu%s\n", static_cast<unsigned long long>(u64(shard, "index")),
                        std::string(str(shard, "phase")).c_str(), with_commas(u64(shard, "events_generated")).c_str(),
                        with_commas(u64(shard, "events_acked")).c_str(), with_commas(u64(shard, "events_failed")).c_str(),
                        static_cast<unsigned long long>(u64(shard, "pipeline_depth")),
                        static_cast<unsigned long long>(u64(shard, "slots_busy")), backpressured ? "  (waiting on the sink)" : "");
        }
    }
    simdjson::dom::array sources;
    if (status["sources"].get_array().get(sources) == simdjson::SUCCESS) {
        for (simdjson::dom::element source : sources) {
            std::printf("source       %s -> %s (%s)   generated %s\n", std::string(str(source, "name")).c_str(),
                        std::string(str(source, "dataset")).c_str(), flag(source, "enabled") ? "enabled" : "disabled",
                        with_commas(u64(source, "events_generated")).c_str());
        }
    }
    simdjson::dom::element progress;
    if (status["progress"].get(progress) == simdjson::SUCCESS && progress.is_object()) {
        double eta_s = -1;
        if (progress["eta_s"].get_double().get(eta_s) != simdjson::SUCCESS) eta_s = -1;
        std::printf("backfill     root events %s of %s (%.1f %%)   ETA %s   dependents pending %s\n",
                    with_commas(u64(progress, "roots_done")).c_str(), with_commas(u64(progress, "roots_total")).c_str(),
                    100.0 * f64(progress, "fraction"), eta_s < 0 ? "unknown" : duration_text(eta_s).c_str(),
                    with_commas(u64(progress, "dependents_pending")).c_str());
    }
    print_incident_line(status);
    if (!str(status, "config").empty()) {
        std::printf("config       %s   (%llu reloads)\n", std::string(str(status, "config")).c_str(),
                    static_cast<unsigned long long>(u64(status, "reloads")));
    }
    if (!str(status, "metrics").empty()) std::printf("metrics      %s\n", std::string(str(status, "metrics")).c_str());
    simdjson::dom::array errors;
    if (status["errors"].get_array().get(errors) == simdjson::SUCCESS) {
        for (simdjson::dom::element error : errors) std::printf("error        %s\n", std::string(error.get_string().value_unsafe()).c_str());
    }
}

// Without --socket: the socket of a daemon of the caller's own if there is
// one (root's is the service's), else the service's, so that an operator who
// is not root reaches the system daemon without naming its socket.
std::string find_control_socket() {
    const std::string own = supervent::daemon::default_control_socket_path();
    static constexpr const char* service_socket = "/run/supervent/superventd.sock";
    struct stat info {};
    if (::stat(own.c_str(), &info) == 0 && S_ISSOCK(info.st_mode)) return own;
    if (::stat(service_socket, &info) == 0 && S_ISSOCK(info.st_mode)) return service_socket;
    return own;
}

// --instance NAME: superventd@NAME's socket (daemon/fleet_status.hpp).
int resolve_instance(Options& options) {
    if (options.instance.empty()) return exit_ok;
    std::string error;
    if (!options.socket_path.empty()) error = "--instance and --socket name the same thing: give one";
    else options.socket_path = supervent::daemon::instance_socket_path(options.instance, error);
    if (error.empty()) return exit_ok;
    std::fprintf(stderr, "supervent-ctl: %s\n", error.c_str());
    return exit_usage;
}

int parse_options(int argc, char** argv, Options& options) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto take_value = [&](const char* name) -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "supervent-ctl: %s needs a value\n", name);
                return nullptr;
            }
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h") {
            std::fputs(usage_text, stdout);
            std::exit(exit_ok);
        } else if (arg == "--version") {
            std::printf("supervent-ctl %s\n", SUPERVENT_VERSION);
            std::exit(exit_ok);
        } else if (arg == "--json") {
            options.json = true;
        } else if (arg == "--builtin") {
            options.builtin = true;
        } else if (arg == "--socket") {
            const char* value = take_value("--socket");
            if (value == nullptr) return exit_usage;
            options.socket_path = value;
        } else if (arg.starts_with("--socket=")) {
            options.socket_path = std::string(arg.substr(9));
        } else if (arg == "--timeout") {
            const char* value = take_value("--timeout");
            if (value == nullptr) return exit_usage;
            char* end = nullptr;
            options.timeout_s = std::strtod(value, &end);
            options.timeout_given = true;
            if (end == value || *end != '\0' || options.timeout_s <= 0) {
                std::fprintf(stderr, "supervent-ctl: --timeout: expected a positive number of seconds, got '%s'\n", value);
                return exit_usage;
            }
        } else if (arg == "--for") {
            const char* value = take_value("--for");
            if (value == nullptr) return exit_usage;
            try {
                options.incident_for_s = supervent::config::detail::parse_duration(value);
            } catch (const std::exception& error) {
                std::fprintf(stderr, "supervent-ctl: --for: %s\n", error.what());
                return exit_usage;
            }
            if (options.incident_for_s <= 0) {
                std::fprintf(stderr, "supervent-ctl: --for: expected a duration above 0, e.g. 10m\n");
                return exit_usage;
            }
        } else if (arg == "--instance" || arg == "--file") {
            const char* value = take_value(argv[i]);
            if (value == nullptr) return exit_usage;
            (arg == "--instance" ? options.instance : options.fleet_file) = value;
        } else if (arg == "--interval" || arg == "--count") {
            const char* value = take_value(argv[i]);
            if (value == nullptr) return exit_usage;
            char* end = nullptr;
            const double number = std::strtod(value, &end);
            if (end == value || *end != '\0' || number <= 0 || (arg == "--interval" && number < 0.05)) {
                std::fprintf(stderr, "supervent-ctl: %s: expected a positive number, got '%s'\n", argv[i - 1], value);
                return exit_usage;
            }
            if (arg == "--interval") options.interval_s = number; else options.count = static_cast<std::uint64_t>(number);
        } else if (!arg.empty() && arg[0] == '-' && !(options.command == "rate" || options.command == "set")) {
            std::fprintf(stderr, "supervent-ctl: unknown option %s\n%s", argv[i], usage_text);
            return exit_usage;
        } else if (options.command.empty()) {
            options.command = std::string(arg);
        } else {
            options.args.emplace_back(arg);
        }
    }
    if (options.command.empty()) {
        std::fputs(usage_text, stderr);
        return exit_usage;
    }
    struct Arity {
        const char* name;
        std::size_t min, max;
    };
    static constexpr Arity commands[] = {{"status", 0, 0}, {"watch", 0, 0},  {"pause", 0, 0},  {"resume", 0, 0},
                                         {"rate", 1, 1},   {"set", 2, 2},    {"reload", 0, 1}, {"sources", 0, 2},
                                         {"stop", 0, 0},   {"version", 0, 0}, {"convert", 1, 1}, {"incident", 1, 2},
                                         {"dashboard", 0, 0}, {"fleet", 1, supervent::daemon::fleet_instances_max + 1}};
    const Arity* found = nullptr;
    for (const Arity& command : commands) {
        if (options.command == command.name) found = &command;
    }
    if (found == nullptr) {
        std::fprintf(stderr, "supervent-ctl: unknown command '%s'\n%s", options.command.c_str(), usage_text);
        return exit_usage;
    }
    if (options.builtin && (options.command != "sources" || options.args.size() > 1)) {
        std::fprintf(stderr, "supervent-ctl: --builtin goes with 'sources [NAME]' only\n%s", usage_text);
        return exit_usage;
    }
    if (options.builtin) return exit_ok;  // the catalogue is in this binary: no socket needed
    if (options.args.size() < found->min || options.args.size() > found->max ||
        (options.command == "sources" && !options.args.empty() &&
         (options.args.size() != 2 || (options.args[0] != "enable" && options.args[0] != "disable"))) ||
        (options.command == "incident" && !((options.args[0] == "start" && options.args.size() == 2) ||
                                            (options.args[0] == "stop" && options.incident_for_s == 0))) ||
        (options.incident_for_s > 0 && options.command != "incident")) {
        std::fprintf(stderr, "supervent-ctl: wrong arguments for '%s'\n%s", options.command.c_str(), usage_text);
        return exit_usage;
    }
    if (const int instance = resolve_instance(options); instance != exit_ok) return instance;
    if (options.command == "fleet" && (options.args[0] != "status" || (options.args.size() < 2 && options.fleet_file.empty()))) {
        std::fprintf(stderr, "supervent-ctl: fleet status needs URLs (http://HOST:PORT ...) or --file F\n%s", usage_text);
        return exit_usage;
    }
    if (options.socket_path.empty()) options.socket_path = find_control_socket();
    return exit_ok;
}

// The request for a command and its arguments.
std::string build_request(const Options& options) {
    supervent::daemon::JsonWriter request;
    request.begin_object().field("cmd", options.command);
    const auto& args = options.args;
    if (options.command == "stop") request.field("wait", true);
    if (options.command == "rate") {
        char* end = nullptr;
        const double number = std::strtod(args[0].c_str(), &end);
        if (end != args[0].c_str() && *end == '\0') request.field("value", number); else request.field("value", args[0]);
    }
    if (options.command == "set") request.field("key", args[0]).field("value", args[1]);
    if (options.command == "reload" && !args.empty()) {
        // The daemon runs elsewhere (its own working directory): send an absolute path.
        char resolved[PATH_MAX];
        request.field("file", ::realpath(args[0].c_str(), resolved) != nullptr ? std::string(resolved) : args[0]);
    }
    if (options.command == "sources" && !args.empty()) request.field("name", args[1]).field("enabled", args[0] == "enable");
    if (options.command == "incident") {
        request.field("action", args[0]);
        if (args.size() > 1) request.field("name", args[1]);
        if (options.incident_for_s > 0) request.field("for_s", options.incident_for_s);
    }
    request.end_object();
    return request.take();
}

std::string duration_text(double seconds) {
    char text[32];
    const auto total = static_cast<long long>(seconds + 0.5);
    if (total >= 3600) std::snprintf(text, sizeof text, "%lldh%02lldm%02llds", total / 3600, total / 60 % 60, total % 60);
    else if (total >= 60) std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
    else std::snprintf(text, sizeof text, "%llds", total);
    return text;
}

// For a bounded run (a backfill, --events or --duration): a bar, the share
// done and an ETA. A backfill's share is its root events done.
void print_progress_bar(simdjson::dom::element status) {
    std::uint64_t events_target = 0;
    double duration_target = 0;
    simdjson::dom::element backfill;
    const bool by_roots = status["progress"].get(backfill) == simdjson::SUCCESS && backfill.is_object();
    const bool by_events = !by_roots && status["events_target"].get_uint64().get(events_target) == simdjson::SUCCESS && events_target > 0;
    const bool by_time = status["duration_target_s"].get_double().get(duration_target) == simdjson::SUCCESS && duration_target > 0;
    if (!by_roots && !by_events && !by_time) return;
    double fraction = 0, eta_s = -1;
    if (by_roots) {
        fraction = f64(backfill, "fraction");
        if (backfill["eta_s"].get_double().get(eta_s) != simdjson::SUCCESS) eta_s = -1;
    }
    if (by_events) {
        fraction = double(u64(status, "events_acked")) / double(events_target);
        const double rate = f64(status, "rate_actual");
        if (rate > 0) eta_s = double(events_target - std::min(events_target, u64(status, "events_generated"))) / rate;
    }
    if (by_time) {
        const double time_fraction = f64(status, "uptime_s") / duration_target;
        const double time_eta = std::max(0.0, duration_target - f64(status, "uptime_s"));
        if (!by_events || time_fraction > fraction) fraction = time_fraction;
        if (eta_s < 0 || time_eta < eta_s) eta_s = time_eta;
    }
    fraction = std::clamp(fraction, 0.0, 1.0);
    constexpr int width = 40;
    const int filled = static_cast<int>(fraction * width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(width - filled), '.');
    std::printf("progress     [%s] %5.1f %%   ETA %s\n", bar.c_str(), fraction * 100,
                eta_s < 0 ? "unknown" : duration_text(eta_s).c_str());
}

volatile std::sig_atomic_t watch_interrupted = 0;

// `watch`: the status again and again until the daemon goes away (or ^C).
// On a terminal each frame replaces the last, with line wrap off, so a
// narrow window cuts lines instead of scrolling the frame apart; the last
// frame stays on screen when it ends, and wrap is turned on again.
int watch(const Options& options) {
    const bool terminal = ::isatty(STDOUT_FILENO) != 0;
    if (terminal) std::signal(SIGINT, [](int) { watch_interrupted = 1; });
    bool seen = false;
    simdjson::dom::parser parser;
    const auto end = [&](int code) {
        if (terminal) std::printf("\033[?7h");  // wrap on again
        std::fflush(stdout);
        return code;
    };
    for (std::uint64_t round = 0; options.count == 0 || round < options.count; ++round) {
        if (round > 0) ::usleep(static_cast<useconds_t>(options.interval_s * 1e6));
        if (watch_interrupted) return end(exit_ok);
        const Reply reply = ask_daemon(options.socket_path, R"({"cmd":"status"})");
        if (!reply.reached) {
            if (!seen) {
                return end(unreachable(options, reply));
            }
            std::printf("superventd has exited\n");
            return end(exit_ok);
        }
        seen = true;
        simdjson::dom::element status;
        if (parser.parse(reply.text).get(status) != simdjson::SUCCESS || !flag(status, "ok")) {
            std::fprintf(stderr, "supervent-ctl: the daemon sent a bad reply: %s\n", reply.text.c_str());
            return exit_command_failed;
        }
        if (options.json) {
            std::printf("%s\n", reply.text.c_str());
        } else {
            if (terminal) std::printf("\033[?7l\033[H\033[2J");
            else if (round > 0) std::printf("\n");
            print_status_table(status);
            print_progress_bar(status);
        }
        std::fflush(stdout);
    }
    return end(exit_ok);
}

// `dashboard`: the page is at / of the metrics listener, which status names
// by its /metrics URL.
int print_dashboard_url(const Options& options) {
    const Reply reply = ask_daemon(options.socket_path, R"({"cmd":"status"})");
    if (!reply.reached) {
        return unreachable(options, reply);
    }
    simdjson::dom::parser parser;
    simdjson::dom::element status;
    std::string_view metrics;
    if (parser.parse(reply.text).get(status) != simdjson::SUCCESS || status["metrics"].get_string().get(metrics) != simdjson::SUCCESS) {
        std::fprintf(stderr, "supervent-ctl: superventd serves no dashboard: start it with --metrics-listen HOST:PORT "
                             "(or [monitoring] metrics_listen)\n");
        return exit_command_failed;
    }
    if (metrics.ends_with("/metrics")) metrics.remove_suffix(std::string_view("metrics").size());
    std::printf("%.*s\n", static_cast<int>(metrics.size()), metrics.data());
    return exit_ok;
}

void print_reply(const Options& options, simdjson::dom::element document) {
    const std::string& command = options.command;
    if (command == "stop") {
        std::printf("stopped: %s events acknowledged, %s failed, %s in flight\n",
                    with_commas(u64(document, "events_acked")).c_str(), with_commas(u64(document, "events_failed")).c_str(),
                    with_commas(u64(document, "events_in_flight")).c_str());
    } else if (command == "status") {
        print_status_table(document);
        print_progress_bar(document);
    } else if (command == "pause" || command == "resume") {
        std::printf("%s\n", std::string(str(document, "state")).c_str());
    } else if (command == "rate") {
        double rate = 0;
        if (document["rate_target"].get_double().get(rate) == simdjson::SUCCESS) {
            std::printf("rate target: %s events/s over %llu workers\n", with_commas(std::uint64_t(rate)).c_str(),
                        static_cast<unsigned long long>(u64(document, "workers")));
        } else {
            std::printf("rate target: unlimited\n");
        }
    } else if (command == "set") {
        std::printf("%s %s\n", std::string(str(document, "key")).c_str(), flag(document, "changed") ? "changed" : "unchanged");
    } else if (command == "reload") {
        std::printf("reloaded %s\n", std::string(str(document, "config")).c_str());
        simdjson::dom::element scenario;
        if (document["scenario"].get(scenario) == simdjson::SUCCESS && scenario.is_object()) {
            std::printf("new scenario:   generation %llu (%s)\n", static_cast<unsigned long long>(u64(scenario, "generation")),
                        flag(scenario, "backfill") ? "backfill" : "live");
            for (const char* list : {"added", "removed", "changed", "unchanged", "datasets_added"}) {
                simdjson::dom::array names_array;
                if (scenario[list].get_array().get(names_array) != simdjson::SUCCESS) continue;
                std::string names;
                for (simdjson::dom::element name : names_array) names += (names.empty() ? "" : ", ") + std::string(name.get_string().value_unsafe());
                std::printf("  %-14s%s\n", (std::string(list == std::string_view("datasets_added") ? "new datasets" : list) + ":").c_str(),
                            names.empty() ? "none" : names.c_str());
            }
        }
        for (const char* list : {"changed", "restart_needed"}) {
            simdjson::dom::array keys;
            if (document[list].get_array().get(keys) != simdjson::SUCCESS) continue;
            std::string names;
            for (simdjson::dom::element key : keys) names += (names.empty() ? "" : ", ") + std::string(key.get_string().value_unsafe());
            if (names.empty()) names = "none";
            std::printf("%s %s\n", list == std::string_view("changed") ? "applied live:  " : "need a restart:", names.c_str());
        }
    } else if (command == "incident") {
        if (options.args[0] == "stop") {
            std::printf("incident %s stopped\n", std::string(str(document, "stopped")).c_str());
        } else {
            print_incident_line(document);
        }
    } else if (command == "sources") {
        simdjson::dom::array sources;
        if (document["sources"].get_array().get(sources) == simdjson::SUCCESS) {
            std::printf("%-24s %-24s %-9s %15s\n", "source", "dataset", "enabled", "generated");
            for (simdjson::dom::element source : sources) {
                std::uint64_t generated = 0;
                const bool counted = source["events_generated"].get_uint64().get(generated) == simdjson::SUCCESS;
                std::printf("%-24s %-24s %-9s %15s\n", std::string(str(source, "name")).c_str(),
                            std::string(str(source, "dataset")).c_str(), flag(source, "enabled") ? "yes" : "no",
                            counted ? with_commas(generated).c_str() : "-");
            }
        }
    } else {
        std::printf("superventd %s\n", std::string(str(document, "version")).c_str());
    }
}

// sources --builtin [NAME]: the catalogue of scenarios/ (compiled into this
// binary as into superventd), or one scenario's TOML text.
int print_builtin_scenarios(const std::vector<std::string>& args) {
    namespace scenarios = supervent::scenarios;
    if (args.empty()) {
        for (const scenarios::Builtin& builtin : scenarios::catalogue()) {
            std::printf("%-16s %.*s\n", std::string(builtin.name).c_str(), static_cast<int>(builtin.description.size()),
                        builtin.description.data());
        }
        return std::fflush(stdout) == 0 ? exit_ok : exit_command_failed;
    }
    const scenarios::Builtin* builtin = scenarios::find(args[0]);
    if (builtin == nullptr) {
        std::fprintf(stderr, "supervent-ctl: no built-in scenario '%s' (built in: %s)\n", args[0].c_str(),
                     std::string(scenarios::names_text()).c_str());
        return exit_command_failed;
    }
    std::fwrite(builtin->toml.data(), 1, builtin->toml.size(), stdout);
    return std::fflush(stdout) == 0 ? exit_ok : exit_command_failed;
}

// convert FILE: the file as TOML on stdout; its warnings on stderr too.
int convert(const std::string& path) {
    try {
        const auto settings = supervent::config::load_config_file(path);
        for (const auto& warning : settings.warnings) std::fprintf(stderr, "supervent-ctl: warning: %s\n", warning.c_str());
        std::fputs(supervent::config::to_toml(settings).c_str(), stdout);
        return std::fflush(stdout) == 0 ? exit_ok : exit_command_failed;
    } catch (const supervent::config::ConfigError& error) {
        std::fprintf(stderr, "supervent-ctl: %s\n", error.what());
        return exit_command_failed;
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    if (const int result = parse_options(argc, argv, options); result != exit_ok) return result;
    if (options.command == "convert") return convert(options.args[0]);
    if (options.command == "sources" && options.builtin) return print_builtin_scenarios(options.args);
    if (options.command == "watch") return watch(options);
    if (options.command == "dashboard") return print_dashboard_url(options);
    if (options.command == "fleet") {
        return supervent::daemon::fleet_command({options.args.begin() + 1, options.args.end()}, options.fleet_file,
                                                options.json, options.timeout_given ? options.timeout_s : 5.0);
    }

    // `stop` waits for the daemon's answer, which comes once every batch in
    // flight has settled and carries the final counts.
    const bool stopping = options.command == "stop";
    const Reply reply = ask_daemon(options.socket_path, build_request(options),
                                   stopping ? static_cast<int>(options.timeout_s * 1000) : 10'000);
    if (!reply.reached) {
        return unreachable(options, reply);
    }
    simdjson::dom::parser parser;
    simdjson::dom::element document;
    if (parser.parse(reply.text).get(document) != simdjson::SUCCESS) {
        std::fprintf(stderr, "supervent-ctl: the daemon sent a malformed reply: %s\n", reply.text.c_str());
        return exit_command_failed;
    }
    if (!flag(document, "ok")) {
        if (options.json) std::printf("%s\n", reply.text.c_str());
        else std::fprintf(stderr, "supervent-ctl: %s\n", std::string(str(document, "error")).c_str());
        return exit_command_failed;
    }
    if (options.json) std::printf("%s\n", reply.text.c_str());
    else print_reply(options, document);
    return exit_ok;
}
