#pragma once
// Syslog sinks: syslog+tcp:// and syslog+tls:// (RFC 6587 / RFC 5425 byte
// streams) and syslog+udp:// (RFC 5426, one message per datagram).
//
// A slot holds the batch as the engine rendered it (NDJSON); the transport
// turns it into syslog frames (net/syslog_format.hpp) a piece at a time in a
// buffer of each connection's own, and sends that. The slot's buffer is
// never handed to the kernel, so it settles as soon as its outcome is known.
//
// What "acknowledged" means (syslog has no answer to wait for):
//   tcp/tls  every byte of the batch was sent and the receiving host's TCP
//            acknowledged it (SIOCOUTQ, polled while batches wait), on a
//            connection not reset by then. Bytes a receiver's kernel took but
//            the daemon never read are lost when the daemon dies: so when a
//            connection is reset or closed, batches acknowledged on it within
//            `ambiguity_window_ns` before are counted as ambiguous
//            (requests_ambiguous), as are batches that were retried after
//            some of their bytes went out (those may be duplicated).
//   udp      every datagram of the batch was sent (the kernel took it):
//            nobody can tell whether it arrived.
// A connection reset, refused connect or timeout retries the batch by time
// (network.retry_for) like an HTTP sink's.
#include <sys/socket.h>

#include <array>
#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/backoff.hpp"
#include "net/ring.hpp"
#include "net/syslog_format.hpp"
#include "net/tls_client.hpp"
#include "net/transport.hpp"

namespace supervent::net {

struct SyslogTransportConfig {
    sockaddr_storage address{};
    socklen_t address_bytes = 0;
    std::vector<sockaddr_storage> local_addresses;  // --bind: connection i uses entry i % size
    bool datagram = false;                          // syslog+udp://
    std::uint32_t connections = 1;                  // tcp/tls; udp uses one socket
    SyslogFormatOptions format;
    // The largest rendered event (ScenarioEngine::event_bytes_max): a frame
    // buffer must hold at least one converted event.
    std::size_t event_bytes_max = 4096;
    std::size_t frame_buffer_bytes = 1 << 20;  // per connection; grown to fit one event
    std::int64_t connect_timeout_ns = 5'000'000'000;
    // A batch not acknowledged this long after it was handed to a connection
    // fails the connection (the receiver stopped reading).
    std::int64_t request_timeout_ns = 30'000'000'000;
    std::int64_t reconnect_backoff_min_ns = 50'000'000;
    std::int64_t reconnect_backoff_max_ns = 2'000'000'000;
    std::int64_t ack_poll_ns = 1'000'000;           // SIOCOUTQ while batches wait for TCP's ack
    std::int64_t ambiguity_window_ns = 1'000'000'000;
    std::uint32_t shard_index = 0;
    TlsClientConfig tls;  // syslog+tls://
};

class SyslogStreamTransport final : public Transport {
public:
    static constexpr std::uint32_t depth_max = 8;  // batches in flight per connection
    static constexpr std::uint32_t acked_history = 64;  // acknowledgements remembered for the ambiguity count

    SyslogStreamTransport(Ring& ring, SlotListener& listener, SyslogTransportConfig config);
    ~SyslogStreamTransport() override;

    bool try_start(Slot& slot, std::int64_t now_ns) override;
    void on_completion(const io_uring_cqe& cqe, CompletionTag tag, std::int64_t now_ns) override;
    void on_tick(std::int64_t now_ns, bool work_waiting) override;
    [[nodiscard]] std::int64_t next_deadline_ns() const override;
    void abort_in_flight(std::int64_t now_ns) override;
    void begin_shutdown() override;
    [[nodiscard]] bool quiescent() const override;
    [[nodiscard]] const std::string& fatal_error() const override { return fatal_error_; }
    [[nodiscard]] const TransportCounters& counters() const override { return counters_; }

private:
    enum class ConnState : std::uint8_t { closed, connecting, handshaking, ready, closing };
    struct Connection {
        std::uint32_t index = 0;
        ConnState state = ConnState::closed;
        int fd = -1;
        std::uint32_t generation = 0;
        std::uint32_t ops_outstanding = 0;
        bool recv_posted = false;
        bool send_posted = false;
        // Slots in wire order; the first framed_count are wholly converted
        // and their stream ends known. Stream offsets count every byte this
        // socket was given (TLS: ciphertext, the handshake's too).
        std::array<std::uint32_t, depth_max> slots{};
        std::array<std::uint64_t, depth_max> start_offset{};
        std::array<std::uint64_t, depth_max> end_offset{};
        std::uint32_t count = 0;
        std::uint32_t framed_count = 0;
        std::size_t in_offset = 0;       // NDJSON bytes of slots[framed_count] converted so far
        std::uint64_t stream_queued = 0; // bytes given to the send path
        std::uint64_t stream_sent = 0;   // bytes the kernel took
        std::unique_ptr<char[]> frames;  // converted frames waiting to be sent (plain) or encrypted (TLS)
        std::size_t frame_bytes = 0;
        std::size_t frame_sent = 0;
        std::int64_t deadline_ns = 0;    // connect/handshake timeout, or the oldest batch's
        std::int64_t poll_at_ns = INT64_MAX;  // the next SIOCOUTQ look while sent batches wait
        std::int64_t reconnect_at_ns = 0;
        std::uint32_t failures_in_row = 0;
        // When the last acked_history batches were acknowledged (a ring): a
        // receiver's socket buffer holds a few MiB, many small batches.
        std::array<std::int64_t, acked_history> acked_at_ns{};
        std::uint32_t acked_next = 0;
        std::unique_ptr<char[]> recv_buffer;
        std::unique_ptr<TlsSession> tls;
        bool tls_send_posted = false;
        bool handshake_done = false;
    };

