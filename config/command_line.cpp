// superventd's command line. Order of precedence: defaults, then the
// --config file, then every other option — wherever --config appears — so a
// wrapper script can add `--config` at the end without undoing overrides.
#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

#include "config/builtin_scenario.hpp"
#include "config/load.hpp"
#include "config/shard_spec.hpp"
#include "config/sink_values.hpp"
#include "config/values.hpp"
#include "config/scenario_rules.hpp"
#include "config/yaml_load.hpp"

#ifndef SUPERVENT_VERSION
#error "SUPERVENT_VERSION must be defined by the build (config/CMakeLists.txt)"
#endif

namespace supervent::config {

namespace {

using detail::concat;
using detail::quoted;
using detail::ValueError;

using ApplyOption = void (*)(Settings&, std::string_view value);

struct OptionSpec {
    std::string_view name;
    std::string_view value_name;  // empty: a flag that takes no value
    ApplyOption apply;            // nullptr: handled before the others (--config, --help, --version)
};

constexpr std::array options{
    OptionSpec{"--config", "FILE", nullptr},
    OptionSpec{"--check-config", "", [](Settings& s, std::string_view) { s.check_config_only = true; }},
    OptionSpec{"--json", "", [](Settings& s, std::string_view) { s.check_config_json = true; }},
    OptionSpec{"--sink", "URL", [](Settings& s, std::string_view v) { s.sink = detail::parse_sink(v); }},
    OptionSpec{"--dataset", "NAME", [](Settings& s, std::string_view v) { s.dataset = detail::check_dataset(v); }},
    OptionSpec{"--compression", "none|zstd[:LEVEL|:fast]|gzip[:LEVEL]",
               [](Settings& s, std::string_view v) { s.compression = detail::parse_compression(v); }},
    OptionSpec{"--token-file", "FILE",
               [](Settings& s, std::string_view v) { s.token_file = detail::check_token_file(v); }},
    OptionSpec{"--ca-file", "PATH", [](Settings& s, std::string_view v) { s.ca_file = detail::check_ca_file(v); }},
    OptionSpec{"--tls-insecure-skip-verify", "", [](Settings& s, std::string_view) { s.tls_skip_verify = true; }},
    OptionSpec{"--format", "ndjson|json|csv|text",
               [](Settings& s, std::string_view v) { s.format = detail::parse_format(v); }},
    OptionSpec{"--edge", "", [](Settings& s, std::string_view) { s.edge = EdgeMode::on; }},
    OptionSpec{"--event-labels", "NAME=VALUE[,...]",
               [](Settings& s, std::string_view v) { s.event_labels = detail::parse_event_labels(v); }},
    OptionSpec{"--rotate-bytes", "SIZE",
               [](Settings& s, std::string_view v) {
                   s.rotate_bytes = detail::check_rotate_bytes(detail::parse_byte_size(v));
               }},
    OptionSpec{"--rotate-keep", "N",
               [](Settings& s, std::string_view v) {
                   s.rotate_keep = detail::parse_uint32_in(v, detail::rotate_keep_range);
               }},
    OptionSpec{"--rate", "N|unlimited", [](Settings& s, std::string_view v) {
                   s.rate_eps = detail::parse_rate(v);
                   s.rate_unlimited = !s.rate_eps;
               }},
    OptionSpec{"--events", "N", [](Settings& s, std::string_view v) { s.events = detail::parse_uint(v); }},
    OptionSpec{"--duration", "TIME",
               [](Settings& s, std::string_view v) { s.duration_s = detail::parse_duration(v); }},
    OptionSpec{"--seed", "N",
               [](Settings& s, std::string_view v) {
                   s.seed = detail::parse_uint(v);
                   s.seed_given = true;
               }},
    OptionSpec{"--shard", "I/N",
               [](Settings& s, std::string_view v) {
                   (void)parse_shard_spec(v);  // the syntax now; "auto" is resolved with the environment
                   s.shard_spec = std::string(v);
               }},
    OptionSpec{"--checkpoint", "PATH",
               [](Settings& s, std::string_view v) { s.checkpoint_path = detail::check_checkpoint_path(v); }},
    OptionSpec{"--scale", "F",
               [](Settings& s, std::string_view v) {
                   double factor = 0;
                   const auto [end, error] = std::from_chars(v.data(), v.data() + v.size(), factor);
                   if (v.empty() || error != std::errc{} || end != v.data() + v.size()) {
                       throw ValueError(concat("expected a factor such as 0.001, got ", quoted(v)));
                   }
                   s.scale = check_scale(factor);
               }},
    OptionSpec{"--scenario", "NAME",
               [](Settings& s, std::string_view v) { s.scenario = detail::check_scenario(v); }},
    OptionSpec{"--timezone", "TZ", [](Settings& s, std::string_view v) { s.scenario_spec.timezone = std::string(v); }},
    OptionSpec{"--start", "TIME",
               [](Settings& s, std::string_view v) { s.window_start_ns = detail::parse_rfc3339_ns(v); }},
    OptionSpec{"--end", "TIME", [](Settings& s, std::string_view v) { s.window_end_ns = detail::parse_rfc3339_ns(v); }},
    OptionSpec{"--workers", "N",
               [](Settings& s, std::string_view v) { s.workers = detail::parse_uint32_in(v, detail::workers_range); }},
    OptionSpec{"--batch-events", "N",
               [](Settings& s, std::string_view v) {
                   s.batch_events = detail::parse_uint32_in(v, detail::batch_events_range);
               }},
    OptionSpec{"--batch-bytes", "SIZE",
               [](Settings& s, std::string_view v) {
                   s.batch_bytes_max = detail::check_batch_bytes(detail::parse_byte_size(v));
               }},
    OptionSpec{"--connections", "N",
               [](Settings& s, std::string_view v) {
                   s.connections = detail::parse_uint32_in(v, detail::connections_range);
               }},
    OptionSpec{"--pipeline-max", "N",
               [](Settings& s, std::string_view v) {
                   s.pipeline_depth_max = detail::parse_uint32_in(v, detail::pipeline_depth_range);
               }},
    OptionSpec{"--zero-copy", "auto|on|off",
               [](Settings& s, std::string_view v) { s.zero_copy = detail::parse_zero_copy(v); }},
    OptionSpec{"--bind", "ADDR[,ADDR...]",
               [](Settings& s, std::string_view v) { s.bind = detail::parse_bind_list(v); }},
    OptionSpec{"--connect-timeout", "TIME",
               [](Settings& s, std::string_view v) { s.connect_timeout_s = detail::parse_timeout(v); }},
    OptionSpec{"--request-timeout", "TIME",
               [](Settings& s, std::string_view v) { s.request_timeout_s = detail::parse_timeout(v); }},
    OptionSpec{"--retry-for", "TIME",
               [](Settings& s, std::string_view v) { s.retry_for_s = detail::parse_duration(v); }},
    OptionSpec{"--drain-timeout", "TIME",
               [](Settings& s, std::string_view v) { s.drain_timeout_s = detail::parse_timeout(v); }},
    OptionSpec{"--no-pin", "", [](Settings& s, std::string_view) { s.pin_threads = false; }},
    OptionSpec{"--socket", "PATH",
               [](Settings& s, std::string_view v) { s.socket_path = detail::check_socket_path(v); }},
    OptionSpec{"--socket-group", "GROUP",
               [](Settings& s, std::string_view v) { s.socket_group = detail::check_group(v); }},
    OptionSpec{"--progress", "", [](Settings& s, std::string_view) { s.progress = true; }},
    OptionSpec{"--watch-config", "", [](Settings& s, std::string_view) { s.watch_config = true; }},
    OptionSpec{"--live", "", [](Settings& s, std::string_view) { s.live = true; }},
    OptionSpec{"--metrics-listen", "HOST:PORT",
               [](Settings& s, std::string_view v) { s.metrics_listen = detail::check_listen(v); }},
    OptionSpec{"--log-level", "LEVEL",
               [](Settings& s, std::string_view v) { s.log_level = detail::check_log_level(v); }},
    OptionSpec{"--log-format", "FORMAT",
               [](Settings& s, std::string_view v) { s.log_format = detail::check_log_format(v); }},
    OptionSpec{"--help", "", nullptr},
    OptionSpec{"--version", "", nullptr},
};

// One option as given, after `--opt=value` / `--opt value` are told apart.
struct Given {
    const OptionSpec* spec = nullptr;
    std::string_view value;
};

std::vector<std::string_view> option_names() {
    std::vector<std::string_view> names;
    for (const auto& option : options) {
        names.push_back(option.name);
    }
    return names;
}

[[noreturn]] void throw_unknown_option(std::string_view name) {
    if (name == "--token") {
        throw ConfigError(
            "--token: the token is never taken from the command line (other users can read it in ps); "
            "set AXIOM_TOKEN, use --token-file FILE or a systemd credential named axiom-token");
    }
    throw ConfigError(concat("unknown option ", quoted(name), detail::did_you_mean(name, option_names()),
                             "; see superventd --help"));
}

const OptionSpec& find_option(std::string_view name) {
    const auto spec = std::ranges::find(options, name, &OptionSpec::name);
    if (spec == options.end()) {
        throw_unknown_option(name);
    }
    return *spec;
}

// Splits argv into options and values; checks names and arity, not values.
std::vector<Given> split_arguments(int argc, const char* const* argv) {
    std::vector<Given> given;
    for (int index = 1; index < argc; ++index) {
        const std::string_view argument = argv[index];
        if (argument == "-h") {
            given.push_back({&find_option("--help"), {}});
            continue;
        }
        if (!argument.starts_with("--")) {
            throw ConfigError(concat("unexpected argument ", quoted(argument),
                                     "; options start with '--' (see superventd --help)"));
        }
        const auto equals = argument.find('=');
        const auto& spec = find_option(argument.substr(0, equals));
        if (spec.value_name.empty()) {
            if (equals != std::string_view::npos) {
                throw ConfigError(concat(spec.name, ": takes no value"));
            }
            given.push_back({&spec, {}});
            continue;
        }
        if (equals != std::string_view::npos) {
            given.push_back({&spec, argument.substr(equals + 1)});
            continue;
        }
        // `--sink --dataset x` is a forgotten value, not a sink named "--dataset".
        if (index + 1 >= argc || std::string_view{argv[index + 1]}.starts_with("--")) {
            throw ConfigError(concat(spec.name, ": needs a value (", spec.value_name, ")"));
        }
        given.push_back({&spec, argv[++index]});
    }
    return given;
}

const Given* find_given(const std::vector<Given>& given, std::string_view name) {
    const auto found = std::ranges::find_if(given, [&](const Given& g) { return g.spec->name == name; });
    return found == given.end() ? nullptr : &*found;
}

std::optional<EarlyExit> early_exit(const std::vector<Given>& given) {
    for (const auto& option : given) {
        if (option.spec->name == "--help") return EarlyExit{daemon_help_text()};
        if (option.spec->name == "--version") return EarlyExit{concat("superventd ", SUPERVENT_VERSION, "\n")};
    }
    return std::nullopt;
}

Settings load_config_option(const std::vector<Given>& given) {
    const auto count = std::ranges::count_if(given, [](const Given& g) { return g.spec->name == "--config"; });
    if (count > 1) {
        throw ConfigError("--config: given more than once; superventd reads one config file");
    }
    const auto* config = find_given(given, "--config");
    if (config == nullptr) {
        return Settings{};
    }
    if (config->value.empty()) {
        throw ConfigError("--config: needs a file name");
    }
    return load_config_file(std::string(config->value));
}

void apply_option(Settings& settings, const Given& option) {
    try {
        option.spec->apply(settings, option.value);
    } catch (const ValueError& error) {
        throw ConfigError(concat(option.spec->name, ": ", error.what()));
    }
}

Settings resolve(const std::vector<Given>& given, const GetEnv& get_env) {
    auto settings = load_config_option(given);
    for (const auto& option : given) {
        if (option.spec->apply != nullptr) {
            apply_option(settings, option);
        }
    }
    apply_builtin_scenario(settings);  // before --scale, which scales its volumes and rates too
    apply_scale(settings);
    resolve_shard(settings, get_env);
    resolve_token(settings, get_env);
    return settings;
}

// Belt and braces: should a user paste the token where a value belongs
// (`--dataset $AXIOM_TOKEN`), the message quoting that value must not leak it.
std::string redacted(std::string message, const char* token) {
    const std::string_view secret = token == nullptr ? "" : token;
    if (secret.size() < 4) {
        return message;  // too short to be a token; redacting would mangle ordinary words
    }
    for (auto at = message.find(secret); at != std::string::npos; at = message.find(secret, at)) {
        message.replace(at, secret.size(), "<redacted>");
    }
    return message;
}

}  // namespace

std::variant<Settings, EarlyExit> resolve_daemon_settings(int argc, const char* const* argv,
                                                          const GetEnv& get_env) {
    try {
        const auto given = split_arguments(argc, argv);
        if (auto exit = early_exit(given)) {
            return *exit;
        }
        return resolve(given, get_env);
    } catch (const ConfigError& error) {
        throw ConfigError(redacted(error.what(), get_env("AXIOM_TOKEN")));
    }
}

Settings reload_daemon_settings(int argc, const char* const* argv, const GetEnv& get_env,
                                const std::string& config_path) {
    try {
        const auto given = split_arguments(argc, argv);
        if (config_path.empty()) return resolve(given, get_env);
        auto settings = load_config_file(config_path);
        for (const auto& option : given) {
            if (option.spec->apply != nullptr) apply_option(settings, option);
        }
        apply_builtin_scenario(settings);
        apply_scale(settings);
        resolve_shard(settings, get_env);
        resolve_token(settings, get_env);
        return settings;
    } catch (const ConfigError& error) {
        throw ConfigError(redacted(error.what(), get_env("AXIOM_TOKEN")));
    }
}

std::string daemon_help_text() {
    return concat(
        "Usage: superventd [OPTION]...\n"
        "\n"
        "Generate realistic synthetic log events and ship them to an Axiom-compatible\n"
        "ingest endpoint, a file or standard output, as fast as allowed.\n"
        "\n"
        "Settings come from built-in defaults, then the --config file, then the other\n"
        "options, which override the file wherever they stand on the command line.\n"
        "Every option with a value takes it as '--opt VALUE' or '--opt=VALUE'; when an\n"
        "option is given twice, the last one counts.\n"
        "\n"
        "Configuration:\n"
        "  --config FILE           read settings from the TOML file FILE (every key is\n"
        "                          documented in superventd.example.toml; [sources.NAME]\n"
        "                          scenarios in scenario.example.toml), or from a\n"
        "                          scenario file of the original tool when FILE ends\n"
        "                          in .yaml or .yml (supervent-ctl convert prints its\n"
        "                          TOML)\n"
        "  --check-config          check the settings, print a summary and exit: 0 when\n"
        "                          they are valid, 2 with the reason when not\n"
        "  --json                  with --check-config: the summary, or the error, as\n"
        "                          one JSON object on standard output\n"
        "\n"
        "Sink:\n"
        "  --sink URL              where events go (default http://127.0.0.1:8080):\n"
        "      http://HOST[:PORT][/PREFIX]    the Axiom ingest API; IPv6 as\n"
        "                                     http://[::1]:8080\n"
        "      https://HOST[:PORT][/PREFIX]   the same over TLS 1.2/1.3 (port 443),\n"
        "                                     e.g. https://api.axiom.co\n"
        "      file:PATH                      events written to PATH\n"
        "      stdout:                        events on standard output\n"
        "      discard:                       generated, then dropped\n"
        "      postgresql://USER@HOST[:PORT]/DB?table=NAME\n"
        "                                     rows COPYed into a PostgreSQL table, one\n"
        "                                     transaction per batch; the password from\n"
        "                                     PGPASSFILE, ~/.pgpass or passfile=PATH,\n"
        "                                     never the URL (docs/sinks/postgresql.md);\n"
        "                                     &columns=typed: a typed column per field,\n"
        "                                     &unlogged=true: UNLOGGED tables\n"
        "      syslog+tcp://HOST[:PORT][?OPTS] syslog over TCP (port 514), RFC 5424\n"
        "      syslog+tls://HOST[:PORT][?OPTS] the same over TLS, RFC 5425 (port 6514)\n"
        "      syslog+udp://HOST[:PORT][?OPTS] one message per datagram (port 514)\n"
        "          OPTS: format=rfc5424|rfc3164, framing=octet-counting|newline,\n"
        "          facility=N|NAME, hostname=NAME, sd_id=NAME@NUMBER (&-separated)\n"
        "      API+http(s)://HOST[:PORT][/PREFIX][?OPTIONS]   an HTTP log API: API is\n"
        "                                     elasticsearch, opensearch, loki, splunk,\n"
        "                                     otlp or datadog (docs/sinks.md)\n"
        "          splunk+…?ack=true[&ack_interval=1s&ack_timeout=60s]: a batch is\n"
        "          acknowledged once HEC's indexer acknowledgement says so\n"
        "          otlp+…?encoding=protobuf: protobuf bodies instead of JSON\n"
        "  --dataset NAME          dataset to ingest into (default supervent); letters,\n"
        "                          digits, '.', '_' and '-', at most ",
        bounds::dataset_name_bytes_max,
        " bytes\n"
        "  --compression none|zstd[:LEVEL|:fast]|gzip[:LEVEL]\n"
        "                          compress request bodies (Content-Encoding: zstd) and\n"
        "                          file output (concatenated zstd frames); LEVEL -7..19,\n"
        "                          negative is faster (default none); zstd means\n"
        "                          zstd:fast, level 1 tuned for logs;\n"
        "                          gzip[:LEVEL] (1..9, default 1) for the HTTP log APIs\n"
        "                          that take no zstd (docs/sinks.md)\n"
        "  --token-file FILE       read the Axiom API token from FILE (one line); used\n"
        "                          when AXIOM_TOKEN is not set\n"
        "  --ca-file PATH          https: trust the CA certificates in the PEM file PATH\n"
        "                          instead of the system store (/etc/ssl/certs)\n"
        "  --tls-insecure-skip-verify\n"
        "                          https: check neither the certificate nor the host\n"
        "                          name (tests only: anyone could read the token)\n"
        "  --format ndjson|json|csv|text\n"
        "                          request bodies as NDJSON (default), one JSON array,\n"
        "                          or CSV with a header line; text (the message alone\n"
        "                          per line) is for file: and stdout: sinks\n"
        "  --edge                  use Axiom's edge ingest path /v1/ingest/DATASET (the\n"
        "                          default for hosts *.edge.axiom.co)\n"
        "  --event-labels NAME=VALUE[,NAME=VALUE...]\n"
        "                          labels Axiom adds to every event (sent as the header\n"
        "                          X-Axiom-Event-Labels)\n"
        "  --rotate-bytes SIZE     file: sinks: move PATH to PATH.1 (PATH.1 to PATH.2,\n"
        "                          ...) once SIZE bytes are in it, e.g. 100MiB (default\n"
        "                          0: never); a batch is never split over two files\n"
        "  --rotate-keep N         rotated files to keep (1 to 1000; default 5)\n"
        "\n"
        "Generation:\n"
        "  --rate N|unlimited      events per second over all workers (default: live,\n"
        "                          the scenario's volume over its window; else\n"
        "                          unlimited); with --shard, over all parts: each part\n"
        "                          runs 1/N of it\n"
        "  --events N              stop after N events, once every one is acknowledged\n"
        "                          (default 0: no limit)\n"
        "  --duration TIME         stop after TIME: seconds, or a duration such as 30s,\n"
        "                          5m, 1h30m or 250ms (default 0: no limit)\n"
        "  --seed N                seed of the generators: the same seed gives the same\n"
        "                          events (default: 1 for a backfill; a live run draws\n"
        "                          one at random and prints it in the summary and status)\n"
        "  --shard I/N             run part I of N (0 <= I < N) of the run: a backfill's\n"
        "                          root events (with their dependents) are split between\n"
        "                          the parts, whose union is exactly the one-process run;\n"
        "                          live, each part runs 1/N of the rate. auto/N takes I\n"
        "                          from JOB_COMPLETION_INDEX, SUPERVENT_SHARD_INDEX or\n"
        "                          the -<ordinal> ending HOSTNAME\n"
        "  --scenario NAME         run a built-in scenario (default web_access):\n"
        "                          nginx_access, apache_error, syslog_rfc5424,\n"
        "                          syslog_rfc3164, k8s_container, app_json, otel_logs,\n"
        "                          cloudtrail, vpc_flow, payments; supervent-ctl\n"
        "                          sources --builtin lists them and prints one's TOML\n"
        "                          to copy (docs/scenarios.md); --format text with a\n"
        "                          file: or stdout: sink writes the lines alone\n"
        "  --scale F               multiply the scenario's volume counts and live rates\n"
        "                          by F (0 < F <= 1000000; counts round to the nearest,\n"
        "                          at least 1): --scale 0.001 runs a thousandth of it\n"
        "  --timezone TZ           time zone of the scenario's days (weekday, weekend,\n"
        "                          business hours) and of times in messages, with its\n"
        "                          real offset: an IANA name such as Europe/Berlin\n"
        "                          or an offset such as +02:00 (default UTC)\n"
        "  --start TIME, --end TIME\n"
        "                          spread the event times evenly over this RFC 3339\n"
        "                          window (e.g. 2026-01-01T00:00:00Z) instead of using\n"
        "                          the clock; needs --events. With a fixed seed and\n"
        "                          window the events are the same every time, whatever\n"
        "                          the worker count or --shard split (only the order\n"
        "                          changes)\n"
        "  --live                  ignore any window (a scenario file's start_time and\n"
        "                          end_time too): timestamps are now, at the rate of\n"
        "                          --rate or the scenario's event frequencies\n"
        "  --checkpoint PATH       backfill only: record every second how far each\n"
        "                          worker's batches are settled and which failed;\n"
        "                          started again with the same PATH (after a crash, a\n"
        "                          kill or failed batches), the run resumes there and\n"
        "                          sends the failed batches again, no acknowledged one.\n"
        "                          Batches settled in the last second or in flight at\n"
        "                          the kill may be sent twice, none is lost\n"
        "\n"
        "Performance:\n"
        "  --workers N             worker threads, each with its own io_uring ring and\n"
        "                          connections (0 to ",
        bounds::workers_max,
        "; default 0: one per online CPU)\n"
        "  --batch-events N        events per ingest request (1 to ",
        bounds::batch_events_max, "; default ", bounds::batch_events_default,
        ")\n"
        "  --batch-bytes SIZE      most uncompressed body bytes per request, e.g. 4MiB\n"
        "                          (64KiB to 256MiB; default 10MiB)\n"
        "  --connections N         keep-alive connections per worker (1 to ",
        bounds::connections_per_shard_max, "; default ", bounds::connections_per_shard_default,
        ")\n"
        "  --pipeline-max N        HTTP requests in flight per connection at most\n"
        "                          (1 to ", bounds::http_pipeline_depth_limit, "; default ", bounds::http_pipeline_depth_max_default,
        "): the pipeline deepens from 2\n"
        "                          toward it while the sink is far (answers' latency);\n"
        "                          each step past 2 costs a send slot per connection\n"
        "  --zero-copy auto|on|off zero-copy sends (io_uring SEND_ZC): auto uses them\n"
        "                          where the kernel has them, on refuses to start without\n"
        "                          them, off never uses them (default auto)\n"
        "  --bind ADDR[,ADDR...]   connect from these local addresses (or the addresses\n"
        "                          of these interfaces), spreading connections over\n"
        "                          them round robin: one per NIC to use several NICs\n"
        "  --connect-timeout TIME  give up on a connect after TIME (default 5s)\n"
        "  --request-timeout TIME  retry a request with no complete response after TIME\n"
        "                          (default 30s)\n"
        "  --retry-for TIME        retry a batch the sink did not take (unreachable,\n"
        "                          5xx, 429, timeouts) for TIME after its first\n"
        "                          failure, backing off up to 10s; 0 = for ever\n"
        "                          (default 10m)\n"
        "  --no-pin                do not pin worker threads to CPUs\n"
        "\n"
        "Operation:\n"
        "  --drain-timeout TIME    after stop or SIGTERM, how long batches in flight may\n"
        "                          take to settle before they are counted as failed\n"
        "                          (default 30s)\n"
        "  --socket PATH           listen for supervent-ctl on the Unix socket PATH\n"
        "                          (default: /run/supervent/superventd.sock as root,\n"
        "                          else $XDG_RUNTIME_DIR/supervent/superventd.sock)\n"
        "  --socket-group GROUP    group of the control socket (mode 0660); its members\n"
        "                          may use supervent-ctl (default: the daemon's group)\n"
        "  --watch-config          reload the --config file whenever it changes (an\n"
        "                          edit, or a Kubernetes ConfigMap update), validated\n"
        "                          as by supervent-ctl reload: a bad file is refused\n"
        "                          and logged, the run goes on unchanged\n"
        "  --progress              print a progress line to standard error (every\n"
        "                          monitoring.progress_interval_ms, default 1000 ms)\n"
        "  --metrics-listen HOST:PORT\n"
        "                          serve Prometheus metrics at http://HOST:PORT/metrics;\n"
        "                          a bare PORT means 127.0.0.1:PORT (default: off)\n"
        "  --log-level LEVEL       error, warning, notice, info or debug (default info)\n"
        "  --log-format FORMAT     plain, journal (each line prefixed <3>..<7> for\n"
        "                          journald), json (an object a line) or auto (default:\n"
        "                          journal when stderr is the journal, else plain)\n"
        "  -h, --help              print this help and exit\n"
        "  --version               print the version and exit\n"
        "\n"
        "Signals:\n"
        "  SIGTERM, SIGINT         stop generating, settle every batch in flight, exit\n"
        "  SIGHUP                  reload the --config file: validated first (an invalid\n"
        "                          file changes nothing); live settings (rate, events,\n"
        "                          duration, progress, log level) apply at once\n"
        "\n"
        "Control: supervent-ctl status|watch|pause|resume|rate|set|reload|sources|\n"
        "stop|version over the --socket (see supervent-ctl --help).\n"
        "\n"
        "Environment:\n"
        "  AXIOM_TOKEN             the Axiom API token; wins over --token-file\n"
        "  CREDENTIALS_DIRECTORY   set by systemd: with neither of the above, the\n"
        "                          token is read from its credential 'axiom-token'\n"
        "                          (LoadCredential=axiom-token:PATH in the unit)\n"
        "\n"
        "The token is never accepted on the command line or in the config file, and\n"
        "never printed.\n"
        "\n"
        "Exit status: 0 when the run ended with every event acknowledged (or the\n"
        "settings are valid, with --check-config); non-zero otherwise, with the reason\n"
        "on standard error.\n"
        "\n"
        "See docs/configuration.md for the config file and every setting.\n");
}

}  // namespace supervent::config
