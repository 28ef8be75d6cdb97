// Ring and BufferArena against the real kernel: probing, registered buffers,
// SEND_ZC completion pairs over loopback TCP, the WRITE_FIXED fallback, a
// full submission queue, and waiting with a timeout.
#include <catch2/catch.hpp>

#include <liburing.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "loopback.hpp"
#include "net/buffer_arena.hpp"
#include "net/ring.hpp"

using supervent::net::BufferArena;
using supervent::net::Ring;
using supervent::net::describe_memlock_limit;
using namespace supervent::net::test;

namespace {

struct Cqe {
    std::uint64_t user_data = 0;
    std::int32_t res = 0;
    std::uint32_t flags = 0;
};

// Waits (at most 5 s) until `count` completions have arrived, in order.
std::vector<Cqe> collect(Ring& ring, std::size_t count) {
    std::vector<Cqe> cqes;
    const std::int64_t deadline_ns = monotonic_ns() + 5'000'000'000;
    while (cqes.size() < count && monotonic_ns() < deadline_ns) {
        REQUIRE(ring.submit_and_wait(10'000'000) == 0);
        ring.drain([&](const io_uring_cqe& cqe) { cqes.push_back(Cqe{cqe.user_data, cqe.res, cqe.flags}); });
    }
    return cqes;
}

void fill_pattern(char* data, std::size_t bytes, unsigned seed) {
    for (std::size_t i = 0; i < bytes; ++i) data[i] = static_cast<char>((i * 131 + seed) % 251);
}

// A connected loopback TCP pair: `sender` is the ring's end.
struct TcpPair {
    Fd sender;
    Fd receiver;
    TcpPair() {
        std::uint16_t port = 0;
        Fd listener = listen_loopback(port);
        sender = connect_loopback(port);
        receiver = accept_one(listener.get());
    }
};

// Reads `bytes` from fd on its own thread, so a send larger than the socket
// buffers can complete.
struct Reader {
    std::string data;
    bool ok = false;
    std::thread thread;
    Reader(int fd, std::size_t bytes) : data(bytes, '\0') {
        thread = std::thread([this, fd] { ok = read_exact(fd, data.data(), data.size()); });
    }
    void join() {
        if (thread.joinable()) thread.join();
    }
    ~Reader() { join(); }
};

// WRITE_FIXED from registered buffer `buf_index` until every byte is taken (a
// socket may take a write in parts; at most 100 writes). Returns the bytes sent.
std::size_t write_fixed_all(Ring& ring, int fd, const char* data, std::size_t bytes, int buf_index) {
    std::size_t sent_bytes = 0;
    int sends = 0;
    while (sent_bytes < bytes && sends < 100) {
        io_uring_sqe* sqe = ring.next_sqe();
        io_uring_prep_write_fixed(sqe, fd, data + sent_bytes, static_cast<unsigned>(bytes - sent_bytes), 0, buf_index);
        io_uring_sqe_set_data64(sqe, 1000 + static_cast<std::uint64_t>(sends));
        const std::vector<Cqe> cqes = collect(ring, 1);
        REQUIRE(cqes.size() == 1);
        CHECK(cqes[0].user_data == 1000 + static_cast<std::uint64_t>(sends));
        REQUIRE(cqes[0].res > 0);
        CHECK((cqes[0].flags & (IORING_CQE_F_MORE | IORING_CQE_F_NOTIF)) == 0);
        sent_bytes += static_cast<std::size_t>(cqes[0].res);
        ++sends;
    }
    return sent_bytes;
}

}  // namespace

TEST_CASE("Ring: created and probed", "[ring]") {
    Ring ring(8);
    const auto& features = ring.features();
    CHECK(features.sq_entries >= 8);
    CHECK(features.cq_entries >= features.sq_entries);
    // The constructor refuses kernels without these.
    CHECK(features.write_fixed);
    CHECK(features.connect);
    CHECK(features.recv);
    if (!features.send_zc) {
        WARN("this kernel's io_uring has no SEND_ZC: only the WRITE_FIXED fallback is exercised");
    }
    if (!features.single_issuer) WARN("IORING_SETUP_SINGLE_ISSUER was refused; the ring runs without it");
    CHECK(!describe_memlock_limit().empty());
}

