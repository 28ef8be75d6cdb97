// [[scenario.incidents]] in the TOML config (config/toml_incident.cpp): every
// key reaches core::IncidentSpec, `supervent-ctl convert` writes it back the
// same, and mistakes name the file, line and key.
#include <catch2/catch.hpp>

#include "config/load.hpp"
#include "config/toml_write.hpp"
#include "toml_text.hpp"

using supervent::core::IncidentEffect;
using Catch::Matchers::Contains;

namespace {

constexpr std::string_view source_text = R"(
[sources.web]
description = "d"
[sources.web.fields.status]
type = "choice"
values = [200, 500]
[sources.web.fields.ms]
type = "integer"
min = 1
max = 9
[[sources.web.event_types]]
name = "access"
message = "{status} {ms}"
)";

std::string with_incidents(std::string_view incidents) { return std::string(source_text) + std::string(incidents); }

}  // namespace

TEST_CASE("every incident and effect key is read and written back", "[incident]") {
    const std::string text = with_incidents(R"(
[[scenario.incidents]]
name = "outage"
start = "2h"
duration = "30m"
[[scenario.incidents.effects]]
source = "web"
field = "status"
percent = { "500" = 30 }
[[scenario.incidents.effects]]
source = "web"
field = "ms"
scale = 10
[[scenario.incidents.effects]]
source = "web"
event_type = "access"
rate = 2
[[scenario.incidents.effects]]
source = "web"
event_type = "access"
weight = 5
[[scenario.incidents.effects]]
source = "web"
silent = true

[[scenario.incidents]]
name = "on_demand"
start = "1h"
end = "1h15m"
[[scenario.incidents.effects]]
source = "web"
silent = true
)");
    const auto settings = supervent::test::load_toml_as(text, "scn.toml");
    const auto& incidents = settings.scenario_spec.incidents;
    REQUIRE(incidents.size() == 2);
    const auto& outage = incidents[0];
    CHECK(outage.name == "outage");
    CHECK(outage.start_ns == 7'200'000'000'000);
    CHECK(outage.duration_ns == 1'800'000'000'000);
    REQUIRE(outage.effects.size() == 5);
    CHECK(outage.effects[0].kind == IncidentEffect::Kind::percent);
    CHECK(outage.effects[0].percent == std::vector<std::pair<std::string, double>>{{"500", 30}});
    CHECK(outage.effects[1].kind == IncidentEffect::Kind::scale);
    CHECK(outage.effects[1].factor == 10);
    CHECK(outage.effects[2].kind == IncidentEffect::Kind::rate);
    CHECK(outage.effects[2].factor == 2);
    CHECK(outage.effects[3].weight == 5);
    CHECK(outage.effects[4].kind == IncidentEffect::Kind::silent);
    CHECK(outage.effects[0].origin.key == "scenario.incidents[0].effects[0]");
    CHECK(incidents[1].duration_ns == 900'000'000'000);  // end - start

    const auto again = supervent::test::load_toml_as(supervent::config::to_toml(settings), "converted.toml");
    CHECK(supervent::config::without_origins(again.scenario_spec) == supervent::config::without_origins(settings.scenario_spec));
}

TEST_CASE("bad incidents in TOML name the file line and key", "[incident]") {
    using supervent::test::toml_error_as;
    CHECK_THAT(toml_error_as(with_incidents("[[scenario.incidents]]\nname = \"x\"\n[[scenario.incidents.effects]]\n"
                                            "source = \"web\"\nfeild = \"status\"\n"), "scn.toml"),
               Contains("scn.toml:18: scenario.incidents[0].effects[0].feild: unknown key") && Contains("did you mean"));
    CHECK_THAT(toml_error_as(with_incidents("[[scenario.incidents]]\nname = \"x\"\n[[scenario.incidents.effects]]\n"
                                            "source = \"web\"\nfield = \"ms\"\nscale = 2\nsilent = true\n"), "scn.toml"),
               Contains("exactly one of percent"));
    CHECK_THAT(toml_error_as(with_incidents("[[scenario.incidents]]\nname = \"x\"\nduration = \"5m\"\n"), "scn.toml"),
               Contains("duration needs a start"));
    CHECK_THAT(toml_error_as(with_incidents("[[scenario.incidents]]\nstart = \"5m\"\n"), "scn.toml"),
               Contains("an incident needs name"));
    CHECK_THAT(toml_error_as(with_incidents("[[scenario.incidents]]\nname = \"x\"\nstart = \"5m\"\nend = \"1m\"\n"), "scn.toml"),
               Contains("end needs a start before it"));
}
