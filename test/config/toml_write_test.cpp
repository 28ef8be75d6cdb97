// to_toml(): every original YAML file, converted, loads back as TOML into the
// same scenario; and the TOML scenario keys ([[sources.NAME.volume]], root,
// [scenario] …) reach the model and are checked like the YAML ones.
#include <catch2/catch.hpp>

#include <string>

#include "config/load.hpp"
#include "config/scenario_rules.hpp"
#include "config/toml_write.hpp"
#include "config/values.hpp"
#include "config/yaml_load.hpp"
#include "toml_text.hpp"

using supervent::config::ConfigError;
using supervent::config::load_toml_text;
using supervent::config::load_yaml_file;
using supervent::config::load_yaml_text;
using supervent::config::Settings;
using supervent::config::to_toml;
using supervent::config::without_origins;
using supervent::core::DelaySpec;
using supervent::core::LiveShape;
using supervent::core::VolumePattern;
using Catch::Matchers::Contains;

namespace {

const std::string data_dir = std::string(SUPERVENT_SOURCE_DIR) + "/test/data/original-configs/";

// The scenario and the settings a conversion carries must come back equal.
void check_same_scenario(const Settings& a, const Settings& b) {
    REQUIRE(a.sources.size() == b.sources.size());
    for (std::size_t i = 0; i < a.sources.size(); ++i) {
        CAPTURE(a.sources[i].name);
        CHECK(without_origins(a.sources[i]) == without_origins(b.sources[i]));
    }
    CHECK(without_origins(a.scenario_spec) == without_origins(b.scenario_spec));
    CHECK(a.window_start_ns == b.window_start_ns);
    CHECK(a.window_end_ns == b.window_end_ns);
    CHECK(a.scale == b.scale);
    CHECK(a.workers == b.workers);
    CHECK(a.batch_events == b.batch_events);
    CHECK(a.connections == b.connections);
    CHECK(a.tcp_nodelay == b.tcp_nodelay);
    CHECK(a.rate_eps == b.rate_eps);
    CHECK(a.metrics_listen == b.metrics_listen);
    CHECK(a.dataset == b.dataset);
}

}  // namespace

TEST_CASE("every original YAML file converts to TOML that loads back into the same scenario", "[toml_write]") {
    for (const auto* name : {"3tier.yaml", "config.yaml", "ec2.yaml", "k8s.yaml", "mysql.yaml", "nested_okta.yaml",
                             "nodejs.yaml", "okta.yaml", "rds.yaml", "sofi.yaml", "sofi-spike.yaml", "webaccess.yaml"}) {
        CAPTURE(name);
        const auto yaml = load_yaml_file(data_dir + name);
        const auto toml = to_toml(yaml);
        CAPTURE(toml);
        const auto back = load_toml_text(toml, "converted.toml");
        check_same_scenario(yaml, back);
        // The conversion's warnings travel as comments; the TOML itself needs none.
        CHECK(back.warnings.empty());
        if (!yaml.warnings.empty()) CHECK_THAT(toml, Contains("#   " + yaml.warnings.front()));
        // And a second round changes nothing.
        const auto body = [](const std::string& text) { return text.substr(text.find("\n[")); };
        CHECK(body(to_toml(back)) == body(toml));
    }
}

