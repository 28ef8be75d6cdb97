// Entity pool benchmark: an nginx access-log source (NDJSON, one core) with
// its client address drawn afresh per event, then from pools of 5,000 and
// 1,000,000 zipf members, and with a pooled user (name, email, user id). The
// variants run interleaved, round by round, so load from other processes
// hits them alike; the fastest round of each counts. memcpy of the same
// bytes is the peer measured in the same run.
//
// usage: supervent-bench-pool [--seconds S] [--batch N] [--variant I --run-batches N]
// --run-batches: N untimed live batches of variant I (0 = no pool), for
// callgrind instruction counts (scripts in BENCHMARKS.md).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "bench/thread_cpu.hpp"
#include "core/program_source.hpp"
#include "core/schema.hpp"

namespace {

using namespace supervent::core;

FieldSpec choice(std::string name, std::vector<std::string> values) {
    FieldSpec f;
    f.name = std::move(name);
    for (auto& v : values) f.values.push_back({SchemaValue::Type::string, std::move(v)});
    return f;
}

// The nginx source of config/scenario.example.toml, abridged.
SourceSpec nginx(std::uint64_t pool, bool user) {
    SourceSpec s;
    s.name = "nginx";
    s.fields.push_back(choice("method", {"GET", "POST", "PUT", "DELETE", "HEAD"}));
    s.fields.back().weights = {70, 15, 5, 5, 5};
    s.fields.push_back(choice("path", {"/", "/api/v1/users", "/api/v1/orders", "/static/app.js", "/login", "/health"}));
    FieldSpec status = choice("status", {"200", "201", "204", "301", "304", "404", "500"});
    for (auto& v : status.values) v.type = SchemaValue::Type::integer;
    status.weights = {70, 5, 5, 3, 7, 7, 3};
    s.fields.push_back(status);
    FieldSpec bytes;
    bytes.name = "body_bytes_sent";
    bytes.kind = FieldKind::integer;
    bytes.max = 50000;
    s.fields.push_back(bytes);
    FieldSpec ip;
    ip.name = "remote_addr";
    ip.kind = FieldKind::ipv4;
    ip.cidrs = {"public", "10.0.0.0/8"};
    ip.cidr_weights = {80, 20};
    ip.pool = pool;
    s.fields.push_back(ip);
    s.fields.push_back(choice("http_user_agent", {"Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "curl/8.4.0", "Googlebot/2.1"}));
    std::string message = "{remote_addr} - - [{timestamp}] \"{method} {path} HTTP/1.1\" {status} {body_bytes_sent} \"-\" \"{http_user_agent}\"";
    if (user) {
        for (const char* part : {"name", "email", "user_id"}) {
            FieldSpec f;
            f.name = std::string("user.") + part;
            f.kind = FieldKind::person;
            f.part = part;
            f.pool = pool;
            s.fields.push_back(f);
        }
    }
    EventTypeSpec t;
    t.name = "access";
    t.message = message;
    s.event_types = {t};
    return s;
}

struct Variant {
    std::string name;
    std::unique_ptr<EventSource> source;
    std::vector<char> out;
    double best_s = 1e9;  // per batch
    double copy_s = 1e9;
    std::size_t bytes = 0;
    std::int64_t t_ns = 1'795'000'000'000'000'000;
};

}  // namespace

int main(int argc, char** argv) {
    double seconds = 2.0;
    std::uint32_t batch = 2000;
    std::int32_t run_batches = -1;
    std::size_t only = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag == "--seconds") seconds = std::strtod(argv[i + 1], nullptr);
        else if (flag == "--batch") batch = static_cast<std::uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
        else if (flag == "--run-batches") run_batches = static_cast<std::int32_t>(std::strtol(argv[i + 1], nullptr, 10));
        else if (flag == "--variant") only = std::strtoul(argv[i + 1], nullptr, 10);
        else {
            std::fprintf(stderr, "usage: %s [--seconds S] [--batch N] [--variant I --run-batches N]\n", argv[0]);
            return 2;
        }
    }
    std::vector<Variant> variants;
    const auto add = [&](std::string name, std::uint64_t pool, bool user) {
        Variant v;
        v.name = std::move(name);
        v.source = make_program_source(compile_source(nginx(pool, user)), {42, 0, 1}, batch);
        v.out.resize(std::size_t{batch} * v.source->event_bytes_max());
        variants.push_back(std::move(v));
    };
    add("no pool", 0, false);
    add("remote_addr pool 5,000 zipf", 5000, false);
    add("remote_addr pool 1,000,000 zipf", 1'000'000, false);
    add("no pool + user row", 0, true);
    add("pool 5,000: addr + user row", 5000, true);
    if (run_batches >= 0) {
        if (only >= variants.size()) return 2;
        Variant& v = variants[only];
        std::size_t bytes = 0;
        for (std::int32_t i = 0; i < run_batches; ++i) {
            bytes += v.source->write_ndjson(batch, {v.t_ns, v.t_ns + 400'000}, v.out);
            v.t_ns += 400'000;
        }
        std::printf("%s: %zu bytes\n", v.name.c_str(), bytes);
        return 0;
    }
    std::vector<char> copy(variants[0].out.size() * 2);
    const auto run = [&](Variant& v, std::uint64_t batches) {
        std::size_t bytes = 0;
        const double start = supervent::bench::thread_cpu_s();
        for (std::uint64_t i = 0; i < batches; ++i) {
            bytes += v.source->write_ndjson(batch, {v.t_ns, v.t_ns + 400'000}, v.out);
            v.t_ns += 400'000;
        }
        return std::pair{supervent::bench::thread_cpu_s() - start, bytes / batches};
    };
    for (Variant& v : variants) (void)run(v, 20);  // warm-up
    const std::uint32_t rounds = 8;
    const auto [first_s, first_bytes] = run(variants[0], 10);
    const std::uint64_t batches = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(seconds / rounds / variants.size() / (first_s / 10)));
    for (std::uint32_t round = 0; round < rounds; ++round) {
        for (Variant& v : variants) {
            const auto [s, bytes] = run(v, batches);
            v.best_s = std::min(v.best_s, s / static_cast<double>(batches));
            v.bytes = bytes;
            const double start = supervent::bench::thread_cpu_s();
            for (std::uint64_t i = 0; i < batches; ++i) {
                std::memcpy(copy.data(), v.out.data(), bytes);
                asm volatile("" : : "r"(copy.data()) : "memory");
            }
            v.copy_s = std::min(v.copy_s, (supervent::bench::thread_cpu_s() - start) / static_cast<double>(batches));
        }
    }
    std::printf("nginx access source, NDJSON, batch %u, one core, best of %u interleaved rounds (%.1f CPU s in all)\n\n",
                batch, rounds, seconds);
    std::printf("| variant                          | events/s (M) | vs no pool | B/event | time vs memcpy |\n");
    std::printf("|----------------------------------|-------------:|-----------:|--------:|---------------:|\n");
    for (const Variant& v : variants) {
        const double base = v.name.find("user") != std::string::npos ? variants[3].best_s : variants[0].best_s;
        std::printf("| %-32s | %12.2f | %9.3fx | %7.1f | %13.1fx |\n", v.name.c_str(), batch / v.best_s / 1e6,
                    base / v.best_s, static_cast<double>(v.bytes) / batch, v.best_s / v.copy_s);
    }
    return 0;
}
