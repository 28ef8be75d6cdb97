#include "net/syslog_transport.hpp"

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <climits>
#include <cstring>

namespace supervent::net {
namespace {

constexpr std::size_t recv_buffer_bytes = 4096;  // a syslog server says nothing; what it does say is dropped

std::size_t frame_buffer_bytes(const SyslogTransportConfig& config) {
    return std::max(config.frame_buffer_bytes, syslog_frame_bytes_max(config.event_bytes_max, config.format));
}

void bind_local(int fd, const std::vector<sockaddr_storage>& locals, std::uint32_t index, int& error) {
    if (locals.empty()) return;
    const sockaddr_storage& local = locals[index % locals.size()];
    const socklen_t bytes = local.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), bytes) != 0) error = errno;
}

// HOSTNAME of events without a host attribute: the configured name, or this
// machine's (looked up once, at start-up).
void default_hostname(SyslogFormatOptions& format) {
    if (!format.hostname.empty()) return;
    char name[256] = {};
    format.hostname = ::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0' ? name : "-";
}

std::span<const char> body_of(const Slot& slot) { return {slot.data + slot.body_offset, slot.body_bytes}; }

}  // namespace

// ============================================================ TCP and TLS

SyslogStreamTransport::SyslogStreamTransport(Ring& ring, SlotListener& listener, SyslogTransportConfig config)
    : ring_(ring),
      listener_(listener),
      config_(std::move(config)),
      connections_(config_.connections),
      backoff_(0xc2b2ae3d27d4eb4fULL * (config_.shard_index + 1)) {
    assert(config_.connections >= 1 && config_.connections <= bounds::connections_per_shard_max);
    default_hostname(config_.format);
    const std::size_t frame_bytes = frame_buffer_bytes(config_);
    if (config_.tls.enabled) {
        config_.tls.ktls = false;  // records go out of the session's buffer; one path to test
        tls_context_ = std::make_unique<TlsContext>(config_.tls);
    }
    for (std::uint32_t i = 0; i < connections_.size(); ++i) {
        Connection& conn = connections_[i];
        conn.index = i;
        conn.frames = std::make_unique<char[]>(frame_bytes);
        conn.recv_buffer = std::make_unique<char[]>(recv_buffer_bytes);
        if (tls_context_) conn.tls = std::make_unique<TlsSession>(*tls_context_, tls_out_capacity(frame_bytes), tls_in_capacity);
    }
}

SyslogStreamTransport::~SyslogStreamTransport() {
    for (Connection& conn : connections_) {
        if (conn.fd >= 0) ::close(conn.fd);
    }
}

SyslogStreamTransport::Connection* SyslogStreamTransport::connection_with_room() {
    Connection* best = nullptr;
    for (std::uint32_t tried = 0; tried < connections_.size(); ++tried) {
        Connection& conn = connections_[(next_connection_ + tried) % connections_.size()];
        if (conn.state != ConnState::ready || conn.count == depth_max) continue;
        if (best == nullptr || conn.count < best->count) best = &conn;
    }
    if (best != nullptr) next_connection_ = (best->index + 1) % connections_.size();
    return best;
}

bool SyslogStreamTransport::try_start(Slot& slot, std::int64_t now_ns) {
    if (shutting_down_ || !fatal_error_.empty()) return false;
    Connection* found = connection_with_room();
    if (found == nullptr) return false;
    Connection& conn = *found;
    slot.wire_offset = slot.body_offset;
    slot.wire_bytes = 0;  // frame bytes, counted as they are converted
    slot.move_to(SlotState::sending);
    slot.outcome_decided = false;
    slot.send_started_ns = now_ns;
    if (conn.count == 0) conn.deadline_ns = now_ns + config_.request_timeout_ns;
    conn.slots[conn.count++] = slot.index;
    pump(conn, now_ns);
    return true;
}

