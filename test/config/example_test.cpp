#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "config/load.hpp"

using supervent::config::load_toml_file;
using supervent::config::Settings;

namespace {

const std::string example_path = std::string(SUPERVENT_SOURCE_DIR) + "/config/superventd.example.toml";

// The key of a line `key = …` or `# key = …`, else "". (Not std::regex: GCC 12
// warns inside it under the sanitizers, and warnings are errors.)
std::string key_of(std::string_view line) {
    if (line.starts_with("# ")) {
        line.remove_prefix(2);
    }
    const auto key_end = line.find_first_not_of("abcdefghijklmnopqrstuvwxyz_");
    if (key_end == 0 || key_end == std::string_view::npos || !line.substr(key_end).starts_with(" = ")) {
        return {};
    }
    return std::string(line.substr(0, key_end));
}

std::vector<std::string> lines_of(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

}  // namespace

TEST_CASE("the shipped example loads and states the defaults", "[example]") {
    const auto settings = load_toml_file(example_path);
    const Settings defaults;
    CHECK(settings.workers == defaults.workers);
    CHECK(settings.batch_events == defaults.batch_events);
    CHECK(settings.pin_threads == defaults.pin_threads);
    CHECK(settings.socket_path == defaults.socket_path);
    CHECK(settings.connections == defaults.connections);
    CHECK(settings.zero_copy == defaults.zero_copy);
    CHECK(settings.tcp_nodelay == defaults.tcp_nodelay);
    CHECK(settings.rate_eps == defaults.rate_eps);
    CHECK(settings.events == defaults.events);
    CHECK(settings.duration_s == defaults.duration_s);
    CHECK(settings.seed == defaults.seed);
    CHECK(settings.scenario == defaults.scenario);
    CHECK(settings.sink.kind == defaults.sink.kind);
    CHECK(settings.sink.host == defaults.sink.host);
    CHECK(settings.sink.port == defaults.sink.port);
    CHECK(settings.sink.path_prefix == defaults.sink.path_prefix);
    CHECK(settings.sink.text == defaults.sink.text);
    CHECK(settings.dataset == defaults.dataset);
    CHECK(settings.token_file == defaults.token_file);
    CHECK(settings.progress == defaults.progress);
    CHECK(settings.progress_interval_ms == defaults.progress_interval_ms);
    CHECK(settings.batch_bytes_max == defaults.batch_bytes_max);
    CHECK(settings.format == defaults.format);
    CHECK(settings.edge == defaults.edge);
    CHECK(settings.event_labels == defaults.event_labels);
    CHECK(settings.rotate_bytes == defaults.rotate_bytes);
    CHECK(settings.rotate_keep == defaults.rotate_keep);
}

TEST_CASE("the shipped example documents every key with a comment", "[example]") {
    const auto lines = lines_of(example_path);
    REQUIRE_FALSE(lines.empty());
    std::set<std::string> documented;
    std::string previous;
    for (const auto& line : lines) {
        if (const auto key = key_of(line); !key.empty()) {
            CAPTURE(line);
            CHECK(previous.starts_with("#"));
            documented.insert(key);
        }
        if (!line.empty()) {
            previous = line;
        }
    }
    for (const auto* key : {"workers", "batch_events", "pin_threads", "socket", "connections", "zero_copy",
                            "tcp_nodelay", "bind", "connect_timeout", "request_timeout", "drain_timeout", "rate", "events", "duration", "seed", "scenario", "url", "dataset",
                            "token_file", "compression", "progress", "progress_interval_ms", "socket_group",
                            "socket_allowed_uids", "socket_allowed_gids", "metrics_listen", "log_level", "log_format",
                            "batch_bytes", "format", "edge", "event_labels", "rotate_bytes", "rotate_keep"}) {
        CAPTURE(key);
        CHECK(documented.count(key) == 1);
    }
}
