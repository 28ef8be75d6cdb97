#include "net/postgres_transport.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "net/copy_rows.hpp"

namespace supervent::net {

namespace {

constexpr const char* columns_sql = "(_time, source, event_type, message, attributes)";
// Serialises the CREATE TABLE IF NOT EXISTS of concurrent connections: two
// of them creating the same table at once can otherwise fail on a unique
// index of the catalogue.
constexpr const char* create_lock_key = "7401942366420120";
constexpr char copy_done[] = {'c', 0, 0, 0, 4};
constexpr char terminate[] = {'X', 0, 0, 0, 4};

void put_u32(char* out, std::uint32_t value) {
    out[0] = static_cast<char>(value >> 24);
    out[1] = static_cast<char>(value >> 16);
    out[2] = static_cast<char>(value >> 8);
    out[3] = static_cast<char>(value);
}

std::uint32_t get_u32(const char* in) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(in);
    return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) | bytes[3];
}

// SQLSTATE classes where the server (its state, its resources, an operator),
// not the batch, was at fault: the same batch may well go in later.
bool retryable_sqlstate(const char* sqlstate) {
    static constexpr const char* classes[] = {"08", "40", "53", "57", "58", "XX"};
    return std::ranges::any_of(classes, [&](const char* c) { return std::strncmp(sqlstate, c, 2) == 0; });
}

// libpq's messages end in a newline; a failure's detail reads better without it.
std::string_view trimmed(const char* text) {
    std::string_view view = text == nullptr ? std::string_view{} : std::string_view{text};
    while (!view.empty() && (view.back() == '\n' || view.back() == ' ')) view.remove_suffix(1);
    return view;
}

// Connection failures no retry mends: wrong credentials, no such database
// or role. libpq gives no SQLSTATE for them, only its (English) message.
bool permanent_connect_failure(pg_conn* pg, std::string_view message) {
    return PQconnectionNeedsPassword(pg) != 0 || message.find("authentication failed") != std::string_view::npos ||
           message.find("does not exist") != std::string_view::npos;
}

// "why: NAME (line N)" in `room`, without allocating.
std::string_view encode_failure_detail(const CopyRows& rows, std::span<char> room) {
    if (rows.error == nullptr) return "the rows are not one per event";
    const int n = std::snprintf(room.data(), room.size(), "%s%s%.*s (line %zu of the batch)", rows.error,
                                rows.error_name.empty() ? "" : ": ", static_cast<int>(rows.error_name.size()),
                                rows.error_name.data(), rows.error_line);
    return {room.data(), std::min(room.size() - 1, static_cast<std::size_t>(std::max(n, 0)))};
}

}  // namespace

std::string postgres_quoted_table(const std::string& name) {
    const auto dot = name.find('.');
    if (dot == std::string::npos) return '"' + name + '"';
    return '"' + name.substr(0, dot) + "\".\"" + name.substr(dot + 1) + '"';
}

std::string postgres_copy_columns_sql(std::span<const TypedColumn> typed) {
    if (typed.empty()) return columns_sql;
    std::string sql = "(_time, source, event_type, message";
    for (const TypedColumn& column : typed) sql += ", \"" + column.name + '"';
    return sql + ")";
}

std::string postgres_create_table_sql(const std::string& quoted_table, std::span<const TypedColumn> typed, bool unlogged) {
    std::string sql = std::string("CREATE ") + (unlogged ? "UNLOGGED " : "") + "TABLE IF NOT EXISTS " + quoted_table +
                      " (_time timestamptz, source text, event_type text, message text";
    if (typed.empty()) return sql + ", attributes jsonb)";
    for (const TypedColumn& column : typed) sql += ", \"" + column.name + "\" " + std::string(pg_type_name(column.type));
    return sql + ")";
}