TEST_CASE("BufferArena: page-aligned slots, registered with a ring", "[ring][buffer_arena]") {
    BufferArena arena(4, 10'000);
    CHECK(arena.slot_count() == 4);
    CHECK(arena.slot_bytes() == 12'288);  // rounded up to whole pages
    CHECK(arena.mapped_bytes() >= 4 * arena.slot_bytes());
    REQUIRE(arena.iovecs().size() == 4);
    for (std::uint32_t i = 0; i < arena.slot_count(); ++i) {
        CHECK(reinterpret_cast<std::uintptr_t>(arena.slot_data(i)) % 4096 == 0);
        CHECK(arena.iovecs()[i].iov_base == arena.slot_data(i));
        CHECK(arena.iovecs()[i].iov_len == arena.slot_bytes());
        if (i > 0) CHECK(arena.slot_data(i) == arena.slot_data(i - 1) + arena.slot_bytes());
        std::memset(arena.slot_data(i), 'a' + static_cast<int>(i), arena.slot_bytes());  // writable, all of it
    }
    CHECK(arena.slot_data(0)[arena.slot_bytes() - 1] == 'a');
    CHECK(arena.slot_data(3)[0] == 'd');

    Ring ring(8);
    REQUIRE_NOTHROW(ring.register_buffers(arena.iovecs()));
}

TEST_CASE("BufferArena: refuses an empty arena", "[buffer_arena]") {
    CHECK_THROWS_AS(BufferArena(0, 4096), std::invalid_argument);
    CHECK_THROWS_AS(BufferArena(1, 0), std::invalid_argument);
}

TEST_CASE("Ring: SEND_ZC on a fixed buffer gives a result CQE, then a notification", "[ring][send_zc]") {
    Ring ring(8);
    if (!ring.features().send_zc) {
        WARN("no SEND_ZC on this kernel: the zero-copy pair cannot be checked here; see the WRITE_FIXED test");
        return;
    }
    BufferArena arena(2, 256 * 1024);
    ring.register_buffers(arena.iovecs());
    TcpPair pair;

    // Larger than the loopback socket buffers, from an offset inside slot 1.
    constexpr std::size_t offset_bytes = 100;
    constexpr std::size_t send_bytes = 200'000;
    char* const data = arena.slot_data(1) + offset_bytes;
    fill_pattern(data, send_bytes, 7);
    Reader reader(pair.receiver.get(), send_bytes);

    constexpr std::uint64_t user_data = 0x0200'0001'dead'beefULL;
    io_uring_sqe* sqe = ring.next_sqe();
    REQUIRE(sqe != nullptr);
    io_uring_prep_send_zc_fixed(sqe, pair.sender.get(), data, send_bytes, MSG_NOSIGNAL | MSG_WAITALL, 0, 1);
    io_uring_sqe_set_data64(sqe, user_data);

    const std::vector<Cqe> cqes = collect(ring, 2);
    reader.join();
    REQUIRE(cqes.size() == 2);
    CHECK(cqes[0].user_data == user_data);
    CHECK(cqes[0].res == static_cast<std::int32_t>(send_bytes));
    CHECK((cqes[0].flags & IORING_CQE_F_MORE) != 0);
    CHECK((cqes[0].flags & IORING_CQE_F_NOTIF) == 0);
    CHECK(cqes[1].user_data == user_data);
    CHECK((cqes[1].flags & IORING_CQE_F_NOTIF) != 0);
    CHECK((cqes[1].flags & IORING_CQE_F_MORE) == 0);

    REQUIRE(reader.ok);
    CHECK(reader.data == std::string(data, send_bytes));
    // Nothing else is pending: the pair was all.
    CHECK(collect(ring, 1).empty());
}

TEST_CASE("Ring: SEND_ZC to a closed peer still pairs its result with a notification", "[ring][send_zc]") {
    Ring ring(8);
    if (!ring.features().send_zc) {
        WARN("no SEND_ZC on this kernel: nothing to check");
        return;
    }
    BufferArena arena(1, 4096);
    ring.register_buffers(arena.iovecs());
    TcpPair pair;
    // An unread byte makes the close a reset, so the send fails.
    REQUIRE(write_all(pair.sender.get(), "x", 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    pair.receiver.reset();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));

    int errors = 0;
    for (int attempt = 0; attempt < 3; ++attempt) {
        const std::uint64_t user_data = 42 + static_cast<std::uint64_t>(attempt);
        io_uring_sqe* sqe = ring.next_sqe();
        io_uring_prep_send_zc_fixed(sqe, pair.sender.get(), arena.slot_data(0), 4096, MSG_NOSIGNAL | MSG_WAITALL, 0,
                                    0);
        io_uring_sqe_set_data64(sqe, user_data);
        std::vector<Cqe> cqes = collect(ring, 1);
        REQUIRE(!cqes.empty());
        CHECK(cqes[0].user_data == user_data);
        CHECK((cqes[0].flags & IORING_CQE_F_NOTIF) == 0);
        if (cqes[0].res < 0) ++errors;
        // Whatever the result, F_MORE promises a notification, which must come.
        const std::size_t expected = (cqes[0].flags & IORING_CQE_F_MORE) != 0 ? 2 : 1;
        if (cqes.size() < expected) {
            const std::vector<Cqe> rest = collect(ring, expected - cqes.size());
            cqes.insert(cqes.end(), rest.begin(), rest.end());
        }
        REQUIRE(cqes.size() == expected);
        if (expected == 2) {
            CHECK(cqes[1].user_data == user_data);
            CHECK((cqes[1].flags & IORING_CQE_F_NOTIF) != 0);
        }
    }
    CHECK(errors > 0);
}

TEST_CASE("Ring: WRITE_FIXED on a socket (the fallback) sends the bytes", "[ring]") {
    Ring ring(8);
    BufferArena arena(1, 256 * 1024);
    ring.register_buffers(arena.iovecs());
    TcpPair pair;

    constexpr std::size_t send_bytes = 150'000;
    char* const data = arena.slot_data(0) + 10;
    fill_pattern(data, send_bytes, 3);
    Reader reader(pair.receiver.get(), send_bytes);

    const std::size_t sent_bytes = write_fixed_all(ring, pair.sender.get(), data, send_bytes, 0);
    reader.join();
    CHECK(sent_bytes == send_bytes);
    REQUIRE(reader.ok);
    CHECK(reader.data == std::string(data, send_bytes));
}

TEST_CASE("Ring: next_sqe submits when the submission queue is full", "[ring]") {
    Ring ring(4);
    REQUIRE(ring.features().sq_entries == 4);
    constexpr std::uint64_t nop_count = 20;
    for (std::uint64_t i = 0; i < nop_count; ++i) {
        io_uring_sqe* sqe = ring.next_sqe();
        REQUIRE(sqe != nullptr);
        io_uring_prep_nop(sqe);
        io_uring_sqe_set_data64(sqe, 500 + i);
    }
    const std::vector<Cqe> cqes = collect(ring, nop_count);
    REQUIRE(cqes.size() == nop_count);
    std::set<std::uint64_t> seen;
    for (const Cqe& cqe : cqes) {
        CHECK(cqe.res == 0);
        seen.insert(cqe.user_data);
    }
    CHECK(seen.size() == nop_count);
    CHECK(*seen.begin() == 500);
    CHECK(*seen.rbegin() == 500 + nop_count - 1);
    CHECK(collect(ring, 1).empty());
}

TEST_CASE("Ring: submit_and_wait with nothing to complete times out in about that time", "[ring]") {
    Ring ring(4);
    for (const std::int64_t timeout_ns : {std::int64_t{20'000'000}, std::int64_t{100'000'000}}) {
        const std::int64_t started_ns = monotonic_ns();
        CHECK(ring.submit_and_wait(timeout_ns) == 0);
        const std::int64_t waited_ns = monotonic_ns() - started_ns;
        INFO("timeout " << timeout_ns << " ns, waited " << waited_ns << " ns");
        CHECK(waited_ns >= timeout_ns - 1'000'000);
        CHECK(waited_ns < timeout_ns + 250'000'000);
        CHECK(ring.drain([](const io_uring_cqe&) {}) == 0);
    }
    // Zero means do not wait.
    const std::int64_t started_ns = monotonic_ns();
    CHECK(ring.submit_and_wait(0) == 0);
    CHECK(monotonic_ns() - started_ns < 50'000'000);
}

TEST_CASE("Ring: submit_and_wait returns as soon as something completes", "[ring]") {
    Ring ring(4);
    io_uring_sqe* sqe = ring.next_sqe();
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, 77);
    const std::int64_t started_ns = monotonic_ns();
    CHECK(ring.submit_and_wait(5'000'000'000) == 0);
    CHECK(monotonic_ns() - started_ns < 1'000'000'000);
    std::vector<std::uint64_t> seen;
    CHECK(ring.drain([&](const io_uring_cqe& cqe) { seen.push_back(cqe.user_data); }) == 1);
    CHECK(seen == std::vector<std::uint64_t>{77});
}

TEST_CASE("Ring: submit_and_wait(0) posts completions (also with DEFER_TASKRUN)", "[ring]") {
    Ring ring(4);
    io_uring_sqe* sqe = ring.next_sqe();
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, 88);
    CHECK(ring.submit_and_wait(0) == 0);
    std::vector<std::uint64_t> seen;
    ring.drain([&](const io_uring_cqe& cqe) { seen.push_back(cqe.user_data); });
    CHECK(seen == std::vector<std::uint64_t>{88});
}

TEST_CASE("Ring: register_buffers reports a refusal as RingError", "[ring]") {
    Ring ring(4);
    BufferArena arena(1, 4096);
    ring.register_buffers(arena.iovecs());
    // A second registration on the same ring is refused by the kernel (EBUSY).
    CHECK_THROWS_AS(ring.register_buffers(arena.iovecs()), supervent::net::RingError);

    Ring other(4);
    const iovec bad[] = {iovec{nullptr, 4096}};
    CHECK_THROWS_AS(other.register_buffers(bad), supervent::net::RingError);
}

TEST_CASE("Ring: add_buffers fills the spare entries of the table, then says it is full", "[ring]") {
    Ring ring(8);
    BufferArena arena(2, 4096);
    ring.register_buffers(arena.iovecs(), 1);
    BufferArena extra(2, 64 * 1024);
    // One spare entry: two buffers do not fit, one does, at index 2.
    CHECK_FALSE(ring.add_buffers(extra.iovecs()).has_value());
    const auto first = ring.add_buffers(extra.iovecs().first(1));
    REQUIRE(first.has_value());
    CHECK(*first == 2);
    CHECK_FALSE(ring.add_buffers(extra.iovecs().subspan(1)).has_value());

    // The added buffer is usable: a WRITE_FIXED from it arrives intact.
    TcpPair pair;
    constexpr std::size_t send_bytes = 50'000;
    char* const data = extra.slot_data(0) + 10;
    fill_pattern(data, send_bytes, 3);
    Reader reader(pair.receiver.get(), send_bytes);
    const std::size_t sent = write_fixed_all(ring, pair.sender.get(), data, send_bytes, static_cast<int>(*first));
    reader.join();
    CHECK(sent == send_bytes);
    REQUIRE(reader.ok);
    CHECK(reader.data == std::string(data, send_bytes));

    // A ring without a registered table has no room at all.
    Ring bare(4);
    CHECK_FALSE(bare.add_buffers(extra.iovecs().first(1)).has_value());
}

TEST_CASE("Ring: reserved entries are registered when first used and the spare ones come after them", "[ring]") {
    Ring ring(8);
    BufferArena arena(3, 64 * 1024);
    ring.reserve_buffers(3, 1);
    TcpPair pair;

    // Entry 2 is reserved but empty: a WRITE_FIXED naming it is refused.
    io_uring_sqe* sqe = ring.next_sqe();
    io_uring_prep_write_fixed(sqe, pair.sender.get(), arena.slot_data(2), 100, 0, 2);
    io_uring_sqe_set_data64(sqe, 7);
    const std::vector<Cqe> refused = collect(ring, 1);
    REQUIRE(refused.size() == 1);
    CHECK(refused[0].res < 0);

    // Registered on its own (entries 0 and 1 still empty), it sends intact.
    ring.register_buffer_at(2, arena.iovecs()[2]);
    constexpr std::size_t send_bytes = 40'000;
    char* const data = arena.slot_data(2) + 5;
    fill_pattern(data, send_bytes, 11);
    Reader reader(pair.receiver.get(), send_bytes);
    CHECK(write_fixed_all(ring, pair.sender.get(), data, send_bytes, 2) == send_bytes);
    reader.join();
    REQUIRE(reader.ok);
    CHECK(reader.data == std::string(data, send_bytes));

    // The spare entry is the one after the reserved three, whichever of those are filled.
    BufferArena extra(1, 4096);
    const auto first = ring.add_buffers(extra.iovecs());
    REQUIRE(first.has_value());
    CHECK(*first == 3);
    CHECK_FALSE(ring.add_buffers(extra.iovecs()).has_value());
}
