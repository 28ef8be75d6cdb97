#include "core/time_format.hpp"

#include <cassert>
#include <cstring>
#include <stdexcept>

#include "core/digits.hpp"
#include "core/timeline.hpp"

namespace supervent::core {
namespace {

constexpr std::string_view month_abbrs[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::string_view month_names[] = {"January", "February", "March",     "April",
                                            "May",     "June",     "July",      "August",
                                            "September", "October", "November", "December"};
constexpr std::string_view weekday_abbrs[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view weekday_names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                              "Thursday", "Friday", "Saturday"};

// Howard Hinnant's civil_from_days: proleptic Gregorian, valid for every int64 ns time.
void set_civil_day(std::int64_t days, TimeFormatCache& c) {
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<std::uint32_t>(z - era * 146097);
    const std::uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  // March-based
    const std::uint32_t mp = (5 * doy + 2) / 153;
    const std::uint32_t day = doy - (153 * mp + 2) / 5 + 1;
    const std::uint32_t month = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t year = static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    constexpr std::uint32_t days_before_month[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    c.day = days;
    c.year = year;
    c.month = month;
    c.day_of_month = day;
    c.day_of_year = days_before_month[month - 1] + day + (leap && month > 2 ? 1 : 0);
    c.weekday = static_cast<std::uint32_t>(((days % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
}

void append(char*& p, std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
}

void append_2(char*& p, std::uint32_t v) {
    write_2_digits(p, v);
    p += 2;
}


// "+hhmm" or "+hh:mm" for an offset in seconds (seconds of an offset, which
// only pre-1900 local mean times have, are dropped as strftime does).
void append_offset(char*& p, std::int32_t offset_s, bool colon) {
    *p++ = offset_s < 0 ? '-' : '+';
    const std::uint32_t magnitude = static_cast<std::uint32_t>(offset_s < 0 ? -offset_s : offset_s);
    append_2(p, magnitude / 3600 % 100);
    if (colon) *p++ = ':';
    append_2(p, magnitude / 60 % 60);
}

// Whether the format states UTC itself: a literal "UTC", or a literal "Z"
// right after a directive ("%SZ", "%LZ").
bool says_utc(std::string_view format) {
    for (std::size_t i = 0; i < format.size(); ++i) {
        if (format[i] == '%') {
            ++i;
            if (i < format.size() && (format[i] == ':' || (format[i] >= '0' && format[i] <= '9'))) ++i;
            if (i + 1 < format.size() && format[i + 1] == 'Z') return true;
            continue;
        }
        if (format.substr(i, 3) == "UTC") return true;
    }
    return false;
}

// Offsets change at whole quarter hours (every transition since 1900), so a
// quarter hour whose two ends agree has one offset throughout.
constexpr std::int64_t offset_slot_s = 900;

}  // namespace

TimeFormat TimeFormat::compile(std::string_view format, TextContext context, std::shared_ptr<const TimeZone> zone) {
    TimeFormat f;
    f.source_ = std::string(format);
    if (zone != nullptr && !says_utc(format) && zone->name() != "UTC") {
        f.zone_ = std::move(zone);
        f.zone_name_ = f.zone_->name();
    }
    std::size_t literal_begin = 0;
    for (std::size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') continue;
        f.add_literal(format.substr(literal_begin, i - literal_begin), context);
        std::size_t end = i + 1;
        if (end < format.size() && (format[end] == ':' || (format[end] >= '0' && format[end] <= '9'))) ++end;
        if (end >= format.size()) {
            throw std::invalid_argument("time format \"" + std::string(format) + "\" ends inside a directive");
        }
        f.add_directive(format.substr(i, end + 1 - i), context);
        i = end;
        literal_begin = end + 1;
    }
    f.add_literal(format.substr(std::min(literal_begin, format.size())), context);
    if (f.bytes_max_ > time_text_bytes_max) {
        throw std::invalid_argument("time format \"" + std::string(format) + "\" is too long");
    }
    if (f.subsecond_pieces_ > TimeFormatCache::patches_max) {
        throw std::invalid_argument("time format \"" + std::string(format) + "\" has too many sub-second directives");
    }
    return f;
}

TimeFormat TimeFormat::rfc3339_ns() { return compile("%Y-%m-%dT%H:%M:%S.%NZ", TextContext::json_string); }

void TimeFormat::add(PieceKind kind, std::uint16_t digits) {
    constexpr std::size_t widths[] = {0, 4, 2, 2, 3, 9, 2, 2, 2, 2, 2, 3, 3, 9, 5, 6, 3, 20, 0};
    pieces_.push_back(Piece{kind, digits, {}});
    bytes_max_ += kind == PieceKind::subsecond ? digits
                  : kind == PieceKind::tz_name ? zone_name_.size()
                                               : widths[static_cast<std::size_t>(kind)];
    if (kind == PieceKind::subsecond) ++subsecond_pieces_;
    if (kind == PieceKind::hour2 || kind == PieceKind::minute2 || kind == PieceKind::second2) ++clock_pieces_;
    if (kind == PieceKind::epoch_seconds || clock_pieces_ > TimeFormatCache::clock_patches_max) clock_patchable_ = false;
}

void TimeFormat::add_literal(std::string_view text, TextContext context) {
    if (text.empty()) return;
    std::string escaped = escape_text(text, context);
    bytes_max_ += escaped.size();
    pieces_.push_back(Piece{PieceKind::literal, 0, std::move(escaped)});
}

void TimeFormat::add_directive(std::string_view d, TextContext context) {
    using K = PieceKind;
    if (d == "%Y") return add(K::year4);
    if (d == "%y") return add(K::year2);
    if (d == "%m") return add(K::month2);
    if (d == "%d") return add(K::day2);
    if (d == "%e") return add(K::day_space);
    if (d == "%H") return add(K::hour2);
    if (d == "%M") return add(K::minute2);
    if (d == "%S") return add(K::second2);
    if (d == "%j") return add(K::day_of_year3);
    if (d == "%b" || d == "%h") return add(K::month_abbr);
    if (d == "%B") return add(K::month_name);
    if (d == "%a") return add(K::weekday_abbr);
    if (d == "%A") return add(K::weekday_name);
    if (d == "%z") return add(K::tz_offset);
    if (d == "%:z") return add(K::tz_offset_colon);
    if (d == "%Z") return add(K::tz_name);
    if (d == "%s") return add(K::epoch_seconds);
    if (d == "%L" || d == "%3N") return add(K::subsecond, 3);
    if (d == "%f" || d == "%6N") return add(K::subsecond, 6);
    if (d == "%N" || d == "%9N") return add(K::subsecond, 9);
    if (d == "%T") return add_directive("%H", context), add_literal(":", context), add_directive("%M", context),
                          add_literal(":", context), add_directive("%S", context);
    if (d == "%F") return add_directive("%Y", context), add_literal("-", context), add_directive("%m", context),
                          add_literal("-", context), add_directive("%d", context);
    if (d == "%%") return add_literal("%", context);
    if (d == "%n") return add_literal("\n", context);
    if (d == "%t") return add_literal("\t", context);
    throw std::invalid_argument("time format \"" + source_ + "\": unknown directive " + std::string(d));
}

void TimeFormat::refresh_offset(std::int64_t second, TimeFormatCache& cache) const {
    const std::int64_t slot = (second >= 0 ? second : second - (offset_slot_s - 1)) / offset_slot_s * offset_slot_s;
    const std::int32_t first = zone_->offset_s(slot * ns_per_s);
    const std::int32_t last = zone_->offset_s((slot + offset_slot_s - 1) * ns_per_s);
    if (first == last) {
        cache.offset_from = slot;
        cache.offset_until = slot + offset_slot_s;
        cache.offset_s = first;
    } else {
        cache.offset_from = second;
        cache.offset_until = second + 1;
        cache.offset_s = zone_->offset_s(second * ns_per_s);
    }
}

void TimeFormat::render_second(std::int64_t second, TimeFormatCache& cache) const {
    if (zone_ && (second < cache.offset_from || second >= cache.offset_until)) refresh_offset(second, cache);
    const std::int64_t local = zone_ ? second + cache.offset_s : second;
    std::int64_t days = local / 86400;
    std::int64_t second_of_day = local % 86400;
    if (second_of_day < 0) {
        second_of_day += 86400;
        days -= 1;
    }
    const auto sod = static_cast<std::uint32_t>(second_of_day);
    if (days == cache.day && cache.offset_s == cache.text_offset_s && clock_patchable_) {
        // Same local day and offset: only %H %M %S differ from the cached text.
        const std::uint32_t units[] = {sod / 3600, sod / 60 % 60, sod % 60};
        for (std::uint32_t i = 0; i < cache.clock_patch_count; ++i) {
            const TimeFormatCache::ClockPatch patch = cache.clock_patches[i];
            write_2_digits(cache.text + patch.offset_bytes, units[patch.unit]);
        }
        cache.second = second;
        return;
    }
    if (days != cache.day) set_civil_day(days, cache);
    render_text(second, sod, cache);
}

// The whole text for `second` (second_of_day local), the civil day already in the cache.
void TimeFormat::render_text(std::int64_t second, std::uint32_t sod, TimeFormatCache& cache) const {
    const auto& c = cache;
    const std::uint32_t hour = sod / 3600;
    const std::uint32_t minute = sod / 60 % 60;
    char* p = cache.text;
    cache.patch_count = 0;
    cache.clock_patch_count = 0;
    auto clock = [&](std::uint16_t unit, std::uint32_t value) {
        if (clock_patchable_) cache.clock_patches[cache.clock_patch_count++] = {static_cast<std::uint16_t>(p - cache.text), unit};
        append_2(p, value);
    };
    using K = PieceKind;
    for (const Piece& piece : pieces_) {
        switch (piece.kind) {
            case K::literal: append(p, piece.text); break;
            case K::year4: append_2(p, static_cast<std::uint32_t>(c.year / 100 % 100)); append_2(p, static_cast<std::uint32_t>(c.year % 100)); break;
            case K::year2: append_2(p, static_cast<std::uint32_t>(c.year % 100)); break;
            case K::month2: append_2(p, c.month); break;
            case K::month_abbr: append(p, month_abbrs[c.month - 1]); break;
            case K::month_name: append(p, month_names[c.month - 1]); break;
            case K::day2: append_2(p, c.day_of_month); break;
            case K::day_space: append_2(p, c.day_of_month); if (c.day_of_month < 10) p[-2] = ' '; break;
            case K::hour2: clock(0, hour); break;
            case K::minute2: clock(1, minute); break;
            case K::second2: clock(2, sod % 60); break;
            case K::day_of_year3: write_3_digits(p, c.day_of_year); p += 3; break;
            case K::weekday_abbr: append(p, weekday_abbrs[c.weekday]); break;
            case K::weekday_name: append(p, weekday_names[c.weekday]); break;
            // UTC (no zone) copies its constant offset: backfill renders a
            // new second for nearly every event (BENCHMARKS.md, issue 18).
            case K::tz_offset: zone_ ? append_offset(p, cache.offset_s, false) : append(p, "+0000"); break;
            case K::tz_offset_colon: zone_ ? append_offset(p, cache.offset_s, true) : append(p, "+00:00"); break;
            case K::tz_name: append(p, zone_name_); break;
            case K::epoch_seconds:
                if (second < 0) *p++ = '-';
                p = write_uint(p, static_cast<std::uint64_t>(second < 0 ? -second : second));
                break;
            case K::subsecond:
                cache.patches[cache.patch_count++] = {static_cast<std::uint16_t>(p - cache.text), piece.digits};
                std::memset(p, '0', piece.digits);
                p += piece.digits;
                break;
        }
    }
    cache.text_bytes = static_cast<std::uint32_t>(p - cache.text);
    cache.second = second;
    cache.text_offset_s = cache.offset_s;
    assert(cache.text_bytes <= bytes_max_);
}


}  // namespace supervent::core