// Binary COPY reads each field with its column's own binary input: a column
// of another type (int for bigint) would misread the bytes or refuse them
// batch after batch. So every column is checked once per connection, by
// the server, and the first that is missing or of another type is named.
std::string postgres_check_columns_sql(const std::string& quoted_table, std::span<const TypedColumn> typed) {
    std::string expected = "(VALUES ('_time', 'timestamp with time zone'), ('source', 'text'), "
                           "('event_type', 'text'), ('message', 'text')";
    for (const TypedColumn& column : typed) {
        expected += ", ('" + column.name + "', '" + std::string(pg_type_name(column.type)) + "')";
    }
    expected += ") AS e(name, type)";
    return "DO $check$ DECLARE bad record; BEGIN "
           "SELECT e.name, e.type, format_type(a.atttypid, a.atttypmod) AS has INTO bad FROM " + expected +
           " LEFT JOIN pg_attribute a ON a.attrelid = '" + quoted_table + "'::regclass AND a.attname = e.name "
           "AND a.attnum > 0 AND NOT a.attisdropped WHERE a.attname IS NULL OR format_type(a.atttypid, a.atttypmod) <> e.type "
           "LIMIT 1; "
           "IF bad.has IS NULL AND bad.name IS NOT NULL THEN RAISE EXCEPTION USING ERRCODE = '42703', MESSAGE = "
           "format('table %s has no column %I, which columns=typed writes (as %s)', '" + quoted_table + "', bad.name, bad.type); "
           "ELSIF bad.name IS NOT NULL THEN RAISE EXCEPTION USING ERRCODE = '42804', MESSAGE = "
           "format('column %I of table %s is %s, but columns=typed writes it as %s', bad.name, '" + quoted_table +
           "', bad.has, bad.type); END IF; END $check$";
}

PostgresTransport::PostgresTransport(Ring& ring, SlotListener& listener, PostgresTransportConfig config)
    : ring_(ring), listener_(listener), config_(std::move(config)), backoff_(0x9e3779b97f4a7c15ULL ^ config_.shard_index) {
    assert(!config_.tables.empty() && config_.connections > 0);
    std::size_t sql_bytes_max = 0;
    std::size_t typed_columns = 0;  // the most of any route
    for (std::size_t route = 0; route < config_.tables.size(); ++route) {
        const std::span<const TypedColumn> columns =
            typed(route) ? std::span<const TypedColumn>(config_.typed_columns[route]) : std::span<const TypedColumn>();
        typed_columns = std::max(typed_columns, columns.size());
        // Typed rows are binary COPY's (the config refuses columns=typed with copy=text).
        copy_sql_.push_back("COPY " + config_.tables[route] + " " + postgres_copy_columns_sql(columns) + " FROM STDIN" +
                            (config_.format == CopyFormat::binary || !columns.empty() ? " (FORMAT binary)" : ""));
        sql_bytes_max = std::max(sql_bytes_max, copy_sql_.back().size());
    }
    if (config_.create_tables) {
        setup_sql_ = std::string("BEGIN; SELECT pg_advisory_xact_lock(") + create_lock_key + ");";
        for (std::size_t route = 0; route < config_.tables.size(); ++route) {
            const std::string& table = config_.tables[route];
            if (std::find(config_.tables.begin(), config_.tables.begin() + static_cast<std::ptrdiff_t>(route), table) !=
                config_.tables.begin() + static_cast<std::ptrdiff_t>(route)) {
                continue;  // two sources, one table (the plan made sure their columns agree)
            }
            const std::span<const TypedColumn> columns =
                typed(route) ? std::span<const TypedColumn>(config_.typed_columns[route]) : std::span<const TypedColumn>();
            setup_sql_ += " " + postgres_create_table_sql(table, columns, config_.unlogged) + ";";
            if (!columns.empty()) setup_sql_ += " " + postgres_check_columns_sql(table, columns) + ";";
        }
        setup_sql_ += " COMMIT";
    }
    // Query + CopyData head + the rows + CopyDone; or the setup query.
    // CopyData heads, and binary COPY's header and trailer.
    const std::size_t copy_data_heads = 5 * (config_.body_bytes_max / (64 * 1024) + 4) + sizeof copy_binary_header +
                                        sizeof copy_binary_trailer;
    out_bytes_max_ = std::max(5 + sql_bytes_max + 1 + copy_data_heads +
                                  std::max(copy_rows_bytes_max(config_.body_bytes_max, config_.batch_events),
                                           2 * config_.body_bytes_max +
                                               config_.batch_events * typed_row_bytes_max(0, typed_columns)) +
                                  sizeof copy_done,
                              5 + setup_sql_.size() + 1);
    connections_.resize(config_.connections);
    for (std::uint32_t i = 0; i < config_.connections; ++i) {
        connections_[i].index = i;
        connections_[i].out = std::make_unique<char[]>(out_bytes_max_);
        connections_[i].in = std::make_unique<char[]>(in_bytes_max);
    }
}