TEST_CASE("to_toml writes every scenario feature so that it reads back the same", "[toml_write]") {
    const auto yaml = load_yaml_text(R"(start_time: "2024-01-01T00:00:00.25Z"
end_time: "2024-02-01T00:00:00Z"
timezone: "+02:00"
dataset: "fallback"
runtime: {threads: 3, batch_size: 500}
generation: {target_rate: "20000 per minute"}
monitoring: {metrics_port: 9100}
sources:
  "web server":
    description: "quote \" backslash \\ tab \t end"
    dataset: web
    attributes:
      "a.b": {type: choice, values: ['x', 2, 2.5, false, 2]}
      c: {type: float, min: -1.5, max: 2, precision: 3}
      d: {type: timestamp, format: "%d/%b/%Y:%H:%M:%S.%L"}
      e: {type: string, generator: client_ip}
      f: {type: hex, length: 8}
      nested: {g: email, h: {i: ipv4}}
    volume:
      - {pattern: sine_wave, count: 7, distribution: gaussian, details: {period: 90m, amplitude: 0.3}}
      - {pattern: linear_increase, count: 9, start: "2024-01-05T00:00:00Z", end: "2024-01-06T00:00:00.000000001Z", ramp_from: 0.5}
    event_types:
      - {type: hit, format: "{a.b} {{c}} {d} {e} {f} {nested.g} {nested.h.i}", weight: 3}
      - {type: child, format: "child of {request_id}", create_from_scratch: false}
dependencies:
  - trigger: {source: "web server", event_type: hit, message_contains: "x \""}
    action: {source: "web server", event_type: child, percentage: 12.5, delay: {mean: 30ms, stddev: 5ms, min: 1ms, max: 90ms}}
event_frequencies:
  surge: {"web server": {hit: "1 per hour"}}
)",
                                     "all.yaml");
    const auto toml = to_toml(yaml);
    CAPTURE(toml);
    const auto back = load_toml_text(toml, "all.toml");
    check_same_scenario(yaml, back);
    REQUIRE(back.scenario_spec.dependencies.size() == 1);
    CHECK(back.scenario_spec.dependencies[0].delay.kind == DelaySpec::Kind::normal);
    CHECK(back.scenario_spec.type_rates.at(0).events_per_s == Approx(1.0 / 3600));
    CHECK(back.sources.at(0).volume.at(1).end_ns - back.sources.at(0).volume.at(1).start_ns == 86'400'000'000'001);
    CHECK(back.sources.at(0).fields.at(0).name == "a.b");
    CHECK(*back.rate_eps == Approx(20000.0 / 60));
    CHECK(back.scenario_spec.timezone == "+02:00");
}

TEST_CASE("TOML: [[sources.NAME.volume]], root and [scenario] reach the model", "[toml_write]") {
    const auto settings = supervent::test::load_toml_as(R"(
[generation]
start = "2024-01-01T00:00:00Z"
end = "2024-01-08T00:00:00Z"
scale = 0.5

[scenario]
timezone = "Europe/Berlin"

[scenario.live]
kind = "step"
steps = [{ at = "10m", factor = 2.0 }, { at = "1h", factor = 0.5 }]

[[scenario.dependencies]]
trigger_source = "web"
trigger_type = "hit"
message_contains = "500"
action_source = "web"
action_type = "error"
percentage = 40
delay = { distribution = "uniform", min = "10ms", max = "200ms" }

[[scenario.rates]]
source = "web"
event_type = "hit"
per_second = 250

[sources.web]
[sources.web.fields.code]
type = "choice"
values = [200, 500]

[[sources.web.event_types]]
name = "hit"
message = "{code}"

[[sources.web.event_types]]
name = "error"
root = false
message = "error {code}"

[[sources.web.volume]]
pattern = "weekday"
count = 1000
distribution = "gaussian"
)",
                                                        "scn.toml");
    CHECK(settings.scale == 0.5);  // recorded; the daemon's resolution applies it
    CHECK(settings.sources.at(0).volume.at(0).count == 1000);
    CHECK(settings.sources.at(0).volume.at(0).pattern == VolumePattern::weekday);
    CHECK_FALSE(settings.sources.at(0).event_types.at(1).root);
    CHECK(settings.scenario_spec.timezone == "Europe/Berlin");
    CHECK(settings.scenario_spec.live.kind == LiveShape::Kind::step);
    REQUIRE(settings.scenario_spec.live.steps.size() == 2);
    CHECK(settings.scenario_spec.live.steps[0].at_ns == 600'000'000'000);
    const auto& dependency = settings.scenario_spec.dependencies.at(0);
    CHECK(dependency.message_contains == "500");
    CHECK(dependency.percentage == 40);
    CHECK(dependency.delay.kind == DelaySpec::Kind::uniform);
    CHECK(dependency.delay.max_ns == 200'000'000);
    CHECK(dependency.origin.line == 14);
    CHECK(settings.scenario_spec.type_rates.at(0).events_per_s == 250);
    CHECK(settings.warnings.empty());
}

