// [sources.NAME] in the TOML config: every key reaches core::SourceSpec, and
// every bad schema is refused at load time naming the file, line and key.
#include <catch2/catch.hpp>

#include "config/load.hpp"
#include "toml_text.hpp"

using supervent::config::ConfigError;
using supervent::config::load_toml_file;
using supervent::config::load_toml_text;
using supervent::config::Settings;
using supervent::core::AttributeLayout;
using supervent::core::Distribution;
using supervent::core::FieldKind;
using supervent::core::FieldSpec;
using supervent::core::SchemaValue;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

Settings load(std::string_view text) { return supervent::test::load_toml_as(text, "scn.toml"); }

std::string error_of(std::string_view text) { return supervent::test::toml_error_as(text, "scn.toml"); }

const FieldSpec& field(const Settings& settings, std::string_view name) {
    for (const auto& f : settings.sources.at(0).fields) {
        if (f.name == name) return f;
    }
    FAIL("no field " << name);
    throw std::logic_error("unreachable");
}

// A source whose fields are `fields` (TOML lines starting at line 5) and one
// event type after them; the line numbers in the expectations below count
// from the opening newline of the raw string.
std::string with_fields(std::string_view fields, std::string_view message = "{a}") {
    return std::string("\n[sources.s]\ndescription = \"d\"\n\n") + std::string(fields) +
           "\n[[sources.s.event_types]]\nname = \"e\"\nmessage = \"" + std::string(message) + "\"\n";
}

}  // namespace

