#include "core/program_source.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "core/digits.hpp"
#include "core/trace_context.hpp"

namespace supervent::core {
namespace {

__extension__ using uint128 = unsigned __int128;

std::uint64_t mul_high(std::uint64_t a, std::uint64_t b) {
    return static_cast<std::uint64_t>((static_cast<uint128>(a) * b) >> 64);
}

std::uint32_t round_up_lanes(std::uint32_t n) {
    return (n + rng_lanes - 1) / rng_lanes * rng_lanes;
}

}  // namespace

EventClock::EventClock(TimeRange times, std::uint32_t count) {
    // Ranges come from the engine (or a test), never from a user: a start
    // after its end is refused when the settings are loaded.
    assert(times.end_ns >= times.begin_ns);
    begin_ = static_cast<std::uint64_t>(times.begin_ns);
    const std::uint64_t span = static_cast<std::uint64_t>(times.end_ns) - begin_;
    count_ = std::max<std::uint64_t>(count, 1);
    step_ = span / count_;
    remainder_ = span % count_;
}

void EventClock::fill(const std::uint64_t* raw, std::uint32_t count, std::uint64_t* out) {
    for (std::uint32_t i = 0; i < count; ++i) {
        carry_ += remainder_;
        const bool wrap = carry_ >= count_;
        carry_ -= wrap ? count_ : 0;
        const std::uint64_t width = step_ + (wrap ? 1 : 0);
        out[i] = begin_ + base_ + mul_high(raw[i], width);
        base_ += width;
    }
}

namespace {

// The draws an inherited field takes from the entity key. A pooled field's
// own words come from its pool member, so what it inherits is the member
// pick: its entity draws move to the pool's select draw (once per pool).
std::vector<Program::EntityDraw> entity_draws_of(const Program& p) {
    std::vector<Program::EntityDraw> out;
    for (const Program::EntityDraw& e : p.entity_draws) {
        Program::EntityDraw moved = e;
        for (const PooledDraws& d : p.pooled_draws) {
            if (e.draw >= d.first_draw && e.draw < d.first_draw + d.draws) moved.draw = p.pool_selects[d.select].draw;
        }
        const bool known = std::any_of(out.begin(), out.end(), [&](const Program::EntityDraw& o) { return o.draw == moved.draw; });
        if (!known) out.push_back(moved);
    }
    return out;
}

}  // namespace

ProgramSource::ProgramSource(std::shared_ptr<const Program> program, const SourceIdentity& identity,
                             std::uint32_t batch_events_max, const Kernels& kernels)
    : program_(std::move(program)),
      kernels_(kernels),
      stream_(combine64(identity.seed, 0x5EED'0000'0000'0000ull + identity.shard_index)),
      batch_events_max_(batch_events_max),
      block_stride_(round_up_lanes(std::min(batch_events_max, block_events_max))),
      shard_index_(identity.shard_index),
      shard_count_(std::max<std::uint32_t>(identity.shard_count, 1)) {
    assert(batch_events_max >= 1);  // runtime.batch_events is checked to be 1.. at load
    keys_.resize(block_stride_);
    if (!program_->entity_draws.empty()) entity_keys_.resize(block_stride_);
    for (const GenOp& op : program_->gens) {
        if (op.kind == GenKind::event_time) time_draw_ = op.first_draw;
        if (op.kind == GenKind::uuid4 && op.column == program_->request_id_column) request_draw_ = op.first_draw;
        if (op.kind == GenKind::choice && op.column == program_->shape_column) shape_draw_ = op.first_draw;
    }
    raw_.resize(std::size_t{program_->draws_per_event} * block_stride_);
    columns_.resize(std::size_t{program_->column_count} * block_stride_);
    time_caches_.resize(program_->time_formats.size());
    sequence_counts_.resize(program_->sequences.size());
    pooled_draw_.assign(program_->draws_per_event, 0);
    for (const PooledDraws& d : program_->pooled_draws) {
        for (std::uint32_t j = 0; j < d.draws; ++j) pooled_draw_[d.first_draw + j] = 1;
    }
    members_.resize(std::size_t{program_->pool_selects.size()} * block_stride_);
    member_keys_.resize(program_->pooled_draws.empty() ? 0 : block_stride_);
    entity_draws_ = entity_draws_of(*program_);
    assert(!program_->shapes.empty());
    plan_puts();
}

std::size_t ProgramSource::write_ndjson(std::uint32_t count, TimeRange times, std::span<char> out) {
    EventClock clock(times, count);
    return write_batch(count, clock, nullptr, out, nullptr);
}

std::size_t ProgramSource::write_events(std::uint32_t count, const EventInputs& inputs, std::span<char> out,
                                        std::uint32_t* event_ends) {
    assert(inputs.times != nullptr && inputs.keys != nullptr);
    EventClock unused_clock(TimeRange{}, 1);
    return write_batch(count, unused_clock, &inputs, out, event_ends);
}

// Block by block: generate the columns (times, ids and types from `inputs`
// when given), then serialize each event.
std::size_t ProgramSource::write_batch(std::uint32_t count, EventClock& clock, const EventInputs* inputs,
                                       std::span<char> out, std::uint32_t* event_ends) {
    assert(count <= batch_events_max_);  // the engine caps every batch at what it was built for
    assert(out.size() >= std::size_t{count} * program_->event_bytes_max);
    char* p = out.data();
    if (count > 0) {
        std::memcpy(p, program_->batch_header.data(), program_->batch_header.size());
        p += program_->batch_header.size();
    }
    for (std::uint32_t done = 0; done < count;) {
        const std::uint32_t n = std::min(count - done, block_stride_);
        if (inputs) {
            const EventInputs block{inputs->times + done,
                                    inputs->keys + done,
                                    inputs->request_hi ? inputs->request_hi + done : nullptr,
                                    inputs->request_lo ? inputs->request_lo + done : nullptr,
                                    inputs->shapes ? inputs->shapes + done : nullptr,
                                    inputs->trace ? inputs->trace + done : nullptr,
                                    inputs->trace_stride,
                                    inputs->entity_keys ? inputs->entity_keys + done : nullptr};
            generate_block(n, clock, &block);
        } else {
            generate_block(n, clock, nullptr);
        }
        p = kernels_.serialize(plan_, n, p, event_ends ? event_ends + done : nullptr, out.data());
        done += n;
    }
    return static_cast<std::size_t>(p - out.data());
}

void ProgramSource::generate_block(std::uint32_t count, EventClock& clock, const EventInputs* inputs) {
    block_padded_ = round_up_lanes(count);
    if (inputs) {
        std::copy(inputs->keys, inputs->keys + count, keys_.data());
    } else {
        for (std::uint32_t i = 0; i < count; ++i) keys_[i] = event_key(stream_, next_event_++);
    }
    std::fill(keys_.data() + count, keys_.data() + block_padded_, 0);  // padding lanes: drawn, never shown
    if (!entity_keys_.empty()) {
        const std::uint64_t* entity = inputs && inputs->entity_keys ? inputs->entity_keys : keys_.data();
        std::copy(entity, entity + count, entity_keys_.data());
        std::fill(entity_keys_.data() + count, entity_keys_.data() + block_padded_, 0);
    }
    fill_keyed_words(inputs);
    for (const GenOp& op : program_->gens) generate_column(op, count, clock, inputs);
}

void ProgramSource::generate_column(const GenOp& op, std::uint32_t count, EventClock& clock,
                                    const EventInputs* inputs) {
    const std::uint64_t* r = raw_.data() + std::size_t{op.first_draw} * block_padded_;
    std::uint64_t* col = column(op.column);
    switch (op.kind) {
        case GenKind::choice:
            if (inputs && inputs->shapes && op.column == program_->shape_column) {
                std::copy(inputs->shapes, inputs->shapes + count, col);
                std::fill(col + count, col + block_padded_, 0);
                break;
            }
            kernels_.sample_alias(r, block_padded_, program_->aliases[program_->choices[op.table].alias].view(), col);
            break;
        case GenKind::buckets:
            kernels_.sample_buckets(r, r + block_padded_, block_padded_, program_->buckets[op.table].view(), col);
            break;
        case GenKind::uuid4: {
            // Version 4 in bits 12..15 of the high half, variant 10 on top of the low half.
            std::uint64_t* lo = column(op.column + 1u);
            if (inputs && inputs->request_hi && op.column == program_->request_id_column) {
                std::copy(inputs->request_hi, inputs->request_hi + count, col);
                std::copy(inputs->request_lo, inputs->request_lo + count, lo);
                break;
            }
            for (std::uint32_t i = 0; i < block_padded_; ++i) {
                col[i] = (r[i] & ~0xF000ull) | 0x4000ull;
                lo[i] = (r[block_padded_ + i] & 0x3FFF'FFFF'FFFF'FFFFull) | 0x8000'0000'0000'0000ull;
            }
            break;
        }
        case GenKind::event_time:
            if (inputs) {
                for (std::uint32_t i = 0; i < count; ++i) col[i] = static_cast<std::uint64_t>(inputs->times[i]);
                break;
            }
            clock.fill(r, count, col);
            break;
        case GenKind::sequence:
            fill_sequence(op, count, col);
            break;
        case GenKind::random_words:
            // Two columns, block_stride_ apart: a block shorter than the stride
            // must not spill its second half into the first column's tail.
            std::copy(r, r + block_padded_, col);
            std::copy(r + block_padded_, r + 2 * std::size_t{block_padded_}, column(op.column + 1u));
            break;
        case GenKind::combine:
            fill_combine(program_->combines[op.table], col);
            break;
        case GenKind::zero_when: {
            const ZeroWhenSpec& spec = program_->zero_whens[op.table];
            const std::uint64_t* row = column(spec.row_column);
            if (spec.scale.empty()) {
                for (std::uint32_t i = 0; i < block_padded_; ++i) col[i] &= spec.keep[row[i]];
                break;
            }
            for (std::uint32_t i = 0; i < block_padded_; ++i) col[i] = ((col[i] * spec.scale[row[i]]) >> 16) + spec.add[row[i]];
            break;
        }
        case GenKind::choice_given: {
            const GivenChoiceSpec& spec = program_->given_choices[op.table];
            const std::uint64_t* given = column(spec.given_column);
            for (std::uint32_t i = 0; i < block_padded_; ++i) col[i] = alias_sample_one(r[i], spec.tables[given[i]].view());
            break;
        }
        case GenKind::input:
            // Trace context from the engine (slot op.table on): zeros without it.
            for (std::uint32_t c = 0; c < (op.table == trace_slot::trace_hi ? 2u : 1u); ++c) {
                std::uint64_t* out = column(op.column + c);
                if (inputs && inputs->trace) {
                    const std::uint64_t* in = inputs->trace + std::size_t{op.table + c} * inputs->trace_stride;
                    std::copy(in, in + count, out);
                    std::fill(out + count, out + block_padded_, 0);
                } else {
                    std::fill(out, out + block_padded_, 0);
                }
            }
            break;
        case GenKind::ipv6: {
            const Ipv6Table& t = program_->ipv6_tables[op.table];
            const AliasView pick = t.pick.view();
            std::uint64_t* lo = column(op.column + 1u);
            for (std::uint32_t i = 0; i < block_padded_; ++i) {
                const std::uint64_t prefix = alias_sample_one(r[i], pick);
                col[i] = t.base_hi[prefix] | (r[block_padded_ + i] & t.host_mask_hi[prefix]);
                lo[i] = r[2 * std::size_t{block_padded_} + i];
            }
            break;
        }
    }
}

// Counter-based: draw d of event i depends on the event's key alone, so an
// event's content is the same whichever batch, block or worker makes it.
void ProgramSource::fill_keyed_words(const EventInputs* inputs) {
    const std::uint32_t padded = block_padded_;
    const std::uint64_t* keys = keys_.data();
    const std::int32_t time_skip = inputs ? time_draw_ : -1;
    const std::int32_t request_skip = inputs && inputs->request_hi ? request_draw_ : -1;
    const std::int32_t shape_skip = inputs && inputs->shapes ? shape_draw_ : -1;
    for (std::uint32_t d = 0; d < program_->draws_per_event; ++d) {
        const auto draw = static_cast<std::int32_t>(d);
        if (draw == time_skip || draw == shape_skip || (request_skip >= 0 && (draw == request_skip || draw == request_skip + 1))) {
            continue;  // replaced by the inputs: not drawn, so not paid for
        }
        if (pooled_draw_[d] != 0) continue;  // fill_pooled_words makes it
        kernels_.fill_keyed(keys, padded, d, raw_.data() + std::size_t{d} * padded);
    }
    // Inherited fields: drawn from the entity's key (a dependent's parent's
    // entity), salted by the field, so parent and child draw the same words.
    // A pooled field inherits its member pick (see entity_draws_), so this
    // runs before the pooled words are made from the members.
    for (const Program::EntityDraw& e : entity_draws_) {
        kernels_.fill_keyed(entity_keys_.data(), padded, e.salt, raw_.data() + std::size_t{e.draw} * padded);
    }
    if (!program_->pooled_draws.empty()) fill_pooled_words();
}

// Entity pools: each event's member k comes from its own keyed word (so the
// choice of member is as deterministic as any draw), and a pooled op's words
// are the member's: keyed_word(event_key(salt, k), j) for its j-th draw
// (member k is event k of the field's own stream), the same for every event
// that picks k, whichever event, block or shard it is.
void ProgramSource::fill_pooled_words() {
    const std::uint32_t padded = block_padded_;
    const Program& p = *program_;
    for (std::size_t s = 0; s < p.pool_selects.size(); ++s) {
        const PoolSelect& select = p.pool_selects[s];
        kernels_.sample_alias(raw_.data() + std::size_t{select.draw} * padded, padded, p.aliases[select.alias].view(),
                              members_.data() + s * block_stride_);
    }
    for (const PooledDraws& d : p.pooled_draws) {
        const std::uint64_t* members = members_.data() + std::size_t{d.select} * block_stride_;
        for (std::uint32_t i = 0; i < padded; ++i) member_keys_[i] = event_key(d.salt, members[i]);
        for (std::uint32_t j = 0; j < d.draws; ++j) {
            kernels_.fill_keyed(member_keys_.data(), padded, j, raw_.data() + std::size_t{d.first_draw + j} * padded);
        }
    }
}

void ProgramSource::fill_combine(const CombineSpec& spec, std::uint64_t* out) {
    // The first input is the leading digit: start from it rather than from zeros.
    std::copy(column(spec.columns[0]), column(spec.columns[0]) + block_padded_, out);
    for (std::size_t k = 1; k < spec.columns.size(); ++k) {
        const std::uint64_t* in = column(spec.columns[k]);
        const std::uint64_t radix = spec.radices[k];
        for (std::uint32_t i = 0; i < block_padded_; ++i) out[i] = out[i] * radix + in[i];
    }
}

// Shard i of N takes values i, i + N, i + 2N, ... of the sequence, so shards
// (and machines) never repeat one another's values.
void ProgramSource::fill_sequence(const GenOp& op, std::uint32_t count, std::uint64_t* out) {
    const SequenceSpec& spec = program_->sequences[op.table];
    std::uint64_t& done = sequence_counts_[op.table];
    const auto step = static_cast<std::uint64_t>(spec.step);
    for (std::uint32_t i = 0; i < count; ++i, ++done) {
        out[i] = static_cast<std::uint64_t>(spec.start) + (done * shard_count_ + shard_index_) * step;
    }
}

// Resolves every put once, so the serializer reads a put's value, table and
// cache through pointers instead of program tables.
void ProgramSource::plan_puts() {
    const Program& p = *program_;
    planned_puts_.reserve(p.puts.size());
    for (const PutOp& op : p.puts) {
        PlannedPut planned;
        planned.literal = p.pool.data() + op.literal_offset;
        planned.literal_bytes = op.literal_bytes;
        planned.kind = op.kind;
        planned.scale = op.scale;
        planned.column = column(op.column);
        // Only the kinds that read two columns have a second one.
        const bool two_columns = op.kind == PutKind::uuid || op.kind == PutKind::hex || op.kind == PutKind::base62 ||
                                 op.kind == PutKind::ipv6;
        planned.column2 = two_columns ? column(op.column + 1u) : nullptr;
        if (op.kind == PutKind::text) planned.entries = p.text_entries.data() + p.text_tables[op.table].first_entry;
        if (op.kind == PutKind::time) {
            planned.time = &p.time_formats[op.table];
            planned.cache = &time_caches_[op.table];
        }
        planned_puts_.push_back(planned);
    }
    for (const Shape& shape : p.shapes) {
        // ProgramBuilder::end_shape closes every shape with a literal-only put: its tail.
        const PlannedPut* first = planned_puts_.data() + shape.first_put;
        const bool closed = shape.put_count > 0 && first[shape.put_count - 1].kind == PutKind::literal_only;
        const PlannedPut* last = closed ? first + shape.put_count - 1 : nullptr;
        planned_shapes_.push_back({first, shape.put_count - (closed ? 1u : 0u), closed ? last->literal : p.pool.data(),
                                   closed ? last->literal_bytes : 0u});
    }
    plan_.pool = p.pool.data();
    plan_.shapes = planned_shapes_.data();
    plan_.shape_column = p.shape_column < 0 ? nullptr : column(static_cast<std::uint32_t>(p.shape_column));
}

}  // namespace supervent::core