TEST_CASE("TOML: scenario mistakes are refused naming file, line and key", "[toml_write]") {
    const std::string source = R"(
[sources.web]
[sources.web.fields.code]
type = "choice"
values = [200]

[[sources.web.event_types]]
name = "hit"
message = "{code}"

[[sources.web.event_types]]
name = "miss"
message = "{code}"
)";
    auto error = [&](std::string_view more) { return supervent::test::toml_error_as(source + std::string(more), "scn.toml"); };
    CHECK_THAT(error("\n[[sources.web.volume]]\npattern = \"hourly\"\ncount = 1\n"),
               Contains("scn.toml:16: sources.web.volume[0].pattern: unknown pattern 'hourly'"));
    CHECK_THAT(error("\n[[sources.web.volume]]\npattern = \"24/7\"\n"), Contains("scn.toml:15: sources.web.volume[0]: a volume entry needs count"));
    CHECK_THAT(error("\n[scenario.live]\nkind = \"sine\"\nperiodd = \"1h\"\n"),
               Contains("scn.toml:17: scenario.live.periodd: unknown key (did you mean 'period'?)"));
    CHECK_THAT(error("\n[[scenario.dependencies]]\ntrigger_source = \"web\"\ntrigger_type = \"hit\"\naction_source = \"web\"\n"
                     "action_type = \"miss\"\n\n[[scenario.dependencies]]\ntrigger_source = \"web\"\ntrigger_type = \"miss\"\n"
                     "action_source = \"web\"\naction_type = \"hit\"\n"),
               Contains("dependency cycle web.hit -> web.miss -> web.hit"));
    CHECK_THAT(error("\n[[scenario.dependencies]]\ntrigger_source = \"web\"\ntrigger_type = \"hit\"\naction_source = \"db\"\n"
                     "action_type = \"x\"\n"),
               Contains("scn.toml:15: scenario.dependencies[0]: action source 'db' is not a source of this scenario"));
    CHECK_THAT(error("\n[[scenario.dependencies]]\ntrigger_source = \"web\"\ntrigger_type = \"hit\"\naction_source = \"web\"\n"
                     "action_type = \"miss\"\ndelay = { mean = \"5ms\" }\n"),
               Contains("delay needs distribution"));
    CHECK_THAT(error("\n[[scenario.rates]]\nsource = \"web\"\nevent_type = \"nope\"\nper_second = 1\n"),
               Contains("scn.toml:15: scenario.rates[0]: the rate's event type 'nope' is not an event type of source 'web'"));
    CHECK_THAT(error("\n[generation]\nscale = 0\n"), Contains("generation.scale: expected a factor greater than 0"));
    // A non-root type without a producer is a warning, not an error.
    const auto warned = supervent::test::load_toml_as(source + "\n[[sources.web.event_types]]\nname = \"never\"\nroot = false\nmessage = \"x\"\n",
                                                      "scn.toml");
    REQUIRE(warned.warnings.size() == 1);
    CHECK_THAT(warned.warnings[0], Contains("'never'") && Contains("never appears"));
}

TEST_CASE("durations and frequencies read back exactly", "[toml_write]") {
    using namespace supervent::config::detail;
    for (const std::int64_t value : {std::int64_t{1}, std::int64_t{1'500'000}, std::int64_t{86'400'000'000'000},
                                     std::int64_t{5'400'000'000'000}, std::int64_t{1'000'001}}) {
        CHECK(parse_duration_ns(duration_ns_text(value)) == value);
    }
    CHECK(duration_ns_text(86'400'000'000'000) == "1d");
    CHECK(parse_duration_ns("1h30m") == 5'400'000'000'000);
    CHECK(parse_duration_ns("1.5s") == 1'500'000'000);
    CHECK_THROWS_AS(parse_duration_ns("50"), ValueError);
    CHECK(parse_frequency_eps("20000 per minute") == Approx(20000.0 / 60));
    CHECK(parse_frequency_eps("1 per hour") == Approx(1.0 / 3600));
    CHECK(parse_frequency_eps("10/s") == 10);
    CHECK_THROWS_AS(parse_frequency_eps("often"), ValueError);
    CHECK(rfc3339_ns_text(parse_rfc3339_ns("2024-02-29T23:59:59.000000001Z")) == "2024-02-29T23:59:59.000000001Z");
    CHECK(rfc3339_ns_text(0) == "1970-01-01T00:00:00Z");
}
