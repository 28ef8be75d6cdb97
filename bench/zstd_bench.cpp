// zstd on web_access batches: the speed/ratio frontier of the compression
// parameters superventd could use, beside the zstd command line compressing
// the same bytes in the same run.
//
// Each row compresses the same K batches of the built-in web_access scenario
// (one zstd frame per batch, as a shard sends them) with one reused context,
// then decompresses them with one reused context, as supervent-sink does.
// Times are the thread's CPU time (best of 3 rounds), so other work on a
// shared machine moves them less than wall-clock rates; the zstd CLI rows are
// the child's user + system CPU time (best of 3), compressing the K batches
// written to one file.
//
// The last column is what one core does for compression and decompression
// together, in events/s: on the two cores of the end-to-end benchmark (a
// shard compressing, the sink decompressing, on the same two cores) this is
// the ceiling compression leaves, before generation and TCP.
//
// usage: supervent-bench-zstd [--batch N] [--batches K] [--seconds S] [--cli PATH]
//                              [--config NAME=SPEC]...
//   SPEC: the net::ZstdProfile grammar (net/zstd_compressor.hpp), e.g.
//         "level=1,hlog=14,mml=7,lit=raw"; without --config, a built-in list.
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench/thread_cpu.hpp"
#include "core/event_source.hpp"
#include "net/zstd_compressor.hpp"

extern char** environ;

