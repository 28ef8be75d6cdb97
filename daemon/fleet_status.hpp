#pragma once
// `supervent-ctl fleet status URL...`: one table for many superventd
// instances (the parts of a sharded run, several units on one host, the pods
// of a StatefulSet), read from each one's /api/status over HTTP (the
// metrics/dashboard listener, --metrics-listen). A small blocking HTTP/1.1
// GET client: it runs in supervent-ctl, never on a daemon's data path.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace supervent::daemon {

// Where to ask: "http://HOST:PORT[/PATH]", or "HOST:PORT" (http assumed);
// HOST may be an [IPv6] literal. No PATH (or "/") means /api/status.
struct StatusUrl {
    std::string host;
    std::string port;
    std::string path;
};
// nullopt with `error` set when `text` is not such a URL (https:// included:
// the listener speaks plain HTTP; put a proxy's URL with its http form).
[[nodiscard]] std::optional<StatusUrl> parse_status_url(std::string_view text, std::string& error);

struct HttpReply {
    bool reached = false;  // a complete HTTP response came back
    int status = 0;
    std::string body;
    std::string error;  // why not reached: refused, timed out, a bad reply
};

// GET url.path from url.host:url.port within timeout_ms (connect, send and
// read together); the body is bounded (bounds below) and may be chunked.
[[nodiscard]] HttpReply http_get(const StatusUrl& url, int timeout_ms);
inline constexpr std::size_t fleet_reply_bytes_max = 16u << 20;
inline constexpr std::size_t fleet_instances_max = 1024;

// One instance's row, from its status JSON (or why it has none).
struct FleetRow {
    std::string url;
    bool reachable = false;
    std::string error;
    std::string state;
    double rate = 0;  // events/s generated, as the instance measured it
    std::uint64_t generated = 0, acked = 0, failed = 0, in_flight = 0;
    std::optional<std::uint64_t> shard_index, shard_count;  // "shard": {"index", "count"}
    std::optional<std::uint64_t> seed;
    // A backfill's root events; absent for a live run.
    std::optional<std::uint64_t> roots_done, roots_total;
    std::optional<double> eta_s;
};

// Fills row's numbers from a status JSON object; false (with row.error) when
// `json` is not one.
bool read_fleet_row(std::string_view json, FleetRow& row);

// The lines of a --file list: one URL a line; blank lines and lines starting
// with '#' are skipped. Throws std::runtime_error naming the file.
[[nodiscard]] std::vector<std::string> read_url_list(const std::string& path);

// The table (or, with json, one object: {"instances": [...], "totals": {...}}).
[[nodiscard]] std::string render_fleet_table(const std::vector<FleetRow>& rows);
[[nodiscard]] std::string render_fleet_json(const std::vector<FleetRow>& rows);

// Asks every URL at once (a thread each), prints the table or the JSON on
// stdout. Returns 0 when every instance answered, 3 when any did not (its
// row says why).
int fleet_status(const std::vector<std::string>& urls, bool json, double timeout_s);

// `fleet status URL... [--file F]`: the URLs given, then F's; 2 (usage)
// with the reason on stderr when F cannot be read or there are too many.
int fleet_command(std::vector<std::string> urls, const std::string& file, bool json, double timeout_s);

// --instance NAME: the control socket of the unit superventd@NAME,
// /run/supervent/NAME.sock; "" with `error` set for a NAME that is not a
// plain unit instance name (a '/', a leading '.', over 64 characters).
[[nodiscard]] std::string instance_socket_path(const std::string& name, std::string& error);

}  // namespace supervent::daemon
