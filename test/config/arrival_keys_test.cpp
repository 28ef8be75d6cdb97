// The arrival-shape keys of a volume entry and of [scenario.live] (issue 18,
// item 1): peak, hour_weights, day_weights, burst_factor, burst_on,
// burst_off reach the model from TOML and YAML, write back through to_toml,
// and bad values are refused naming the key.
#include <catch2/catch.hpp>

#include <string>

#include "config/load.hpp"
#include "config/scenario_rules.hpp"
#include "config/toml_write.hpp"
#include "config/yaml_load.hpp"

using supervent::config::load_toml_text;
using supervent::config::load_yaml_text;
using supervent::config::to_toml;
using Catch::Matchers::Contains;

namespace {

constexpr std::int64_t s_ns = 1'000'000'000;

const char* const toml_scenario = R"(
[generation]
start = "2024-01-01T00:00:00Z"
end = "2024-01-08T00:00:00Z"

[sources.web]
description = "web"

[[sources.web.event_types]]
name = "hit"
message = "hit"

[[sources.web.volume]]
pattern = "sine_wave"
count = 1000
peak = "14:30"
hour_weights = [1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 15, 15, 14, 15, 15, 14, 12, 10, 8, 6, 4, 3, 2, 1]
day_weights = [10, 10, 10, 10, 8, 3, 2]
burst_factor = 5
burst_on = "2m"
burst_off = "30m"

[scenario.live]
kind = "sine"
peak = "13:00:30"
hour_weights = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]
day_weights = [1, 1, 1, 1, 1, 0.5, 0.5]
)";

}  // namespace

TEST_CASE("TOML: arrival shape keys reach the model and write back the same", "[config][arrivals]") {
    const auto settings = load_toml_text(toml_scenario, "shape.toml");
    REQUIRE(settings.sources.size() == 1);
    const auto& v = settings.sources[0].volume.at(0);
    CHECK(v.peak_ns == (14 * 3600 + 30 * 60) * s_ns);
    CHECK(v.hour_weights.size() == 24);
    CHECK(v.hour_weights[10] == 15);
    CHECK(v.day_weights == std::vector<double>{10, 10, 10, 10, 8, 3, 2});
    CHECK(v.burst_factor == 5);
    CHECK(v.burst_on_ns == 120 * s_ns);
    CHECK(v.burst_off_ns == 1800 * s_ns);
    const auto& live = settings.scenario_spec.live;
    CHECK(live.peak_ns == (13 * 3600 + 30) * s_ns);
    CHECK(live.hour_weights.at(23) == 2);
    CHECK(live.day_weights.at(6) == 0.5);
    const auto back = load_toml_text(to_toml(settings), "back.toml");
    CHECK(back.sources.at(0).volume.at(0).peak_ns == v.peak_ns);
    CHECK(back.sources.at(0).volume.at(0).hour_weights == v.hour_weights);
    CHECK(back.sources.at(0).volume.at(0).burst_off_ns == v.burst_off_ns);
    CHECK(back.scenario_spec.live.peak_ns == live.peak_ns);
    CHECK(back.scenario_spec.live.day_weights == live.day_weights);
}

TEST_CASE("YAML: a volume entry takes the arrival shape keys, also inside details", "[config][arrivals]") {
    const auto settings = load_yaml_text(R"(start_time: "2024-01-01T00:00:00Z"
end_time: "2024-01-08T00:00:00Z"
sources:
  web:
    description: web
    attributes: {}
    volume:
      - {pattern: sine_wave, count: 10, details: {peak: "09:00", burst_factor: 3, burst_on: 1m, burst_off: 9m}}
      - {pattern: "24/7", count: 10, day_weights: [1, 1, 1, 1, 1, 0, 0]}
    event_types:
      - {type: hit, format: "hit", create_from_scratch: true}
)",
                                         "shape.yaml");
    const auto& volume = settings.sources.at(0).volume;
    REQUIRE(volume.size() == 2);
    CHECK(volume[0].peak_ns == 9 * 3600 * s_ns);
    CHECK(volume[0].burst_factor == 3);
    CHECK(volume[0].burst_on_ns == 60 * s_ns);
    CHECK(volume[1].day_weights.at(5) == 0);
}

TEST_CASE("arrival shape mistakes are refused naming the key", "[config][arrivals]") {
    std::string text = toml_scenario;
    auto with = [&](const std::string& from, const std::string& to) {
        std::string t = text;
        t.replace(t.find(from), from.size(), to);
        return t;
    };
    CHECK_THROWS_WITH(load_toml_text(with("day_weights = [10, 10, 10, 10, 8, 3, 2]", "day_weights = [1, 2]"), "a.toml"),
                      Contains("day_weights: expected 7 weights, got 2"));
    CHECK_THROWS_WITH(load_toml_text(with("peak = \"14:30\"", "peak = \"25:00\""), "a.toml"), Contains("peak"));
    CHECK_THROWS_WITH(load_toml_text(with("burst_on = \"2m\"", ""), "a.toml"),
                      Contains("a burst_factor needs burst_on and burst_off"));
    CHECK_THROWS_WITH(load_toml_text(with("hour_weights = [1, 1, 1, 1, 1, 2,", "hour_weights = [-1, 1, 1, 1, 1, 2,"), "a.toml"),
                      Contains("hour_weights: every weight must be a finite number >= 0"));
    CHECK(supervent::config::detail::parse_time_of_day_ns("07:05:09") == (7 * 3600 + 5 * 60 + 9) * s_ns);
    CHECK(supervent::config::detail::parse_time_of_day_ns("14h") == 14 * 3600 * s_ns);
}
