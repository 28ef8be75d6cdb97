// Checks a SourceSpec and compiles it into a Program.
#include <algorithm>
#include <array>
#include <cassert>
#include <cctype>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>

#include "core/entity_pools.hpp"
#include "core/level_agreement.hpp"
#include "core/program_source.hpp"
#include "core/schema.hpp"
#include "core/trace_context.hpp"
#include "core/value_rows.hpp"

namespace supervent::core {
namespace {

constexpr std::size_t field_name_bytes_max = 200;  // Axiom's limit on field names
constexpr std::uint64_t exact_values_max = 4096;   // integer ranges this small get per-value weights
constexpr std::uint32_t quantile_buckets = 256;    // otherwise: equal-probability buckets
constexpr std::uint64_t zipf_values_max = 65536;
constexpr double exact_integer_max = 9007199254740992.0;  // 2^53

std::string format_origin(const SchemaOrigin& o) {
    std::string s = o.file.empty() ? "<schema>" : o.file;
    if (o.line > 0) s += ":" + std::to_string(o.line);
    if (!o.key.empty()) s += ": " + o.key;
    return s;
}

[[noreturn]] void fail(const SchemaOrigin& origin, const std::string& reason) { throw SchemaError(origin, reason); }

// ---- numbers -----------------------------------------------------------

std::int64_t to_integer(double v, const SchemaOrigin& origin, std::string_view what) {
    if (!std::isfinite(v) || std::abs(v) > exact_integer_max || v != std::floor(v)) {
        fail(origin, std::string(what) + " must be a whole number within +-2^53");
    }
    return static_cast<std::int64_t>(v);
}

// [lo, hi] as buckets of at most 2^32 values each, weighted by size.
void add_uniform(std::vector<IntBucket>& out, std::int64_t lo, std::int64_t hi, double weight) {
    const std::uint64_t chunk = std::uint64_t{1} << 32;
    const double total = static_cast<double>(static_cast<std::uint64_t>(hi - lo)) + 1.0;
    for (std::int64_t a = lo;;) {
        const std::uint64_t left = static_cast<std::uint64_t>(hi - a);
        const std::int64_t b = left < chunk ? hi : a + static_cast<std::int64_t>(chunk - 1);
        const double size = static_cast<double>(static_cast<std::uint64_t>(b - a)) + 1.0;
        out.push_back({static_cast<std::uint64_t>(a), static_cast<std::uint64_t>(b), weight * size / total});
        if (b == hi) break;
        a = b + 1;
    }
}

using Cdf = std::function<double(double)>;

// Inverse of a non-decreasing cdf on [lo, hi] by bisection (compile time only).
double invert(const Cdf& cdf, double p, double lo, double hi) {
    for (int i = 0; i < 200 && hi - lo > 1e-9 * std::max(1.0, std::abs(lo)); ++i) {
        const double mid = lo + (hi - lo) / 2;
        (cdf(mid) < p ? lo : hi) = mid;
    }
    return lo + (hi - lo) / 2;
}

// Probabilities at which buckets_from_cdf cuts: quantile_buckets equal steps,
// with each end step halved again and again so long tails (a truncated
// exponential reaching far past its mean) are not flattened into one wide
// uniform bucket.
std::vector<double> cut_probabilities() {
    std::vector<double> cuts;
    constexpr int tail_halvings = 40;
    const double step = 1.0 / quantile_buckets;
    for (int j = tail_halvings; j >= 1; --j) cuts.push_back(step * std::ldexp(1.0, -j));
    for (std::uint32_t k = 1; k < quantile_buckets; ++k) cuts.push_back(step * k);
    for (int j = 1; j <= tail_halvings; ++j) cuts.push_back(1.0 - step * std::ldexp(1.0, -j));
    return cuts;
}

// Integers in [lo, hi] distributed by `cdf`: exact per-value weights for small
// ranges, else buckets cut at cut_probabilities(), uniform inside, each
// weighted by its exact probability.
std::vector<IntBucket> buckets_from_cdf(const Cdf& cdf, std::int64_t lo, std::int64_t hi) {
    std::vector<IntBucket> out;
    const auto count = static_cast<std::uint64_t>(hi - lo) + 1;
    const double a = cdf(static_cast<double>(lo) - 0.5);
    const double b = cdf(static_cast<double>(hi) + 0.5);
    if (count <= exact_values_max) {
        for (std::int64_t v = lo; v <= hi; ++v) {
            const double w = cdf(static_cast<double>(v) + 0.5) - cdf(static_cast<double>(v) - 0.5);
            if (w > 0) out.push_back({static_cast<std::uint64_t>(v), static_cast<std::uint64_t>(v), w});
        }
        return out;
    }
    std::vector<std::int64_t> edges;
    for (const double p : cut_probabilities()) {
        const double x = invert(cdf, a + (b - a) * p, static_cast<double>(lo) - 0.5, static_cast<double>(hi) + 0.5);
        edges.push_back(std::clamp(static_cast<std::int64_t>(std::llround(x)), lo, hi + 1));
    }
    edges.push_back(hi + 1);
    std::int64_t next_lo = lo;
    for (const std::int64_t edge : edges) {
        if (edge <= next_lo) continue;  // an empty bucket: its share goes to the next one
        const double share = cdf(static_cast<double>(edge) - 0.5) - cdf(static_cast<double>(next_lo) - 0.5);
        if (share > 0) add_uniform(out, next_lo, edge - 1, share);
        next_lo = edge;
    }
    return out;
}

double normal_cdf(double x, double mean, double stddev) { return 0.5 * std::erfc(-(x - mean) / (stddev * std::sqrt(2.0))); }

// The integer domain of a numeric field: floats are scaled by 10^precision.
struct NumericDomain {
    double scale = 1;
    std::int64_t lo = 0;
    std::int64_t hi = 0;
};

std::int64_t scaled(double v, double scale, const SchemaOrigin& origin, std::string_view what) {
    return to_integer(std::round(v * scale), origin, what);
}

std::vector<IntBucket> numeric_buckets(const FieldSpec& f, const NumericDomain& d) {
    const SchemaOrigin& o = f.origin;
    std::vector<IntBucket> out;
    switch (f.distribution) {
        case Distribution::uniform:
            add_uniform(out, d.lo, d.hi, 1.0);
            return out;
        case Distribution::normal: {
            if (!(f.stddev > 0) || !std::isfinite(f.stddev)) fail(o, "a normal distribution needs stddev > 0");
            const double mean = f.mean * d.scale;
            const double sd = f.stddev * d.scale;
            return buckets_from_cdf([=](double x) { return normal_cdf(x, mean, sd); }, d.lo, d.hi);
        }
        case Distribution::exponential: {
            if (!(f.mean > f.min)) fail(o, "an exponential distribution needs mean > min");
            const double origin_x = static_cast<double>(d.lo) - 0.5;
            const double scale_x = (f.mean - f.min) * d.scale;
            return buckets_from_cdf([=](double x) { return x <= origin_x ? 0.0 : -std::expm1(-(x - origin_x) / scale_x); },
                                    d.lo, d.hi);
        }
        case Distribution::zipf: {
            if (f.kind != FieldKind::integer) fail(o, "zipf is for integer fields");
            if (!(f.exponent > 0)) fail(o, "zipf needs exponent > 0");
            if (static_cast<std::uint64_t>(d.hi - d.lo) >= zipf_values_max) fail(o, "zipf ranges hold at most 65536 values");
            for (std::int64_t v = d.lo; v <= d.hi; ++v) {
                const double w = 1.0 / std::pow(static_cast<double>(v - d.lo + 1), f.exponent);
                out.push_back({static_cast<std::uint64_t>(v), static_cast<std::uint64_t>(v), w});
            }
            return out;
        }
        case Distribution::histogram:
            if (f.ranges.empty()) fail(o, "a histogram needs at least one range");
            for (const WeightedRange& r : f.ranges) {
                const std::int64_t lo = scaled(r.min, d.scale, o, "range min");
                const std::int64_t hi = scaled(r.max, d.scale, o, "range max");
                if (lo > hi) fail(o, "a histogram range has min > max");
                if (!(r.weight >= 0) || !std::isfinite(r.weight)) fail(o, "histogram weights must be >= 0");
                if (r.weight > 0) {
                    // Each range keeps its weight whatever its size.
                    std::vector<IntBucket> part;
                    add_uniform(part, lo, hi, r.weight);
                    out.insert(out.end(), part.begin(), part.end());
                }
            }
            if (out.empty()) fail(o, "histogram weights must not all be zero");
            return out;
    }
    return out;
}

NumericDomain numeric_domain(const FieldSpec& f) {
    NumericDomain d;
    if (f.kind == FieldKind::floating) {
        if (f.precision < 1 || f.precision > 9) fail(f.origin, "precision must be 1..9");
        d.scale = std::pow(10.0, f.precision);
    }
    if (f.distribution == Distribution::histogram) {
        d.lo = std::numeric_limits<std::int64_t>::max();
        d.hi = std::numeric_limits<std::int64_t>::min();
        for (const WeightedRange& r : f.ranges) {
            d.lo = std::min(d.lo, scaled(r.min, d.scale, f.origin, "range min"));
            d.hi = std::max(d.hi, scaled(r.max, d.scale, f.origin, "range max"));
        }
        return d;
    }
    d.lo = scaled(f.min, d.scale, f.origin, "min");
    d.hi = scaled(f.max, d.scale, f.origin, "max");
    if (f.kind == FieldKind::integer && (f.min != std::floor(f.min) || f.max != std::floor(f.max))) {
        fail(f.origin, "integer min and max must be whole numbers");
    }
    if (d.lo > d.hi) fail(f.origin, "min > max");
    return d;
}

// ---- addresses -----------------------------------------------------------

struct Cidr {
    std::uint32_t base = 0;
    std::uint32_t prefix_bits = 0;
};

std::optional<Cidr> parse_cidr(std::string_view s) {
    Cidr c;
    std::uint32_t octet = 0, digits = 0, octets = 0;
    std::size_t i = 0;
    for (; i < s.size() && s[i] != '/'; ++i) {
        if (s[i] == '.') {
            if (digits == 0 || octets == 3) return std::nullopt;
            c.base = c.base << 8 | octet;
            ++octets;
            octet = digits = 0;
        } else if (s[i] >= '0' && s[i] <= '9' && digits < 3) {
            octet = octet * 10 + static_cast<std::uint32_t>(s[i] - '0');
            ++digits;
            if (octet > 255) return std::nullopt;
        } else {
            return std::nullopt;
        }
    }
    if (digits == 0 || octets != 3 || i + 1 >= s.size()) return std::nullopt;
    c.base = c.base << 8 | octet;
    std::uint32_t bits = 0;
    for (std::size_t k = i + 1; k < s.size(); ++k) {
        if (s[k] < '0' || s[k] > '9' || k - i > 2) return std::nullopt;
        bits = bits * 10 + static_cast<std::uint32_t>(s[k] - '0');
    }
    if (bits > 32) return std::nullopt;
    c.prefix_bits = bits;
    const std::uint32_t host_mask = bits == 0 ? 0xFFFF'FFFFu : (bits == 32 ? 0u : 0xFFFF'FFFFu >> bits);
    if ((c.base & host_mask) != 0) return std::nullopt;  // host bits set: almost surely a typo
    return c;
}

IntBucket cidr_bucket(const Cidr& c, double weight) {
    const std::uint64_t size = std::uint64_t{1} << (32 - c.prefix_bits);
    return {c.base, c.base + size - 1, weight};
}

// RFC 1918, weighted roughly by how often each shows up in access logs.
const std::vector<std::pair<std::string_view, double>> private_ranges = {
    {"10.0.0.0/8", 60}, {"172.16.0.0/12", 20}, {"192.168.0.0/16", 20}};
// A spread of large publicly routed blocks (cloud providers, ISPs).
const std::vector<std::pair<std::string_view, double>> public_ranges = {
    {"3.0.0.0/8", 1},  {"13.0.0.0/8", 1}, {"18.0.0.0/8", 1},   {"20.0.0.0/8", 1},   {"23.0.0.0/8", 1},
    {"34.0.0.0/8", 1}, {"35.0.0.0/8", 1}, {"44.0.0.0/8", 1},   {"52.0.0.0/8", 1},   {"54.0.0.0/8", 1},
    {"81.0.0.0/8", 1}, {"86.0.0.0/8", 1}, {"104.0.0.0/8", 1},  {"151.0.0.0/8", 1},  {"185.0.0.0/8", 1},
    {"203.0.113.0/24", 0}};

std::vector<IntBucket> ipv4_buckets(const FieldSpec& f) {
    if (f.cidrs.empty()) fail(f.origin, "an ipv4 field needs cidrs (or \"private\" / \"public\")");
    if (!f.cidr_weights.empty() && f.cidr_weights.size() != f.cidrs.size()) {
        fail(f.origin, "cidr_weights needs one weight per cidr");
    }
    std::vector<IntBucket> out;
    for (std::size_t i = 0; i < f.cidrs.size(); ++i) {
        const double weight = f.cidr_weights.empty() ? 1.0 : f.cidr_weights[i];
        const std::string& entry = f.cidrs[i];
        const auto* keyword = entry == "private" ? &private_ranges : entry == "public" ? &public_ranges : nullptr;
        if (keyword != nullptr) {
            double total = 0;
            for (const auto& r : *keyword) total += r.second;
            for (const auto& r : *keyword) {
                if (r.second > 0) out.push_back(cidr_bucket(*parse_cidr(r.first), weight * r.second / total));
            }
            continue;
        }
        const auto cidr = parse_cidr(entry);
        if (!cidr) fail(f.origin, "\"" + entry + "\" is not an IPv4 CIDR like 10.0.0.0/8");
        out.push_back(cidr_bucket(*cidr, weight));
    }
    return out;
}

// The high 64 bits of an IPv6 prefix such as "2001:db8::/32", or nullopt.
struct Ipv6Cidr {
    std::uint64_t base_hi = 0;
    std::uint32_t prefix_bits = 0;
};

std::optional<std::vector<std::uint32_t>> parse_ipv6_groups(std::string_view s) {
    std::vector<std::uint32_t> groups;
    std::uint32_t value = 0, digits = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == ':') {
            if (digits == 0) return std::nullopt;
            groups.push_back(value);
            value = digits = 0;
        } else if (std::isxdigit(static_cast<unsigned char>(s[i])) && digits < 4) {
            const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
            value = value * 16 + static_cast<std::uint32_t>(c <= '9' ? c - '0' : c - 'a' + 10);
            ++digits;
        } else {
            return std::nullopt;
        }
    }
    return groups;
}

