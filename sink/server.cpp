#include "sink/server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without including it
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "core/bounds.hpp"
#include "sink/body.hpp"
#include "sink/http.hpp"

namespace supervent::sink {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// Each read asks the kernel for at least this much room, so a fast sender is
// drained in few syscalls.
constexpr std::size_t read_room_min_bytes = 64 * 1024;
// Pipelined responses are written in one go once this much has piled up.
constexpr std::size_t out_flush_bytes = 256 * 1024;
// After an error answer that closes, unread request bytes are drained this
// long, so the peer reads our answer instead of a connection reset.
constexpr auto linger_timeout = std::chrono::seconds(1);
// slow_read faults read one slice of the rate per interval.
constexpr auto slow_read_interval = std::chrono::milliseconds(50);
constexpr std::size_t slow_read_slices_per_s = 20;
// When accept fails (e.g. out of file descriptors), wait before retrying.
constexpr auto accept_retry_delay = std::chrono::milliseconds(50);
// 429 faults ask the client to wait this long; 430 faults announce a reset in an hour.
constexpr std::int64_t rate_limit_reset_s = 1;
constexpr std::int64_t ingest_limit_reset_s = 3600;

const char* reason_phrase(int status) noexcept {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 430: return "Ingest Limit Exceeded";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

std::int64_t epoch_s() noexcept {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void append_rfc3339_now(std::string& out) {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    tm utc{};
    gmtime_r(&now.tv_sec, &utc);
    char text[48];
    const int length = std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", utc.tm_year + 1900,
                                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, now.tv_nsec);
    out.append(text, static_cast<std::size_t>(length));
}

// What every connection of one server shares. Read-only except the counters.
struct Shared {
    const ServerConfig& config;
    Stats& stats;
    std::atomic<std::uint64_t>& request_sequence;
    asio::ssl::context* tls = nullptr;  // --tls-cert: every connection starts with a TLS handshake
};

// ALPN: this is an HTTP/1.1 server; a client offering only h2 gets no ALPN
// answer rather than a refusal, as most servers do.
int select_http11(SSL*, const unsigned char** out, unsigned char* out_bytes, const unsigned char* offered,
                  unsigned int offered_bytes, void*) {
    static constexpr unsigned char http11[] = "\x08http/1.1";
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, out_bytes, http11, sizeof http11 - 1, offered, offered_bytes) !=
        OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

std::unique_ptr<asio::ssl::context> make_tls_context(const ServerConfig& config) {
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    auto load = [&](const std::string& file, const char* what, auto&& step) {
        error_code error;
        step(error);
        if (error) throw std::runtime_error(std::string("cannot load the TLS ") + what + " '" + file + "': " +
                                            error.message());
    };
    load(config.tls_cert_file, "certificate (--tls-cert)",
         [&](error_code& e) { context->use_certificate_chain_file(config.tls_cert_file, e); });
    load(config.tls_key_file, "private key (--tls-key)",
         [&](error_code& e) { context->use_private_key_file(config.tls_key_file, asio::ssl::context::pem, e); });
    if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
        throw std::runtime_error("the TLS private key '" + config.tls_key_file + "' does not belong to the certificate '" +
                                 config.tls_cert_file + "'");
    }
    SSL_CTX_set_alpn_select_cb(context->native_handle(), select_http11, nullptr);
    return context;
}

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(asio::io_context& context, Shared& shared)
        : shared_(shared), socket_(context), timer_(context), held_timer_(context) {
        if (shared_.tls != nullptr) tls_.emplace(socket_, *shared_.tls);
    }

    tcp::socket& socket() noexcept { return socket_; }

    void start() {
        error_code ignored;
        // Responses are small; without NODELAY, Nagle and delayed ACKs stall pipelined answers.
        socket_.set_option(tcp::no_delay(true), ignored);
        in_.reserve(shared_.config.read_buffer_bytes, 0);
        out_.reserve(4096);
        scratch_.reserve(1024);
        request_.dataset.reserve(bounds::dataset_name_bytes_max);
        request_.event_labels.reserve(event_labels_bytes_max);
        request_.reject_message.reserve(512);
        if (!tls_) return read_more();
        tls_->async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](const error_code& error) {
            if (error) {
                // The client refusing our certificate shows here (e.g. "tlsv1 alert unknown ca").
                std::fprintf(stderr, "supervent-sink: TLS handshake failed: %s\n", error.message().c_str());
                return self->close();
            }
            self->read_more();
        });
    }

