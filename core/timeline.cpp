#include "core/timeline.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "core/rng.hpp"

namespace supervent::core {

namespace {

constexpr std::int64_t ns_per_hour = 3'600 * ns_per_s;
// Instants (in seconds) whose ns value fits int64 with two days to spare.
constexpr std::int64_t max_s = std::numeric_limits<std::int64_t>::max() / ns_per_s - 2 * 86'400;
constexpr std::int64_t min_s = -max_s;
constexpr int last_rule_year = 2261;

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    const std::int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
constexpr std::int64_t floor_mod(std::int64_t a, std::int64_t b) { return a - floor_div(a, b) * b; }

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = floor_div(y, 400);
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
    std::int64_t year;
    unsigned month;
    unsigned day;
};
constexpr Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = floor_div(z, 146097);
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

constexpr bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
constexpr unsigned month_days(std::int64_t y, unsigned m) {
    constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// "2024-03-31T01:00:00Z" for error messages.
std::string utc_text(std::int64_t t_ns) {
    const std::int64_t s = floor_div(t_ns, ns_per_s);
    const Civil c = civil_from_days(floor_div(s, 86'400));
    const std::int64_t sod = floor_mod(s, 86'400);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(c.year), c.month,
                  c.day, static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                  static_cast<long long>(sod % 60));
    return buf;
}

[[noreturn]] void bad_zone(std::string_view text, std::string_view why) {
    throw std::invalid_argument("unknown time zone \"" + std::string(text) + "\": " + std::string(why) +
                                " (expected UTC, an offset such as +02:00 or -0530, or an IANA name such as "
                                "Europe/Berlin)");
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x | 0x20) == (y | 0x20);
           });
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// "+02:00", "-0530", "+5", "+05:30": seconds east of UTC, or false.
bool parse_fixed_offset(std::string_view s, std::int32_t& out) {
    if (s.size() < 2 || (s[0] != '+' && s[0] != '-')) return false;
    const int sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
    int hours = 0;
    int minutes = 0;
    auto two = [](std::string_view d) { return (d[0] - '0') * 10 + (d[1] - '0'); };
    if (s.size() == 4 && std::all_of(s.begin(), s.end(), is_digit)) {
        hours = two(s.substr(0, 2));
        minutes = two(s.substr(2, 2));
    } else {
        const std::size_t colon = s.find(':');
        const std::string_view h = s.substr(0, colon);
        if (h.empty() || h.size() > 2 || !std::all_of(h.begin(), h.end(), is_digit)) return false;
        hours = h.size() == 2 ? two(h) : h[0] - '0';
        if (colon != std::string_view::npos) {
            const std::string_view m = s.substr(colon + 1);
            if (m.size() != 2 || !std::all_of(m.begin(), m.end(), is_digit)) return false;
            minutes = two(m);
        }
    }
    if (hours > 23 || minutes > 59) return false;
    out = sign * (hours * 3600 + minutes * 60);
    return true;
}

// ---- POSIX TZ strings (the TZif footer), e.g. "CET-1CEST,M3.5.0,M10.5.0/3" ----

struct RuleDate {
    char kind = 'M';  // 'J': Jn (1..365, no Feb 29); 'N': n (0..365); 'M': Mm.w.d
    int n = 0;
    int month = 3;
    int week = 2;
    int wday = 0;  // 0 = Sunday
    std::int32_t time_s = 7200;
};

struct PosixRule {
    std::int32_t std_off = 0;  // seconds east of UTC
    bool has_dst = false;
    std::int32_t dst_off = 0;
    RuleDate start;
    RuleDate end;
};

class PosixParser {
public:
    explicit PosixParser(std::string_view s) : s_(s) {}

    bool parse(PosixRule& r) {
        if (!name()) return false;
        std::int32_t off = 0;
        if (!hms(off, true)) return false;
        r.std_off = -off;
        if (done()) return true;
        if (!name()) return false;
        r.has_dst = true;
        r.dst_off = r.std_off + 3600;
        if (!done() && s_[i_] != ',') {
            if (!hms(off, true)) return false;
            r.dst_off = -off;
        }
        if (done()) {  // POSIX leaves the default rule to the implementation: the US one.
            r.start = {'M', 0, 3, 2, 0, 7200};
            r.end = {'M', 0, 11, 1, 0, 7200};
            return true;
        }
        return eat(',') && date(r.start) && eat(',') && date(r.end) && done();
    }

private:
    bool done() const { return i_ >= s_.size(); }
    bool eat(char c) {
        if (done() || s_[i_] != c) return false;
        ++i_;
        return true;
    }
    bool name() {
        if (eat('<')) {
            const std::size_t close = s_.find('>', i_);
            if (close == std::string_view::npos || close == i_) return false;
            i_ = close + 1;
            return true;
        }
        const std::size_t from = i_;
        while (!done() && is_alpha(s_[i_])) ++i_;
        return i_ - from >= 3;
    }
    bool number(int& out, int max_digits) {
        const std::size_t from = i_;
        out = 0;
        while (!done() && is_digit(s_[i_]) && i_ - from < static_cast<std::size_t>(max_digits)) {
            out = out * 10 + (s_[i_++] - '0');
        }
        return i_ > from;
    }
    // [+-]hh[:mm[:ss]]; hours up to 167 (TZif v3 allows that range in rule times).
    bool hms(std::int32_t& out, bool sign_allowed) {
        int sign = 1;
        if (sign_allowed && !done() && (s_[i_] == '+' || s_[i_] == '-')) sign = s_[i_++] == '-' ? -1 : 1;
        int h = 0;
        int m = 0;
        int sec = 0;
        if (!number(h, 3) || h > 167) return false;
        if (eat(':')) {
            if (!number(m, 2) || m > 59) return false;
            if (eat(':') && (!number(sec, 2) || sec > 59)) return false;
        }
        out = sign * (h * 3600 + m * 60 + sec);
        return true;
    }
    bool date(RuleDate& d) {
        if (eat('J')) {
            d.kind = 'J';
            if (!number(d.n, 3) || d.n < 1 || d.n > 365) return false;
        } else if (eat('M')) {
            d.kind = 'M';
            if (!number(d.month, 2) || d.month < 1 || d.month > 12 || !eat('.')) return false;
            if (!number(d.week, 1) || d.week < 1 || d.week > 5 || !eat('.')) return false;
            if (!number(d.wday, 1) || d.wday > 6) return false;
        } else {
            d.kind = 'N';
            if (!number(d.n, 3) || d.n > 365) return false;
        }
        d.time_s = 7200;
        if (eat('/')) return hms(d.time_s, true);
        return true;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

// Local seconds since the epoch of a rule date in year y.
std::int64_t rule_local_s(const RuleDate& d, std::int64_t y) {
    std::int64_t day = 0;
    switch (d.kind) {
        case 'J':
            day = days_from_civil(y, 1, 1) + d.n - 1 + (is_leap(y) && d.n >= 60 ? 1 : 0);
            break;
        case 'N':
            day = days_from_civil(y, 1, 1) + d.n;
            break;
        default: {
            const auto m = static_cast<unsigned>(d.month);
            const std::int64_t first = days_from_civil(y, m, 1);
            const int first_wday = static_cast<int>(floor_mod(first + 4, 7));  // 1970-01-01: Thursday (4, Sunday = 0)
            int mday = 1 + (d.wday - first_wday + 7) % 7 + (d.week - 1) * 7;
            while (mday > static_cast<int>(month_days(y, m))) mday -= 7;
            day = first + mday - 1;
        }
    }
    return day * 86'400 + d.time_s;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::ostringstream buf;
    buf << in.rdbuf();
    return std::move(buf).str();
}

}  // namespace

// Builds a zone's transition table from TZif data.
struct TimeZoneBuilder {
    static void add(TimeZone& z, std::int64_t t_s, std::int32_t off) {
        if (t_s <= min_s) {  // before everything we can represent: it is the initial offset
            z.offsets_s_.back() = off;
            return;
        }
        if (t_s >= max_s) return;
        const std::int64_t t = t_s * ns_per_s;
        if (!z.transitions_ns_.empty() && t <= z.transitions_ns_.back()) {
            if (t < z.transitions_ns_.back()) return;  // out of order: ignore
            z.offsets_s_.back() = off;  // same instant: the later entry wins
            if (z.offsets_s_[z.offsets_s_.size() - 2] == off) {
                z.transitions_ns_.pop_back();
                z.offsets_s_.pop_back();
            }
            return;
        }
        if (off == z.offsets_s_.back()) return;  // no change of offset (e.g. only the abbreviation changes)
        z.transitions_ns_.push_back(t);
        z.offsets_s_.push_back(off);
    }

    static TimeZone from_tzif(std::string_view text, const std::string& data) {
        auto u32 = [&](std::size_t at) {
            return static_cast<std::uint32_t>(static_cast<unsigned char>(data[at])) << 24 |
                   static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + 1])) << 16 |
                   static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + 2])) << 8 |
                   static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + 3]));
        };
        auto i64 = [&](std::size_t at) {
            return static_cast<std::int64_t>(static_cast<std::uint64_t>(u32(at)) << 32 | u32(at + 4));
        };
        constexpr std::size_t header = 44;
        if (data.size() < header || data.compare(0, 4, "TZif") != 0) bad_zone(text, "not a TZif file");
        struct Counts {
            std::size_t isut, isstd, leap, time, type, chars;
        };
        auto counts_at = [&](std::size_t at) {
            return Counts{u32(at + 20), u32(at + 24), u32(at + 28), u32(at + 32), u32(at + 36), u32(at + 40)};
        };
        auto block_size = [](const Counts& c, std::size_t time_bytes) {
            return c.time * time_bytes + c.time + c.type * 6 + c.chars + c.leap * (time_bytes + 4) + c.isstd + c.isut;
        };
        std::size_t at = 0;
        Counts c = counts_at(0);
        std::size_t time_bytes = 4;
        if (data[4] >= '2') {  // skip the 32-bit block: the 64-bit one follows its own header
            at = header + block_size(c, 4);
            if (data.size() < at + header || data.compare(at, 4, "TZif") != 0) bad_zone(text, "corrupt TZif file");
            c = counts_at(at);
            time_bytes = 8;
        }
        const std::size_t body = at + header;
        if (c.type == 0 || c.type > 256 || data.size() < body + block_size(c, time_bytes)) {
            bad_zone(text, "corrupt TZif file");
        }
        const std::size_t idx_at = body + c.time * time_bytes;
        const std::size_t types_at = idx_at + c.time;
        auto type_off = [&](std::size_t type) { return static_cast<std::int32_t>(u32(types_at + type * 6)); };

        TimeZone z;
        z.name_ = std::string(text);
        z.offsets_s_ = {type_off(0)};
        for (std::size_t i = 0; i < c.time; ++i) {
            const std::int64_t t_s = time_bytes == 8 ? i64(body + i * 8)
                                                     : static_cast<std::int32_t>(u32(body + i * 4));
            const auto type = static_cast<unsigned char>(data[idx_at + i]);
            if (type >= c.type) bad_zone(text, "corrupt TZif file");
            add(z, t_s, type_off(type));
        }

        // The footer's rule covers everything after the last transition.
        if (time_bytes == 8) {
            const std::size_t foot = body + block_size(c, 8);
            if (foot < data.size() && data[foot] == '\n') {
                const std::size_t close = data.find('\n', foot + 1);
                const std::string_view tz = std::string_view(data).substr(
                    foot + 1, close == std::string::npos ? std::string::npos : close - foot - 1);
                if (!tz.empty()) extend(z, text, tz);
            }
        }
        return z;
    }

    static void extend(TimeZone& z, std::string_view text, std::string_view tz) {
        PosixRule rule;
        if (!PosixParser(tz).parse(rule)) bad_zone(text, "unsupported TZ rule \"" + std::string(tz) + "\"");
        const std::int64_t last_s =
            z.transitions_ns_.empty() ? std::numeric_limits<std::int64_t>::min() : z.transitions_ns_.back() / ns_per_s;
        if (!rule.has_dst) {
            if (z.transitions_ns_.empty()) z.offsets_s_.back() = rule.std_off;
            return;
        }
        std::int64_t first_year = 1679;
        if (!z.transitions_ns_.empty()) first_year = civil_from_days(floor_div(last_s, 86'400)).year - 1;
        std::vector<std::pair<std::int64_t, std::int32_t>> changes;
        for (std::int64_t y = std::max<std::int64_t>(first_year, 1679); y <= last_rule_year; ++y) {
            changes.emplace_back(rule_local_s(rule.start, y) - rule.std_off, rule.dst_off);
            changes.emplace_back(rule_local_s(rule.end, y) - rule.dst_off, rule.std_off);
        }
        std::stable_sort(changes.begin(), changes.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [t_s, off] : changes) {
            if (t_s > last_s) add(z, t_s, off);
        }
    }
};

TimeZone::TimeZone() = default;

TimeZone TimeZone::fixed(std::int32_t offset_s, std::string name) {
    TimeZone z;
    z.offsets_s_ = {offset_s};
    if (name.empty()) {
        char buf[16];
        const std::int32_t a = offset_s < 0 ? -offset_s : offset_s;
        std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset_s < 0 ? '-' : '+', a / 3600, a / 60 % 60);
        name = buf;
    }
    z.name_ = std::move(name);
    return z;
}