std::optional<Ipv6Cidr> parse_ipv6_cidr(std::string_view s) {
    const std::size_t slash = s.find('/');
    if (slash == std::string_view::npos || slash + 1 >= s.size() || s.size() - slash > 3) return std::nullopt;
    std::uint32_t bits = 0;
    for (const char c : s.substr(slash + 1)) {
        if (c < '0' || c > '9') return std::nullopt;
        bits = bits * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (bits > 64) return std::nullopt;
    const std::string_view address = s.substr(0, slash);
    const std::size_t gap = address.find("::");
    std::vector<std::uint32_t> groups;
    if (gap == std::string_view::npos) {
        const auto all = parse_ipv6_groups(address);
        if (!all || all->size() != 8) return std::nullopt;
        groups = *all;
    } else {
        const std::string_view left = address.substr(0, gap);
        const std::string_view right = address.substr(gap + 2);
        const auto l = left.empty() ? std::optional<std::vector<std::uint32_t>>(std::vector<std::uint32_t>{}) : parse_ipv6_groups(left);
        const auto r = right.empty() ? std::optional<std::vector<std::uint32_t>>(std::vector<std::uint32_t>{}) : parse_ipv6_groups(right);
        if (!l || !r || l->size() + r->size() > 7) return std::nullopt;
        groups = *l;
        groups.resize(8 - r->size(), 0);
        groups.insert(groups.end(), r->begin(), r->end());
    }
    Ipv6Cidr c;
    for (int g = 0; g < 4; ++g) c.base_hi = c.base_hi << 16 | groups[static_cast<std::size_t>(g)];
    for (int g = 4; g < 8; ++g) {
        if (groups[static_cast<std::size_t>(g)] != 0) return std::nullopt;  // only /64 or shorter prefixes
    }
    const std::uint64_t host = bits == 0 ? ~std::uint64_t{0} : bits == 64 ? 0 : (std::uint64_t{1} << (64 - bits)) - 1;
    if ((c.base_hi & host) != 0) return std::nullopt;
    c.prefix_bits = bits;
    return c;
}

std::vector<ProgramBuilder::Ipv6Prefix> ipv6_prefixes(const FieldSpec& f) {
    if (f.cidrs.empty()) fail(f.origin, "an ipv6 field needs cidrs (or \"ula\", \"documentation\", \"global\")");
    if (!f.cidr_weights.empty() && f.cidr_weights.size() != f.cidrs.size()) {
        fail(f.origin, "cidr_weights needs one weight per cidr");
    }
    std::vector<ProgramBuilder::Ipv6Prefix> out;
    for (std::size_t i = 0; i < f.cidrs.size(); ++i) {
        const std::string& entry = f.cidrs[i];
        const std::string_view text = entry == "ula" ? "fd00::/8" : entry == "documentation" ? "2001:db8::/32"
                                      : entry == "global" ? "2000::/3" : std::string_view(entry);
        const auto cidr = parse_ipv6_cidr(text);
        if (!cidr) fail(f.origin, "\"" + entry + "\" is not an IPv6 prefix of at most /64 like 2001:db8::/32");
        out.push_back({cidr->base_hi, cidr->prefix_bits, f.cidr_weights.empty() ? 1.0 : f.cidr_weights[i]});
    }
    return out;
}

// ---- names -----------------------------------------------------------------

void check_field_names(const SourceSpec& spec) {
    std::set<std::string, std::less<>> names;
    for (const FieldSpec& f : spec.fields) {
        const std::string& n = f.name;
        if (n.empty()) fail(f.origin, "a field needs a name");
        if (n.size() > field_name_bytes_max) fail(f.origin, "field names are at most 200 bytes");
        if (n.front() == '_') fail(f.origin, "field names starting with '_' are reserved by Axiom");
        if (n.front() == '.' || n.back() == '.' || n.find("..") != std::string::npos) {
            fail(f.origin, "field name \"" + n + "\" has an empty part");
        }
        if (!names.insert(n).second) fail(f.origin, "duplicate field \"" + n + "\"");
    }
    for (const FieldSpec& f : spec.fields) {
        for (std::size_t dot = f.name.find('.'); dot != std::string::npos; dot = f.name.find('.', dot + 1)) {
            if (names.count(f.name.substr(0, dot)) != 0) {
                fail(f.origin, "field \"" + f.name + "\" nests inside field \"" + f.name.substr(0, dot) +
                                   "\", which is not an object");
            }
        }
    }
}

// ---- compiling fields ---------------------------------------------------------

// How one field is written, once its columns exist.
struct FieldPlan {
    const FieldSpec* spec = nullptr;
    Column column;
    std::string constant_text;  // constant: escaped text
    std::string constant_json;  // constant: JSON value
    bool row = false;           // a part of a row choice (value_rows.hpp): written from its column's tables
    std::uint8_t trace = 0;     // trace context: 1 + index in trace_field_names; 0: not a trace field
};

std::string typed_value(const SchemaValue& v, TextContext context) {
    if (v.type != SchemaValue::Type::string) return v.text;
    const std::string quote(value_quote(context));
    return quote + escape_text(v.text, context) + quote;
}

void check_value(const SchemaValue& v, const SchemaOrigin& origin) {
    using T = SchemaValue::Type;
    if (v.type == T::boolean && v.text != "true" && v.text != "false") fail(origin, "a boolean is true or false");
    if (v.type == T::integer || v.type == T::floating) {
        // The text goes into JSON verbatim, so it must be a JSON number.
        std::size_t i = 0;
        const std::string& t = v.text;
        if (i < t.size() && t[i] == '-') ++i;
        const std::size_t int_begin = i;
        while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
        bool ok = i > int_begin && !(t[int_begin] == '0' && i - int_begin > 1);
        if (ok && i < t.size() && t[i] == '.') {
            const std::size_t frac = ++i;
            while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
            ok = i > frac;
        }
        if (!ok || i != t.size()) fail(origin, "\"" + t + "\" is not a plain number");
    }
}

bool is_epoch_format(std::string_view f) { return f == "epoch_s" || f == "epoch_ms" || f == "epoch_us" || f == "epoch_ns"; }

std::uint8_t epoch_decimals(std::string_view f) {
    return f == "epoch_s" ? 0 : f == "epoch_ms" ? 3 : f == "epoch_us" ? 6 : 9;
}

// Named formats; a zoned builder ends RFC 3339 forms with the offset, else "Z".
std::string strftime_format(std::string_view f, bool zoned) {
    const std::string zone = zoned ? "%:z" : "Z";
    if (f == "rfc3339" || f == "rfc3339_ns") return "%Y-%m-%dT%H:%M:%S.%N" + zone;
    if (f == "rfc3339_ms" || f == "iso8601") return "%Y-%m-%dT%H:%M:%S.%L" + zone;
    if (f == "rfc3339_us" || f == "rfc5424") return "%Y-%m-%dT%H:%M:%S.%f" + zone;
    if (f == "clf") return "%d/%b/%Y:%H:%M:%S %z";
    if (f == "syslog" || f == "rfc3164") return "%b %e %H:%M:%S";
    if (f.find('%') == std::string_view::npos && !f.empty()) {
        throw std::invalid_argument("time format \"" + std::string(f) +
                                    "\" is neither a named format (rfc3339, rfc3339_ms, rfc3339_us, rfc5424, clf, "
                                    "syslog, epoch_s, epoch_ms, epoch_us, epoch_ns) nor a strftime format with %");
    }
    return std::string(f);
}

FieldPlan compile_field(ProgramBuilder& b, const FieldSpec& f, Column time) {
    FieldPlan plan{&f, {}, {}, {}};
    switch (f.kind) {
        case FieldKind::choice: {
            if (f.values.empty()) fail(f.origin, "a choice needs at least one value");
            std::vector<ChoiceValue> values;
            for (const SchemaValue& v : f.values) {
                check_value(v, f.origin);
                values.push_back({v.text, v.type != SchemaValue::Type::string});
            }
            plan.column = b.choice(values, f.weights);
            break;
        }
        case FieldKind::integer:
        case FieldKind::floating:
            plan.column = b.buckets(numeric_buckets(f, numeric_domain(f)), true);
            break;
        case FieldKind::ipv4:
            plan.column = b.buckets(ipv4_buckets(f));
            break;
        case FieldKind::uuid4:
            plan.column = b.uuid4();
            break;
        case FieldKind::hex_id:
            if (f.length < 1 || f.length > 32) fail(f.origin, "a hex id has 1..32 digits");
            plan.column = b.random_words();
            break;
        case FieldKind::base62_id:
            if (f.length < 1 || f.length > 21) fail(f.origin, "a base-62 id has 1..21 digits");
            plan.column = b.random_words();
            break;
        case FieldKind::ipv6:
            plan.column = b.ipv6(ipv6_prefixes(f));
            break;
        case FieldKind::sequence:
            plan.column = b.sequence({f.start, f.step});
            break;
        case FieldKind::constant:
            if (f.values.size() != 1) fail(f.origin, "a constant needs exactly one value");
            check_value(f.values[0], f.origin);
            plan.constant_text = escape_text(f.values[0].text, b.context());
            plan.constant_json = typed_value(f.values[0], b.context());
            break;
        case FieldKind::timestamp:
            if (!is_epoch_format(f.format)) (void)TimeFormat::compile(strftime_format(f.format, b.zoned()), b.context());
            plan.column = time;
            break;
        case FieldKind::name:
        case FieldKind::email:
        case FieldKind::person:
        case FieldKind::geo:
            throw std::logic_error("person and geo fields are compiled as rows");
    }
    return plan;
}

// Trace context fields, from the engine's input columns: trace id (2
// columns), then span, parent span and duration (one each).
void put_trace_text(ProgramBuilder& b, Column c, std::string_view name) {
    if (name == trace_id_field) return b.put_input(c, PutKind::hex, 32, 32);
    if (name == span_id_field || name == parent_span_id_field) return b.put_input(c, PutKind::span_hex, 0, 16);
    if (name == duration_ms_field) return b.put_input(c, PutKind::fixed_decimal, 6, 22);  // ns as ms.nnnnnn
    assert(name == traceparent_field && c.table == trace_slot::trace_hi);
    b.raw("00-");
    b.put_input(c, PutKind::hex, 32, 32);
    b.raw("-");
    b.put_input(Column{GenKind::input, static_cast<std::uint16_t>(c.index + 2), trace_slot::span}, PutKind::span_hex, 0, 16);
    b.raw("-01");  // sampled
}

// Writes the field's value as text inside a JSON string (the message).
void put_text(ProgramBuilder& b, const FieldPlan& p, std::string_view time_format = {}) {
    const FieldSpec& f = *p.spec;
    if (p.trace != 0) return put_trace_text(b, p.column, trace_field_names[p.trace - 1]);
    if (p.row) return b.put_text(p.column);
    switch (f.kind) {
        case FieldKind::choice: return b.put_text(p.column);
        case FieldKind::integer: return b.put_int(p.column);
        case FieldKind::floating: return b.put_fixed(p.column, static_cast<std::uint8_t>(f.precision));
        case FieldKind::ipv4: return b.put_ipv4(p.column);
        case FieldKind::uuid4: return b.put_uuid(p.column);
        case FieldKind::hex_id: return b.put_hex(p.column, static_cast<std::uint8_t>(f.length));
        case FieldKind::base62_id: return b.put_base62(p.column, static_cast<std::uint8_t>(f.length));
        case FieldKind::ipv6: return b.put_ipv6(p.column);
        case FieldKind::name:
        case FieldKind::email:
        case FieldKind::person:
        case FieldKind::geo: return b.put_text(p.column);
        case FieldKind::sequence: return b.put_int(p.column);
        case FieldKind::constant: return b.raw(p.constant_text);
        case FieldKind::timestamp: {
            const std::string_view format = time_format.empty() ? std::string_view(f.format) : time_format;
            if (is_epoch_format(format)) return b.put_epoch(p.column, epoch_decimals(format));
            return b.put_time(p.column, strftime_format(format, b.zoned()));
        }
    }
}

// Writes the field as a typed value (attributes, CSV columns): strings quoted.
void put_typed(ProgramBuilder& b, const FieldPlan& p) {
    const FieldSpec& f = *p.spec;
    if (p.row) return b.put_typed(p.column);
    switch (f.kind) {
        case FieldKind::choice: return b.put_typed(p.column);
        case FieldKind::integer:
        case FieldKind::floating:
        case FieldKind::sequence: return put_text(b, p);
        case FieldKind::constant: return b.raw(p.constant_json);
        case FieldKind::timestamp:
            if (is_epoch_format(f.format)) return put_text(b, p);
            break;
        default: break;
    }
    b.raw(value_quote(b.context()));
    put_text(b, p);
    b.raw(value_quote(b.context()));
}

// ---- templates -------------------------------------------------------------------

struct Placeholder {
    std::string_view name;
    std::string_view format;
    std::size_t bytes = 0;  // of the whole placeholder in the template
};

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; }

