// FileTransport with size-based rotation, on the real kernel: files get the
// right names and sizes, a batch is never split over two files, the oldest
// beyond `keep` go, and (while none go) every line written is in some file.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"
#include "net/file_transport.hpp"

using namespace supervent::net;
using namespace supervent::net::test;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char name[] = "/tmp/supervent-rotation-XXXXXX";
        REQUIRE(::mkdtemp(name) != nullptr);
        path = name;
    }
    ~TempDir() { fs::remove_all(path); }
};

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Batch b: `count` lines "b<b> <i>/<count> xxxx…", each `width` bytes long.
std::string batch(std::uint32_t b, std::uint32_t count, std::size_t width = 50) {
    std::string body;
    for (std::uint32_t i = 0; i < count; ++i) {
        std::string line = "b" + std::to_string(b) + " " + std::to_string(i) + "/" + std::to_string(count) + " ";
        line.resize(width - 1, 'x');
        body += line + '\n';
    }
    return body;
}

int open_append(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    return fd;
}

// Sends the batches through the transport, two slots taking turns.
void write_batches(Harness& harness, FileTransport& transport, const std::vector<std::string>& batches,
                   const std::vector<std::uint32_t>& events) {
    for (std::size_t i = 0; i < batches.size(); ++i) {
        harness.queue_batch(static_cast<std::uint32_t>(i % harness.slots.size()), batches[i], events[i]);
        REQUIRE(harness.run_until_settled(transport, i + 1));
        REQUIRE(harness.settled.back().verdict == Verdict::acked);
    }
}

// The files PATH.n .. PATH.1, PATH that exist, oldest first.
std::vector<fs::path> files_oldest_first(const fs::path& path, std::uint32_t keep) {
    std::vector<fs::path> files;
    for (std::uint32_t n = keep + 5; n >= 1; --n) {
        const fs::path numbered = path.string() + "." + std::to_string(n);
        if (fs::exists(numbered)) files.push_back(numbered);
    }
    if (fs::exists(path)) files.push_back(path);
    return files;
}

}  // namespace

TEST_CASE("FileTransport rotation: names, sizes, whole batches, nothing lost", "[file_rotation]") {
    Harness harness(2, 1 << 20);
    TempDir dir;
    const fs::path path = dir.path / "events.log";
    const std::uint64_t rotate_bytes = 4000;
    FileTransport transport(harness.ring, harness, open_append(path), path.string(),
                            FileRotation{path.string(), rotate_bytes, 100});

    // Batches of 1..30 lines of 50 bytes (50..1500 bytes), all below rotate_bytes.
    std::vector<std::string> batches;
    std::vector<std::uint32_t> events;
    std::uint64_t total_events = 0;
    for (std::uint32_t b = 0; b < 60; ++b) {
        const std::uint32_t count = 1 + (b * 7) % 30;
        batches.push_back(batch(b, count));
        events.push_back(count);
        total_events += count;
    }
    write_batches(harness, transport, batches, events);
    CHECK(transport.quiescent());
    CHECK(transport.fatal_error().empty());

    const auto files = files_oldest_first(path, 100);
    REQUIRE(files.size() >= 2);
    CHECK(transport.rotations() == files.size() - 1);
    // Names: PATH.1 … PATH.N with no gap.
    for (std::size_t n = 1; n < files.size(); ++n) {
        CHECK(fs::exists(path.string() + "." + std::to_string(n)));
    }
    // Every file holds whole batches, at most rotate_bytes, and all but the
    // newest were full enough that the next batch would not have fitted.
    std::string all;
    std::size_t next_batch = 0;
    for (std::size_t f = 0; f < files.size(); ++f) {
        CAPTURE(files[f]);
        const std::string text = read_file(files[f]);
        CHECK(text.size() <= rotate_bytes);
        CHECK_FALSE(text.empty());
        std::size_t at = 0;
        while (at < text.size()) {
            REQUIRE(next_batch < batches.size());
            REQUIRE(text.compare(at, batches[next_batch].size(), batches[next_batch]) == 0);
            at += batches[next_batch].size();
            ++next_batch;
        }
        if (f + 1 < files.size()) CHECK(text.size() + batches[next_batch].size() > rotate_bytes);
        all += text;
    }
    CHECK(next_batch == batches.size());
    std::uint64_t lines = 0;
    for (char c : all) lines += c == '\n' ? 1 : 0;
    CHECK(lines == total_events);
}