TimeZone TimeZone::parse(std::string_view text) {
    if (iequals(text, "UTC") || iequals(text, "Z") || iequals(text, "GMT")) return fixed(0, std::string(text));
    std::int32_t off = 0;
    std::string_view rest = text;
    if (rest.size() > 3 && (iequals(rest.substr(0, 3), "UTC") || iequals(rest.substr(0, 3), "GMT"))) {
        rest.remove_prefix(3);
    }
    if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
        if (!parse_fixed_offset(rest, off)) bad_zone(text, "not a valid UTC offset");
        return fixed(off, std::string(text));
    }
    if (text.empty()) bad_zone(text, "empty name");
    const bool chars_ok = std::all_of(text.begin(), text.end(), [](char c) {
        return is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '+' || c == '/';
    });
    if (!chars_ok || text.front() == '/' || text.find("..") != std::string_view::npos) {
        bad_zone(text, "not a time zone name");
    }
    const std::string path = "/usr/share/zoneinfo/" + std::string(text);
    const std::string data = read_file(path);
    if (data.empty()) bad_zone(text, "no such zone in /usr/share/zoneinfo");
    return TimeZoneBuilder::from_tzif(text, data);
}

std::size_t TimeZone::piece(std::int64_t t_ns) const {
    if (transitions_ns_.empty()) return 0;
    return static_cast<std::size_t>(std::upper_bound(transitions_ns_.begin(), transitions_ns_.end(), t_ns) -
                                    transitions_ns_.begin());
}