// A placeholder at template[at] ('{'), or nullopt if the brace is literal text.
std::optional<Placeholder> placeholder_at(std::string_view t, std::size_t at) {
    const bool doubled = t.substr(at, 2) == "{{";
    std::size_t i = at + (doubled ? 2 : 1);
    const std::size_t name_begin = i;
    if (i >= t.size() || !(std::isalpha(static_cast<unsigned char>(t[i])) || t[i] == '_')) return std::nullopt;
    while (i < t.size() && is_name_char(t[i])) ++i;
    Placeholder p;
    p.name = t.substr(name_begin, i - name_begin);
    if (i < t.size() && t[i] == ':') {
        const std::size_t close = t.find('}', i);
        if (close == std::string_view::npos) return std::nullopt;
        p.format = t.substr(i + 1, close - i - 1);
        i = close;
    }
    const std::string_view closing = doubled ? "}}" : "}";
    if (t.substr(i, closing.size()) != closing) return std::nullopt;
    p.bytes = i + closing.size() - at;
    return p;
}

using FieldIndex = std::map<std::string, const FieldPlan*, std::less<>>;

// The names a template's placeholders use.
std::set<std::string, std::less<>> placeholder_names(std::string_view t) {
    std::set<std::string, std::less<>> names;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] != '{') continue;
        if (const auto p = placeholder_at(t, i)) {
            names.emplace(p->name);
            i += p->bytes - 1;
        }
    }
    return names;
}

