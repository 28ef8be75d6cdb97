#pragma once
// The resolved settings of one superventd run: defaults, then the config file,
// then the command line, each overriding the one before. Everything the
// daemon needs to start comes from here.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/bounds.hpp"
#include "core/scenario.hpp"
#include "core/schema.hpp"

namespace supervent::config {

// syslog+tcp|tls|udp:// sinks: the URL's query options (docs/sinks/syslog.md).
struct SyslogUrlOptions {
    bool rfc3164 = false;          // ?format=rfc3164 (default rfc5424)
    bool newline_framing = false;  // ?framing=newline (tcp/tls; default octet-counting, rfc3164: newline)
    std::uint8_t facility = 1;     // ?facility=0..23 or a name (user)
    std::string hostname;          // ?hostname=: HOSTNAME of events without a host attribute; "" = this machine's
    std::string sd_id = "supervent@32473";  // ?sd_id=: the SD-ID attributes go under
};
// An HTTP log API by preset, chosen by the sink URL's scheme:
// elasticsearch+https://, loki+http://, … (config/sink_api.cpp, docs/sinks.md).
enum class SinkApi { axiom, elasticsearch, loki, splunk, otlp, datadog };

// Where batches go. Parsed from `--sink` / [sink] url.
struct SinkUrl {
    enum class Kind { http, https, file, stdout_stream, discard, postgresql, syslog_tcp, syslog_tls, syslog_udp };
    Kind kind = Kind::http;
    std::string host;          // http(s): host name or address literal (no brackets)
    std::uint16_t port = 0;    // http(s): 80/443 when not given
    // postgresql: host and port as above ("" = libpq's default); the rest is in `text` (config/postgres_url.hpp)
    std::string path_prefix;   // http(s): e.g. "" or "/proxy" (no trailing '/')
    std::string file_path;     // file: the path
    std::string text;          // as the user wrote it, for messages
    SyslogUrlOptions syslog;   // syslog+…: the query's options
    SinkApi api = SinkApi::axiom;  // http(s): which API's bodies and answers
    // The preset's ?key=value options, in order (checked by planning, per API).
    std::vector<std::pair<std::string, std::string>> api_options;
};

enum class ZeroCopyMode { automatic, on, off };

// What request bodies (or file lines) hold. [sink] format / --format.
enum class SinkFormat { ndjson, json, csv, text };

// The ingest path: /v1/datasets/{dataset}/ingest, or Axiom's edge form
// /v1/ingest/{dataset}. automatic = edge when the sink host is an Axiom
// edge deployment (*.edge.axiom.co).
enum class EdgeMode { automatic, on, off };

// Content-Encoding of request bodies (and the framing of file output).
struct Compression {
    bool zstd = false;
    int level = 1;  // zstd level; negative = fast modes (gzip: 1-9)
    bool gzip = false;  // Content-Encoding: gzip instead (--compression gzip[:LEVEL])
    // zstd:fast: level 1 with the advanced parameters tuned on web_access
    // (net::zstd_fast_profile_spec) instead of the plain level.
    bool zstd_fast = false;
};

struct Settings {
    // [runtime]
    std::uint32_t workers = 0;  // shards; 0 = one per online core
    std::uint32_t batch_events = bounds::batch_events_default;
    // Most body bytes (uncompressed, as rendered) per request; a batch ends
    // at batch_events or before the event that would pass this, whichever first.
    std::uint64_t batch_bytes_max = 10 * 1024 * 1024;
    bool pin_threads = true;
    double drain_timeout_s = 30;     // after stop/SIGTERM: settle in-flight batches within this, then fail them
    std::string socket_path;    // control socket; empty = no control socket
    std::string socket_group;   // group owning the control socket (name or number); "" = the daemon's own
    std::vector<std::uint32_t> socket_allowed_uids;  // besides root and the daemon's own uid
    std::vector<std::uint32_t> socket_allowed_gids;  // besides socket_group
    // Reload when the --config file changes (a Kubernetes ConfigMap update
    // swaps its directory's ..data symlink), as `supervent-ctl reload` does.
    bool watch_config = false;

    // [network]
    std::uint32_t connections = bounds::connections_per_shard_default;  // per shard
    ZeroCopyMode zero_copy = ZeroCopyMode::automatic;
    bool tcp_nodelay = true;
    // HTTP requests in flight per connection at most: the pipeline deepens
    // from 2 toward this while the sink is far (net/pipeline_depth.hpp).
    std::uint32_t pipeline_depth_max = bounds::http_pipeline_depth_max_default;
    // Local addresses (or interface names) to connect from, spread over the
    // connections round robin; empty = let the kernel choose.
    std::vector<std::string> bind;
    double connect_timeout_s = 5;    // a connect that takes longer is a failed attempt
    double request_timeout_s = 30;   // a request without a complete response by then is retried
    // A batch is retried for this long after its first failure (0 = for
    // ever) unless the sink refuses it for good: 10 minutes rides out a
    // deploy, a load balancer failover or a short regional incident.
    double retry_for_s = 600;

