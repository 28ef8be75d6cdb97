#pragma once
// postgresql:// sinks (issue 20): each batch goes into a table with one
// COPY ... FROM STDIN, one transaction per batch, from one of a shard's
// connections, all driven by the shard's ring.
//
// libpq only connects: PQconnectStart/PQconnectPoll do the startup,
// SSL and authentication (md5, SCRAM, GSS, .pgpass), their socket waits
// being IORING_OP_POLL_ADDs on the ring. Once the connection is ready the
// transport speaks the protocol itself on the same socket, which libpq no
// longer touches until PQfinish: a batch is one ring send of
//
//   Query("COPY table (...) FROM STDIN (FORMAT binary)") CopyData(rows)... CopyDone
//
// written into the connection's own buffer, and the answer (CopyInResponse,
// CommandComplete "COPY n" or ErrorResponse, ReadyForQuery) is read by ring
// recvs. The CopyData goes out behind the Query without waiting for the
// server's CopyInResponse, so a batch costs one send and no round trip
// (a COPY that fails to start makes the server skip the CopyData and
// CopyDone that follow, as the protocol says). Why not libpq's own COPY
// calls in non-blocking mode: they need the CopyInResponse before the data,
// copy every batch into libpq's output buffer and malloc a PGresult per
// step; see docs/sinks/postgresql.md for the measurement.
//
// What "acknowledged" means: the server's CommandComplete for the COPY,
// which in autocommit it sends after the transaction committed. An
// ErrorResponse fails the batch with the server's message (retried when its
// SQLSTATE class says the server, not the data, was at fault: 08, 40, 53,
// 57, 58, XX). A connection lost after every byte of a batch was sent and
// before any answer is an ambiguous commit (counted in requests_ambiguous):
// the batch is retried, and may then be in the table twice.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "net/backoff.hpp"
#include "net/copy_rows.hpp"
#include "net/copy_typed.hpp"
#include "net/ring.hpp"
#include "net/transport.hpp"

struct pg_conn;

namespace supervent::net {

struct PostgresTransportConfig {
    std::string conninfo;  // a libpq URI, never with a password in it
    // The quoted table of each route (a slot's route r goes to tables[r]):
    // one per source, each source's dataset.
    std::vector<std::string> tables;
    // columns=typed: the field columns of each route's table (empty: the
    // jsonb layout), and whether its source writes the fields at the top
    // level (flat layout). Empty vectors: no route is typed.
    std::vector<std::vector<TypedColumn>> typed_columns;
    std::vector<std::uint8_t> flat;
    bool create_tables = true;  // CREATE TABLE IF NOT EXISTS on every connect
    bool unlogged = false;      // ... as CREATE UNLOGGED TABLE
    CopyFormat format = CopyFormat::binary;  // of the rows on the wire
    std::uint32_t connections = 2;
    std::int64_t connect_timeout_ns = 5'000'000'000;
    std::int64_t request_timeout_ns = 30'000'000'000;
    std::int64_t reconnect_backoff_min_ns = 50'000'000;
    std::int64_t reconnect_backoff_max_ns = 2'000'000'000;
    // Sizes the connections' buffers: the largest NDJSON body and event
    // count a slot holds (filled by the shard).
    std::size_t body_bytes_max = 0;
    std::uint32_t batch_events = 0;
    std::uint32_t shard_index = 0;  // seeds the backoff jitter
};

// The statement that makes a route's table when it is missing: the jsonb
// layout, or the four fixed columns and `typed` (columns=typed).
[[nodiscard]] std::string postgres_create_table_sql(const std::string& quoted_table,
                                                    std::span<const TypedColumn> typed = {}, bool unlogged = false);
// A statement that fails (SQLSTATE 42703 or 42804) naming the first column
// of `typed` the existing table lacks or has with another type.
[[nodiscard]] std::string postgres_check_columns_sql(const std::string& quoted_table, std::span<const TypedColumn> typed);
// The column list of a route's COPY: (_time, source, event_type, message, attributes) or the typed one.
[[nodiscard]] std::string postgres_copy_columns_sql(std::span<const TypedColumn> typed);
// "schema"."name" (or "name") for [SCHEMA.]NAME, already checked by the config.
[[nodiscard]] std::string postgres_quoted_table(const std::string& name);

class PostgresTransport final : public Transport {
public:
    PostgresTransport(Ring& ring, SlotListener& listener, PostgresTransportConfig config);
    ~PostgresTransport() override;

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
    enum class State : std::uint8_t { closed, connecting, setting_up, idle, busy, closing };
    static constexpr std::uint32_t no_slot = UINT32_MAX;
    static constexpr std::size_t in_bytes_max = 64 * 1024;

