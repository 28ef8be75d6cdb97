// Values that agree (issue 18): rows of a person, a place, an HTTP exchange;
// attributes per event type; {timestamp} natural to its message and local
// to the scenario's zone with its real offset.
#include <catch2/catch.hpp>
#include <simdjson.h>

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "core/program_source.hpp"
#include "core/schema.hpp"
#include "core/timeline.hpp"
#include "core/level_agreement.hpp"
#include "core/value_rows.hpp"

using namespace supervent::core;

namespace {

FieldSpec field(std::string name, FieldKind kind, std::string part = {}) {
    FieldSpec f;
    f.origin = {"values.toml", 3, "fields." + name};
    f.name = std::move(name);
    f.kind = kind;
    f.part = std::move(part);
    return f;
}

FieldSpec choice(std::string name, std::vector<std::string> values, SchemaValue::Type type = SchemaValue::Type::string) {
    FieldSpec f = field(std::move(name), FieldKind::choice);
    for (auto& v : values) f.values.push_back({type, std::move(v)});
    return f;
}

SourceSpec source_of(std::vector<FieldSpec> fields, std::vector<EventTypeSpec> types) {
    SourceSpec s;
    s.name = "values";
    s.origin = {"values.toml", 1, "sources.values"};
    s.fields = std::move(fields);
    s.event_types = std::move(types);
    return s;
}

EventTypeSpec type(std::string name, std::string message) {
    EventTypeSpec t;
    t.name = std::move(name);
    t.message = std::move(message);
    t.origin = {"values.toml", 9, "event_types." + t.name};
    return t;
}

std::vector<std::string> lines_of(const SourceSpec& spec, std::uint32_t count, std::shared_ptr<const TimeZone> zone = nullptr,
                                  std::int64_t begin_ns = 1'730'610'000'000'000'000) {
    const auto source = make_program_source(compile_source(spec, OutputFormat::ndjson, std::move(zone)), {5, 0, 1}, count);
    std::vector<char> out(std::size_t{count} * source->event_bytes_max());
    const std::size_t bytes = source->write_ndjson(count, {begin_ns, begin_ns + 7'200'000'000'000}, out);
    std::vector<std::string> lines;
    std::size_t begin = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
        if (out[i] == '\n') {
            lines.emplace_back(out.data() + begin, i - begin);
            begin = i + 1;
        }
    }
    REQUIRE(lines.size() == count);
    return lines;
}

std::string text(simdjson::dom::element e, const char* key) {
    std::string_view v;
    REQUIRE(e[key].get_string().get(v) == simdjson::SUCCESS);
    return std::string(v);
}

std::string text(simdjson::simdjson_result<simdjson::dom::element> e, const char* key) {
    std::string_view v;
    REQUIRE(e[key].get_string().get(v) == simdjson::SUCCESS);
    return std::string(v);
}

}  // namespace

TEST_CASE("an HTTP method and status are drawn as pairs a server answers", "[values]") {
    FieldSpec bytes = field("bytes", FieldKind::integer);
    bytes.min = 500;
    bytes.max = 5000;
    const auto spec = source_of({choice("method", {"GET", "POST", "PUT", "DELETE", "HEAD"}),
                                 choice("status", {"200", "201", "204", "304", "404"}, SchemaValue::Type::integer), bytes},
                                {type("access", "{method} {status} {bytes}")});
    simdjson::dom::parser parser;
    std::map<std::string, int> pairs;
    for (const std::string& line : lines_of(spec, 4000)) {
        simdjson::dom::element e;
        REQUIRE(parser.parse(line).get(e) == simdjson::SUCCESS);
        auto a = e["attributes"];
        const std::string method = text(a, "method");
        std::int64_t status = 0, size = 0;
        REQUIRE(a["status"].get_int64().get(status) == simdjson::SUCCESS);
        REQUIRE(a["bytes"].get_int64().get(size) == simdjson::SUCCESS);
        INFO(line);
        if (status == 201) CHECK((method == "POST" || method == "PUT"));
        if (status == 304) CHECK((method == "GET" || method == "HEAD"));
        if (status == 204) CHECK((method != "GET" && method != "HEAD"));
        const bool no_body = method == "HEAD" || status == 204 || status == 304;
        CHECK((no_body ? size == 0 : (size >= 500 && size <= 5000)));
        CHECK(text(e, "message") == method + " " + std::to_string(status) + " " + std::to_string(size));
        ++pairs[method + " " + std::to_string(status)];
    }
    CHECK(pairs.count("GET 201") == 0);
    CHECK(pairs["GET 200"] > 0);
    CHECK(pairs["POST 201"] > 0);
    CHECK(pairs["HEAD 304"] > 0);
}

