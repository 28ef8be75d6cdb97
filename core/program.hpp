#pragma once
// A source compiled into a flat program.
//
// Generation ops fill one column of raw values per field for a block of
// events (choice indices, integers, addresses, times, UUID halves) from the
// shard's random words. Put ops then serialize event by event: each put is a
// pre-escaped literal fragment followed by one field written from tables, so
// the per-event loop is table lookups and fixed-size copies, with no
// formatting library, allocation or virtual call.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/kernels.hpp"
#include "core/time_format.hpp"

namespace supervent::core {

enum class GenKind : std::uint8_t {
    choice,        // column = weighted index into a choice's text tables
    buckets,       // column = integer from weighted ranges (also IPv4 from CIDRs)
    uuid4,         // column, column + 1 = UUID v4 halves
    event_time,    // column = ns since epoch, non-decreasing across the batch
    sequence,      // column = a per-shard counter, interleaved across shards
    random_words,  // column, column + 1 = raw random words (hex ids)
    combine,       // column = mixed-radix index over other choice columns (fused puts)
    ipv6,          // column, column + 1 = address halves from weighted prefixes
    zero_when,     // column (already filled) set to 0 where another column's value is flagged
    input,         // column(s) = what the scenario engine hands in (trace context slot `table`); no draws
    choice_given,  // column (a choice) redrawn from its own words with the alias table of another column's value
};

struct GenOp {
    GenKind kind = GenKind::choice;
    std::uint16_t column = 0;
    std::uint16_t table = 0;       // alias or bucket table
    std::uint16_t first_draw = 0;  // its random words: draws first_draw..first_draw+draws-1
};

enum class PutKind : std::uint8_t {
    literal_only,   // the literal alone (the event's tail)
    text,           // text table entry chosen by the column
    uint_decimal,   // column as an unsigned decimal integer
    int_decimal,    // column as a signed (two's complement) decimal integer
    fixed_decimal,  // signed column / 10^scale with `scale` decimals
    ipv4,           // column as a dotted quad
    uuid,           // columns column, column + 1 as 8-4-4-4-12 hex
    hex,            // `scale` (1..32) hex digits from columns column, column + 1
    base62,         // `scale` (1..21) base-62 digits from columns column, column + 1
    ipv6,           // columns column, column + 1 as eight colon-separated hex groups
    time,           // column (ns) in time format `table`
    epoch,          // column (ns) as a signed integer count of 10^-scale seconds
    span_hex,       // column as 16 hex digits; nothing when 0 (a root's parent span)
};

struct PutOp {
    std::uint32_t literal_offset = 0;  // into the pool
    std::uint32_t literal_bytes = 0;
    PutKind kind = PutKind::literal_only;
    std::uint8_t scale = 0;
    std::uint16_t column = 0;
    std::uint16_t table = 0;
};

struct TextEntry {
    std::uint32_t offset = 0;  // into the pool
    std::uint32_t bytes = 0;
};

struct TextTable {
    std::uint32_t first_entry = 0;
    std::uint32_t count = 0;
    std::uint32_t bytes_max = 0;
};

// A choice's two renderings of each value: as text inside a string (the
// message) and as a typed value (attributes: strings quoted, numbers bare).
struct ChoiceTables {
    std::uint16_t alias = 0;
    std::uint16_t text = 0;
    std::uint16_t typed = 0;
};

struct SequenceSpec {
    std::int64_t start = 0;
    std::int64_t step = 1;
};

// zero_when: value column `column` becomes 0 on events whose `row_column`
// value v has keep[v] == 0 (an HTTP response without a body has 0 bytes).
// With scale non-empty, the value becomes (value * scale[v]) >> 16 + add[v]
// instead (a byte count that follows the path it answers, size_by_row).
struct ZeroWhenSpec {
    std::uint16_t row_column = 0;
    std::vector<std::uint64_t> keep;  // one per row value: ~0 keeps, 0 zeroes
    std::vector<std::uint64_t> scale;  // empty, or one per row value (16-bit fixed point)
    std::vector<std::uint64_t> add;
};

// Inputs of a combine column: value = ((c0 * r1 + c1) * r2 + c2) ...
struct CombineSpec {
    std::vector<std::uint16_t> columns;
    std::vector<std::uint32_t> radices;
};

// Entity pools: a pool's member k is drawn once per event from `alias` (its
// popularity) with the random word of draw `draw`; pooled gen ops (PooledDraws)
// then take their draws not from the event's key but from the member's,
// event_key(salt, k), so a member always shows the same value.
struct PoolSelect {
    std::uint16_t alias = 0;
    std::uint16_t draw = 0;
};

struct PooledDraws {
    std::uint16_t select = 0;      // index into Program::pool_selects
    std::uint16_t first_draw = 0;  // the gen op's draws first_draw .. first_draw + draws - 1
    std::uint16_t draws = 0;
    std::uint64_t salt = 0;        // per field (or row): members of two fields differ
};

// The puts of one event type, in Program::puts.
struct Shape {
    std::uint32_t first_put = 0;
    std::uint32_t put_count = 0;
};

struct AliasTable {
    std::vector<std::uint32_t> threshold;
    std::vector<std::uint32_t> alias;
    [[nodiscard]] AliasView view() const {
        return {threshold.data(), alias.data(), static_cast<std::uint32_t>(threshold.size())};
    }
};

// choice_given: choice column `column` is redrawn, from the same random
// words, with tables[v] where `given_column`'s value is v (a log level that
// agrees with the event type's text, core/level_agreement.hpp).
struct GivenChoiceSpec {
    std::uint16_t given_column = 0;
    std::vector<AliasTable> tables;  // one per value of the given column
};

struct BucketTable {
    AliasTable pick;
    std::vector<std::uint64_t> lo;
    std::vector<std::uint64_t> span;  // 0 means 2^32
    bool is_signed = false;           // values are two's complement int64
    std::uint64_t value_max = 0;      // as unsigned or, when signed, as int64
    std::int64_t value_min_signed = 0;
    [[nodiscard]] BucketView view() const { return {pick.view(), lo.data(), span.data()}; }
};

// IPv6 prefixes (of at most 64 bits) to draw addresses from.
struct Ipv6Table {
    AliasTable pick;
    std::vector<std::uint64_t> base_hi;
    std::vector<std::uint64_t> host_mask_hi;  // bits of the high half drawn at random
};

// Builds a Vose alias table. Throws std::invalid_argument for an empty list,
// a negative or non-finite weight, or weights summing to zero.
[[nodiscard]] AliasTable build_alias_table(std::span<const double> weights);

// Immutable once built; shards share it.
struct Program {
    std::string name;
    std::vector<GenOp> gens;
    std::vector<PutOp> puts;
    std::vector<Shape> shapes;         // one per event type
    std::int32_t shape_column = -1;    // choice column picking the shape; -1: shape 0
    std::int32_t time_column = -1;     // the event time column (every program has one)
    std::int32_t request_id_column = -1;  // UUID column a scenario may set (inherited request ids); -1: none
    // Draws of inherited (entity) fields: keyed_word(entity key, salt), not
    // keyed_word(own key, draw) (core/trace_context.hpp, scenario sessions).
    struct EntityDraw {
        std::uint16_t draw = 0;
        std::uint64_t salt = 0;
    };
    std::vector<EntityDraw> entity_draws;
    std::vector<AliasTable> aliases;
    std::vector<BucketTable> buckets;
    std::vector<ChoiceTables> choices;
    std::vector<TextEntry> text_entries;
    std::vector<TextTable> text_tables;
    std::vector<TimeFormat> time_formats;
    std::vector<SequenceSpec> sequences;
    std::vector<CombineSpec> combines;
    std::vector<Ipv6Table> ipv6_tables;
    std::vector<ZeroWhenSpec> zero_whens;
    std::vector<PoolSelect> pool_selects;
    std::vector<PooledDraws> pooled_draws;
    std::vector<GivenChoiceSpec> given_choices;
    std::string pool;  // literals and texts, padded so 32-byte chunk copies stay inside
    std::uint32_t column_count = 0;
    std::uint32_t draws_per_event = 0;
    std::size_t event_bytes_max = 0;  // of the largest shape, plus spill_bytes_max of slack,
                                      // plus the batch header (a batch has at least one event)
    std::string batch_header;         // written before the first event of every batch
    std::string content_type = "application/x-ndjson";
};

// A column produced by a gen op, as the builder hands it out.
struct Column {
    GenKind kind = GenKind::choice;
    std::uint16_t index = 0;
    std::uint16_t table = 0;
};

struct IntBucket {
    std::uint64_t lo = 0;
    std::uint64_t hi = 0;  // inclusive; hi - lo < 2^32 (as int64 when signed)
    double weight = 1;
};

// One value of a choice: its text and whether JSON shows it bare (numbers,
// booleans) or quoted (strings).
struct ChoiceValue {
    std::string_view text;
    bool json_bare = false;
};

// Assembles a Program: declare columns, then write the event left to right
// with raw (structural JSON) and text (escaped) literals and puts.
class ProgramBuilder {
public:
    // `context` is where texts land: JSON strings (NDJSON), CSV fields, or raw text lines.
    explicit ProgramBuilder(std::string name, TextContext context = TextContext::json_string);

