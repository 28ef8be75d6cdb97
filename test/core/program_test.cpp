// The program builder and the event clock.
#include <catch2/catch.hpp>

#include <array>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/program.hpp"
#include "core/program_source.hpp"

using namespace supervent::core;

TEST_CASE("the event clock keeps times ordered and inside the window", "[clock]") {
    const std::int64_t big = std::numeric_limits<std::int64_t>::max() / 2;
    const std::array<TimeRange, 6> ranges = {{
        {0, 0}, {100, 103}, {-1'000'000, 1'000'000}, {5, 5 + 10'000}, {-big, big}, {1, 2},
    }};
    std::uint64_t seed = 99;
    for (const TimeRange r : ranges) {
        for (const std::uint32_t count : {1u, 7u, 1000u}) {
            EventClock clock(r, count);
            std::vector<std::uint64_t> raw(count);
            for (auto& w : raw) w = splitmix64_next(seed);
            std::vector<std::uint64_t> out(count);
            clock.fill(raw.data(), count / 2, out.data());  // in two blocks, as the source does
            clock.fill(raw.data() + count / 2, count - count / 2, out.data() + count / 2);
            for (std::uint32_t i = 0; i < count; ++i) {
                const auto t = static_cast<std::int64_t>(out[i]);
                INFO("range " << r.begin_ns << ".." << r.end_ns << " count " << count << " i " << i);
                if (r.begin_ns == r.end_ns) {
                    CHECK(t == r.begin_ns);
                } else {
                    CHECK(t >= r.begin_ns);
                    CHECK(t < r.end_ns);
                }
                if (i > 0) CHECK(t >= static_cast<std::int64_t>(out[i - 1]));
            }
        }
    }
    // A range that ends before it begins is a programming error (asserted), not tested here.
}

TEST_CASE("a tiny program serializes what it declares", "[program]") {
    ProgramBuilder b("tiny");
    const Column time = b.event_time();
    const std::array<std::string_view, 1> values = {"say \"hi\"\n"};
    const Column word = b.choice(values, {});
    const std::array<IntBucket, 1> one_range = {{{42, 42, 1}}};
    const Column n = b.buckets(one_range);
    b.raw("{\"t\":\"");
    b.put_time(time, "%Y");
    b.raw("\",\"w\":\"");
    b.put_text(word);
    b.raw("\",\"n\":");
    b.put_uint(n);
    b.raw(",\"f\":");
    b.put_fixed(n, 2);
    b.raw("}\n");
    const auto program = b.finish();
    ProgramSource source(program, SourceIdentity{}, 4, scalar_kernels());
    std::vector<char> out(4 * source.event_bytes_max());
    const std::size_t bytes = source.write_ndjson(2, {0, 0}, out);
    const std::string line = R"({"t":"1970","w":"say \"hi\"\n","n":42,"f":0.42})" "\n";
    CHECK(std::string(out.data(), bytes) == line + line);
    CHECK(source.event_bytes_max() >= line.size());
}

TEST_CASE("the builder refuses inconsistent programs", "[program]") {
    const std::array<std::string_view, 2> values = {"a", "b"};
    const std::array<double, 1> one_weight = {1};
    const std::array<IntBucket, 1> reversed = {{{5, 4, 1}}};
    const std::array<IntBucket, 1> too_wide = {{{0, std::uint64_t{1} << 33, 1}}};
    ProgramBuilder b("bad");
    CHECK_THROWS_AS(b.choice(std::span<const std::string_view>{}, {}), std::invalid_argument);
    CHECK_THROWS_AS(b.choice(values, one_weight), std::invalid_argument);
    CHECK_THROWS_AS(b.buckets(reversed), std::invalid_argument);
    CHECK_THROWS_AS(b.buckets(too_wide), std::invalid_argument);
    const Column c = b.choice(values, {});
    CHECK_THROWS_AS(b.put_uint(c), std::logic_error);
    b.raw("{}\n");
    CHECK_THROWS_AS(b.finish(), std::logic_error);  // no time column
}
