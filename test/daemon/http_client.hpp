#pragma once
// For tests of the servers on the control thread: an io_context of their
// own, and a blocking HTTP exchange with the metrics listener.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <utility>  // before Asio: see daemon/control_server.hpp

#include <boost/asio.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

namespace supervent::test {

// An io_context on its own thread for the servers under test.
struct IoThread {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{boost::asio::make_work_guard(io)};
    std::thread thread;
    void start() { thread = std::thread([this] { io.run(); }); }
    ~IoThread() {
        io.stop();
        if (thread.joinable()) thread.join();
    }
};

// Sends `request` as it is to 127.0.0.1:port and returns all that comes
// back until the server closes (replies are awaited at most 5 s).
inline std::string http_exchange(std::uint16_t port, std::string_view request) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string reply;
    char buffer[4096];
    for (ssize_t got; (got = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) reply.append(buffer, static_cast<std::size_t>(got));
    ::close(fd);
    return reply;
}

}  // namespace supervent::test