TEST_CASE("every source, field and event type key is read", "[sources]") {
    const auto settings = load(R"(
[sources.web]
description = "web log"
dataset = "weblogs"
layout = "flat"

[sources.web.fields.method]
type = "choice"
values = ["GET", 7, 1.5, true]
weights = [1, 2, 3.5, 4]

[sources.web.fields.bytes]
type = "integer"
min = 10
max = 1000
distribution = "zipf"
exponent = 1.5

[sources.web.fields.latency]
type = "float"
min = 0.5
max = 100
distribution = "normal"
mean = 20
stddev = 5
precision = 4

[sources.web.fields.size]
type = "integer"
min = 0
max = 100
distribution = "histogram"
ranges = [{ min = 0, max = 9, weight = 3 }, { min = 10, max = 100 }]

[sources.web.fields.ip]
type = "ipv4"
cidrs = ["10.0.0.0/8", "public"]
cidr_weights = [3, 1]

[sources.web.fields.ip6]
type = "ipv6"
cidrs = ["ula"]

[sources.web.fields.id]
type = "uuid"

[sources.web.fields.trace]
type = "hex"
length = 24

[sources.web.fields.short]
type = "base62"
length = 10

[sources.web.fields.who]
type = "name"

[sources.web.fields.mail]
type = "email"

[sources.web.fields.n]
type = "sequence"
start = 100
step = 5

[sources.web.fields.host]
type = "constant"
values = ["h1"]

[sources.web.fields.host2]
type = "constant"
value = 3

[sources.web.fields.when]
type = "timestamp"
format = "epoch_ms"

[sources.web.fields.http.status]
type = "choice"
values = [200]

[[sources.web.event_types]]
name = "get"
weight = 3
message = "{method} {http.status} {when}"

[[sources.web.event_types]]
name = "other"
message = "{{n}}"
)");
    REQUIRE(settings.sources.size() == 1);
    const auto& s = settings.sources[0];
    CHECK(s.name == "web");
    CHECK(s.description == "web log");
    CHECK(s.dataset == "weblogs");
    CHECK(s.layout == AttributeLayout::flat);
    CHECK(s.origin.file == "scn.toml");
    CHECK(s.origin.line == 2);
    CHECK(s.origin.key == "sources.web");
    REQUIRE(s.fields.size() == 16);
    // Fields in file order (the parser sorts keys; "method" < "bytes" would not hold then).
    CHECK(s.fields.front().name == "method");
    CHECK(s.fields.back().name == "http.status");

    const auto& method = field(settings, "method");
    CHECK(method.kind == FieldKind::choice);
    REQUIRE(method.values.size() == 4);
    CHECK(method.values[0].type == SchemaValue::Type::string);
    CHECK(method.values[0].text == "GET");
    CHECK(method.values[1].type == SchemaValue::Type::integer);
    CHECK(method.values[1].text == "7");
    CHECK(method.values[2].type == SchemaValue::Type::floating);
    CHECK(method.values[2].text == "1.5");
    CHECK(method.values[3].type == SchemaValue::Type::boolean);
    CHECK(method.values[3].text == "true");
    CHECK(method.weights == std::vector<double>{1, 2, 3.5, 4});
    CHECK(method.origin.line == 7);
    CHECK(method.origin.key == "sources.web.fields.method");

    const auto& bytes = field(settings, "bytes");
    CHECK(bytes.kind == FieldKind::integer);
    CHECK(bytes.min == 10);
    CHECK(bytes.max == 1000);
    CHECK(bytes.distribution == Distribution::zipf);
    CHECK(bytes.exponent == 1.5);

    const auto& latency = field(settings, "latency");
    CHECK(latency.kind == FieldKind::floating);
    CHECK(latency.min == 0.5);
    CHECK(latency.distribution == Distribution::normal);
    CHECK(latency.mean == 20);
    CHECK(latency.stddev == 5);
    CHECK(latency.precision == 4);

    const auto& size = field(settings, "size");
    CHECK(size.distribution == Distribution::histogram);
    REQUIRE(size.ranges.size() == 2);
    CHECK(size.ranges[0].max == 9);
    CHECK(size.ranges[0].weight == 3);
    CHECK(size.ranges[1].min == 10);
    CHECK(size.ranges[1].weight == 1);  // the default

    const auto& ip = field(settings, "ip");
    CHECK(ip.kind == FieldKind::ipv4);
    CHECK(ip.cidrs == std::vector<std::string>{"10.0.0.0/8", "public"});
    CHECK(ip.cidr_weights == std::vector<double>{3, 1});
    CHECK(field(settings, "ip6").kind == FieldKind::ipv6);
    CHECK(field(settings, "id").kind == FieldKind::uuid4);
    CHECK(field(settings, "trace").kind == FieldKind::hex_id);
    CHECK(field(settings, "trace").length == 24);
    CHECK(field(settings, "short").kind == FieldKind::base62_id);
    CHECK(field(settings, "short").length == 10);
    CHECK(field(settings, "who").kind == FieldKind::name);
    CHECK(field(settings, "mail").kind == FieldKind::email);
    CHECK(field(settings, "n").kind == FieldKind::sequence);
    CHECK(field(settings, "n").start == 100);
    CHECK(field(settings, "n").step == 5);
    CHECK(field(settings, "host").values.at(0).text == "h1");
    CHECK(field(settings, "host2").values.at(0).type == SchemaValue::Type::integer);
    CHECK(field(settings, "when").format == "epoch_ms");
    // A nested table is a dotted field name.
    CHECK(field(settings, "http.status").origin.key == "sources.web.fields.http.status");

    REQUIRE(s.event_types.size() == 2);
    CHECK(s.event_types[0].name == "get");
    CHECK(s.event_types[0].weight == 3);
    CHECK(s.event_types[0].message == "{method} {http.status} {when}");
    CHECK(s.event_types[0].origin.key == "sources.web.event_types[0].message");
    CHECK(s.event_types[1].weight == 1);
}

TEST_CASE("several sources keep file order", "[sources]") {
    const auto settings = load(R"(
[sources.b]
[[sources.b.event_types]]
name = "e"
message = "b"
[sources.a]
[[sources.a.event_types]]
name = "e"
message = "a"
)");
    REQUIRE(settings.sources.size() == 2);
    // The parser orders tables by key; the loader restores file order, which
    // decides the source the daemon runs (the first) and the attribute order.
    CHECK(settings.sources[0].name == "b");
    CHECK(settings.sources[1].name == "a");
}