    [[nodiscard]] Connection* connection_with_room();
    void open(Connection& conn, std::int64_t now_ns);
    void on_connect(Connection& conn, int result, std::int64_t now_ns);
    void post_recv(Connection& conn);
    void on_recv(Connection& conn, int result, std::int64_t now_ns);
    void on_send(Connection& conn, int result, std::int64_t now_ns);
    // Converts, sends or encrypts what the connection has next.
    void pump(Connection& conn, std::int64_t now_ns);
    [[nodiscard]] bool convert_next(Connection& conn);
    void post_frames(Connection& conn);
    void flush_tls(Connection& conn);
    void drive_handshake(Connection& conn, std::int64_t now_ns);
    // Acknowledges the batches whose every byte the peer's TCP took.
    void confirm(Connection& conn, std::int64_t now_ns);
    void decide_front(Connection& conn, Verdict verdict, FailReason reason, std::int64_t now_ns);
    void fail_connection(Connection& conn, FailReason reason, std::int64_t now_ns);
    void sink_unreachable(Connection& conn, FailReason reason, std::int64_t now_ns);
    void close_when_quiet(Connection& conn);
    void note_failure(FailReason reason, std::string_view detail, std::int64_t now_ns);
    [[nodiscard]] Connection& connection_at(std::uint32_t index) { return connections_.at(index); }

    Ring& ring_;
    SlotListener& listener_;
    SyslogTransportConfig config_;
    std::vector<Connection> connections_;
    std::uint32_t next_connection_ = 0;
    Backoff backoff_;
    bool shutting_down_ = false;
    bool work_waiting_ = false;
    std::string fatal_error_;
    int pending_errno_ = 0;
    TransportCounters counters_;
    std::unique_ptr<TlsContext> tls_context_;
};

class SyslogDatagramTransport final : public Transport {
public:
    static constexpr std::uint32_t datagrams_in_flight_max = 64;
    static constexpr std::uint32_t frames_per_chunk_max = 1024;

    SyslogDatagramTransport(Ring& ring, SlotListener& listener, SyslogTransportConfig config);
    ~SyslogDatagramTransport() override;

    bool try_start(Slot& slot, std::int64_t now_ns) override;
    void on_completion(const io_uring_cqe& cqe, CompletionTag tag, std::int64_t now_ns) override;
    void on_tick(std::int64_t now_ns, bool work_waiting) override;
    [[nodiscard]] std::int64_t next_deadline_ns() const override;
    void abort_in_flight(std::int64_t) override {}  // a datagram send completes on its own
    void begin_shutdown() override { shutting_down_ = true; }
    [[nodiscard]] bool quiescent() const override { return in_flight_ == 0 && slot_ == nullptr; }
    [[nodiscard]] const std::string& fatal_error() const override { return fatal_error_; }
    [[nodiscard]] const TransportCounters& counters() const override { return counters_; }

private:
    bool open(std::int64_t now_ns);
    void pump(std::int64_t now_ns);
    void finish_slot(std::int64_t now_ns);

    Ring& ring_;
    SlotListener& listener_;
    SyslogTransportConfig config_;
    int fd_ = -1;
    std::uint32_t generation_ = 0;
    std::int64_t reopen_at_ns_ = 0;
    std::uint32_t failures_in_row_ = 0;
    Backoff backoff_;
    Slot* slot_ = nullptr;                 // the batch being sent (one at a time)
    std::size_t in_offset_ = 0;            // its NDJSON converted so far
    std::unique_ptr<char[]> frames_;
    std::unique_ptr<std::uint32_t[]> frame_ends_;
    std::uint32_t frame_count_ = 0;        // in the buffer
    std::uint32_t frame_next_ = 0;         // the next to post
    std::uint32_t in_flight_ = 0;
    bool slot_failed_ = false;             // a datagram of it was refused
    bool slot_rejected_ = false;           // a message did not fit a datagram: the batch fails for good
    bool any_sent_ = false;
    bool shutting_down_ = false;
    std::string fatal_error_;
    TransportCounters counters_;
};

}  // namespace supervent::net
