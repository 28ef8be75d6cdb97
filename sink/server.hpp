#pragma once
// supervent-sink's HTTP/1.1 server: Boost.Asio, one io_context per I/O
// thread, connections spread over them round robin so each connection's
// buffers stay on one thread. Usable in-process (tests) and from sink/main.cpp.
#include <cstdint>
#include <memory>
#include <string>

#include "sink/faults.hpp"
#include "sink/stats.hpp"

namespace supervent::sink {

inline constexpr std::uint64_t max_body_bytes_default = 64ull * 1024 * 1024;
// Decompressed bodies may be this many times --max-body-bytes: zstd
// typically shrinks logs 5-10x, and the cap stops a decompression bomb.
inline constexpr std::uint64_t decoded_to_body_ratio_max = 16;

struct ServerConfig {
    std::string host = "127.0.0.1";  // name or address literal, IPv6 without brackets
    std::uint16_t port = 8080;       // 0 picks a free port
    unsigned threads = 1;
    std::uint64_t max_body_bytes = max_body_bytes_default;  // as received; larger is 413
    bool verify = false;
    FaultPlan faults;
    std::size_t read_buffer_bytes = 1024 * 1024;  // per connection, grown to fit bodies
    // PEM files: with both set every connection speaks TLS 1.2/1.3 (HTTPS).
    std::string tls_cert_file;  // the certificate (chain), leaf first
    std::string tls_key_file;
    // Each answer leaves this long after its request arrived (a distant API);
    // reading goes on meanwhile and answers keep request order. 0 = at once.
    std::uint32_t delay_ms = 0;
};

class Server {
public:
    // Resolves, binds and listens, so the port is known (and taken) on return.
    // Throws std::runtime_error with a message naming the address.
    explicit Server(ServerConfig config);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept;
    // "127.0.0.1:8080" or "[::1]:8080", with the port actually bound.
    [[nodiscard]] std::string listen_address() const;

    // Starts the I/O threads and returns.
    void start();
    // Stops accepting, drops open connections and joins the I/O threads.
    // Idempotent; call from outside the I/O threads.
    void stop();

    [[nodiscard]] StatsSnapshot stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace supervent::sink