    // Values are escaped for the builder's context; weights may be empty (uniform).
    Column choice(std::span<const std::string_view> values, std::span<const double> weights);
    Column choice(std::span<const ChoiceValue> values, std::span<const double> weights);
    // Values that belong together (a city, its region and its coordinates):
    // one draw picks a row, and parts[k][row] is part k's value. Returns one
    // column per part, all reading the same draw; each takes put_text/put_typed.
    std::vector<Column> choice_rows(std::span<const std::vector<ChoiceValue>> parts, std::span<const double> weights);
    // Sets `value` (an integer column) to 0 on events whose `row` value is
    // flagged in zero_rows. Call after both columns exist.
    void zero_when(Column value, Column row, const std::vector<bool>& zero_rows);
    // Entity pools: pool_select adds one draw picking a member k per event
    // with the given popularity (one weight per member); pooled(column, ...)
    // makes the column's gen op draw its words from the member's key
    // event_key(salt, k) instead of the event's. Columns pooled on one select
    // share the member (one user's name and id). Call pooled right after the
    // column is made; not for request ids, times, sequences or shapes.
    std::uint16_t pool_select(std::span<const double> popularity);
    void pooled(Column column, std::uint16_t select, std::uint64_t salt);
    // Sets `value` (an unsigned integer column below 2^40) to
    // (value * scale_q16[v]) >> 16 + add[v] for `row` value v.
    void size_by_row(Column value, Column row, std::span<const std::uint64_t> scale_q16, std::span<const std::uint64_t> add);
    // Redraws choice `value` with weights[v] where `given`'s value is v (its
    // values and texts stay). Without `given` (one event type, no shape
    // column), weights[0] replaces its weights. Call before any put reads it.
    void choice_given(Column value, const Column* given, std::span<const std::vector<double>> weights);
    Column buckets(std::span<const IntBucket> buckets, bool is_signed = false);
    Column uuid4();
    Column event_time();
    Column sequence(SequenceSpec spec);
    Column random_words();
    // Prefixes as (high 64 bits of the base, prefix length 0..64, weight).
    struct Ipv6Prefix {
        std::uint64_t base_hi = 0;
        std::uint32_t prefix_bits = 0;
        double weight = 1;
    };
    Column ipv6(std::span<const Ipv6Prefix> prefixes);

