#include "sink/options.hpp"

#include <charconv>

namespace supervent::sink {
namespace {

constexpr unsigned threads_max = 256;
constexpr std::uint64_t delay_ms_max = 60'000;
// Bodies are held in memory, and 16x this bounds decompression: keep both sane.
constexpr std::uint64_t max_body_bytes_limit = 4ull << 30;

std::uint64_t parse_number(std::string_view option, std::string_view text, std::uint64_t max) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > max) {
        throw UsageError(std::string(option) + ": expected a whole number up to " + std::to_string(max) + ", got '" +
                         std::string(text) + "'");
    }
    return value;
}

}  // namespace

const char* usage_text() noexcept {
    return R"(Usage: supervent-sink [OPTIONS]

An Axiom-compatible HTTP/1.1 (or HTTPS) ingest receiver for tests, benchmarks
and demos.
Answers POST /v1/datasets/{dataset}/ingest and POST /v1/ingest/{dataset}
(NDJSON, JSON array or CSV bodies; zstd or gzip encoded) and GET /stats.

Options:
  --listen HOST:PORT      address to listen on (default 127.0.0.1:8080);
                          port 0 picks a free port; IPv6 as [::1]:PORT
  --port-file FILE        write the port actually bound to FILE
  --threads N             I/O threads (default 1)
  --verify                parse every event with simdjson; invalid events are
                          reported in "failed"/"failures" and counted
  --max-body-bytes SIZE   largest request body as received (default 64MiB);
                          larger bodies get 413. Suffixes K M G KiB MiB GiB
  --report FILE           on SIGINT/SIGTERM write the final counters as JSON
  --faults SPEC           inject faults, e.g. "status=503@10%,close@2%"
                          (rules: status=CODE, close, delay=MS, slow_read=RATE;
                          see docs/sink.md)
  --faults-seed N         seed for fault decisions (default 1)
  --tls-cert FILE         serve HTTPS (TLS 1.2/1.3, ALPN http/1.1) with the PEM
                          certificate chain in FILE (leaf first); needs --tls-key
  --tls-key FILE          the PEM private key of --tls-cert
  --delay-ms N            simulate a distant API: send each answer N ms after
                          its request arrived (0 to 60000; default 0). Requests
                          keep being read meanwhile and answers keep their
                          order, so a pipelining client sees an N ms round trip
  -h, --help              show this help

Exit status: 0 stopped by SIGINT/SIGTERM, 1 runtime error, 2 usage error.
)";
}

void parse_listen(std::string_view text, std::string& host, std::uint16_t& port) {
    std::string_view host_part;
    std::string_view port_part;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            throw UsageError("--listen: expected [IPV6]:PORT, got '" + std::string(text) + "'");
        }
        host_part = text.substr(1, close - 1);
        port_part = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            throw UsageError("--listen: expected HOST:PORT, got '" + std::string(text) + "'");
        }
        host_part = text.substr(0, colon);
        port_part = text.substr(colon + 1);
        if (host_part.find(':') != std::string_view::npos) {
            throw UsageError("--listen: put IPv6 addresses in brackets, e.g. [::1]:8080");
        }
    }
    if (host_part.empty()) throw UsageError("--listen: missing host in '" + std::string(text) + "'");
    host.assign(host_part);
    port = static_cast<std::uint16_t>(parse_number("--listen port", port_part, 65535));
}

Options parse_options(const std::vector<std::string_view>& args) {
    Options options;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        std::string_view inline_value;
        bool has_inline_value = false;
        if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            inline_value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_inline_value = true;
        }
        auto value = [&]() -> std::string_view {
            if (has_inline_value) return inline_value;
            if (i + 1 >= args.size()) throw UsageError(std::string(arg) + " needs a value");
            return args[++i];
        };
        auto no_value = [&] {
            if (has_inline_value) throw UsageError(std::string(arg) + " takes no value");
        };
        if (arg == "-h" || arg == "--help") {
            no_value();
            options.help = true;
        } else if (arg == "--listen") {
            parse_listen(value(), options.server.host, options.server.port);
        } else if (arg == "--port-file") {
            options.port_file = value();
        } else if (arg == "--threads") {
            options.server.threads = static_cast<unsigned>(parse_number(arg, value(), threads_max));
            if (options.server.threads == 0) throw UsageError("--threads must be at least 1");
        } else if (arg == "--verify") {
            no_value();
            options.server.verify = true;
        } else if (arg == "--max-body-bytes") {
            const std::string_view text = value();
            try {
                options.server.max_body_bytes = parse_size_bytes(text);
            } catch (const std::invalid_argument& e) {
                throw UsageError(std::string("--max-body-bytes: ") + e.what());
            }
            if (options.server.max_body_bytes == 0 || options.server.max_body_bytes > max_body_bytes_limit) {
                throw UsageError("--max-body-bytes must be between 1 and 4GiB");
            }
        } else if (arg == "--report") {
            options.report_file = value();
        } else if (arg == "--faults") {
            const std::string_view spec = value();
            try {
                options.server.faults = FaultPlan::parse(spec, 1);
            } catch (const std::invalid_argument& e) {
                throw UsageError(std::string("--faults: ") + e.what());
            }
            options.faults_spec.assign(spec);
        } else if (arg == "--tls-cert") {
            options.server.tls_cert_file = value();
        } else if (arg == "--tls-key") {
            options.server.tls_key_file = value();
        } else if (arg == "--delay-ms") {
            options.server.delay_ms = static_cast<std::uint32_t>(parse_number(arg, value(), delay_ms_max));
        } else if (arg == "--faults-seed") {
            options.faults_seed = parse_number(arg, value(), UINT64_MAX);
        } else {
            throw UsageError("unknown option '" + std::string(args[i]) + "'");
        }
    }
    if (options.server.tls_cert_file.empty() != options.server.tls_key_file.empty()) {
        throw UsageError("--tls-cert and --tls-key go together: give both, or neither for plain HTTP");
    }
    // The seed may come before or after --faults, so the plan is built last.
    if (!options.faults_spec.empty()) {
        options.server.faults = FaultPlan::parse(options.faults_spec, options.faults_seed);
    }
    return options;
}

}  // namespace supervent::sink