private:
    enum class Phase { head, body, chunked_body };
    // What process() does after one step.
    enum class Progress { again, need_input, flush, delay, closed };

    // The request being received. Owned copies of what the head said, so the
    // receive buffer may be compacted or grown under it.
    struct Request {
        Method method = Method::other;
        RouteKind route = RouteKind::not_found;
        std::string dataset;
        std::string event_labels;  // X-Axiom-Event-Labels; capacity reserved once
        bool edge = false;         // came by the edge path
        ContentType content_type = ContentType::ndjson;
        ContentEncoding encoding = ContentEncoding::identity;
        BodyFraming framing = BodyFraming::none;
        std::uint64_t content_length = 0;
        bool keep_alive = true;
        int reject_status = 0;  // answer with this instead of ingesting
        std::string reject_message;  // capacity reserved once, so assigning does not allocate
        const char* allow = nullptr;  // Allow header for 405
        FaultAction fault;
        std::size_t body_start = 0;   // offset in in_
        std::size_t decoded_end = 0;  // chunked: end of the de-chunked payload
        std::size_t raw_pos = 0;      // chunked: next raw byte to decode
    };

    // ---- reading -------------------------------------------------------

    void read_more() {
        make_room();
        std::size_t limit = in_.capacity() - end_;
        const bool slow = phase_ != Phase::head && request_.fault.kind == FaultKind::slow_read;
        if (!slow) return read_some(limit);
        limit = std::min<std::size_t>(limit, std::max<std::uint64_t>(1, request_.fault.bytes_per_s / slow_read_slices_per_s));
        timer_.expires_after(slow_read_interval);
        timer_.async_wait([self = shared_from_this(), limit](const error_code& error) {
            if (error) return self->close();
            self->read_some(limit);
        });
    }

    void read_some(std::size_t limit) {
        auto on_read = [self = shared_from_this()](const error_code& error, std::size_t bytes) {
            if (error) return self->close();  // EOF or reset: a partial request is dropped
            self->end_ += bytes;
            self->process();
        };
        if (tls_) {
            tls_->async_read_some(asio::buffer(in_.data() + end_, limit), std::move(on_read));
        } else {
            socket_.async_read_some(asio::buffer(in_.data() + end_, limit), std::move(on_read));
        }
    }

    // Where the bytes we still need start: the head, or the body once the head is parsed.
    [[nodiscard]] std::size_t keep_from() const noexcept {
        return phase_ == Phase::head ? begin_ : request_.body_start;
    }

    void shift_down(std::size_t by) noexcept {
        if (by == 0) return;
        std::memmove(in_.data(), in_.data() + by, end_ - by);
        end_ -= by;
        begin_ -= std::min(begin_, by);
        request_.body_start -= std::min(request_.body_start, by);
        request_.decoded_end -= std::min(request_.decoded_end, by);
        request_.raw_pos -= std::min(request_.raw_pos, by);
    }

    // Makes room for the next read: the rest of a Content-Length body in one
    // piece if possible, else at least read_room_min_bytes. Compacts before
    // growing; growth is bounded because bodies were checked against the limit.
    void make_room() {
        std::size_t wanted = read_room_min_bytes;
        if (phase_ == Phase::body) {
            const std::size_t have = end_ - request_.body_start;
            wanted = std::max<std::size_t>(wanted, request_.content_length - have);
        }
        if (in_.capacity() - end_ >= wanted) return;
        shift_down(keep_from());
        if (in_.capacity() - end_ >= wanted) return;
        // Room for the whole body plus a pipelined head behind it.
        in_.reserve(end_ + wanted + read_room_min_bytes, end_);
    }

    // ---- the request loop ----------------------------------------------

    void process() {
        for (;;) {
            Progress progress = Progress::need_input;
            switch (phase_) {
            case Phase::head: progress = parse_head(); break;
            case Phase::body: progress = collect_body(); break;
            case Phase::chunked_body: progress = collect_chunked_body(); break;
            }
            if (shared_.config.delay_ms > 0) {
                if (progress == Progress::closed) return;
                if (!hold_answers(progress)) return;  // a closing answer: read no further
                if (progress == Progress::again) continue;
                return read_more();
            }
            switch (progress) {
            case Progress::again:
                if (out_.size() >= out_flush_bytes) return write_out();
                continue;
            case Progress::need_input:
                // Answers (and 100 Continue) go out before we wait for more bytes.
                return out_.empty() ? read_more() : write_out();
            case Progress::flush: return write_out();
            case Progress::delay: return delay_then_write();
            case Progress::closed: return;
            }
        }
    }

    Progress parse_head() {
        if (begin_ == end_) {
            begin_ = end_ = 0;  // nothing pending: start the next read at the front
            return Progress::need_input;
        }
        const HeadResult parsed = parse_request_head(std::string_view(in_.data() + begin_, end_ - begin_));
        if (parsed.status == ParseStatus::incomplete) {
            if (end_ - begin_ <= request_head_bytes_max) return Progress::need_input;
            respond_error(431, "request head too large", true);
            return Progress::flush;
        }
        if (parsed.status == ParseStatus::error) {
            respond_error(parsed.error_status, parsed.error, true);
            return Progress::flush;
        }
        return begin_request(parsed.head);
    }

    Progress begin_request(const RequestHead& head) {
        Request& r = request_;
        const Route route = match_route(head.path);
        r.method = head.method;
        r.route = route.kind;
        r.dataset.assign(route.dataset);
        r.edge = route.edge;
        r.event_labels.assign(head.event_labels.substr(0, event_labels_bytes_max));
        r.content_type = head.content_type;
        r.encoding = head.content_encoding;
        r.framing = head.framing;
        r.content_length = head.content_length;
        r.keep_alive = head.keep_alive;
        r.reject_status = 0;
        r.reject_message.clear();
        r.allow = nullptr;
        r.fault = FaultAction{};
        r.body_start = begin_ + head.head_bytes;
        r.decoded_end = r.raw_pos = r.body_start;
        check_request(head);

        if (r.reject_status == 413 || (r.reject_status != 0 && head.expect_continue)) {
            // Refuse before the body is sent rather than reading what we will not use.
            count_rejected();
            respond_error(r.reject_status, r.reject_message, true);
            return Progress::flush;
        }
        if (r.reject_status == 0 && r.route == RouteKind::ingest) {
            if (apply_fault_decision() == Progress::closed) return Progress::closed;
        }
        const bool body_here = r.framing == BodyFraming::content_length && end_ - r.body_start >= r.content_length;
        if (head.expect_continue && r.framing != BodyFraming::none && !body_here) {
            out_.append("HTTP/1.1 100 Continue\r\n\r\n");
        }
        if (r.framing == BodyFraming::chunked) {
            chunked_.reset();
            phase_ = Phase::chunked_body;
        } else {
            phase_ = Phase::body;  // a body of 0 bytes completes at once
        }
        return Progress::again;
    }

    // Route, method, size and media type: everything decidable from the head.
    void check_request(const RequestHead& head) {
        Request& r = request_;
        auto reject = [&r](int status, std::string_view message, std::string_view detail = {}) {
            r.reject_status = status;
            r.reject_message.assign(message);
            r.reject_message.append(detail.substr(0, 128));
        };
        if (r.route == RouteKind::not_found) return reject(404, "not found: the sink serves POST /v1/datasets/{dataset}/ingest, POST /v1/ingest/{dataset} and GET /stats");
        if (r.route == RouteKind::stats && r.method != Method::get) {
            r.allow = "GET";
            return reject(405, "method not allowed: use GET /stats");
        }
        if (r.route == RouteKind::stats) return;
        if (r.method != Method::post) {
            r.allow = "POST";
            return reject(405, "method not allowed: ingest takes POST");
        }
        if (r.framing == BodyFraming::content_length && r.content_length > shared_.config.max_body_bytes) {
            return reject(413, "request body larger than the sink's --max-body-bytes");
        }
        if (r.encoding == ContentEncoding::unsupported || (r.encoding == ContentEncoding::gzip && !gzip_supported)) {
            return reject(415,
                          gzip_supported ? "unsupported Content-Encoding (use zstd, gzip or none): "
                                         : "unsupported Content-Encoding (use zstd or none; this build has no gzip): ",
                          head.content_encoding_text);
        }
        if (r.content_type == ContentType::unsupported) {
            // curl --data-binary sends application/x-www-form-urlencoded unless told otherwise.
            return reject(415,
                          "unsupported Content-Type (use application/x-ndjson, application/json or text/csv; "
                          "with curl add -H 'Content-Type: application/x-ndjson'): ",
                          head.content_type_text);
        }
    }

    // The per-request fault hook: the only place --faults changes behaviour.
    Progress apply_fault_decision() {
        if (shared_.config.faults.empty()) return Progress::again;
        const std::uint64_t sequence = shared_.request_sequence.fetch_add(1, std::memory_order_relaxed);
        request_.fault = shared_.config.faults.decide(sequence);
        switch (request_.fault.kind) {
        case FaultKind::none: return Progress::again;
        case FaultKind::close:
            shared_.stats.record_fault();
            close();
            return Progress::closed;
        case FaultKind::status:
            request_.reject_status = request_.fault.status;
            request_.reject_message.assign("fault injected by supervent-sink --faults");
            break;
        case FaultKind::delay:
        case FaultKind::slow_read:
            break;
        }
        shared_.stats.record_fault();
        return Progress::again;
    }

    Progress collect_body() {
        const std::size_t have = end_ - request_.body_start;
        if (have < request_.content_length) return Progress::need_input;
        const std::string_view body(in_.data() + request_.body_start, request_.content_length);
        begin_ = request_.body_start + request_.content_length;
        return finish_request(body);
    }

    Progress collect_chunked_body() {
        const ChunkedDecoder::Step step = chunked_.decode(in_.data(), request_.raw_pos, end_, request_.decoded_end,
                                                          shared_.config.max_body_bytes);
        if (step.status == ParseStatus::incomplete) return Progress::need_input;
        if (step.status == ParseStatus::error) {
            count_rejected();
            respond_error(chunked_.too_large() ? 413 : 400, step.error, true);
            return Progress::flush;
        }
        const std::string_view body(in_.data() + request_.body_start, request_.decoded_end - request_.body_start);
        begin_ = request_.raw_pos;
        return finish_request(body);
    }

    // ---- answering -----------------------------------------------------

    Progress finish_request(std::string_view body) {
        phase_ = Phase::head;
        const bool close_after = !request_.keep_alive;
        if (request_.reject_status != 0) {
            count_rejected();
            respond_error(request_.reject_status, request_.reject_message, close_after);
        } else if (request_.route == RouteKind::stats) {
            respond(200, to_json(shared_.stats.snapshot()), close_after);
        } else {
            ingest(body, close_after);
        }
        if (request_.fault.kind == FaultKind::delay) return Progress::delay;
        return close_after ? Progress::flush : Progress::again;
    }

    void count_rejected() {
        if (request_.route == RouteKind::ingest) shared_.stats.record_rejected();
    }

    void ingest(std::string_view wire, bool close_after) {
        const std::uint64_t decoded_max = shared_.config.max_body_bytes * decoded_to_body_ratio_max;
        const DecodeResult decoded = body_.decode(request_.encoding, wire, decoded_max);
        if (decoded.error != BodyError::none) {
            count_rejected();
            return respond_error(decoded.error == BodyError::too_large ? 413 : 400, decoded.message, close_after);
        }
        BodyError body_error = BodyError::none;
        const char* message = nullptr;
        const CountResult counted = body_.count(request_.content_type, decoded.body, shared_.config.verify, body_error, message);
        if (body_error != BodyError::none) {
            count_rejected();
            return respond_error(400, message, close_after);
        }
        shared_.stats.record_ingest({request_.dataset, wire.size(), decoded.body.size(), counted.events, counted.invalid,
                                     request_.event_labels, request_.edge});
        respond_ingest(counted, decoded.body.size(), close_after);
    }

    void respond_ingest(const CountResult& counted, std::size_t processed_bytes, bool close_after) {
        std::string& b = scratch_;
        b.assign("{\"ingested\":");
        append_uint(b, counted.events);
        b.append(",\"failed\":");
        append_uint(b, counted.invalid);
        b.append(",\"failures\":[");
        for (std::size_t i = 0; i < counted.failures_count; ++i) {
            if (i > 0) b.push_back(',');
            b.append("{\"timestamp\":\"");
            append_rfc3339_now(b);
            b.append("\",\"error\":\"event ");
            append_uint(b, counted.failures[i].event_index);
            b.append(": ");
            append_json_escaped(b, counted.failures[i].error);
            b.append("\"}");
        }
        b.append("],\"processedBytes\":");
        append_uint(b, processed_bytes);
        b.push_back('}');
        respond(200, b, close_after);
    }

    void respond_error(int status, std::string_view message, bool close_after) {
        std::string& b = scratch_;
        b.assign("{\"code\":");
        append_uint(b, static_cast<std::uint64_t>(status));
        b.append(",\"message\":\"");
        append_json_escaped(b, message.empty() ? std::string_view(reason_phrase(status)) : message);
        b.append("\"}");
        respond(status, b, close_after);
    }

    void respond(int status, std::string_view body, bool close_after) {
        out_.append("HTTP/1.1 ");
        append_uint(out_, static_cast<std::uint64_t>(status));
        out_.push_back(' ');
        out_.append(reason_phrase(status));
        out_.append("\r\nServer: supervent-sink\r\nContent-Type: application/json\r\nContent-Length: ");
        append_uint(out_, body.size());
        out_.append("\r\n");
        append_limit_headers(status);
        if (status == 405 && request_.allow != nullptr) {
            out_.append("Allow: ").append(request_.allow).append("\r\n");
        }
        if (close_after) {
            out_.append("Connection: close\r\n");
            close_after_write_ = true;
        }
        out_.append("\r\n");
        out_.append(body);
    }

    // Axiom's rate-limit (429) and ingest-quota (430) headers, so clients can be tested against them.
    void append_limit_headers(int status) {
        const char* prefix = status == 429 ? "X-RateLimit-" : status == 430 ? "X-IngestLimit-" : nullptr;
        if (prefix == nullptr) return;
        const std::int64_t reset_s = epoch_s() + (status == 429 ? rate_limit_reset_s : ingest_limit_reset_s);
        out_.append(prefix).append("Limit: 1000\r\n");
        out_.append(prefix).append("Remaining: 0\r\n");
        out_.append(prefix).append("Reset: ");
        append_uint(out_, static_cast<std::uint64_t>(reset_s));
        out_.append("\r\n");
    }

    // ---- writing and closing -------------------------------------------

    void write_out() {
        auto on_written = [self = shared_from_this()](const error_code& error, std::size_t) {
            if (error) return self->close();
            self->out_.clear();
            if (self->close_after_write_) return self->linger_close();
            self->process();
        };
        if (tls_) {
            asio::async_write(*tls_, asio::buffer(out_), std::move(on_written));
        } else {
            asio::async_write(socket_, asio::buffer(out_), std::move(on_written));
        }
    }

    void delay_then_write() {
        timer_.expires_after(std::chrono::milliseconds(request_.fault.delay_ms));
        request_.fault = FaultAction{};  // the delay is spent; the next request decides anew
        timer_.async_wait([self = shared_from_this()](const error_code& error) {
            if (error) return self->close();
            self->write_out();
        });
    }

    // ---- --delay-ms: answers held until they are due ------------------

    // Moves the answers in out_ to the held queue, due delay_ms from now (plus
    // a delay fault's own). Returns false when the last of them closes the
    // connection: nothing more is read, the writer closes after it.
    bool hold_answers(Progress progress) {
        std::uint32_t extra_ms = 0;
        if (progress == Progress::delay) {
            extra_ms = request_.fault.delay_ms;
            request_.fault = FaultAction{};
        }
        if (out_.empty()) return true;
        const auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(shared_.config.delay_ms + extra_ms);
        held_.push_back(Held{due, std::move(out_), close_after_write_});
        out_ = std::string();
        const bool closing = close_after_write_;
        close_after_write_ = false;
        if (!writing_held_) write_held_when_due();
        return !closing;
    }

    // Answers go out in request order: the oldest held one sets the timer,
    // and everything due by then is written together.
    void write_held_when_due() {
        if (held_.empty()) {
            writing_held_ = false;
            return;
        }
        writing_held_ = true;
        held_timer_.expires_at(held_.front().due);
        held_timer_.async_wait([self = shared_from_this()](const error_code& error) {
            if (error) return self->close();
            self->write_due_answers();
        });
    }

    void write_due_answers() {
        const auto now = std::chrono::steady_clock::now();
        held_out_.clear();
        bool closing = false;
        while (!held_.empty() && held_.front().due <= now && !closing) {
            held_out_.append(held_.front().bytes);
            closing = held_.front().close_after;
            held_.pop_front();
        }
        auto on_written = [self = shared_from_this(), closing](const error_code& error, std::size_t) {
            if (error) return self->close();
            if (closing) return self->linger_close();
            self->write_held_when_due();
        };
        if (tls_) {
            asio::async_write(*tls_, asio::buffer(held_out_), std::move(on_written));
        } else {
            asio::async_write(socket_, asio::buffer(held_out_), std::move(on_written));
        }
    }

    // Half-close, then drain what the peer is still sending for a moment:
    // closing with unread bytes would send a reset that can destroy our answer.
    void linger_close() {
        error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_send, ignored);
        timer_.expires_after(linger_timeout);
        timer_.async_wait([self = shared_from_this()](const error_code&) { self->close(); });
        drain();
    }

    void drain() {
        socket_.async_read_some(asio::buffer(in_.data(), in_.capacity()),
                                [self = shared_from_this()](const error_code& error, std::size_t) {
                                    if (error) return self->close();
                                    self->drain();
                                });
    }

    void close() {
        error_code ignored;
        timer_.cancel();
        held_timer_.cancel();
        socket_.close(ignored);
    }

    Shared& shared_;
    tcp::socket socket_;
    std::optional<asio::ssl::stream<tcp::socket&>> tls_;  // over socket_, with --tls-cert
    asio::steady_timer timer_;
    ByteBuffer in_;           // received bytes; [begin_, end_) not yet consumed
    std::size_t begin_ = 0;   // start of the next request head
    std::size_t end_ = 0;
    Phase phase_ = Phase::head;
    Request request_;
    ChunkedDecoder chunked_;
    BodyProcessor body_;
    std::string out_;         // answers waiting to be written
    std::string scratch_;     // the answer body being built
    bool close_after_write_ = false;
    // --delay-ms: answers waiting until they are due, oldest first.
    struct Held {
        std::chrono::steady_clock::time_point due;
        std::string bytes;
        bool close_after = false;
    };
    std::deque<Held> held_;
    std::string held_out_;  // the due answers being written
    bool writing_held_ = false;
    asio::steady_timer held_timer_;
};