    // [generation]
    std::optional<double> rate_eps;  // events/s over all shards; nullopt = unlimited
    bool rate_unlimited = false;  // --rate unlimited given: live ignores the scenario's volume rate
    std::uint64_t events = 0;        // stop after this many; 0 = no limit
    double duration_s = 0;           // stop after this long; 0 = no limit
    // A fixed time window [start, end) for event times instead of the wall
    // clock (ns since the epoch; both set or neither). The run's events are
    // spread evenly over it, so a seed gives the same bytes every time.
    std::optional<std::int64_t> window_start_ns;
    std::optional<std::int64_t> window_end_ns;
    // Ignore the window (the scenario file's start/end too): timestamps are
    // now, and the scenario's event frequencies (or --rate) set the pace.
    bool live = false;
    std::uint64_t seed = 1;
    // --seed / generation.seed given. Without it a live run draws a random
    // seed at start (printed in the summary and status, so it can be
    // replayed); a backfill keeps seed 1, so the parts of a sharded backfill
    // and a resumed run agree without being told.
    bool seed_given = false;
    // --shard I/N / generation.shard: this process runs part I of N of the
    // run (config/shard_spec.hpp; "auto/N" takes I from the environment).
    // shard_index/shard_count are resolved from shard_spec at load.
    std::string shard_spec;
    std::uint32_t shard_index = 0;
    std::uint32_t shard_count = 1;
    // A backfill's checkpoint (--checkpoint / [generation] checkpoint): how
    // far every worker got, written every second; a run started with the same
    // file resumes from there (daemon/checkpoint.hpp). "" = none.
    std::string checkpoint_path;
    std::string scenario = "web_access";
    // [sources.NAME]: scenarios written in the config file, in file order,
    // each already checked by core::compile_source at load time. When any is
    // given the daemon runs the first one instead of `scenario` (which must
    // then stay at its default); several sources are scheduled with issue 6.
    std::vector<core::SourceSpec> sources;
    // Dependencies, live rates and shape, time zone of the [sources] above
    // (TOML [scenario] / the original YAML's top level).
    core::ScenarioSpec scenario_spec;
    // Multiplies every volume count (and live rate) of the scenario: 0.001
    // runs a scaled-down copy of a big backfill. 1 = as written.
    double scale = 1;
    // Things a loader accepted but that a user should hear about (keys at the
    // wrong level, ignored sections), each naming the file, line and key. The
    // daemon logs them as warnings once at start-up.
    std::vector<std::string> warnings;

    // [sink]
    // A local supervent-sink on its default port, so a bare `superventd` has somewhere to send.
    SinkUrl sink{SinkUrl::Kind::http, "127.0.0.1", 8080, "", "", "http://127.0.0.1:8080"};
    std::string dataset = "supervent";
    Compression compression;         // --compression none|zstd[:LEVEL]
    std::string token;               // secret: never log or echo it
    std::string token_file;          // --token-file / [sink] token_file; read when AXIOM_TOKEN is unset
    std::string token_source;        // where the token came from, for messages; empty = no token
    // https:// sinks: trust the CA certificates in this PEM file instead of
    // the system store (--ca-file / [sink] ca_file); empty = system store.
    std::string ca_file;
    // --tls-insecure-skip-verify / [sink] tls_skip_verify: no certificate or
    // host name checks at all. Off by default; the daemon warns loudly.
    bool tls_skip_verify = false;
    SinkFormat format = SinkFormat::ndjson;  // --format / [sink] format
    EdgeMode edge = EdgeMode::automatic;     // --edge / [sink] edge
    // --event-labels / [sink] event_labels: sent as X-Axiom-Event-Labels, in this order.
    std::vector<std::pair<std::string, std::string>> event_labels;
    // file: sinks: start a new file once this many bytes are written (0 =
    // never), keeping rotate_keep old ones as PATH.1 (newest) … PATH.N.
    std::uint64_t rotate_bytes = 0;
    std::uint32_t rotate_keep = 5;

    // [monitoring]
    bool progress = false;           // print a progress line to stderr
    std::uint32_t progress_interval_ms = 1000;
    std::string metrics_listen;      // Prometheus endpoint "HOST:PORT"; "" = off
    // A file holding the token that lets the dashboard pause, resume and set
    // the rate; "" = the dashboard is read-only.
    std::string dashboard_token_file;
    std::string log_level = "info";  // error, warning, notice, info, debug
    // auto (journal when stderr is the journal's stream, else plain), plain, journal, json
    std::string log_format = "auto";

    // Meta
    std::string config_path;         // the file the settings came from, if any
    bool check_config_only = false;  // --check-config
    bool check_config_json = false;  // --json: --check-config's summary as JSON
};

// A bad setting. what() names the source: "FILE:LINE: key.path: reason" for
// the config file, "--option: reason" for the command line.
struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Help requested (--help) or version (--version): the text to print, exit 0.
struct EarlyExit {
    std::string text;
};

}  // namespace supervent::config
