#pragma once
// A deliberately small blocking HTTP/1.1 client over a raw loopback socket,
// so tests control exactly which bytes go out in which write. Every socket
// has a receive timeout, so no test can hang on a missing answer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sink_test {

struct Response {
    int status = 0;
    std::string head;  // status line and headers
    std::string body;

    [[nodiscard]] std::string header(std::string_view name) const {
        // Case-insensitive search for "\r\nName:".
        std::string lower_head = head;
        std::string lower_name(name);
        for (auto* s : {&lower_head, &lower_name}) {
            for (char& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        const auto at = lower_head.find("\r\n" + lower_name + ":");
        if (at == std::string::npos) return {};
        auto start = at + 2 + lower_name.size() + 1;
        while (start < head.size() && head[start] == ' ') ++start;
        return head.substr(start, head.find("\r\n", start) - start);
    }
};

class Client {
public:
    explicit Client(std::uint16_t port, int timeout_s = 10) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket failed");
        timeval timeout{timeout_s, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            ::close(fd_);
            throw std::runtime_error(std::string("connect failed: ") + std::strerror(errno));
        }
    }
    ~Client() { ::close(fd_); }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    [[nodiscard]] int fd() const noexcept { return fd_; }

    void send(std::string_view bytes) {
        while (!bytes.empty()) {
            const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (sent <= 0) throw std::runtime_error(std::string("send failed: ") + std::strerror(errno));
            bytes.remove_prefix(static_cast<std::size_t>(sent));
        }
    }

    // Reads one response (Content-Length framed, as the sink always answers).
    Response read_response() {
        Response response;
        std::size_t head_end;
        while ((head_end = pending_.find("\r\n\r\n")) == std::string::npos) fill();
        response.head = pending_.substr(0, head_end);
        pending_.erase(0, head_end + 4);
        response.status = std::stoi(response.head.substr(9, 3));
        const std::string length = response.header("content-length");
        const std::size_t body_bytes = length.empty() ? 0 : std::stoul(length);
        while (pending_.size() < body_bytes) fill();
        response.body = pending_.substr(0, body_bytes);
        pending_.erase(0, body_bytes);
        return response;
    }

    // True when the server closed the connection (EOF or reset) with nothing more to read.
    bool closed_by_peer() {
        if (!pending_.empty()) return false;
        char byte;
        const ssize_t got = ::recv(fd_, &byte, 1, 0);
        if (got == 0) return true;
        if (got < 0 && errno == ECONNRESET) return true;
        if (got < 0) throw std::runtime_error(std::string("recv timed out waiting for close: ") + std::strerror(errno));
        pending_.push_back(byte);
        return false;
    }

private:
    void fill() {
        char buffer[65536];
        const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
        if (got == 0) throw std::runtime_error("connection closed by the server");
        if (got < 0) throw std::runtime_error(std::string("recv failed: ") + std::strerror(errno));
        pending_.append(buffer, static_cast<std::size_t>(got));
    }

    int fd_ = -1;
    std::string pending_;
};

inline std::string post(std::string_view path, std::string_view body, std::string_view extra_headers = "") {
    std::string request = "POST " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n";
    request += extra_headers;
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    request += body;
    return request;
}

// `count` NDJSON events of roughly `line_bytes` bytes each.
inline std::string ndjson(std::size_t count, std::size_t line_bytes = 100) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
        std::string line = "{\"_time\":\"2024-01-01T00:00:00Z\",\"n\":" + std::to_string(i) + ",\"message\":\"";
        if (line.size() + 3 < line_bytes) line.append(line_bytes - line.size() - 3, 'x');
        line += "\"}\n";
        out += line;
    }
    return out;
}

}  // namespace sink_test
