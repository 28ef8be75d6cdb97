#pragma once
// Keep-alive HTTP/1.1 connections from one shard to one sink, all driven by
// the shard's ring: connect, SEND_ZC (or WRITE_FIXED) of a slot's wire bytes,
// recv of the response, parse, verdict. Throughput comes from several
// connections (DESIGN.md §4), each with up to `pipeline_depth` requests in
// flight: the next request goes on the wire as soon as the one before it has
// been sent, not when its answer arrives, so a connection does not stand
// idle for a round trip per batch and the shard need not keep batches
// queued (and wake up to retry them) while every connection is busy.
//
// With `tls.enabled` (https://) each connection also runs a TlsSession
// (net/tls_client.hpp): the handshake's and every request's ciphertext is
// sent by the ring from the connection's own buffer, responses are
// decrypted into the same response buffer plain HTTP uses, and everything
// after the decryption is shared.
#include <sys/socket.h>

#include <array>
#include <climits>
#include <cassert>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/api_acks.hpp"
#include "net/api_bodies.hpp"
#include "net/api_replies.hpp"
#include "net/backoff.hpp"
#include "net/http_request.hpp"
#include "net/http_response.hpp"
#include "net/pipeline_depth.hpp"
#include "net/ring.hpp"
#include "net/tls_client.hpp"
#include "net/transport.hpp"

namespace supervent::net {

struct HttpTransportConfig {
    sockaddr_storage address{};
    socklen_t address_bytes = 0;
    IngestTarget target;
    // Further paths (datasets) a batch may go to: a slot with route r > 0 is
    // posted to route_paths[r - 1], with target's other headers. Route 0 is target.path.
    std::vector<std::string> route_paths;
    // Local addresses to bind before connecting; connection i uses entry
    // i % size. Empty: the kernel chooses.
    std::vector<sockaddr_storage> local_addresses;
    std::uint32_t connections = 2;
    // Requests in flight per connection (HTTP/1.1 pipelining; answers come
    // back in order). 1 = wait for each answer. https:// always uses 1: a
    // connection's ciphertext buffer holds one request.
    std::uint32_t pipeline_depth = 2;
    // How deep the pipeline may grow while the sink is far (net/pipeline_depth.hpp):
    // the shard has a slot for each request (bounds::http_slots_per_connection).
    // The default keeps the starting depth.
    std::uint32_t pipeline_depth_max = 2;
    bool tcp_nodelay = true;
    // SO_SNDBUF per connection to a loopback sink (the kernel doubles it);
    // 0 = autotuning there too. A fixed, moderate buffer measured faster over
    // loopback than autotuning (grown to 4 MiB): the kernel copies a slot in
    // pieces the receiver takes while they are still in cache, and the
    // sender's system time per byte halved (BENCHMARKS.md, end to end). Other
    // destinations keep autotuning: a WAN's bandwidth-delay product needs the
    // room (512 KiB would cap a 50 ms path near 20 MB/s per connection).
    std::uint32_t loopback_send_buffer_bytes = 512 * 1024;
    bool zero_copy = true;          // SEND_ZC; false = WRITE_FIXED (copying)
    bool zc_report_usage = false;   // ask the kernel whether it copied after all (6.2+)
    // "auto": give up on SEND_ZC for plain sends when the kernel reports that
    // it copies anyway (loopback, some NICs): then zero copy only costs.
    bool zc_adaptive = false;
    // With zc_adaptive, a loopback sink gets WRITE_FIXED from the start: it
    // always copies, and sampling notifications first only costs. false =
    // sample there like anywhere else (how tests exercise the sampling).
    bool zc_loopback_known = true;
    std::int64_t connect_timeout_ns = 5'000'000'000;
    std::int64_t request_timeout_ns = 30'000'000'000;
    std::int64_t reconnect_backoff_min_ns = 50'000'000;
    // Capped low: while the sink is down a connect every 2 s costs it a SYN,
    // and a sink back from an outage is found within 2 s.
    std::int64_t reconnect_backoff_max_ns = 2'000'000'000;
    std::uint32_t shard_index = 0;  // seeds the backoff jitter
    TlsClientConfig tls;            // https://
    // Which API answers (net/api_replies.hpp): Axiom's reply, or an HTTP
    // log API's. Elasticsearch lists every item, so its answers may be
    // larger than Axiom's: the response buffers are this large.
    LogApi api = LogApi::axiom;
    std::size_t response_bytes_max = bounds::http_response_bytes_max;
    // Splunk HEC indexer acknowledgement (net/api_acks.hpp): a 2xx with an
    // ackId holds the batch until POST /services/collector/ack says true.
    // Each worker then uses its own channel: the X-Splunk-Request-Channel
    // GUID of target.extra_headers with shard_index added to its last digits.
    HecAckConfig hec_ack;
};

// What TLS did on this transport's connections (tests, benchmarks).
struct TlsCounters {
    std::uint64_t handshakes = 0;        // completed
    std::uint64_t resumed = 0;           // of which resumed a kept session
    std::uint64_t ktls_connections = 0;  // whose sends the kernel encrypts
    std::uint64_t sealed_connections = 0;  // whose records our sealer encrypts (TLS 1.3, no kTLS)
    std::uint64_t renewals = 0;          // connections replaced for fresh keys (record limit, KeyUpdate)
    int ktls_unavailable_errno = 0;      // why kTLS is off (ENOENT: no tls module); 0 = not probed or on
    // Ciphertext goes out by WRITE_FIXED from buffers registered with the
    // ring, when its buffer table had room for them (else by plain send).
    bool cipher_buffers_registered = false;
    std::uint64_t cipher_fixed_writes = 0;
    std::string last_version;            // "TLSv1.3"
};

class HttpTransport final : public Transport {
public:
    HttpTransport(Ring& ring, SlotListener& listener, HttpTransportConfig config);
    ~HttpTransport() override;

