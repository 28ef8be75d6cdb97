#include "core/program.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/digits.hpp"

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

ProgramBuilder::ProgramBuilder(std::string name) { p_.name = std::move(name); }

Column ProgramBuilder::add_gen(GenKind kind, std::uint16_t table, std::uint32_t columns, std::uint32_t draws) {
    if (p_.column_count + columns > std::numeric_limits<std::uint16_t>::max() ||
        p_.draws_per_event + draws > std::numeric_limits<std::uint16_t>::max()) {
        throw std::invalid_argument("too many fields in source " + p_.name);
    }
    const Column c{kind, static_cast<std::uint16_t>(p_.column_count), table};
    p_.gens.push_back(GenOp{kind, c.index, table, static_cast<std::uint16_t>(p_.draws_per_event)});
    p_.column_count += columns;
    p_.draws_per_event += draws;
    return c;
}

Column ProgramBuilder::choice(std::span<const std::string_view> values, std::span<const double> weights) {
    if (values.empty()) throw std::invalid_argument("a choice needs at least one value");
    if (!weights.empty() && weights.size() != values.size()) {
        throw std::invalid_argument("a choice needs one weight per value");
    }
    const std::vector<double> uniform(values.size(), 1.0);
    p_.aliases.push_back(build_alias_table(weights.empty() ? std::span<const double>(uniform) : weights));
    TextTable table{static_cast<std::uint32_t>(p_.text_entries.size()), static_cast<std::uint32_t>(values.size()), 0};
    for (const std::string_view v : values) {
        const std::string escaped = escape_text(v, TextContext::json_string);
        p_.text_entries.push_back({static_cast<std::uint32_t>(p_.pool.size()), static_cast<std::uint32_t>(escaped.size())});
        p_.pool += escaped;
        table.bytes_max = std::max(table.bytes_max, static_cast<std::uint32_t>(escaped.size()));
    }
    p_.text_tables.push_back(table);
    // Alias table i and text table i belong to the same choice.
    const auto index = static_cast<std::uint16_t>(p_.aliases.size() - 1);
    return add_gen(GenKind::choice, index, 1, 1);
}

Column ProgramBuilder::buckets(std::span<const IntBucket> list) {
    if (list.empty()) throw std::invalid_argument("an integer range needs at least one bucket");
    BucketTable t;
    std::vector<double> weights;
    for (const IntBucket& b : list) {
        if (b.hi < b.lo) throw std::invalid_argument("integer range has min > max");
        if (b.hi - b.lo > std::numeric_limits<std::uint32_t>::max()) {
            throw std::invalid_argument("integer range spans more than 2^32 values");
        }
        t.lo.push_back(b.lo);
        t.span.push_back((b.hi - b.lo + 1) & 0xFFFF'FFFFull);
        t.value_max = std::max(t.value_max, b.hi);
        weights.push_back(b.weight);
    }
    t.pick = build_alias_table(weights);
    p_.buckets.push_back(std::move(t));
    return add_gen(GenKind::buckets, static_cast<std::uint16_t>(p_.buckets.size() - 1), 1, 2);
}

Column ProgramBuilder::uuid4() { return add_gen(GenKind::uuid4, 0, 2, 2); }

Column ProgramBuilder::event_time() {
    if (has_time_) throw std::logic_error("a source has one event time column");
    has_time_ = true;
    return add_gen(GenKind::event_time, 0, 1, 1);
}

void ProgramBuilder::raw(std::string_view bytes) { pending_literal_ += bytes; }

void ProgramBuilder::text(std::string_view t) { pending_literal_ += escape_text(t, TextContext::json_string); }

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
    p_.event_bytes_max += pending_literal_.size() + value_bytes_max;
    pending_literal_.clear();
    p_.puts.push_back(op);
}

void ProgramBuilder::put_text(Column column) {
    expect(column, GenKind::choice, "text");
    add_put(PutKind::text, column, p_.text_tables[column.table].bytes_max, column.table);
}

void ProgramBuilder::put_uint(Column column) {
    expect(column, GenKind::buckets, "uint");
    add_put(PutKind::uint_decimal, column, decimal_digits(p_.buckets[column.table].value_max));
}

void ProgramBuilder::put_fixed(Column column, std::uint8_t scale) {
    expect(column, GenKind::buckets, "fixed");
    if (scale < 1 || scale > 9) throw std::invalid_argument("decimal places must be 1..9");
    const std::uint64_t whole_max = p_.buckets[column.table].value_max / detail::powers_of_10[scale];
    add_put(PutKind::fixed_decimal, column, decimal_digits(whole_max) + 1 + scale, 0, scale);
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

void ProgramBuilder::put_time(Column column, std::string_view format, TextContext context) {
    expect(column, GenKind::event_time, "time");
    p_.time_formats.push_back(TimeFormat::compile(format, context));
    add_put(PutKind::time, column, p_.time_formats.back().bytes_max(),
            static_cast<std::uint16_t>(p_.time_formats.size() - 1));
}

std::shared_ptr<const Program> ProgramBuilder::finish() {
    if (!has_time_) throw std::logic_error("source " + p_.name + " has no event time column");
    if (pending_literal_.empty() || pending_literal_.back() != '\n') {
        throw std::logic_error("source " + p_.name + " must end each event with a newline");
    }
    add_put(PutKind::literal_only, Column{}, 0);
    p_.event_bytes_max += spill_bytes_max;
    p_.pool.append(spill_bytes_max, '\0');
    return std::make_shared<const Program>(std::move(p_));
}

}  // namespace supervent::core
