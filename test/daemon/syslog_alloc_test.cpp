// The syslog transports keep "allocate at start-up, never after" (DESIGN.md
// §2): a shard sending to a loopback TCP reader, and to a UDP socket,
// allocates the same for 20,000 events as for 200,000. The reader runs on
// its own thread, which is not counted.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "shard_harness.hpp"
#include "test/common/alloc_counter.hpp"

using supervent::test::heap_allocations_on_this_thread;

namespace {

// Accepts connections and reads them to their end (a syslog server that says nothing).
class DiscardListener {
public:
    DiscardListener() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(fd_, 16) == 0);
        socklen_t bytes = sizeof address;
        REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &bytes) == 0);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { accept_loop(); });
    }
    ~DiscardListener() {
        stopping_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        for (std::thread& reader : readers_) reader.join();
        ::close(fd_);
    }
    [[nodiscard]] std::uint16_t port() const { return port_; }

private:
    void accept_loop() {
        while (!stopping_) {
            const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (conn < 0) return;
            readers_.emplace_back([conn] {
                std::vector<char> buffer(1 << 20);
                while (::read(conn, buffer.data(), buffer.size()) > 0) {
                }
                ::close(conn);
            });
        }
    }

    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
    std::vector<std::thread> readers_;
};

supervent::daemon::ShardPlan syslog_plan(std::uint16_t port, bool datagram) {
    auto plan = supervent::test::discard_plan(0, 1000);
    plan.sink.kind = datagram ? supervent::config::SinkUrl::Kind::syslog_udp : supervent::config::SinkUrl::Kind::syslog_tcp;
    plan.sink.description = "syslog test";
    auto& address = reinterpret_cast<sockaddr_in&>(plan.sink.syslog.address);
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    plan.sink.syslog.address_bytes = sizeof(sockaddr_in);
    plan.sink.syslog.datagram = datagram;
    plan.sink.syslog.connections = 2;
    plan.sink.syslog.format.hostname = "alloc-test";
    if (datagram) plan.sink.syslog.format.framing = supervent::net::SyslogFraming::datagram;
    plan.slots = datagram ? 3 : 2 * supervent::net::SyslogStreamTransport::depth_max;
    return plan;
}

std::uint64_t allocations_running(supervent::daemon::ShardPlan plan, std::uint64_t events) {
    plan.events_budget = events;
    const std::uint64_t before = heap_allocations_on_this_thread();
    const auto outcome = supervent::test::run_shard(plan);
    const std::uint64_t during = heap_allocations_on_this_thread() - before;
    REQUIRE(outcome.acked == events);
    return during;
}

}  // namespace

TEST_CASE("the shard's steady state does not allocate (syslog over TCP)", "[alloc][syslog]") {
    DiscardListener listener;
    const auto plan = syslog_plan(listener.port(), false);
    (void)allocations_running(plan, 1'000);  // one-time initialisation
    const auto small = allocations_running(plan, 20'000);
    const auto large = allocations_running(plan, 200'000);
    CHECK(large == small);
}

TEST_CASE("the shard's steady state does not allocate (syslog over UDP)", "[alloc][syslog]") {
    // Datagrams to a bound socket nobody reads: the kernel drops what its
    // buffer cannot hold, and every send is still "sent".
    const int sink = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(sink, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t bytes = sizeof address;
    REQUIRE(::getsockname(sink, reinterpret_cast<sockaddr*>(&address), &bytes) == 0);
    const auto plan = syslog_plan(ntohs(address.sin_port), true);
    (void)allocations_running(plan, 1'000);
    const auto small = allocations_running(plan, 20'000);
    const auto large = allocations_running(plan, 200'000);
    CHECK(large == small);
    ::close(sink);
}