PostgresTransport::~PostgresTransport() {
    // The shard tears the ring down after us; no completion will look for these.
    for (Connection& conn : connections_) {
        if (conn.pg != nullptr) PQfinish(conn.pg);
    }
}

std::size_t PostgresTransport::put_query(char* out, std::string_view sql) const {
    out[0] = 'Q';
    put_u32(out + 1, static_cast<std::uint32_t>(4 + sql.size() + 1));
    std::memcpy(out + 5, sql.data(), sql.size());
    out[5 + sql.size()] = '\0';
    return 5 + sql.size() + 1;
}

// The rows as CopyData messages of about copy_data_bytes each (cut at line
// ends of the NDJSON): the server reads a CopyData message whole into
// memory before parsing it, so one message per batch of megabytes would
// cost it a buffer that size, grown by copying, per batch. rows.bytes
// counts the message heads too.
CopyRows PostgresTransport::put_copy_data(std::string_view ndjson, std::size_t route, char* out,
                                          std::size_t room_bytes) const {
    static constexpr std::size_t copy_data_bytes = 64 * 1024;
    const bool typed_rows = typed(route);
    const bool binary = config_.format == CopyFormat::binary || typed_rows;
    CopyRows total;
    if (binary) {  // the header, as a CopyData of its own
        out[0] = 'd';
        put_u32(out + 1, 4 + sizeof copy_binary_header);
        std::memcpy(out + 5, copy_binary_header, sizeof copy_binary_header);
        total.bytes = 5 + sizeof copy_binary_header;
    }
    while (!ndjson.empty()) {
        std::size_t cut = ndjson.size();
        if (cut > copy_data_bytes) {
            const std::size_t newline = ndjson.find('\n', copy_data_bytes);
            cut = newline == std::string_view::npos ? ndjson.size() : newline + 1;
        }
        if (room_bytes - total.bytes < 5) {
            total.error = "the rows do not fit their buffer";
            return total;
        }
        char* const head = out + total.bytes;
        const std::span<char> room{head + 5, room_bytes - total.bytes - 5};
        const CopyRows rows = typed_rows ? encode_typed_copy_rows(ndjson.substr(0, cut), config_.typed_columns[route],
                                                                  config_.flat[route] != 0, room)
                                         : encode_copy_rows(ndjson.substr(0, cut), room, config_.format);
        if (rows.error != nullptr) {
            total.error = rows.error;
            total.error_line = rows.error_line;
            total.error_name = rows.error_name;
            return total;
        }
        head[0] = 'd';
        put_u32(head + 1, static_cast<std::uint32_t>(4 + rows.bytes));
        total.bytes += 5 + rows.bytes;
        total.rows += rows.rows;
        ndjson.remove_prefix(cut);
    }
    if (binary) {
        if (room_bytes - total.bytes < 5 + sizeof copy_binary_trailer) {
            total.error = "the rows do not fit their buffer";
            return total;
        }
        char* const head = out + total.bytes;
        head[0] = 'd';
        put_u32(head + 1, 4 + sizeof copy_binary_trailer);
        std::memcpy(head + 5, copy_binary_trailer, sizeof copy_binary_trailer);
        total.bytes += 5 + sizeof copy_binary_trailer;
    }
    return total;
}