    void raw(std::string_view bytes);    // structural bytes, copied as they are
    void text(std::string_view text);    // escaped for the builder's context
    void put_text(Column column);   // a choice as text (inside a string)
    void put_typed(Column column);  // a choice as a typed value: strings quoted, numbers bare
    void put_uint(Column column);
    void put_int(Column column);
    void put_fixed(Column column, std::uint8_t scale);
    void put_ipv4(Column column);
    void put_uuid(Column column);
    void put_hex(Column column, std::uint8_t digits);
    void put_base62(Column column, std::uint8_t digits);
    void put_ipv6(Column column);
    void put_time(Column column, std::string_view format);
    void put_epoch(Column column, std::uint8_t decimals);  // 0 s, 3 ms, 6 us, 9 ns

    // Bytes written once at the start of every batch (a CSV header line).
    void batch_header(std::string_view bytes);
    void content_type(std::string_view type) { p_.content_type = type; }
    // The zone put_time renders local times in (null: UTC); formats that say
    // UTC themselves stay UTC (see time_format.hpp).
    // A zone whose offset is always 0 counts as UTC (times end in "Z").
    void time_zone(std::shared_ptr<const TimeZone> zone);
    [[nodiscard]] bool zoned() const { return zone_ != nullptr; }

    [[nodiscard]] TextContext context() const { return context_; }

    // Ends one event type's shape; it must end with a newline. Shapes are
    // numbered in the order they end.
    void end_shape();
    // With several shapes, this choice column (one value per shape) picks each event's.
    void pick_shape_by(Column choice);
    // This UUID column is the event's request id: a scenario engine may set it
    // (a dependent event inherits its parent's) instead of drawing it.
    void mark_request_id(Column uuid);
    // Trace context (core/trace_context.hpp): a column the engine fills
    // (slot of EventInputs::trace, `columns` adjacent slots), and a put of it.
    Column input(std::uint16_t slot, std::uint32_t columns);
    void put_input(Column input, PutKind kind, std::uint8_t scale, std::size_t value_bytes_max);
    // The draws of this column's gen come from the event's entity key with
    // this salt (a field a dependent inherits from its parent).
    void key_by_entity(Column column, std::uint64_t salt);

    // Fusion (on by default) merges runs of choice puts with the literals
    // between them into one table lookup; output bytes are the same either way.
    void set_fusion(bool enabled) { fusion_ = enabled; }

    // Throws std::logic_error if an event is empty, does not end in a newline,
    // or there is no time column.
    [[nodiscard]] std::shared_ptr<const Program> finish();

private:
    Column add_gen(GenKind kind, std::uint16_t table, std::uint32_t columns, std::uint32_t draws);
    void add_put(PutKind kind, Column column, std::size_t value_bytes_max, std::uint16_t table = 0,
                 std::uint8_t scale = 0);
    void expect(Column column, GenKind kind, std::string_view what) const;
    std::uint16_t add_text_table(std::span<const std::string> texts);

    Program p_;
    std::string pending_literal_;
    std::uint32_t shape_first_put_ = 0;
    std::size_t shape_bytes_ = 0;
    bool has_time_ = false;
    bool fusion_ = true;
    TextContext context_;
    std::shared_ptr<const TimeZone> zone_;
    std::vector<std::uint16_t> gen_draws_;  // draws of each op in p_.gens, in order
};

// Replaces runs of adjacent text puts (choice values and the literals between
// them) by one put of a pre-joined table indexed by a combine column, when the
// joined table stays small. Called by ProgramBuilder::finish().
void fuse_choice_runs(Program& program);

}  // namespace supervent::core
