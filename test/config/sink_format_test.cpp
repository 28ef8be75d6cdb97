// The data-plane settings of issue 4: body format, bytes per request, edge
// path, event labels and file rotation, from the command line and from TOML.
#include <catch2/catch.hpp>

#include <vector>

#include "config/load.hpp"
#include "config/sink_values.hpp"
#include "fake_env.hpp"
#include "toml_text.hpp"

using supervent::config::ConfigError;
using supervent::config::EdgeMode;
using supervent::config::resolve_daemon_settings;
using supervent::config::Settings;
using supervent::config::SinkFormat;
using supervent::test::FakeEnv;
using supervent::test::load_toml_as;
using supervent::test::toml_error_as;
using Catch::Matchers::Contains;
namespace detail = supervent::config::detail;

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

Settings cli(std::vector<const char*> args) {
    args.insert(args.begin(), "superventd");
    return std::get<Settings>(resolve_daemon_settings(static_cast<int>(args.size()), args.data(), FakeEnv{}.get()));
}

std::string cli_error(std::vector<const char*> args) {
    try {
        (void)cli(std::move(args));
    } catch (const ConfigError& error) {
        return error.what();
    }
    FAIL("expected a ConfigError");
    return {};
}

}  // namespace

TEST_CASE("sink format: ndjson by default; json, csv and text by name", "[sink_format]") {
    CHECK(Settings{}.format == SinkFormat::ndjson);
    CHECK(cli({"--format", "json"}).format == SinkFormat::json);
    CHECK(cli({"--format=csv"}).format == SinkFormat::csv);
    CHECK(cli({"--format", "text"}).format == SinkFormat::text);
    CHECK(load_toml_as("[sink]\nformat = \"csv\"\n", "f.toml").format == SinkFormat::csv);
    CHECK_THAT(cli_error({"--format", "xml"}), Contains("--format: expected ndjson, json, csv or text, got 'xml'"));
    CHECK_THAT(toml_error_as("[sink]\nformat = \"JSON\"\n", "f.toml"), Contains("f.toml:2: sink.format: expected"));
}

TEST_CASE("batch bytes: a byte count with an optional unit, 64 KiB to 256 MiB", "[sink_format]") {
    CHECK(Settings{}.batch_bytes_max == 10 * 1024 * 1024);
    CHECK(cli({"--batch-bytes", "4MiB"}).batch_bytes_max == 4 * 1024 * 1024);
    CHECK(cli({"--batch-bytes", "65536"}).batch_bytes_max == 65536);
    CHECK(cli({"--batch-bytes", "2MB"}).batch_bytes_max == 2'000'000);
    CHECK(load_toml_as("[runtime]\nbatch_bytes = 1048576\n", "f.toml").batch_bytes_max == 1048576);
    CHECK(load_toml_as("[runtime]\nbatch_bytes = \"512KiB\"\n", "f.toml").batch_bytes_max == 512 * 1024);
    CHECK_THAT(cli_error({"--batch-bytes", "1000"}), Contains("--batch-bytes: must be between 65536"));
    CHECK_THAT(cli_error({"--batch-bytes", "1GiB"}), Contains("--batch-bytes: must be between"));
    CHECK_THAT(cli_error({"--batch-bytes", "10 parsecs"}), Contains("unknown size unit 'parsecs'"));
    CHECK_THAT(cli_error({"--batch-bytes", "-5"}), Contains("expected a byte count"));
    CHECK_THAT(cli_error({"--batch-bytes", "99999999999999999999KiB"}), Contains("expected a byte count"));
    CHECK_THAT(cli_error({"--batch-bytes", "18014398509481984KiB"}), Contains("too large"));
    CHECK_THAT(toml_error_as("[runtime]\nbatch_bytes = 10\n", "f.toml"), Contains("f.toml:2: runtime.batch_bytes: must be between"));
    CHECK_THAT(toml_error_as("[runtime]\nbatch_bytes = 1.5\n", "f.toml"), Contains("expected a byte count"));
}

TEST_CASE("edge: auto by default, --edge forces it, TOML takes true/false/auto", "[sink_format]") {
    CHECK(Settings{}.edge == EdgeMode::automatic);
    CHECK(cli({"--edge"}).edge == EdgeMode::on);
    CHECK(load_toml_as("[sink]\nedge = true\n", "f.toml").edge == EdgeMode::on);
    CHECK(load_toml_as("[sink]\nedge = false\n", "f.toml").edge == EdgeMode::off);
    CHECK(load_toml_as("[sink]\nedge = \"auto\"\n", "f.toml").edge == EdgeMode::automatic);
    CHECK_THAT(toml_error_as("[sink]\nedge = \"maybe\"\n", "f.toml"), Contains("sink.edge: expected auto, on or off"));
    CHECK_THAT(cli_error({"--edge=yes"}), Contains("--edge: takes no value"));

    CHECK(detail::is_axiom_edge_host("eu-central-1.aws.edge.axiom.co"));
    CHECK(detail::is_axiom_edge_host("US-EAST-1.AWS.EDGE.AXIOM.CO"));
    CHECK_FALSE(detail::is_axiom_edge_host("api.axiom.co"));
    CHECK_FALSE(detail::is_axiom_edge_host("edge.axiom.co"));
    CHECK_FALSE(detail::is_axiom_edge_host("evil.edge.axiom.co.example.com"));
}