bool PostgresTransport::try_start(Slot& slot, std::int64_t now_ns) {
    if (!fatal_error_.empty() || shutting_down_) return false;
    const auto idle = std::ranges::find_if(connections_, [](const Connection& c) { return c.state == State::idle; });
    if (idle == connections_.end()) return false;
    Connection& conn = *idle;
    assert(slot.route < copy_sql_.size());
    // Query, then CopyData with every row, then CopyDone: one send.
    char* out = conn.out.get();
    const std::size_t route = std::min<std::size_t>(slot.route, copy_sql_.size() - 1);
    std::size_t bytes = put_query(out, copy_sql_[route]);
    const CopyRows rows = put_copy_data({slot.data + slot.body_offset, slot.body_bytes}, route, out + bytes,
                                        out_bytes_max_ - bytes - sizeof copy_done);
    slot.wire_offset = slot.body_offset;
    slot.send_started_ns = now_ns;
    slot.move_to(SlotState::sending);
    if (rows.error != nullptr || rows.rows != slot.events) {
        // The engine's own output always encodes; a batch that does not is
        // refused here as a sink would refuse it, and said why.
        char detail[FailureFacts::detail_bytes_max];
        slot.wire_bytes = 0;
        slot.move_to(SlotState::settling);
        slot.verdict = Verdict::failed;
        slot.reason = FailReason::rejected;
        slot.acked_events = 0;
        note_failure(FailReason::rejected, 0, encode_failure_detail(rows, detail), now_ns);
        listener_.on_slot_settled(slot, now_ns);
        return true;
    }
    bytes += rows.bytes;
    std::memcpy(out + bytes, copy_done, sizeof copy_done);
    bytes += sizeof copy_done;
    conn.out_bytes = bytes;
    conn.sent_bytes = 0;
    conn.send_done = false;
    conn.answer = {};
    conn.slot = slot.index;
    conn.state = State::busy;
    conn.deadline_ns = now_ns + config_.request_timeout_ns;
    slot.wire_bytes = bytes;
    post_send(conn);
    return true;
}

// ---- the ring's side

void PostgresTransport::post_poll(Connection& conn, bool for_write) {
    io_uring_sqe* sqe = ring_.next_sqe();
    io_uring_prep_poll_add(sqe, conn.fd, for_write ? POLLOUT : POLLIN);
    io_uring_sqe_set_data64(sqe, CompletionTag::connection(Op::connect, conn.index, conn.generation).encode());
    ++conn.ops_outstanding;
}

// From the connection's own buffer (Op::tls_send names exactly that: a send
// whose bytes the connection, not a slot, holds).
void PostgresTransport::post_send(Connection& conn) {
    io_uring_sqe* sqe = ring_.next_sqe();
    io_uring_prep_send(sqe, conn.fd, conn.out.get() + conn.sent_bytes, conn.out_bytes - conn.sent_bytes, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, CompletionTag::connection(Op::tls_send, conn.index, conn.generation).encode());
    ++conn.ops_outstanding;
}

void PostgresTransport::post_recv(Connection& conn) {
    assert(!conn.recv_posted && conn.in_bytes < in_bytes_max);
    io_uring_sqe* sqe = ring_.next_sqe();
    io_uring_prep_recv(sqe, conn.fd, conn.in.get() + conn.in_bytes, in_bytes_max - conn.in_bytes, 0);
    io_uring_sqe_set_data64(sqe, CompletionTag::connection(Op::recv, conn.index, conn.generation).encode());
    ++conn.ops_outstanding;
    conn.recv_posted = true;
}