std::int64_t TimeZone::local_day(std::int64_t t_ns) const {
    return floor_div(t_ns + std::int64_t{offset_s(t_ns)} * ns_per_s, ns_per_day);
}

int TimeZone::weekday(std::int64_t t_ns) const { return static_cast<int>(floor_mod(local_day(t_ns) + 3, 7)); }

int TimeZone::hour(std::int64_t t_ns) const {
    return static_cast<int>(floor_mod(t_ns + std::int64_t{offset_s(t_ns)} * ns_per_s, ns_per_day) / ns_per_hour);
}

// A day starts at u when the local date at u is later than the local date at u - 1.
std::int64_t TimeZone::day_start(std::int64_t t_ns) const {
    std::size_t i = piece(t_ns);
    std::int64_t probe = t_ns;
    for (;;) {
        const std::int64_t off = std::int64_t{offsets_s_[i]} * ns_per_s;
        const std::int64_t m = floor_div(probe + off, ns_per_day) * ns_per_day - off;  // last midnight <= probe
        if (i == 0) return m;
        const std::int64_t lo = transitions_ns_[i - 1];
        if (m > lo) return m;
        const std::int64_t prev = std::int64_t{offsets_s_[i - 1]} * ns_per_s;
        if (floor_div(lo + off, ns_per_day) > floor_div(lo - 1 + prev, ns_per_day)) return lo;  // jumped over midnight
        probe = lo - 1;
        --i;
    }
}

std::int64_t TimeZone::next_day_start(std::int64_t t_ns) const { return next_boundary(t_ns, ns_per_day); }

std::int64_t TimeZone::next_hour_start(std::int64_t t_ns) const { return next_boundary(t_ns, ns_per_hour); }

