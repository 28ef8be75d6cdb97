#pragma once
// Every static bound of supervent lives here, with the relations between them
// asserted. Buffer budgets elsewhere are computed from these, never guessed.
#include <cstddef>
#include <cstdint>

namespace supervent::bounds {

// Axiom accepts at most 10,000 events per ingest request.
inline constexpr std::uint32_t batch_events_max = 10'000;
inline constexpr std::uint32_t batch_events_default = 2'000;

inline constexpr std::uint32_t workers_max = 256;
// --shard I/N: parts of one run at most; part * workers + worker (the global
// shard index that seeds live streams) stays far inside 32 bits.
inline constexpr std::uint32_t shard_parts_max = 65'536;
static_assert(std::uint64_t{shard_parts_max} * workers_max <= UINT32_MAX);
inline constexpr std::uint32_t connections_per_shard_max = 64;
inline constexpr std::uint32_t connections_per_shard_default = 2;
// Batches a shard may have filled or in flight per connection: one on the
// wire, one being generated behind it.
inline constexpr std::uint32_t slots_per_connection = 2;
// HTTP/1.1 pipelining: requests in flight per connection. The transport
// starts at 2 and raises its depth toward network.pipeline_depth_max while
// the answers' latency says the sink is far (the bandwidth-delay product in
// requests exceeds what is in flight); each step past 2 costs one slot per
// connection, pinned when the pipeline first uses it (daemon/shard.cpp). The
// default max, 24, holds 2 workers x 2 connections x 24 x 2,000 events per
// 100 ms: 1.9 M events/s 100 ms away (Axiom from another continent), above
// what zstd makes on 2 cores (BENCHMARKS.md, far sinks). Only a far sink
// pays for the slots: ~80 MiB a worker with web_access's 1.6 MiB slots at
// 100 ms; a near one keeps ~4 a connection busy.
inline constexpr std::uint32_t http_pipeline_depth_limit = 32;
inline constexpr std::uint32_t http_pipeline_depth_max_default = 24;
// Slots an HTTP shard has per connection for a pipeline up to depth_max deep:
// the depth's worth in flight and one being generated behind them; the two of
// slots_per_connection for depths up to 2 (the historic layout).
[[nodiscard]] constexpr std::uint32_t http_slots_per_connection(std::uint32_t depth_max) {
    return depth_max <= slots_per_connection ? slots_per_connection : depth_max + 1;
}
// Send buffer memory an HTTP shard gives deeper pipelines: past this, a
// shard with large slots (big batches) keeps fewer slots, at least
// slots_per_connection per connection (the depth then stops where the slots do).
inline constexpr std::size_t http_pipeline_slot_bytes_budget = std::size_t{256} << 20;
inline constexpr std::uint32_t slots_per_shard_max = connections_per_shard_max * slots_per_connection;
inline constexpr std::uint32_t http_slots_per_shard_max =
    connections_per_shard_max * http_slots_per_connection(http_pipeline_depth_limit);
static_assert(http_slots_per_shard_max >= slots_per_shard_max);

// The HTTP request head is written right-aligned into this room in front of
// the body, so head and body form one contiguous registered buffer.
inline constexpr std::size_t http_head_room_bytes = 2048;
// Largest HTTP response (head + body) we accept from a sink.
inline constexpr std::size_t http_response_bytes_max = 64 * 1024;
// Largest single serialized event any source may declare.
inline constexpr std::size_t event_bytes_max = 64 * 1024;
// Largest send slot: a full batch of the largest events plus its head room.
inline constexpr std::size_t slot_bytes_max = std::size_t{1} << 30;

// Members of a field's entity pool (`pool = N`, core/schema.hpp): the pool's
// popularity is an alias table of 8 bytes a member, shared by all shards, so
// a million members is 8 MiB. Far more users than one generator's logs show.
inline constexpr std::uint64_t field_pool_members_max = 1'000'000;

inline constexpr std::size_t dataset_name_bytes_max = 128;
// Request paths (datasets) one HTTP transport holds: routes are append-only,
// so a batch queued or retried after a reload still finds its own, and each
// reload that names a new dataset adds one. 256 is far beyond any scenario.
inline constexpr std::uint32_t http_routes_max = 256;
// Sources of one scenario whose events the daemon counts one by one
// (status, `sources`); further sources still run, uncounted.
inline constexpr std::uint32_t scenario_sources_counted_max = 256;
// Local addresses (NICs) one shard's connections may be spread over (--bind).
inline constexpr std::uint32_t local_addresses_max = 16;
inline constexpr std::size_t url_bytes_max = 1024;
inline constexpr std::size_t token_bytes_max = 512;

// Control socket: one request is one JSON line.
inline constexpr std::size_t control_request_bytes_max = 64 * 1024;
inline constexpr std::uint32_t control_clients_max = 64;

static_assert(batch_events_default <= batch_events_max);
static_assert(connections_per_shard_default <= connections_per_shard_max);
static_assert(http_head_room_bytes >= url_bytes_max + dataset_name_bytes_max + token_bytes_max + 256,
              "the request head must fit its head room with the longest URL, dataset and token");
static_assert(std::size_t{batch_events_max} * event_bytes_max + http_head_room_bytes <= slot_bytes_max,
              "a full batch of the largest events must fit one slot");

// A checkpointed backfill's journal (daemon/checkpoint_share.hpp): a shard
// records a change when the batch size it asks for changes (a rate change;
// the last batch of an event budget) and when a source is turned on or off
// (a `sources` command): at most one size a batch, in practice none to a few
// changes per checkpoint interval (1 s), which is how often the control
// thread drains them. The ring holds 256 (6 KiB a shard), a flood of control
// commands' worth; what does not fit waits on the shard, holding the settled
// prefix back, in a backlog as large. Only beyond both is a change dropped
// (and the checkpoint stops advancing for that shard).
inline constexpr std::uint32_t checkpoint_journal_ring_entries = 256;
inline constexpr std::uint32_t checkpoint_journal_backlog_entries = 256;
static_assert((checkpoint_journal_ring_entries & (checkpoint_journal_ring_entries - 1)) == 0,
              "the journal ring's indices wrap by a mask");
// Failed batches a checkpoint records per shard, as ranges of consecutive
// batches (an outage that outlasts retry_for fails a run of them: one range).
// 1024 ranges are about 40 KiB of checkpoint a shard; beyond them the
// watermark stops at the first range that does not fit, and a resume sends
// everything from there again (daemon/checkpoint.hpp).
inline constexpr std::uint32_t checkpoint_failed_ranges_max = 1024;

// Config files (TOML, the original tool's YAML), checked by
// config/input_bounds.cpp before toml++ or yaml-cpp sees the text: toml++
// recurses once per part of a dotted key (a 30,800-part table header
// overflowed its stack) and yaml-cpp shares an anchored node among its
// aliases, so the loader's walk of a 1 KB "billion laughs" expanded it to
// gigabytes. The largest real scenario (test/data/original-configs/sofi.yaml)
// has ~1,100 nodes, nesting 6 deep and keys of 4 parts; these leave room for
// a hundred times that and still load in well under a second.
inline constexpr std::size_t config_file_bytes_max = 4 * 1024 * 1024;
// Nested tables, arrays, mappings and sequences, a dotted key's parts counted as tables.
inline constexpr std::uint32_t config_depth_max = 32;
inline constexpr std::uint32_t config_key_parts_max = 16;  // a.b.c… in one key or table header
inline constexpr std::size_t config_key_bytes_max = 1024;  // one key or header, dots and quotes included
// Every value, table, array (TOML) or node (YAML, each alias counted as the
// whole node it repeats).
inline constexpr std::uint32_t config_nodes_max = 100'000;
static_assert(config_key_parts_max <= config_depth_max, "a key's parts are part of its depth");

// Events per second a rate may ask for (--rate, generation.rate, `supervent-ctl
// rate`): below one event in 100 s a run looks stopped (1e-300 was accepted and
// silently stopped generating); above 1e12 is unlimited in practice, and the
// scheduler turns any rate between them into whole nanosecond intervals safely.
inline constexpr double rate_eps_min = 0.01;
inline constexpr double rate_eps_max = 1e12;
static_assert(rate_eps_min > 0 && rate_eps_min < rate_eps_max);

// A checkpoint file read back: a few lines a shard, a line per change of
// batch size or source toggle settled so far and one per failed range. Reading stops here, so a
// device or a stray huge file named as the checkpoint cannot exhaust memory.
inline constexpr std::size_t checkpoint_bytes_max = 64 * 1024 * 1024;

}  // namespace supervent::bounds
