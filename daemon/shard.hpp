#pragma once
// One shard: a thread pinned to a core that owns its io_uring ring, its
// registered send slots, its event source and its connections to the sink.
// It generates batches when its token bucket allows and a slot is free,
// hands them to its transport, and accounts for every event.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "core/event_source.hpp"
#include "core/scenario_engine.hpp"
#include "daemon/checkpoint_share.hpp"
#include "daemon/shard_state.hpp"
#include "net/api_bodies.hpp"
#include "net/backoff.hpp"
#include "net/body_format.hpp"
#include "net/buffer_arena.hpp"
#include "net/file_transport.hpp"
#include "net/http_transport.hpp"
#include "net/postgres_transport.hpp"
#include "net/ring.hpp"
#include "net/syslog_transport.hpp"
#include "net/transport.hpp"
#include "net/gzip_compressor.hpp"
#include "net/zstd_compressor.hpp"

namespace supervent::daemon {

struct SinkPlan {
    config::SinkUrl::Kind kind = config::SinkUrl::Kind::discard;
    net::HttpTransportConfig http;  // kind == http
    net::SyslogTransportConfig syslog;  // kind == syslog_tcp / syslog_tls / syslog_udp
    int file_fd = -1;               // kind == file / stdout_stream: this shard's descriptor
    net::FileRotation rotation;     // kind == file: pass to FileTransport (rotate_bytes 0 = never)
    net::PostgresTransportConfig postgres;  // kind == postgresql
    // ndjson/csv/text: send what the engine renders; json_array: turn each
    // rendered NDJSON batch into an array first (net::ndjson_to_json_array).
    net::BodyFormat body_format = net::BodyFormat::ndjson;
    // An HTTP log API preset (api != axiom): each rendered NDJSON batch is
    // written into the API's body (net::ApiBodyWriter) before compression.
    net::ApiOptions api;
    std::string description;        // for messages
};

struct ShardPlan {
    std::uint32_t index = 0;
    std::uint32_t count = 1;
    int cpu = -1;                       // pin to this CPU; -1 = do not pin
    std::uint32_t batch_events = 2000;
    double rate_eps = 0;                // this shard's share; 0 = unlimited
    std::uint64_t events_budget = 0;    // this shard's share; 0 = unlimited
    std::int64_t duration_ns = 0;       // 0 = unlimited
    std::size_t batch_bytes_max = 0;    // raw (uncompressed) body bytes per request; 0 = no limit
    // What to generate: the sources, their volumes or rates, their
    // dependencies; compiled once and shared read-only by every shard.
    std::shared_ptr<const core::CompiledScenario> scenario;
    core::SourceIdentity identity;
    SinkPlan sink;
    std::uint32_t slots = 4;
    config::ZeroCopyMode zero_copy = config::ZeroCopyMode::automatic;
    config::Compression compression;
    // A batch is retried until this long after its first failed attempt
    // (0 = for ever); only a permanent answer (400, 413, 401, 403, 404, 430,
    // a certificate) fails it sooner. Rides out deploys and failovers.
    std::int64_t retry_for_ns = 600'000'000'000;
    std::int64_t drain_timeout_ns = 30'000'000'000;  // after a stop request
    // Between attempts of a batch: doubling from min, with jitter, capped at
    // max so that a sink back from an outage is tried again within seconds.
    std::int64_t retry_backoff_min_ns = 100'000'000;
    std::int64_t retry_backoff_max_ns = 10'000'000'000;
    // A checkpointed backfill (nullptr = none): the run's checkpoint, whose
    // journal for this shard, when resuming, is replayed before anything is
    // sent; and where the shard keeps its own journal for the control thread.
    std::shared_ptr<const CheckpointStart> checkpoint;
    ShardCheckpointShare* checkpoint_share = nullptr;
};

class Shard final : private net::SlotListener {
public:
    Shard(ShardPlan plan, ShardStats& stats, ShardControl& control, ShardError& error);
    ~Shard() override;