void SyslogStreamTransport::open(Connection& conn, std::int64_t now_ns) {
    conn.fd = ::socket(config_.address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int error = conn.fd < 0 ? errno : 0;
    if (error == 0) bind_local(conn.fd, config_.local_addresses, conn.index, error);
    if (error != 0) {
        if (conn.fd >= 0) ::close(conn.fd);
        conn.fd = -1;
        pending_errno_ = error;
        conn.reconnect_at_ns = now_ns + backoff_.delay_ns(++conn.failures_in_row, config_.reconnect_backoff_min_ns,
                                                          config_.reconnect_backoff_max_ns);
        sink_unreachable(conn, FailReason::connect, now_ns);
        return;
    }
    ++conn.generation;
    conn.state = ConnState::connecting;
    conn.deadline_ns = now_ns + config_.connect_timeout_ns;
    conn.stream_queued = conn.stream_sent = 0;
    conn.frame_bytes = conn.frame_sent = 0;
    conn.in_offset = 0;
    io_uring_sqe* sqe = ring_.next_sqe();
    io_uring_prep_connect(sqe, conn.fd, reinterpret_cast<const sockaddr*>(&config_.address), config_.address_bytes);
    io_uring_sqe_set_data64(sqe, CompletionTag::connection(Op::connect, conn.index, conn.generation).encode());
    ++conn.ops_outstanding;
}

void SyslogStreamTransport::on_completion(const io_uring_cqe& cqe, CompletionTag tag, std::int64_t now_ns) {
    if (tag.op != Op::connect && tag.op != Op::recv && tag.op != Op::frames_send && tag.op != Op::tls_send) return;
    Connection& conn = connection_at(tag.connection_index());
    assert(conn.ops_outstanding > 0);
    --conn.ops_outstanding;
    if (conn.state == ConnState::closing || tag.connection_generation() != conn.generation) {
        if (tag.op == Op::recv) conn.recv_posted = false;
        if (tag.op == Op::frames_send) conn.send_posted = false;
        if (tag.op == Op::tls_send) conn.tls_send_posted = false;
        close_when_quiet(conn);
        return;
    }
    switch (tag.op) {
        case Op::connect: on_connect(conn, cqe.res, now_ns); break;
        case Op::recv: on_recv(conn, cqe.res, now_ns); break;
        default: on_send(conn, cqe.res, now_ns); break;
    }
}

void SyslogStreamTransport::on_connect(Connection& conn, int result, std::int64_t now_ns) {
    if (result < 0) {
        pending_errno_ = -result;
        ::close(conn.fd);
        conn.fd = -1;
        conn.state = ConnState::closed;
        conn.reconnect_at_ns = now_ns + backoff_.delay_ns(++conn.failures_in_row, config_.reconnect_backoff_min_ns,
                                                          config_.reconnect_backoff_max_ns);
        sink_unreachable(conn, FailReason::connect, now_ns);
        return;
    }
    ++counters_.connects;
    post_recv(conn);  // stays posted: the only way to hear that the server closed or reset
    if (conn.tls) {
        conn.tls->start(false);
        conn.state = ConnState::handshaking;
        conn.handshake_done = false;
        conn.tls_send_posted = false;
        drive_handshake(conn, now_ns);
        return;
    }
    conn.state = ConnState::ready;
    conn.failures_in_row = 0;
}

void SyslogStreamTransport::drive_handshake(Connection& conn, std::int64_t now_ns) {
    const TlsStep step = conn.tls->handshake();
    flush_tls(conn);
    if (step == TlsStep::failed) {
        // A certificate that does not verify will not verify next time either: the sink stops.
        if (fatal_error_.empty() && conn.tls->verify_failed()) fatal_error_ = conn.tls->failure();
        pending_errno_ = 0;
        fail_connection(conn, FailReason::connect, now_ns);
        sink_unreachable(conn, FailReason::connect, now_ns);
        return;
    }
    if (step == TlsStep::done) {
        conn.handshake_done = true;
        conn.state = ConnState::ready;
        conn.failures_in_row = 0;
    }
}

void SyslogStreamTransport::post_recv(Connection& conn) {
    assert(!conn.recv_posted);
    char* into = conn.recv_buffer.get();
    std::size_t room = recv_buffer_bytes;
    if (conn.tls) {
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

void SyslogStreamTransport::on_recv(Connection& conn, int result, std::int64_t now_ns) {
    conn.recv_posted = false;
    if (result == -EINTR || result == -EAGAIN || result == -ENOBUFS) {
        post_recv(conn);
        return;
    }
    if (result <= 0) {
        // The server closed or reset: nothing after this is known to have
        // arrived (a reset purges our send queue, so SIOCOUTQ would say 0).
        if (result < 0) pending_errno_ = -result;
        fail_connection(conn, conn.state == ConnState::handshaking ? FailReason::connect : FailReason::transport, now_ns);
        return;
    }
    if (conn.tls) {
        conn.tls->in().end += static_cast<std::size_t>(result);
        if (conn.state == ConnState::handshaking) {
            drive_handshake(conn, now_ns);
            if (conn.state == ConnState::closing) return;
        }
        std::size_t produced = 0;
        const TlsStep step = conn.tls->decrypt(conn.recv_buffer.get(), recv_buffer_bytes, produced);
        flush_tls(conn);
        if (step == TlsStep::failed || step == TlsStep::closed) {
            fail_connection(conn, FailReason::transport, now_ns);
            return;
        }
        if (conn.state == ConnState::ready) pump(conn, now_ns);
    }
    post_recv(conn);
}

bool SyslogStreamTransport::convert_next(Connection& conn) {
    if (conn.framed_count == conn.count) return false;
    Slot& slot = listener_.slot_at(conn.slots[conn.framed_count]);
    if (conn.in_offset == 0) conn.start_offset[conn.framed_count] = conn.stream_queued;
    const std::span<const char> rest = body_of(slot).subspan(conn.in_offset);
    const SyslogChunk chunk = ndjson_to_syslog(rest, {conn.frames.get(), frame_buffer_bytes(config_)}, config_.format);
    if (chunk.in_bytes == 0 && !rest.empty()) {
        fatal_error_ = "an event is larger than the syslog frame buffer";  // sizing bug: frame_buffer_bytes() prevents it
        return false;
    }
    conn.in_offset += chunk.in_bytes;
    conn.frame_bytes = chunk.out_bytes;
    conn.frame_sent = 0;
    slot.wire_bytes += chunk.out_bytes;
    if (conn.in_offset == slot.body_bytes) {
        conn.in_offset = 0;
        ++conn.framed_count;
    }
    return true;
}

// Plain TCP: the frame buffer goes out by one send at a time (short sends
// continue from where they stopped). TLS: it is encrypted into the
// session's buffer once that is empty, and the records sent from there.
void SyslogStreamTransport::pump(Connection& conn, std::int64_t now_ns) {
    if (conn.state != ConnState::ready) return;
    if (conn.tls) {
        if (conn.tls_send_posted || conn.tls->out().pending() != 0) return;
        const std::uint32_t framed_before = conn.framed_count;
        if (!convert_next(conn)) return;
        if (!conn.tls->encrypt(conn.frames.get(), conn.frame_bytes)) {
            note_failure(FailReason::transport, conn.tls->failure(), now_ns);
            fail_connection(conn, FailReason::transport, now_ns);
            return;
        }
        conn.stream_queued = conn.stream_sent + conn.tls->out().pending();
        if (conn.framed_count != framed_before) conn.end_offset[framed_before] = conn.stream_queued;
        flush_tls(conn);
        return;
    }
    if (conn.send_posted) return;
    if (conn.frame_sent == conn.frame_bytes) {
        const std::uint32_t framed_before = conn.framed_count;
        if (!convert_next(conn)) return;
        conn.stream_queued += conn.frame_bytes;
        if (conn.framed_count != framed_before) conn.end_offset[framed_before] = conn.stream_queued;
    }
    post_frames(conn);
}

void SyslogStreamTransport::post_frames(Connection& conn) {
    assert(!conn.send_posted && conn.frame_sent < conn.frame_bytes);
    io_uring_sqe* sqe = ring_.next_sqe();
    io_uring_prep_send(sqe, conn.fd, conn.frames.get() + conn.frame_sent, conn.frame_bytes - conn.frame_sent,
                       MSG_NOSIGNAL | MSG_WAITALL);
    io_uring_sqe_set_data64(sqe, CompletionTag::connection(Op::frames_send, conn.index, conn.generation).encode());
    conn.send_posted = true;
    ++conn.ops_outstanding;
}

void SyslogStreamTransport::flush_tls(Connection& conn) {
    CipherBuffer& out = conn.tls->out();
    if (conn.tls_send_posted || conn.fd < 0 || out.pending() == 0) return;
    io_uring_sqe* sqe = ring_.next_sqe();
    io_uring_prep_send(sqe, conn.fd, out.data.get() + out.begin, out.pending(), MSG_NOSIGNAL | MSG_WAITALL);
    io_uring_sqe_set_data64(sqe, CompletionTag::connection(Op::tls_send, conn.index, conn.generation).encode());
    conn.tls_send_posted = true;
    ++conn.ops_outstanding;
}

void SyslogStreamTransport::on_send(Connection& conn, int result, std::int64_t now_ns) {
    if (conn.tls) {
        conn.tls_send_posted = false;
    } else {
        conn.send_posted = false;
    }
    if (result < 0) {
        pending_errno_ = -result;
        fail_connection(conn, conn.state == ConnState::handshaking ? FailReason::connect : FailReason::transport, now_ns);
        return;
    }
    conn.stream_sent += static_cast<std::uint64_t>(result);
    if (conn.tls) {
        CipherBuffer& out = conn.tls->out();
        out.begin += static_cast<std::size_t>(result);
        if (out.pending() != 0) {
            flush_tls(conn);
            return;
        }
        out.begin = out.end = 0;
    } else {
        conn.frame_sent += static_cast<std::size_t>(result);
    }
    confirm(conn, now_ns);
    if (conn.state == ConnState::ready) pump(conn, now_ns);
}

void SyslogStreamTransport::confirm(Connection& conn, std::int64_t now_ns) {
    conn.poll_at_ns = INT64_MAX;
    if (conn.state != ConnState::ready || conn.framed_count == 0) return;
    int unacked = 0;
    if (::ioctl(conn.fd, SIOCOUTQ, &unacked) != 0) return;
    const std::uint64_t peer_has = conn.stream_sent - std::min<std::uint64_t>(conn.stream_sent, static_cast<std::uint64_t>(unacked));
    while (conn.framed_count > 0 && conn.end_offset[0] <= peer_has) {
        conn.failures_in_row = 0;
        conn.acked_at_ns[conn.acked_next++ % acked_history] = now_ns;
        decide_front(conn, Verdict::acked, FailReason::none, now_ns);
        conn.deadline_ns = now_ns + config_.request_timeout_ns;  // the next batch's turn
    }
    // Sent bytes still wait for the peer's ACK: look again soon.
    if (conn.framed_count > 0 && conn.end_offset[0] <= conn.stream_sent) conn.poll_at_ns = now_ns + config_.ack_poll_ns;
}

void SyslogStreamTransport::decide_front(Connection& conn, Verdict verdict, FailReason reason, std::int64_t now_ns) {
    assert(conn.count > 0);
    Slot& slot = listener_.slot_at(conn.slots[0]);
    assert(!slot.outcome_decided);
    slot.verdict = verdict;
    slot.reason = reason;
    slot.acked_events = verdict == Verdict::acked ? slot.events : 0;
    slot.retry_at_ns = 0;
    slot.move_to(SlotState::settling);
    std::copy(conn.slots.begin() + 1, conn.slots.begin() + conn.count, conn.slots.begin());
    std::copy(conn.start_offset.begin() + 1, conn.start_offset.begin() + conn.count, conn.start_offset.begin());
    std::copy(conn.end_offset.begin() + 1, conn.end_offset.begin() + conn.count, conn.end_offset.begin());
    --conn.count;
    if (conn.framed_count > 0) {
        --conn.framed_count;
    } else {
        conn.in_offset = 0;  // it was being converted: a retry starts it afresh
    }
    listener_.on_slot_settled(slot, now_ns);  // the kernel never held the slot's buffer
}

void SyslogStreamTransport::fail_connection(Connection& conn, FailReason reason, std::int64_t now_ns) {
    if (conn.state == ConnState::closing || conn.state == ConnState::closed) return;
    const bool unexpected = reason != FailReason::none;
    if (unexpected) {
        note_failure(reason, {}, now_ns);
        // Acknowledged just now, maybe still unread in the server's socket when it went.
        for (const std::int64_t at_ns : conn.acked_at_ns) {
            if (at_ns != 0 && now_ns - at_ns <= config_.ambiguity_window_ns) ++counters_.requests_ambiguous;
        }
    }
    conn.acked_at_ns.fill(0);
    bool oldest = true;
    while (conn.count > 0) {
        const bool begun = conn.framed_count > 0 || conn.in_offset > 0;
        if (begun && conn.stream_sent > conn.start_offset[0]) ++counters_.requests_ambiguous;  // a retry may duplicate
        listener_.slot_at(conn.slots[0]).attempt_charged = oldest;
        oldest = false;
        decide_front(conn, Verdict::retry, unexpected ? reason : FailReason::transport, now_ns);
    }
    conn.framed_count = 0;
    conn.in_offset = 0;
    if (unexpected) {
        ++counters_.disconnects;
        conn.reconnect_at_ns = now_ns + backoff_.delay_ns(++conn.failures_in_row, config_.reconnect_backoff_min_ns,
                                                          config_.reconnect_backoff_max_ns);
        const linger abort_on_close{1, 0};
        (void)setsockopt(conn.fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    }
    ::shutdown(conn.fd, unexpected ? SHUT_RDWR : SHUT_WR);  // orderly: our FIN after the last byte
    if (!unexpected) ::shutdown(conn.fd, SHUT_RD);          // and the posted recv ends
    conn.state = ConnState::closing;
    close_when_quiet(conn);
}

void SyslogStreamTransport::sink_unreachable(Connection& conn, FailReason reason, std::int64_t now_ns) {
    ++counters_.connect_failures;
    note_failure(reason, fatal_error_, now_ns);
    const std::int64_t batch_due_ns = listener_.on_sink_unreachable(reason, now_ns);
    conn.reconnect_at_ns = std::min(conn.reconnect_at_ns, std::max(batch_due_ns, now_ns + config_.reconnect_backoff_min_ns));
}

void SyslogStreamTransport::close_when_quiet(Connection& conn) {
    if (conn.state != ConnState::closing || conn.ops_outstanding != 0) return;
    ::close(conn.fd);
    conn.fd = -1;
    conn.state = ConnState::closed;
    conn.recv_posted = conn.send_posted = conn.tls_send_posted = false;
}

void SyslogStreamTransport::note_failure(FailReason reason, std::string_view detail, std::int64_t now_ns) {
    counters_.note_failure(reason, 0, pending_errno_, detail, now_ns);
    pending_errno_ = 0;
}

void SyslogStreamTransport::on_tick(std::int64_t now_ns, bool work_waiting) {
    work_waiting_ = work_waiting;
    for (Connection& conn : connections_) {
        switch (conn.state) {
            case ConnState::closed:
                if (work_waiting && !shutting_down_ && fatal_error_.empty() && now_ns >= conn.reconnect_at_ns) open(conn, now_ns);
                break;
            case ConnState::connecting:
            case ConnState::handshaking:
                if (now_ns >= conn.deadline_ns) {
                    fail_connection(conn, FailReason::timeout, now_ns);
                    sink_unreachable(conn, FailReason::timeout, now_ns);
                }
                break;
            case ConnState::ready:
                if (now_ns >= conn.poll_at_ns) confirm(conn, now_ns);
                if (conn.count > 0 && now_ns >= conn.deadline_ns) fail_connection(conn, FailReason::timeout, now_ns);
                break;
            default: break;
        }
    }
}

std::int64_t SyslogStreamTransport::next_deadline_ns() const {
    std::int64_t next = INT64_MAX;
    for (const Connection& conn : connections_) {
        if (conn.state == ConnState::connecting || conn.state == ConnState::handshaking) next = std::min(next, conn.deadline_ns);
        if (conn.state == ConnState::ready && conn.count > 0) {
            next = std::min({next, conn.deadline_ns, conn.poll_at_ns});  // TCP's ack is polled for
        }
        if (conn.state == ConnState::closed && work_waiting_ && !shutting_down_ && fatal_error_.empty()) {
            next = std::min(next, conn.reconnect_at_ns);
        }
    }
    return next;
}

void SyslogStreamTransport::abort_in_flight(std::int64_t now_ns) {
    for (Connection& conn : connections_) {
        if (conn.count > 0 || conn.state == ConnState::connecting || conn.state == ConnState::handshaking) {
            fail_connection(conn, FailReason::timeout, now_ns);
        }
    }
}

void SyslogStreamTransport::begin_shutdown() {
    shutting_down_ = true;
    for (Connection& conn : connections_) {
        if (conn.state == ConnState::ready && conn.count == 0) {
            fail_connection(conn, FailReason::none, 0);
        } else if (conn.state == ConnState::connecting || conn.state == ConnState::handshaking) {
            ::shutdown(conn.fd, SHUT_RDWR);
            conn.state = ConnState::closing;
            close_when_quiet(conn);
        }
    }
}

bool SyslogStreamTransport::quiescent() const {
    return std::all_of(connections_.begin(), connections_.end(),
                       [](const Connection& conn) { return conn.state == ConnState::closed; });
}

// ============================================================ UDP

SyslogDatagramTransport::SyslogDatagramTransport(Ring& ring, SlotListener& listener, SyslogTransportConfig config)
    : ring_(ring),
      listener_(listener),
      config_(std::move(config)),
      backoff_(0x165667b19e3779f9ULL * (config_.shard_index + 1)),
      frames_(std::make_unique<char[]>(frame_buffer_bytes(config_))),
      frame_ends_(std::make_unique<std::uint32_t[]>(frames_per_chunk_max)) {
    config_.format.framing = SyslogFraming::datagram;
    default_hostname(config_.format);
}

SyslogDatagramTransport::~SyslogDatagramTransport() {
    if (fd_ >= 0) ::close(fd_);
}

// A connected UDP socket: connect() only sets the destination, so it is
// done at once rather than on the ring.
bool SyslogDatagramTransport::open(std::int64_t now_ns) {
    if (fd_ >= 0) return true;
    if (now_ns < reopen_at_ns_) return false;
    fd_ = ::socket(config_.address.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int error = fd_ < 0 ? errno : 0;
    if (error == 0) bind_local(fd_, config_.local_addresses, 0, error);
    if (error == 0 && ::connect(fd_, reinterpret_cast<const sockaddr*>(&config_.address), config_.address_bytes) != 0) error = errno;
    if (error != 0) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        ++counters_.connect_failures;
        counters_.note_failure(FailReason::connect, 0, error, {}, now_ns);
        const std::int64_t due_ns = listener_.on_sink_unreachable(FailReason::connect, now_ns);
        reopen_at_ns_ = std::max(due_ns, now_ns + backoff_.delay_ns(++failures_in_row_, config_.reconnect_backoff_min_ns,
                                                                    config_.reconnect_backoff_max_ns));
        return false;
    }
    ++generation_;
    ++counters_.connects;
    return true;
}

bool SyslogDatagramTransport::try_start(Slot& slot, std::int64_t now_ns) {
    if (slot_ != nullptr || shutting_down_ || !fatal_error_.empty() || !open(now_ns)) return false;
    slot.wire_offset = slot.body_offset;
    slot.wire_bytes = 0;
    slot.move_to(SlotState::sending);
    slot.outcome_decided = false;
    slot.send_started_ns = now_ns;
    slot_ = &slot;
    in_offset_ = 0;
    frame_count_ = frame_next_ = 0;
    slot_failed_ = slot_rejected_ = any_sent_ = false;
    pump(now_ns);
    return true;
}

// Converts the next piece when the last one is all posted, and keeps up to
// datagrams_in_flight_max sends on the ring.
void SyslogDatagramTransport::pump(std::int64_t now_ns) {
    Slot& slot = *slot_;
    if (frame_next_ == frame_count_ && in_flight_ == 0 && !slot_failed_ && in_offset_ < slot.body_bytes) {
        const std::span<const char> rest = body_of(slot).subspan(in_offset_);
        const SyslogChunk chunk = ndjson_to_syslog(rest, {frames_.get(), frame_buffer_bytes(config_)}, config_.format,
                                                   {frame_ends_.get(), frames_per_chunk_max});
        assert(chunk.in_bytes > 0);
        in_offset_ += chunk.in_bytes;
        frame_count_ = chunk.frames;
        frame_next_ = 0;
        slot.wire_bytes += chunk.out_bytes;
    }
    while (!slot_failed_ && frame_next_ < frame_count_ && in_flight_ < datagrams_in_flight_max) {
        const std::uint32_t begin = frame_next_ == 0 ? 0 : frame_ends_[frame_next_ - 1];
        io_uring_sqe* sqe = ring_.next_sqe();
        io_uring_prep_send(sqe, fd_, frames_.get() + begin, frame_ends_[frame_next_] - begin, MSG_NOSIGNAL);
        io_uring_sqe_set_data64(sqe, CompletionTag::connection(Op::frames_send, 0, generation_).encode());
        ++frame_next_;
        ++in_flight_;
    }
    if (in_flight_ == 0 && (slot_failed_ || (frame_next_ == frame_count_ && in_offset_ == slot.body_bytes))) finish_slot(now_ns);
}

void SyslogDatagramTransport::on_completion(const io_uring_cqe& cqe, CompletionTag tag, std::int64_t now_ns) {
    if (tag.op != Op::frames_send) return;
    assert(in_flight_ > 0);
    --in_flight_;
    if (cqe.res == -EMSGSIZE) {
        // A message longer than a datagram takes (64 KiB): sending it again
        // cannot help, so the batch fails for good.
        if (!slot_failed_) counters_.note_failure(FailReason::rejected, 0, EMSGSIZE, "a syslog message is larger than a UDP datagram", now_ns);
        slot_failed_ = slot_rejected_ = true;
    } else if (cqe.res < 0) {
        // ECONNREFUSED: an ICMP port unreachable came back for an earlier
        // datagram. Nobody listens: the batch is tried again later.
        if (!slot_failed_) counters_.note_failure(FailReason::connect, 0, -cqe.res, {}, now_ns);
        slot_failed_ = true;
    } else {
        any_sent_ = true;
    }
    if (slot_ != nullptr) pump(now_ns);
}

void SyslogDatagramTransport::finish_slot(std::int64_t now_ns) {
    Slot& slot = *slot_;
    slot_ = nullptr;
    slot.verdict = slot_rejected_ ? Verdict::failed : slot_failed_ ? Verdict::retry : Verdict::acked;
    slot.reason = slot_rejected_ ? FailReason::rejected : slot_failed_ ? FailReason::connect : FailReason::none;
    slot.acked_events = slot_failed_ ? 0 : slot.events;
    slot.retry_at_ns = 0;
    if (slot_failed_) {
        if (any_sent_) ++counters_.requests_ambiguous;  // its first datagrams went out: a retry duplicates them
        ++counters_.disconnects;
        failures_in_row_ = std::min<std::uint32_t>(failures_in_row_ + 1, 20);
    } else {
        failures_in_row_ = 0;
    }
    slot.move_to(SlotState::settling);
    listener_.on_slot_settled(slot, now_ns);
}

void SyslogDatagramTransport::on_tick(std::int64_t now_ns, bool work_waiting) {
    if (work_waiting && fd_ < 0 && !shutting_down_) (void)open(now_ns);
}

std::int64_t SyslogDatagramTransport::next_deadline_ns() const { return fd_ < 0 ? reopen_at_ns_ : INT64_MAX; }

}  // namespace supervent::net
