// The built-in scenarios written in TOML (scenarios/*.toml): each loads as a
// config layer holding only sources and a scenario, --scenario puts them in
// the settings, and the TOML copy of web_access is the compiled default.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/builtin_scenario.hpp"
#include "config/load.hpp"
#include "config/toml_write.hpp"
#include "core/schema.hpp"
#include "core/scenarios.hpp"
#include "scenarios/catalogue.hpp"

namespace config = supervent::config;
namespace core = supervent::core;
namespace scenarios = supervent::scenarios;
using Catch::Matchers::Contains;

namespace {

config::Settings run_with(const std::string& name) {
    config::Settings settings;
    settings.scenario = name;
    config::apply_builtin_scenario(settings);
    return settings;
}

std::string ndjson_of(const core::SourceSpec& spec) {
    const auto source = core::make_program_source(core::compile_source(spec), {42, 0, 1}, 2000);
    std::vector<char> out(2000 * source->event_bytes_max());
    const std::int64_t t = 1'795'778'669'000'000'000;
    const std::size_t bytes = source->write_ndjson(2000, {t, t + 60'000'000'000ll}, out);
    return std::string(out.data(), bytes);
}

}  // namespace

TEST_CASE("the catalogue starts with web_access and names each file once", "[builtin]") {
    REQUIRE(scenarios::catalogue().size() >= 11);
    CHECK(scenarios::catalogue().front().name == "web_access");
    for (const auto& builtin : scenarios::catalogue()) {
        INFO(builtin.name);
        CHECK(scenarios::find(builtin.name) == &builtin);
        CHECK(!builtin.description.empty());
        CHECK(builtin.toml.starts_with("# " + std::string(builtin.name) + ": "));
    }
    CHECK(scenarios::find("nope") == nullptr);
}

TEST_CASE("each built-in holds only sources and a scenario and loads without warnings", "[builtin]") {
    for (const auto& builtin : scenarios::catalogue()) {
        INFO(builtin.name);
        config::Settings loaded = config::load_toml_text(builtin.toml, "<built-in>");
        CHECK(loaded.warnings.empty());
        CHECK(!loaded.sources.empty());
        // Nothing but [sources] and [scenario]: the rest is the defaults.
        loaded.sources.clear();
        loaded.scenario_spec = {};
        CHECK(config::to_toml(loaded) == config::to_toml(config::Settings{}));
    }
}

TEST_CASE("a scenario name puts the built-in's sources in the settings", "[builtin]") {
    const auto settings = run_with("payments");
    CHECK(settings.sources.size() == 6);
    CHECK(settings.sources.front().name == "api_gateway");
    CHECK(!settings.scenario_spec.dependencies.empty());
    CHECK(config::builtin_scenario_has_sources("payments"));
    CHECK(!config::builtin_scenario_has_sources("web_access"));
    // The default stays the compiled program.
    CHECK(run_with("web_access").sources.empty());
}

TEST_CASE("a time zone given by the user wins over the built-in's", "[builtin]") {
    config::Settings settings;
    settings.scenario = "syslog_rfc3164";
    settings.scenario_spec.timezone = "Europe/Berlin";
    config::apply_builtin_scenario(settings);
    CHECK(settings.scenario_spec.timezone == "Europe/Berlin");
    CHECK(settings.sources.size() == 1);
}

TEST_CASE("an unknown built-in is refused with the list of names", "[builtin]") {
    CHECK_THROWS_WITH(run_with("syslog"), Contains("unknown scenario 'syslog'") &&
                                              Contains("syslog_rfc5424") && Contains("web_access"));
}

TEST_CASE("a built-in beside the config file's sources is refused", "[builtin]") {
    config::Settings settings = config::load_toml_text("[sources.s.fields.a]\ntype = \"uuid\"\n[[sources.s.event_types]]\nname = \"e\"\nmessage = \"{a}\"\n", "f.toml");
    settings.scenario = "vpc_flow";
    CHECK_THROWS_WITH(config::apply_builtin_scenario(settings), Contains("conflicts with the config file's [sources]"));
}

TEST_CASE("the scenario option and generation.scenario both load the built-in", "[builtin]") {
    const char* argv[] = {"superventd", "--scenario", "vpc_flow", "--scale", "0.5"};
    const auto resolved = config::resolve_daemon_settings(5, argv, [](const char*) -> const char* { return nullptr; });
    REQUIRE(std::holds_alternative<config::Settings>(resolved));
    CHECK(std::get<config::Settings>(resolved).sources.front().name == "vpc_flow");
    // generation.scenario in a file works the same way.
    config::Settings from_file = config::load_toml_text("[generation]\nscenario = \"vpc_flow\"\n", "f.toml");
    config::apply_builtin_scenario(from_file);
    CHECK(from_file.sources.front().name == "vpc_flow");
}

TEST_CASE("web_access.toml gives the bytes of the compiled web_access", "[builtin]") {
    const config::Settings copy = config::load_toml_text(scenarios::find("web_access")->toml, "<built-in web_access>");
    REQUIRE(copy.sources.size() == 1);
    CHECK(ndjson_of(copy.sources.front()) == ndjson_of(core::web_access_spec()));
}