TEST_CASE("a person's name, email and id agree; a place's city, region and coordinates agree", "[values]") {
    FieldSpec geo_lat = field("client.geo.lat", FieldKind::geo, "lat");
    geo_lat.group = "client";
    FieldSpec geo_city = field("client.city", FieldKind::geo, "city");
    FieldSpec geo_region = field("client.state", FieldKind::geo, "state");
    const auto spec = source_of({field("actor.name", FieldKind::name), field("actor.email", FieldKind::email),
                                 field("actor.id", FieldKind::person, "user_id"), geo_city, geo_region, geo_lat},
                                {type("login", "{actor.name} <{actor.email}> {actor.id} from {client.city}, {client.state}")});
    simdjson::dom::parser parser;
    std::map<std::string, std::string> id_to_name, city_to_region;
    std::map<std::string, double> city_to_lat;
    for (const std::string& line : lines_of(spec, 2000)) {
        simdjson::dom::element e;
        REQUIRE(parser.parse(line).get(e) == simdjson::SUCCESS);
        INFO(line);
        auto actor = e["attributes"]["actor"];
        const std::string name = text(actor, "name");
        std::string handle;
        for (const char c : name) handle += c == ' ' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        CHECK(text(actor, "email").starts_with(handle + "@"));
        CHECK(id_to_name.emplace(text(actor, "id"), name).first->second == name);
        auto client = e["attributes"]["client"];
        const std::string city = text(client, "city");
        CHECK(city_to_region.emplace(city, text(client, "state")).first->second == text(client, "state"));
        double lat = 0;
        REQUIRE(client["geo"]["lat"].get_double().get(lat) == simdjson::SUCCESS);
        CHECK(city_to_lat.emplace(city, lat).first->second == lat);
    }
    CHECK(city_to_region.size() > 5);
    CHECK(geo_row_count() > 20);
    CHECK(person_row_count() == 1600);
}

TEST_CASE("choice fields of one group take the values at one index; uneven groups are refused", "[values]") {
    FieldSpec result = choice("outcome.result", {"SUCCESS", "FAILURE"});
    FieldSpec reason = choice("outcome.reason", {"", "INVALID_CREDENTIALS"});
    result.group = reason.group = "outcome";
    simdjson::dom::parser parser;
    for (const std::string& line : lines_of(source_of({result, reason}, {type("auth", "{outcome.result},{outcome.reason}")}), 500)) {
        simdjson::dom::element e;
        REQUIRE(parser.parse(line).get(e) == simdjson::SUCCESS);
        const std::string message = text(e, "message");
        CHECK((message == "SUCCESS," || message == "FAILURE,INVALID_CREDENTIALS"));
    }
    reason.values.pop_back();
    try {
        (void)compile_source(source_of({result, reason}, {type("auth", "{outcome.result}")}));
        FAIL("an uneven group compiled");
    } catch (const SchemaError& e) {
        CHECK(std::string(e.what()).find("values.toml:3: fields.outcome.reason: choice fields of group \"outcome\" need the same number of values") !=
              std::string::npos);
    }
}