TEST_CASE("event labels: NAME=VALUE pairs on the command line, a table in TOML", "[sink_format]") {
    CHECK(Settings{}.event_labels.empty());
    CHECK(cli({"--event-labels", "env=staging,team=core"}).event_labels == Labels{{"env", "staging"}, {"team", "core"}});
    CHECK(cli({"--event-labels", "note=a=b"}).event_labels == Labels{{"note", "a=b"}});
    CHECK(cli({"--event-labels", "empty="}).event_labels == Labels{{"empty", ""}});
    CHECK(cli({"--event-labels", "a=1", "--event-labels="}).event_labels.empty());
    CHECK(load_toml_as("[sink]\nevent_labels = { env = \"prod\", \"k v\" = \"x\\\"y\" }\n", "f.toml").event_labels ==
          Labels{{"env", "prod"}, {"k v", "x\"y"}});
    CHECK(load_toml_as("[sink.event_labels]\nregion = \"eu\"\n", "f.toml").event_labels == Labels{{"region", "eu"}});

    CHECK_THAT(cli_error({"--event-labels", "env"}), Contains("--event-labels: expected NAME=VALUE"));
    CHECK_THAT(cli_error({"--event-labels", "=x"}), Contains("needs a name"));
    CHECK_THAT(cli_error({"--event-labels", "_time=x"}), Contains("starts with '_'"));
    CHECK_THAT(cli_error({"--event-labels", "a=1,a=2"}), Contains("'a' is given twice"));
    CHECK_THAT(cli_error({"--event-labels", "a=1,"}), Contains("trailing ','"));
    CHECK_THAT(cli_error({"--event-labels", "a=\xff"}), Contains("not valid UTF-8"));
    const std::string long_key = "k" + std::string(200, 'x') + "=v";
    CHECK_THAT(cli_error({"--event-labels", long_key.c_str()}), Contains("longer than Axiom's 200 bytes"));
    const std::string too_much = "a=" + std::string(300, 'x') + ",b=" + std::string(300, 'y');
    CHECK_THAT(cli_error({"--event-labels", too_much.c_str()}), Contains("at most 512 fit the request head"));
    CHECK_THAT(toml_error_as("[sink]\nevent_labels = { n = 3 }\n", "f.toml"),
               Contains("f.toml:2: sink.event_labels: label 'n': expected a string, got an integer"));
    CHECK_THAT(toml_error_as("[sink]\nevent_labels = \"env=x\"\n", "f.toml"), Contains("expected a table of labels"));
}

TEST_CASE("event labels render as an ASCII JSON object for the header", "[sink_format]") {
    CHECK(detail::event_labels_json({}).empty());
    CHECK(detail::event_labels_json({{"env", "prod"}}) == R"({"env":"prod"})");
    CHECK(detail::event_labels_json({{"q", "say \"hi\"\\"}, {"t", "a\tb\r\nc"}}) ==
          R"({"q":"say \"hi\"\\","t":"a\u0009b\u000d\u000ac"})");
    // é (2 bytes), € (3 bytes), 😀 (4 bytes: a surrogate pair).
    CHECK(detail::event_labels_json({{"café", "€ \xF0\x9F\x98\x80"}}) == R"({"caf\u00e9":"\u20ac \ud83d\ude00"})");
    // Nothing outside printable ASCII reaches the header.
    const auto json = detail::event_labels_json({{"k", std::string("\x01\x7f\xC3\xA9", 4)}});
    for (char c : json) CHECK((c >= 0x20 && c < 0x7f));
}

TEST_CASE("file rotation: rotate_bytes 0 or at least 64 KiB, rotate_keep 1..1000", "[sink_format]") {
    CHECK(Settings{}.rotate_bytes == 0);
    CHECK(Settings{}.rotate_keep == 5);
    const auto settings = cli({"--rotate-bytes", "100MiB", "--rotate-keep", "3"});
    CHECK(settings.rotate_bytes == 100ull * 1024 * 1024);
    CHECK(settings.rotate_keep == 3);
    CHECK(load_toml_as("[sink]\nrotate_bytes = \"64KiB\"\nrotate_keep = 1\n", "f.toml").rotate_bytes == 65536);
    CHECK(cli({"--rotate-bytes", "0"}).rotate_bytes == 0);
    CHECK_THAT(cli_error({"--rotate-bytes", "1000"}), Contains("must be 0 (never rotate) or at least 65536"));
    CHECK_THAT(cli_error({"--rotate-keep", "0"}), Contains("--rotate-keep:"));
    CHECK_THAT(toml_error_as("[sink]\nrotate_keep = 1001\n", "f.toml"), Contains("f.toml:2: sink.rotate_keep:"));
}

TEST_CASE("the --check-config summary names the format, ingest path, labels and rotation", "[sink_format]") {
    using supervent::config::describe;
    const auto http = describe(cli({"--format", "csv", "--batch-bytes", "1MiB", "--event-labels", "env=prod"}));
    CHECK_THAT(http, Contains("format:        csv, at most 1048576 body bytes per request\n"));
    CHECK_THAT(http, Contains("ingest path:   /v1/datasets/DATASET/ingest (edge auto)\n"));
    CHECK_THAT(http, Contains("event labels:  {\"env\":\"prod\"}\n"));
    CHECK_THAT(describe(cli({"--sink", "http://eu-central-1.aws.edge.axiom.co"})),
               Contains("ingest path:   edge, /v1/ingest/DATASET (edge auto)\n"));
    CHECK_THAT(describe(cli({"--edge"})), Contains("ingest path:   edge, /v1/ingest/DATASET (edge on)\n"));
    const auto file = describe(cli({"--sink", "file:/tmp/x.log", "--rotate-bytes", "1MiB", "--rotate-keep", "2"}));
    CHECK_THAT(file, Contains("rotation:      at 1048576 bytes, keeping 2 old files\n"));
    CHECK_THAT(file, !Contains("ingest path"));
}
