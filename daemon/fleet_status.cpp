#include "daemon/fleet_status.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "daemon/json_writer.hpp"
#include "daemon/text_format.hpp"

namespace supervent::daemon {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::max<long long>(0, left));
}

// A non-blocking connect to the first address that answers before the deadline.
int connect_to(const StatusUrl& url, Clock::time_point deadline, std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int failed = ::getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found); failed != 0) {
        error = std::string("cannot resolve ") + url.host + ": " + ::gai_strerror(failed);
        return -1;
    }
    int fd = -1;
    error = "no address";
    for (addrinfo* address = found; address != nullptr && fd < 0; address = address->ai_next) {
        fd = ::socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, address->ai_protocol);
        if (fd < 0) continue;
        int result = ::connect(fd, address->ai_addr, address->ai_addrlen);
        if (result != 0 && errno == EINPROGRESS) {
            pollfd waiter{fd, POLLOUT, 0};
            int socket_error = ETIMEDOUT;
            if (::poll(&waiter, 1, remaining_ms(deadline)) > 0) {
                socklen_t length = sizeof socket_error;
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &socket_error, &length);
            }
            result = socket_error == 0 ? 0 : -1;
            errno = socket_error;
        }
        if (result != 0) {
            error = std::string("connect: ") + std::strerror(errno);
            ::close(fd);
            fd = -1;
        }
    }
    ::freeaddrinfo(found);
    return fd;
}

bool send_all(int fd, std::string_view data, Clock::time_point deadline, std::string& error) {
    while (!data.empty()) {
        const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (sent > 0) {
            data.remove_prefix(static_cast<std::size_t>(sent));
            continue;
        }
        pollfd waiter{fd, POLLOUT, 0};
        if (sent < 0 && errno != EAGAIN) return error = std::string("send: ") + std::strerror(errno), false;
        if (::poll(&waiter, 1, remaining_ms(deadline)) <= 0) return error = "send timed out", false;
    }
    return true;
}

// Everything until the peer closes (the request says Connection: close).
bool receive_all(int fd, std::string& reply, Clock::time_point deadline, std::string& error) {
    char buffer[65536];
    for (;;) {
        const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
        if (got == 0) return true;
        if (got > 0) {
            reply.append(buffer, static_cast<std::size_t>(got));
            if (reply.size() > fleet_reply_bytes_max) return error = "reply larger than 16 MiB", false;
            continue;
        }
        if (errno != EAGAIN) return error = std::string("recv: ") + std::strerror(errno), false;
        pollfd waiter{fd, POLLIN, 0};
        if (::poll(&waiter, 1, remaining_ms(deadline)) <= 0) return error = "no complete reply in time", false;
    }
}

bool header_says(std::string_view head, std::string_view name_and_value) {
    std::string lower(head);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return lower.find(name_and_value) != std::string::npos;
}

// Transfer-Encoding: chunked, as a proxy in front of the listener may send.
bool dechunk(std::string_view body, std::string& out) {
    for (;;) {
        const std::size_t line_end = body.find("\r\n");
        if (line_end == std::string_view::npos) return false;
        const unsigned long size = std::strtoul(std::string(body.substr(0, line_end)).c_str(), nullptr, 16);
        body.remove_prefix(line_end + 2);
        if (size == 0) return true;
        if (body.size() < size + 2) return false;
        out.append(body.substr(0, size));
        body.remove_prefix(size + 2);
    }
}

bool parse_reply(const std::string& raw, HttpReply& reply) {
    const std::size_t head_end = raw.find("\r\n\r\n");
    int status = 0;
    if (head_end == std::string::npos || std::sscanf(raw.c_str(), "HTTP/1.%*d %d", &status) != 1) {
        reply.error = "not an HTTP response";
        return false;
    }
    const std::string_view head(raw.data(), head_end);
    const std::string_view body = std::string_view(raw).substr(head_end + 4);
    reply.status = status;
    if (header_says(head, "transfer-encoding: chunked")) {
        if (!dechunk(body, reply.body)) return reply.error = "a broken chunked body", false;
    } else {
        reply.body = body;
    }
    return true;
}

std::uint64_t u64_field(simdjson::dom::element object, const char* key) {
    std::uint64_t value = 0;
    return object[key].get_uint64().get(value) == simdjson::SUCCESS ? value : 0;
}

std::optional<std::uint64_t> optional_u64(simdjson::dom::element object, const char* key) {
    std::uint64_t value = 0;
    if (object[key].get_uint64().get(value) != simdjson::SUCCESS) return std::nullopt;
    return value;
}

}  // namespace

