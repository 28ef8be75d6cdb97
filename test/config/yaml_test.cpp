// The original tool's YAML files (test/data/original-configs, copied from
// ../shared so a clean clone runs these): each loads, and maps onto what its
// author meant — counts, datasets, patterns, dependencies, formats, root
// flags — with warnings that name the keys the new runtime does not use.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "config/load.hpp"
#include "config/values.hpp"
#include "config/yaml_load.hpp"
#include "fake_env.hpp"
#include "temp_file.hpp"

using supervent::config::ConfigError;
using supervent::config::load_yaml_file;
using supervent::config::load_yaml_text;
using supervent::config::Settings;
using supervent::core::DelaySpec;
using supervent::core::FieldKind;
using supervent::core::FieldSpec;
using supervent::core::SchemaValue;
using supervent::core::SourceSpec;
using supervent::core::SpreadDistribution;
using supervent::core::VolumePattern;
using Catch::Matchers::Contains;

namespace {

const std::string data_dir = std::string(SUPERVENT_SOURCE_DIR) + "/test/data/original-configs/";

Settings load_file(const std::string& name) { return load_yaml_file(data_dir + name); }

Settings load(std::string_view text) { return load_yaml_text(text, "t.yaml"); }

std::string error_of(std::string_view text) {
    try {
        (void)load(text);
    } catch (const ConfigError& error) {
        return error.what();
    }
    FAIL("expected a ConfigError for:\n" << text);
    return {};
}

const SourceSpec& source(const Settings& settings, std::string_view name) {
    const auto found = std::ranges::find(settings.sources, name, &SourceSpec::name);
    REQUIRE(found != settings.sources.end());
    return *found;
}

const FieldSpec& field(const SourceSpec& spec, std::string_view name) {
    const auto found = std::ranges::find(spec.fields, name, &FieldSpec::name);
    if (found == spec.fields.end()) FAIL("source " << spec.name << " has no field " << name);
    return *found;
}

bool has_field(const SourceSpec& spec, std::string_view name) {
    return std::ranges::find(spec.fields, name, &FieldSpec::name) != spec.fields.end();
}

const supervent::core::EventTypeSpec& event_type(const SourceSpec& spec, std::string_view name) {
    const auto found = std::ranges::find(spec.event_types, name, &supervent::core::EventTypeSpec::name);
    REQUIRE(found != spec.event_types.end());
    return *found;
}

// The one warning containing every part, or a failure listing them all.
std::string warning_with(const Settings& settings, std::initializer_list<std::string_view> parts) {
    for (const auto& warning : settings.warnings) {
        if (std::ranges::all_of(parts, [&](std::string_view p) { return warning.find(p) != std::string::npos; })) return warning;
    }
    std::string all;
    for (const auto& warning : settings.warnings) all += warning + "\n";
    FAIL("no warning with all of the expected parts among:\n" << all);
    return {};
}

std::int64_t ns(std::string_view rfc3339) { return supervent::config::detail::parse_rfc3339_ns(rfc3339); }

SchemaValue integer(std::string text) { return {SchemaValue::Type::integer, std::move(text)}; }
SchemaValue string(std::string text) { return {SchemaValue::Type::string, std::move(text)}; }

}  // namespace

TEST_CASE("every original file loads, and only invalid-deepseek.yaml fails", "[yaml]") {
    for (const auto* name : {"3tier.yaml", "config.yaml", "ec2.yaml", "k8s.yaml", "mysql.yaml", "nested_okta.yaml",
                             "nodejs.yaml", "okta.yaml", "rds.yaml", "sofi.yaml", "sofi-spike.yaml", "webaccess.yaml"}) {
        CAPTURE(name);
        const auto settings = load_file(name);
        CHECK_FALSE(settings.sources.empty());
        CHECK(settings.window_start_ns.has_value());
        CHECK(settings.config_path == data_dir + name);
    }
    try {
        (void)load_file("invalid-deepseek.yaml");
        FAIL("invalid-deepseek.yaml loaded");
    } catch (const ConfigError& error) {
        // A YAML error with the file, line and column: the alias *web_access has no anchor.
        CHECK_THAT(error.what(), Contains("invalid-deepseek.yaml:36:13:") && Contains("anchor"));
    }
}

