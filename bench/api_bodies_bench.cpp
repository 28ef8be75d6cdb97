// HTTP log API bodies (net/api_bodies.hpp): events/s of each API's post-pass
// over one rendered NDJSON batch of the built-in web_access scenario, beside
// memcpy of the same NDJSON bytes measured in the same run (OTLP as JSON and
// as protobuf, otlp-pb), and the heap
// allocations per batch after warm-up (must be 0).
//
// usage: supervent-bench-api-bodies [--batch N] [--seconds S]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "bench/thread_cpu.hpp"
#include "core/event_source.hpp"
#include "net/api_bodies.hpp"
#include "test/common/alloc_counter.hpp"

namespace {

using namespace supervent;

// The fastest of 5 rounds of `reps` calls, in seconds per call.
template <typename F>
double best_seconds(F&& call, std::uint64_t reps) {
    double best = 1e9;
    for (int round = 0; round < 5; ++round) {
        const double start = supervent::bench::thread_cpu_s();
        for (std::uint64_t i = 0; i < reps; ++i) call();
        best = std::min(best, (supervent::bench::thread_cpu_s() - start) / double(reps));
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    std::uint32_t batch = 2000;
    double seconds = 1.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--batch") == 0) batch = static_cast<std::uint32_t>(std::atoi(argv[i + 1]));
        if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    }
    const auto source = core::make_builtin_source("web_access", core::SourceIdentity{42, 0, 1}, batch);
    std::vector<char> ndjson(std::size_t{batch} * source->event_bytes_max());
    const std::int64_t t_ns = 1'795'000'000'000'000'000;
    const std::size_t bytes = source->write_ndjson(batch, {t_ns, t_ns + 1'000'000'000}, ndjson);
    const std::string_view rendered(ndjson.data(), bytes);

    std::vector<char> copy(bytes);
    volatile char sink = 0;
    const std::uint64_t memcpy_reps = std::max<std::uint64_t>(1, std::uint64_t(seconds / 5 / 2e-4));
    const double memcpy_s = best_seconds([&] { std::memcpy(copy.data(), rendered.data(), bytes); sink = sink + copy[bytes / 2]; }, memcpy_reps);

    std::printf("batch: %u web_access events, %zu NDJSON bytes (%.0f bytes/event); CPU time, best of 5 rounds\n", batch,
                bytes, double(bytes) / batch);
    std::printf("%-14s %12s %14s %10s %12s %14s\n", "body", "events/s", "NDJSON MB/s", "body/NDJSON", "x memcpy",
                "allocs/batch");
    std::printf("%-14s %12.0f %14.0f %10s %12s %14s\n", "memcpy", batch / memcpy_s, bytes / memcpy_s / 1e6, "1.00",
                "1.00", "0");
    // Each API's body; OTLP twice: its JSON mapping, then protobuf (otlp-pb).
    struct Row {
        net::LogApi api;
        bool protobuf;
    };
    for (const Row row : {Row{net::LogApi::elasticsearch, false}, Row{net::LogApi::loki, false},
                          Row{net::LogApi::splunk_hec, false}, Row{net::LogApi::otlp, false}, Row{net::LogApi::otlp, true},
                          Row{net::LogApi::datadog, false}}) {
        const net::LogApi api = row.api;
        const std::string name = std::string(net::log_api_name(api)) + (row.protobuf ? "-pb" : "");
        net::ApiOptions options;
        options.api = api;
        options.otlp_protobuf = row.protobuf;
        net::ApiBodyWriter writer(options, batch);
        std::vector<char> out(net::api_body_bytes_bound(options, bytes, batch));
        std::size_t body = 0;
        auto once = [&] { body = writer.write(rendered, batch, {out.data(), out.size()}); };
        once();
        if (body == 0) {
            std::fprintf(stderr, "%s: %s\n", name.c_str(), writer.error());
            return 1;
        }
        const double probe_start = supervent::bench::thread_cpu_s();
        once();
        const double probe = std::max(supervent::bench::thread_cpu_s() - probe_start, 1e-6);
        const std::uint64_t reps = std::max<std::uint64_t>(1, std::uint64_t(seconds / 5 / probe));
        const std::uint64_t allocations_before = test::heap_allocations();
        const double s = best_seconds(once, reps);
        const double allocations = double(test::heap_allocations() - allocations_before) / double(5 * reps);
        std::printf("%-14s %12.0f %14.0f %10.2f %12.2f %14.1f\n", name.c_str(), batch / s,
                    bytes / s / 1e6, double(body) / bytes, s / memcpy_s, allocations);
    }
    return 0;
}