    bool try_start(Slot& slot, std::int64_t now_ns) override;
    void on_completion(const io_uring_cqe& cqe, CompletionTag tag, std::int64_t now_ns) override;
    void on_tick(std::int64_t now_ns, bool work_waiting) override;
    [[nodiscard]] std::int64_t next_deadline_ns() const override;
    void abort_in_flight(std::int64_t now_ns) override;
    void begin_shutdown() override;
    [[nodiscard]] bool quiescent() const override;
    [[nodiscard]] const std::string& fatal_error() const override { return fatal_error_; }
    [[nodiscard]] const TransportCounters& counters() const override { return counters_; }

    // The size of the request head this transport writes in front of bodies.
    [[nodiscard]] std::size_t head_bytes_max() const;
    // Adds a route (dataset path) after the existing ones, with the same
    // headers as route 0: a live scenario swap. Routes are never removed or
    // renumbered, so a slot queued or retried with an older route still goes
    // where it was meant to. Throws std::length_error past
    // bounds::http_routes_max routes or when the head would not fit the head
    // room. Allocates: call it at a swap, not per batch.
    void add_route(std::string path);
    [[nodiscard]] std::size_t route_count() const { return heads_.size(); }
    [[nodiscard]] const TlsCounters& tls_counters() const { return tls_counters_; }
    [[nodiscard]] std::uint32_t pipeline_depth() const { return depth_.depth(); }

private:
    enum class ConnState : std::uint8_t { closed, connecting, handshaking, idle, busy, closing };
    struct Connection {
        std::uint32_t index = 0;
        ConnState state = ConnState::closed;
        int fd = -1;
        std::uint32_t generation = 0;
        std::uint32_t ops_outstanding = 0;  // SQEs that reference fd
        bool recv_posted = false;
        // Slot indices of the requests in flight, in wire order: requests[0]
        // is answered by the next response. The first sent_count of them are
        // wholly sent; requests[sent_count] is being sent (sent_bytes so far).
        std::array<std::uint32_t, bounds::http_pipeline_depth_limit> requests{};
        std::uint32_t request_count = 0;
        std::uint32_t sent_count = 0;
        // TLS sealed by us: the first sealed_count are sealed (sent_count <=
        // sealed_count <= request_count); see seal_next_request.
        std::uint32_t sealed_count = 0;
        std::size_t sent_bytes = 0;
        bool send_done = false;             // every byte handed to this connection is sent
        std::int64_t deadline_ns = 0;       // connect timeout, or the oldest request's timeout
        std::int64_t reconnect_at_ns = 0;
        std::uint32_t failures_in_row = 0;
        bool answered = false;              // a response came on this socket
        std::unique_ptr<char[]> recv_buffer;  // response bytes (plaintext)
        std::size_t recv_bytes = 0;
        // https only
        std::unique_ptr<TlsSession> tls;
        bool tls_send_posted = false;  // a send of tls->out() is in flight
        int tls_out_buffer_index = -1;  // tls->out() as a registered buffer; -1: not registered
        bool handshake_done = false;
        bool ktls_tx = false;          // the kernel encrypts: slots go out as plaintext
        bool close_after_tls_send = false;  // a failed handshake's alert is on its way to the server
    };

