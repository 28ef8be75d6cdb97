#include "net/http_transport.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <vector>

#include "core/bounds.hpp"

namespace supervent::net {
namespace {

// Not in liburing 2.3's headers; kernel ABI since 6.2.
constexpr std::uint16_t send_zc_report_usage = 1u << 3;
constexpr std::uint32_t notif_usage_zc_copied = 1u << 31;

constexpr std::int64_t ns_per_s = 1'000'000'000;
// A 429's reset time is honoured up to this far ahead.
constexpr std::int64_t rate_limit_wait_max_ns = 120 * ns_per_s;

std::int64_t realtime_s() {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec;
}

// A loopback destination gets every zero-copy send copied on delivery
// (IORING_NOTIF_USAGE_ZC_COPIED, each time): SEND_ZC there only adds page
// pinning and notifications to the copy.
bool is_loopback(const sockaddr_storage& address) {
    if (address.ss_family == AF_INET) {
        const auto& ipv4 = reinterpret_cast<const sockaddr_in&>(address);
        return (ntohl(ipv4.sin_addr.s_addr) >> 24) == 127;
    }
    if (address.ss_family == AF_INET6) {
        const auto& ipv6 = reinterpret_cast<const sockaddr_in6&>(address);
        return IN6_IS_ADDR_LOOPBACK(&ipv6.sin6_addr) || (IN6_IS_ADDR_V4MAPPED(&ipv6.sin6_addr) && ipv6.sin6_addr.s6_addr[12] == 127);
    }
    return false;
}

std::vector<RequestHead> make_heads(const HttpTransportConfig& config) {
    std::vector<RequestHead> heads{RequestHead(config.target)};
    for (const std::string& path : config.route_paths) {
        IngestTarget target = config.target;
        target.path = path;
        heads.emplace_back(target);
    }
    return heads;
}

// HTTP and HTTPS alike start at the configured depth and may deepen to
// their max. (HTTPS sends its requests' ciphertext one after another through
// the connection's one cipher buffer: see seal_next_request.)
std::uint32_t first_depth(const HttpTransportConfig& config) {
    return std::clamp<std::uint32_t>(config.pipeline_depth, 1, bounds::http_pipeline_depth_limit);
}

std::uint32_t depth_limit(const HttpTransportConfig& config) {
    return std::clamp<std::uint32_t>(std::max(config.pipeline_depth, config.pipeline_depth_max), 1,
                                     bounds::http_pipeline_depth_limit);
}

}  // namespace

std::size_t HttpTransport::head_bytes_max() const {
    std::size_t bytes = 0;
    for (const RequestHead& head : heads_) bytes = std::max(bytes, head.bytes_max());
    return bytes;
}

void HttpTransport::add_route(std::string path) {
    if (heads_.size() >= bounds::http_routes_max) {
        throw std::length_error("at most " + std::to_string(bounds::http_routes_max) +
                                " datasets (request paths) per run, counting every dataset a reload added");
    }
    IngestTarget target = config_.target;
    target.path = std::move(path);
    RequestHead head(target);
    if (head.bytes_max() > bounds::http_head_room_bytes) {
        throw std::length_error("the HTTP request head for " + target.path + " does not fit its head room");
    }
    config_.route_paths.push_back(target.path);
    heads_.push_back(std::move(head));
}

HttpTransport::HttpTransport(Ring& ring, SlotListener& listener, HttpTransportConfig config)
    : ring_(ring),
      listener_(listener),
      config_(std::move(config)),
      heads_(make_heads(config_)),
      connections_(config_.connections),
      body_scratch_(std::make_unique<char[]>(config_.response_bytes_max)),
      response_bytes_max_(config_.response_bytes_max),
      reply_parser_(bounds::http_response_bytes_max),
      backoff_(0x9e3779b97f4a7c15ULL * (config_.shard_index + 1)),
      depth_(first_depth(config_), depth_limit(config_), config_.connections),
      loopback_(is_loopback(config_.address)) {
    assert(config_.connections >= 1 && config_.connections <= bounds::connections_per_shard_max);
    if (config_.zc_adaptive && config_.zc_loopback_known && config_.zero_copy && loopback_) {
        // "auto" would find out after its sample of notifications; decide at once.
        config_.zero_copy = false;
        counters_.zc_abandoned = true;
    }
    if (config_.tls.enabled) {
        tls_context_ = std::make_unique<TlsContext>(config_.tls);
        ktls_wanted_ = config_.tls.ktls;
    }
    // Ciphertext buffers are allocated here, for the largest request, so the
    // data path never allocates.
    const std::size_t tls_out_bytes =
        tls_out_capacity(std::max(config_.tls.request_bytes_max, tls_in_capacity), config_.tls.record_plain_bytes);
    for (std::uint32_t i = 0; i < connections_.size(); ++i) {
        connections_[i].index = i;
        connections_[i].recv_buffer = std::make_unique<char[]>(response_bytes_max_);
        if (tls_context_) connections_[i].tls = std::make_unique<TlsSession>(*tls_context_, tls_out_bytes, tls_in_capacity);
    }
    if (tls_context_) register_cipher_buffers();
    if (config_.api != LogApi::axiom) api_reply_parser_ = std::make_unique<ApiReplyParser>(response_bytes_max_);
    if (config_.hec_ack.enabled && config_.api == LogApi::splunk_hec) {
        setup_acks();                   // the worker's own channel header (net/http_acks.cpp) …
        heads_ = make_heads(config_);   // … in every route's head
    }
    counters_.pipeline_depth = depth_.depth();
}

void HttpTransport::register_cipher_buffers() {
    // Records are encrypted into each connection's out buffer; registered,
    // the ring writes them with WRITE_FIXED like the slots (no page pinning
    // per send). A ring whose table has no room keeps plain sends.
    std::vector<iovec> buffers;
    buffers.reserve(connections_.size());
    for (Connection& conn : connections_) buffers.push_back(iovec{conn.tls->out().data.get(), conn.tls->out().capacity});
    const std::optional<std::uint32_t> first = ring_.add_buffers(buffers);
    if (!first) return;
    for (std::uint32_t i = 0; i < connections_.size(); ++i) {
        connections_[i].tls_out_buffer_index = static_cast<int>(*first + i);
    }
    tls_counters_.cipher_buffers_registered = true;
}

HttpTransport::~HttpTransport() {
    for (Connection& conn : connections_) {
        if (conn.fd >= 0) ::close(conn.fd);
    }
}

std::int64_t HttpTransport::backoff_ns(std::uint32_t failures) {
    return backoff_.delay_ns(failures, config_.reconnect_backoff_min_ns, config_.reconnect_backoff_max_ns);
}

// An idle connection if there is one (round robin), else the busy one with
// the fewest requests in flight below the pipeline depth; null when none.
HttpTransport::Connection* HttpTransport::connection_with_room() {
    Connection* least_busy = nullptr;
    for (std::uint32_t tried = 0; tried < connections_.size(); ++tried) {
        Connection& conn = connections_[(next_connection_ + tried) % connections_.size()];
        if (conn.state == ConnState::idle) {
            next_connection_ = (conn.index + 1) % connections_.size();
            return &conn;
        }
        // Pipelined only once an answer has shown the server keeps the
        // connection open: a server that closes after each answer would
        // throw the second request away (RFC 9112 §9.6) and cost a retry.
        if (conn.state == ConnState::busy && conn.answered && conn.request_count < depth_.depth() &&
            !tls_keys_nearly_spent(conn) &&
            (least_busy == nullptr || conn.request_count < least_busy->request_count)) {
            least_busy = &conn;
        }
    }
    return least_busy;
}

// A busy TLS connection whose keys could not seal one more request on top
// of those it holds takes no more: it drains, goes idle, and try_start
// renews it (the pipeline never stays full long enough to block renewal).
bool HttpTransport::tls_keys_nearly_spent(const Connection& conn) const {
    return conn.tls && conn.tls->must_renew(std::size_t{conn.request_count + 1} * config_.tls.request_bytes_max);
}

bool HttpTransport::all_connections_full() const {
    return std::all_of(connections_.begin(), connections_.end(), [this](const Connection& conn) {
        return conn.state == ConnState::busy && conn.answered && conn.request_count >= depth_.depth();
    });
}

bool HttpTransport::try_start(Slot& slot, std::int64_t now_ns) {
    if (shutting_down_ || !fatal_error_.empty()) return false;
    Connection* found = connection_with_room();
    if (found == nullptr) {
        if (all_connections_full()) depth_.note_no_room();  // the pipeline, not the sink's state, held it back
        return false;
    }
    Connection& conn = *found;
    if (conn.tls && conn.state == ConnState::idle && conn.tls->must_renew(slot.wire_bytes)) {
        // Its keys have sealed their share of records, or the peer asked for
        // a KeyUpdate: a fresh handshake brings fresh keys (the slot waits).
        ++tls_counters_.renewals;
        fail_connection(conn, FailReason::none, now_ns);
        return false;
    }

    // Routes are the shard's own numbering of add_route's paths.
    assert(slot.route < heads_.size());
    const RequestHead& head = heads_[slot.route];
    assert(slot.body_offset >= head.bytes_max());
    const std::size_t head_bytes = head.write_before(slot.data + slot.body_offset, slot.body_bytes);
    slot.wire_offset = slot.body_offset - head_bytes;
    slot.wire_bytes = head_bytes + slot.body_bytes;
    slot.move_to(SlotState::sending);
    slot.outcome_decided = false;
    slot.send_started_ns = now_ns;

    if (conn.state == ConnState::idle) {
        conn.state = ConnState::busy;
        conn.recv_bytes = 0;
        conn.deadline_ns = now_ns + config_.request_timeout_ns;
    }
    conn.requests[conn.request_count++] = slot.index;
    conn.send_done = false;
    if (conn.tls && !conn.ktls_tx) {
        seal_next_request(conn, now_ns);  // now, or when the requests before it are on the wire
    } else if (conn.sent_count + 1 == conn.request_count) {
        // Nothing ahead of it still going out: send now (plain HTTP, or kTLS:
        // the kernel encrypts the slot). Otherwise on_send starts it when the
        // request before it is on the wire, keeping the byte stream in order.
        conn.sent_bytes = 0;
        post_send(conn, slot);
    }
    return true;
}

void HttpTransport::open(Connection& conn, std::int64_t now_ns) {
    const auto family = config_.address.ss_family;
    conn.fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (conn.fd < 0) {
        pending_errno_ = errno;
        conn.reconnect_at_ns = now_ns + backoff_ns(++conn.failures_in_row);
        sink_unreachable(conn, FailReason::connect, now_ns);
        return;
    }
    if (config_.tcp_nodelay) {
        const int one = 1;
        (void)setsockopt(conn.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (loopback_ && config_.loopback_send_buffer_bytes > 0) {
        const int bytes = static_cast<int>(config_.loopback_send_buffer_bytes);
        (void)setsockopt(conn.fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);  // best effort: capped by wmem_max
    }
    if (!config_.local_addresses.empty()) {
        const sockaddr_storage& local = config_.local_addresses[conn.index % config_.local_addresses.size()];
        const socklen_t local_bytes = local.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
        if (::bind(conn.fd, reinterpret_cast<const sockaddr*>(&local), local_bytes) != 0) {
            pending_errno_ = errno;
            ::close(conn.fd);
            conn.fd = -1;
            conn.reconnect_at_ns = now_ns + backoff_ns(++conn.failures_in_row);
            sink_unreachable(conn, FailReason::connect, now_ns);
            return;
        }
    }
    ++conn.generation;
    conn.state = ConnState::connecting;
    conn.deadline_ns = now_ns + config_.connect_timeout_ns;

    io_uring_sqe* sqe = ring_.next_sqe();
    io_uring_prep_connect(sqe, conn.fd, reinterpret_cast<const sockaddr*>(&config_.address), config_.address_bytes);
    io_uring_sqe_set_data64(sqe, CompletionTag::connection(Op::connect, conn.index, conn.generation).encode());
    ++conn.ops_outstanding;
}

void HttpTransport::post_recv(Connection& conn) {
    assert(!conn.recv_posted);
    char* into = conn.recv_buffer.get() + conn.recv_bytes;
    std::size_t room = response_bytes_max_ - conn.recv_bytes;
    if (conn.tls) {
        // Ciphertext; OpenSSL drains it into its own record buffer, so
        // compacting leaves room for at least one more record.
        CipherBuffer& in = conn.tls->in();
        in.compact();
        into = in.free_space();
        room = in.free_bytes();
    }
    io_uring_sqe* sqe = ring_.next_sqe();
    io_uring_prep_recv(sqe, conn.fd, into, room, 0);
    io_uring_sqe_set_data64(sqe, CompletionTag::connection(Op::recv, conn.index, conn.generation).encode());
    conn.recv_posted = true;
    ++conn.ops_outstanding;
}

void HttpTransport::post_send(Connection& conn, Slot& slot) {
    const char* data = slot.wire_data() + conn.sent_bytes;
    const std::size_t bytes = slot.wire_bytes - conn.sent_bytes;
    io_uring_sqe* sqe = ring_.next_sqe();
    if (config_.zero_copy) {
        const std::uint16_t zc_flags = config_.zc_report_usage ? send_zc_report_usage : 0;
        io_uring_prep_send_zc_fixed(sqe, conn.fd, data, bytes, MSG_NOSIGNAL | MSG_WAITALL, zc_flags, slot.index);
    } else {
        io_uring_prep_write_fixed(sqe, conn.fd, data, static_cast<unsigned>(bytes), 0, static_cast<int>(slot.index));
    }
    // The slot leads: its notification must find it even after the connection has gone.
    io_uring_sqe_set_data64(sqe, CompletionTag::send(slot.index, conn.index, conn.generation).encode());
    ++slot.sends_outstanding;
    ++conn.ops_outstanding;
}

void HttpTransport::on_completion(const io_uring_cqe& cqe, CompletionTag tag, std::int64_t now_ns) {
    switch (tag.op) {
        case Op::connect: on_connect(connection_at(tag.connection_index()), cqe.res, now_ns); break;
        case Op::recv: on_recv(connection_at(tag.connection_index()), cqe.res, now_ns); break;
        case Op::tls_send: on_tls_send(connection_at(tag.connection_index()), cqe.res, now_ns); break;
        case Op::ack_send: on_poll_send(connection_at(tag.connection_index()), cqe.res, now_ns); break;
        case Op::send: {
            Slot& slot = listener_.slot_at(tag.slot_index());
            if ((cqe.flags & IORING_CQE_F_NOTIF) != 0) {
                on_notification(slot, cqe, now_ns);
            } else {
                on_send(slot, cqe, tag.connection_index(), now_ns);
            }
            break;
        }
        default: break;
    }
}

void HttpTransport::on_connect(Connection& conn, int result, std::int64_t now_ns) {
    --conn.ops_outstanding;
    if (conn.state == ConnState::closing) {
        close_when_quiet(conn, now_ns);
        return;
    }
    if (result < 0) {
        pending_errno_ = -result;
        ::close(conn.fd);
        conn.fd = -1;
        conn.state = ConnState::closed;
        conn.reconnect_at_ns = now_ns + backoff_ns(++conn.failures_in_row);
        sink_unreachable(conn, FailReason::connect, now_ns);
        return;
    }
    ++counters_.connects;
    conn.answered = false;
    conn.recv_bytes = 0;
    if (conn.tls) {
        start_tls(conn, now_ns);
        return;
    }
    conn.state = ConnState::idle;
    // A recv stays posted while connected, so a server closing an idle
    // keep-alive connection is noticed before we send on it.
    post_recv(conn);
}

void HttpTransport::on_send(Slot& slot, const io_uring_cqe& cqe, std::uint32_t conn_index, std::int64_t now_ns) {
    assert(slot.sends_outstanding > 0);
    --slot.sends_outstanding;
    if ((cqe.flags & IORING_CQE_F_MORE) != 0) ++slot.notifs_outstanding;
    Connection& conn = connection_at(conn_index);
    --conn.ops_outstanding;

    const bool still_ours = conn.sent_count < conn.request_count && conn.requests[conn.sent_count] == slot.index &&
                            !slot.outcome_decided;
    if (conn.state == ConnState::closing) {
        close_when_quiet(conn, now_ns);
    } else if (still_ours) {
        if (cqe.res < 0) {
            pending_errno_ = -cqe.res;
            fail_connection(conn, FailReason::transport, now_ns);
        } else {
            conn.sent_bytes += static_cast<std::size_t>(cqe.res);
            if (conn.sent_bytes < slot.wire_bytes) {
                post_send(conn, slot);  // short send: the rest from where it stopped
            } else {
                ++conn.sent_count;
                conn.sent_bytes = 0;
                conn.send_done = conn.sent_count == conn.request_count;
                if (!conn.send_done) post_next_send(conn);  // the next pipelined request
            }
        }
    }
    settle_if_ready(slot, now_ns);
}

void HttpTransport::on_notification(Slot& slot, const io_uring_cqe& cqe, std::int64_t now_ns) {
    assert(slot.notifs_outstanding > 0);
    --slot.notifs_outstanding;
    ++counters_.zc_notifications;
    if ((static_cast<std::uint32_t>(cqe.res) & notif_usage_zc_copied) != 0) ++counters_.zc_copied;
    // Once enough sends tell, decide: a path that copies anyway (loopback)
    // is faster with plain fixed-buffer writes.
    constexpr std::uint64_t zc_sample_notifications = 32;
    if (config_.zc_adaptive && config_.zero_copy && counters_.zc_notifications >= zc_sample_notifications &&
        counters_.zc_copied * 2 > counters_.zc_notifications) {
        config_.zero_copy = false;
        counters_.zc_abandoned = true;
    }
    settle_if_ready(slot, now_ns);
}

void HttpTransport::on_recv(Connection& conn, int result, std::int64_t now_ns) {
    --conn.ops_outstanding;
    conn.recv_posted = false;
    if (conn.state == ConnState::closing) {
        close_when_quiet(conn, now_ns);
        return;
    }
    if (result == -ENOBUFS || result == -EINTR || result == -EAGAIN) {
        post_recv(conn);
        return;
    }
    if (result < 0) pending_errno_ = -result;  // for the failure this read causes
    if (conn.tls) {
        on_tls_recv(conn, result, now_ns);
        return;
    }
    if (result > 0) conn.recv_bytes += static_cast<std::size_t>(result);
    on_response_bytes(conn, result <= 0, now_ns);
}

// New response bytes (plaintext) are in recv_buffer, or the peer closed.
void HttpTransport::on_response_bytes(Connection& conn, bool at_eof, std::int64_t now_ns) {
    // Answers to pipelined requests may arrive in one read: take each in turn.
    for (;;) {
        if (conn.state != ConnState::busy) {
            if (conn.recv_bytes == 0 && !at_eof) break;
            // Idle: the only thing a server may do now is close (an orderly end
            // of keep-alive); stray bytes mean the connection is broken. A close
            // before any response is a refusal (an overloaded server, say): it
            // backs off like a failed connect instead of reconnecting at once.
            const bool orderly = at_eof && conn.answered && conn.recv_bytes == 0;
            fail_connection(conn, orderly ? FailReason::none : FailReason::transport, now_ns);
            return;
        }
        if (conn.recv_bytes == 0 && !at_eof) break;
        if (!on_one_response(conn, at_eof, now_ns)) return;
    }
    post_recv(conn);
}

// Parses the answer to the oldest request from the front of recv_buffer.
// True when it was complete and handled and the connection stays open (the
// bytes after it are kept, moved to the front); false when the connection
// was failed, or when more bytes are needed (a recv is then posted).
bool HttpTransport::on_one_response(Connection& conn, bool at_eof, std::int64_t now_ns) {
    HttpResponse response;
    const ParseResult parsed =
        parse_response(std::string_view(conn.recv_buffer.get(), conn.recv_bytes), at_eof,
                       std::span<char>(body_scratch_.get(), response_bytes_max_), response);
    if (parsed.status == ParseStatus::invalid) {
        fail_connection(conn, at_eof && conn.recv_bytes == 0 ? FailReason::transport : FailReason::bad_response,
                        now_ns);
        return false;
    }
    if (parsed.status == ParseStatus::incomplete) {
        if (conn.recv_bytes == response_bytes_max_) {
            fail_connection(conn, FailReason::bad_response, now_ns);  // response larger than we accept
            return false;
        }
        post_recv(conn);
        return false;
    }
    on_response(conn, response, now_ns);  // response.body may point into recv_buffer: move only after
    if (conn.state != ConnState::busy && conn.state != ConnState::idle) return false;
    assert(parsed.consumed_bytes <= conn.recv_bytes);
    std::memmove(conn.recv_buffer.get(), conn.recv_buffer.get() + parsed.consumed_bytes,
                 conn.recv_bytes - parsed.consumed_bytes);
    conn.recv_bytes -= parsed.consumed_bytes;
    return true;
}

// ---- TLS: the ring moves the bytes a TlsSession asks for

void HttpTransport::start_tls(Connection& conn, std::int64_t now_ns) {
    bool ulp = false;
    if (ktls_wanted_) {
        // The run-time kTLS probe: without the kernel's tls module this fails
        // (ENOENT) and no later connection tries again.
        const int error = attach_ktls_ulp(conn.fd);
        ulp = error == 0;
        if (!ulp) {
            ktls_wanted_ = false;
            tls_counters_.ktls_unavailable_errno = error;
        }
    }
    conn.tls->start(ulp);
    conn.state = ConnState::handshaking;
    conn.handshake_done = false;
    conn.ktls_tx = false;
    conn.tls_send_posted = false;
    conn.close_after_tls_send = false;
    conn.deadline_ns = now_ns + config_.connect_timeout_ns;
    drive_handshake(conn, now_ns);
    if (conn.state == ConnState::handshaking) post_recv(conn);
}

void HttpTransport::drive_handshake(Connection& conn, std::int64_t now_ns) {
    if (conn.close_after_tls_send) return;  // failed already; waiting for the alert to go out
    const TlsStep step = conn.tls->handshake();
    flush_tls(conn);  // the ClientHello, the Finished, or an alert
    if (step == TlsStep::failed) {
        // A protocol or certificate failure is the configuration's, not the
        // network's: retrying cannot help, so the sink stops with the reason.
        if (fatal_error_.empty()) fatal_error_ = conn.tls->failure();
        if (conn.tls_send_posted) {
            conn.close_after_tls_send = true;  // let the server's log say why ("unknown ca")
            return;
        }
        fail_handshake(conn, FailReason::connect, now_ns);
        return;
    }
    if (step == TlsStep::done) {
        conn.handshake_done = true;
        finish_handshake_when_sent(conn, now_ns);
    }
}

// The connection takes requests once the handshake's last bytes are on the
// wire: kTLS may be switched on only after them.
void HttpTransport::finish_handshake_when_sent(Connection& conn, std::int64_t now_ns) {
    if (conn.state != ConnState::handshaking || !conn.handshake_done || conn.tls_send_posted ||
        conn.tls->out().pending() != 0) {
        return;
    }
    if (conn.tls->ktls_keys_ready()) {
        if (const int error = conn.tls->install_ktls_tx(conn.fd); error != 0) {
            // OpenSSL already gave up its own encryption on this connection:
            // replace it, and let later ones stay in user space.
            ktls_wanted_ = false;
            tls_counters_.ktls_unavailable_errno = error;
            fail_connection(conn, FailReason::transport, now_ns);
            return;
        }
        conn.ktls_tx = true;
        ++tls_counters_.ktls_connections;
    }
    if (conn.tls->sealing()) ++tls_counters_.sealed_connections;
    ++tls_counters_.handshakes;
    if (conn.tls->resumed()) ++tls_counters_.resumed;
    tls_counters_.last_version = conn.tls->version();
    conn.state = ConnState::idle;
}

void HttpTransport::fail_handshake(Connection& conn, FailReason reason, std::int64_t now_ns) {
    fail_connection(conn, reason, now_ns);
    sink_unreachable(conn, reason, now_ns);
}

void HttpTransport::sink_unreachable(Connection& conn, FailReason reason, std::int64_t now_ns) {
    // Called once conn.reconnect_at_ns holds the connection's own backoff.
    ++counters_.connect_failures;
    note_failure(reason, 0, fatal_error_, now_ns);  // a TLS verification failure is the fatal error
    const std::int64_t batch_due_ns = listener_.on_sink_unreachable(reason, now_ns);
    // A waiting batch's next attempt is due before the connection would come
    // back: reconnect then (but not in a tight loop), so that a sink that is
    // down fails batches after their retries, in seconds, as documented.
    const std::int64_t earliest_ns = now_ns + config_.reconnect_backoff_min_ns;
    conn.reconnect_at_ns = std::min(conn.reconnect_at_ns, std::max(batch_due_ns, earliest_ns));
}

void HttpTransport::on_tls_recv(Connection& conn, int result, std::int64_t now_ns) {
    if (result <= 0) {
        if (conn.state == ConnState::handshaking) {
            fail_handshake(conn, FailReason::transport, now_ns);  // closed or reset mid-handshake
        } else {
            on_response_bytes(conn, true, now_ns);
        }
        return;
    }
    conn.tls->in().end += static_cast<std::size_t>(result);
    if (conn.state == ConnState::handshaking) {
        drive_handshake(conn, now_ns);
        if (conn.state == ConnState::closing) return;
        if (conn.state == ConnState::handshaking || conn.tls->in().pending() == 0) {
            post_recv(conn);
            return;
        }
    }
    std::size_t produced = 0;
    const TlsStep step = conn.tls->decrypt(conn.recv_buffer.get() + conn.recv_bytes,
                                           response_bytes_max_ - conn.recv_bytes, produced);
    conn.recv_bytes += produced;
    flush_tls(conn);  // reading may have made OpenSSL answer (a KeyUpdate)
    if (step == TlsStep::failed) {
        fail_connection(conn, FailReason::transport, now_ns);  // a bad record: this connection is done
        return;
    }
    const bool at_eof = step == TlsStep::closed;
    if (produced == 0 && !at_eof && conn.recv_bytes < response_bytes_max_) {
        post_recv(conn);  // a session ticket, or part of a record
        return;
    }
    on_response_bytes(conn, at_eof, now_ns);
}

void HttpTransport::flush_tls(Connection& conn) {
    CipherBuffer& out = conn.tls->out();
    if (conn.tls_send_posted || conn.fd < 0 || out.pending() == 0) return;
    // One send in flight per connection; bytes appended meanwhile follow
    // it. The buffer is rewound only when all of it has been sent.
    io_uring_sqe* sqe = ring_.next_sqe();
    if (conn.tls_out_buffer_index >= 0) {
        // A short write comes back as such; on_tls_send writes the rest.
        io_uring_prep_write_fixed(sqe, conn.fd, out.data.get() + out.begin, static_cast<unsigned>(out.pending()), 0,
                                  conn.tls_out_buffer_index);
        ++tls_counters_.cipher_fixed_writes;
    } else {
        io_uring_prep_send(sqe, conn.fd, out.data.get() + out.begin, out.pending(), MSG_NOSIGNAL | MSG_WAITALL);
    }
    io_uring_sqe_set_data64(sqe, CompletionTag::connection(Op::tls_send, conn.index, conn.generation).encode());
    conn.tls_send_posted = true;
    ++conn.ops_outstanding;
}

void HttpTransport::on_tls_send(Connection& conn, int result, std::int64_t now_ns) {
    --conn.ops_outstanding;
    conn.tls_send_posted = false;
    if (conn.state == ConnState::closing) {
        close_when_quiet(conn, now_ns);
        return;
    }
    if (conn.close_after_tls_send) {
        // A graceful close (FIN, not RST), so the server reads the alert;
        // fatal_error_ keeps the connection from being reopened.
        conn.send_done = true;
        fail_connection(conn, FailReason::none, now_ns);
        sink_unreachable(conn, FailReason::connect, now_ns);
        return;
    }
    if (result < 0) {
        if (conn.state == ConnState::handshaking) {
            fail_handshake(conn, FailReason::transport, now_ns);
        } else {
            fail_connection(conn, FailReason::transport, now_ns);
        }
        return;
    }
    CipherBuffer& out = conn.tls->out();
    out.begin += static_cast<std::size_t>(result);
    if (out.pending() != 0) {
        flush_tls(conn);
        return;
    }
    out.begin = out.end = 0;
    if (conn.state == ConnState::handshaking) {
        finish_handshake_when_sent(conn, now_ns);
    } else if (conn.state == ConnState::busy && conn.request_count > 0) {
        conn.sent_count = conn.sealed_count;  // everything sealed is on the wire now
        conn.send_done = conn.sent_count == conn.request_count;
        if (!conn.send_done) seal_next_request(conn, now_ns);  // the next pipelined request
    }
}

// TLS sealed by us (OpenSSL or the record sealer; not kTLS): a request's
// whole ciphertext goes into the connection's one cipher buffer, which holds
// one request at most, so the next request is sealed only once the buffer
// is all on the wire. Its plaintext stays in its slot until it is answered
// (a retry is sealed anew, with another connection's keys). False when
// sealing failed and the connection with it.
bool HttpTransport::seal_next_request(Connection& conn, std::int64_t now_ns) {
    assert(conn.tls && !conn.ktls_tx && conn.sent_count <= conn.sealed_count && conn.sealed_count <= conn.request_count);
    if (conn.tls_send_posted || conn.tls->out().pending() != 0 || conn.sealed_count == conn.request_count) return true;
    const std::uint32_t request = conn.requests[conn.sealed_count];
    const bool poll = request == ack_poll_request;
    const char* data = poll ? poll_data_ : listener_.slot_at(request).wire_data();
    const std::size_t bytes = poll ? poll_bytes_ : listener_.slot_at(request).wire_bytes;
    if (!conn.tls->encrypt(data, bytes)) {
        if (fatal_error_.empty()) fatal_error_ = conn.tls->failure();
        fail_connection(conn, FailReason::transport, now_ns);
        return false;
    }
    ++conn.sealed_count;
    flush_tls(conn);
    return true;
}

void HttpTransport::on_response(Connection& conn, const HttpResponse& response, std::int64_t now_ns) {
    conn.answered = true;
    assert(conn.request_count > 0);
    const bool request_sent = conn.sent_count > 0;  // of the request answered
    const int status = response.status;
    if (conn.requests[0] == ack_poll_request) {
        on_poll_answer(conn, response, now_ns);  // HEC acks (net/http_acks.cpp)
    } else if (status >= 200 && status < 300 && api_reply_parser_) {
        on_api_answer(conn, response, now_ns);
    } else if (status >= 200 && status < 300) {
        Slot& slot = listener_.slot_at(conn.requests[0]);
        IngestReply reply;
        // An Axiom reply says how many it took; a plain 2xx without one (an
        // nginx stand-in, a proxy) takes the whole batch.
        std::uint32_t acked = slot.events;
        if (reply_parser_.parse(response.body, reply)) {
            acked = static_cast<std::uint32_t>(std::min<std::uint64_t>(reply.ingested, slot.events));
        }
        on_taken(conn, slot, now_ns);
        decide(conn, Verdict::acked, acked < slot.events ? FailReason::partial : FailReason::none, acked, 0, now_ns);
    } else {
        on_error_answer(conn, response, now_ns);
    }

    // The connection stays in use only if the exchange is over on both
    // sides; a server that answered before reading the whole body, or that
    // says it will close, gets a fresh connection instead (requests
    // pipelined behind the answered one are retried there). At shutdown it
    // closes once the last answer is in.
    if (!response.keep_alive || !request_sent || (shutting_down_ && conn.request_count == 0)) {
        fail_connection(conn, FailReason::none, now_ns, false);
        return;
    }
    if (conn.request_count == 0) {
        conn.state = ConnState::idle;
    } else {
        conn.deadline_ns = now_ns + config_.request_timeout_ns;  // now the next request's answer is awaited
    }
}

// The sink took the oldest request (a 2xx that acks it): the connection is
// healthy, its bytes count for its local address, and its latency feeds the
// pipeline depth (Axiom and the log-API presets alike).
void HttpTransport::on_taken(Connection& conn, const Slot& slot, std::int64_t now_ns) {
    conn.failures_in_row = 0;
    if (!config_.local_addresses.empty()) {
        counters_.bytes_by_local_address[conn.index % config_.local_addresses.size()] += slot.wire_bytes;
    }
    depth_.on_answer(slot.send_started_ns, now_ns);
    counters_.pipeline_depth = depth_.depth();
}

// A 2xx from an HTTP log API: its reply decides (net/api_replies.hpp).
void HttpTransport::on_api_answer(Connection& conn, const HttpResponse& response, std::int64_t now_ns) {
    Slot& slot = listener_.slot_at(conn.requests[0]);
    const ApiOutcome outcome = api_reply_parser_->parse(config_.api, response.body, slot.events);
    if (outcome.verdict == Verdict::acked) {
        on_taken(conn, slot, now_ns);
        // HEC with acks: taken, not yet indexed; held until a poll says so.
        if (acks_) {
            if (const auto ack_id = api_reply_parser_->hec_ack_id(response.body)) {
                hold_for_ack(conn, *ack_id, now_ns);
                return;
            }
        }
    }
    // Items refused inside a 2xx are failures to show, with the first one's status and type.
    if (outcome.reason != FailReason::none) {
        note_failure(outcome.reason, outcome.item_status != 0 ? outcome.item_status : response.status, outcome.detail,
                     now_ns);
    }
    decide(conn, outcome.verdict, outcome.reason, outcome.acked_events, 0, now_ns);
}

// When the sink asked to be left alone (Retry-After on a 503 or 429,
// X-RateLimit-Reset on a 429), as a monotonic time; 0 = it did not say.
std::int64_t HttpTransport::asked_retry_at_ns(const HttpResponse& response, std::int64_t now_ns) {
    if (response.status == 429 && response.rate_limit_reset_s > 0) {
        // Clamped in seconds first: a reset far ahead (up to 18 digits parse) would overflow in ns.
        const std::int64_t wait_s =
            std::clamp<std::int64_t>(response.rate_limit_reset_s - realtime_s(), 0, rate_limit_wait_max_ns / ns_per_s);
        return now_ns + wait_s * ns_per_s;
    }
    if (response.retry_after_s >= 0) {
        return now_ns + std::min(response.retry_after_s, rate_limit_wait_max_ns / ns_per_s) * ns_per_s;
    }
    return 0;
}

// A non-2xx answer. Permanent (the batch fails at once): 400 and 413 (this
// body will never be taken), 401/403/404 and 430 (nothing will be: the run
// stops). Everything else that says "later" is retried until the batch's
// retry time is spent: 5xx, 429, 408. The status and the body's first bytes
// are noted so the control thread can say what the sink said.
void HttpTransport::on_error_answer(Connection& conn, const HttpResponse& response, std::int64_t now_ns) {
    const int status = response.status;
    FailReason reason = status >= 400 ? FailReason::rejected : FailReason::bad_response;
    Verdict verdict = Verdict::failed;
    if (status == 429) {
        reason = FailReason::rate_limited;
        verdict = Verdict::retry;
    } else if (status >= 500) {
        reason = FailReason::server_error;
        verdict = Verdict::retry;
    } else if (status == 408) {
        reason = FailReason::timeout;
        verdict = Verdict::retry;
    } else if (status == 430) {
        reason = FailReason::quota;
        fatal_error_ = "the sink answered 430: the monthly ingest quota is used up; no more events are sent to it";
    } else if (status == 401 || status == 403 || status == 404) {
        fatal_error_ = status == 401   ? "the sink answered 401 Unauthorized: the API token is missing or invalid "
                                         "(set AXIOM_TOKEN, --token-file or the axiom-token credential)"
                       : status == 403 ? "the sink answered 403 Forbidden: the token may not ingest into this dataset"
                                       : "the sink answered 404 Not Found: no such dataset, or a wrong URL prefix";
    }
    note_failure(reason, status, response.body, now_ns);
    const std::int64_t retry_at_ns = verdict == Verdict::retry ? asked_retry_at_ns(response, now_ns) : 0;
    decide(conn, verdict, reason, 0, retry_at_ns, now_ns);
}

void HttpTransport::note_failure(FailReason reason, int status, std::string_view detail, std::int64_t now_ns) {
    counters_.note_failure(reason, status, pending_errno_, detail, now_ns);
    pending_errno_ = 0;
}

void HttpTransport::decide(Connection& conn, Verdict verdict, FailReason reason, std::uint32_t acked_events,
                           std::int64_t retry_at_ns, std::int64_t now_ns) {
    // The oldest request on the connection: answers come in request order.
    assert(conn.request_count > 0);
    Slot& slot = listener_.slot_at(conn.requests[0]);
    assert(!slot.outcome_decided);
    slot.outcome_decided = true;
    slot.verdict = verdict;
    slot.reason = reason;
    slot.acked_events = acked_events;
    slot.retry_at_ns = retry_at_ns;
    slot.move_to(SlotState::settling);
    pop_request(conn);
    settle_if_ready(slot, now_ns);
}

void HttpTransport::settle_if_ready(Slot& slot, std::int64_t now_ns) {
    if (slot.outcome_decided && slot.kernel_done() && slot.state == SlotState::settling) {
        slot.outcome_decided = false;
        listener_.on_slot_settled(slot, now_ns);
    }
}

void HttpTransport::fail_connection(Connection& conn, FailReason reason, std::int64_t now_ns, bool charge_oldest) {
    // Answers come in request order: the oldest request's failure is its
    // own; those pipelined behind it are retried without costing an attempt
    // (else a server that never answers would use up every batch on the
    // connection at once).
    // A request cut off is a failure to note; a connect or handshake that
    // failed (no request on it yet) is noted by sink_unreachable.
    if (reason != FailReason::none && conn.request_count > 0) note_failure(reason, 0, {}, now_ns);
    bool oldest = charge_oldest;
    while (conn.request_count > 0) {
        if (conn.requests[0] == ack_poll_request) {
            pop_request(conn);  // an ack poll: the next one asks again; the slot behind it is not at fault
            poll_in_flight_ = false;
            oldest = false;
            continue;
        }
        if (conn.sent_count > 0) ++counters_.requests_ambiguous;  // the sink may have it all: a retry may duplicate
        listener_.slot_at(conn.requests[0]).attempt_charged = oldest;
        oldest = false;
        decide(conn, Verdict::retry, reason == FailReason::none ? FailReason::transport : reason, 0, 0, now_ns);
    }
    if (reason != FailReason::none) {
        ++counters_.disconnects;
        conn.reconnect_at_ns = now_ns + backoff_ns(++conn.failures_in_row);
    } else {
        conn.reconnect_at_ns = now_ns;  // an orderly close: reconnect at once
    }
    if (conn.fd >= 0) {
        if (reason != FailReason::none || !conn.send_done) {
            // Abort instead of a graceful close: request bytes still queued in
            // the socket would otherwise keep a zero-copy slot pinned until the
            // kernel gives up on the peer (minutes, for one that stopped reading).
            const linger abort_on_close{1, 0};
            (void)setsockopt(conn.fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
        }
        ::shutdown(conn.fd, SHUT_RDWR);  // wakes the posted recv
    }
    conn.state = ConnState::closing;
    close_when_quiet(conn, now_ns);
}

void HttpTransport::close_when_quiet(Connection& conn, std::int64_t /*now_ns*/) {
    // Closing with operations in flight would leave them holding the file;
    // wait until the kernel has returned every one.
    if (conn.state != ConnState::closing || conn.ops_outstanding != 0) return;
    ::close(conn.fd);
    conn.fd = -1;
    conn.state = ConnState::closed;
    conn.recv_posted = false;
    conn.recv_bytes = 0;
}

void HttpTransport::on_tick(std::int64_t now_ns, bool work_waiting) {
    if (acks_) {
        give_up_lost_acks(now_ns);
        work_waiting = work_waiting || acks_->held() > 0;  // polls need a connection
    }
    work_waiting_ = work_waiting;
    for (Connection& conn : connections_) {
        switch (conn.state) {
            case ConnState::closed:
                if (work_waiting && !shutting_down_ && fatal_error_.empty() && now_ns >= conn.reconnect_at_ns) {
                    open(conn, now_ns);
                }
                break;
            case ConnState::connecting:
            case ConnState::handshaking:
                if (now_ns >= conn.deadline_ns) {
                    fail_connection(conn, FailReason::timeout, now_ns);
                    sink_unreachable(conn, FailReason::timeout, now_ns);
                }
                break;
            case ConnState::busy:
                if (now_ns >= conn.deadline_ns) fail_connection(conn, FailReason::timeout, now_ns);
                break;
            default: break;
        }
    }
    if (acks_) start_ack_poll(now_ns);
}

std::int64_t HttpTransport::next_deadline_ns() const {
    std::int64_t next = INT64_MAX;
    if (acks_ && acks_->held() > 0) {
        next = acks_->earliest_deadline_ns();
        if (!poll_in_flight_) next = std::min(next, next_poll_ns_);
    }
    for (const Connection& conn : connections_) {
        if (conn.state == ConnState::connecting || conn.state == ConnState::handshaking ||
            conn.state == ConnState::busy) {
            next = std::min(next, conn.deadline_ns);
        }
        // A closed connection is reopened only for waiting work; without any, its
        // (usually past) reconnect time would make the shard spin instead of sleep.
        if (conn.state == ConnState::closed && work_waiting_ && !shutting_down_ && fatal_error_.empty()) {
            next = std::min(next, conn.reconnect_at_ns);
        }
    }
    return next;
}

void HttpTransport::abort_in_flight(std::int64_t now_ns) {
    if (acks_) {
        for (std::int64_t slot = acks_->take_any(); slot >= 0; slot = acks_->take_any()) {
            ++counters_.requests_ambiguous;  // taken, maybe indexed: never acknowledged
            settle_held(static_cast<std::uint32_t>(slot), Verdict::retry, FailReason::timeout, now_ns);
        }
    }
    for (Connection& conn : connections_) {
        if (conn.state == ConnState::busy || conn.state == ConnState::connecting ||
            conn.state == ConnState::handshaking) {
            fail_connection(conn, FailReason::timeout, now_ns);
        }
    }
}

void HttpTransport::begin_shutdown() {
    shutting_down_ = true;
    for (Connection& conn : connections_) {
        if (conn.state == ConnState::idle || conn.state == ConnState::connecting ||
            conn.state == ConnState::handshaking) {
            if (conn.fd >= 0) ::shutdown(conn.fd, SHUT_RDWR);
            conn.state = ConnState::closing;
            close_when_quiet(conn, 0);
        }
    }
}

bool HttpTransport::quiescent() const {
    return std::all_of(connections_.begin(), connections_.end(),
                       [](const Connection& conn) { return conn.state == ConnState::closed; });
}

}  // namespace supervent::net
