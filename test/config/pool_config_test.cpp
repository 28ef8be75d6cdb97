// Entity pool keys (pool, popularity, zipf_exponent) in TOML and the
// original YAML: read onto core::FieldSpec, written back, and refused with
// the file, line and key when out of range or unknown.
#include <catch2/catch.hpp>

#include <string>

#include "config/load.hpp"
#include "config/toml_write.hpp"
#include "config/yaml_load.hpp"
#include "toml_text.hpp"

using supervent::config::Settings;
using supervent::core::FieldSpec;
using supervent::core::Popularity;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

std::string with_field(std::string_view keys) {
    return std::string("\n[sources.s]\ndescription = \"d\"\n\n[sources.s.fields.ip]\ntype = \"ipv4\"\ncidrs = [\"public\"]\n") +
           std::string(keys) + "\n[[sources.s.event_types]]\nname = \"e\"\nmessage = \"{ip}\"\n";
}

const FieldSpec& ip_of(const Settings& s) { return s.sources.at(0).fields.at(0); }

}  // namespace

TEST_CASE("pool keys reach the field and are written back", "[pools]") {
    const Settings s = supervent::test::load_toml_as(with_field("pool = 5000\npopularity = \"uniform\"\n"), "p.toml");
    CHECK(ip_of(s).pool == 5000);
    CHECK(ip_of(s).popularity == Popularity::uniform);
    const Settings z = supervent::test::load_toml_as(with_field("pool = 7\nzipf_exponent = 1.2\n"), "p.toml");
    CHECK(ip_of(z).popularity == Popularity::zipf);
    CHECK(ip_of(z).zipf_exponent == 1.2);
    const std::string text = supervent::config::to_toml(s);
    CHECK_THAT(text, Contains("pool = 5000\npopularity = \"uniform\"\n"));
    const Settings again = supervent::test::load_toml_as(text, "again.toml");
    CHECK(ip_of(again).pool == 5000);
    CHECK(ip_of(again).popularity == Popularity::uniform);
}

TEST_CASE("bad pool keys are refused naming file, line and key", "[pools]") {
    using supervent::test::toml_error_as;
    CHECK_THAT(toml_error_as(with_field("pool = 0\n"), "p.toml"), StartsWith("p.toml:8: sources.s.fields.ip.pool: must be from 1 to 1000000, got 0"));
    CHECK_THAT(toml_error_as(with_field("pool = 2000000\n"), "p.toml"), Contains("sources.s.fields.ip.pool: must be from 1 to 1000000"));
    CHECK_THAT(toml_error_as(with_field("pool = 10\npopularity = \"pareto\"\n"), "p.toml"),
               Contains("p.toml:9: sources.s.fields.ip.popularity: unknown popularity \"pareto\"; expected \"zipf\" or \"uniform\""));
    CHECK_THAT(toml_error_as(with_field("popularity = \"uniform\"\n"), "p.toml"),
               Contains("sources.s.fields.ip: popularity and zipf_exponent describe a pool"));
    CHECK_THAT(toml_error_as(with_field("pool = 10\nzipf_exponent = -1\n"), "p.toml"), Contains("zipf_exponent must be > 0"));
    CHECK_THAT(toml_error_as("\n[sources.s]\n[sources.s.fields.c]\ntype = \"choice\"\nvalues = [\"a\"]\npool = 3\n"
                             "[[sources.s.event_types]]\nname = \"e\"\nmessage = \"{c}\"\n", "p.toml"),
               Contains("p.toml:6: sources.s.fields.c.pool: does not apply to type = 'choice'"));
}

TEST_CASE("the original YAML's attributes take a pool too", "[pools][yaml]") {
    const Settings s = supervent::config::load_yaml_text(R"(start_time: "2024-01-01T00:00:00Z"
end_time: "2024-01-02T00:00:00Z"
sources:
  web:
    attributes:
      client_ip:
        type: string
        generator: client_ip
        pool: 3000
        popularity: zipf
        zipf_exponent: 0.9
    volume:
      - count: 10
    event_types:
      - type: hit
        format: "{client_ip}"
        create_from_scratch: true
dependencies: []
)", "t.yaml");
    const FieldSpec& ip = s.sources.at(0).fields.at(0);
    CHECK(ip.pool == 3000);
    CHECK(ip.zipf_exponent == 0.9);
}