TEST_CASE("bad schemas are refused naming file, line and key", "[sources]") {
    SECTION("an unknown generator") {
        CHECK_THAT(error_of(with_fields("[sources.s.fields.a]\ntype = \"colour\"\n")),
                   StartsWith("scn.toml:6: sources.s.fields.a.type: unknown generator \"colour\""));
    }
    SECTION("min > max") {
        CHECK_THAT(error_of(with_fields("[sources.s.fields.a]\ntype = \"integer\"\nmin = 5\nmax = 1\n")),
                   StartsWith("scn.toml:5: sources.s.fields.a: min > max"));
    }
    SECTION("an empty choice list") {
        CHECK_THAT(error_of(with_fields("[sources.s.fields.a]\ntype = \"choice\"\nvalues = []\n")),
                   StartsWith("scn.toml:5: sources.s.fields.a: a choice needs at least one value"));
    }
    SECTION("a bad timestamp format") {
        CHECK_THAT(error_of(with_fields("[sources.s.fields.a]\ntype = \"timestamp\"\nformat = \"%Q\"\n")),
                   StartsWith("scn.toml:5: sources.s.fields.a: "));
    }
    SECTION("a bad placeholder format") {
        CHECK_THAT(error_of(with_fields("[sources.s.fields.a]\ntype = \"uuid\"\n", "{timestamp:%Q}")),
                   StartsWith("scn.toml:10: sources.s.event_types[0].message: message template"));
    }
    SECTION("a duplicate field: a dotted name and a nested table") {
        CHECK_THAT(error_of(with_fields("[sources.s.fields.\"a.b\"]\ntype = \"uuid\"\n"
                                        "[sources.s.fields.a.b]\ntype = \"uuid\"\n", "{a.b}")),
                   Contains("duplicate field \"a.b\""));
    }
    SECTION("an unknown placeholder") {
        CHECK_THAT(error_of(with_fields("[sources.s.fields.a]\ntype = \"uuid\"\n", "{nope}")),
                   StartsWith("scn.toml:10: sources.s.event_types[0].message: message template of event type \"e\": "
                              "unknown placeholder {nope"));
    }
}

TEST_CASE("unknown keys and wrong types in sources name their path and line", "[sources]") {
    CHECK_THAT(error_of(with_fields("[sources.s.fields.a]\ntype = \"integer\"\nmin = 1\nmaxx = 3\n")),
               StartsWith("scn.toml:8: sources.s.fields.a.maxx: unknown key (did you mean 'max'?)"));
    CHECK_THAT(error_of(with_fields("[sources.s.fields.a]\ntype = \"uuid\"\nlength = 3\n")),
               StartsWith("scn.toml:7: sources.s.fields.a.length: does not apply to type = 'uuid'"));
    CHECK_THAT(error_of(with_fields("[sources.s.fields.a]\ntype = \"integer\"\nmin = \"one\"\n")),
               StartsWith("scn.toml:7: sources.s.fields.a.min: expected a number, got a string"));
    CHECK_THAT(error_of(with_fields("[sources.s.fields.a]\ntype = \"choice\"\nvalues = [[1]]\n")),
               StartsWith("scn.toml:7: sources.s.fields.a.values: expected a string, number or boolean, got an array"));
    CHECK_THAT(error_of("[sources.s]\nlayout = \"sideways\"\n"),
               StartsWith("scn.toml:2: sources.s.layout: expected \"nested\" or \"flat\""));
    CHECK_THAT(error_of("[sources.s]\ncolour = 1\n"), StartsWith("scn.toml:2: sources.s.colour: unknown key"));
    CHECK_THAT(error_of(with_fields("[sources.s.fields.a]\ntype = \"uuid\"\n") + "colour = 2\n"),
               Contains("scn.toml:11: sources.s.event_types[0].colour: unknown key"));
    CHECK_THAT(error_of(with_fields("[sources.s.fields.a]\nvalues = [1]\n")),
               StartsWith("scn.toml:5: sources.s.fields.a: a field needs a type"));
}

TEST_CASE("a builtin scenario beside [sources] is refused; the default is not", "[sources]") {
    const std::string source = "[sources.s]\n[[sources.s.event_types]]\nname = \"e\"\nmessage = \"m\"\n";
    CHECK_THAT(error_of("[generation]\nscenario = \"other\"\n" + source),
               StartsWith("scn.toml:2: generation.scenario: 'other' conflicts with [sources]"));
    CHECK(load("[generation]\nscenario = \"web_access\"\n" + source).sources.size() == 1);
}

TEST_CASE("the shipped scenario example loads and compiles", "[sources][example]") {
    const auto settings = load_toml_file(std::string(SUPERVENT_SOURCE_DIR) + "/config/scenario.example.toml");
    REQUIRE(settings.sources.size() == 1);
    CHECK(settings.sources[0].name == "nginx");
    CHECK(field(settings, "upstream.addr").kind == FieldKind::choice);
    CHECK(settings.seed == 7);
}