// The format a {timestamp} without one takes where it stands in `t` (its
// placeholder at `at`, `bytes` long): Apache's in an access log line
// ("[{timestamp}]" in a template with a quoted request line), RFC 3164's
// at the head of a syslog line ("{timestamp} {host…"), else RFC 3339 with
// milliseconds and the zone's offset (application logs, JSON).
std::string_view natural_time_format(std::string_view t, std::size_t at, std::size_t bytes) {
    const bool bracketed = at > 0 && t[at - 1] == '[' && t.substr(at + bytes, 1) == "]";
    const bool request_line = t.find("\"{method}") != std::string_view::npos || t.find("\"{{method}}") != std::string_view::npos;
    if (bracketed && request_line) return "clf";
    const std::string_view rest = t.substr(at + bytes);
    if (at == 0 && (rest.starts_with(" {host") || rest.starts_with(" {{host"))) return "syslog";
    return "rfc3339_ms";
}

void put_template(ProgramBuilder& b, const EventTypeSpec& type, const FieldIndex& fields) {
    const std::string_view t = type.message;
    std::size_t literal_begin = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] != '{') continue;
        const auto p = placeholder_at(t, i);
        if (!p) continue;
        const auto field = fields.find(p->name);
        if (field == fields.end()) {
            fail(type.origin, "message template of event type \"" + type.name + "\": unknown placeholder {" +
                                  std::string(p->name) + "}");
        }
        if (!p->format.empty() && field->second->spec->kind != FieldKind::timestamp) {
            fail(type.origin, "message template of event type \"" + type.name + "\": {" + std::string(p->name) +
                                  "} is not a timestamp, so it takes no format");
        }
        b.text(t.substr(literal_begin, i - literal_begin));
        const FieldSpec& spec = *field->second->spec;
        const bool natural = p->format.empty() && spec.kind == FieldKind::timestamp && spec.format.empty();
        try {
            put_text(b, *field->second, natural ? natural_time_format(t, i, p->bytes) : p->format);
        } catch (const std::invalid_argument& e) {
            fail(type.origin, "message template of event type \"" + type.name + "\": " + e.what());
        }
        i += p->bytes - 1;
        literal_begin = i + 1;
    }
    b.text(t.substr(std::min(literal_begin, t.size())));
}