void PostgresTransport::on_completion(const io_uring_cqe& cqe, CompletionTag tag, std::int64_t now_ns) {
    if (tag.op != Op::connect && tag.op != Op::recv && tag.op != Op::tls_send) return;
    assert(tag.connection_index() < connections_.size());
    Connection& conn = connections_[tag.connection_index()];
    assert(tag.connection_generation() == conn.generation && conn.ops_outstanding > 0);
    --conn.ops_outstanding;
    if (tag.op == Op::recv) conn.recv_posted = false;
    if (conn.state == State::closing) {
        finish_close_if_quiet(conn);
        return;
    }
    switch (tag.op) {
        case Op::connect: advance_connect(conn, now_ns); break;
        case Op::tls_send: on_send(conn, cqe.res, now_ns); break;
        case Op::recv: on_recv(conn, cqe.res, now_ns); break;
        default: break;
    }
}

// ---- connecting: libpq's state machine, its waits on the ring

void PostgresTransport::open(Connection& conn, std::int64_t now_ns) {
    assert(conn.state == State::closed && conn.pg == nullptr);
    ++conn.generation;
    conn.in_bytes = 0;
    conn.answer = {};
    conn.deadline_ns = now_ns + config_.connect_timeout_ns;
    conn.pg = PQconnectStart(config_.conninfo.c_str());
    if (conn.pg == nullptr) {
        fatal_error_ = "postgresql sink: libpq could not allocate a connection";
        return;
    }
    conn.state = State::connecting;
    if (PQstatus(conn.pg) == CONNECTION_BAD) {
        connect_failed(conn, FailReason::connect, trimmed(PQerrorMessage(conn.pg)), now_ns);
        return;
    }
    conn.fd = PQsocket(conn.pg);
    post_poll(conn, true);  // PQconnectStart's contract: wait for writing first
}

void PostgresTransport::advance_connect(Connection& conn, std::int64_t now_ns) {
    switch (PQconnectPoll(conn.pg)) {
        case PGRES_POLLING_READING:
            conn.fd = PQsocket(conn.pg);  // may change while libpq tries the host's addresses
            post_poll(conn, false);
            return;
        case PGRES_POLLING_WRITING:
            conn.fd = PQsocket(conn.pg);
            post_poll(conn, true);
            return;
        case PGRES_POLLING_OK:
            on_connected(conn, now_ns);
            return;
        default:
            connect_failed(conn, FailReason::connect, trimmed(PQerrorMessage(conn.pg)), now_ns);
            return;
    }
}

void PostgresTransport::on_connected(Connection& conn, std::int64_t now_ns) {
    conn.fd = PQsocket(conn.pg);
    if (PQsslInUse(conn.pg) != 0 || PQgssEncInUse(conn.pg) != 0) {
        // The config forces sslmode/gssencmode=disable; a libpq that encrypts
        // anyway would have us write plaintext into its encrypted stream.
        fatal_error_ = "postgresql sink: the connection is encrypted, which the transport cannot speak; "
                       "use sslmode=disable and gssencmode=disable";
        connect_failed(conn, FailReason::rejected, fatal_error_, now_ns);
        return;
    }
    // From here the ring does the I/O: a blocking socket lets it wait inside
    // the kernel instead of answering EAGAIN.
    const int flags = ::fcntl(conn.fd, F_GETFL);
    if (flags >= 0) (void)::fcntl(conn.fd, F_SETFL, flags & ~O_NONBLOCK);
    ++counters_.connects;
    conn.failures_in_row = 0;
    post_recv(conn);
    if (setup_sql_.empty()) {
        conn.state = State::idle;
        return;
    }
    conn.state = State::setting_up;
    conn.out_bytes = put_query(conn.out.get(), setup_sql_);
    conn.sent_bytes = 0;
    conn.send_done = false;
    conn.deadline_ns = now_ns + config_.connect_timeout_ns;
    post_send(conn);
}