    [[nodiscard]] Connection* connection_with_room();
    // Every connection is open and holds as many requests as the depth allows.
    [[nodiscard]] bool all_connections_full() const;
    [[nodiscard]] bool tls_keys_nearly_spent(const Connection& conn) const;
    void open(Connection& conn, std::int64_t now_ns);
    void post_recv(Connection& conn);
    void post_send(Connection& conn, Slot& slot);
    bool seal_next_request(Connection& conn, std::int64_t now_ns);
    void on_taken(Connection& conn, const Slot& slot, std::int64_t now_ns);
    void on_connect(Connection& conn, int result, std::int64_t now_ns);
    void on_send(Slot& slot, const io_uring_cqe& cqe, std::uint32_t conn_index, std::int64_t now_ns);
    void on_notification(Slot& slot, const io_uring_cqe& cqe, std::int64_t now_ns);
    void on_recv(Connection& conn, int result, std::int64_t now_ns);
    void on_response_bytes(Connection& conn, bool at_eof, std::int64_t now_ns);
    // TLS: the ring's side of each TlsSession.
    void start_tls(Connection& conn, std::int64_t now_ns);
    void drive_handshake(Connection& conn, std::int64_t now_ns);
    void finish_handshake_when_sent(Connection& conn, std::int64_t now_ns);
    void register_cipher_buffers();
    void fail_handshake(Connection& conn, FailReason reason, std::int64_t now_ns);
    // A connect or handshake failed: counts it, charges the shard's oldest
    // waiting batch, and brings the reconnect forward to that batch's retry.
    void sink_unreachable(Connection& conn, FailReason reason, std::int64_t now_ns);
    void on_tls_recv(Connection& conn, int result, std::int64_t now_ns);
    void flush_tls(Connection& conn);
    void on_tls_send(Connection& conn, int result, std::int64_t now_ns);
    [[nodiscard]] bool on_one_response(Connection& conn, bool at_eof, std::int64_t now_ns);
    void on_response(Connection& conn, const HttpResponse& response, std::int64_t now_ns);
    void on_api_answer(Connection& conn, const HttpResponse& response, std::int64_t now_ns);
    void on_error_answer(Connection& conn, const HttpResponse& response, std::int64_t now_ns);
    [[nodiscard]] static std::int64_t asked_retry_at_ns(const HttpResponse& response, std::int64_t now_ns);
    // Records a failed attempt in counters_ (with pending_errno_, then cleared).
    void note_failure(FailReason reason, int status, std::string_view detail, std::int64_t now_ns);
    void decide(Connection& conn, Verdict verdict, FailReason reason, std::uint32_t acked_events,
                std::int64_t retry_at_ns, std::int64_t now_ns);
    // Retries every request on the connection and closes it. charge_oldest:
    // the oldest request's retry costs it an attempt (a timeout, a reset);
    // false when the request at fault was already decided (an answer that
    // closes the connection), so those behind it lose nothing.
    void fail_connection(Connection& conn, FailReason reason, std::int64_t now_ns, bool charge_oldest = true);
    void close_when_quiet(Connection& conn, std::int64_t now_ns);
    void settle_if_ready(Slot& slot, std::int64_t now_ns);
    // The oldest request leaves the connection (answered or given up).
    void pop_request(Connection& conn);
    // Posts the send of the connection's next request (requests[sent_count]): a slot or an ack poll.
    void post_next_send(Connection& conn);
    // HEC indexer acknowledgement (net/api_acks.hpp, net/http_acks.cpp).
    // conn.requests holds this in place of a slot index for an ack poll.
    static constexpr std::uint32_t ack_poll_request = UINT32_MAX;
    void setup_acks();
    void hold_for_ack(Connection& conn, std::uint64_t ack_id, std::int64_t now_ns);
    void settle_held(std::uint32_t slot_index, Verdict verdict, FailReason reason, std::int64_t now_ns);
    void give_up_lost_acks(std::int64_t now_ns);
    void start_ack_poll(std::int64_t now_ns);
    void post_poll_send(Connection& conn);
    void on_poll_send(Connection& conn, int result, std::int64_t now_ns);
    void on_poll_answer(Connection& conn, const HttpResponse& response, std::int64_t now_ns);
    [[nodiscard]] std::int64_t backoff_ns(std::uint32_t failures);
    // A connection named by a completion tag: the tags are our own, so the
    // index is always one we gave out.
    [[nodiscard]] Connection& connection_at(std::uint32_t index) {
        assert(index < connections_.size());
        return connections_[index];
    }

