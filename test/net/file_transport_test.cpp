// FileTransport and DiscardTransport: batches written with WRITE_FIXED from
// the registered slot, in order; a write error stops the sink.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "harness.hpp"
#include "net/discard_transport.hpp"
#include "net/file_transport.hpp"

using namespace supervent::net;
using namespace supervent::net::test;

namespace {

struct TempFile {
    std::string path;
    TempFile() {
        char name[] = "/tmp/supervent-net-test-XXXXXX";
        const int fd = ::mkstemp(name);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = name;
    }
    ~TempFile() { ::unlink(path.c_str()); }
    [[nodiscard]] std::string contents() const {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream out;
        out << in.rdbuf();
        return out.str();
    }
};

std::string lines(std::uint32_t count, char tag, std::size_t width) {
    std::string body;
    for (std::uint32_t i = 0; i < count; ++i) {
        body += std::to_string(i) + ' ' + std::string(width, tag) + '\n';
    }
    return body;
}

}  // namespace

TEST_CASE("FileTransport: batches land in the file, byte for byte and in order", "[file_transport]") {
    Harness harness(3, 1 << 20);
    TempFile file;
    const int fd = ::open(file.path.c_str(), O_WRONLY | O_TRUNC | O_APPEND | O_CLOEXEC);
    REQUIRE(fd >= 0);
    FileTransport transport(harness.ring, harness, fd, file.path);
    CHECK(transport.quiescent());

    const std::string first = lines(1000, 'x', 300);  // > 300 KB
    const std::string second = lines(3, 'y', 10);
    const std::string third = lines(5000, 'z', 100);
    harness.queue_batch(0, first, 1000);
    harness.queue_batch(1, second, 3);
    harness.queue_batch(2, third, 5000);
    REQUIRE(harness.run_until_settled(transport, 3));

    REQUIRE(harness.settled.size() == 3);
    const std::uint32_t events[] = {1000, 3, 5000};
    for (std::uint32_t i = 0; i < 3; ++i) {
        const Settled& settled = harness.settled[i];
        CHECK(settled.slot_index == i);
        CHECK(settled.verdict == Verdict::acked);
        CHECK(settled.reason == FailReason::none);
        CHECK(settled.acked_events == events[i]);
        CHECK(settled.kernel_done);
        CHECK(settled.state == SlotState::settling);
    }
    CHECK(transport.quiescent());
    CHECK(transport.fatal_error().empty());
    CHECK(file.contents() == first + second + third);
}

TEST_CASE("FileTransport: one write in flight at a time", "[file_transport]") {
    Harness harness(2);
    TempFile file;
    const int fd = ::open(file.path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    REQUIRE(fd >= 0);
    FileTransport transport(harness.ring, harness, fd, file.path);
    harness.queue_batch(0, "a\n", 1);
    harness.queue_batch(1, "b\n", 1);
    const std::int64_t now_ns = monotonic_ns();
    CHECK(transport.try_start(harness.slots[0], now_ns));
    CHECK_FALSE(transport.quiescent());
    CHECK_FALSE(transport.try_start(harness.slots[1], now_ns));
    harness.queue.pop_front();
    REQUIRE(harness.run_until_settled(transport, 2));
    CHECK(file.contents() == "a\nb\n");
}

TEST_CASE("FileTransport: a full device fails the batch and stops the sink", "[file_transport]") {
    Harness harness(2);
    const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    FileTransport transport(harness.ring, harness, fd, "/dev/full");
    harness.queue_batch(0, lines(10, 'f', 20), 10);
    REQUIRE(harness.run_until_settled(transport, 1));
    const Settled& settled = harness.settled.at(0);
    CHECK(settled.verdict == Verdict::failed);
    CHECK(settled.reason == FailReason::io);
    CHECK(settled.acked_events == 0);
    CHECK(settled.kernel_done);
    INFO(transport.fatal_error());
    CHECK(transport.fatal_error().find("/dev/full") != std::string::npos);
    CHECK(transport.fatal_error().find(std::strerror(ENOSPC)) != std::string::npos);
    // Later batches are not taken.
    harness.queue_batch(1, "x\n", 1);
    CHECK_FALSE(transport.try_start(harness.slots[1], monotonic_ns()));
    CHECK(transport.quiescent());
}

TEST_CASE("DiscardTransport: acknowledges every batch at once", "[discard_transport]") {
    Harness harness(2);
    DiscardTransport transport(harness);
    harness.queue_batch(0, "abc\n", 1);
    harness.queue_batch(1, "de\nfg\n", 2);
    REQUIRE(harness.run_until_settled(transport, 2));
    CHECK(harness.settled[0].acked_events == 1);
    CHECK(harness.settled[1].acked_events == 2);
    CHECK(harness.settled[1].verdict == Verdict::acked);
    CHECK(harness.slots[1].wire_bytes == 6);
    CHECK(transport.quiescent());
    CHECK(transport.next_deadline_ns() == INT64_MAX);
}

TEST_CASE("FileTransport: a pipe takes a batch in several writes, in order", "[file_transport]") {
    Harness harness(2, 2 << 20);
    int ends[2];
    REQUIRE(::pipe2(ends, O_CLOEXEC) == 0);
    Fd read_end(ends[0]);
    FileTransport transport(harness.ring, harness, ends[1], "pipe to the reader");

    const std::string first = lines(20'000, 'p', 60);  // > 1 MiB, far beyond the pipe's buffer
    const std::string second = lines(100, 'q', 7);
    std::string received;
    std::thread reader([&] {
        char chunk[8192];
        while (received.size() < first.size() + second.size()) {
            const ssize_t got = ::read(read_end.get(), chunk, sizeof chunk);
            if (got <= 0) break;
            received.append(chunk, static_cast<std::size_t>(got));
        }
    });
    harness.queue_batch(0, first, 20'000);
    harness.queue_batch(1, second, 100);
    const bool settled = harness.run_until_settled(transport, 2);
    reader.join();
    REQUIRE(settled);
    CHECK(harness.settled[0].verdict == Verdict::acked);
    CHECK(harness.settled[1].verdict == Verdict::acked);
    CHECK(harness.settled[0].acked_events == 20'000);
    CHECK(received.size() == first.size() + second.size());
    CHECK(received == first + second);
}

TEST_CASE("FileTransport: a pipe nobody reads any more fails the batch", "[file_transport]") {
    Harness harness(1);
    int ends[2];
    REQUIRE(::pipe2(ends, O_CLOEXEC) == 0);
    ::close(ends[0]);
    FileTransport transport(harness.ring, harness, ends[1], "the stdout pipe");
    harness.queue_batch(0, "lost\n", 1);
    REQUIRE(harness.run_until_settled(transport, 1));
    CHECK(harness.settled[0].verdict == Verdict::failed);
    CHECK(harness.settled[0].reason == FailReason::io);
    INFO(transport.fatal_error());
    CHECK(transport.fatal_error().find("the stdout pipe") != std::string::npos);
    CHECK(transport.fatal_error().find(std::strerror(EPIPE)) != std::string::npos);
}