TEST_CASE("each event type carries its own fields and the shared ones", "[values]") {
    const auto spec = source_of({choice("table", {"users"}), choice("error", {"Deadlock found"}), choice("host", {"db1"})},
                                {type("query", "query on {table}"), type("error", "error: {error}")});
    simdjson::dom::parser parser;
    for (const std::string& line : lines_of(spec, 200)) {
        simdjson::dom::element e;
        REQUIRE(parser.parse(line).get(e) == simdjson::SUCCESS);
        INFO(line);
        auto a = e["attributes"];
        const bool query = text(e, "event_type") == "query";
        CHECK((a["table"].error() == simdjson::SUCCESS) == query);
        CHECK((a["error"].error() == simdjson::SUCCESS) == !query);
        CHECK(a["host"].error() == simdjson::SUCCESS);        // in no template: every type's
        CHECK(a["request_id"].error() == simdjson::SUCCESS);  // always
    }
}

TEST_CASE("timestamps read as their line expects, local with the zone's real offset", "[values][time]") {
    const auto new_york = std::make_shared<const TimeZone>(TimeZone::parse("America/New_York"));
    // 2024-11-03T05:00Z is 01:00 EDT; two hours later it is 01:00 EST.
    const std::int64_t begin = 1'730'610'000'000'000'000;
    const auto spec = source_of({choice("method", {"GET"}), choice("path", {"/"})},
                                {type("access", "1.2.3.4 - - [{timestamp}] \"{method} {path} HTTP/1.1\" 200 5 \"-\" \"-\"")});
    std::set<std::string> offsets;
    simdjson::dom::parser parser;
    for (const std::string& line : lines_of(spec, 500, new_york, begin)) {
        simdjson::dom::element e;
        REQUIRE(parser.parse(line).get(e) == simdjson::SUCCESS);
        const std::string message = text(e, "message");
        REQUIRE(message.size() > 40);
        offsets.insert(message.substr(message.find(" -0") + 1, 5));
        CHECK(message.find("/Nov/2024:0") != std::string::npos);
    }
    CHECK(offsets == std::set<std::string>{"-0400", "-0500"});

    const auto app = source_of({}, {type("log", "[{timestamp}] INFO started"), type("clf", "{timestamp:clf}"),
                                    type("syslog", "{timestamp:syslog} host app: x")});
    for (const std::string& line : lines_of(app, 50, std::make_shared<const TimeZone>(TimeZone::parse("Europe/Berlin")),
                                            1'733'738'400'000'000'000)) {
        simdjson::dom::element e;
        REQUIRE(parser.parse(line).get(e) == simdjson::SUCCESS);
        const std::string message = text(e, "message");
        const std::string kind = text(e, "event_type");
        INFO(message);
        if (kind == "log") CHECK(std::regex_match(message, std::regex(R"(\[2024-12-09T1[12]:\d\d:\d\d\.\d{3}\+01:00\] INFO started)")));
        if (kind == "clf") CHECK(std::regex_match(message, std::regex(R"(09/Dec/2024:1[12]:\d\d:\d\d \+0100)")));
        if (kind == "syslog") CHECK(std::regex_match(message, std::regex(R"(Dec  9 1[12]:\d\d:\d\d host app: x)")));
    }
    // A format that says UTC itself stays UTC; _time is always UTC.
    const auto utc_literal = source_of({}, {type("t", "{timestamp:%H:%MZ} {timestamp:%H:%M UTC}")});
    for (const std::string& line : lines_of(utc_literal, 5, new_york, 1'733'738'400'000'000'000)) {
        INFO(line);
        const std::string hour = line.substr(std::string_view("{\"_time\":\"2024-12-09T").size(), 2);
        CHECK((hour == "10" || hour == "11"));
        CHECK(line.find("\"message\":\"" + hour + ":") != std::string::npos);
        CHECK(line.find("Z " + hour + ":") != std::string::npos);
    }
}