    Ring& ring_;
    SlotListener& listener_;
    HttpTransportConfig config_;
    std::vector<RequestHead> heads_;  // one per route (dataset)
    std::vector<Connection> connections_;
    std::unique_ptr<char[]> body_scratch_;
    std::size_t response_bytes_max_;
    IngestReplyParser reply_parser_;
    std::unique_ptr<ApiReplyParser> api_reply_parser_;  // an HTTP log API other than Axiom's
    std::uint32_t next_connection_ = 0;
    Backoff backoff_;  // reconnect delays
    PipelineDepth depth_;  // requests in flight per connection, adapted to the sink's distance
    bool loopback_ = false;             // the sink is on this machine's loopback
    bool shutting_down_ = false;
    bool work_waiting_ = false;  // as of the last on_tick: closed connections matter only then
    std::string fatal_error_;
    int pending_errno_ = 0;  // the errno of the socket call whose failure is about to be noted
    TransportCounters counters_;
    std::unique_ptr<TlsContext> tls_context_;  // https only
    bool ktls_wanted_ = false;                  // until the kernel says it has no TLS ULP
    TlsCounters tls_counters_;
    // HEC acks: held batches, the poll request (head and body, one in flight), when the next is due.
    std::unique_ptr<HecAckTable> acks_;
    std::unique_ptr<RequestHead> poll_head_;
    std::unique_ptr<char[]> poll_buffer_;
    std::size_t poll_buffer_bytes_ = 0;
    const char* poll_data_ = nullptr;
    std::size_t poll_bytes_ = 0;
    bool poll_in_flight_ = false;
    std::uint32_t poll_sends_outstanding_ = 0;  // ack_send SQEs the kernel has not returned
    std::int64_t next_poll_ns_ = 0;
    std::unique_ptr<std::uint64_t[]> acked_ids_;  // an ack poll's answer
};

}  // namespace supervent::net
