// supervent-sink: an Axiom-compatible ingest receiver for tests, benchmarks
// and demos. Listens, counts, and on SIGINT/SIGTERM writes its report and
// exits 0. See docs/sink.md.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "sink/options.hpp"
#include "sink/server.hpp"
#include "sink/stats.hpp"

namespace {

using supervent::sink::Options;

// Writes via a temporary file and rename, so a reader polling for the file
// never sees it half written.
void write_file_atomically(const std::string& path, std::string_view content) {
    const std::string temporary = path + ".tmp";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << content;
        out.flush();
        if (!out) throw std::runtime_error("cannot write " + temporary + ": " + std::strerror(errno));
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        throw std::runtime_error("cannot rename " + temporary + " to " + path + ": " + std::strerror(errno));
    }
}

void print_summary(int signal_number, double elapsed_s, const supervent::sink::StatsSnapshot& s) {
    const double mb = 1e6;
    std::fprintf(stderr,
                 "supervent-sink: stopped by %s after %.1f s: %llu requests, %llu events, %llu invalid, "
                 "%.1f MB received, %.1f MB decoded, %llu rejected requests, %llu faults injected\n",
                 signal_number == SIGINT ? "SIGINT" : "SIGTERM", elapsed_s,
                 static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.events),
                 static_cast<unsigned long long>(s.invalid_events), static_cast<double>(s.bytes_wire) / mb,
                 static_cast<double>(s.bytes_decoded) / mb, static_cast<unsigned long long>(s.rejected_requests),
                 static_cast<unsigned long long>(s.faults_injected));
}

int run(const Options& options) {
    // Blocked before any thread starts, so every thread inherits the mask and
    // only the sigwait below sees these signals.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    if (const int rc = pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr); rc != 0) {
        throw std::system_error(rc, std::generic_category(), "pthread_sigmask");
    }
    // A peer vanishing mid-write must be an error code, not a dead process.
    signal(SIGPIPE, SIG_IGN);

    supervent::sink::Server server(options.server);
    server.start();
    const auto started = std::chrono::steady_clock::now();
    if (!options.port_file.empty()) {
        write_file_atomically(options.port_file, std::to_string(server.port()) + "\n");
    }
    std::printf("supervent-sink listening on %s%s\n", server.listen_address().c_str(),
                options.server.tls_cert_file.empty() ? "" : " (HTTPS)");
    std::fflush(stdout);

    int signal_number = 0;
    if (const int rc = sigwait(&stop_signals, &signal_number); rc != 0) {
        throw std::system_error(rc, std::generic_category(), "sigwait");
    }
    server.stop();
    const auto stats = server.stats();
    const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!options.report_file.empty()) {
        write_file_atomically(options.report_file, supervent::sink::to_json(stats) + "\n");
    }
    print_summary(signal_number, elapsed_s, stats);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // --version wins over everything else on the line, as --help does.
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--version") {
            std::printf("supervent-sink %s\n", SUPERVENT_VERSION);
            return 0;
        }
    }
    Options options;
    try {
        const std::vector<std::string_view> args(argv + 1, argv + argc);
        options = supervent::sink::parse_options(args);
    } catch (const supervent::sink::UsageError& e) {
        std::fprintf(stderr, "supervent-sink: %s\nTry 'supervent-sink --help'.\n", e.what());
        return 2;
    }
    if (options.help) {
        std::fputs(supervent::sink::usage_text(), stdout);
        return 0;
    }
    try {
        return run(options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "supervent-sink: %s\n", e.what());
        return 1;
    }
}