    // The facts of the answer to the query in flight.
    struct Answer {
        bool committed = false;   // CommandComplete came
        bool error = false;       // ErrorResponse came
        bool fatal = false;       // ... with severity FATAL or PANIC: the server closes
        char sqlstate[6] = {};
        std::uint32_t text_bytes = 0;
        char text[FailureFacts::detail_bytes_max] = {};  // "SQLSTATE: message"
    };
    struct Connection {
        std::uint32_t index = 0;
        State state = State::closed;
        pg_conn* pg = nullptr;
        int fd = -1;
        std::uint32_t generation = 0;
        std::uint32_t ops_outstanding = 0;
        bool recv_posted = false;
        std::unique_ptr<char[]> out;  // the query in flight, as sent
        std::size_t out_bytes = 0;
        std::size_t sent_bytes = 0;
        bool send_done = false;
        std::unique_ptr<char[]> in;   // answers not yet parsed
        std::size_t in_bytes = 0;
        std::uint32_t slot = no_slot;
        Answer answer;
        std::int64_t deadline_ns = 0;
        std::int64_t reconnect_at_ns = 0;
        std::uint32_t failures_in_row = 0;
    };

    void open(Connection& conn, std::int64_t now_ns);
    void post_poll(Connection& conn, bool for_write);
    void post_send(Connection& conn);
    void post_recv(Connection& conn);
    void advance_connect(Connection& conn, std::int64_t now_ns);
    void on_connected(Connection& conn, std::int64_t now_ns);
    void on_send(Connection& conn, int result, std::int64_t now_ns);
    void on_recv(Connection& conn, int result, std::int64_t now_ns);
    // Parses the complete messages in conn.in; false when the connection was failed.
    bool parse_answers(Connection& conn, std::int64_t now_ns);
    void on_error_response(Connection& conn, const char* body, std::size_t bytes);
    void on_ready_for_query(Connection& conn, std::int64_t now_ns);
    void settle(Connection& conn, Verdict verdict, FailReason reason, std::int64_t now_ns);
    void settle_from_answer(Connection& conn, std::int64_t now_ns);
    // The connection is gone (EOF, reset, timeout, a send error): decides its
    // batch, counts it, closes.
    void lose(Connection& conn, FailReason reason, int error_number, std::int64_t now_ns);
    void connect_failed(Connection& conn, FailReason reason, std::string_view why, std::int64_t now_ns);
    void begin_close(Connection& conn, bool polite);
    void finish_close_if_quiet(Connection& conn);
    void note_failure(FailReason reason, int error_number, std::string_view detail, std::int64_t now_ns);
    [[nodiscard]] std::size_t put_query(char* out, std::string_view sql) const;
    [[nodiscard]] CopyRows put_copy_data(std::string_view ndjson, std::size_t route, char* out, std::size_t room_bytes) const;
    [[nodiscard]] bool typed(std::size_t route) const {
        return route < config_.typed_columns.size() && !config_.typed_columns[route].empty();
    }

    Ring& ring_;
    SlotListener& listener_;
    PostgresTransportConfig config_;
    std::vector<std::string> copy_sql_;  // by route: COPY "t" (...) FROM STDIN
    std::string setup_sql_;              // CREATE TABLE IF NOT EXISTS ..., or ""
    std::size_t out_bytes_max_ = 0;
    std::vector<Connection> connections_;
    Backoff backoff_;
    bool shutting_down_ = false;
    bool work_waiting_ = false;
    std::string fatal_error_;
    TransportCounters counters_;
};

}  // namespace supervent::net