    // The thread body. Never throws: failures end in phase=failed with the
    // reason in ShardError.
    void run() noexcept;

private:
    void start();
    void loop();
    void apply_control(std::int64_t now_ns);
    void apply_change();
    void swap_scenario(const ScenarioChange& change);
    void refill_tokens(std::int64_t now_ns);
    void fill(std::int64_t now_ns);
    [[nodiscard]] std::uint32_t generate_into(net::Slot& slot, std::uint32_t event_count);
    [[nodiscard]] std::size_t plan_api_buffers(std::size_t rendered_bytes_max);
    // Plain HTTP: fewer slots (and a shallower pipeline) when the planned ones
    // of slot_bytes each would pass bounds::http_pipeline_slot_bytes_budget.
    void fit_pipeline_to_budget(std::size_t slot_bytes);
    // zstd or gzip, whichever --compression chose: made here, bound, compress.
    [[nodiscard]] std::size_t make_compressor(std::size_t input_bytes_max);
    [[nodiscard]] std::size_t compress(std::span<const char> payload, std::span<char> body);
    [[nodiscard]] std::span<const char> write_api_body(std::span<const char> rendered, std::uint32_t events,
                                                       std::span<char> body);
    [[nodiscard]] double live_rate_factor() const;
    void dispatch(std::int64_t now_ns);
    void finish_generation();
    void stop_generation();
    void on_fatal_error();
    void enforce_drain_deadline(std::int64_t now_ns);
    void fail_queued(net::FailReason reason);
    [[nodiscard]] std::int64_t wait_ns(std::int64_t now_ns) const;
    [[nodiscard]] bool can_fill_now() const;
    [[nodiscard]] net::Slot* free_slot();
    // Registers slots [slots_registered_, last] with the ring (pins them);
    // false, with slot_pin_error_ saying why, when the kernel refuses one.
    [[nodiscard]] bool register_slots_through(std::uint32_t last);
    [[nodiscard]] std::size_t ready_ahead_max() const;
    void release(net::Slot& slot);
    void publish_transport_counters(std::int64_t now_ns);
    void publish_cpu_time(std::int64_t now_ns);
    void fail_slot(net::Slot& slot, net::FailReason reason);
    [[nodiscard]] std::int64_t retry_backoff_ns(std::uint32_t attempts);
    // Retry by time (ShardPlan::retry_for_ns) and the sink's health as seen here.
    void start_retry_clock(const net::Slot& slot, std::int64_t now_ns);
    [[nodiscard]] bool retry_time_spent(const net::Slot& slot, std::int64_t now_ns) const;
    void fail_spent_queued(std::int64_t now_ns);
    void sink_unavailable(std::int64_t now_ns);
    void sink_available();
    void count_rejection(const net::Slot& slot);
    void publish_sink_health(const net::TransportCounters& counters, std::int64_t now_ns);
    // Checkpoint journal (only with plan_.checkpoint_share).
    void replay(const ShardJournal& journal);
    [[nodiscard]] std::uint32_t replay_next_size();
    [[nodiscard]] std::span<char> replay_scratch(net::Slot& free_slot) const;
    void replay_skip(std::span<char> scratch);
    void replay_apply_journal();
    [[nodiscard]] bool replay_sends(std::uint64_t batch);
    void journal_size(std::uint32_t event_count);
    void journal_toggle(std::uint16_t source, bool enabled);
    void publish_settled();

    // net::SlotListener
    void on_slot_settled(net::Slot& slot, std::int64_t now_ns) override;
    std::int64_t on_sink_unreachable(net::FailReason reason, std::int64_t now_ns) override;
    net::Slot& slot_at(std::uint32_t slot_index) override { return slots_.at(slot_index); }

    ShardPlan plan_;
    ShardStats& stats_;
    ShardControl& control_;
    ShardError& error_;