namespace {

using namespace supervent;

struct Batches {
    std::vector<std::string> ndjson;  // one rendered batch each
    std::size_t bytes = 0;
    std::size_t events = 0;
};

// K batches of web_access, one second apart, as a live shard renders them.
Batches make_batches(std::uint32_t batch, std::uint32_t count) {
    const auto source = core::make_builtin_source("web_access", core::SourceIdentity{42, 0, 1}, batch);
    std::vector<char> room(std::size_t{batch} * source->event_bytes_max());
    Batches out;
    std::int64_t t_ns = 1'795'000'000'000'000'000;
    for (std::uint32_t i = 0; i < count; ++i, t_ns += 1'000'000'000) {
        const std::size_t bytes = source->write_ndjson(batch, {t_ns, t_ns + 1'000'000'000}, room);
        out.ndjson.emplace_back(room.data(), bytes);
        out.bytes += bytes;
        out.events += batch;
    }
    return out;
}

struct Row {
    std::string name;
    double ratio = 0;
    double compress_s = 0;    // CPU seconds to compress all batches once
    double decompress_s = 0;  // CPU seconds to decompress them once (0: not measured)
};

// Best of 3 rounds of `call`, repeated until a round lasts `seconds`/3.
template <typename F>
double best_round_s(F&& call, double seconds) {
    const double probe_start = supervent::bench::thread_cpu_s();
    call();
    const double probe = std::max(supervent::bench::thread_cpu_s() - probe_start, 1e-6);
    const int reps = std::max(1, int(seconds / 3 / probe));
    double best = 1e9;
    for (int round = 0; round < 3; ++round) {
        const double start = supervent::bench::thread_cpu_s();
        for (int i = 0; i < reps; ++i) call();
        best = std::min(best, (supervent::bench::thread_cpu_s() - start) / reps);
    }
    return best;
}

Row measure_profile(const std::string& name, const net::ZstdProfile& profile, const Batches& batches, double seconds) {
    net::ZstdCompressor compressor(profile);
    std::vector<std::vector<char>> frames(batches.ndjson.size());
    std::vector<std::size_t> frame_bytes(batches.ndjson.size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
        frames[i].resize(net::ZstdCompressor::bound_bytes(batches.ndjson[i].size()));
    }
    auto compress_all = [&] {
        for (std::size_t i = 0; i < frames.size(); ++i) {
            frame_bytes[i] = compressor.compress(batches.ndjson[i], frames[i]);
        }
    };
    Row row{name};
    row.compress_s = best_round_s(compress_all, seconds);
    std::size_t wire = 0;
    for (std::size_t bytes : frame_bytes) wire += bytes;
    row.ratio = double(batches.bytes) / double(wire);

    ZSTD_DCtx* dctx = ZSTD_createDCtx();
    std::vector<char> decoded(batches.ndjson.front().size() * 2);
    auto decompress_all = [&] {
        for (std::size_t i = 0; i < frames.size(); ++i) {
            decoded.resize(std::max(decoded.size(), batches.ndjson[i].size()));
            const std::size_t got = ZSTD_decompressDCtx(dctx, decoded.data(), decoded.size(), frames[i].data(), frame_bytes[i]);
            if (ZSTD_isError(got) || got != batches.ndjson[i].size()) throw std::runtime_error(name + ": corrupt frame");
        }
    };
    // Once, untimed: every frame decodes to exactly its batch.
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const std::size_t got = ZSTD_decompressDCtx(dctx, decoded.data(), decoded.size(), frames[i].data(), frame_bytes[i]);
        if (ZSTD_isError(got) || got != batches.ndjson[i].size() ||
            std::memcmp(decoded.data(), batches.ndjson[i].data(), got) != 0) {
            throw std::runtime_error(name + ": the frame does not decode to the batch");
        }
    }
    row.decompress_s = best_round_s(decompress_all, seconds);
    ZSTD_freeDCtx(dctx);
    return row;
}

// The zstd CLI compressing `path` to a temporary file: user + system CPU
// seconds of the child (best of 3) and the bytes it wrote.
std::pair<double, std::size_t> run_cli(const std::string& cli, const std::string& flag, const std::string& path,
                                       const std::string& out_path) {
    double best = 1e9;
    for (int round = 0; round < 3; ++round) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        std::vector<std::string> args{cli, "-q", "-T1", flag, "-c", path};
        std::vector<char*> argv;
        for (auto& arg : args) argv.push_back(arg.data());
        argv.push_back(nullptr);
        pid_t pid = 0;
        if (posix_spawnp(&pid, cli.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
            throw std::runtime_error("cannot run " + cli);
        }
        posix_spawn_file_actions_destroy(&actions);
        int status = 0;
        rusage usage{};
        wait4(pid, &status, 0, &usage);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error(cli + " " + flag + " failed");
        const double cpu = double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                           double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
        best = std::min(best, cpu);
    }
    FILE* out = std::fopen(out_path.c_str(), "rb");
    std::fseek(out, 0, SEEK_END);
    const auto bytes = static_cast<std::size_t>(std::ftell(out));
    std::fclose(out);
    return {best, bytes};
}

void print_row(const Row& row, const Batches& batches) {
    const double events = double(batches.events);
    const double mb = double(batches.bytes) / 1e6;
    std::printf("%-44s %6.2f %10.0f %8.0f", row.name.c_str(), row.ratio, events / row.compress_s, mb / row.compress_s);
    if (row.decompress_s > 0) {
        std::printf(" %10.0f %12.0f\n", mb / row.decompress_s, events / (row.compress_s + row.decompress_s));
    } else {
        std::printf(" %10s %12s\n", "", "");
    }
}

// The frontier explored by default: zstd's own levels, then the knobs of the
// fast strategy one at a time, then the combinations that held up.
std::vector<std::pair<std::string, std::string>> default_configs() {
    return {
        {"zstd:3", "level=3"},
        {"zstd:2", "level=2"},
        {"zstd:1", "level=1"},
        {"zstd:-1", "level=-1"},
        {"zstd:-3", "level=-3"},
        {"zstd:-5", "level=-5"},
        {"zstd:1 hlog=12", "level=1,hlog=12"},
        {"zstd:1 hlog=15", "level=1,hlog=15"},
        {"zstd:1 hlog=16", "level=1,hlog=16"},
        {"zstd:1 wlog=17", "level=1,wlog=17"},
        {"zstd:1 wlog=21", "level=1,wlog=21"},
        {"zstd:1 mml=5", "level=1,mml=5"},
        {"zstd:1 mml=7", "level=1,mml=7"},
        {"zstd:1 tlen=2", "level=1,tlen=2"},
        {"zstd:1 lit=raw", "level=1,lit=raw"},
        {"zstd:1 lit=huffman", "level=1,lit=huffman"},
        {"zstd:2 hlog=14", "level=2,hlog=14"},
        {"zstd:1 hlog=11 (zstd:fast)", std::string(net::zstd_fast_profile_spec)},
        {"zstd:1 hlog=11 lit=raw", "level=1,hlog=11,lit=raw"},
        {"zstd:1 hlog=10", "level=1,hlog=10"},
    };
}

}  // namespace

int main(int argc, char** argv) {
    std::uint32_t batch = 2000;
    std::uint32_t batch_count = 8;
    double seconds = 0.6;
    std::string cli = "zstd";
    std::vector<std::pair<std::string, std::string>> configs;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        const char* value = argv[i + 1];
        if (key == "--batch") batch = static_cast<std::uint32_t>(std::atoi(value));
        else if (key == "--batches") batch_count = static_cast<std::uint32_t>(std::atoi(value));
        else if (key == "--seconds") seconds = std::atof(value);
        else if (key == "--cli") cli = value;
        else if (key == "--config") {
            const std::string spec = value;
            const std::size_t eq = spec.find('=');
            const std::size_t colon = spec.find(':');
            // NAME:SPEC names a row; a bare SPEC names itself.
            if (colon != std::string::npos && colon < eq) configs.emplace_back(spec.substr(0, colon), spec.substr(colon + 1));
            else configs.emplace_back(spec, spec);
        } else {
            std::fprintf(stderr, "unknown option %s\n", key.c_str());
            return 2;
        }
    }
    if (configs.empty()) configs = default_configs();
    const Batches batches = make_batches(batch, batch_count);
    std::printf("%u web_access batches of %u events, %zu NDJSON bytes (%.0f bytes/event); one zstd frame per batch;\n"
                "CPU time of this thread (best of 3 rounds); c+d = compress and decompress on one core\n\n",
                batch_count, batch, batches.bytes, double(batches.bytes) / double(batches.events));
    std::printf("%-44s %6s %10s %8s %10s %12s\n", "profile", "ratio", "events/s", "MB/s", "dec MB/s", "c+d events/s");
    std::vector<Row> rows;
    for (const auto& [name, spec] : configs) {
        try {
            rows.push_back(measure_profile(name, net::parse_zstd_profile(spec), batches, seconds));
        } catch (const std::exception& error) {
            std::fprintf(stderr, "%s: %s\n", name.c_str(), error.what());
            return 1;
        }
        print_row(rows.back(), batches);
    }