// ---- a batch in flight

void PostgresTransport::on_send(Connection& conn, int result, std::int64_t now_ns) {
    if (result < 0) {
        lose(conn, FailReason::transport, -result, now_ns);
        return;
    }
    conn.sent_bytes += static_cast<std::size_t>(result);
    if (conn.sent_bytes < conn.out_bytes) {
        post_send(conn);
        return;
    }
    conn.send_done = true;
}

void PostgresTransport::on_recv(Connection& conn, int result, std::int64_t now_ns) {
    if (result <= 0) {
        lose(conn, FailReason::transport, result == 0 ? 0 : -result, now_ns);
        return;
    }
    conn.in_bytes += static_cast<std::size_t>(result);
    if (!parse_answers(conn, now_ns)) return;
    if (conn.in_bytes == in_bytes_max) {
        // One message larger than the buffer: no answer of ours is that big.
        lose(conn, FailReason::bad_response, 0, now_ns);
        return;
    }
    if (conn.state != State::closing && conn.state != State::closed) post_recv(conn);
}

bool PostgresTransport::parse_answers(Connection& conn, std::int64_t now_ns) {
    std::size_t at = 0;
    while (conn.in_bytes - at >= 5) {
        const char* message = conn.in.get() + at;
        const std::uint32_t length = get_u32(message + 1);
        if (length < 4 || length > in_bytes_max - 1) {
            lose(conn, FailReason::bad_response, 0, now_ns);
            return false;
        }
        if (conn.in_bytes - at < 1 + std::size_t{length}) break;
        const char* body = message + 5;
        const std::size_t body_bytes = length - 4;
        at += 1 + length;
        switch (message[0]) {
            case 'E': on_error_response(conn, body, body_bytes); break;
            case 'C':
                if (body_bytes >= 4 && std::memcmp(body, "COPY", 4) == 0) conn.answer.committed = true;
                break;
            case 'Z':
                on_ready_for_query(conn, now_ns);
                if (conn.state == State::closing || conn.state == State::closed) return false;
                break;
            default: break;  // CopyInResponse, notices, parameter status, row data of the setup query
        }
    }
    std::memmove(conn.in.get(), conn.in.get() + at, conn.in_bytes - at);
    conn.in_bytes -= at;
    return true;
}

// Fields: a type byte and a NUL-terminated string each, a NUL at the end.
void PostgresTransport::on_error_response(Connection& conn, const char* body, std::size_t bytes) {
    Answer& answer = conn.answer;
    answer.error = true;
    std::string_view message;
    const char* end = body + bytes;
    while (body < end && *body != '\0') {
        const char type = *body++;
        const char* value = body;
        body = static_cast<const char*>(std::memchr(body, '\0', static_cast<std::size_t>(end - body)));
        if (body == nullptr) break;
        const std::string_view text(value, static_cast<std::size_t>(body - value));
        ++body;
        if (type == 'C' && text.size() == 5) std::memcpy(answer.sqlstate, text.data(), 5);
        if (type == 'V' && (text == "FATAL" || text == "PANIC")) answer.fatal = true;
        if (type == 'M') message = text;
    }
    // "SQLSTATE message", cut to the fixed room.
    const std::size_t room = sizeof answer.text;
    std::size_t n = std::min<std::size_t>(5, room);
    std::memcpy(answer.text, answer.sqlstate[0] != '\0' ? answer.sqlstate : "?????", n);
    if (n < room) answer.text[n++] = ' ';
    const std::size_t take = std::min(message.size(), room - n);
    std::memcpy(answer.text + n, message.data(), take);
    answer.text_bytes = static_cast<std::uint32_t>(n + take);
}