    std::unique_ptr<net::Ring> ring_;
    std::unique_ptr<net::BufferArena> arena_;
    std::unique_ptr<core::ScenarioEngine> engine_;
    std::unique_ptr<net::Transport> transport_;
    net::HttpTransport* http_ = nullptr;      // transport_, when it is HTTP: routes are added to it
    const net::TlsCounters no_tls_{};         // what a transport without TLS publishes
    std::size_t engine_bytes_max_ = 0;        // the engine's batch byte limit
    std::size_t batch_room_bytes_ = 0;        // a rendered batch's room: batch_events x the start-up largest event
    std::uint32_t batch_events_cap_ = 0;      // events per batch the room holds for the running scenario
    std::vector<std::uint16_t> routes_;       // engine source -> transport route
    std::uint64_t change_version_ = 0;        // of ShardControl::change, last applied
    std::uint64_t scenario_generation_ = 0;   // of the scenario engine_ runs
    bool engine_blocked_ = false;             // only disabled sources have work: wait for a change
    // With compression: batches are serialized here, then compressed into the slot.
    std::unique_ptr<net::ZstdCompressor> compressor_;
    std::unique_ptr<net::GzipCompressor> gzip_;  // --compression gzip: instead of compressor_
    std::unique_ptr<char[]> raw_batch_;
    std::size_t raw_batch_bytes_ = 0;
    // An HTTP log API preset: batches are rendered into raw_batch_, then
    // written as the API's body into the slot (or into api_batch_, to be compressed).
    std::unique_ptr<net::ApiBodyWriter> api_writer_;
    std::unique_ptr<char[]> api_batch_;
    std::size_t api_batch_bytes_ = 0;
    std::vector<net::Slot> slots_;
    std::vector<std::uint32_t> free_slots_;   // stack of slot indices
    std::uint32_t slots_registered_ = 0;     // [0, this) are registered with the ring
    std::size_t slots_usable_ = 0;           // all, or those pinned when the memlock limit refused more
    std::string slot_pin_error_;             // why the last registration failed
    std::vector<std::uint32_t> queue_;        // queued slot indices, oldest first

    // Generation state.
    bool generation_done_ = false;
    bool shutdown_begun_ = false;
    bool paused_ = false;
    bool fatal_seen_ = false;
    std::int64_t drain_deadline_ns_ = 0;      // set by a stop request; 0 = none
    bool drain_expired_ = false;
    net::FailReason last_failure_reason_ = net::FailReason::rejected;
    std::uint64_t events_generated_ = 0;
    std::int64_t started_ns_ = 0;
    static constexpr std::int64_t cpu_sample_period_ns = 100'000'000;
    std::int64_t next_cpu_sample_ns_ = 0;     // when publish_cpu_time next reads the thread's clock
    std::int64_t started_realtime_ns_ = 0;    // for live rate shapes
    double rate_eps_ = 0;                     // the target; the token bucket runs at rate_eps_ * live_rate_factor()
    double tokens_ = 0;
    double batch_target_ = 1;                 // events per batch when rate limited
    std::int64_t tokens_at_ns_ = 0;
    net::Backoff retry_backoff_;  // delays between attempts of a batch

    // Checkpoint journal: batches are numbered from the start of the
    // backfill (a resumed run goes on from the checkpoint's prefix). By slot:
    // the batch it holds (UINT64_MAX = none) and the events made before it.
    std::uint64_t next_batch_ = 0;
    std::uint64_t stream_events_ = 0;         // events made since the start of the backfill, resumed ones too
    std::uint32_t journaled_size_ = 0;        // the batch size last journaled
    std::vector<std::uint64_t> slot_batch_;
    std::vector<std::uint64_t> slot_events_before_;
    // A resumed backfill below its checkpoint's watermark (nullptr = past
    // it): the journal replayed (plan_.checkpoint's), and where in it.
    const ShardJournal* replay_ = nullptr;
    std::size_t replay_size_next_ = 0;
    std::size_t replay_toggle_next_ = 0;
    std::size_t replay_failed_next_ = 0;
    std::uint32_t replay_batch_size_ = 0;     // of batch next_batch_

    // Retry by time. By slot: when its batch first failed (0 = it has not).
    std::vector<std::int64_t> slot_retry_since_ns_;
    std::uint32_t batches_retrying_ = 0;      // slots whose retry clock runs
    std::int64_t unavailable_since_ns_ = 0;   // the sink has failed attempts since then; 0 = it answers
    std::uint32_t rejected_in_row_ = 0;       // batches refused for good with no ack between
    std::uint64_t failures_published_ = 0;    // transport failures already copied to stats_
};

}  // namespace supervent::daemon
