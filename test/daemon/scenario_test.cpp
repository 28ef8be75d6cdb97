// A scenario from the config file, end to end: the real superventd loads
// config/scenario.example.toml, writes to a file sink, and every line is the
// declared source's JSON; a fixed seed and window give the same bytes twice.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include <simdjson.h>

namespace {

const std::string example = std::string(SUPERVENT_SOURCE_DIR) + "/config/scenario.example.toml";

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() /
            ("supervent-scenario-" + std::to_string(::getpid()) + "-" + name))
        .string();
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs superventd with the example scenario into `out`; returns the exit status.
int run_daemon(const std::string& out, const std::string& extra = "") {
    const std::string command = std::string(SUPERVENT_DAEMON_BINARY) + " --config " + example + " --sink file:" + out +
                                " --workers 1 --rate unlimited --events 20000 --log-level warning"
                                " --start 2026-01-01T00:00:00Z --end 2026-01-01T01:00:00Z " +
                                extra + " 2>" + out + ".stderr";
    return std::system(command.c_str());
}

}  // namespace

TEST_CASE("superventd runs the example scenario: every line is the declared JSON", "[scenario]") {
    const auto out = temp_path("a.ndjson");
    REQUIRE(run_daemon(out) == 0);
    const std::string text = read_all(out);
    INFO(read_all(out + ".stderr"));

    simdjson::dom::parser parser;
    std::size_t lines = 0;
    std::set<std::string> methods;
    std::set<std::string> trace_low_halves;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        REQUIRE(end != std::string::npos);  // every event ends with a newline
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        ++lines;
        simdjson::dom::element event;
        const auto error = parser.parse(line).get(event);
        INFO(line);
        REQUIRE(error == simdjson::SUCCESS);
        CHECK(std::string(event["source"].get_string().value()) == "nginx access log");
        const auto attributes = event["attributes"];
        // Declared fields, with the types and ranges the example declares.
        const std::string method(attributes["method"].get_string().value());
        methods.insert(method);
        const std::int64_t status = attributes["status"].get_int64().value();
        CHECK(status >= 200);
        CHECK(status <= 503);
        const std::int64_t bytes = attributes["body_bytes_sent"].get_int64().value();
        CHECK(bytes >= 0);
        CHECK(bytes <= 5'000'000);
        const std::string trace_id(attributes["trace_id"].get_string().value());
        CHECK(trace_id.size() == 32);
        trace_low_halves.insert(trace_id.substr(16));
        CHECK(std::string(attributes["server"].get_string().value()) == "edge-1");
        CHECK(attributes["upstream"]["addr"].get_string().error() == simdjson::SUCCESS);
        CHECK(attributes["upstream"]["response_time_ms"].get_int64().error() == simdjson::SUCCESS);
        CHECK(attributes["remote_addr"].get_string().error() == simdjson::SUCCESS);
        CHECK(attributes["connection"].get_int64().value() >= 1000);
        // The message follows the template: the client address first.
        const std::string message(event["message"].get_string().value());
        CHECK(message.starts_with(std::string(attributes["remote_addr"].get_string().value()) + " - - ["));
    }
    CHECK(lines == 20000);
    // All 32 digits are random: the low 16 never repeat (p ~ 2^-38 that two of
    // 20000 do), which a block that reused stale or zero words would break.
    CHECK(trace_low_halves.size() == lines);
    CHECK(methods.size() == 5);  // all five weighted methods turn up in 20000 events
    std::filesystem::remove(out);
    std::filesystem::remove(out + ".stderr");
}

TEST_CASE("the example scenario with a fixed seed and window gives identical bytes", "[scenario]") {
    const auto first = temp_path("b1.ndjson");
    const auto second = temp_path("b2.ndjson");
    const auto other_seed = temp_path("b3.ndjson");
    REQUIRE(run_daemon(first) == 0);
    REQUIRE(run_daemon(second) == 0);
    REQUIRE(run_daemon(other_seed, "--seed 8") == 0);
    const auto a = read_all(first);
    CHECK(!a.empty());
    CHECK(a == read_all(second));
    // The seed matters: otherwise the equality above would prove nothing.
    CHECK(a != read_all(other_seed));
    for (const auto& path : {first, second, other_seed}) {
        std::filesystem::remove(path);
        std::filesystem::remove(path + ".stderr");
    }
}

TEST_CASE("superventd --check-config refuses a bad scenario naming file, line and key", "[scenario]") {
    const auto config = temp_path("bad.toml");
    std::ofstream(config) << "[sources.s]\n\n[sources.s.fields.a]\ntype = \"integer\"\nmin = 9\nmax = 1\n\n"
                             "[[sources.s.event_types]]\nname = \"e\"\nmessage = \"{a}\"\n";
    const std::string command =
        std::string(SUPERVENT_DAEMON_BINARY) + " --config " + config + " --check-config >" + config + ".out 2>&1";
    CHECK(std::system(command.c_str()) != 0);
    CHECK_THAT(read_all(config + ".out"), Catch::Matchers::Contains(config + ":3: sources.s.fields.a: min > max"));
    std::filesystem::remove(config);
    std::filesystem::remove(config + ".out");
}
