#pragma once
// The EventSource that runs a compiled Program for one shard.
#include <cstdint>
#include <memory>
#include <vector>

#include "core/event_source.hpp"
#include "core/kernels.hpp"
#include "core/program.hpp"
#include "core/rng.hpp"
#include "core/serialize.hpp"
#include "core/event_key.hpp"

namespace supervent::core {

// Events are generated and serialized in blocks of at most this many, so a
// block's columns and random words stay in L1/L2 whatever the batch size.
inline constexpr std::uint32_t block_events_max = 256;
static_assert(block_events_max % rng_lanes == 0);

// Spreads a batch's `count` event times over [begin, end): event i gets a
// uniform time in its own stratum [begin + i*span/count, begin + (i+1)*span/count),
// so times are non-decreasing, random, and never leave the window.
class EventClock {
public:
    EventClock(TimeRange times, std::uint32_t count);
    // Fills the next `count` times from one random word each.
    void fill(const std::uint64_t* raw, std::uint32_t count, std::uint64_t* out);

private:
    std::uint64_t begin_ = 0;
    std::uint64_t step_ = 0;       // span / count
    std::uint64_t remainder_ = 0;  // span % count
    std::uint64_t count_ = 1;
    std::uint64_t base_ = 0;       // offset of the next event's stratum
    std::uint64_t carry_ = 0;      // (index * remainder) % count
};

// What a scenario engine decides about each event of a batch instead of the
// program drawing it: its key (core/event_key.hpp: every word the program
// draws for the event comes from it), its time, its request id (a dependent
// event inherits its parent's) and its event type (shape). Arrays of the
// batch's length.
struct EventInputs {
    const std::int64_t* times = nullptr;        // required, non-decreasing
    const std::uint64_t* keys = nullptr;        // required
    const std::uint64_t* request_hi = nullptr;  // UUID halves; null = drawn
    const std::uint64_t* request_lo = nullptr;
    const std::uint16_t* shapes = nullptr;      // null = drawn by the types' weights
    // Trace context (core/trace_context.hpp): slot s of event i at
    // trace[s * trace_stride + i], for a program with input columns; null = zeros.
    const std::uint64_t* trace = nullptr;
    std::size_t trace_stride = 0;
    // The keys inherited (entity) fields are drawn from; null = the events' own keys.
    const std::uint64_t* entity_keys = nullptr;
};

class ProgramSource final : public EventSource {
public:
    ProgramSource(std::shared_ptr<const Program> program, const SourceIdentity& identity,
                  std::uint32_t batch_events_max, const Kernels& kernels);

    [[nodiscard]] std::string_view name() const override { return program_->name; }
    [[nodiscard]] std::size_t event_bytes_max() const override { return program_->event_bytes_max; }
    [[nodiscard]] std::string_view content_type() const override { return program_->content_type; }
    [[nodiscard]] std::size_t write_ndjson(std::uint32_t count, TimeRange times, std::span<char> out) override;
    // Serializes `count` events described by `inputs` (see write_ndjson for
    // `out`). When event_ends is given, event_ends[i] is the offset in `out`
    // just past event i (so a scenario can look inside a rendered message).
    [[nodiscard]] std::size_t write_events(std::uint32_t count, const EventInputs& inputs, std::span<char> out,
                                           std::uint32_t* event_ends = nullptr);
    [[nodiscard]] const Program& program() const { return *program_; }
    // The plan points into this object's columns and caches.
    ProgramSource(const ProgramSource&) = delete;
    ProgramSource& operator=(const ProgramSource&) = delete;

private:
    [[nodiscard]] std::size_t write_batch(std::uint32_t count, EventClock& clock, const EventInputs* inputs,
                                          std::span<char> out, std::uint32_t* event_ends);
    // `inputs`, when given, points at this block's first event.
    void generate_block(std::uint32_t count, EventClock& clock, const EventInputs* inputs);
    void generate_column(const GenOp& op, std::uint32_t count, EventClock& clock, const EventInputs* inputs);
    void plan_puts();
    void fill_sequence(const GenOp& op, std::uint32_t count, std::uint64_t* out);
    void fill_keyed_words(const EventInputs* inputs);
    void fill_pooled_words();
    void fill_combine(const CombineSpec& spec, std::uint64_t* out);
    [[nodiscard]] std::uint64_t* column(std::uint32_t index) { return columns_.data() + std::size_t{index} * block_stride_; }

    std::shared_ptr<const Program> program_;
    const Kernels& kernels_;
    // write_ndjson's events are events 0, 1, 2, ... of this stream (a
    // function of the seed and shard index).
    std::uint64_t stream_ = 0;
    std::uint64_t next_event_ = 0;
    std::uint32_t batch_events_max_;
    std::uint32_t block_stride_;  // events per block, rounded up to rng_lanes
    std::uint32_t block_padded_ = 0;  // the current block's count, rounded up
    std::vector<std::uint64_t> keys_;     // the current block's event keys, padded
    std::vector<Program::EntityDraw> entity_draws_;  // Program::entity_draws, pooled fields' moved to their member pick
    std::vector<std::uint64_t> entity_keys_;  // the current block's entity keys, padded (entity draws only)
    // Draws a scenario's inputs replace (never made then): the event time's,
    // the request id's two, the event type's. -1: none.
    std::int32_t time_draw_ = -1;
    std::int32_t request_draw_ = -1;
    std::int32_t shape_draw_ = -1;
    std::vector<std::uint64_t> raw_;      // draws_per_event columns of random words
    std::vector<std::uint64_t> columns_;  // column_count columns of values
    std::vector<TimeFormatCache> time_caches_;  // one per time format
    std::vector<std::uint64_t> sequence_counts_;  // events so far, one per sequence
    std::vector<std::uint8_t> pooled_draw_;       // per draw: 1 = drawn from a pool member's key
    std::vector<std::uint64_t> members_;          // per pool select: the block's member indices
    std::vector<std::uint64_t> member_keys_;      // one pooled op's member keys, reused
    std::uint32_t shard_index_;
    std::uint32_t shard_count_;
    // Program::puts resolved against this source's columns and caches (core/serialize.hpp).
    std::vector<PlannedPut> planned_puts_;
    std::vector<PlannedShape> planned_shapes_;
    SerializePlan plan_;
};

}  // namespace supervent::core
