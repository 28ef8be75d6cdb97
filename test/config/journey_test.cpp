// Traces and sessions in TOML (issue 19): the keys of config/journey.example.toml
// reach the model, survive to_toml, and wrong values are refused naming the key.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/load.hpp"
#include "config/toml_write.hpp"
#include "toml_text.hpp"

using supervent::config::load_toml_file;
using supervent::config::load_toml_text;
using supervent::config::to_toml;
using supervent::config::without_origins;
using Catch::Matchers::Contains;

TEST_CASE("the journey example turns on trace context and inherits the session", "[journey]") {
    const auto settings = load_toml_file(std::string(SUPERVENT_SOURCE_DIR) + "/config/journey.example.toml");
    const auto& spec = settings.scenario_spec;
    CHECK(spec.trace_context);
    CHECK(spec.traceparent);
    REQUIRE(spec.dependencies.size() == 4);
    CHECK(spec.dependencies[0].inherit == std::vector<std::string>{"user.id", "client_ip", "session_id"});
    CHECK(spec.dependencies[2].inherit == std::vector<std::string>{"user.id"});
    CHECK(spec.dependencies[3].inherit.empty());
    // Written back and read again: the same scenario.
    const auto again = load_toml_text(to_toml(settings), "again.toml");
    CHECK(without_origins(again.scenario_spec) == without_origins(spec));
}

TEST_CASE("per-source trace context reads back; wrong values name their key", "[journey]") {
    const std::string source = R"(
[sources.web]
trace_context = true
traceparent = true
[sources.web.fields.code]
type = "choice"
values = [200]

[[sources.web.event_types]]
name = "hit"
message = "{code} {trace_id}"
)";
    const auto settings = supervent::test::load_toml_as(source, "t.toml");
    REQUIRE(settings.sources.size() == 1);
    CHECK(settings.sources[0].trace_context);
    CHECK(settings.sources[0].traceparent);
    const auto again = load_toml_text(to_toml(settings), "again.toml");
    CHECK(again.sources[0].trace_context);
    CHECK(again.sources[0].traceparent);
    CHECK_THAT(supervent::test::toml_error_as(source + "\n[scenario]\ntrace_context = 1\n", "t.toml"),
               Contains("scenario.trace_context: expected true or false"));
    CHECK_THAT(supervent::test::toml_error_as(source + "\n[[scenario.dependencies]]\ntrigger_source = \"web\"\n"
                                                       "trigger_type = \"hit\"\naction_source = \"web\"\n"
                                                       "action_type = \"hit\"\ninherit = \"code\"\n",
                                              "t.toml"),
               Contains("inherit: expected a list of field names"));
}

TEST_CASE("a session dependency reads back", "[journey]") {
    const std::string source = R"(
[sources.web.fields.code]
type = "choice"
values = [200]

[[sources.web.event_types]]
name = "login"
message = "{code}"

[[sources.web.event_types]]
name = "browse"
root = false
message = "{code}"

[[scenario.dependencies]]
trigger_source = "web"
trigger_type = "login"
action_source = "web"
action_type = "browse"
session = true
)";
    const auto settings = supervent::test::load_toml_as(source, "s.toml");
    REQUIRE(settings.scenario_spec.dependencies.size() == 1);
    CHECK(settings.scenario_spec.dependencies[0].session);
    const auto again = load_toml_text(to_toml(settings), "again.toml");
    CHECK(without_origins(again.scenario_spec) == without_origins(settings.scenario_spec));
    std::string wrong = source;
    wrong.replace(wrong.find("session = true"), 14, "session = \"yes\"");
    CHECK_THAT(supervent::test::toml_error_as(wrong, "s.toml"),
               Contains("session: expected true or false"));
}