TEST_CASE("3tier.yaml: a gaussian web tier drives app and database tiers through dependencies", "[yaml]") {
    const auto s = load_file("3tier.yaml");
    CHECK(*s.window_start_ns == ns("2024-12-09T10:00:00Z"));
    CHECK(*s.window_end_ns == ns("2024-12-09T11:00:00Z"));
    REQUIRE(s.sources.size() == 3);
    CHECK(s.sources[0].name == "web_server");  // file order
    CHECK(s.sources[2].name == "database_server");
    const auto& web = source(s, "web_server");
    CHECK(web.description == "Apache HTTP Server 2.4.62");
    CHECK(web.dataset.empty());  // the global default
    REQUIRE(web.volume.size() == 1);
    CHECK(web.volume[0].count == 1000);
    CHECK(web.volume[0].pattern == VolumePattern::always);
    CHECK(web.volume[0].distribution == SpreadDistribution::gaussian);
    CHECK(event_type(web, "access").root);
    CHECK(field(web, "client_ip").kind == FieldKind::ipv4);
    CHECK(field(web, "client_ip").cidrs == std::vector<std::string>{"private"});
    CHECK(field(web, "bytes").kind == FieldKind::integer);
    CHECK(field(web, "bytes").min == 500);
    CHECK(field(web, "bytes").max == 5000);
    // Numbers stay numbers.
    CHECK(field(web, "status").values.front() == integer("200"));
    CHECK(field(web, "status").weights.empty());
    const auto& app = source(s, "app_server");
    CHECK(app.volume.empty());
    CHECK_FALSE(event_type(app, "info").root);
    CHECK_FALSE(event_type(source(s, "database_server"), "query").root);

    REQUIRE(s.scenario_spec.dependencies.size() == 2);
    const auto& first = s.scenario_spec.dependencies[0];
    CHECK(first.trigger_source == "web_server");
    CHECK(first.trigger_type == "access");
    CHECK(first.action_source == "app_server");
    CHECK(first.action_type == "info");
    CHECK(first.percentage == 100);
    CHECK(first.delay.kind == DelaySpec::Kind::none);
    CHECK(s.scenario_spec.dependencies[1].action_type == "query");

    // event_frequencies: the types that exist become live rates; the others are named.
    REQUIRE(s.scenario_spec.type_rates.size() == 3);
    CHECK(s.scenario_spec.type_rates[0].source == "web_server");
    CHECK(s.scenario_spec.type_rates[0].events_per_s == Approx(1.0));
    CHECK(s.scenario_spec.type_rates[2].events_per_s == Approx(0.75));
    CHECK_THAT(warning_with(s, {"event_frequencies.normal_traffic.database_server.connection"}),
               Contains("3tier.yaml:136:") && Contains("ignored"));
    CHECK_THAT(warning_with(s, {"response_time"}), Contains("3tier.yaml:5:") && Contains("no effect"));
}