// The first instant > t at which floor(local time / unit) advances: a local
// midnight or hour, or a transition that jumps over one.
std::int64_t TimeZone::next_boundary(std::int64_t t_ns, std::int64_t unit) const {
    std::size_t i = piece(t_ns);
    std::int64_t probe = t_ns;
    for (;;) {
        const std::int64_t off = std::int64_t{offsets_s_[i]} * ns_per_s;
        const std::int64_t m = (floor_div(probe + off, unit) + 1) * unit - off;  // first boundary > probe
        if (i == transitions_ns_.size()) return m;
        const std::int64_t hi = transitions_ns_[i];
        if (m < hi) return m;
        const std::int64_t next = std::int64_t{offsets_s_[i + 1]} * ns_per_s;
        if (floor_div(hi + next, unit) > floor_div(hi - 1 + off, unit)) return hi;
        probe = hi;
        ++i;
    }
}

// ---------------------------------------------------------------------------

namespace {

constexpr std::uint64_t golden = 0x9E37'79B9'7F4A'7C15ull;

// The splitmix64 finalizer: a bijective mix of one word.
constexpr std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
constexpr double unit_double(std::uint64_t w) { return static_cast<double>(w >> 11) * 0x1p-53; }  // [0, 1)

// Bits set, without the POPCNT instruction the baseline x86-64 build lacks
// (the builtin would call libgcc).
constexpr std::uint64_t ones(std::uint64_t x) {
    x = x - ((x >> 1) & 0x5555'5555'5555'5555ull);
    x = (x & 0x3333'3333'3333'3333ull) + ((x >> 2) & 0x3333'3333'3333'3333ull);
    x = (x + (x >> 4)) & 0x0F0F'0F0F'0F0F'0F0Full;
    return (x * 0x0101'0101'0101'0101ull) >> 56;
}

// Sorts 8 values with a 19-comparator network: branch-free min/max, where an
// insertion sort of random values mispredicts at every step.
inline void sort8(double* v) {
    auto cx = [v](int a, int b) {
        const double lo = std::min(v[a], v[b]);
        const double hi = std::max(v[a], v[b]);
        v[a] = lo;
        v[b] = hi;
    };
    cx(0, 2); cx(1, 3); cx(4, 6); cx(5, 7);
    cx(0, 4); cx(1, 5); cx(2, 6); cx(3, 7);
    cx(0, 1); cx(2, 3); cx(4, 5); cx(6, 7);
    cx(2, 4); cx(3, 5);
    cx(1, 4); cx(3, 6);
    cx(1, 2); cx(3, 4); cx(5, 6);
}

// The same for 4 values: 5 comparators.
inline void sort4(double* v) {
    auto cx = [v](int a, int b) {
        const double lo = std::min(v[a], v[b]);
        const double hi = std::max(v[a], v[b]);
        v[a] = lo;
        v[b] = hi;
    };
    cx(0, 1); cx(2, 3); cx(0, 2); cx(1, 3); cx(1, 2);
}

// Binomial(m, 1/2) from a node's word: exact (m fair coin flips counted) up
// to 4096; beyond that the normal approximation with continuity correction,
// whose error for p = 1/2 is O(1/m) (under 2.5e-4 there, less further up).
std::uint64_t binomial_half(std::uint64_t m, std::uint64_t word) {
    if (m <= 4096) {
        std::uint64_t set = 0;
        std::uint64_t j = 0;
        for (; m >= 64; m -= 64) set += ones(mix64(word + ++j * golden));
        if (m > 0) set += ones(mix64(word + ++j * golden) & ((1ull << m) - 1));
        return set;
    }
    const double u1 = (static_cast<double>(mix64(word + golden) >> 11) + 0.5) * 0x1p-53;  // (0, 1)
    const double u2 = unit_double(mix64(word + 2 * golden));
    const double z = std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
    const double md = static_cast<double>(m);
    const double v = std::floor(md / 2 + 0.5 * std::sqrt(md) * z + 0.5);
    return static_cast<std::uint64_t>(std::clamp(v, 0.0, md));
}

// 1 + a sin(2 pi (t - origin) / period), or with a peak time of day
// 1 + a cos(2 pi (local t - peak) / period); never below 0.
double sine_factor(double amplitude, std::int64_t period_ns, const std::optional<std::int64_t>& peak_ns,
                   std::int64_t origin_ns, std::int64_t t, const TimeZone& zone) {
    if (period_ns <= 0) return 1;
    if (peak_ns) {
        const std::int64_t local = t + std::int64_t{zone.offset_s(t)} * ns_per_s - *peak_ns;
        const double phase = static_cast<double>(floor_mod(local, period_ns)) / static_cast<double>(period_ns);
        return std::max(0.0, 1 + amplitude * std::cos(2 * std::numbers::pi * phase));
    }
    const double phase = static_cast<double>(floor_mod(t - origin_ns, period_ns)) / static_cast<double>(period_ns);
    return std::max(0.0, 1 + amplitude * std::sin(2 * std::numbers::pi * phase));
}

// weights[index] over the table's mean: a table scaled to average 1 (empty: 1).
double table_factor(const std::vector<double>& weights, int index) {
    if (weights.empty()) return 1;
    double sum = 0;
    for (const double w : weights) sum += w;
    return sum > 0 ? weights[static_cast<std::size_t>(index)] * static_cast<double>(weights.size()) / sum : 1;
}

// The instants where a burst modulation switches between quiet and burst,
// from the entry's seed alone; `on` says whether the window opens in a burst.
std::vector<std::int64_t> burst_switches(const VolumeSpec& spec, std::int64_t start, std::int64_t end,
                                         std::uint64_t seed, bool& on, const std::string& where) {
    std::uint64_t state = seed ^ 0xB0B5'7000'0000'0000ull;
    const double on_ns = static_cast<double>(spec.burst_on_ns);
    const double off_ns = static_cast<double>(spec.burst_off_ns);
    on = unit_double(splitmix64_next(state)) * (on_ns + off_ns) < on_ns;  // the long-run share of burst time
    std::vector<std::int64_t> out;
    bool now_on = on;
    double t = 0;  // since start: exponential spells are memoryless, so the first one is one too
    const double span = static_cast<double>(end - start);
    for (;;) {
        t += -std::log1p(-unit_double(splitmix64_next(state))) * (now_on ? on_ns : off_ns);
        if (t >= span) break;
        if (out.size() >= (std::size_t{1} << 20)) {
            throw std::invalid_argument(where + ": more than 2^20 bursts; make burst_on/burst_off longer");
        }
        out.push_back(std::min(end - 1, start + static_cast<std::int64_t>(t)));
        now_on = !now_on;
    }
    return out;
}

}  // namespace

std::string check_rate_table(const std::vector<double>& weights, std::size_t length) {
    if (weights.empty()) return {};
    if (weights.size() != length) {
        return "expected " + std::to_string(length) + " weights, got " + std::to_string(weights.size());
    }
    bool positive = false;
    for (const double w : weights) {
        if (!(w >= 0) || !std::isfinite(w)) return "every weight must be a finite number >= 0";
        positive |= w > 0;
    }
    return positive ? std::string() : "at least one weight must be > 0";
}

RootTimeline::RootTimeline(const VolumeSpec& spec, std::int64_t window_start_ns, std::int64_t window_end_ns,
                           const TimeZone& zone, std::uint32_t shard_index, std::uint32_t shard_count,
                           std::uint64_t seed) {
    if (shard_count == 0 || shard_index >= shard_count) {
        throw std::invalid_argument("volume entry: shard " + std::to_string(shard_index) + " of " +
                                    std::to_string(shard_count) + " is not a valid shard");
    }
    const bool own_window = spec.start_ns != 0 || spec.end_ns != 0;
    start_ = own_window ? spec.start_ns : window_start_ns;
    end_ = own_window ? spec.end_ns : window_end_ns;
    count_ = spec.count;
    stride_ = shard_count;
    shard_ = shard_index;
    total_ = count_ / shard_count + (shard_index < count_ % shard_count ? 1 : 0);
    if (count_ == 0) return;

    const std::string where = "volume entry (count " + std::to_string(count_) + ", window " + utc_text(start_) +
                              " .. " + utc_text(end_) + ")";
    std::int64_t span = 0;
    if (end_ <= start_ || __builtin_sub_overflow(end_, start_, &span)) {
        throw std::invalid_argument(where + ": the window is empty");
    }
    std::uint64_t mix = seed ^ 0x7131'E11E'0000'0000ull;  // "timeline": unrelated to the shards' event streams
    seed_word_ = splitmix64_next(mix);
    build_pieces(spec, zone, where);
    x_max_ = std::nextafter(weight_, 0.0);
    // The depth from which a node's range spans under 2^32 ns on average.
    while (fine_depth_ < 62 && (static_cast<double>(span) / std::ldexp(1.0, static_cast<int>(fine_depth_))) > 0x1p32) {
        ++fine_depth_;
    }
    push_node({1, 0, count_, 0.0, weight_, 0});
    if (total_ > 0) refill();
}

// The density table: edges, the density at them (piecewise linear between),
// and the per-interval inverse of the weight.
void RootTimeline::build_pieces(const VolumeSpec& spec, const TimeZone& zone, const std::string& where) {
    const std::int64_t span = end_ - start_;
    const bool sine = spec.pattern == VolumePattern::sine_wave;
    const bool linear = spec.pattern == VolumePattern::linear_increase;
    const bool day_based = spec.pattern == VolumePattern::weekday || spec.pattern == VolumePattern::weekend;
    const bool gaussian = spec.distribution == SpreadDistribution::gaussian;
    const bool burst = spec.burst_factor != 1;
    if (sine && spec.period_ns <= 0) throw std::invalid_argument(where + ": sine_wave period must be > 0");
    if (sine && !std::isfinite(spec.amplitude)) throw std::invalid_argument(where + ": sine_wave amplitude is not finite");
    if (linear && !(spec.ramp_from >= 0 && std::isfinite(spec.ramp_from))) {
        throw std::invalid_argument(where + ": linear_increase ramp_from must be a finite number >= 0");
    }
    if (const std::string e = check_rate_table(spec.hour_weights, 24); !e.empty()) {
        throw std::invalid_argument(where + ": hour_weights: " + e);
    }
    if (const std::string e = check_rate_table(spec.day_weights, 7); !e.empty()) {
        throw std::invalid_argument(where + ": day_weights: " + e);
    }
    if (burst && !(spec.burst_factor > 0 && std::isfinite(spec.burst_factor) && spec.burst_on_ns > 0 &&
                   spec.burst_off_ns > 0)) {
        throw std::invalid_argument(where + ": a burst needs burst_factor > 0 and burst_on, burst_off > 0");
    }

    // Interval edges: a uniform grid (finer for short sine periods) merged with
    // every local midnight, local hour and burst switch the density steps at.
    std::uint64_t uniform = 4096;
    if (sine) {
        const double per_period = 32.0 * (static_cast<double>(span) / static_cast<double>(spec.period_ns));
        uniform = std::max<std::uint64_t>(uniform, static_cast<std::uint64_t>(std::min(per_period, 1e9)) + 1);
    }
    uniform = std::min<std::uint64_t>({uniform, std::uint64_t{1} << 17, static_cast<std::uint64_t>(span)});
    std::vector<std::int64_t> grid(uniform + 1);
    const auto q = static_cast<std::uint64_t>(span) / uniform;
    const auto r = static_cast<std::uint64_t>(span) % uniform;
    for (std::uint64_t j = 0; j <= uniform; ++j) {
        grid[j] = start_ + static_cast<std::int64_t>(j * q + (j * r) / uniform);
    }
    bool burst_on = false;
    std::vector<std::int64_t> switches;
    if (burst) switches = burst_switches(spec, start_, end_, seed_word_, burst_on, where);
    std::vector<std::int64_t> steps = switches;
    if (!spec.hour_weights.empty()) {
        for (std::int64_t h = zone.next_hour_start(start_); h < end_; h = zone.next_hour_start(h)) steps.push_back(h);
    } else if (day_based || !spec.day_weights.empty()) {
        for (std::int64_t d = zone.next_day_start(start_); d < end_; d = zone.next_day_start(d)) steps.push_back(d);
    }
    std::sort(steps.begin(), steps.end());
    std::vector<std::int64_t> edges;
    edges.reserve(grid.size() + steps.size());
    std::merge(grid.begin(), grid.end(), steps.begin(), steps.end(), std::back_inserter(edges));
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());

    // Continuous part (pattern sine or linear, times the distribution), taken
    // at the edges; the step part (days, hours, bursts) at each interval's start.
    const double w = static_cast<double>(span);
    const double mid = w / 2;
    const double sigma = w / 6;
    auto shape = [&](std::int64_t t) {
        double d = 1;
        if (sine) {
            d = sine_factor(spec.amplitude, spec.period_ns, spec.peak_ns, start_, t, zone);
        } else if (linear) {
            d = spec.ramp_from + (1 - spec.ramp_from) * (static_cast<double>(t - start_) / w);
        }
        if (gaussian) {
            const double z = (static_cast<double>(t - start_) - mid) / sigma;
            d *= std::exp(-0.5 * z * z);
        }
        return d;
    };
    std::size_t next_switch = 0;
    auto step = [&](std::int64_t t) {
        double f = 1;
        if (day_based) f = (spec.pattern == VolumePattern::weekend) == (zone.weekday(t) >= 5) ? 1 : 0;
        if (!spec.hour_weights.empty()) f *= spec.hour_weights[static_cast<std::size_t>(zone.hour(t))];
        if (!spec.day_weights.empty()) f *= spec.day_weights[static_cast<std::size_t>(zone.weekday(t))];
        for (; next_switch < switches.size() && switches[next_switch] <= t; ++next_switch) burst_on = !burst_on;
        return burst_on ? f * spec.burst_factor : f;
    };
    const std::size_t n = edges.size() - 1;
    pieces_.resize(n + 1);
    double cum = 0;
    double left = shape(edges[0]);
    for (std::size_t j = 0; j < n; ++j) {
        const double right = shape(edges[j + 1]);
        const double on = step(edges[j]);
        const double dl = on * left;
        const double dr = on * right;
        const double len = static_cast<double>(edges[j + 1] - edges[j]);
        const double k2 = 2 * (dr - dl) / len;
        const double weight = (dl + dr) / 2 * len;
        Piece& p = pieces_[j];
        p = {cum, 0, 0, 0, 0, edges[j]};
        if (weight > 0) {
            // e = k2 y / dl^2 stays below 0.01 over the interval: the series is
            // exact to ~4e-12 relative and needs neither sqrt nor division.
            if (dl > 0 && std::abs(k2) * weight <= 0.01 * dl * dl) {
                p.a = 1 / dl;
                p.b = k2 / (dl * dl);
            } else {
                p.a = dl * dl;
                p.b = k2;
                p.c = dl;
                p.inv_half_k2 = 2 / k2;
            }
        }
        cum += weight;
        left = right;
    }
    pieces_[n] = {cum, 0, 0, 0, 0, end_};
    weight_ = cum;
    if (!(weight_ > 0) || !std::isfinite(weight_)) {
        if (spec.pattern == VolumePattern::weekday) {
            throw std::invalid_argument(where + ": weekday pattern but the window has no Monday..Friday in time zone " +
                                        zone.name());
        }
        if (spec.pattern == VolumePattern::weekend) {
            throw std::invalid_argument(where + ": weekend pattern but the window has no Saturday or Sunday in time zone " +
                                        zone.name());
        }
        throw std::invalid_argument(where + ": the density is zero over the whole window");
    }
}

// The offset in a node of its first event this shard owns (k % n == shard).
inline std::uint64_t RootTimeline::first_own(std::uint64_t k0) const {
    return stride_ == 1 ? 0 : (shard_ + stride_ - k0 % stride_) % stride_;
}

inline void RootTimeline::push_node(const Node& node) {
    if (node.m == 0 || first_own(node.k0) >= node.m) return;  // none of this shard's
    assert(top_ < std::size(stack_));
    stack_[top_++] = node;
}

// A leaf's events: m sorted uniform weights over its range (evenly spaced at
// the depth limit, where a range no longer splits in double precision).
void RootTimeline::open_leaf(const Node& node) {
    leaf_ = node;
    leaf_j_ = first_own(node.k0);
    if (node.m > leaf_max) return;
    const std::uint64_t word = mix64(seed_word_ + node.id * golden);
    const double w = node.x1 - node.x0;
    double v[leaf_max];  // local, so the network runs in registers
    for (std::uint64_t j = 0; j < leaf_max; ++j) v[j] = HUGE_VAL;
    if (node.depth >= fine_depth_) {
        // Deep enough that 32 bits resolve the leaf to about a nanosecond: two draws per word.
        const double scale = w * 0x1p-32;
        for (std::uint64_t j = 0; j < node.m; j += 2) {
            const std::uint64_t r = mix64(word + (j / 2 + 1) * golden);
            v[j] = node.x0 + scale * (static_cast<double>(r >> 32) + 0.5);
            if (j + 1 < node.m) v[j + 1] = node.x0 + scale * (static_cast<double>(r & 0xFFFF'FFFFull) + 0.5);
        }
    } else {
        for (std::uint64_t j = 0; j < node.m; ++j) v[j] = node.x0 + w * unit_double(mix64(word + (j + 1) * golden));
    }
    if (node.m <= 4) {  // most leaves: half the network
        sort4(v);
        std::copy(v, v + 4, leaf_x_);
    } else {
        sort8(v);
        std::copy(v, v + leaf_max, leaf_x_);
    }
}

// Depth first over the splitting tree, lower halves first: weights come out
// in order. Only nodes holding one of this shard's events are visited.
std::size_t RootTimeline::next_weights(double* out, std::size_t want) {
    std::size_t n = 0;
    while (n < want) {
        if (leaf_j_ < leaf_.m) {
            out[n++] = leaf_.m <= leaf_max ? leaf_x_[leaf_j_]
                                           : leaf_.x0 + (leaf_.x1 - leaf_.x0) * ((static_cast<double>(leaf_j_) + 0.5) /
                                                                                 static_cast<double>(leaf_.m));
            leaf_j_ += stride_;
            continue;
        }
        if (top_ == 0) break;
        Node node = stack_[--top_];
        // Down the lower halves to a leaf; upper halves wait on the stack.
        while (node.m > leaf_max && node.depth < depth_max) {
            const std::uint64_t lower = binomial_half(node.m, mix64(seed_word_ + node.id * golden));
            const double mid = node.x0 + (node.x1 - node.x0) * 0.5;
            push_node({2 * node.id + 1, node.k0 + lower, node.m - lower, mid, node.x1, node.depth + 1});
            if (lower == 0 || first_own(node.k0) >= lower) {  // none of this shard's below
                node.m = 0;
                break;
            }
            node = {2 * node.id, node.k0, lower, node.x0, mid, node.depth + 1};
        }
        if (node.m > 0) open_leaf(node);
    }
    return n;
}

// The next block of this shard's times: weights from the splitting tree, then
// through the inverse CDF in passes over the block so the long floating-point
// chains of different events overlap: the cursor finds the interval holding
// x; tau solves dl * tau + slope / 2 * tau^2 = x - cum (see Piece); a running
// max keeps the order exact despite rounding.
void RootTimeline::refill() {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(block, total_ - produced_));
    double x[block];
    std::uint32_t at[block];
    const std::size_t count = next_weights(x, want);
    assert(count == want);
    const double x_max = x_max_;
    for (std::size_t i = 0; i < count; ++i) x[i] = std::min(x[i], x_max);
    const Piece* pieces = pieces_.data();
    std::size_t j = cursor_;
    for (std::size_t i = 0; i < count; ++i) {
        while (pieces[j + 1].cum <= x[i]) ++j;
        at[i] = static_cast<std::uint32_t>(j);
    }
    for (std::size_t i = 0; i < count; ++i) {
        const Piece& p = pieces[at[i]];
        const double y = x[i] - p.cum;
        double tau;
        if (p.inv_half_k2 == 0) {
            const double e = y * p.b;
            const double e2 = e * e;
            tau = y * p.a * ((1 - 0.25 * e) + e2 * ((0.125 - 5.0 / 64 * e) + e2 * (7.0 / 128)));
        } else {
            tau = (std::sqrt(std::max(0.0, p.a + p.b * y)) - p.c) * p.inv_half_k2;
        }
        const std::int64_t t = p.edge + static_cast<std::int64_t>(std::max(0.0, tau));
        buf_[i] = std::min(t, pieces[at[i] + 1].edge - 1);
    }
    std::int64_t last = last_t_;
    for (std::size_t i = 0; i < count; ++i) {
        last = std::max(last, buf_[i]);
        buf_[i] = last;
    }
    last_t_ = last;
    cursor_ = j;
    produced_ += count;
    pos_ = 0;
    len_ = static_cast<std::uint32_t>(count);
}

std::uint32_t RootTimeline::take(std::span<std::int64_t> out, std::int64_t before_ns) {
    const std::size_t cap = std::min<std::size_t>(out.size(), std::numeric_limits<std::uint32_t>::max());
    std::size_t n = 0;
    while (n < cap && pos_ < len_) {
        const std::size_t avail = std::min<std::size_t>(len_ - pos_, cap - n);
        const std::int64_t* src = buf_ + pos_;
        std::size_t i = avail;
        if (src[avail - 1] >= before_ns) {  // the slice ends inside this run: find where (times are sorted)
            i = static_cast<std::size_t>(std::lower_bound(src, src + avail, before_ns) - src);
        }
        std::copy(src, src + i, out.data() + n);
        n += i;
        pos_ += static_cast<std::uint32_t>(i);
        taken_ += i;
        if (i < avail) break;  // reached before_ns
        if (pos_ == len_ && produced_ < total_) refill();
    }
    return static_cast<std::uint32_t>(n);
}

double RootTimeline::cumulative(std::int64_t t) const {
    if (t <= start_) return 0;
    if (t >= end_) return weight_;
    const auto j = static_cast<std::size_t>(
                       std::upper_bound(pieces_.begin(), pieces_.end(), t,
                                        [](std::int64_t v, const Piece& p) { return v < p.edge; }) -
                       pieces_.begin()) -
                   1;
    const Piece& p = pieces_[j];
    if (pieces_[j + 1].cum <= p.cum) return p.cum;
    double dl = p.c;
    double k2 = p.b;
    if (p.inv_half_k2 == 0) {
        dl = 1 / p.a;
        k2 = p.b * dl * dl;
    }
    const double tau = static_cast<double>(t - p.edge);
    return std::min(pieces_[j + 1].cum, p.cum + dl * tau + k2 / 4 * tau * tau);
}

double RootTimeline::expected_between(std::int64_t a, std::int64_t b) const {
    if (count_ == 0 || b <= a) return 0;
    return static_cast<double>(total_) * (cumulative(b) - cumulative(a)) / weight_;
}

// ---------------------------------------------------------------------------

namespace {
double live_kind_factor(const LiveShape& shape, std::int64_t since_start_ns, std::int64_t now_ns, const TimeZone& zone) {
    const std::int64_t t = now_ns - since_start_ns;
    switch (shape.kind) {
        case LiveShape::Kind::constant:
            return 1;
        case LiveShape::Kind::sine:
            return sine_factor(shape.amplitude, shape.period_ns, shape.peak_ns, since_start_ns, now_ns, zone);
        case LiveShape::Kind::ramp: {
            if (shape.ramp_ns <= 0) return 1;
            const double f = t <= 0 ? 0 : std::min(1.0, static_cast<double>(t) / static_cast<double>(shape.ramp_ns));
            return std::max(0.0, shape.ramp_from + (1 - shape.ramp_from) * f);
        }
        case LiveShape::Kind::step: {
            double factor = 1;
            std::int64_t best = std::numeric_limits<std::int64_t>::min();
            bool found = false;
            for (const auto& s : shape.steps) {
                if (s.at_ns <= t && (!found || s.at_ns >= best)) {
                    best = s.at_ns;
                    factor = s.factor;
                    found = true;
                }
            }
            return std::max(0.0, factor);
        }
        case LiveShape::Kind::business_hours: {
            const auto h = static_cast<std::uint32_t>(zone.hour(now_ns));
            const bool weekday = zone.weekday(now_ns) < 5;
            const bool open = shape.open_hour <= shape.close_hour
                                  ? (h >= shape.open_hour && h < shape.close_hour)
                                  : (h >= shape.open_hour || h < shape.close_hour);
            return weekday && open ? 1 : shape.off_hours_factor;
        }
    }
    return 1;
}

}  // namespace

double live_factor(const LiveShape& shape, std::int64_t since_start_ns, std::int64_t now_ns, const TimeZone& zone) {
    double f = live_kind_factor(shape, since_start_ns, now_ns, zone);
    if (!shape.hour_weights.empty()) f *= table_factor(shape.hour_weights, zone.hour(now_ns));
    if (!shape.day_weights.empty()) f *= table_factor(shape.day_weights, zone.weekday(now_ns));
    return f;
}

namespace {

// A live run has no window: linear_increase and gaussian repeat over the
// entry's own window (start, end), its phase counted from that start so a
// live run continues a backfill's curve, each scaled to average 1 over it.
// Without a window of its own the entry is flat live: a phase from the run's
// start would put every run at the gaussian's trough (1/37 of its peak).
double window_shape_live_factor(const VolumeSpec& spec, std::int64_t now_ns) {
    if (spec.end_ns <= spec.start_ns) return 1;
    const std::int64_t period = spec.end_ns - spec.start_ns;
    std::int64_t phase = (now_ns - spec.start_ns) % period;
    if (phase < 0) phase += period;
    const double x = static_cast<double>(phase) / static_cast<double>(period);
    double f = 1;
    if (spec.pattern == VolumePattern::linear_increase) {
        const double from = std::max(0.0, spec.ramp_from);
        f *= (from + (1 - from) * x) / ((from + 1) / 2);
    }
    if (spec.distribution == SpreadDistribution::gaussian) {
        // Mean mid-period, sigma a sixth of it (as in a backfill), clipped:
        // the density's mean over [0, 1] is sqrt(pi / 2) / 3 * erf(3 / sqrt(2)).
        const double mean = std::sqrt(std::acos(-1.0) / 2) / 3 * std::erf(3 / std::sqrt(2.0));
        const double z = (x - 0.5) * 6;
        f *= std::exp(-0.5 * z * z) / mean;
    }
    return f;
}

}  // namespace

double volume_live_factor(const VolumeSpec& spec, std::int64_t since_start_ns, std::int64_t now_ns,
                          const TimeZone& zone) {
    double f = 1;
    if (spec.pattern == VolumePattern::weekday || spec.pattern == VolumePattern::weekend) {
        f = (spec.pattern == VolumePattern::weekend) == (zone.weekday(now_ns) >= 5) ? 1 : 0;
    } else if (spec.pattern == VolumePattern::sine_wave) {
        f = sine_factor(spec.amplitude, spec.period_ns, spec.peak_ns, since_start_ns, now_ns, zone);
    }
    if (spec.pattern == VolumePattern::linear_increase || spec.distribution == SpreadDistribution::gaussian) {
        f *= window_shape_live_factor(spec, now_ns);
    }
    if (!spec.hour_weights.empty()) f *= table_factor(spec.hour_weights, zone.hour(now_ns));
    if (!spec.day_weights.empty()) f *= table_factor(spec.day_weights, zone.weekday(now_ns));
    return f;
}


}  // namespace supervent::core