// ---- attributes ----------------------------------------------------------------------

// Fields as nested JSON members: dotted names grouped into objects, in the
// order each name (or its first part) first appears.
struct AttributeNode {
    std::string key;
    const FieldPlan* field = nullptr;
    std::vector<AttributeNode> children;
};

void insert_attribute(AttributeNode& root, const FieldPlan& plan) {
    AttributeNode* node = &root;
    std::string_view rest = plan.spec->name;
    while (true) {
        const std::size_t dot = rest.find('.');
        const std::string_view key = rest.substr(0, dot);
        auto it = std::find_if(node->children.begin(), node->children.end(), [&](const AttributeNode& c) { return c.key == key; });
        if (it == node->children.end()) {
            node->children.push_back(AttributeNode{std::string(key), nullptr, {}});
            it = node->children.end() - 1;
        }
        node = &*it;
        if (dot == std::string_view::npos) break;
        rest.remove_prefix(dot + 1);
    }
    node->field = &plan;
}

void put_members(ProgramBuilder& b, const AttributeNode& node, bool first) {
    for (const AttributeNode& child : node.children) {
        b.raw(first ? "\"" : ",\"");
        first = false;
        b.raw(escape_text(child.key, TextContext::json_string));
        b.raw("\":");
        if (child.field != nullptr) {
            put_typed(b, *child.field);
        } else {
            b.raw("{");
            put_members(b, child, true);
            b.raw("}");
        }
    }
}