TEST_CASE("config.yaml: attributes at the wrong level are used, each with a warning naming it", "[yaml]") {
    const auto s = load_file("config.yaml");
    const auto& db = source(s, "database_server");
    for (const auto* name : {"thread_id", "error_level", "subsystem", "message", "timestamp"}) {
        CAPTURE(name);
        CHECK(has_field(db, name));
        CHECK_THAT(warning_with(s, {std::string("sources.database_server.") + name + ":"}), Contains("wrong level"));
    }
    CHECK_THAT(warning_with(s, {"sources.database_server.thread_id"}), Contains("config.yaml:124:"));
    CHECK(field(db, "timestamp").kind == FieldKind::timestamp);
    CHECK(field(db, "timestamp").format == "%Y-%m-%d %H:%M:%S.%L");
    CHECK(field(db, "thread_id").values.front() == string("12345"));  // quoted: a string
    // {{x}} templates are kept as written; the compiler reads {{x}} as {x}.
    CHECK(event_type(db, "error").message == "{{timestamp}},{{thread_id}},{{error_level}},{{subsystem}},{{message}}");
    CHECK_FALSE(event_type(db, "error").root);
    REQUIRE(s.scenario_spec.dependencies.size() == 3);
    CHECK(s.scenario_spec.dependencies[2].percentage == Approx(0.1));
    CHECK(s.scenario_spec.dependencies[2].action_type == "error");
    for (const auto& spec : s.sources) CHECK(spec.dataset == "supervent");
    CHECK(source(s, "web_server").volume.at(0).count == 1'000'000);
    // upload_config.axiom
    CHECK(s.batch_events == 10'000);
    CHECK_THAT(warning_with(s, {"upload_config.axiom.batch_size"}), Contains("config.yaml:10:") && Contains("10000"));
    CHECK(s.connections == Settings{}.connections);  // per-worker connections are not the tool's upload count
    CHECK_THAT(warning_with(s, {"upload_config.axiom.max_concurrent_uploads"}), Contains("512") && Contains("ignored"));
    CHECK_THAT(warning_with(s, {"upload_config.axiom.network_interfaces"}), Contains("--bind"));
    CHECK_THAT(warning_with(s, {"upload_config.axiom.retry_attempts"}), Contains("ignored"));
}

TEST_CASE("ec2, k8s, rds and mysql: syslog lines with their own timestamp formats", "[yaml]") {
    const auto ec2 = load_file("ec2.yaml");
    const auto& e = source(ec2, "ec2");
    CHECK(field(e, "timestamp").kind == FieldKind::timestamp);
    CHECK(field(e, "timestamp").format == "%Y-%m-%dT%H:%M:%S.%LZ");
    CHECK(event_type(e, "ec2").message == "{{timestamp}} {{instance_id}} {{service}}: {{message}}");
    CHECK(e.volume.at(0).count == 1'000'000);
    CHECK(e.volume.at(0).distribution == SpreadDistribution::gaussian);

    const auto k8s = load_file("k8s.yaml");
    const auto& k = source(k8s, "k8s");
    // Attributes named like the event's own fields stay attributes (nested layout).
    CHECK(k.layout == supervent::core::AttributeLayout::nested);
    CHECK(field(k, "type").values == std::vector<SchemaValue>{string("F")});
    CHECK(has_field(k, "message"));
    CHECK(field(k, "message").values.size() == 29);

    const auto rds = load_file("rds.yaml");
    CHECK(field(source(rds, "rds"), "timestamp").format == "%Y-%m-%d %H:%M:%S UTC");

    const auto mysql = load_file("mysql.yaml");
    const auto& m = source(mysql, "mysql");
    CHECK(m.volume.at(0).count == 10'000);
    CHECK(m.fields.size() == 6);
    CHECK(field(m, "error_code").values.front() == string("1213"));
    CHECK(event_type(m, "mysql").message == "{timestamp},{thread_id},{error_level},{subsystem},{error_code}");
}

TEST_CASE("okta.yaml and nested_okta.yaml: dotted and nested attributes become dotted fields", "[yaml]") {
    const auto okta = load_file("okta.yaml");
    const auto& o = source(okta, "okta_logs");
    CHECK(o.dataset == "okta");
    CHECK(field(o, "actor.alternateId").values.front() == string("john.doe@company.com"));
    CHECK(field(o, "client.userAgent.browser").values.size() == 4);
    CHECK(o.event_types.size() == 3);
    CHECK(std::ranges::all_of(o.event_types, &supervent::core::EventTypeSpec::root));

    const auto nested = load_file("nested_okta.yaml");
    const auto& n = source(nested, "okta_logs");
    CHECK(n.volume.at(0).count == 100);
    // attribute_structure: the structures' fields are the event's own, not prefixed.
    CHECK_FALSE(std::ranges::any_of(n.fields, [](const FieldSpec& f) { return f.name.starts_with("user_login."); }));
    CHECK(field(n, "client.ipAddress").kind == FieldKind::ipv4);
    CHECK(field(n, "actor.alternateId").kind == FieldKind::email);
    CHECK(field(n, "actor.displayName").kind == FieldKind::name);
    // One person per object, one place per geographical context (issue 18: values agree).
    CHECK(field(n, "actor.id").kind == FieldKind::person);
    CHECK(field(n, "actor.id").part == "user_id");
    CHECK(field(n, "target.group.id").kind == FieldKind::base62_id);
    const auto& lat = field(n, "client.geographicalContext.geolocation.lat");
    CHECK(lat.kind == FieldKind::geo);
    CHECK(lat.part == "lat");
    CHECK(lat.group == "client.geographicalContext");
    CHECK(field(n, "client.geographicalContext.city").group == "client.geographicalContext");
    CHECK(field(n, "outcome.result").group == field(n, "outcome.reason").group);
    // Each event type carries its own structure's fields.
    const auto& login = *std::ranges::find(n.event_types, std::string("user_login"), &supervent::core::EventTypeSpec::name);
    CHECK(std::ranges::find(login.attributes, std::string("client.geographicalContext.city")) != login.attributes.end());
    CHECK(std::ranges::find(login.attributes, std::string("outcome.result")) == login.attributes.end());
    CHECK(field(n, "authenticationContext.authenticationStep").kind == FieldKind::integer);
    CHECK(has_field(n, "target.group.displayName"));
    CHECK(has_field(n, "outcome.reason"));
    // {eventId} and {severity} are in no structure: generated from their names, with a warning.
    CHECK(field(n, "severity").values.front() == string("INFO"));
    CHECK_THAT(warning_with(nested, {"{eventId}"}), Contains("nested_okta.yaml:78:"));
}

TEST_CASE("nodejs.yaml: several root types; a stray timestamp is named and ignored", "[yaml]") {
    const auto s = load_file("nodejs.yaml");
    const auto& app = source(s, "app_server");
    CHECK(app.event_types.size() == 5);
    CHECK(std::ranges::all_of(app.event_types, &supervent::core::EventTypeSpec::root));
    CHECK(app.volume.at(0).count == 1'000'000);
    CHECK_THAT(warning_with(s, {"sources.app_server.timestamp"}), Contains("nodejs.yaml:36:") && Contains("ignored"));
    CHECK_FALSE(has_field(app, "timestamp"));
}

TEST_CASE("sofi.yaml and sofi-spike.yaml: seven datasets, two windows, one error chain", "[yaml]") {
    const auto sofi = load_file("sofi.yaml");
    const auto spike = load_file("sofi-spike.yaml");
    CHECK(*sofi.window_start_ns == ns("2023-01-01T00:00:00Z"));
    CHECK(*sofi.window_end_ns == ns("2025-01-15T11:00:00Z"));
    CHECK(*spike.window_start_ns == ns("2024-11-28T23:14:20Z"));
    CHECK(*spike.window_end_ns == ns("2024-12-02T21:33:40Z"));
    for (const auto* s : {&sofi, &spike}) {
        REQUIRE(s->sources.size() == 7);
        const std::vector<std::pair<std::string, std::string>> datasets{
            {"web_server", "http"}, {"app_server", "app"}, {"mysql", "db"},  {"ec2", "ec2"},
            {"k8s", "k8s"},         {"rds", "rds"},        {"okta_logs", "okta"}};
        for (const auto& [name, dataset] : datasets) CHECK(source(*s, name).dataset == dataset);
        CHECK(source(*s, "web_server").volume.at(0).count == 1'000'000);
        CHECK(source(*s, "web_server").volume.at(0).distribution == SpreadDistribution::uniform);
        // mysql's only type is a dependency action: its volume cannot start anything.
        CHECK(source(*s, "mysql").volume.empty());
        CHECK_THAT(warning_with(*s, {"sources.mysql.volume[0]"}), Contains("no root event type") && Contains("100"));
        REQUIRE(s->scenario_spec.dependencies.size() == 2);
        CHECK(s->scenario_spec.dependencies[1].trigger_type == "order_create");
        CHECK(s->scenario_spec.dependencies[1].action_source == "mysql");
    }
    CHECK(sofi.scenario_spec.dependencies[1].percentage == Approx(0.1));
    CHECK(spike.scenario_spec.dependencies[1].percentage == Approx(40));
    CHECK(sofi.batch_events == 10'000);
    CHECK(sofi.connections == Settings{}.connections);
    CHECK(spike.batch_events == Settings{}.batch_events);
}

TEST_CASE("webaccess.yaml: the throughput case, and event_frequencies as a live rate", "[yaml]") {
    const auto s = load_file("webaccess.yaml");
    const auto& web = source(s, "web_server");
    CHECK(web.dataset == "supervent");
    CHECK(web.volume.at(0).count == 10'000'000);
    CHECK(web.volume.at(0).distribution == SpreadDistribution::uniform);
    REQUIRE(s.scenario_spec.type_rates.size() == 1);
    CHECK(s.scenario_spec.type_rates[0].events_per_s == Approx(20000.0 / 60));
    CHECK(s.scenario_spec.dependencies.empty());
}

TEST_CASE("the performance plan's runtime example maps onto runtime settings", "[yaml]") {
    const auto s = load(R"(runtime:
  threads: 64
  batch_size: 1_000_000
  buffer_size: 2_147_483_648  # 2GB per thread

network:
  interfaces: 15
  tcp_nodelay: true
  jumbo_frames: true
  keep_alive: true

monitoring:
  metrics_port: 9100
  detailed_stats: true

generation:
  target_rate: "unlimited"
  distribution: "random"
  timestamp_spread: "1h"
)");
    CHECK(s.workers == 64);
    CHECK(s.batch_events == 10'000);
    CHECK_THAT(warning_with(s, {"runtime.batch_size"}), Contains("t.yaml:3:") && Contains("10000"));
    CHECK(s.tcp_nodelay);
    CHECK(s.metrics_listen == "127.0.0.1:9100");
    CHECK_FALSE(s.rate_eps.has_value());
    CHECK_THAT(warning_with(s, {"network.interfaces"}), Contains("--bind"));
    CHECK_THAT(warning_with(s, {"generation.timestamp_spread"}), Contains("window"));
    CHECK_THAT(warning_with(s, {"network.jumbo_frames"}), Contains("ignored"));
    CHECK(s.sources.empty());
    CHECK_FALSE(s.window_start_ns.has_value());
}

namespace {

// A small scenario; `extra` goes at the top level, `web_extra` into web's volume entry.
std::string scenario(std::string_view dependencies, std::string_view extra = "") {
    return std::string(R"(start_time: "2024-01-01T00:00:00Z"
end_time: "2024-01-08T00:00:00Z"
sources:
  web:
    description: "web"
    attributes:
      code:
        type: choice
        values: [200, 200, 200, '404', 1.5, true]
    volume:
      - pattern: weekday
        count: 70
        distribution: gaussian
    event_types:
      - type: hit
        format: "{code}"
        create_from_scratch: true
  db:
    attributes:
      n:
        type: integer
    volume: []
    event_types:
      - type: query
        format: "q {{n}}"
        create_from_scratch: false
      - type: slow
        format: "slow {n}"
        create_from_scratch: false
)") + std::string(extra) + "dependencies:\n" + std::string(dependencies);
}

}  // namespace

TEST_CASE("YAML values keep their type; repeats weight a choice; integer defaults are 0..100", "[yaml]") {
    const auto s = load(scenario("  []\n"));
    const auto& code = field(source(s, "web"), "code");
    CHECK(code.values == std::vector<SchemaValue>{integer("200"), string("404"), {SchemaValue::Type::floating, "1.5"},
                                                  {SchemaValue::Type::boolean, "true"}});
    CHECK(code.weights == std::vector<double>{3, 1, 1, 1});
    const auto& n = field(source(s, "db"), "n");
    CHECK(n.min == 0);
    CHECK(n.max == 100);
    CHECK(source(s, "web").volume.at(0).pattern == VolumePattern::weekday);
    CHECK(source(s, "db").description.empty());
    // Types that are not roots and that no dependency produces never appear.
    CHECK_THAT(warning_with(s, {"'query'"}), Contains("never appears"));
}

TEST_CASE("dependencies: percentage, delay, message_contains", "[yaml]") {
    const auto s = load(scenario(R"(  - trigger: {source: web, event_type: hit, message_contains: "404"}
    action: {source: db, event_type: query, percentage: 25, delay: {distribution: exponential, mean: 50ms}}
  - trigger: {source: db, event_type: query}
    action: {source: db, event_type: slow, delay: {min: 10ms, max: 200ms}}
  - trigger: {source: web, event_type: hit}
    action: {source: db, event_type: slow, delay: 2s}
)"));
    const auto& d = s.scenario_spec.dependencies;
    REQUIRE(d.size() == 3);
    CHECK(d[0].message_contains == "404");
    CHECK(d[0].percentage == 25);
    CHECK(d[0].delay.kind == DelaySpec::Kind::exponential);
    CHECK(d[0].delay.mean_ns == 50'000'000);
    CHECK(d[1].percentage == 100);
    CHECK(d[1].delay.kind == DelaySpec::Kind::uniform);
    CHECK(d[1].delay.min_ns == 10'000'000);
    CHECK(d[1].delay.max_ns == 200'000'000);
    CHECK(d[2].delay.kind == DelaySpec::Kind::fixed);
    CHECK(d[2].delay.mean_ns == 2'000'000'000);
    CHECK(d[0].origin.line == 31);
    CHECK(s.warnings.empty());
}

TEST_CASE("a dependency cycle is refused at load time, naming the cycle", "[yaml]") {
    const auto message = error_of(scenario(R"(  - trigger: {source: web, event_type: hit}
    action: {source: db, event_type: query}
  - trigger: {source: db, event_type: query}
    action: {source: db, event_type: slow}
  - trigger: {source: db, event_type: slow}
    action: {source: db, event_type: query}
)"));
    CHECK_THAT(message, Contains("t.yaml:35: dependencies[2]: dependency cycle db.query -> db.slow -> db.query"));
    const auto self = error_of(scenario("  - trigger: {source: web, event_type: hit}\n    action: {source: web, event_type: hit}\n"));
    CHECK_THAT(self, Contains("dependency cycle web.hit -> web.hit"));
}

TEST_CASE("a dependency on an unknown source or event type is an error naming file, line and key", "[yaml]") {
    const auto source_message = error_of(scenario("  - trigger: {source: web, event_type: hit}\n    action: {source: dbb, event_type: query}\n"));
    CHECK_THAT(source_message, Contains("t.yaml:31: dependencies[0]: action source 'dbb' is not a source") &&
                                   Contains("did you mean 'db'"));
    const auto type_message = error_of(scenario("  - trigger: {source: web, event_type: hits}\n    action: {source: db, event_type: query}\n"));
    CHECK_THAT(type_message, Contains("t.yaml:31: dependencies[0]: trigger event type 'hits' is not an event type of source 'web'"));
    const auto percentage = error_of(scenario("  - trigger: {source: web, event_type: hit}\n    action: {source: db, event_type: query, percentage: 150}\n"));
    CHECK_THAT(percentage, Contains("percentage must be between 0 and 100"));
}

TEST_CASE("a placeholder no attribute defines is a load-time error; acceptable_values fills it", "[yaml]") {
    const std::string missing = R"(sources:
  s:
    attributes:
      a: {type: choice, values: [x]}
    event_types:
      - type: e
        format: "{a} {nope}"
)";
    CHECK_THAT(error_of(missing),
               Contains("t.yaml:7: sources.s.event_types[0].format: placeholder {nope} of event type 'e' has no attribute"));
    // The webaccess.yaml form: {type: choice, values: [...]} with repeats as weights.
    const auto filled = load(std::string(R"(acceptable_values:
  nope:
    type: "choice"
    values: [200, 200, 404]
  other: ['a']
)") + missing);
    const auto& nope = field(source(filled, "s"), "nope");
    CHECK(nope.values == std::vector<SchemaValue>{integer("200"), integer("404")});
    CHECK(nope.weights == std::vector<double>{2, 1});
    CHECK_FALSE(has_field(source(filled, "s"), "other"));
    CHECK_THAT(warning_with(filled, {"acceptable_values.nope"}), Contains("used for {nope}"));
    // response_time at the top level fills {response_time}.
    const auto timed = load(R"(response_time: {min: 100, max: 5000}
sources:
  s:
    event_types:
      - type: e
        format: "took {response_time}ms at {timestamp} for {request_id}"
)");
    const auto& response_time = field(source(timed, "s"), "response_time");
    CHECK(response_time.kind == FieldKind::integer);
    CHECK(response_time.min == 100);
    CHECK(response_time.max == 5000);
}

TEST_CASE("volume details, time_period and the other patterns", "[yaml]") {
    const auto s = load(R"(start_time: "2024-01-01T00:00:00Z"
end_time: "2024-01-31T00:00:00Z"
timezone: "Europe/Berlin"
sources:
  s:
    attributes: {a: {type: integer, min: 1, max: 2}}
    volume:
      - pattern: sine_wave
        count: 10
        distribution: random
        details: {period: 12h, amplitude: 0.8, colour: red}
      - pattern: linear_increase
        count: 20
        details: {ramp_from: 0.25}
        time_period: {start: "2024-01-10T00:00:00Z", end: "2024-01-11T00:00:00Z"}
      - pattern: weekend
        count: 5
    event_types:
      - {type: e, format: "{a}", create_from_scratch: true}
)");
    const auto& volume = source(s, "s").volume;
    REQUIRE(volume.size() == 3);
    CHECK(volume[0].pattern == VolumePattern::sine_wave);
    CHECK(volume[0].period_ns == 12LL * 3600 * 1'000'000'000);
    CHECK(volume[0].amplitude == Approx(0.8));
    CHECK(volume[1].pattern == VolumePattern::linear_increase);
    CHECK(volume[1].ramp_from == Approx(0.25));
    CHECK(volume[1].start_ns == ns("2024-01-10T00:00:00Z"));
    CHECK(volume[1].end_ns == ns("2024-01-11T00:00:00Z"));
    CHECK(volume[1].distribution == SpreadDistribution::uniform);
    CHECK(volume[2].pattern == VolumePattern::weekend);
    CHECK(s.scenario_spec.timezone == "Europe/Berlin");
    CHECK_THAT(warning_with(s, {"details.colour"}), Contains("t.yaml:11:") && Contains("ignored"));
}

TEST_CASE("bad shapes are errors or warnings that name the key, never a crash", "[yaml]") {
    CHECK_THAT(error_of("sources: [a, b]\n"), Contains("t.yaml:1: sources: expected a mapping of sources, got a list"));
    CHECK_THAT(error_of("- just\n- a list\n"), Contains("t.yaml: expected a scenario"));
    CHECK_THAT(error_of("sources:\n  s:\n    volume: [{pattern: hourly, count: 1}]\n    event_types: [{type: e, format: x}]\n"),
               Contains("t.yaml:3: sources.s.volume[0].pattern: unknown pattern 'hourly'"));
    CHECK_THAT(error_of("sources:\n  s:\n    event_types: [{type: e, format: x}]\n    volume: [{pattern: 24/7}]\n"),
               Contains("sources.s.volume[0]: a volume entry needs count"));
    CHECK_THAT(error_of("start_time: yesterday\nend_time: \"2024-01-01T00:00:00Z\"\n"),
               Contains("t.yaml:1: start_time: expected an RFC 3339 time"));
    CHECK_THAT(error_of("sources:\n  s:\n    attributes: {a: {type: colour}}\n    event_types: [{type: e, format: '{a}'}]\n"),
               Contains("t.yaml:3") && Contains("colour"));
    CHECK_THAT(error_of("key: [unclosed\n"), Contains("t.yaml:2:") && Contains("YAML syntax error"));
    const auto s = load("colour: blue\nsources:\n  s:\n    event_types: [{type: e, format: x, colour: red}]\n");
    CHECK_THAT(warning_with(s, {"colour: unknown top-level key"}), Contains("t.yaml:1:"));
    CHECK_THAT(warning_with(s, {"sources.s.event_types[0].colour"}), Contains("t.yaml:4:"));
    // A second `values:` in one attribute replaces the first (found by fuzz_yaml:
    // counting repeats against the first list's values indexed past the counts).
    const auto twice = load(
        "sources:\n  s:\n    attributes:\n      a: {type: choice, values: [x, y], values: [y, y, z]}\n"
        "    event_types: [{type: e, format: '{a}'}]\n");
    const auto& a = field(source(twice, "s"), "a");
    CHECK(a.values == std::vector<SchemaValue>{string("y"), string("z")});
    CHECK(a.weights == std::vector<double>{2, 1});
}

TEST_CASE("a --config FILE.yaml picks the YAML loader; --scale scales counts and rates once", "[yaml]") {
    const supervent::test::TempDir dir;
    const auto path = dir.write("scn.yaml", R"(start_time: "2024-01-01T00:00:00Z"
end_time: "2024-01-02T00:00:00Z"
sources:
  s:
    attributes: {a: {type: integer}}
    volume:
      - {pattern: 24/7, count: 1000000}
      - {pattern: 24/7, count: 100}
      - {pattern: 24/7, count: 0}
    event_types: [{type: e, format: "{a}"}]
event_frequencies:
  normal_traffic:
    s:
      e: {frequency: "6000 per minute"}
)");
    const supervent::test::FakeEnv env;
    std::vector<const char*> args{"superventd", "--config", path.c_str(), "--scale", "0.001"};
    const auto resolved = std::get<Settings>(
        supervent::config::resolve_daemon_settings(static_cast<int>(args.size()), args.data(), env.get()));
    CHECK(resolved.scale == 0.001);
    const auto& volume = resolved.sources.at(0).volume;
    CHECK(volume[0].count == 1000);
    CHECK(volume[1].count == 1);  // 0.1 rounds to 0, but a non-empty entry keeps at least one event
    CHECK(volume[2].count == 0);
    CHECK(resolved.scenario_spec.type_rates.at(0).events_per_s == Approx(0.1));

    std::vector<const char*> bad{"superventd", "--config", path.c_str(), "--scale", "0"};
    CHECK_THROWS_WITH(supervent::config::resolve_daemon_settings(static_cast<int>(bad.size()), bad.data(), env.get()),
                      Contains("--scale: expected a factor greater than 0"));
    CHECK(supervent::config::is_yaml_path("a/B.YML"));
    CHECK_FALSE(supervent::config::is_yaml_path("a.yaml.toml"));
}