void PostgresTransport::on_ready_for_query(Connection& conn, std::int64_t now_ns) {
    if (conn.state == State::setting_up) {
        if (conn.answer.error) {
            const std::string_view text(conn.answer.text, conn.answer.text_bytes);
            if (retryable_sqlstate(conn.answer.sqlstate)) {
                connect_failed(conn, FailReason::server_error, text, now_ns);
            } else {
                fatal_error_ = "postgresql sink: cannot create or use the table: " + std::string(text);
                connect_failed(conn, FailReason::rejected, text, now_ns);
            }
            return;
        }
        conn.answer = {};
        conn.state = State::idle;
        return;
    }
    if (conn.state != State::busy) return;
    settle_from_answer(conn, now_ns);
    if (shutting_down_) begin_close(conn, true);
}

void PostgresTransport::settle_from_answer(Connection& conn, std::int64_t now_ns) {
    const Answer& answer = conn.answer;
    if (answer.error) {
        const bool retry = retryable_sqlstate(answer.sqlstate);
        const FailReason reason = retry ? FailReason::server_error : FailReason::rejected;
        note_failure(reason, 0, {answer.text, answer.text_bytes}, now_ns);
        settle(conn, retry ? Verdict::retry : Verdict::failed, reason, now_ns);
        return;
    }
    if (answer.committed) {
        settle(conn, Verdict::acked, FailReason::none, now_ns);
        return;
    }
    note_failure(FailReason::bad_response, 0, "the server ended the COPY without saying whether it committed", now_ns);
    settle(conn, Verdict::retry, FailReason::bad_response, now_ns);
}

void PostgresTransport::settle(Connection& conn, Verdict verdict, FailReason reason, std::int64_t now_ns) {
    assert(conn.slot != no_slot);
    Slot& slot = listener_.slot_at(conn.slot);
    conn.slot = no_slot;
    conn.state = State::idle;
    conn.answer = {};
    slot.move_to(SlotState::settling);
    slot.verdict = verdict;
    slot.reason = reason;
    slot.acked_events = verdict == Verdict::acked ? slot.events : 0;
    slot.retry_at_ns = 0;
    listener_.on_slot_settled(slot, now_ns);
}

// ---- losing and closing

void PostgresTransport::lose(Connection& conn, FailReason reason, int error_number, std::int64_t now_ns) {
    const State state = conn.state;
    const Answer answer = conn.answer;
    if (state == State::connecting || state == State::setting_up) {
        connect_failed(conn, reason, answer.error ? std::string_view(answer.text, answer.text_bytes) : "connection lost",
                       now_ns);
        return;
    }
    ++counters_.disconnects;
    if (state == State::busy) {
        if (answer.committed) {
            // CommandComplete came before the connection went: the batch is in.
            settle(conn, Verdict::acked, FailReason::none, now_ns);
        } else if (answer.error) {
            settle_from_answer(conn, now_ns);
        } else {
            // Everything sent and no answer: the server may have committed it.
            if (conn.send_done) ++counters_.requests_ambiguous;
            note_failure(reason, error_number, "connection lost during a COPY", now_ns);
            settle(conn, Verdict::retry, reason, now_ns);
        }
    } else if (answer.error) {
        note_failure(FailReason::transport, error_number, {answer.text, answer.text_bytes}, now_ns);  // a FATAL while idle
    } else {
        note_failure(FailReason::transport, error_number, "connection closed by the server", now_ns);
    }
    conn.reconnect_at_ns = now_ns + backoff_.delay_ns(conn.failures_in_row++, config_.reconnect_backoff_min_ns,
                                                      config_.reconnect_backoff_max_ns);
    begin_close(conn, false);
}