// ---- the whole source -------------------------------------------------------------------

std::string_view source_text(const SourceSpec& spec) { return spec.description.empty() ? spec.name : spec.description; }

// The attributes an event type carries: the fields its template names, and
// either its own list or the fields no template of the source names; the
// request id always.
AttributeNode attributes_of(const SourceSpec& spec, const EventTypeSpec& type, const std::vector<FieldPlan>& plans) {
    std::set<std::string, std::less<>> in_some_template;
    for (const EventTypeSpec& t : spec.event_types) in_some_template.merge(placeholder_names(t.message));
    const auto own = placeholder_names(type.message);
    AttributeNode node;
    for (const FieldPlan& p : plans) {
        const std::string& name = p.spec->name;
        // A field named like the message itself ("message", "msg") that this
        // type's template does not show would tell another story beside it.
        const std::string_view leaf = std::string_view(name).substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
        const bool tells_a_message = leaf == "message" || leaf == "msg";
        const bool listed = type.attributes.empty()
                                ? in_some_template.count(name) == 0 && !tells_a_message
                                : std::find(type.attributes.begin(), type.attributes.end(), name) != type.attributes.end();
        if (own.count(name) != 0 || listed || name == builtin_request_id_field || p.trace != 0) insert_attribute(node, p);
    }
    return node;
}