std::optional<StatusUrl> parse_status_url(std::string_view text, std::string& error) {
    if (text.starts_with("https://")) {
        error = "https is not supported: the status listener speaks plain HTTP";
        return std::nullopt;
    }
    if (text.starts_with("http://")) text.remove_prefix(7);
    const std::size_t slash = text.find('/');
    const std::string_view authority = text.substr(0, slash);
    StatusUrl url;
    url.path = slash == std::string_view::npos ? "" : std::string(text.substr(slash));
    if (url.path.empty() || url.path == "/") url.path = "/api/status";
    std::size_t colon = authority.rfind(':');
    if (authority.starts_with('[')) {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return error = "unclosed [ in the address", std::nullopt;
        url.host = std::string(authority.substr(1, close - 1));
        colon = close + 1 < authority.size() && authority[close + 1] == ':' ? close + 1 : std::string_view::npos;
    } else {
        url.host = std::string(authority.substr(0, colon));
    }
    url.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
    const bool digits = !url.port.empty() && url.port.size() <= 5 &&
                        std::all_of(url.port.begin(), url.port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (url.host.empty() || !digits) {
        error = "expected http://HOST:PORT[/PATH] or HOST:PORT";
        return std::nullopt;
    }
    return url;
}

HttpReply http_get(const StatusUrl& url, int timeout_ms) {
    HttpReply reply;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    const int fd = connect_to(url, deadline, reply.error);
    if (fd < 0) return reply;
    const bool v6 = url.host.find(':') != std::string::npos;
    const std::string request = "GET " + url.path + " HTTP/1.1\r\nHost: " + (v6 ? "[" + url.host + "]" : url.host) +
                                ":" + url.port + "\r\nAccept: application/json\r\nConnection: close\r\n" +
                                "User-Agent: supervent-ctl/" SUPERVENT_VERSION "\r\n\r\n";
    std::string raw;
    const bool done = send_all(fd, request, deadline, reply.error) && receive_all(fd, raw, deadline, reply.error);
    ::close(fd);
    if (done) reply.reached = parse_reply(raw, reply);
    return reply;
}

bool read_fleet_row(std::string_view json, FleetRow& row) {
    simdjson::dom::parser parser;
    simdjson::dom::element status;
    if (parser.parse(json.data(), json.size()).get(status) != simdjson::SUCCESS || !status.is_object()) {
        row.error = "the reply is not a status JSON object";
        return false;
    }
    std::string_view state;
    row.state = status["state"].get_string().get(state) == simdjson::SUCCESS ? std::string(state) : "?";
    double rate = 0;
    row.rate = status["rate_actual"].get_double().get(rate) == simdjson::SUCCESS ? rate : 0;
    row.generated = u64_field(status, "events_generated");
    row.acked = u64_field(status, "events_acked");
    row.failed = u64_field(status, "events_failed");
    row.in_flight = u64_field(status, "events_in_flight");
    row.seed = optional_u64(status, "seed");
    std::string_view seed_text;  // a 64-bit seed may come as a string (JavaScript reads numbers as doubles)
    if (!row.seed && status["seed"].get_string().get(seed_text) == simdjson::SUCCESS && !seed_text.empty() &&
        std::all_of(seed_text.begin(), seed_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        row.seed = std::strtoull(std::string(seed_text).c_str(), nullptr, 10);
    }
    simdjson::dom::element shard;
    if (status["shard"].get(shard) == simdjson::SUCCESS && shard.is_object()) {
        row.shard_index = optional_u64(shard, "index");
        row.shard_count = optional_u64(shard, "count");
    }
    simdjson::dom::element progress;
    if (status["progress"].get(progress) == simdjson::SUCCESS && progress.is_object()) {
        row.roots_done = u64_field(progress, "roots_done");
        row.roots_total = u64_field(progress, "roots_total");
        double eta = 0;
        if (progress["eta_s"].get_double().get(eta) == simdjson::SUCCESS) row.eta_s = eta;
    }
    return true;
}

std::vector<std::string> read_url_list(const std::string& path) {
    std::ifstream file(path);
    if (!file) throw std::runtime_error("--file " + path + ": cannot open: " + std::strerror(errno));
    std::vector<std::string> urls;
    for (std::string line; std::getline(file, line);) {
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        const auto last = line.find_last_not_of(" \t\r");
        urls.push_back(line.substr(first, last - first + 1));
    }
    if (urls.empty()) throw std::runtime_error("--file " + path + ": lists no URL (one a line)");
    return urls;
}

}  // namespace supervent::daemon

namespace supervent::daemon {

namespace {

// The fleet as one: sums, and the backfill's share over every part that has one.
struct FleetTotals {
    std::size_t reachable = 0;
    double rate = 0;
    std::uint64_t generated = 0, acked = 0, failed = 0, in_flight = 0;
    std::uint64_t roots_done = 0, roots_total = 0;
    bool backfill = false;
    std::optional<double> eta_s;  // the last part to finish; unknown while one has no ETA
    bool eta_unknown = false;
    std::optional<std::uint64_t> part_count;  // N, when every part says the same N
    std::size_t parts_seen = 0;
};

FleetTotals sum_rows(const std::vector<FleetRow>& rows) {
    FleetTotals total;
    bool counts_agree = true;
    for (const FleetRow& row : rows) {
        if (!row.reachable) continue;
        ++total.reachable;
        total.rate += row.rate;
        total.generated += row.generated;
        total.acked += row.acked;
        total.failed += row.failed;
        total.in_flight += row.in_flight;
        if (row.shard_count) {
            ++total.parts_seen;
            if (total.part_count && *total.part_count != *row.shard_count) counts_agree = false;
            total.part_count = row.shard_count;
        }
        if (!row.roots_total) continue;
        total.backfill = true;
        total.roots_done += std::min(*row.roots_done, *row.roots_total);
        total.roots_total += *row.roots_total;
        if (!row.eta_s) total.eta_unknown |= *row.roots_done < *row.roots_total;
        else total.eta_s = std::max(total.eta_s.value_or(0.0), *row.eta_s);
    }
    if (!counts_agree) total.part_count.reset();
    return total;
}

std::string duration_words(double seconds) {
    char text[32];
    const auto total = static_cast<long long>(seconds + 0.5);
    if (total >= 3600) std::snprintf(text, sizeof text, "%lldh%02lldm%02llds", total / 3600, total / 60 % 60, total % 60);
    else if (total >= 60) std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
    else std::snprintf(text, sizeof text, "%llds", total);
    return text;
}

std::string progress_words(std::uint64_t done, std::uint64_t all) {
    char text[16];
    std::snprintf(text, sizeof text, "%.1f %%", all > 0 ? 100.0 * double(done) / double(all) : 100.0);
    return text;
}

std::string part_words(const FleetRow& row) {
    if (!row.shard_index || !row.shard_count) return "-";
    return std::to_string(*row.shard_index) + "/" + std::to_string(*row.shard_count);
}

std::string rate_words(double rate) { return with_commas(static_cast<std::uint64_t>(rate + 0.5)); }

}  // namespace

std::string render_fleet_table(const std::vector<FleetRow>& rows) {
    std::size_t width = 8;
    for (const FleetRow& row : rows) width = std::max(width, row.url.size());
    const int w = static_cast<int>(width);
    std::string out;
    char line[1024];
    std::snprintf(line, sizeof line, "%-*s  %-9s %-7s %-20s %12s %15s %12s %12s %9s %10s\n", w, "instance", "state",
                  "part", "seed", "events/s", "acked", "failed", "in flight", "progress", "ETA");
    out += line;
    for (const FleetRow& row : rows) {
        if (!row.reachable) {
            std::snprintf(line, sizeof line, "%-*s  unreachable: %s\n", w, row.url.c_str(), row.error.c_str());
            out += line;
            continue;
        }
        const bool backfill = row.roots_total.has_value();
        std::snprintf(line, sizeof line, "%-*s  %-9s %-7s %-20s %12s %15s %12s %12s %9s %10s\n", w, row.url.c_str(),
                      row.state.c_str(), part_words(row).c_str(), row.seed ? std::to_string(*row.seed).c_str() : "-",
                      rate_words(row.rate).c_str(), with_commas(row.acked).c_str(), with_commas(row.failed).c_str(),
                      with_commas(row.in_flight).c_str(),
                      backfill ? progress_words(*row.roots_done, *row.roots_total).c_str() : "-",
                      !backfill ? "-" : row.eta_s ? duration_words(*row.eta_s).c_str() : "unknown");
        out += line;
    }
    const FleetTotals total = sum_rows(rows);
    const std::string parts = total.part_count ? std::to_string(total.parts_seen) + " of " + std::to_string(*total.part_count) : "-";
    const std::string label = "total (" + std::to_string(total.reachable) + " of " + std::to_string(rows.size()) + " reachable)";
    std::snprintf(line, sizeof line, "%-*s  %-9s %-7s %-20s %12s %15s %12s %12s %9s %10s\n", w, label.c_str(), "",
                  parts.c_str(), "", rate_words(total.rate).c_str(), with_commas(total.acked).c_str(),
                  with_commas(total.failed).c_str(), with_commas(total.in_flight).c_str(),
                  total.backfill ? progress_words(total.roots_done, total.roots_total).c_str() : "-",
                  !total.backfill ? "-" : (total.eta_unknown || !total.eta_s) ? "unknown" : duration_words(*total.eta_s).c_str());
    out += line;
    return out;
}

namespace {

template <typename T>
void optional_field(JsonWriter& json, std::string_view key, const std::optional<T>& value) {
    json.key(key);
    if (value) json.value(*value); else json.null();
}

void write_row_json(JsonWriter& json, const FleetRow& row) {
    json.begin_object().field("url", row.url).field("reachable", row.reachable);
    if (!row.reachable) {
        json.field("error", row.error).end_object();
        return;
    }
    json.field("state", row.state).field("rate", row.rate).field("events_generated", row.generated);
    json.field("events_acked", row.acked).field("events_failed", row.failed).field("events_in_flight", row.in_flight);
    json.key("shard");
    if (row.shard_index && row.shard_count) {
        json.begin_object().field("index", *row.shard_index).field("count", *row.shard_count).end_object();
    } else {
        json.null();
    }
    optional_field(json, "seed", row.seed);
    json.key("progress");
    if (row.roots_total) {
        json.begin_object().field("roots_done", *row.roots_done).field("roots_total", *row.roots_total);
        optional_field(json, "eta_s", row.eta_s);
        json.end_object();
    } else {
        json.null();
    }
    json.end_object();
}

}  // namespace

std::string render_fleet_json(const std::vector<FleetRow>& rows) {
    JsonWriter json;
    json.begin_object().key("instances").begin_array();
    for (const FleetRow& row : rows) write_row_json(json, row);
    json.end_array();
    const FleetTotals total = sum_rows(rows);
    json.key("totals").begin_object().field("instances", std::uint64_t{rows.size()});
    json.field("reachable", std::uint64_t{total.reachable}).field("rate", total.rate);
    json.field("events_generated", total.generated).field("events_acked", total.acked);
    json.field("events_failed", total.failed).field("events_in_flight", total.in_flight);
    optional_field(json, "parts", total.part_count);
    json.key("progress");
    if (total.backfill) {
        json.begin_object().field("roots_done", total.roots_done).field("roots_total", total.roots_total);
        json.field("fraction", total.roots_total > 0 ? double(total.roots_done) / double(total.roots_total) : 1.0);
        if (total.eta_unknown) json.key("eta_s").null(); else optional_field(json, "eta_s", total.eta_s);
        json.end_object();
    } else {
        json.null();
    }
    json.end_object().end_object();
    return json.take() + "\n";
}

int fleet_status(const std::vector<std::string>& urls, bool json, double timeout_s) {
    std::vector<FleetRow> rows(urls.size());
    std::vector<std::thread> askers;
    const int timeout_ms = static_cast<int>(timeout_s * 1000);
    for (std::size_t i = 0; i < urls.size(); ++i) {
        rows[i].url = urls[i];
        askers.emplace_back([&row = rows[i], timeout_ms] {
            const std::optional<StatusUrl> url = parse_status_url(row.url, row.error);
            if (!url) return;
            const HttpReply reply = http_get(*url, timeout_ms);
            if (!reply.reached) row.error = reply.error;
            else if (reply.status != 200) row.error = "HTTP " + std::to_string(reply.status) + " from " + url->path;
            else row.reachable = read_fleet_row(reply.body, row);
        });
    }
    for (std::thread& asker : askers) asker.join();
    const std::string text = json ? render_fleet_json(rows) : render_fleet_table(rows);
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    const bool all = std::all_of(rows.begin(), rows.end(), [](const FleetRow& row) { return row.reachable; });
    return all ? 0 : 3;
}

int fleet_command(std::vector<std::string> urls, const std::string& file, bool json, double timeout_s) {
    try {
        if (!file.empty()) {
            for (std::string& url : read_url_list(file)) urls.push_back(std::move(url));
        }
    } catch (const std::exception& failure) {
        std::fprintf(stderr, "supervent-ctl: %s\n", failure.what());
        return 2;
    }
    if (urls.size() > fleet_instances_max) {
        std::fprintf(stderr, "supervent-ctl: fleet status: at most %zu instances\n", fleet_instances_max);
        return 2;
    }
    return fleet_status(urls, json, timeout_s);
}

std::string instance_socket_path(const std::string& name, std::string& error) {
    const bool plain = std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '@' || c == ':';
    });
    if (name.empty() || !plain || name.front() == '.' || name.size() > 64) {
        error = "--instance '" + name + "': expected a unit instance name (letters, digits, '-', '_', '.', '@', ':'; at most 64)";
        return {};
    }
    return "/run/supervent/" + name + ".sock";
}

}  // namespace supervent::daemon
