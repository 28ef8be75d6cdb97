// supervent-ctl: talk to a running superventd over its control socket.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <simdjson.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "daemon/control_server.hpp"
#include "daemon/json_writer.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_command_failed = 1;
constexpr int exit_usage = 2;
constexpr int exit_unreachable = 3;

constexpr const char* usage_text =
    "usage: supervent-ctl [--socket PATH] [--json] [--timeout SECONDS] COMMAND\n"
    "\n"
    "Commands:\n"
    "  status     show what the daemon is doing (a table; --json for the raw object)\n"
    "  stop       stop generating, wait until every batch in flight has settled, print the final counts\n"
    "  version    the daemon's version\n"
    "\n"
    "Options:\n"
    "  --socket PATH      the daemon's control socket (default: /run/supervent/superventd.sock for root,\n"
    "                     $XDG_RUNTIME_DIR/supervent/superventd.sock otherwise)\n"
    "  --json             print the daemon's reply as JSON\n"
    "  --timeout SECONDS  how long stop waits for the drain to finish (default 60)\n"
    "\n"
    "Exit codes: 0 ok, 1 the command failed, 2 usage, 3 the daemon is unreachable.\n";

struct Options {
    std::string socket_path;
    bool json = false;
    double timeout_s = 60;
    std::string command;
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
        reply.error = std::strerror(errno);
        ::close(fd);
        return reply;
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
            reply.error = got == 0 ? "the daemon closed the connection" : std::strerror(errno);
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

std::string with_commas(std::uint64_t value) {
    std::string digits = std::to_string(value);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
    return digits;
}

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

void print_status_table(simdjson::dom::element status) {
    std::string rate_target = "unlimited";
    double target = 0;
    if (status["rate_target"].get_double().get(target) == simdjson::SUCCESS) rate_target = with_commas(std::uint64_t(target)) + " events/s";
    std::printf("state        %s   (uptime %.1f s, %llu workers)\n", std::string(str(status, "state")).c_str(),
                f64(status, "uptime_s"), static_cast<unsigned long long>(u64(status, "workers")));
    std::printf("sink         %s   dataset %s\n", std::string(str(status, "sink")).c_str(),
                std::string(str(status, "dataset")).c_str());
    std::printf("events       generated %s   acked %s   failed %s   in flight %s", with_commas(u64(status, "events_generated")).c_str(),
                with_commas(u64(status, "events_acked")).c_str(), with_commas(u64(status, "events_failed")).c_str(),
                with_commas(u64(status, "events_in_flight")).c_str());
    std::uint64_t events_target = 0;
    if (status["events_target"].get_uint64().get(events_target) == simdjson::SUCCESS && events_target > 0) {
        std::printf("   of %s (%.1f %%)", with_commas(events_target).c_str(),
                    100.0 * double(u64(status, "events_acked")) / double(events_target));
    }
    std::printf("\nrate         actual %.3f M events/s, %.1f MB/s   target %s\n", f64(status, "rate_actual") / 1e6,
                f64(status, "bytes_per_second") / 1e6, rate_target.c_str());
    std::printf("requests     sent %s   acked %s   retried %s   failed %s   mean latency %.2f ms\n",
                with_commas(u64(status, "requests_sent")).c_str(), with_commas(u64(status, "requests_acked")).c_str(),
                with_commas(u64(status, "requests_retried")).c_str(), with_commas(u64(status, "requests_failed")).c_str(),
                f64(status, "mean_request_latency_ms"));
    std::printf("slots        %llu of %llu busy\n", static_cast<unsigned long long>(u64(status, "slots_busy")),
                static_cast<unsigned long long>(u64(status, "slots_total")));
    simdjson::dom::object reasons;
    if (status["events_failed_by_reason"].get_object().get(reasons) == simdjson::SUCCESS) {
        for (auto [reason, count] : reasons) {
            std::printf("failed       %s: %s events\n", std::string(reason).c_str(), with_commas(count.get_uint64().value_unsafe()).c_str());
        }
    }
    simdjson::dom::array shards;
    if (status["shards"].get_array().get(shards) == simdjson::SUCCESS) {
        std::printf("\nshard  phase      %15s %15s %12s  slots busy\n", "generated", "acked", "failed");
        for (simdjson::dom::element shard : shards) {
            const bool backpressured = flag(shard, "backpressured");
            std::printf("%5llu  %-9s  %15s %15s %12s  %llu%s\n", static_cast<unsigned long long>(u64(shard, "index")),
                        std::string(str(shard, "phase")).c_str(), with_commas(u64(shard, "events_generated")).c_str(),
                        with_commas(u64(shard, "events_acked")).c_str(), with_commas(u64(shard, "events_failed")).c_str(),
                        static_cast<unsigned long long>(u64(shard, "slots_busy")), backpressured ? "  (waiting on the sink)" : "");
        }
    }
    simdjson::dom::array errors;
    if (status["errors"].get_array().get(errors) == simdjson::SUCCESS) {
        for (simdjson::dom::element error : errors) std::printf("error        %s\n", std::string(error.get_string().value_unsafe()).c_str());
    }
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
        } else if (arg == "--json") {
            options.json = true;
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
            if (end == value || *end != '\0' || options.timeout_s <= 0) {
                std::fprintf(stderr, "supervent-ctl: --timeout: expected a positive number of seconds, got '%s'\n", value);
                return exit_usage;
            }
        } else if (!arg.empty() && arg[0] == '-') {
            std::fprintf(stderr, "supervent-ctl: unknown option %s\n%s", argv[i], usage_text);
            return exit_usage;
        } else if (options.command.empty()) {
            options.command = std::string(arg);
        } else {
            std::fprintf(stderr, "supervent-ctl: unexpected argument '%s'\n%s", argv[i], usage_text);
            return exit_usage;
        }
    }
    if (options.command.empty()) {
        std::fputs(usage_text, stderr);
        return exit_usage;
    }
    if (options.command != "status" && options.command != "stop" && options.command != "version") {
        std::fprintf(stderr, "supervent-ctl: unknown command '%s'\n%s", options.command.c_str(), usage_text);
        return exit_usage;
    }
    if (options.socket_path.empty()) options.socket_path = supervent::daemon::default_control_socket_path();
    return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    if (const int result = parse_options(argc, argv, options); result != exit_ok) return result;

    // `stop` waits for the daemon's answer, which comes once every batch in
    // flight has settled and carries the final counts.
    const bool stopping = options.command == "stop";
    supervent::daemon::JsonWriter request;
    request.begin_object().field("cmd", options.command);
    if (stopping) request.field("wait", true);
    request.end_object();
    const Reply reply = ask_daemon(options.socket_path, request.text(),
                                   stopping ? static_cast<int>(options.timeout_s * 1000) : 10'000);
    if (!reply.reached) {
        std::fprintf(stderr, "supervent-ctl: cannot reach superventd at %s: %s\n", options.socket_path.c_str(),
                     reply.error.c_str());
        return exit_unreachable;
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
    if (options.json) {
        std::printf("%s\n", reply.text.c_str());
    } else if (stopping) {
        std::printf("stopped: %s events acknowledged, %s failed, %s in flight\n",
                    with_commas(u64(document, "events_acked")).c_str(), with_commas(u64(document, "events_failed")).c_str(),
                    with_commas(u64(document, "events_in_flight")).c_str());
    } else if (options.command == "status") {
        print_status_table(document);
    } else {
        std::printf("superventd %s\n", std::string(str(document, "version")).c_str());
    }
    return exit_ok;
}
