#pragma once
// A tiny HTTP/1.1 server on 127.0.0.1 for transport tests. Each accepted
// connection gets its own thread that reads a request head and its
// Content-Length body, records them, and answers with the next scripted
// Reply: its pieces written one by one (with a gap between them), then
// optionally closes. Everything is bounded: waits poll a stop flag.
#include <poll.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loopback.hpp"

namespace supervent::net::test {

struct Reply {
    std::vector<std::string> pieces;       // written in order
    std::chrono::milliseconds gap{0};      // pause before each piece after the first
    bool close_after = false;              // close the connection once written
    bool read_body = true;                 // false: answer (or close) after the head, before the body
    bool hold_after = false;               // after writing: neither read nor close until stopped
};

// A complete response with a Content-Length body.
inline Reply reply(int status, const std::string& body = {}, const std::string& extra_headers = {}) {
    return Reply{{"HTTP/1.1 " + std::to_string(status) + " Status\r\n" + extra_headers +
                  "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body}};
}

inline std::string axiom_reply(std::uint64_t ingested, std::uint64_t failed) {
    std::string failures;
    for (std::uint64_t i = 0; i < failed && i < 3; ++i) {
        failures += std::string(i > 0 ? "," : "") + R"({"timestamp":"2024-01-01T00:00:00Z","error":"bad field"})";
    }
    return R"({"ingested":)" + std::to_string(ingested) + R"(,"failed":)" + std::to_string(failed) +
           R"(,"failures":[)" + failures + R"(],"processedBytes":1234})";
}

struct Request {
    std::uint32_t connection = 0;  // which accepted connection (0, 1, ...)
    std::string head;
    std::string body;
};

class ScriptedServer {
public:
    ScriptedServer() : listener_(listen_loopback(port_)) {
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~ScriptedServer() { stop(); }
    ScriptedServer(const ScriptedServer&) = delete;
    ScriptedServer& operator=(const ScriptedServer&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    // From now on, close every new connection as soon as it is accepted.
    void close_on_accept(bool on) { close_on_accept_.store(on); }

    void script(Reply next) {
        std::lock_guard lock(mutex_);
        replies_.push_back(std::move(next));
    }

    [[nodiscard]] std::vector<Request> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    [[nodiscard]] std::uint32_t connections() const { return connections_.load(); }
    // Connections the server itself closed (scripted close, or after the script ran out).
    [[nodiscard]] std::uint32_t server_closes() const { return server_closes_.load(); }
    // Connections the client closed (EOF seen while waiting for a request).
    [[nodiscard]] std::uint32_t client_closes() const { return client_closes_.load(); }

    // Waits up to 5 s for a condition on the server's counters.
    template <typename Pred>
    bool wait_for(Pred&& pred) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::seconds(5), [&] { return pred(); });
    }

    void stop() {
        if (stopping_.exchange(true)) return;
        if (acceptor_.joinable()) acceptor_.join();
        std::vector<std::thread> workers;
        {
            std::lock_guard lock(mutex_);
            workers.swap(workers_);
        }
        for (std::thread& worker : workers) worker.join();
    }

private:
    // Waits until fd is readable; false when stopping or on timeout (10 s).
    bool wait_readable(int fd) {
        for (int waited_ms = 0; waited_ms < 10'000 && !stopping_.load(); waited_ms += 20) {
            pollfd p{fd, POLLIN, 0};
            const int ready = ::poll(&p, 1, 20);
            if (ready > 0) return true;
            if (ready < 0 && errno != EINTR) return false;
        }
        return false;
    }

    void accept_loop() {
        while (!stopping_.load()) {
            if (!wait_readable(listener_.get())) continue;
            Fd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (conn.get() < 0) continue;
            const int one = 1;
            (void)setsockopt(conn.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            const std::uint32_t index = connections_.fetch_add(1);
            if (close_on_accept_.load()) {
                conn.reset();
                count(server_closes_);
                continue;
            }
            std::lock_guard lock(mutex_);
            workers_.emplace_back([this, index, fd = conn.release()] { serve(Fd(fd), index); });
            changed_.notify_all();
        }
    }

    // Reads one request; false when the client closed or the server stops.
    // Returns the head in `head` and, when read_body, the body.
    enum class ReadResult { request, closed, stopped };
    ReadResult read_head(int fd, std::string& buffer, std::string& head) {
        for (;;) {
            const std::size_t end = buffer.find("\r\n\r\n");
            if (end != std::string::npos) {
                head = buffer.substr(0, end + 4);
                buffer.erase(0, end + 4);
                return ReadResult::request;
            }
            if (!wait_readable(fd)) return ReadResult::stopped;
            char chunk[16 * 1024];
            const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
            if (got <= 0) return ReadResult::closed;
            buffer.append(chunk, static_cast<std::size_t>(got));
        }
    }

    static std::size_t content_length(const std::string& head) {
        std::string lower = head;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const std::size_t at = lower.find("\r\ncontent-length:");
        if (at == std::string::npos) return 0;
        return std::stoul(lower.substr(at + 17));
    }

    bool read_body(int fd, std::string& buffer, std::size_t bytes, std::string& body) {
        while (buffer.size() < bytes) {
            if (!wait_readable(fd)) return false;
            char chunk[64 * 1024];
            const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
            if (got <= 0) return false;
            buffer.append(chunk, static_cast<std::size_t>(got));
        }
        body = buffer.substr(0, bytes);
        buffer.erase(0, bytes);
        return true;
    }

    void serve(Fd conn, std::uint32_t index) {
        std::string buffer;
        for (;;) {
            Request request;
            request.connection = index;
            const ReadResult result = read_head(conn.get(), buffer, request.head);
            if (result != ReadResult::request) {
                if (result == ReadResult::closed) count(client_closes_);
                return;
            }
            Reply next;
            bool have_reply = false;
            {
                std::lock_guard lock(mutex_);
                if (!replies_.empty()) {
                    next = std::move(replies_.front());
                    replies_.pop_front();
                    have_reply = true;
                }
            }
            if (!have_reply || (!next.read_body && next.pieces.empty() && !next.hold_after)) {
                record(std::move(request));
                conn.reset();
                count(server_closes_);
                return;
            }
            if (next.read_body && !read_body(conn.get(), buffer, content_length(request.head), request.body)) {
                record(std::move(request));
                count(client_closes_);
                return;
            }
            record(std::move(request));
            for (std::size_t i = 0; i < next.pieces.size(); ++i) {
                if (i > 0 && next.gap.count() > 0) std::this_thread::sleep_for(next.gap);
                if (!write_all(conn.get(), next.pieces[i].data(), next.pieces[i].size())) return;
            }
            if (next.hold_after) {
                while (!stopping_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
                return;
            }
            if (next.close_after) {
                conn.reset();
                count(server_closes_);
                return;
            }
        }
    }

    void record(Request request) {
        std::lock_guard lock(mutex_);
        requests_.push_back(std::move(request));
        changed_.notify_all();
    }
    void count(std::atomic<std::uint32_t>& counter) {
        std::lock_guard lock(mutex_);
        ++counter;
        changed_.notify_all();
    }

    std::uint16_t port_ = 0;
    Fd listener_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> close_on_accept_{false};
    std::atomic<std::uint32_t> connections_{0};
    std::atomic<std::uint32_t> server_closes_{0};
    std::atomic<std::uint32_t> client_closes_{0};
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<Reply> replies_;
    std::vector<Request> requests_;
    std::thread acceptor_;
    std::vector<std::thread> workers_;
};

}  // namespace supervent::net::test
