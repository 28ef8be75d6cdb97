// superventd's log (daemon/log.hpp): the format each line takes (journal
// priorities only when stderr is the journal's stream, plain otherwise, or
// JSON), and identical lines written once, then counted once per interval.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "daemon/log.hpp"

using namespace supervent::daemon;
using Catch::Matchers::Contains;

namespace {

std::string read_all(std::FILE* file) {
    std::fflush(file);
    std::rewind(file);
    std::string text;
    char buffer[4096];
    while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, file)) text.append(buffer, n);
    return text;
}

// Logs to a temporary file for one test, then back to stderr.
struct Captured {
    std::FILE* file = std::tmpfile();
    Captured() {
        REQUIRE(file != nullptr);
        log::set_output(file, false);
        log::set_level(log::Level::info);
    }
    ~Captured() {
        log::set_repeat_interval(std::chrono::seconds(10));
        log::set_output(stderr, true);
        std::fclose(file);
    }
    std::string text() { return read_all(file); }
};

}  // namespace

TEST_CASE("an identical line is written once, then counted once an interval", "[log]") {
    Captured out;
    log::set_repeat_interval(std::chrono::milliseconds(100));
    for (int i = 0; i < 1000; ++i) log::notice("set generation.rate = %d", 5000);
    log::notice("a different line");
    CHECK(out.text() == "superventd: set generation.rate = 5000\nsuperventd: a different line\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    log::notice("set generation.rate = %d", 5000);  // the interval is over: its count first, this one counted
    const std::string text = out.text();
    CHECK_THAT(text, Contains("superventd: set generation.rate = 5000 (repeated 999 times in the last 0 s)\n"));
    CHECK(text.find("superventd: set generation.rate = 5000\n", 40) == std::string::npos);
    log::flush_repeats();
    CHECK_THAT(out.text(), Contains("superventd: set generation.rate = 5000 (repeated 1 time in the last 0 s)\n"));
}

TEST_CASE("distinct lines beyond those remembered are still written, the oldest's count first", "[log]") {
    Captured out;
    log::notice("first");
    log::notice("first");
    for (int i = 0; i < 100; ++i) log::info("line %d", i);
    const std::string text = out.text();
    CHECK_THAT(text, Contains("superventd: first (repeated 1 time"));
    CHECK_THAT(text, Contains("superventd: line 99\n"));
}

TEST_CASE("lines are plain, journal or JSON, and auto is journal only on the journal's own stream", "[log]") {
    Captured out;
    log::set_format(log::Format::plain);
    log::warning("plain %d", 1);
    log::set_format(log::Format::journal);
    log::warning("journal %d", 2);
    log::set_format(log::Format::json);
    log::error("json \"%d\"", 3);
    const std::string text = out.text();
    CHECK_THAT(text, Contains("superventd: plain 1\n<4>superventd: journal 2\n{\"time\":\""));
    CHECK_THAT(text, Contains("Z\",\"level\":\"error\",\"message\":\"superventd: json \\\"3\\\"\"}\n"));

    struct stat status {};
    REQUIRE(::fstat(STDERR_FILENO, &status) == 0);
    const std::string stream = std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino);
    ::setenv("JOURNAL_STREAM", stream.c_str(), 1);
    log::set_format(log::Format::automatic);
    log::notice("auto under journald");
    ::setenv("JOURNAL_STREAM", "1:2", 1);  // a parent's journal, not our stderr (`2>&1 | tee run.log`)
    log::set_format(log::Format::automatic);
    log::notice("auto in a pipe");
    ::unsetenv("JOURNAL_STREAM");
    CHECK_THAT(out.text(), Contains("<5>superventd: auto under journald\nsuperventd: auto in a pipe\n"));
    CHECK(log::parse_format("json") == log::Format::json);
    CHECK_FALSE(log::parse_format("xml").has_value());
}
