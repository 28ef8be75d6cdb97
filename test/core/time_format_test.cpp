#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>

#include "core/time_format.hpp"
#include "core/timeline.hpp"

using namespace supervent::core;

namespace {
std::string render(const TimeFormat& f, std::int64_t time_ns) {
    TimeFormatCache cache;
    char buf[time_text_bytes_max + 64];
    return std::string(buf, f.write(buf, time_ns, cache));
}
std::string render(std::string_view format, std::int64_t time_ns) {
    return render(TimeFormat::compile(format, TextContext::json_string), time_ns);
}
// 2026-11-27T11:24:29.123456789Z, a Friday, day 331.
constexpr std::int64_t sample_ns = 1'795'778'669'123'456'789;
}  // namespace

TEST_CASE("RFC 3339 with nanoseconds", "[time]") {
    const TimeFormat f = TimeFormat::rfc3339_ns();
    CHECK(render(f, 0) == "1970-01-01T00:00:00.000000000Z");
    CHECK(render(f, sample_ns) == "2026-11-27T11:24:29.123456789Z");
    CHECK(render(f, -1) == "1969-12-31T23:59:59.999999999Z");
    CHECK(render(f, 1'709'164'800'000'000'001) == "2024-02-29T00:00:00.000000001Z");
    CHECK(render(f, 951'782'400'000'000'000) == "2000-02-29T00:00:00.000000000Z");
    CHECK(f.bytes_max() == 30);
}

TEST_CASE("Apache and other directives", "[time]") {
    CHECK(render("[%d/%b/%Y:%H:%M:%S %z]", sample_ns) == "[27/Nov/2026:11:24:29 +0000]");
    CHECK(render("%a %A %B %e %j %y", sample_ns) == "Fri Friday November 27 331 26");
    CHECK(render("%e", 1'767'312'000'000'000'000) == " 2");
    CHECK(render("%F %T.%L", sample_ns) == "2026-11-27 11:24:29.123");
    CHECK(render("%s.%f", sample_ns) == "1795778669.123456");
    CHECK(render("%3N|%6N|%9N|%%|%Z|%:z", sample_ns) == "123|123456|123456789|%|UTC|+00:00");
}

TEST_CASE("literal text is escaped for its context", "[time]") {
    CHECK(render("\"%Y\"", sample_ns) == "\\\"2026\\\"");
}

TEST_CASE("the per-second cache follows the time", "[time]") {
    const TimeFormat f = TimeFormat::rfc3339_ns();
    TimeFormatCache cache;
    char buf[128];
    const std::int64_t ns[] = {sample_ns, sample_ns + 1, sample_ns + 1'000'000'000, sample_ns - 86'400'000'000'000};
    for (const std::int64_t t : ns) {
        CHECK(std::string(buf, f.write(buf, t, cache)) == render(f, t));
    }
}

// A new second of the same day patches only the %H %M %S digits of the
// cached text; it must give what a fresh render gives, across days, DST
// changes (the offset moves within a day) and with %s or many clock pieces.
TEST_CASE("patched clock digits match a fresh render", "[time]") {
    const std::shared_ptr<const TimeZone> zones[] = {
        nullptr, std::make_shared<TimeZone>(TimeZone::fixed(19800, "IST")),
        std::make_shared<TimeZone>(TimeZone::parse("Europe/Berlin"))};
    const char* formats[] = {"[%d/%b/%Y:%H:%M:%S %z]", "%FT%T.%L%:z", "%e %a %H:%H:%M %Z|%j", "%T %s", "%H%M%S%H%M%S%H",
                             "%Y-%m-%dT%H:%M:%S.%NZ"};
    const std::int64_t dst_start_2024 = 1'711'846'800;  // 2024-03-31T01:00:00Z, Berlin +01:00 -> +02:00
    for (const auto& zone : zones) {
        for (const char* format : formats) {
            const TimeFormat f = TimeFormat::compile(format, TextContext::json_string, zone);
            TimeFormatCache cache;
            char buf[time_text_bytes_max + 64];
            std::int64_t second = dst_start_2024 - 2 * 86400;
            std::uint64_t x = 88172645463325252ull;
            for (int i = 0; i < 3000; ++i) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                second += static_cast<std::int64_t>(x % 4000) - (x % 10 == 0 ? 6000 : 0);  // mostly forward
                const std::int64_t t = second * 1'000'000'000 + static_cast<std::int64_t>(x % 1'000'000'000);
                const std::string patched(buf, f.write(buf, t, cache));
                INFO(format << " at " << t);
                REQUIRE(patched == render(f, t));
            }
        }
    }
}

TEST_CASE("bad formats are refused", "[time]") {
    CHECK_THROWS_AS(TimeFormat::compile("%Q", TextContext::json_string), std::invalid_argument);
    CHECK_THROWS_AS(TimeFormat::compile("%Y-%", TextContext::json_string), std::invalid_argument);
    CHECK_THROWS_AS(TimeFormat::compile(std::string(300, 'x'), TextContext::json_string), std::invalid_argument);
}