void put_ndjson_event(ProgramBuilder& b, const SourceSpec& spec, const EventTypeSpec& type, Column time,
                      const FieldIndex& by_name, const AttributeNode& attributes) {
    b.raw(R"({"_time":")");
    b.put_time(time, "%Y-%m-%dT%H:%M:%S.%NZ");
    b.raw(R"(","source":")");
    b.text(source_text(spec));
    b.raw(R"(","event_type":")");
    b.text(type.name);
    b.raw(R"(","message":")");
    put_template(b, type, by_name);
    if (spec.layout == AttributeLayout::nested) {
        b.raw(R"(","attributes":{)");
        put_members(b, attributes, true);
        b.raw("}}\n");
    } else {
        b.raw("\"");
        put_members(b, attributes, false);
        b.raw("}\n");
    }
    b.end_shape();
}

// CSV: _time, source, event_type, message, then every field by its full name.
std::string csv_header(const std::vector<FieldPlan>& plans) {
    std::string header = "_time,source,event_type,message";
    for (const FieldPlan& p : plans) {
        const std::string& name = p.spec->name;
        const bool quote = name.find_first_of(",\"\r\n") != std::string::npos;
        header += ",";
        header += quote ? "\"" + escape_text(name, TextContext::csv_quoted) + "\"" : name;
    }
    return header + "\n";
}

void put_csv_event(ProgramBuilder& b, const SourceSpec& spec, const EventTypeSpec& type, Column time,
                   const FieldIndex& by_name, const std::vector<FieldPlan>& plans) {
    b.put_time(time, "%Y-%m-%dT%H:%M:%S.%NZ");
    b.raw(",\"");
    b.text(source_text(spec));
    b.raw("\",\"");
    b.text(type.name);
    b.raw("\",\"");
    put_template(b, type, by_name);
    b.raw("\"");
    for (const FieldPlan& p : plans) {
        b.raw(",");
        put_typed(b, p);
    }
    b.raw("\n");
    b.end_shape();
}

void put_text_event(ProgramBuilder& b, const EventTypeSpec& type, const FieldIndex& by_name) {
    put_template(b, type, by_name);
    b.raw("\n");
    b.end_shape();
}

TextContext context_of(OutputFormat format) {
    switch (format) {
        case OutputFormat::ndjson: return TextContext::json_string;
        case OutputFormat::csv: return TextContext::csv_quoted;
        case OutputFormat::text: return TextContext::raw;
    }
    return TextContext::json_string;
}

void check_event_types(const SourceSpec& spec) {
    if (spec.event_types.empty()) fail(spec.origin, "source \"" + spec.name + "\" needs at least one event type");
    std::set<std::string, std::less<>> names;
    for (const EventTypeSpec& t : spec.event_types) {
        if (t.name.empty()) fail(t.origin, "an event type needs a name");
        if (!names.insert(t.name).second) fail(t.origin, "duplicate event type \"" + t.name + "\"");
        if (!(t.weight >= 0) || !std::isfinite(t.weight)) fail(t.origin, "event type weights must be >= 0");
    }
}

// The columns of each row group, made when its first field comes up so
// draws stay in field order.
struct RowColumns {
    std::vector<RowGroup> groups;
    std::vector<std::vector<Column>> columns;           // per group, once made
    std::map<std::size_t, std::pair<std::size_t, std::size_t>> part_of;  // field -> (group, part)

    explicit RowColumns(const SourceSpec& spec) : groups(find_row_groups(spec)), columns(groups.size()) {
        for (std::size_t g = 0; g < groups.size(); ++g) {
            for (std::size_t k = 0; k < groups[g].fields.size(); ++k) part_of[groups[g].fields[k]] = {g, k};
        }
    }

    std::optional<Column> column_of(ProgramBuilder& b, std::size_t field) {
        const auto found = part_of.find(field);
        if (found == part_of.end()) return std::nullopt;
        const auto [g, k] = found->second;
        if (columns[g].empty()) {
            std::vector<std::vector<ChoiceValue>> parts;
            for (const auto& part : groups[g].parts) {
                parts.emplace_back();
                for (const RowValue& v : part) parts.back().push_back({v.text, v.json_bare});
            }
            columns[g] = b.choice_rows(parts, groups[g].weights);
        }
        return columns[g][k];
    }
};

std::vector<FieldPlan> compile_fields(ProgramBuilder& b, const SourceSpec& spec, Column time) {
    std::vector<FieldPlan> plans;
    plans.reserve(spec.fields.size() + 1 + trace_field_names.size());  // + request_id + trace context: by_name points in
    RowColumns rows(spec);
    std::vector<int> row_of(spec.fields.size(), -1);
    for (const auto& [field, where] : rows.part_of) row_of[field] = static_cast<int>(where.first);
    EntityPools pools(spec, row_of);
    for (std::size_t i = 0; i < spec.fields.size(); ++i) {
        const FieldSpec& f = spec.fields[i];
        try {
            if (const auto column = rows.column_of(b, i)) {
                plans.push_back(FieldPlan{&f, *column, {}, {}, true});
            } else {
                plans.push_back(compile_field(b, f, time));
            }
            pools.apply(b, i, plans.back().column);
        } catch (const SchemaError&) {
            throw;
        } catch (const std::invalid_argument& e) {
            fail(f.origin, e.what());
        }
    }
    for (std::size_t g = 0; g < rows.groups.size(); ++g) {
        const RowGroup& group = rows.groups[g];
        if (!group.zero_field) continue;
        if (group.body_rows.empty()) {
            b.zero_when(plans[*group.zero_field].column, rows.columns[g].front(), group.zero_rows);
            continue;
        }
        std::vector<std::uint64_t> scale, add;
        for (const BodySize& size : group.body_rows) {
            scale.push_back(size.scale_q16);
            add.push_back(size.add);
        }
        try {
            b.size_by_row(plans[*group.zero_field].column, rows.columns[g].front(), scale, add);
        } catch (const std::logic_error&) {
            // Values too large (or negative) to scale: no body stays 0, the rest as drawn.
            b.zero_when(plans[*group.zero_field].column, rows.columns[g].front(), group.zero_rows);
        }
    }
    return plans;
}

// Trace context: input columns the scenario engine fills, and a plan per field
// (after the request id, so attributes read request_id, trace_id, span_id, ...).
void add_trace_plans(ProgramBuilder& b, const SourceSpec& spec, std::vector<FieldPlan>& plans, FieldIndex& by_name) {
    static const std::array<FieldSpec, trace_field_names.size()> specs = [] {
        std::array<FieldSpec, trace_field_names.size()> out;
        for (std::size_t i = 0; i < out.size(); ++i) {
            out[i].name = std::string(trace_field_names[i]);
            out[i].kind = trace_field_names[i] == duration_ms_field ? FieldKind::floating : FieldKind::hex_id;
        }
        return out;
    }();
    for (const FieldSpec& f : spec.fields) {
        if (is_trace_field(f.name)) {
            fail(f.origin, "trace_context provides the field \"" + f.name + "\": rename or remove this one");
        }
    }
    const Column trace = b.input(trace_slot::trace_hi, 2);
    const Column columns[] = {trace, b.input(trace_slot::span, 1), b.input(trace_slot::parent_span, 1),
                              b.input(trace_slot::duration_ns, 1), trace};
    assert(columns[1].index == trace.index + 2);  // put_trace_text's traceparent finds the span there
    const std::size_t fields = spec.traceparent ? trace_field_names.size() : trace_field_names.size() - 1;
    for (std::size_t i = 0; i < fields; ++i) {
        plans.push_back(FieldPlan{&specs[i], columns[i], {}, {}, false, static_cast<std::uint8_t>(i + 1)});
        by_name.emplace(specs[i].name, &plans.back());
    }
}

// A field a dependent inherits: its draws come from the event's entity key.
void key_by_entity(ProgramBuilder& b, const SourceSpec& spec, const FieldIndex& by_name, const std::string& name) {
    const auto found = by_name.find(name);
    if (found == by_name.end()) fail(spec.origin, "source \"" + spec.name + "\" has no field \"" + name + "\" to inherit");
    try {
        b.key_by_entity(found->second->column, entity_salt(name));
    } catch (const std::invalid_argument& e) {
        fail(found->second->spec->origin, "field \"" + name + "\" cannot be inherited: " + e.what());
    }
}

// A level drawn given the text beside it (core/level_agreement.hpp). Before
// any put, so fused (combine) puts read the redrawn level.
void agree_level(ProgramBuilder& b, const SourceSpec& spec, const std::vector<FieldPlan>& plans,
                 const std::optional<Column>& shape) {
    const std::optional<LevelAgreement> plan = plan_level_agreement(spec);
    if (!plan || plan->level_field >= plans.size() || plans[plan->level_field].column.kind != GenKind::choice) return;
    const FieldPlan& level = plans[plan->level_field];
    if (plan->given_event_type) {
        b.choice_given(level.column, shape ? &*shape : nullptr, plan->weights);
        return;
    }
    const FieldPlan& given = plans[plan->given_field];
    if (given.column.kind != GenKind::choice) return;
    try {
        b.choice_given(level.column, &given.column, plan->weights);
    } catch (const std::logic_error&) {
        // The given field's rows are not its values (an HTTP row): leave the level as drawn.
    }
}

}  // namespace