void PostgresTransport::connect_failed(Connection& conn, FailReason reason, std::string_view why, std::int64_t now_ns) {
    const bool permanent = conn.pg != nullptr && conn.state == State::connecting && permanent_connect_failure(conn.pg, why);
    if (permanent && fatal_error_.empty()) {
        fatal_error_ = "postgresql sink: " + std::string(why) +
                       " (a password goes in PGPASSFILE, ~/.pgpass or passfile=PATH, never in the URL)";
    }
    ++counters_.connect_failures;
    note_failure(reason, 0, why, now_ns);
    conn.reconnect_at_ns = now_ns + backoff_.delay_ns(conn.failures_in_row++, config_.reconnect_backoff_min_ns,
                                                      config_.reconnect_backoff_max_ns);
    begin_close(conn, false);
    // The shard charges its oldest waiting batch; reconnect by its retry time.
    const std::int64_t batch_due_ns = listener_.on_sink_unreachable(reason, now_ns);
    conn.reconnect_at_ns = std::min(conn.reconnect_at_ns, std::max(batch_due_ns, now_ns + config_.reconnect_backoff_min_ns));
}

// polite: the connection is idle; say goodbye (Terminate) so the server
// does not log an unexpected EOF. Either way shutdown() ends the ring's
// operations on the socket, and PQfinish closes it once they are all back.
void PostgresTransport::begin_close(Connection& conn, bool polite) {
    if (conn.fd >= 0) {
        if (polite) (void)::send(conn.fd, terminate, sizeof terminate, MSG_NOSIGNAL | MSG_DONTWAIT);
        ::shutdown(conn.fd, SHUT_RDWR);  // also ends a poll of libpq's connect
    }
    conn.state = State::closing;
    finish_close_if_quiet(conn);
}

void PostgresTransport::finish_close_if_quiet(Connection& conn) {
    if (conn.ops_outstanding > 0) return;
    if (conn.pg != nullptr) PQfinish(conn.pg);
    conn.pg = nullptr;
    conn.fd = -1;
    conn.in_bytes = 0;
    conn.recv_posted = false;
    conn.state = State::closed;
}

void PostgresTransport::note_failure(FailReason reason, int error_number, std::string_view detail, std::int64_t now_ns) {
    counters_.note_failure(reason, 0, error_number, detail, now_ns);
}

// ---- time

void PostgresTransport::on_tick(std::int64_t now_ns, bool work_waiting) {
    work_waiting_ = work_waiting;
    for (Connection& conn : connections_) {
        switch (conn.state) {
            case State::closed:
                if (work_waiting && !shutting_down_ && fatal_error_.empty() && now_ns >= conn.reconnect_at_ns) {
                    open(conn, now_ns);
                }
                break;
            case State::connecting:
            case State::setting_up:
                if (now_ns >= conn.deadline_ns) connect_failed(conn, FailReason::timeout, "connect timed out", now_ns);
                break;
            case State::busy:
                if (now_ns >= conn.deadline_ns) lose(conn, FailReason::timeout, 0, now_ns);
                break;
            default: break;
        }
    }
}

std::int64_t PostgresTransport::next_deadline_ns() const {
    std::int64_t next = INT64_MAX;
    for (const Connection& conn : connections_) {
        if (conn.state == State::connecting || conn.state == State::setting_up || conn.state == State::busy) {
            next = std::min(next, conn.deadline_ns);
        }
        if (conn.state == State::closed && work_waiting_ && !shutting_down_ && fatal_error_.empty()) {
            next = std::min(next, conn.reconnect_at_ns);
        }
    }
    return next;
}

void PostgresTransport::abort_in_flight(std::int64_t now_ns) {
    for (Connection& conn : connections_) {
        if (conn.state == State::busy) lose(conn, FailReason::timeout, 0, now_ns);
    }
}

void PostgresTransport::begin_shutdown() {
    shutting_down_ = true;
    for (Connection& conn : connections_) {
        if (conn.state == State::idle) begin_close(conn, true);
        else if (conn.state == State::connecting || conn.state == State::setting_up) begin_close(conn, false);
    }
}

bool PostgresTransport::quiescent() const {
    return std::ranges::all_of(connections_, [](const Connection& conn) { return conn.state == State::closed; });
}

}  // namespace supervent::net
