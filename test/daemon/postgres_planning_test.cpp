// Planning a postgresql sink with columns=typed (issue 20): the columns a
// source's schema gives, their PostgreSQL types and names, the tables that
// two sources share, and the refusals that name the field or sources.
#include <catch2/catch.hpp>

#include "config/load.hpp"
#include "core/scenarios.hpp"
#include "daemon/planning.hpp"
#include "daemon/postgres_plan.hpp"

using supervent::config::parse_sink_url;
using supervent::core::FieldKind;
using supervent::core::FieldSpec;
using supervent::core::SchemaValue;
using supervent::core::SourceSpec;
using supervent::daemon::postgres_typed_columns;
using supervent::net::PgType;
using Catch::Matchers::Contains;

namespace {

FieldSpec field(const char* name, FieldKind kind) {
    FieldSpec f;
    f.name = name;
    f.kind = kind;
    return f;
}

FieldSpec choice(const char* name, std::vector<SchemaValue> values) {
    FieldSpec f = field(name, FieldKind::choice);
    f.values = std::move(values);
    return f;
}

}  // namespace

TEST_CASE("postgres typed columns: web_access's fields and their types", "[plan][postgres]") {
    const auto columns = postgres_typed_columns(supervent::core::web_access_spec());
    std::string listed;
    for (const auto& c : columns) listed += c.name + ":" + std::string(supervent::net::pg_type_name(c.type)) + ",";
    CHECK(listed == "method:text,path:text,protocol:text,status:bigint,bytes:bigint,client_ip:inet,user_agent:text,"
                    "referer:text,response_time_ms:double precision,request_id:uuid,");
}

TEST_CASE("postgres typed columns: kinds map to types and dots to underscores", "[plan][postgres]") {
    SourceSpec source;
    source.name = "s";
    source.fields = {field("http.status", FieldKind::integer), field("took", FieldKind::floating),
                     field("ip6", FieldKind::ipv6), choice("ok", {{SchemaValue::Type::boolean, "true"}}),
                     choice("mixed", {{SchemaValue::Type::integer, "1"}, {SchemaValue::Type::floating, "1.5"}}),
                     choice("word", {{SchemaValue::Type::integer, "1"}, {SchemaValue::Type::string, "x"}}),
                     field("seen", FieldKind::timestamp), field("epoch", FieldKind::timestamp)};
    source.fields[7].format = "epoch_ms";
    source.trace_context = true;
    const auto columns = postgres_typed_columns(source);
    REQUIRE(columns.size() == 8 + 1 + 4);  // the fields, request_id, trace_id span_id parent_span_id duration_ms
    CHECK(columns[0].name == "http_status");
    CHECK(columns[0].path == "http.status");
    CHECK(columns[0].type == PgType::bigint);
    CHECK(columns[1].type == PgType::float8);
    CHECK(columns[2].type == PgType::inet);
    CHECK(columns[3].type == PgType::boolean);
    CHECK(columns[4].type == PgType::float8);
    CHECK(columns[5].type == PgType::text);
    CHECK(columns[6].type == PgType::timestamptz);
    CHECK(columns[7].type == PgType::bigint);
    CHECK(columns[8].name == "request_id");
    CHECK(columns[8].type == PgType::uuid);
    CHECK(columns[12].name == "duration_ms");
    CHECK(columns[12].type == PgType::float8);
}

TEST_CASE("postgres typed columns: a clashing or fixed column name is refused naming the field", "[plan][postgres]") {
    SourceSpec source;
    source.name = "s";
    source.fields = {field("a.b", FieldKind::integer), field("a_b", FieldKind::integer)};
    CHECK_THROWS_WITH(postgres_typed_columns(source), Contains("field 'a_b'") && Contains("also the column of field 'a.b'"));
    source.fields = {field("message", FieldKind::integer)};
    CHECK_THROWS_WITH(postgres_typed_columns(source), Contains("four fixed columns"));
}

TEST_CASE("postgres plan: two sources with different fields cannot share a table", "[plan][postgres]") {
    supervent::config::Settings settings;
    settings.sink = parse_sink_url("postgresql://u@h/db?table=t&columns=typed");
    SourceSpec a;
    a.name = "a";
    a.fields = {field("x", FieldKind::integer)};
    a.event_types.push_back({});
    a.event_types.back().name = "e";
    a.event_types.back().message = "m";
    SourceSpec b = a;
    b.name = "b";
    b.fields = {field("y", FieldKind::integer)};
    settings.sources = {a, b};
    settings.window_start_ns = 0;
    settings.window_end_ns = 1'000'000'000;
    settings.events = 100;
    supervent::daemon::PlanInputs inputs;
    inputs.online_cpus = 1;
    CHECK_THROWS_WITH(plan_shards(settings, inputs), Contains("sources 'a' and 'b' both go to table \"t\""));
    settings.sources[1].dataset = "other";
    const auto run = plan_shards(settings, inputs);
    const auto& postgres = run.shards.front().sink.postgres;
    REQUIRE(postgres.typed_columns.size() == 2);
    CHECK(postgres.tables[1] == "\"other\"");
    CHECK(postgres.typed_columns[1].front().name == "y");
    bool noted = false;
    for (const auto& message : run.messages) noted |= message.text.find("\"other\" (columns=typed): _time") != std::string::npos;
    CHECK(noted);
}

TEST_CASE("postgres plan: a reload must keep a typed table's columns", "[plan][postgres]") {
    supervent::config::Settings settings;
    settings.sink = parse_sink_url("postgresql://u@h/db?table=t&columns=typed");
    SourceSpec a;
    a.name = "a";
    a.fields = {field("x", FieldKind::integer)};
    a.event_types.push_back({});
    a.event_types.back().name = "e";
    a.event_types.back().message = "m";
    settings.sources = {a};
    settings.window_start_ns = 0;
    settings.window_end_ns = 1'000'000'000;
    settings.events = 100;
    supervent::daemon::PlanInputs inputs;
    inputs.online_cpus = 1;
    const auto run = plan_shards(settings, inputs);
    const auto& running = run.shards.front().sink.postgres;
    const auto& scenario = *run.shards.front().scenario;
    CHECK_NOTHROW(supervent::daemon::check_postgres_reload(settings, scenario, {0}, running));
    supervent::config::Settings next = settings;
    next.sources[0].fields.push_back(field("y", FieldKind::floating));
    CHECK_THROWS_WITH(supervent::daemon::check_postgres_reload(next, scenario, {0}, running),
                      Contains("source 'a' would have other fields") && Contains("restart superventd"));
}
