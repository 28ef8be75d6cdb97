#pragma once
// strftime-style timestamp formats compiled for the serializer.
//
// Everything a format prints that changes at most once a second is rendered
// into a per-shard cache when the second changes; per event the serializer
// copies the cached text and patches in the sub-second digits. Event times in
// a batch are non-decreasing, so the cache almost always hits.
//
// Directives: %Y %y %m %d %e %H %M %S %j %b %h %B %a %A %z %:z %Z %s %T %F
// %L (milliseconds) %f (microseconds) %N (nanoseconds) %3N %6N %9N %% %n %t.
// Times are local to the format's zone (UTC when none is given): %z prints
// its real offset at that instant (+0100, -0530), %:z the same with a colon,
// %Z "UTC" or the zone's name. A format that writes UTC itself (a literal
// "Z" right after a time directive, or a literal "UTC") renders in UTC
// whatever the zone, so "%Y-%m-%dT%H:%M:%S.%LZ" never lies.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/digits.hpp"
#include "core/escape.hpp"

namespace supervent::core {

class TimeZone;

// Largest rendering of any one compiled format, in bytes.
inline constexpr std::size_t time_text_bytes_max = 256;

struct TimeFormatCache {
    struct SubsecondPatch {
        std::uint16_t offset_bytes = 0;
        std::uint16_t digits = 0;
    };
    static constexpr std::size_t patches_max = 4;

    std::int64_t second = std::numeric_limits<std::int64_t>::min();
    // The zone's offset (s) over the UTC seconds [offset_from, offset_until),
    // so a new second looks the zone up only when it leaves that span.
    std::int64_t offset_from = 0;
    std::int64_t offset_until = 0;
    std::int32_t offset_s = 0;
    // The civil date of `day`, kept so a new second on the same day skips the
    // calendar arithmetic (backfill runs see a new second almost every event).
    std::int64_t day = std::numeric_limits<std::int64_t>::min();
    std::int64_t year = 0;
    std::uint32_t month = 0, day_of_month = 0, day_of_year = 0, weekday = 0;
    std::uint32_t text_bytes = 0;
    std::uint32_t patch_count = 0;
    SubsecondPatch patches[patches_max]{};
    // Where the text holds %H, %M and %S (unit 0, 1, 2), and the offset it
    // was rendered with: a new second of the same local day and offset
    // rewrites only those digits (backfill renders a new second for nearly
    // every event; BENCHMARKS.md, issue 18 close-out).
    struct ClockPatch {
        std::uint16_t offset_bytes = 0;
        std::uint16_t unit = 0;
    };
    static constexpr std::size_t clock_patches_max = 6;
    std::uint32_t clock_patch_count = 0;
    std::int32_t text_offset_s = 0;
    ClockPatch clock_patches[clock_patches_max]{};
    // Room for a chunked copy (up to 64-byte chunks) of the longest text.
    alignas(64) char text[time_text_bytes_max + 64]{};
};

class TimeFormat {
public:
    // Throws std::invalid_argument naming the bad directive.
    // `zone` null: UTC.
    [[nodiscard]] static TimeFormat compile(std::string_view format, TextContext context,
                                            std::shared_ptr<const TimeZone> zone = nullptr);

    // The RFC 3339 form Axiom reads best: 2026-11-27T11:24:29.123456789Z.
    [[nodiscard]] static TimeFormat rfc3339_ns();

    [[nodiscard]] std::size_t bytes_max() const { return bytes_max_; }
    [[nodiscard]] std::string_view source() const { return source_; }
    // Whether it renders in a zone other than UTC.
    [[nodiscard]] bool zoned() const { return zone_ != nullptr; }

    // Renders the once-a-second part for `second` into the cache.
    void render_second(std::int64_t second, TimeFormatCache& cache) const;

    // Writes the time; stores up to spill_bytes_max past the returned end.
    // Inline, so the serializer's loop holds the per-event part (a copy of
    // the cached text and the sub-second digits) and calls out only when
    // the second changes.
    char* write(char* out, std::int64_t time_ns, TimeFormatCache& cache) const;

private:
    enum class PieceKind : unsigned char {
        literal, year4, year2, month2, month_abbr, month_name, day2, day_space, hour2, minute2,
        second2, day_of_year3, weekday_abbr, weekday_name, tz_offset, tz_offset_colon, tz_name,
        epoch_seconds, subsecond,
    };
    struct Piece {
        PieceKind kind = PieceKind::literal;
        std::uint16_t digits = 0;  // subsecond digits: 3, 6 or 9
        std::string text;          // literal text, already escaped
    };

    void refresh_offset(std::int64_t second, TimeFormatCache& cache) const;
    void render_text(std::int64_t second, std::uint32_t second_of_day, TimeFormatCache& cache) const;
    void add_directive(std::string_view directive, TextContext context);
    void add_literal(std::string_view text, TextContext context);
    void add(PieceKind kind, std::uint16_t digits = 0);

    std::vector<Piece> pieces_;
    std::size_t bytes_max_ = 0;
    std::size_t subsecond_pieces_ = 0;
    std::size_t clock_pieces_ = 0;  // %H %M %S
    // Whether a new second of the same day may patch the clock digits alone:
    // not with %s (its digits are the whole second) or too many clock pieces.
    bool clock_patchable_ = true;
    std::string source_;
    std::shared_ptr<const TimeZone> zone_;  // null: UTC
    std::string zone_name_ = "UTC";         // what %Z prints
};

// Splits nanoseconds since the epoch into floor seconds and the remainder.
struct SplitTime {
    std::int64_t second;
    std::uint32_t nanosecond;
};
[[nodiscard]] inline SplitTime split_time(std::int64_t time_ns) {
    std::int64_t second = time_ns / 1'000'000'000;
    std::int64_t rest = time_ns % 1'000'000'000;
    if (rest < 0) {
        rest += 1'000'000'000;
        second -= 1;
    }
    return {second, static_cast<std::uint32_t>(rest)};
}

// The first 3, 6 or 9 digits of a nanosecond count, zero-padded.
inline void write_subsecond(char* out, std::uint32_t nanosecond, std::uint32_t digits) {
    write_3_digits(out, nanosecond / 1'000'000);
    if (digits >= 6) write_3_digits(out + 3, nanosecond / 1000 % 1000);
    if (digits >= 9) write_3_digits(out + 6, nanosecond % 1000);
}

inline char* TimeFormat::write(char* out, std::int64_t time_ns, TimeFormatCache& cache) const {
    const SplitTime t = split_time(time_ns);
    if (t.second != cache.second) [[unlikely]] render_second(t.second, cache);
    std::memcpy(out, cache.text, 32);  // most texts are one chunk
    for (std::uint32_t i = 32; i < cache.text_bytes; i += 32) std::memcpy(out + i, cache.text + i, 32);
    if (cache.patch_count > 0) {  // one sub-second piece is the rule; none (or more) the exception
        write_subsecond(out + cache.patches[0].offset_bytes, t.nanosecond, cache.patches[0].digits);
        for (std::uint32_t i = 1; i < cache.patch_count; ++i) {
            write_subsecond(out + cache.patches[i].offset_bytes, t.nanosecond, cache.patches[i].digits);
        }
    }
    return out + cache.text_bytes;
}

}  // namespace supervent::core