TEST_CASE("a choice whose weights do not match its values is refused before any row is built", "[values]") {
    // Found by fuzz_toml: an HTTP status field with fewer weights than values
    // was read past its end while the method/status pairs were built.
    FieldSpec method = choice("http.method", {"GET", "POST"});
    FieldSpec status = choice("http.status", {"200", "404", "500"}, SchemaValue::Type::integer);
    status.weights = {1.0, 2.0};
    try {
        (void)compile_source(source_of({method, status}, {type("req", "{http.method} {http.status}")}));
        FAIL("weights that do not match the values compiled");
    } catch (const SchemaError& e) {
        CHECK(std::string(e.what()).find("values.toml:3: fields.http.status: has 3 values but 2 weights") != std::string::npos);
    }
    status.weights = {1.0, 2.0, 3.0};
    CHECK(lines_of(source_of({method, status}, {type("req", "{http.method} {http.status}")}), 50).size() == 50);
}

// A level drawn given its text (core/level_agreement.hpp): "ERROR … authentication
// successful" was the original files' most visible contradiction.
TEST_CASE("a level agrees with the words of its event type", "[values][levels]") {
    const SourceSpec spec = source_of({choice("level", {"INFO", "WARNING", "ERROR", "DEBUG"})},
                                      {type("auth", "{level} - User authentication successful"),
                                       type("login", "{level} - Login failed for user"),
                                       type("cache", "{level} - Cache miss for product data")});
    std::map<std::string, std::set<std::string>> seen;  // ending -> levels
    for (const std::string& line : lines_of(spec, 3000)) {
        simdjson::dom::parser parser;
        const std::string message = text(parser.parse(line), "message");
        const auto dash = message.find(" - ");
        seen[message.substr(dash + 3)].insert(message.substr(0, dash));
    }
    CHECK(seen["User authentication successful"] == std::set<std::string>{"DEBUG", "INFO"});
    CHECK(seen["Login failed for user"] == std::set<std::string>{"ERROR", "WARNING"});
    CHECK(seen["Cache miss for product data"] == std::set<std::string>{"DEBUG", "ERROR", "INFO", "WARNING"});
}

TEST_CASE("a level agrees with a message choice beside it", "[values][levels]") {
    const SourceSpec spec = source_of({choice("error_level", {"Error", "Warning", "Info"}),
                                       choice("message", {"Connection established", "Access denied for user", "Rate limit approaching"})},
                                      {type("db", "{error_level}: {message}")});
    std::map<std::string, std::set<std::string>> seen;
    for (const std::string& line : lines_of(spec, 3000)) {
        simdjson::dom::parser parser;
        const std::string message = text(parser.parse(line), "message");
        const auto colon = message.find(": ");
        seen[message.substr(colon + 2)].insert(message.substr(0, colon));
    }
    CHECK(seen["Connection established"] == std::set<std::string>{"Info"});
    CHECK(seen["Access denied for user"] == std::set<std::string>{"Error", "Warning"});
    CHECK(seen["Rate limit approaching"] == std::set<std::string>{"Warning"});
}

TEST_CASE("text outcomes and level ranks", "[values][levels]") {
    CHECK(text_outcome("User authentication successful") == TextOutcome::success);
    CHECK(text_outcome("Order created, payment failed") == TextOutcome::failure);
    CHECK(text_outcome("Lock wait timeout exceeded") == TextOutcome::failure);
    CHECK(text_outcome("Rate limit threshold approaching") == TextOutcome::warning);
    CHECK(text_outcome("Cache miss for product data") == TextOutcome::neutral);
    CHECK(text_outcome("id 5OB7XZ74Yxu0e5j3A1OK") == TextOutcome::neutral);  // whole words only
    CHECK(level_rank("WARNING") == 2);
    CHECK(level_rank("Error") == 3);
    CHECK(!level_rank("auth-service").has_value());
    // No level field, or one whose values are not level words: nothing to plan.
    CHECK(!plan_level_agreement(source_of({choice("level", {"gold", "silver"})}, {type("t", "{level} failed")})).has_value());
}
