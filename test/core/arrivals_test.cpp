// Statistical tests of root event arrivals (issue 18, item 1): the times of a
// volume entry are a Poisson process with the entry's exact count. Every test
// uses a fixed seed, so it is deterministic; each bound is stated with the
// law it comes from and is set at 4 to 4.5 standard deviations (or the 0.1 %
// quantile), so a correct generator would fail it by chance less than once in
// ten thousand seeds while a jittered grid, a mirrored gaussian or a table
// that is ignored fails it by a wide margin.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <vector>

#include <catch2/catch.hpp>

#include "core/timeline.hpp"

namespace {

using namespace supervent::core;

constexpr std::int64_t s_ns = 1'000'000'000;
constexpr std::int64_t minute_ns = 60 * s_ns;
constexpr std::int64_t hour_ns = 3600 * s_ns;
constexpr std::int64_t day_ns = 24 * hour_ns;
constexpr std::int64_t jan1_2024 = 1'704'067'200 * s_ns;  // a Monday

VolumeSpec volume(std::uint64_t count, SpreadDistribution distribution = SpreadDistribution::uniform) {
    VolumeSpec v;
    v.count = count;
    v.distribution = distribution;
    return v;
}

std::vector<std::int64_t> times(const VolumeSpec& spec, std::int64_t start, std::int64_t end,
                                const TimeZone& zone = TimeZone(), std::uint32_t shard = 0, std::uint32_t shards = 1,
                                std::uint64_t seed = 11) {
    RootTimeline timeline(spec, start, end, zone, shard, shards, seed);
    std::vector<std::int64_t> all;
    std::vector<std::int64_t> buf(4096);
    while (const std::uint32_t n = timeline.take(buf, std::numeric_limits<std::int64_t>::max())) {
        all.insert(all.end(), buf.begin(), buf.begin() + n);
    }
    REQUIRE(all.size() == timeline.total());
    return all;
}

std::vector<double> per_bin(const std::vector<std::int64_t>& all, std::int64_t start, std::int64_t bin_ns,
                            std::size_t bins) {
    std::vector<double> count(bins);
    for (const std::int64_t t : all) ++count.at(static_cast<std::size_t>((t - start) / bin_ns));
    return count;
}

// Index of dispersion statistic: sum (c - mean)^2 / mean, chi-square with bins - 1 degrees of freedom.
double dispersion(const std::vector<double>& count) {
    double sum = 0;
    for (const double c : count) sum += c;
    const double mean = sum / static_cast<double>(count.size());
    double d = 0;
    for (const double c : count) d += (c - mean) * (c - mean) / mean;
    return d;
}

}  // namespace

