// HttpTransport's side of Splunk HEC indexer acknowledgement
// (splunk+http://…?ack=true, net/api_acks.hpp): a 2xx with an ackId leaves
// its connection but keeps its slot; every poll interval one POST
// /services/collector/ack lists the worker's held ackIds and goes on a
// connection like a request (pipelined, TLS, retried on another connection
// when cut off); ackIds answered true acknowledge their batches, and a
// batch whose ack does not come in time is resent (counted ambiguous).
#include <algorithm>
#include <cassert>

#include "core/bounds.hpp"
#include "net/http_transport.hpp"

namespace supervent::net {
namespace {

constexpr std::int64_t poll_no_room_wait_ns = 20'000'000;  // no connection free for a poll: look again soon
constexpr std::string_view lost_detail =
    "no indexer acknowledgement in time (or the receiver restarted and forgot the ackId): the batch is resent";

std::string ack_path(std::string path) {
    constexpr std::string_view event = "/event";
    if (path.size() >= event.size() && path.compare(path.size() - event.size(), event.size(), event) == 0) {
        path.resize(path.size() - event.size());
    }
    return path + "/ack";
}

}  // namespace

void HttpTransport::setup_acks() {
    config_.target.extra_headers = worker_channel_headers(config_.target.extra_headers, config_.shard_index);
    // Requests answered out of ackId order at most: those in flight at once.
    const std::uint32_t reorder_window = config_.connections * std::max<std::uint32_t>(config_.pipeline_depth_max, 1);
    acks_ = std::make_unique<HecAckTable>(bounds::http_slots_per_shard_max, reorder_window);
    IngestTarget target = config_.target;
    target.path = ack_path(target.path);
    target.content_type = "application/json";
    target.content_encoding.clear();  // a few ids: not worth compressing
    poll_head_ = std::make_unique<RequestHead>(target);
    poll_buffer_bytes_ = poll_head_->bytes_max() + acks_->poll_body_bytes_max();
    poll_buffer_ = std::make_unique<char[]>(poll_buffer_bytes_);
    acked_ids_ = std::make_unique<std::uint64_t[]>(acks_->slots());
}

void HttpTransport::pop_request(Connection& conn) {
    assert(conn.request_count > 0);
    std::copy(conn.requests.begin() + 1, conn.requests.begin() + conn.request_count, conn.requests.begin());
    --conn.request_count;
    if (conn.sent_count > 0) --conn.sent_count;
    if (conn.sealed_count > 0) --conn.sealed_count;
}

void HttpTransport::post_next_send(Connection& conn) {
    const std::uint32_t next = conn.requests[conn.sent_count];
    if (next == ack_poll_request) {
        post_poll_send(conn);
    } else {
        post_send(conn, listener_.slot_at(next));
    }
}

// The oldest request's 2xx carried an ackId: its slot waits for the ack.
void HttpTransport::hold_for_ack(Connection& conn, std::uint64_t ack_id, std::int64_t now_ns) {
    Slot& slot = listener_.slot_at(conn.requests[0]);
    assert(!slot.outcome_decided);
    slot.move_to(SlotState::settling);  // undecided: settle_if_ready leaves it alone
    pop_request(conn);
    if (acks_->held() == 0) next_poll_ns_ = std::max(next_poll_ns_, now_ns + config_.hec_ack.poll_interval_ns);
    acks_->hold(slot.index, ack_id, now_ns + config_.hec_ack.timeout_ns);
    give_up_lost_acks(now_ns);  // a receiver that restarted numbers from 0 again
}

void HttpTransport::settle_held(std::uint32_t slot_index, Verdict verdict, FailReason reason, std::int64_t now_ns) {
    Slot& slot = listener_.slot_at(slot_index);
    assert(slot.state == SlotState::settling && !slot.outcome_decided);
    slot.outcome_decided = true;
    slot.verdict = verdict;
    slot.reason = reason;
    slot.acked_events = verdict == Verdict::acked ? slot.events : 0;
    slot.retry_at_ns = 0;
    slot.attempt_charged = true;
    settle_if_ready(slot, now_ns);
}

// Held batches whose ack time ran out, or that a restarted receiver lost:
// the receiver may have indexed them, so resending may duplicate (ambiguous).
void HttpTransport::give_up_lost_acks(std::int64_t now_ns) {
    for (std::int64_t slot = acks_->take_lost(now_ns); slot >= 0; slot = acks_->take_lost(now_ns)) {
        ++counters_.requests_ambiguous;
        note_failure(FailReason::timeout, 0, lost_detail, now_ns);
        settle_held(static_cast<std::uint32_t>(slot), Verdict::retry, FailReason::timeout, now_ns);
    }
}

void HttpTransport::start_ack_poll(std::int64_t now_ns) {
    // The buffer is rewritten only once the kernel is done with the last send
    // from it (a poll cut off by a failed connection may still be going out).
    if (poll_in_flight_ || poll_sends_outstanding_ != 0 || acks_->held() == 0 || now_ns < next_poll_ns_ ||
        shutting_down_ || !fatal_error_.empty()) {
        return;
    }
    Connection* found = connection_with_room();
    if (found == nullptr) {
        next_poll_ns_ = now_ns + std::min(config_.hec_ack.poll_interval_ns, poll_no_room_wait_ns);
        return;
    }
    Connection& conn = *found;
    next_poll_ns_ = now_ns + config_.hec_ack.poll_interval_ns;
    char* body = poll_buffer_.get() + poll_head_->bytes_max();
    const std::size_t body_bytes = acks_->write_poll_body(body);
    const std::size_t head_bytes = poll_head_->write_before(body, body_bytes);
    poll_data_ = body - head_bytes;
    poll_bytes_ = head_bytes + body_bytes;
    if (conn.state == ConnState::idle) {
        conn.state = ConnState::busy;
        conn.recv_bytes = 0;
        conn.deadline_ns = now_ns + config_.request_timeout_ns;
    }
    conn.requests[conn.request_count++] = ack_poll_request;
    conn.send_done = false;
    poll_in_flight_ = true;
    if (conn.tls && !conn.ktls_tx) {
        seal_next_request(conn, now_ns);
    } else if (conn.sent_count + 1 == conn.request_count) {
        conn.sent_bytes = 0;
        post_poll_send(conn);
    }
}

void HttpTransport::post_poll_send(Connection& conn) {
    // A plain send from the transport's own buffer (not registered: a few
    // hundred bytes once a second).
    io_uring_sqe* sqe = ring_.next_sqe();
    io_uring_prep_send(sqe, conn.fd, poll_data_ + conn.sent_bytes, poll_bytes_ - conn.sent_bytes, MSG_NOSIGNAL | MSG_WAITALL);
    io_uring_sqe_set_data64(sqe, CompletionTag::connection(Op::ack_send, conn.index, conn.generation).encode());
    ++conn.ops_outstanding;
    ++poll_sends_outstanding_;
}

void HttpTransport::on_poll_send(Connection& conn, int result, std::int64_t now_ns) {
    --conn.ops_outstanding;
    assert(poll_sends_outstanding_ > 0);
    --poll_sends_outstanding_;
    if (conn.state == ConnState::closing) {
        close_when_quiet(conn, now_ns);
        return;
    }
    const bool still_ours = conn.sent_count < conn.request_count && conn.requests[conn.sent_count] == ack_poll_request;
    if (!still_ours) return;
    if (result < 0) {
        pending_errno_ = -result;
        fail_connection(conn, FailReason::transport, now_ns);
        return;
    }
    conn.sent_bytes += static_cast<std::size_t>(result);
    if (conn.sent_bytes < poll_bytes_) {
        post_poll_send(conn);
        return;
    }
    ++conn.sent_count;
    conn.sent_bytes = 0;
    conn.send_done = conn.sent_count == conn.request_count;
    if (!conn.send_done) post_next_send(conn);
}

// The answer to an ack poll: ackIds true acknowledge their batches; false
// or absent ones stay held until the next poll or their deadline.
void HttpTransport::on_poll_answer(Connection& conn, const HttpResponse& response, std::int64_t now_ns) {
    pop_request(conn);
    poll_in_flight_ = false;
    if (response.status < 200 || response.status >= 300) {
        // An invalid channel (a receiver that lost it), a busy server: the next poll asks again.
        note_failure(response.status >= 500 ? FailReason::server_error : FailReason::rejected, response.status,
                     response.body, now_ns);
        return;
    }
    std::size_t count = 0;
    if (!api_reply_parser_->hec_acks_true(response.body, acked_ids_.get(), acks_->slots(), count)) {
        note_failure(FailReason::bad_response, response.status, response.body, now_ns);
        return;
    }
    conn.failures_in_row = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const std::int64_t slot = acks_->release(acked_ids_[i]);
        if (slot >= 0) settle_held(static_cast<std::uint32_t>(slot), Verdict::acked, FailReason::none, now_ns);
    }
}

}  // namespace supervent::net
