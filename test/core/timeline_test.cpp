// Root event timelines and time zones: exact counts, order, window bounds,
// the shape of every pattern and distribution (statistically), day
// boundaries in fixed and DST zones checked against the C library, live
// factors, and no allocation after construction.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/timeline.hpp"
#include "test/common/alloc_counter.hpp"

namespace {

using namespace supervent::core;

constexpr std::int64_t s_ns = 1'000'000'000;
constexpr std::int64_t hour_ns = 3600 * s_ns;
constexpr std::int64_t day_ns = 24 * hour_ns;
// 2024-01-01T00:00:00Z, a Monday.
constexpr std::int64_t jan1_2024 = 1'704'067'200 * s_ns;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}
int utc_weekday(std::int64_t t) { return static_cast<int>(((floor_div(t, day_ns) + 3) % 7 + 7) % 7); }

VolumeSpec volume(VolumePattern pattern, SpreadDistribution distribution, std::uint64_t count) {
    VolumeSpec v;
    v.pattern = pattern;
    v.distribution = distribution;
    v.count = count;
    return v;
}

// All of one shard's times, taken in chunks of `chunk`.
std::vector<std::int64_t> drain(RootTimeline& timeline, std::size_t chunk = 1000) {
    std::vector<std::int64_t> all;
    std::vector<std::int64_t> buf(chunk);
    for (;;) {
        const std::uint32_t n = timeline.take(buf, std::numeric_limits<std::int64_t>::max());
        all.insert(all.end(), buf.begin(), buf.begin() + n);
        if (n == 0) break;
    }
    return all;
}

std::vector<std::int64_t> times(const VolumeSpec& spec, std::int64_t start, std::int64_t end,
                                const TimeZone& zone = TimeZone(), std::uint32_t shard = 0, std::uint32_t shards = 1,
                                std::uint64_t seed = 7) {
    RootTimeline timeline(spec, start, end, zone, shard, shards, seed);
    auto all = drain(timeline);
    REQUIRE(all.size() == timeline.total());
    return all;
}

// The C library as the oracle for local time (tests only: the module never calls it).
struct LibcZone {
    explicit LibcZone(const char* name) {
        setenv("TZ", name, 1);
        tzset();
    }
    ~LibcZone() {
        unsetenv("TZ");
        tzset();
    }
    static std::tm local(std::int64_t t_ns) {
        const std::time_t s = static_cast<std::time_t>(floor_div(t_ns, s_ns));
        std::tm tm{};
        localtime_r(&s, &tm);
        return tm;
    }
    static int weekday(std::int64_t t_ns) { return (local(t_ns).tm_wday + 6) % 7; }  // Monday = 0
    static long date_key(std::int64_t t_ns) {
        const std::tm tm = local(t_ns);
        return (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    }
};

// Vector equality without Catch printing a million elements when it fails.
bool same(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
    if (a.size() != b.size()) {
        UNSCOPED_INFO("sizes " << a.size() << " and " << b.size());
        return false;
    }
    const auto diff = std::mismatch(a.begin(), a.end(), b.begin());
    if (diff.first == a.end()) return true;
    UNSCOPED_INFO("first difference at " << (diff.first - a.begin()) << ": " << *diff.first << " vs " << *diff.second);
    return false;
}

std::uint64_t splitmix(std::uint64_t& s) {
    s += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

}  // namespace

TEST_CASE("timeline: shard shares sum to count exactly, each shard sorted and inside the window", "[timeline]") {
    const std::int64_t start = jan1_2024;
    const std::int64_t end = start + 30 * day_ns;
    const TimeZone berlin = TimeZone::parse("Europe/Berlin");
    for (const auto pattern : {VolumePattern::always, VolumePattern::weekday, VolumePattern::sine_wave}) {
        for (const std::uint64_t count : {0ull, 1ull, 10ull, 1'000'000ull}) {
            const auto spec = volume(pattern, SpreadDistribution::gaussian, count);
            std::vector<std::int64_t> one = times(spec, start, end, berlin);
            REQUIRE(one.size() == count);
            for (const std::uint32_t shards : {1u, 2u, 3u, 7u}) {
                std::vector<std::int64_t> all;
                std::uint64_t sum = 0;
                for (std::uint32_t shard = 0; shard < shards; ++shard) {
                    RootTimeline timeline(spec, start, end, berlin, shard, shards, 7);
                    CHECK(timeline.total() == count / shards + (shard < count % shards ? 1 : 0));
                    auto mine = drain(timeline, 777);
                    REQUIRE(mine.size() == timeline.total());
                    CHECK(timeline.remaining() == 0);
                    CHECK(timeline.peek() == std::numeric_limits<std::int64_t>::max());
                    CHECK(std::is_sorted(mine.begin(), mine.end()));
                    if (!mine.empty()) {
                        CHECK(mine.front() >= start);
                        CHECK(mine.back() < end);
                    }
                    sum += mine.size();
                    all.insert(all.end(), mine.begin(), mine.end());
                }
                CHECK(sum == count);
                // The union over shards is the very same set of times for any shard count.
                std::sort(all.begin(), all.end());
                CHECK(same(all, one));
            }
        }
    }
}

TEST_CASE("timeline: count 0 is empty and never throws even where the density is zero", "[timeline]") {
    // 2024-01-02 (Tuesday) .. 2024-01-05 (Friday): no weekend day.
    RootTimeline timeline(volume(VolumePattern::weekend, SpreadDistribution::uniform, 0), jan1_2024 + day_ns,
                          jan1_2024 + 4 * day_ns, TimeZone(), 0, 1, 1);
    CHECK(timeline.total() == 0);
    CHECK(timeline.peek() == std::numeric_limits<std::int64_t>::max());
    std::int64_t buf[4];
    CHECK(timeline.take(buf, std::numeric_limits<std::int64_t>::max()) == 0);
    CHECK(timeline.expected_between(jan1_2024, jan1_2024 + 10 * day_ns) == 0);
}

TEST_CASE("timeline: a density that is zero everywhere is an error that says why", "[timeline]") {
    const std::int64_t tuesday = jan1_2024 + day_ns;
    auto message = [](const VolumeSpec& spec, std::int64_t a, std::int64_t b, const TimeZone& zone) {
        try {
            RootTimeline timeline(spec, a, b, zone, 0, 1, 1);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    const std::string weekend =
        message(volume(VolumePattern::weekend, SpreadDistribution::gaussian, 5), tuesday, tuesday + 3 * day_ns, TimeZone());
    CHECK_THAT(weekend, Catch::Contains("weekend pattern") && Catch::Contains("no Saturday or Sunday"));
    // Saturday 00:00 .. Monday 00:00 UTC has no weekday in UTC, but in +05:30 it ends on Monday 05:30 local.
    const std::int64_t saturday = jan1_2024 + 5 * day_ns;
    const std::string weekday =
        message(volume(VolumePattern::weekday, SpreadDistribution::uniform, 5), saturday, saturday + 2 * day_ns, TimeZone());
    CHECK_THAT(weekday, Catch::Contains("weekday pattern") && Catch::Contains("no Monday..Friday"));
    CHECK(message(volume(VolumePattern::weekday, SpreadDistribution::uniform, 5), saturday, saturday + 2 * day_ns,
                  TimeZone::parse("+05:30")) == "no error");
    CHECK_THAT(message(volume(VolumePattern::always, SpreadDistribution::uniform, 5), saturday, saturday, TimeZone()),
               Catch::Contains("empty"));
    VolumeSpec bad_sine = volume(VolumePattern::sine_wave, SpreadDistribution::uniform, 5);
    bad_sine.period_ns = 0;
    CHECK_THAT(message(bad_sine, saturday, saturday + day_ns, TimeZone()), Catch::Contains("period"));
    CHECK_THROWS_AS(RootTimeline(volume(VolumePattern::always, SpreadDistribution::uniform, 5), 0, day_ns, TimeZone(),
                                 3, 3, 1),
                    std::invalid_argument);
}

TEST_CASE("timeline: weekday events fall on Monday..Friday only, in UTC and in +05:30", "[timeline]") {
    const std::int64_t start = jan1_2024 + 3 * hour_ns;  // windows need not start at midnight
    const std::int64_t end = start + 28 * day_ns;
    for (const auto distribution : {SpreadDistribution::uniform, SpreadDistribution::gaussian}) {
        const auto all = times(volume(VolumePattern::weekday, distribution, 100'000), start, end, TimeZone());
        int per_day[7] = {};
        for (const std::int64_t t : all) ++per_day[utc_weekday(t)];
        CHECK(per_day[5] == 0);
        CHECK(per_day[6] == 0);
        if (distribution == SpreadDistribution::uniform) {
            for (int d = 0; d < 5; ++d) CHECK(per_day[d] == Approx(20'000).epsilon(0.03));
        }
    }
    const TimeZone india = TimeZone::parse("+05:30");
    const std::int64_t shift = 5 * hour_ns + 30 * 60 * s_ns;
    const auto all = times(volume(VolumePattern::weekday, SpreadDistribution::uniform, 100'000), start, end, india);
    int local_weekend = 0;
    int utc_sunday = 0;
    for (const std::int64_t t : all) {
        local_weekend += utc_weekday(t + shift) >= 5;
        utc_sunday += utc_weekday(t) == 6;
    }
    CHECK(local_weekend == 0);
    // Monday 00:00 in India is Sunday 18:30 UTC: the boundary really moved.
    CHECK(utc_sunday > 1000);
}

TEST_CASE("timeline: weekday and weekend in Europe/Berlin across both DST changes", "[timeline]") {
    const TimeZone berlin = TimeZone::parse("Europe/Berlin");
    LibcZone libc("Europe/Berlin");
    const std::int64_t start = jan1_2024 + 60 * day_ns;  // 2024-03-01 .. 2024-11-27: 2024-03-31 and 2024-10-27
    const std::int64_t end = start + 271 * day_ns;
    const auto weekday = times(volume(VolumePattern::weekday, SpreadDistribution::gaussian, 200'000), start, end, berlin);
    int wrong = 0;
    for (const std::int64_t t : weekday) wrong += LibcZone::weekday(t) >= 5;
    CHECK(wrong == 0);
    const auto weekend = times(volume(VolumePattern::weekend, SpreadDistribution::uniform, 200'000), start, end, berlin);
    wrong = 0;
    int near_edges = 0;  // events within an hour of a local weekend's edges: present, so the edges are exact
    for (const std::int64_t t : weekend) {
        wrong += LibcZone::weekday(t) < 5;
        const std::tm tm = LibcZone::local(t);
        near_edges += (tm.tm_hour == 0 && tm.tm_wday == 6) || (tm.tm_hour == 23 && tm.tm_wday == 0);
    }
    CHECK(wrong == 0);
    CHECK(near_edges > 1000);
}

TEST_CASE("timeline: gaussian has mean mid-window and sigma a sixth of it, clipped", "[timeline]") {
    const std::int64_t start = jan1_2024;
    const std::int64_t end = start + 10 * day_ns + 12345;
    const double w = static_cast<double>(end - start);
    const auto all = times(volume(VolumePattern::always, SpreadDistribution::gaussian, 100'000), start, end);
    double sum = 0;
    double sum2 = 0;
    int within_sigma = 0;
    for (const std::int64_t t : all) {
        const double z = (static_cast<double>(t - start) - w / 2) / (w / 6);
        sum += z;
        sum2 += z * z;
        within_sigma += std::abs(z) < 1;
    }
    const double n = static_cast<double>(all.size());
    const double mean = sum / n;
    const double sd = std::sqrt(sum2 / n - mean * mean);
    CHECK(std::abs(mean) < 0.01);
    // A normal truncated at +-3 sigma has standard deviation 0.98658 sigma.
    CHECK(sd == Approx(0.98658).epsilon(0.005));
    CHECK(within_sigma / n == Approx(0.68269 / 0.99730).epsilon(0.005));
    CHECK(all.front() >= start);
    CHECK(all.back() < end);
}

TEST_CASE("timeline: sine_wave counts per phase follow 1 + a sin", "[timeline]") {
    const std::int64_t start = jan1_2024 + 17 * 60 * s_ns;
    const std::int64_t period = day_ns;
    const std::int64_t end = start + 10 * period;
    for (const double amplitude : {0.5, 1.0}) {
        VolumeSpec spec = volume(VolumePattern::sine_wave, SpreadDistribution::uniform, 1'000'000);
        spec.amplitude = amplitude;
        spec.period_ns = period;
        const auto all = times(spec, start, end);
        constexpr int bins = 24;
        std::vector<double> count(bins);
        for (const std::int64_t t : all) ++count[static_cast<std::size_t>(((t - start) % period) * bins / period)];
        for (int b = 0; b < bins; ++b) {
            // Integral of 1 + a sin(2 pi x) over the bin, over the integral over a period (1).
            const double x0 = static_cast<double>(b) / bins;
            const double x1 = static_cast<double>(b + 1) / bins;
            const double share =
                (x1 - x0) + amplitude / (2 * std::numbers::pi) *
                                (std::cos(2 * std::numbers::pi * x0) - std::cos(2 * std::numbers::pi * x1));
            const double expected = share * 1'000'000;
            INFO("amplitude " << amplitude << " bin " << b << " expected " << expected << " got " << count[b]);
            // Poisson arrivals: a bin's count spreads by sqrt(expected); 4.5 sigma per bin.
            CHECK(std::abs(count[b] - expected) < 4.5 * std::sqrt(expected));
        }
    }
}

TEST_CASE("timeline: linear_increase puts ramp-ratio more events in the last tenth than the first", "[timeline]") {
    const std::int64_t start = jan1_2024;
    const std::int64_t end = start + 730 * day_ns;
    for (const double ramp_from : {0.1, 0.5, 0.0}) {
        VolumeSpec spec = volume(VolumePattern::linear_increase, SpreadDistribution::uniform, 1'000'000);
        spec.ramp_from = ramp_from;
        const auto all = times(spec, start, end);
        const std::int64_t tenth = (end - start) / 10;
        const auto first = std::lower_bound(all.begin(), all.end(), start + tenth) - all.begin();
        const auto last = all.end() - std::lower_bound(all.begin(), all.end(), end - tenth);
        // Mean density over a tenth: ramp_from + (1 - ramp_from) * (0.05 or 0.95).
        const double d_first = ramp_from + (1 - ramp_from) * 0.05;
        const double d_last = ramp_from + (1 - ramp_from) * 0.95;
        const double mean = (1 + ramp_from) / 2;
        CHECK(static_cast<double>(first) == Approx(1e5 * d_first / mean).epsilon(0.01));
        CHECK(static_cast<double>(last) == Approx(1e5 * d_last / mean).epsilon(0.01));
        CHECK(static_cast<double>(last) / static_cast<double>(first) == Approx(d_last / d_first).epsilon(0.02));
    }
}

TEST_CASE("timeline: uniform bins spread as independent draws would (chi-square), sub-second times", "[timeline]") {
    const std::int64_t start = jan1_2024 + 999;
    const std::int64_t end = start + 7 * day_ns + 1234567;
    const auto all = times(volume(VolumePattern::always, SpreadDistribution::uniform, 1'000'000), start, end);
    constexpr int bins = 100;
    std::vector<double> count(bins);
    for (const std::int64_t t : all) {
        ++count[static_cast<std::size_t>(static_cast<double>(t - start) / static_cast<double>(end - start) * bins)];
    }
    double chi2 = 0;
    for (const double c : count) {
        CHECK(std::abs(c - 10'000) < 450);  // 4.5 sigma
        chi2 += (c - 10'000) * (c - 10'000) / 10'000;
    }
    // Random arrivals: chi2 with 99 degrees of freedom, 99 +- 14; the 0.1 %
    // and 99.9 % quantiles are 61.9 and 148.2. (A jittered grid gives ~0.)
    CHECK(chi2 > 61.9);
    CHECK(chi2 < 148.2);
    // Sub-second resolution: not every time is on a whole second (or microsecond).
    int sub_us = 0;
    for (std::size_t i = 0; i < 1000; ++i) sub_us += all[i] % 1000 != 0;
    CHECK(sub_us > 900);
}

TEST_CASE("timeline: same seed gives the same times, however they are taken, another seed differs", "[timeline]") {
    const std::int64_t start = jan1_2024;
    const std::int64_t end = start + 14 * day_ns;
    const TimeZone berlin = TimeZone::parse("Europe/Berlin");
    const auto spec = volume(VolumePattern::weekday, SpreadDistribution::gaussian, 50'000);
    const auto a = times(spec, start, end, berlin, 1, 3, 99);
    const auto b = times(spec, start, end, berlin, 1, 3, 99);
    CHECK(same(a, b));
    const auto c = times(spec, start, end, berlin, 1, 3, 100);
    REQUIRE(c.size() == a.size());
    CHECK(!same(a, c));

    // Taken in time slices with odd buffer sizes: same sequence, every take stops before the slice end.
    RootTimeline timeline(spec, start, end, berlin, 1, 3, 99);
    std::vector<std::int64_t> sliced;
    std::uint64_t seed = 5;
    std::int64_t slice_end = start;
    std::vector<std::int64_t> buf(300);
    while (timeline.remaining() > 0) {
        slice_end += static_cast<std::int64_t>(splitmix(seed) % (3 * hour_ns));
        const std::size_t want = 1 + splitmix(seed) % 300;
        const std::int64_t next = timeline.peek();
        const std::uint32_t n = timeline.take(std::span(buf).first(want), slice_end);
        if (n > 0) {
            REQUIRE(buf[0] == next);
        }
        for (std::uint32_t i = 0; i < n; ++i) REQUIRE(buf[i] < slice_end);
        if (n < want) REQUIRE(timeline.peek() >= slice_end);
        sliced.insert(sliced.end(), buf.begin(), buf.begin() + n);
    }
    CHECK(same(sliced, a));
}

TEST_CASE("timeline: expected_between matches the counts", "[timeline]") {
    const std::int64_t start = jan1_2024;
    const std::int64_t end = start + 30 * day_ns;
    VolumeSpec spec = volume(VolumePattern::sine_wave, SpreadDistribution::gaussian, 300'000);
    spec.period_ns = 3 * day_ns;
    RootTimeline timeline(spec, start, end, TimeZone(), 0, 2, 3);
    const auto all = drain(timeline);
    CHECK(timeline.expected_between(start, end) == Approx(150'000));
    CHECK(timeline.expected_between(start - day_ns, end + day_ns) == Approx(150'000));
    CHECK(timeline.expected_between(end, start) == 0);
    for (std::int64_t a = start; a < end; a += 2 * day_ns + 7 * hour_ns) {
        const std::int64_t b = a + day_ns;
        const auto n = std::lower_bound(all.begin(), all.end(), b) - std::lower_bound(all.begin(), all.end(), a);
        const double expected = timeline.expected_between(a, b);
        INFO("from " << (a - start) / hour_ns << " h: expected " << expected << ", got " << n);
        CHECK(std::abs(static_cast<double>(n) - expected) < 4.5 * std::sqrt(expected) + 1);  // Poisson spread
    }
}

TEST_CASE("timeline: the entry's own window wins over the scenario's, tiny windows work", "[timeline]") {
    VolumeSpec spec = volume(VolumePattern::always, SpreadDistribution::uniform, 1000);
    spec.start_ns = jan1_2024 + day_ns;
    spec.end_ns = jan1_2024 + 2 * day_ns;
    const auto own = times(spec, jan1_2024, jan1_2024 + 100 * day_ns);
    CHECK(own.front() >= spec.start_ns);
    CHECK(own.back() < spec.end_ns);

    spec.start_ns = jan1_2024;
    spec.end_ns = jan1_2024 + 10;  // 10 ns, 1000 events
    for (const auto pattern : {VolumePattern::always, VolumePattern::linear_increase, VolumePattern::sine_wave}) {
        spec.pattern = pattern;
        const auto tiny = times(spec, 0, 0);
        REQUIRE(tiny.size() == 1000);
        CHECK(std::is_sorted(tiny.begin(), tiny.end()));
        CHECK(tiny.front() >= spec.start_ns);
        CHECK(tiny.back() < spec.end_ns);
    }
}

TEST_CASE("timeline: two years and ten million events, shards stay sorted and exact", "[timeline]") {
    const std::int64_t start = jan1_2024;
    const std::int64_t end = start + 730 * day_ns;
    VolumeSpec spec = volume(VolumePattern::sine_wave, SpreadDistribution::uniform, 10'000'000);
    spec.period_ns = hour_ns;  // 17520 periods: the table caps at 2^17 intervals
    RootTimeline timeline(spec, start, end, TimeZone(), 1, 2, 11);
    CHECK(timeline.intervals() <= (1u << 17) + 1);
    std::vector<std::int64_t> buf(4096);
    std::uint64_t got = 0;
    std::int64_t last = start;
    bool sorted = true;
    for (std::uint32_t n; (n = timeline.take(buf, end)) > 0;) {
        got += n;
        sorted = sorted && buf[0] >= last && std::is_sorted(buf.begin(), buf.begin() + n);
        last = buf[n - 1];
    }
    CHECK(got == 5'000'000);
    CHECK(sorted);
    CHECK(last < end);
}

TEST_CASE("timeline: take() never allocates", "[timeline]") {
    VolumeSpec spec = volume(VolumePattern::weekday, SpreadDistribution::gaussian, 100'000);
    RootTimeline timeline(spec, jan1_2024, jan1_2024 + 30 * day_ns, TimeZone::parse("Europe/Berlin"), 0, 1, 1);
    std::vector<std::int64_t> buf(1000);
    const std::uint64_t before = supervent::test::heap_allocations();
    std::uint64_t got = 0;
    for (std::int64_t slice = jan1_2024; timeline.remaining() > 0; slice += hour_ns) {
        got += timeline.take(buf, slice);
        (void)timeline.expected_between(slice, slice + hour_ns);
    }
    CHECK(supervent::test::heap_allocations() == before);
    CHECK(got == 100'000);
}

TEST_CASE("time zone: parsing fixed offsets and names, and clear errors", "[timeline][tz]") {
    const std::int64_t t = jan1_2024 + 12 * hour_ns;
    CHECK(TimeZone::parse("UTC").offset_s(t) == 0);
    CHECK(TimeZone::parse("Z").offset_s(t) == 0);
    CHECK(TimeZone::parse("+02:00").offset_s(t) == 7200);
    CHECK(TimeZone::parse("-0530").offset_s(t) == -19800);
    CHECK(TimeZone::parse("+05:30").offset_s(t) == 19800);
    CHECK(TimeZone::parse("+5").offset_s(t) == 18000);
    CHECK(TimeZone::parse("UTC-03:00").offset_s(t) == -10800);
    CHECK(TimeZone::parse("Europe/Berlin").offset_s(t) == 3600);
    CHECK(TimeZone::parse("Europe/Berlin").offset_s(t + 180 * day_ns) == 7200);
    CHECK(TimeZone::parse("Europe/Berlin").name() == "Europe/Berlin");
    for (const char* bad : {"Mars/Olympus_Mons", "+25:00", "+02:60", "../../etc/passwd", "", "Europe", "+0"
                                                                                                       "2:0"}) {
        INFO(bad);
        try {
            (void)TimeZone::parse(bad);
            FAIL("no error");
        } catch (const std::invalid_argument& e) {
            CHECK_THAT(e.what(), Catch::Contains("unknown time zone") && Catch::Contains("Europe/Berlin"));
        }
    }
}

TEST_CASE("time zone: offsets, weekdays, hours and day starts match the C library", "[timeline][tz]") {
    // Southern hemisphere, half-hour zones, negative DST, DST at midnight, a skipped day, far future (POSIX rule).
    for (const char* name : {"Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Europe/Dublin",
                             "America/Sao_Paulo", "Pacific/Apia", "Australia/Lord_Howe", "America/Santiago", "UTC"}) {
        const TimeZone zone = TimeZone::parse(name);
        LibcZone libc(name);
        std::uint64_t seed = 42;
        int checked = 0;
        for (int i = 0; i < 20'000; ++i) {
            // 1970 .. 2100
            const auto t = static_cast<std::int64_t>(splitmix(seed) % (4'102'444'800ull * s_ns));
            const std::tm tm = LibcZone::local(t);
            INFO(name << " at " << t / s_ns);
            REQUIRE(zone.offset_s(t) == tm.tm_gmtoff);
            REQUIRE(zone.weekday(t) == (tm.tm_wday + 6) % 7);
            REQUIRE(zone.hour(t) == tm.tm_hour);
            const std::int64_t d0 = zone.day_start(t);
            const std::int64_t d1 = zone.next_day_start(t);
            REQUIRE(d0 <= t);
            REQUIRE(t < d1);
            REQUIRE(d1 - d0 <= 25 * hour_ns);
            // The local date advances exactly at d0 and at d1, and not in between.
            REQUIRE(LibcZone::date_key(d0) == LibcZone::date_key(t));
            REQUIRE(LibcZone::date_key(d0 - 1) < LibcZone::date_key(d0));
            REQUIRE(LibcZone::date_key(d1 - 1) == LibcZone::date_key(t));
            REQUIRE(LibcZone::date_key(d1) > LibcZone::date_key(t));
            REQUIRE(zone.day_start(d1) == d1);
            REQUIRE(zone.next_day_start(d0 - 1) == d0);
            ++checked;
        }
        CHECK(checked == 20'000);
    }
}

TEST_CASE("time zone: Berlin's DST days are 23 and 25 hours long", "[timeline][tz]") {
    const TimeZone berlin = TimeZone::parse("Europe/Berlin");
    const std::int64_t march31 = jan1_2024 + 90 * day_ns + 12 * hour_ns;  // 2024-03-31 12:00 UTC
    CHECK(berlin.next_day_start(march31) - berlin.day_start(march31) == 23 * hour_ns);
    const std::int64_t october27 = jan1_2024 + 300 * day_ns + 12 * hour_ns;  // 2024-10-27 12:00 UTC
    CHECK(berlin.next_day_start(october27) - berlin.day_start(october27) == 25 * hour_ns);
    CHECK(berlin.day_start(march31) == jan1_2024 + 90 * day_ns - hour_ns);  // 00:00 CET = 23:00 UTC the day before
    // 2100 is past the table in the file: the footer rule (last Sunday of March) still applies.
    const std::int64_t mar_2100 = 4'107'542'400ll * s_ns;  // 2100-03-01T00:00:00Z
    int dst_days = 0;
    for (std::int64_t t = mar_2100 + 12 * hour_ns; t < mar_2100 + 31 * day_ns; t += day_ns) {
        dst_days += berlin.next_day_start(t) - berlin.day_start(t) == 23 * hour_ns;
    }
    CHECK(dst_days == 1);
}

TEST_CASE("live factor: every shape", "[timeline][live]") {
    const TimeZone utc;
    const std::int64_t since = jan1_2024;  // Monday 00:00 UTC
    LiveShape shape;
    CHECK(live_factor(shape, since, since + 12345 * s_ns, utc) == 1);

    shape.kind = LiveShape::Kind::sine;
    shape.amplitude = 0.4;
    shape.period_ns = 4 * hour_ns;
    CHECK(live_factor(shape, since, since, utc) == Approx(1));
    CHECK(live_factor(shape, since, since + hour_ns, utc) == Approx(1.4));
    CHECK(live_factor(shape, since, since + 2 * hour_ns, utc) == Approx(1).margin(1e-12));
    CHECK(live_factor(shape, since, since + 3 * hour_ns, utc) == Approx(0.6));
    CHECK(live_factor(shape, since, since + 4 * 1000 * hour_ns + hour_ns, utc) == Approx(1.4));
    shape.amplitude = 1.5;
    CHECK(live_factor(shape, since, since + 3 * hour_ns, utc) == 0);  // never negative

    shape = LiveShape{};
    shape.kind = LiveShape::Kind::ramp;
    shape.ramp_from = 0.2;
    shape.ramp_ns = 10 * s_ns;
    CHECK(live_factor(shape, since, since, utc) == Approx(0.2));
    CHECK(live_factor(shape, since, since + 5 * s_ns, utc) == Approx(0.6));
    CHECK(live_factor(shape, since, since + 10 * s_ns, utc) == Approx(1));
    CHECK(live_factor(shape, since, since + 100 * s_ns, utc) == Approx(1));
    shape.ramp_ns = 0;
    CHECK(live_factor(shape, since, since, utc) == 1);

    shape = LiveShape{};
    shape.kind = LiveShape::Kind::step;
    shape.steps = {{60 * s_ns, 3}, {10 * s_ns, 2}, {120 * s_ns, 0.5}};  // not in order
    CHECK(live_factor(shape, since, since + 5 * s_ns, utc) == 1);
    CHECK(live_factor(shape, since, since + 10 * s_ns, utc) == 2);
    CHECK(live_factor(shape, since, since + 59 * s_ns, utc) == 2);
    CHECK(live_factor(shape, since, since + 60 * s_ns, utc) == 3);
    CHECK(live_factor(shape, since, since + 1000 * s_ns, utc) == 0.5);

    shape = LiveShape{};
    shape.kind = LiveShape::Kind::business_hours;  // 9..17, off hours 0.1
    const TimeZone berlin = TimeZone::parse("Europe/Berlin");
    const std::int64_t monday = jan1_2024;  // Monday 01:00 in Berlin (CET)
    CHECK(live_factor(shape, since, monday + 8 * hour_ns, berlin) == 1);      // 09:00 local
    CHECK(live_factor(shape, since, monday + 7 * hour_ns, berlin) == 0.1);    // 08:00 local
    CHECK(live_factor(shape, since, monday + 16 * hour_ns - 1, berlin) == 1); // 16:59:59.999 local
    CHECK(live_factor(shape, since, monday + 16 * hour_ns, berlin) == 0.1);   // 17:00 local
    CHECK(live_factor(shape, since, monday + 8 * hour_ns, utc) == 0.1);       // 08:00 UTC
    CHECK(live_factor(shape, since, monday + 5 * day_ns + 10 * hour_ns, berlin) == 0.1);  // Saturday
    const std::int64_t july1 = jan1_2024 + 182 * day_ns;                     // Monday 2024-07-01, CEST
    CHECK(live_factor(shape, since, july1 + 7 * hour_ns, berlin) == 1);       // 09:00 local
    shape.open_hour = 22;
    shape.close_hour = 6;  // a night shift wraps past midnight
    CHECK(live_factor(shape, since, monday + 22 * hour_ns, utc) == 1);
    CHECK(live_factor(shape, since, monday + 3 * hour_ns, utc) == 1);
    CHECK(live_factor(shape, since, monday + 12 * hour_ns, utc) == 0.1);
}