TEST_CASE("FileTransport rotation: keeps `keep` old files, the newest as PATH.1", "[file_rotation]") {
    Harness harness(2, 1 << 20);
    TempDir dir;
    const fs::path path = dir.path / "out.ndjson";
    // Each batch is 1000 bytes and the limit 1500: one batch per file.
    FileTransport transport(harness.ring, harness, open_append(path), path.string(),
                            FileRotation{path.string(), 1500, 3});
    std::vector<std::string> batches;
    std::vector<std::uint32_t> events;
    for (std::uint32_t b = 0; b < 8; ++b) {
        batches.push_back(batch(b, 20));
        events.push_back(20);
    }
    write_batches(harness, transport, batches, events);
    CHECK(transport.rotations() == 7);
    CHECK(read_file(path) == batches[7]);
    CHECK(read_file(path.string() + ".1") == batches[6]);
    CHECK(read_file(path.string() + ".2") == batches[5]);
    CHECK(read_file(path.string() + ".3") == batches[4]);
    CHECK_FALSE(fs::exists(path.string() + ".4"));
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path)) ++entries;
    CHECK(entries == 4);
}

TEST_CASE("FileTransport rotation: a batch larger than the limit gets a file of its own", "[file_rotation]") {
    Harness harness(2, 1 << 20);
    TempDir dir;
    const fs::path path = dir.path / "big.log";
    FileTransport transport(harness.ring, harness, open_append(path), path.string(),
                            FileRotation{path.string(), 1000, 10});
    const std::vector<std::string> batches{batch(0, 4), batch(1, 100), batch(2, 4)};
    write_batches(harness, transport, batches, {4, 100, 4});
    CHECK(read_file(path.string() + ".2") == batches[0]);
    CHECK(read_file(path.string() + ".1") == batches[1]);  // 5000 bytes, whole
    CHECK(read_file(path) == batches[2]);
}

TEST_CASE("FileTransport rotation: bytes already in the file count", "[file_rotation]") {
    Harness harness(1, 1 << 20);
    TempDir dir;
    const fs::path path = dir.path / "existing.log";
    { std::ofstream(path) << std::string(900, 'o') << '\n'; }
    FileTransport transport(harness.ring, harness, open_append(path), path.string(),
                            FileRotation{path.string(), 1000, 2});
    write_batches(harness, transport, {batch(0, 2)}, {2});
    CHECK(read_file(path.string() + ".1").size() == 901);
    CHECK(read_file(path) == batch(0, 2));
}

TEST_CASE("FileTransport rotation: never while a write is in flight", "[file_rotation]") {
    Harness harness(2, 1 << 20);
    TempDir dir;
    const fs::path path = dir.path / "busy.log";
    FileTransport transport(harness.ring, harness, open_append(path), path.string(),
                            FileRotation{path.string(), 1000, 5});
    const std::string first = batch(0, 18);   // 900 bytes
    const std::string second = batch(1, 18);  // would pass 1000: rotates, but only once the first is written
    harness.queue_batch(0, first, 18);
    harness.queue_batch(1, second, 18);
    const std::int64_t now_ns = monotonic_ns();
    REQUIRE(transport.try_start(harness.slots[0], now_ns));
    harness.queue.pop_front();
    // A write is in flight: the second batch waits, and nothing was renamed.
    CHECK_FALSE(transport.try_start(harness.slots[1], now_ns));
    CHECK(transport.rotations() == 0);
    CHECK_FALSE(fs::exists(path.string() + ".1"));
    REQUIRE(harness.run_until_settled(transport, 2));
    CHECK(transport.rotations() == 1);
    CHECK(read_file(path.string() + ".1") == first);
    CHECK(read_file(path) == second);
}

TEST_CASE("FileTransport rotation: a directory in the way stops the sink with the reason", "[file_rotation]") {
    Harness harness(2, 1 << 20);
    TempDir dir;
    const fs::path path = dir.path / "blocked.log";
    // PATH.1 is a non-empty directory: renaming PATH onto it fails.
    fs::create_directories(path.string() + ".1/inside");
    FileTransport transport(harness.ring, harness, open_append(path), path.string(),
                            FileRotation{path.string(), 1000, 1});
    write_batches(harness, transport, {batch(0, 18)}, {18});
    harness.queue_batch(1, batch(1, 18), 18);
    CHECK_FALSE(transport.try_start(harness.slots[1], monotonic_ns()));
    INFO(transport.fatal_error());
    CHECK(transport.fatal_error().find("rotating") != std::string::npos);
    CHECK(transport.fatal_error().find("blocked.log") != std::string::npos);
    CHECK(read_file(path) == batch(0, 18));  // the written batch is still there
}

TEST_CASE("FileTransport without rotation never renames", "[file_rotation]") {
    Harness harness(2, 1 << 20);
    TempDir dir;
    const fs::path path = dir.path / "plain.log";
    FileTransport transport(harness.ring, harness, open_append(path), path.string());
    std::vector<std::string> batches;
    std::string expected;
    for (std::uint32_t b = 0; b < 10; ++b) {
        batches.push_back(batch(b, 30));
        expected += batches.back();
    }
    write_batches(harness, transport, batches, std::vector<std::uint32_t>(10, 30));
    CHECK(transport.rotations() == 0);
    CHECK(read_file(path) == expected);
    CHECK_FALSE(fs::exists(path.string() + ".1"));
}
