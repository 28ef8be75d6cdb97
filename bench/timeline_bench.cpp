// Root event timeline benchmark: ns per event of RootTimeline::take for each
// volume pattern over a two-year window, and the time to build the table;
// then, as the peer in the same run, the whole scenario engine rendering the
// built-in web_access (backfill over a day, and live batches of 2000), whose
// ns/event the timeline's cost is a share of.
//
// usage: supervent-bench-timeline [--events N] [--shards N] [--zone NAME] [--engine backfill|live]
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "core/event_source.hpp"
#include "core/scenario_engine.hpp"
#include "core/timeline.hpp"

namespace {

using namespace supervent::core;
// CPU time of this thread: other processes sharing the cores do not count.
struct Clock {
    using time_point = std::int64_t;
    static time_point now() {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
    }
};

double ns_since(Clock::time_point t0) { return static_cast<double>(Clock::now() - t0); }

struct Case {
    const char* name;
    VolumePattern pattern;
    SpreadDistribution distribution;
    std::int64_t period_ns;
    bool tables = false;  // business-day hour and day tables and bursts on top
};

// The scenario engine over the built-in web_access: ns per event of next(),
// backfill (a day's window) or live (2000-event batches 1 ms apart).
double engine_ns_per_event(bool backfill, std::uint64_t events) {
    ScenarioInputs in;
    in.builtin = builtin_program("web_access");
    const std::int64_t start = 1'672'531'200 * ns_per_s;
    if (backfill) {
        in.window_start_ns = start;
        in.window_end_ns = start + ns_per_day;
        in.window_events = events;
    }
    auto scenario = compile_scenario(in);
    constexpr std::uint32_t batch = 2000;
    ScenarioEngine engine(scenario, SourceIdentity{42, 0, 1}, batch, 0);
    std::vector<char> out(std::size_t{batch} * engine.event_bytes_max());
    std::uint64_t made = 0;
    std::int64_t now = start;
    const auto t0 = Clock::now();
    while (made < events) {
        const auto b = engine.next(batch, now, out);
        if (b.events == 0) break;
        made += b.events;
        now += 1'000'000;
    }
    return ns_since(t0) / static_cast<double>(made);
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t events = 10'000'000;
    std::uint32_t shards = 1;
    std::string zone_name = "Europe/Berlin";
    std::string engine_only;  // --engine backfill|live: only that peer row (for callgrind)
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--events") == 0) {
            events = std::strtoull(argv[i + 1], nullptr, 10);
        } else if (std::strcmp(argv[i], "--shards") == 0) {
            shards = static_cast<std::uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
        } else if (std::strcmp(argv[i], "--zone") == 0) {
            zone_name = argv[i + 1];
        } else if (std::strcmp(argv[i], "--engine") == 0) {
            engine_only = argv[i + 1];
        } else {
            std::fprintf(stderr, "usage: %s [--events N] [--shards N] [--zone NAME] [--engine backfill|live]\n", argv[0]);
            return 2;
        }
    }
    if (!engine_only.empty()) {
        std::printf("engine %s %.2f ns/event\n", engine_only.c_str(), engine_ns_per_event(engine_only == "backfill", events));
        return 0;
    }
    const TimeZone zone = TimeZone::parse(zone_name);
    const std::int64_t start = 1'672'531'200 * ns_per_s;  // 2023-01-01T00:00:00Z
    const std::int64_t end = start + 730 * ns_per_day;
    const std::int64_t day = ns_per_day;
    const std::int64_t hour = day / 24;
    const Case cases[] = {
        {"24/7 uniform", VolumePattern::always, SpreadDistribution::uniform, day},
        {"24/7 gaussian", VolumePattern::always, SpreadDistribution::gaussian, day},
        {"weekday uniform", VolumePattern::weekday, SpreadDistribution::uniform, day},
        {"weekday gaussian", VolumePattern::weekday, SpreadDistribution::gaussian, day},
        {"weekend uniform", VolumePattern::weekend, SpreadDistribution::uniform, day},
        {"sine_wave 1d", VolumePattern::sine_wave, SpreadDistribution::uniform, day},
        {"sine_wave 1h", VolumePattern::sine_wave, SpreadDistribution::uniform, hour},
        {"sine_wave 1d gauss", VolumePattern::sine_wave, SpreadDistribution::gaussian, day},
        {"linear_increase", VolumePattern::linear_increase, SpreadDistribution::uniform, day},
        {"tables+bursts", VolumePattern::always, SpreadDistribution::uniform, day, true},
    };
    std::printf("window 730 days, %llu events, %u shard(s) (shard 0 timed), zone %s\n\n",
                static_cast<unsigned long long>(events), shards, zone.name().c_str());
    std::printf("%-20s %10s %12s %10s %10s\n", "pattern", "intervals", "build ms", "events", "ns/event");
    std::vector<std::int64_t> out(4096);
    std::uint64_t checksum = 0;
    for (const Case& c : cases) {
        VolumeSpec spec;
        spec.pattern = c.pattern;
        spec.distribution = c.distribution;
        spec.count = events;
        spec.period_ns = c.period_ns;
        if (c.tables) {
            spec.hour_weights = {1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 15, 15, 14, 15, 15, 14, 12, 10, 8, 6, 4, 3, 2, 1};
            spec.day_weights = {10, 10, 10, 10, 8, 3, 2};
            spec.burst_factor = 5;
            spec.burst_on_ns = 2 * hour;
            spec.burst_off_ns = 20 * hour;
        }
        auto t0 = Clock::now();
        RootTimeline timeline(spec, start, end, zone, 0, shards, 42);
        const double build_ns = ns_since(t0);
        // Take in time slices of one hour, the way an engine would.
        t0 = Clock::now();
        std::uint64_t got = 0;
        for (std::int64_t slice = start + hour; timeline.remaining() > 0; slice += hour) {
            for (;;) {
                const std::uint32_t n = timeline.take(out, slice);
                got += n;
                if (n > 0) checksum += static_cast<std::uint64_t>(out[n - 1]);
                if (n < out.size()) break;
            }
        }
        const double take_ns = ns_since(t0);
        std::printf("%-20s %10zu %12.2f %10llu %10.2f\n", c.name, timeline.intervals(), build_ns / 1e6,
                    static_cast<unsigned long long>(got), take_ns / static_cast<double>(got));
    }
    const std::uint64_t engine_events = std::min<std::uint64_t>(events, 2'000'000);
    std::printf("\npeer: scenario engine, built-in web_access, %llu events, batches of 2000\n",
                static_cast<unsigned long long>(engine_events));
    std::printf("%-20s %10.2f ns/event\n", "engine backfill", engine_ns_per_event(true, engine_events));
    std::printf("%-20s %10.2f ns/event\n", "engine live", engine_ns_per_event(false, engine_events));
    std::printf("\n(checksum %llu)\n", static_cast<unsigned long long>(checksum % 1000));
    return 0;
}
