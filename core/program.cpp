#include "core/program.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/digits.hpp"
#include "core/timeline.hpp"

namespace supervent::core {
namespace {

constexpr std::uint32_t alias_count_max = std::uint32_t{1} << 24;

void check_weights(std::span<const double> weights) {
    if (weights.empty()) throw std::invalid_argument("a weighted choice needs at least one value");
    if (weights.size() > alias_count_max) throw std::invalid_argument("a weighted choice has too many values");
    double sum = 0;
    for (const double w : weights) {
        if (!std::isfinite(w) || w < 0) throw std::invalid_argument("weights must be finite and >= 0");
        sum += w;
    }
    if (!(sum > 0)) throw std::invalid_argument("weights must not all be zero");
}

std::uint32_t to_threshold(double probability) {
    // Probability 1 keeps the slot always; 0xFFFFFFFF is off by 2^-32, and
    // such slots alias to themselves anyway.
    if (probability >= 1.0) return std::numeric_limits<std::uint32_t>::max();
    return static_cast<std::uint32_t>(probability * 4294967296.0);
}

}  // namespace

AliasTable build_alias_table(std::span<const double> weights) {
    check_weights(weights);
    const std::size_t n = weights.size();
    double sum = 0;
    for (const double w : weights) sum += w;
    std::vector<double> scaled(n);
    std::vector<std::uint32_t> small;
    std::vector<std::uint32_t> large;
    for (std::size_t i = 0; i < n; ++i) {
        scaled[i] = weights[i] * static_cast<double>(n) / sum;
        (scaled[i] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(i));
    }
    AliasTable t;
    t.threshold.assign(n, std::numeric_limits<std::uint32_t>::max());
    t.alias.resize(n);
    for (std::size_t i = 0; i < n; ++i) t.alias[i] = static_cast<std::uint32_t>(i);
    while (!small.empty() && !large.empty()) {
        const std::uint32_t s = small.back();
        small.pop_back();
        const std::uint32_t l = large.back();
        t.threshold[s] = to_threshold(scaled[s]);
        t.alias[s] = l;
        scaled[l] -= 1.0 - scaled[s];
        if (scaled[l] < 1.0) {
            large.pop_back();
            small.push_back(l);
        }
    }
    // Whatever is left holds probability 1 up to rounding: keep the defaults.
    return t;
}

ProgramBuilder::ProgramBuilder(std::string name, TextContext context) : context_(context) { p_.name = std::move(name); }

Column ProgramBuilder::add_gen(GenKind kind, std::uint16_t table, std::uint32_t columns, std::uint32_t draws) {
    if (p_.column_count + columns > std::numeric_limits<std::uint16_t>::max() ||
        p_.draws_per_event + draws > std::numeric_limits<std::uint16_t>::max()) {
        throw std::invalid_argument("too many fields in source " + p_.name);
    }
    const Column c{kind, static_cast<std::uint16_t>(p_.column_count), table};
    p_.gens.push_back(GenOp{kind, c.index, table, static_cast<std::uint16_t>(p_.draws_per_event)});
    gen_draws_.push_back(static_cast<std::uint16_t>(draws));
    p_.column_count += columns;
    p_.draws_per_event += draws;
    return c;
}

std::uint16_t ProgramBuilder::add_text_table(std::span<const std::string> texts) {
    TextTable table{static_cast<std::uint32_t>(p_.text_entries.size()), static_cast<std::uint32_t>(texts.size()), 0};
    for (const std::string& t : texts) {
        p_.text_entries.push_back({static_cast<std::uint32_t>(p_.pool.size()), static_cast<std::uint32_t>(t.size())});
        p_.pool += t;
        table.bytes_max = std::max(table.bytes_max, static_cast<std::uint32_t>(t.size()));
    }
    p_.text_tables.push_back(table);
    return static_cast<std::uint16_t>(p_.text_tables.size() - 1);
}

Column ProgramBuilder::choice(std::span<const std::string_view> values, std::span<const double> weights) {
    std::vector<ChoiceValue> typed;
    for (const std::string_view v : values) typed.push_back({v, false});
    return choice(typed, weights);
}

Column ProgramBuilder::choice(std::span<const ChoiceValue> values, std::span<const double> weights) {
    if (values.empty()) throw std::invalid_argument("a choice needs at least one value");
    if (!weights.empty() && weights.size() != values.size()) {
        throw std::invalid_argument("a choice needs one weight per value");
    }
    const std::vector<double> uniform(values.size(), 1.0);
    p_.aliases.push_back(build_alias_table(weights.empty() ? std::span<const double>(uniform) : weights));
    std::vector<std::string> texts;
    std::vector<std::string> typed;
    const std::string quote(value_quote(context_));
    for (const ChoiceValue& v : values) {
        texts.push_back(escape_text(v.text, context_));
        typed.push_back(v.json_bare ? std::string(v.text) : quote + texts.back() + quote);
    }
    ChoiceTables c;
    c.alias = static_cast<std::uint16_t>(p_.aliases.size() - 1);
    c.text = add_text_table(texts);
    c.typed = add_text_table(typed);
    p_.choices.push_back(c);
    return add_gen(GenKind::choice, static_cast<std::uint16_t>(p_.choices.size() - 1), 1, 1);
}

std::vector<Column> ProgramBuilder::choice_rows(std::span<const std::vector<ChoiceValue>> parts,
                                                std::span<const double> weights) {
    if (parts.empty()) throw std::invalid_argument("a row choice needs at least one part");
    std::vector<Column> columns{choice(parts[0], weights)};
    const std::size_t rows = parts[0].size();
    for (std::size_t k = 1; k < parts.size(); ++k) {
        if (parts[k].size() != rows) throw std::invalid_argument("every part of a row choice needs one value per row");
        std::vector<std::string> texts;
        std::vector<std::string> typed;
        const std::string quote(value_quote(context_));
        for (const ChoiceValue& v : parts[k]) {
            texts.push_back(escape_text(v.text, context_));
            typed.push_back(v.json_bare ? std::string(v.text) : quote + texts.back() + quote);
        }
        ChoiceTables c = p_.choices[columns[0].table];
        c.text = add_text_table(texts);
        c.typed = add_text_table(typed);
        p_.choices.push_back(c);
        // Same column, same draw: only the tables it is written from differ.
        columns.push_back(Column{GenKind::choice, columns[0].index, static_cast<std::uint16_t>(p_.choices.size() - 1)});
    }
    return columns;
}

void ProgramBuilder::zero_when(Column value, Column row, const std::vector<bool>& zero_rows) {
    expect(value, GenKind::buckets, "zero_when");
    expect(row, GenKind::choice, "zero_when");
    if (zero_rows.size() != p_.text_tables[p_.choices[row.table].text].count) {
        throw std::logic_error("zero_when needs one flag per row");
    }
    ZeroWhenSpec spec{row.index, {}};
    for (const bool zero : zero_rows) spec.keep.push_back(zero ? 0 : ~std::uint64_t{0});
    p_.zero_whens.push_back(std::move(spec));
    p_.gens.push_back(GenOp{GenKind::zero_when, value.index, static_cast<std::uint16_t>(p_.zero_whens.size() - 1), 0});
    gen_draws_.push_back(0);
}

std::uint16_t ProgramBuilder::pool_select(std::span<const double> popularity) {
    if (p_.aliases.size() >= std::numeric_limits<std::uint16_t>::max() ||
        p_.pool_selects.size() >= std::numeric_limits<std::uint16_t>::max() ||
        p_.draws_per_event + 1 > std::numeric_limits<std::uint16_t>::max()) {
        throw std::invalid_argument("too many fields in source " + p_.name);
    }
    p_.aliases.push_back(build_alias_table(popularity));
    p_.pool_selects.push_back({static_cast<std::uint16_t>(p_.aliases.size() - 1), static_cast<std::uint16_t>(p_.draws_per_event)});
    p_.draws_per_event += 1;
    return static_cast<std::uint16_t>(p_.pool_selects.size() - 1);
}

void ProgramBuilder::pooled(Column column, std::uint16_t select, std::uint64_t salt) {
    if (select >= p_.pool_selects.size()) throw std::logic_error("pooled: no such pool select");
    // The op that made the column: the last one writing it (row parts share their first's).
    for (std::size_t g = p_.gens.size(); g-- > 0;) {
        const GenOp& op = p_.gens[g];
        if (op.column != column.index || gen_draws_[g] == 0) continue;
        if (op.kind == GenKind::event_time || op.kind == GenKind::sequence || op.column == p_.request_id_column ||
            op.column == p_.shape_column) {
            throw std::logic_error("pooled: times, sequences, request ids and shapes are not pooled");
        }
        for (const PooledDraws& d : p_.pooled_draws) {
            if (d.first_draw == op.first_draw) return;  // a row part whose row is already pooled
        }
        p_.pooled_draws.push_back({select, op.first_draw, gen_draws_[g], salt});
        return;
    }
    throw std::logic_error("pooled: the column draws no words");
}

void ProgramBuilder::size_by_row(Column value, Column row, std::span<const std::uint64_t> scale_q16,
                                 std::span<const std::uint64_t> add) {
    expect(value, GenKind::buckets, "size_by_row");
    expect(row, GenKind::choice, "size_by_row");
    const std::uint32_t rows = p_.text_tables[p_.choices[row.table].text].count;
    if (scale_q16.size() != rows || add.size() != rows) throw std::logic_error("size_by_row needs one scale and add per row");
    BucketTable& t = p_.buckets[value.table];
    // value * scale stays below 2^64: values below 2^40, scales below 2^24.
    if ((t.is_signed && t.value_min_signed < 0) || t.value_max >= (std::uint64_t{1} << 40) ||
        std::any_of(scale_q16.begin(), scale_q16.end(), [](std::uint64_t s) { return s >= (std::uint64_t{1} << 24); })) {
        throw std::logic_error("size_by_row needs values below 2^40 and scales below 2^24");
    }
    // The largest value written bounds the digits each put reserves.
    std::uint64_t most = 0;
    for (std::size_t v = 0; v < rows; ++v) most = std::max(most, ((t.value_max * scale_q16[v]) >> 16) + add[v]);
    t.value_max = most;
    ZeroWhenSpec spec{row.index, std::vector<std::uint64_t>(rows, ~std::uint64_t{0}), {scale_q16.begin(), scale_q16.end()},
                      {add.begin(), add.end()}};
    p_.zero_whens.push_back(std::move(spec));
    p_.gens.push_back(GenOp{GenKind::zero_when, value.index, static_cast<std::uint16_t>(p_.zero_whens.size() - 1), 0});
}

void ProgramBuilder::choice_given(Column value, const Column* given, std::span<const std::vector<double>> weights) {
    expect(value, GenKind::choice, "choice_given");
    if (weights.empty()) throw std::logic_error("choice_given needs weights");
    AliasTable& own = p_.aliases[p_.choices[value.table].alias];
    if (given == nullptr) {
        own = build_alias_table(weights[0]);
        return;
    }
    expect(*given, GenKind::choice, "choice_given");
    if (weights.size() != p_.text_tables[p_.choices[given->table].text].count) {
        throw std::logic_error("choice_given needs weights for each value of the given column");
    }
    // The value's own op: its random words are redrawn.
    const auto op = std::find_if(p_.gens.begin(), p_.gens.end(), [&](const GenOp& g) {
        return g.kind == GenKind::choice && g.column == value.index;
    });
    if (op == p_.gens.end()) throw std::logic_error("choice_given: no op fills the value column");
    GivenChoiceSpec spec{given->index, {}};
    for (const std::vector<double>& w : weights) spec.tables.push_back(build_alias_table(w));
    p_.given_choices.push_back(std::move(spec));
    p_.gens.push_back(GenOp{GenKind::choice_given, value.index, static_cast<std::uint16_t>(p_.given_choices.size() - 1),
                            op->first_draw});
}

Column ProgramBuilder::buckets(std::span<const IntBucket> list, bool is_signed) {
    if (list.empty()) throw std::invalid_argument("an integer range needs at least one bucket");
    BucketTable t;
    t.is_signed = is_signed;
    t.value_min_signed = std::numeric_limits<std::int64_t>::max();
    std::vector<double> weights;
    for (const IntBucket& b : list) {
        const bool reversed = is_signed ? static_cast<std::int64_t>(b.hi) < static_cast<std::int64_t>(b.lo) : b.hi < b.lo;
        if (reversed) throw std::invalid_argument("integer range has min > max");
        if (b.hi - b.lo > std::numeric_limits<std::uint32_t>::max()) {
            throw std::invalid_argument("integer range spans more than 2^32 values");
        }
        t.lo.push_back(b.lo);
        t.span.push_back((b.hi - b.lo + 1) & 0xFFFF'FFFFull);
        if (is_signed) {
            t.value_max = static_cast<std::uint64_t>(std::max(static_cast<std::int64_t>(t.value_max), static_cast<std::int64_t>(b.hi)));
            t.value_min_signed = std::min(t.value_min_signed, static_cast<std::int64_t>(b.lo));
        } else {
            t.value_max = std::max(t.value_max, b.hi);
        }
        weights.push_back(b.weight);
    }
    t.pick = build_alias_table(weights);
    p_.buckets.push_back(std::move(t));
    return add_gen(GenKind::buckets, static_cast<std::uint16_t>(p_.buckets.size() - 1), 1, 2);
}

Column ProgramBuilder::uuid4() { return add_gen(GenKind::uuid4, 0, 2, 2); }

Column ProgramBuilder::sequence(SequenceSpec spec) {
    p_.sequences.push_back(spec);
    return add_gen(GenKind::sequence, static_cast<std::uint16_t>(p_.sequences.size() - 1), 1, 0);
}

Column ProgramBuilder::random_words() { return add_gen(GenKind::random_words, 0, 2, 2); }

Column ProgramBuilder::ipv6(std::span<const Ipv6Prefix> prefixes) {
    if (prefixes.empty()) throw std::invalid_argument("an IPv6 field needs at least one prefix");
    Ipv6Table t;
    std::vector<double> weights;
    for (const Ipv6Prefix& p : prefixes) {
        if (p.prefix_bits > 64) throw std::invalid_argument("IPv6 prefixes may be at most /64");
        const std::uint64_t host = p.prefix_bits == 0 ? ~std::uint64_t{0} : (std::uint64_t{1} << (64 - p.prefix_bits)) - 1;
        if ((p.base_hi & host) != 0) throw std::invalid_argument("IPv6 prefix has host bits set");
        t.base_hi.push_back(p.base_hi);
        t.host_mask_hi.push_back(p.prefix_bits == 64 ? 0 : host);
        weights.push_back(p.weight);
    }
    t.pick = build_alias_table(weights);
    p_.ipv6_tables.push_back(std::move(t));
    return add_gen(GenKind::ipv6, static_cast<std::uint16_t>(p_.ipv6_tables.size() - 1), 2, 3);
}

Column ProgramBuilder::event_time() {
    if (has_time_) throw std::logic_error("a source has one event time column");
    has_time_ = true;
    const Column column = add_gen(GenKind::event_time, 0, 1, 1);
    p_.time_column = column.index;
    return column;
}

void ProgramBuilder::time_zone(std::shared_ptr<const TimeZone> zone) {
    // 1970, and January and July of 2000 and 2030: a zone with an offset
    // somewhere (or a daylight saving time) shows it in one of them.
    constexpr std::int64_t probes_s[] = {0, 946'684'800, 962'409'600, 1'893'456'000, 1'909'094'400};
    bool always_utc = true;
    for (const std::int64_t t : probes_s) always_utc &= zone == nullptr || zone->offset_s(t * 1'000'000'000) == 0;
    zone_ = always_utc ? nullptr : std::move(zone);
}

void ProgramBuilder::raw(std::string_view bytes) { pending_literal_ += bytes; }

void ProgramBuilder::text(std::string_view t) { pending_literal_ += escape_text(t, context_); }

void ProgramBuilder::batch_header(std::string_view bytes) { p_.batch_header = bytes; }

void ProgramBuilder::expect(Column column, GenKind kind, std::string_view what) const {
    if (column.kind != kind || column.index >= p_.column_count) {
        throw std::logic_error("put_" + std::string(what) + " needs a matching column");
    }
}

void ProgramBuilder::add_put(PutKind kind, Column column, std::size_t value_bytes_max, std::uint16_t table,
                             std::uint8_t scale) {
    PutOp op{static_cast<std::uint32_t>(p_.pool.size()), static_cast<std::uint32_t>(pending_literal_.size()),
             kind, scale, column.index, table};
    p_.pool += pending_literal_;
    shape_bytes_ += pending_literal_.size() + value_bytes_max;
    pending_literal_.clear();
    p_.puts.push_back(op);
}

void ProgramBuilder::put_text(Column column) {
    expect(column, GenKind::choice, "text");
    const std::uint16_t table = p_.choices[column.table].text;
    add_put(PutKind::text, column, p_.text_tables[table].bytes_max, table);
}

void ProgramBuilder::put_typed(Column column) {
    expect(column, GenKind::choice, "typed");
    const std::uint16_t table = p_.choices[column.table].typed;
    add_put(PutKind::text, column, p_.text_tables[table].bytes_max, table);
}

void ProgramBuilder::put_uint(Column column) {
    if (column.kind == GenKind::sequence) return add_put(PutKind::uint_decimal, column, 20);
    expect(column, GenKind::buckets, "uint");
    if (p_.buckets[column.table].is_signed) throw std::logic_error("put_uint on a signed column");
    add_put(PutKind::uint_decimal, column, decimal_digits(p_.buckets[column.table].value_max));
}

namespace {
// Longest decimal rendering of any int64 in [lo, hi].
std::size_t signed_bytes_max(std::int64_t lo, std::int64_t hi) {
    const auto magnitude = [](std::int64_t v) {
        return v < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    };
    return std::max<std::size_t>(decimal_digits(magnitude(lo)) + (lo < 0 ? 1 : 0),
                                 decimal_digits(magnitude(hi)) + (hi < 0 ? 1 : 0));
}
}  // namespace

void ProgramBuilder::put_int(Column column) {
    if (column.kind == GenKind::sequence) return add_put(PutKind::int_decimal, column, 20);
    expect(column, GenKind::buckets, "int");
    const BucketTable& b = p_.buckets[column.table];
    const std::size_t bytes = b.is_signed ? signed_bytes_max(b.value_min_signed, static_cast<std::int64_t>(b.value_max))
                                          : decimal_digits(b.value_max);
    add_put(b.is_signed ? PutKind::int_decimal : PutKind::uint_decimal, column, bytes);
}

void ProgramBuilder::put_fixed(Column column, std::uint8_t scale) {
    expect(column, GenKind::buckets, "fixed");
    if (scale < 1 || scale > 9) throw std::invalid_argument("decimal places must be 1..9");
    const BucketTable& b = p_.buckets[column.table];
    const std::int64_t lo = b.is_signed ? b.value_min_signed : 0;
    const std::int64_t hi = b.is_signed ? static_cast<std::int64_t>(b.value_max)
                                        : static_cast<std::int64_t>(std::min<std::uint64_t>(b.value_max, INT64_MAX));
    const auto unit = static_cast<std::int64_t>(detail::powers_of_10[scale]);
    // "-0.5": the sign may come with a zero whole part, hence the + 1.
    add_put(PutKind::fixed_decimal, column, signed_bytes_max(lo / unit, hi / unit) + 1 + 1 + scale, 0, scale);
}

void ProgramBuilder::put_ipv4(Column column) {
    expect(column, GenKind::buckets, "ipv4");
    if (p_.buckets[column.table].value_max > std::numeric_limits<std::uint32_t>::max()) {
        throw std::invalid_argument("an IPv4 column holds values above 2^32");
    }
    add_put(PutKind::ipv4, column, 15);
}

void ProgramBuilder::put_uuid(Column column) {
    expect(column, GenKind::uuid4, "uuid");
    add_put(PutKind::uuid, column, 36);
}

void ProgramBuilder::put_hex(Column column, std::uint8_t digits) {
    expect(column, GenKind::random_words, "hex");
    if (digits < 1 || digits > 32) throw std::invalid_argument("hex ids have 1..32 digits");
    add_put(PutKind::hex, column, digits, 0, digits);
}

void ProgramBuilder::put_base62(Column column, std::uint8_t digits) {
    expect(column, GenKind::random_words, "base62");
    if (digits < 1 || digits > 21) throw std::invalid_argument("base-62 ids have 1..21 digits");
    add_put(PutKind::base62, column, digits, 0, digits);
}

void ProgramBuilder::put_ipv6(Column column) {
    expect(column, GenKind::ipv6, "ipv6");
    add_put(PutKind::ipv6, column, 39);
}

void ProgramBuilder::put_epoch(Column column, std::uint8_t decimals) {
    expect(column, GenKind::event_time, "epoch");
    if (decimals != 0 && decimals != 3 && decimals != 6 && decimals != 9) {
        throw std::invalid_argument("epoch times count s, ms, us or ns");
    }
    add_put(PutKind::epoch, column, 20, 0, decimals);
}

void ProgramBuilder::put_time(Column column, std::string_view format) {
    expect(column, GenKind::event_time, "time");
    p_.time_formats.push_back(TimeFormat::compile(format, context_, zone_));
    add_put(PutKind::time, column, p_.time_formats.back().bytes_max(),
            static_cast<std::uint16_t>(p_.time_formats.size() - 1));
}

void ProgramBuilder::end_shape() {
    if (pending_literal_.empty() || pending_literal_.back() != '\n') {
        throw std::logic_error("source " + p_.name + " must end each event with a newline");
    }
    add_put(PutKind::literal_only, Column{}, 0);
    p_.shapes.push_back({shape_first_put_, static_cast<std::uint32_t>(p_.puts.size()) - shape_first_put_});
    shape_first_put_ = static_cast<std::uint32_t>(p_.puts.size());
    p_.event_bytes_max = std::max(p_.event_bytes_max, shape_bytes_);
    shape_bytes_ = 0;
}

void ProgramBuilder::pick_shape_by(Column choice) {
    expect(choice, GenKind::choice, "shape");
    p_.shape_column = choice.index;
}

void ProgramBuilder::mark_request_id(Column uuid) {
    expect(uuid, GenKind::uuid4, "request id");
    p_.request_id_column = uuid.index;
}

Column ProgramBuilder::input(std::uint16_t slot, std::uint32_t columns) {
    return add_gen(GenKind::input, slot, columns, 0);
}

void ProgramBuilder::put_input(Column input, PutKind kind, std::uint8_t scale, std::size_t value_bytes_max) {
    expect(input, GenKind::input, "input");
    add_put(kind, input, value_bytes_max, 0, scale);
}

// Draws per event of each kind of gen (as add_gen is called for them).
void ProgramBuilder::key_by_entity(Column column, std::uint64_t salt) {
    for (const GenOp& g : p_.gens) {
        if (g.column != column.index) continue;
        std::uint32_t draws = 0;
        switch (g.kind) {
            case GenKind::choice: draws = 1; break;
            case GenKind::buckets:
            case GenKind::uuid4:
            case GenKind::random_words: draws = 2; break;
            case GenKind::ipv6: draws = 3; break;
            default: throw std::invalid_argument("only drawn fields (choice, number, address, id) can be inherited");
        }
        for (std::uint32_t j = 0; j < draws; ++j) {
            const auto draw = static_cast<std::uint16_t>(g.first_draw + j);
            const bool known = std::any_of(p_.entity_draws.begin(), p_.entity_draws.end(),
                                           [&](const Program::EntityDraw& e) { return e.draw == draw; });
            if (!known) p_.entity_draws.push_back({draw, salt + j});
        }
        return;
    }
    throw std::invalid_argument("this field has no drawn column to inherit");
}

std::shared_ptr<const Program> ProgramBuilder::finish() {
    if (!has_time_) throw std::logic_error("source " + p_.name + " has no event time column");
    if (p_.shapes.empty() || !pending_literal_.empty() || shape_first_put_ != p_.puts.size()) end_shape();
    if (p_.shapes.size() > 1) {
        if (p_.shape_column < 0) throw std::logic_error("source " + p_.name + " has several shapes but no shape column");
        bool picker_fits = false;
        for (const GenOp& g : p_.gens) {
            picker_fits |= g.kind == GenKind::choice && g.column == p_.shape_column &&
                           p_.text_tables[p_.choices[g.table].text].count == p_.shapes.size();
        }
        if (!picker_fits) throw std::logic_error("source " + p_.name + ": the shape column must have one value per shape");
    }
    if (fusion_) fuse_choice_runs(p_);
    p_.event_bytes_max += spill_bytes_max + p_.batch_header.size();
    p_.pool.append(spill_bytes_max, '\0');
    return std::make_shared<const Program>(std::move(p_));
}

namespace {

// A joined table beyond these sizes would cost more in cache misses than the
// put dispatches it saves.
constexpr std::uint64_t fused_entries_max = 4096;
constexpr std::uint64_t fused_table_bytes_max = 96 * 1024;

std::string_view text_of(const Program& p, std::uint32_t table, std::uint64_t value) {
    const TextEntry& e = p.text_entries[p.text_tables[table].first_entry + value];
    return {p.pool.data() + e.offset, e.bytes};
}

// Whether put i of a run [first, i) reads a column an earlier put of it read
// (parts of one row choice): it adds no digit to the joined table.
bool column_seen(const Program& p, std::uint32_t first, std::uint32_t i) {
    for (std::uint32_t k = first; k < i; ++k) {
        if (p.puts[k].column == p.puts[i].column) return true;
    }
    return false;
}

// How far a run of text puts starting at `first` can extend within [first, end).
std::uint32_t fusable_run_end(const Program& p, std::uint32_t first, std::uint32_t end) {
    std::uint64_t entries = 1;
    std::uint64_t entry_bytes = 0;
    std::uint32_t i = first;
    for (; i < end && p.puts[i].kind == PutKind::text; ++i) {
        const TextTable& t = p.text_tables[p.puts[i].table];
        const std::uint64_t literal = i == first ? 0 : p.puts[i].literal_bytes;
        const std::uint64_t radix = column_seen(p, first, i) ? 1 : t.count;
        if (entries * radix > fused_entries_max ||
            entries * radix * (entry_bytes + literal + t.bytes_max) > fused_table_bytes_max) {
            break;
        }
        entries *= radix;
        entry_bytes += literal + t.bytes_max;
    }
    return i;
}

// Builds the joined table of puts [first, last) and returns the put replacing them.
PutOp fuse_run(Program& p, std::uint32_t first, std::uint32_t last) {
    CombineSpec combine;
    std::vector<std::uint32_t> digit_of(last - first);  // which combine input each put reads
    for (std::uint32_t i = first; i < last; ++i) {
        const auto known = std::find(combine.columns.begin(), combine.columns.end(), p.puts[i].column);
        digit_of[i - first] = static_cast<std::uint32_t>(known - combine.columns.begin());
        if (known != combine.columns.end()) continue;
        combine.columns.push_back(p.puts[i].column);
        combine.radices.push_back(p.text_tables[p.puts[i].table].count);
    }
    std::uint64_t entries = 1;
    for (const std::uint32_t r : combine.radices) entries *= r;
    TextTable table{static_cast<std::uint32_t>(p.text_entries.size()), static_cast<std::uint32_t>(entries), 0};
    std::vector<std::uint64_t> digits(combine.columns.size(), 0);  // mixed-radix counter, last input fastest
    std::string joined;
    for (std::uint64_t n = 0; n < entries; ++n) {
        joined.clear();
        for (std::uint32_t k = 0; k < last - first; ++k) {
            const PutOp& op = p.puts[first + k];
            if (k > 0) joined.append(p.pool, op.literal_offset, op.literal_bytes);
            joined += text_of(p, op.table, digits[digit_of[k]]);
        }
        p.text_entries.push_back({static_cast<std::uint32_t>(p.pool.size()), static_cast<std::uint32_t>(joined.size())});
        p.pool += joined;
        table.bytes_max = std::max(table.bytes_max, static_cast<std::uint32_t>(joined.size()));
        for (std::size_t k = digits.size(); k-- > 0;) {
            if (++digits[k] < combine.radices[k]) break;
            digits[k] = 0;
        }
    }
    p.text_tables.push_back(table);
    p.combines.push_back(std::move(combine));
    const auto column = static_cast<std::uint16_t>(p.column_count++);
    p.gens.push_back(GenOp{GenKind::combine, column, static_cast<std::uint16_t>(p.combines.size() - 1), 0});
    PutOp fused = p.puts[first];
    fused.column = column;
    fused.table = static_cast<std::uint16_t>(p.text_tables.size() - 1);
    return fused;
}

}  // namespace

void fuse_choice_runs(Program& p) {
    std::vector<PutOp> puts;
    std::vector<Shape> shapes;
    for (const Shape shape : p.shapes) {
        const auto first_put = static_cast<std::uint32_t>(puts.size());
        const std::uint32_t end = shape.first_put + shape.put_count;
        for (std::uint32_t i = shape.first_put; i < end;) {
            const std::uint32_t run_end = fusable_run_end(p, i, end);
            const bool worth_it = run_end - i >= 2 && p.column_count < std::numeric_limits<std::uint16_t>::max() &&
                                  p.text_tables.size() < std::numeric_limits<std::uint16_t>::max();
            puts.push_back(worth_it ? fuse_run(p, i, run_end) : p.puts[i]);
            i = worth_it ? run_end : i + 1;
        }
        shapes.push_back({first_put, static_cast<std::uint32_t>(puts.size()) - first_put});
    }
    p.puts = std::move(puts);
    p.shapes = std::move(shapes);
}

}  // namespace supervent::core