SchemaError::SchemaError(const SchemaOrigin& origin, const std::string& reason)
    : std::invalid_argument(format_origin(origin) + ": " + reason), origin_(origin) {}

std::shared_ptr<const Program> compile_source(const SourceSpec& spec, OutputFormat format,
                                              std::shared_ptr<const TimeZone> zone) {
    if (spec.name.empty()) fail(spec.origin, "a source needs a name");
    check_field_names(spec);
    check_event_types(spec);
    ProgramBuilder b(spec.name, context_of(format));
    b.time_zone(std::move(zone));
    const Column time = b.event_time();

    FieldSpec request_id{std::string(builtin_request_id_field), FieldKind::uuid4};
    FieldSpec timestamp{std::string(builtin_timestamp_field), FieldKind::timestamp};
    timestamp.format.clear();  // natural for the message it is in
    std::vector<FieldPlan> plans = compile_fields(b, spec, time);
    FieldIndex by_name;
    for (const FieldPlan& p : plans) by_name.emplace(p.spec->name, &p);
    if (by_name.count(builtin_request_id_field) == 0) {
        plans.push_back(compile_field(b, request_id, time));
        by_name.emplace(request_id.name, &plans.back());
    }
    if (const FieldPlan* id = by_name.find(builtin_request_id_field)->second; id->spec->kind == FieldKind::uuid4) {
        b.mark_request_id(id->column);
    }
    if (spec.trace_context) add_trace_plans(b, spec, plans, by_name);
    for (const std::string& name : spec.entity_fields) key_by_entity(b, spec, by_name, name);
    // The built-in timestamp is the event time: usable in templates, not an attribute.
    const FieldPlan timestamp_plan{&timestamp, time, {}, {}};
    by_name.emplace(timestamp.name, &timestamp_plan);

    std::optional<Column> shape;
    if (spec.event_types.size() > 1) {
        std::vector<std::string_view> names;
        std::vector<double> weights;
        // Only root types start events of their own; a scenario engine picks
        // the others (dependency actions) explicitly.
        bool any_root = false;
        for (const EventTypeSpec& t : spec.event_types) any_root |= t.root && t.weight > 0;
        for (const EventTypeSpec& t : spec.event_types) {
            names.push_back(t.name);
            weights.push_back(!any_root || t.root ? t.weight : 0.0);
        }
        try {
            shape = b.choice(names, weights);
            b.pick_shape_by(*shape);
        } catch (const std::invalid_argument& e) {
            fail(spec.event_types.front().origin, std::string("event type weights: ") + e.what());
        }
    }
    agree_level(b, spec, plans, shape);
    for (const EventTypeSpec& t : spec.event_types) {
        switch (format) {
            case OutputFormat::ndjson: put_ndjson_event(b, spec, t, time, by_name, attributes_of(spec, t, plans)); break;
            case OutputFormat::csv: put_csv_event(b, spec, t, time, by_name, plans); break;
            case OutputFormat::text: put_text_event(b, t, by_name); break;
        }
    }
    if (format == OutputFormat::csv) {
        b.batch_header(csv_header(plans));
        b.content_type("text/csv");
    }
    if (format == OutputFormat::text) b.content_type("text/plain");
    return b.finish();
}

std::unique_ptr<EventSource> make_program_source(std::shared_ptr<const Program> program, const SourceIdentity& identity,
                                                 std::uint32_t batch_events_max) {
    return std::make_unique<ProgramSource>(std::move(program), identity, batch_events_max, select_kernels());
}

FieldKind parse_field_kind(std::string_view name, const SchemaOrigin& origin) {
    static const std::map<std::string_view, FieldKind, std::less<>> kinds = {
        {"choice", FieldKind::choice},       {"integer", FieldKind::integer},   {"int", FieldKind::integer},
        {"float", FieldKind::floating},      {"ipv4", FieldKind::ipv4},         {"ip", FieldKind::ipv4},
        {"uuid", FieldKind::uuid4},          {"uuid4", FieldKind::uuid4},       {"hex", FieldKind::hex_id},
        {"ipv6", FieldKind::ipv6},           {"base62", FieldKind::base62_id},  {"name", FieldKind::name},
        {"email", FieldKind::email},         {"person", FieldKind::person},     {"geo", FieldKind::geo},
        {"sequence", FieldKind::sequence},   {"constant", FieldKind::constant}, {"timestamp", FieldKind::timestamp},
    };
    const auto it = kinds.find(name);
    if (it == kinds.end()) fail(origin, "unknown generator \"" + std::string(name) + "\"");
    return it->second;
}

Distribution parse_distribution(std::string_view name, const SchemaOrigin& origin) {
    static const std::map<std::string_view, Distribution, std::less<>> kinds = {
        {"uniform", Distribution::uniform},         {"normal", Distribution::normal},
        {"gaussian", Distribution::normal},         {"exponential", Distribution::exponential},
        {"zipf", Distribution::zipf},               {"histogram", Distribution::histogram},
    };
    const auto it = kinds.find(name);
    if (it == kinds.end()) fail(origin, "unknown distribution \"" + std::string(name) + "\"");
    return it->second;
}

Popularity parse_popularity(std::string_view name, const SchemaOrigin& origin) {
    if (name == "zipf") return Popularity::zipf;
    if (name == "uniform") return Popularity::uniform;
    fail(origin, "unknown popularity \"" + std::string(name) + "\"; expected \"zipf\" or \"uniform\"");
}

}  // namespace supervent::core