TEST_CASE("arrivals: per-minute counts of a day have the Poisson dispersion (chi-square)", "[timeline][arrivals]") {
    // 144,000 events over a day: 100 per minute. For Poisson counts (multinomial,
    // given the total) the dispersion statistic is chi-square with 1439 degrees
    // of freedom: mean 1439, sd sqrt(2 * 1439) = 53.6; bounds at 4 sd.
    const auto all = times(volume(144'000), jan1_2024, jan1_2024 + day_ns);
    const auto count = per_bin(all, jan1_2024, minute_ns, 1440);
    const double d = dispersion(count);
    INFO("dispersion statistic " << d << ", index " << d / 1439);
    CHECK(d > 1439 - 4 * 53.6);
    CHECK(d < 1439 + 4 * 53.6);
    // The spread is wide, as real traffic's: some minute is off by 30 or more
    // (a jittered grid stays within one or two events of 100).
    const auto [lo, hi] = std::minmax_element(count.begin(), count.end());
    CHECK(*hi - *lo > 60);
}

TEST_CASE("arrivals: gaps are exponential (Kolmogorov-Smirnov at the 0.1 % level)", "[timeline][arrivals]") {
    constexpr std::uint64_t n = 100'000;
    const std::int64_t span = 2 * day_ns;
    const auto all = times(volume(n), jan1_2024, jan1_2024 + span);
    std::vector<double> gaps;
    gaps.reserve(n - 1);
    const double mean = static_cast<double>(span) / static_cast<double>(n);
    for (std::size_t i = 1; i < all.size(); ++i) gaps.push_back(static_cast<double>(all[i] - all[i - 1]) / mean);
    std::sort(gaps.begin(), gaps.end());
    double ks = 0;
    const double m = static_cast<double>(gaps.size());
    for (std::size_t i = 0; i < gaps.size(); ++i) {
        const double cdf = 1 - std::exp(-gaps[i]);
        ks = std::max({ks, static_cast<double>(i + 1) / m - cdf, cdf - static_cast<double>(i) / m});
    }
    // Critical value of the KS statistic at alpha = 0.001: 1.95 / sqrt(m).
    INFO("KS statistic " << ks << ", critical " << 1.95 / std::sqrt(m));
    CHECK(ks < 1.95 / std::sqrt(m));
    // And the gaps vary as an exponential's do: coefficient of variation 1 (not ~0.3 as on a grid).
    double s1 = 0;
    double s2 = 0;
    for (const double g : gaps) {
        s1 += g;
        s2 += g * g;
    }
    const double cv = std::sqrt(s2 / m - (s1 / m) * (s1 / m)) / (s1 / m);
    CHECK(cv == Approx(1).margin(0.03));
}

TEST_CASE("arrivals: hour-of-day and day-of-week tables shape the counts", "[timeline][arrivals]") {
    const TimeZone zone = TimeZone::parse("+05:30");
    VolumeSpec spec = volume(400'000);
    spec.hour_weights = {1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 15, 15, 14, 15, 15, 14, 12, 10, 8, 6, 4, 3, 2, 1};
    spec.day_weights = {10, 10, 10, 10, 8, 3, 2};
    const std::int64_t start = jan1_2024 - 5 * hour_ns - 30 * minute_ns;  // local Monday midnight
    const std::int64_t end = start + 28 * day_ns;                          // four whole local weeks
    const auto all = times(spec, start, end, zone);
    std::vector<double> hours(24);
    std::vector<double> days(7);
    for (const std::int64_t t : all) {
        ++hours[static_cast<std::size_t>(zone.hour(t))];
        ++days[static_cast<std::size_t>(zone.weekday(t))];
    }
    // Whole weeks: each (day, hour) cell has weight day * hour, so the marginal
    // shares are the tables' own shares. Counts are binomial: 4.5 sd each.
    double hour_sum = 0;
    double day_sum = 0;
    for (const double w : spec.hour_weights) hour_sum += w;
    for (const double w : spec.day_weights) day_sum += w;
    for (std::size_t h = 0; h < 24; ++h) {
        const double p = spec.hour_weights[h] / hour_sum;
        const double expected = 400'000 * p;
        INFO("hour " << h << " expected " << expected << " got " << hours[h]);
        CHECK(std::abs(hours[h] - expected) < 4.5 * std::sqrt(expected * (1 - p)));
    }
    for (std::size_t d = 0; d < 7; ++d) {
        const double p = spec.day_weights[d] / day_sum;
        const double expected = 400'000 * p;
        INFO("day " << d << " expected " << expected << " got " << days[d]);
        CHECK(std::abs(days[d] - expected) < 4.5 * std::sqrt(expected * (1 - p)));
    }
}

TEST_CASE("arrivals: rate tables with the wrong length or no positive weight are refused", "[timeline][arrivals]") {
    VolumeSpec spec = volume(10);
    spec.hour_weights = {1, 2, 3};
    CHECK_THROWS_WITH(RootTimeline(spec, jan1_2024, jan1_2024 + day_ns, TimeZone(), 0, 1, 1),
                      Catch::Contains("hour_weights: expected 24 weights, got 3"));
    spec.hour_weights.clear();
    spec.day_weights = {0, 0, 0, 0, 0, 0, 0};
    CHECK_THROWS_WITH(RootTimeline(spec, jan1_2024, jan1_2024 + day_ns, TimeZone(), 0, 1, 1),
                      Catch::Contains("day_weights: at least one weight must be > 0"));
}

TEST_CASE("arrivals: gaussian is random, not mirrored, with the stated moments", "[timeline][arrivals]") {
    constexpr std::uint64_t n = 200'000;
    const std::int64_t span = 20 * hour_ns;
    const auto all = times(volume(n, SpreadDistribution::gaussian), jan1_2024, jan1_2024 + span);
    const double w = static_cast<double>(span);
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    for (const std::int64_t t : all) {
        const double z = (static_cast<double>(t - jan1_2024) - w / 2) / (w / 6);
        s1 += z;
        s2 += z * z;
        s3 += z * z * z;
    }
    const double m = static_cast<double>(n);
    const double mean = s1 / m;
    const double sd = std::sqrt(s2 / m - mean * mean);
    // A normal truncated at +-3 sigma: sd 0.98658, skewness 0. Standard errors
    // sd / sqrt(n) = 0.0022 (mean), ~0.0016 (sd), sqrt(6 / n) = 0.0055 (skewness).
    CHECK(std::abs(mean) < 4.5 * 0.0022);
    CHECK(sd == Approx(0.98658).margin(4.5 * 0.0016));
    CHECK(std::abs(s3 / m / (sd * sd * sd)) < 4.5 * 0.0055);
    // Not mirrored: 5-minute bins on the two sides of the middle differ (a
    // mirrored, stratified curve had every pair equal: 1920 / 1920).
    const auto count = per_bin(all, jan1_2024, 5 * minute_ns, 240);
    int equal_pairs = 0;
    double left = 0;
    double right = 0;
    for (std::size_t b = 0; b < 120; ++b) {
        equal_pairs += count[b] == count[239 - b];
        left += count[b];
        right += count[239 - b];
    }
    CHECK(equal_pairs < 30);
    CHECK(left != right);
}

TEST_CASE("arrivals: sine_wave peaks at its peak time of day, in the zone", "[timeline][arrivals]") {
    const TimeZone berlin = TimeZone::parse("Europe/Berlin");
    VolumeSpec spec = volume(200'000);
    spec.pattern = VolumePattern::sine_wave;
    spec.amplitude = 0.5;
    spec.period_ns = day_ns;
    spec.peak_ns = 14 * hour_ns + 30 * minute_ns;  // 14:30 local
    const auto all = times(spec, jan1_2024 + 3 * hour_ns + 17 * s_ns, jan1_2024 + 10 * day_ns + 3 * hour_ns, berlin);
    // Circular mean of the local time of day: the peak of 1 + a cos. With
    // resultant length a / 2 its sd is 1 / (sqrt(2 n) a / 2) rad = 1.4 min.
    double c = 0;
    double s = 0;
    for (const std::int64_t t : all) {
        const std::int64_t local = ((t + std::int64_t{berlin.offset_s(t)} * s_ns) % day_ns + day_ns) % day_ns;
        const double angle = 2 * std::numbers::pi * static_cast<double>(local) / static_cast<double>(day_ns);
        c += std::cos(angle);
        s += std::sin(angle);
    }
    double peak_h = std::atan2(s, c) / (2 * std::numbers::pi) * 24;
    if (peak_h < 0) peak_h += 24;
    INFO("peak at " << peak_h << " h local");
    CHECK(peak_h == Approx(14.5).margin(10.0 / 60));  // 7 sd
    const double r = std::hypot(c, s) / static_cast<double>(all.size());
    CHECK(r == Approx(0.25).margin(0.01));  // amplitude / 2
}

TEST_CASE("arrivals: bursts make counts overdispersed, the count stays exact", "[timeline][arrivals]") {
    VolumeSpec spec = volume(144'000);
    spec.burst_factor = 10;
    spec.burst_on_ns = 3 * minute_ns;
    spec.burst_off_ns = 30 * minute_ns;
    const auto all = times(spec, jan1_2024, jan1_2024 + day_ns);
    REQUIRE(all.size() == 144'000);
    const double index = dispersion(per_bin(all, jan1_2024, minute_ns, 1440)) / 1439;
    INFO("index of dispersion " << index);
    CHECK(index > 5);  // Poisson: 1 +- 0.15
    // Every shard sees the same bursts: the union over three shards is the same times.
    std::vector<std::int64_t> united;
    for (std::uint32_t shard = 0; shard < 3; ++shard) {
        const auto mine = times(spec, jan1_2024, jan1_2024 + day_ns, TimeZone(), shard, 3);
        united.insert(united.end(), mine.begin(), mine.end());
    }
    std::sort(united.begin(), united.end());
    CHECK(united == all);
}

TEST_CASE("arrivals: the time of event k is a pure function of (seed, entry, k): shard i of n owns k % n == i",
          "[timeline][arrivals]") {
    VolumeSpec spec = volume(1'000'003, SpreadDistribution::gaussian);
    spec.pattern = VolumePattern::weekday;
    const std::int64_t start = jan1_2024;
    const std::int64_t end = start + 40 * day_ns;
    const auto all = times(spec, start, end);
    for (const std::uint32_t shards : {2u, 5u, 64u, 1000u}) {
        for (const std::uint32_t shard : {0u, shards / 2, shards - 1}) {
            const auto mine = times(spec, start, end, TimeZone(), shard, shards);
            std::size_t mismatches = 0;
            for (std::size_t j = 0; j < mine.size(); ++j) mismatches += mine[j] != all[shard + j * shards];
            INFO(shards << " shards, shard " << shard);
            CHECK(mismatches == 0);
        }
    }
}

TEST_CASE("arrivals: a live sine with a peak time peaks then, in local time", "[timeline][arrivals]") {
    const TimeZone berlin = TimeZone::parse("Europe/Berlin");
    LiveShape shape;
    shape.kind = LiveShape::Kind::sine;
    shape.amplitude = 0.5;
    shape.period_ns = day_ns;
    shape.peak_ns = 14 * hour_ns;
    const std::int64_t july1 = 1'719'792'000 * s_ns;  // 2024-07-01T00:00:00Z, CEST (+02:00)
    CHECK(live_factor(shape, july1, july1 + 12 * hour_ns, berlin) == Approx(1.5));  // 14:00 local
    CHECK(live_factor(shape, july1, july1 + 24 * hour_ns, berlin) == Approx(0.5));  // 02:00 local
    VolumeSpec spec = volume(1);
    spec.pattern = VolumePattern::weekend;
    spec.hour_weights = std::vector<double>(24, 1.0);
    spec.hour_weights[12] = 25;  // 25 of 48: 12.5 times the mean
    CHECK(volume_live_factor(spec, july1, july1 + 12 * hour_ns, berlin) == 0);  // a Monday
    CHECK(volume_live_factor(spec, july1, july1 - day_ns + 10 * hour_ns, berlin) == Approx(12.5));  // Sunday 12:00
}

// Live gaussian and linear_increase (issue 18): no window live, so they repeat
// over the entry's own window (flat without one), scaled to average 1 over
// it; tolerance 1 % on the numeric mean.
TEST_CASE("arrivals: live gaussian and linear_increase follow their window length", "[timeline][arrivals]") {
    const TimeZone utc = TimeZone::parse("UTC");
    const std::int64_t start = 1'719'792'000 * s_ns;
    VolumeSpec gaussian = volume(1);
    gaussian.distribution = SpreadDistribution::gaussian;
    CHECK(volume_live_factor(gaussian, start, start + 5 * hour_ns, utc) == 1);  // no window of its own: flat
    gaussian.start_ns = start;
    gaussian.end_ns = start + day_ns;
    // Lowest at the window's start, highest mid-window (e^{-4.5} apart), again a period later.
    const double low = volume_live_factor(gaussian, 0, start, utc);
    const double high = volume_live_factor(gaussian, 0, start + 12 * hour_ns, utc);
    CHECK(high / low == Approx(std::exp(4.5)).epsilon(0.001));
    CHECK(volume_live_factor(gaussian, 0, start + 36 * hour_ns, utc) == Approx(high));
    VolumeSpec linear = volume(1);
    linear.pattern = VolumePattern::linear_increase;
    linear.ramp_from = 0.1;
    linear.start_ns = start;
    linear.end_ns = start + 2 * hour_ns;  // its own window: a 2-hour period from its start
    CHECK(volume_live_factor(linear, 0, start, utc) == Approx(0.1 / 0.55));
    CHECK(volume_live_factor(linear, 0, start + hour_ns, utc) == Approx(0.55 / 0.55));
    CHECK(volume_live_factor(linear, 0, start + 3 * hour_ns, utc) == Approx(0.55 / 0.55));
    for (const VolumeSpec& spec : {gaussian, linear}) {
        double sum = 0;
        constexpr int steps = 2000;
        const std::int64_t period = spec.end_ns - spec.start_ns;
        for (int i = 0; i < steps; ++i) sum += volume_live_factor(spec, start, start + period * i / steps + period / (2 * steps), utc);
        CHECK(sum / steps == Approx(1.0).epsilon(0.01));
    }
}