    // The peer: the zstd command line on the same bytes, one core.
    char dir_template[] = "/tmp/supervent-bench-zstd-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) return 1;
    const std::string dir = dir_template;
    const std::string input = dir + "/batches.ndjson";
    {
        FILE* file = std::fopen(input.c_str(), "wb");
        for (const std::string& one : batches.ndjson) std::fwrite(one.data(), 1, one.size(), file);
        std::fclose(file);
    }
    std::printf("\nzstd CLI (%s -q -T1 FLAG -c) on the same %zu bytes as one file: child CPU time, best of 3\n",
                cli.c_str(), batches.bytes);
    double cli_level1_s = 0;
    for (const char* flag : {"-1", "--fast=1", "--fast=3", "--fast=5"}) {
        try {
            const auto [cpu_s, out_bytes] = run_cli(cli, flag, input, dir + "/out.zst");
            if (std::strcmp(flag, "-1") == 0) cli_level1_s = cpu_s;
            print_row(Row{cli + " -T1 " + flag, double(batches.bytes) / double(out_bytes), cpu_s, 0}, batches);
        } catch (const std::exception& error) {
            std::printf("%s %s: not measured (%s)\n", cli.c_str(), flag, error.what());
        }
    }
    if (cli_level1_s > 0) {
        std::printf("\ncompression events/s of each profile / zstd CLI -1 (same run):\n");
        for (const Row& row : rows) std::printf("  %-44s %5.2f\n", row.name.c_str(), cli_level1_s / row.compress_s);
    }
    std::remove((dir + "/out.zst").c_str());
    std::remove(input.c_str());
    rmdir(dir.c_str());
    return 0;
}
