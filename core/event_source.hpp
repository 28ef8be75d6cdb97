#pragma once
// The one interface between a shard and the event engine.
//
// A shard asks its source for a batch: "write `count` events whose times lie
// in [begin, end) into this buffer". The source generates the batch column by
// column and serializes it straight into the caller's (registered) buffer.
// One virtual call per batch, never per event or field.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace supervent::core {

// Event times of one batch, in nanoseconds since the Unix epoch (UTC).
// Events get non-decreasing times in [begin_ns, end_ns); begin_ns == end_ns
// gives every event the same time.
struct TimeRange {
    std::int64_t begin_ns = 0;
    std::int64_t end_ns = 0;
};

// What makes a source's stream unique and reproducible: the run's seed and
// the shard's place among its peers. The same identity gives the same events.
struct SourceIdentity {
    std::uint64_t seed = 1;
    std::uint32_t shard_index = 0;
    std::uint32_t shard_count = 1;
};

class EventSource {
public:
    virtual ~EventSource() = default;

    // Stable name, e.g. "web_access".
    [[nodiscard]] virtual std::string_view name() const = 0;
    // Upper bound, in bytes, of one serialized event including its '\n'
    // (and of any per-batch header, spread over the batch's first event).
    [[nodiscard]] virtual std::size_t event_bytes_max() const = 0;
    // The media type of what write_ndjson writes: application/x-ndjson by
    // default; text/csv or text/plain for sources compiled to those formats.
    [[nodiscard]] virtual std::string_view content_type() const { return "application/x-ndjson"; }
    // Serializes `count` events as NDJSON (one JSON object per line, each
    // ending in '\n'; or, for a source compiled to CSV or text lines, in that
    // format, see content_type()) into `out`, which holds at least
    // count * event_bytes_max() bytes. Returns the bytes written.
    // Never allocates; count <= the batch_events_max given at construction.
    [[nodiscard]] virtual std::size_t write_ndjson(std::uint32_t count, TimeRange times,
                                                   std::span<char> out) = 0;
};

// Names of the scenarios built into the binary; the first is the default.
[[nodiscard]] std::span<const std::string_view> builtin_scenario_names();

struct Program;
// A built-in scenario's compiled program (shared, immutable); null for an unknown name.
[[nodiscard]] std::shared_ptr<const Program> builtin_program(std::string_view scenario_name);

// Builds a built-in scenario's source. Allocates everything it will ever need
// for batches of up to batch_events_max events. Throws std::invalid_argument
// for an unknown name.
[[nodiscard]] std::unique_ptr<EventSource> make_builtin_source(std::string_view scenario_name,
                                                               const SourceIdentity& identity,
                                                               std::uint32_t batch_events_max);

}  // namespace supervent::core