std::string format_endpoint(const tcp::endpoint& endpoint) {
    const std::string address = endpoint.address().to_string();
    const std::string port = std::to_string(endpoint.port());
    return endpoint.address().is_v6() ? "[" + address + "]:" + port : address + ":" + port;
}

}  // namespace

struct Server::Impl {
    explicit Impl(ServerConfig c) : config(std::move(c)) {}

    ServerConfig config;
    Stats stats;
    std::atomic<std::uint64_t> request_sequence{0};
    std::unique_ptr<asio::ssl::context> tls_context;
    Shared shared{config, stats, request_sequence};
    // Declared after what connections refer to, so pending handlers (and the
    // connections they own) are destroyed first.
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::unique_ptr<tcp::acceptor> acceptor;
    std::unique_ptr<asio::steady_timer> accept_retry;
    std::vector<std::thread> threads;
    std::size_t next_context_index = 0;  // touched only on contexts[0]'s thread
    bool stopped = false;

    void listen();
    void accept_next();
};

void Server::Impl::listen() {
    tcp::resolver resolver(*contexts[0]);
    error_code error;
    const auto results = resolver.resolve(config.host, std::to_string(config.port),
                                          tcp::resolver::passive | tcp::resolver::numeric_service, error);
    if (error || results.empty()) {
        throw std::runtime_error("cannot resolve listen host '" + config.host + "': " + error.message());
    }
    const tcp::endpoint endpoint = results.begin()->endpoint();
    acceptor = std::make_unique<tcp::acceptor>(*contexts[0]);
    auto check = [&](const char* step) {
        if (error) throw std::runtime_error("cannot listen on " + format_endpoint(endpoint) + ": " + step + ": " + error.message());
    };
    acceptor->open(endpoint.protocol(), error);
    check("socket");
    acceptor->set_option(tcp::acceptor::reuse_address(true), error);
    check("SO_REUSEADDR");
    acceptor->bind(endpoint, error);
    check("bind");
    acceptor->listen(asio::socket_base::max_listen_connections, error);
    check("listen");
}

void Server::Impl::accept_next() {
    asio::io_context& context = *contexts[next_context_index++ % contexts.size()];
    auto connection = std::make_shared<Connection>(context, shared);
    acceptor->async_accept(connection->socket(), [this, connection, &context](const error_code& error) {
        if (error == asio::error::operation_aborted) return;
        if (error) {
            // Typically EMFILE: back off instead of spinning on a full descriptor table.
            std::fprintf(stderr, "supervent-sink: accept failed: %s\n", error.message().c_str());
            accept_retry->expires_after(accept_retry_delay);
            accept_retry->async_wait([this](const error_code& e) {
                if (!e) accept_next();
            });
            return;
        }
        error_code peer_error;
        const auto peer = connection->socket().remote_endpoint(peer_error);
        if (!peer_error) shared.stats.record_connection(peer.address().to_string());
        // Start on the connection's own thread; from then on only that thread touches it.
        asio::post(context, [connection] { connection->start(); });
        accept_next();
    });
}

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {
    if (impl_->config.threads == 0) throw std::runtime_error("--threads must be at least 1");
    for (unsigned i = 0; i < impl_->config.threads; ++i) {
        impl_->contexts.push_back(std::make_unique<asio::io_context>(1));
        impl_->work.push_back(asio::make_work_guard(*impl_->contexts.back()));
    }
    impl_->accept_retry = std::make_unique<asio::steady_timer>(*impl_->contexts[0]);
    if (impl_->config.tls_cert_file.empty() != impl_->config.tls_key_file.empty()) {
        throw std::runtime_error("--tls-cert and --tls-key go together: give both, or neither for plain HTTP");
    }
    if (!impl_->config.tls_cert_file.empty()) {
        impl_->tls_context = make_tls_context(impl_->config);
        impl_->shared.tls = impl_->tls_context.get();
    }
    impl_->listen();
}

Server::~Server() { stop(); }

std::uint16_t Server::port() const noexcept {
    error_code ignored;
    return impl_->acceptor->local_endpoint(ignored).port();
}

std::string Server::listen_address() const {
    error_code ignored;
    return format_endpoint(impl_->acceptor->local_endpoint(ignored));
}

void Server::start() {
    if (!impl_->threads.empty() || impl_->stopped) return;
    asio::post(*impl_->contexts[0], [impl = impl_.get()] { impl->accept_next(); });
    for (auto& context : impl_->contexts) {
        impl_->threads.emplace_back([&context] { context->run(); });
    }
}

void Server::stop() {
    if (impl_->stopped) return;
    impl_->stopped = true;
    for (auto& context : impl_->contexts) context->stop();
    for (auto& thread : impl_->threads) thread.join();
    impl_->threads.clear();
    // The threads are gone, so nothing else touches the acceptor now.
    error_code ignored;
    impl_->acceptor->close(ignored);
}

StatsSnapshot Server::stats() const { return impl_->stats.snapshot(); }

}  // namespace supervent::sink
