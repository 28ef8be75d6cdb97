// Hostile config files (test/data/hostile/, issue 14): each is refused with
// "FILE:LINE: reason" before a parser can crash, hang or exhaust memory on
// it, and every loader runs in a child process under an address-space limit
// and an alarm, so an input that would swallow the machine fails the test
// instead. The bounds themselves are checked at their edges.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>

#include "config/input_bounds.hpp"
#include "config/load.hpp"
#include "config/toml_write.hpp"
#include "config/values.hpp"
#include "config/yaml_load.hpp"
#include "core/bounds.hpp"

using Catch::Matchers::Contains;
using namespace supervent;
namespace detail = supervent::config::detail;

namespace {

const std::string hostile_dir = SUPERVENT_SOURCE_DIR "/test/data/hostile/";
constexpr rlim_t address_space_bytes = rlim_t{512} << 20;
// A sanitizer reserves terabytes of shadow address space at start-up, so an
// address-space limit cannot apply under one: there the alarm alone bounds
// the child (and the sanitizer's own allocator reports a runaway allocation).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool address_space_limited = false;
#else
constexpr bool address_space_limited = true;
#endif
constexpr unsigned alarm_s = 10;

// Runs `load` in a child under RLIMIT_AS and an alarm; returns its exit
// code: 0 refused with a ConfigError, 1 loaded, 2 anything else escaped,
// 128+N killed by signal N (SIGSEGV, SIGABRT of a bad_alloc, SIGALRM).
template <typename Load>
int confined(Load&& load) {
    std::fflush(nullptr);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        const rlimit limit{address_space_bytes, address_space_bytes};
        if (address_space_limited) ::setrlimit(RLIMIT_AS, &limit);
        ::alarm(alarm_s);
        int code = 2;
        try {
            load();
            code = 1;
        } catch (const config::ConfigError&) {
            code = 0;
        } catch (...) {
        }
        std::_Exit(code);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string refusal_of(const std::string& path) {
    try {
        (void)config::load_config_file(path);
    } catch (const config::ConfigError& error) {
        return error.what();
    }
    return "loaded";
}

}  // namespace

TEST_CASE("every hostile file is refused in bounded memory and time, by load and by convert", "[hostile]") {
    for (const char* name : {"toml_dotted_header.toml", "toml_dotted_key.toml", "toml_deep_arrays.toml",
                             "yaml_self_alias.yaml", "yaml_billion_laughs.yaml", "yaml_deep.yaml"}) {
        const std::string path = hostile_dir + name;
        CAPTURE(path);
        const auto started = std::chrono::steady_clock::now();
        CHECK(confined([&] { (void)config::load_config_file(path); }) == 0);
        CHECK(confined([&] { (void)config::to_toml(config::load_config_file(path)); }) == 0);
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    }
}

TEST_CASE("each refusal names the file, the line and the bound", "[hostile]") {
    CHECK_THAT(refusal_of(hostile_dir + "toml_dotted_header.toml"),
               Contains("toml_dotted_header.toml:1: a key of more than 16 dotted parts"));
    CHECK_THAT(refusal_of(hostile_dir + "toml_dotted_key.toml"), Contains("toml_dotted_key.toml:2: a key of more than"));
    CHECK_THAT(refusal_of(hostile_dir + "toml_deep_arrays.toml"), Contains("toml_deep_arrays.toml:2: nested more than 32 deep"));
    CHECK_THAT(refusal_of(hostile_dir + "yaml_self_alias.yaml"),
               Contains("yaml_self_alias.yaml:1: an alias inside the node it refers to"));
    CHECK_THAT(refusal_of(hostile_dir + "yaml_billion_laughs.yaml"),
               Contains("yaml_billion_laughs.yaml:7: more than 100000 values (aliases counted"));
    CHECK_THAT(refusal_of(hostile_dir + "yaml_deep.yaml"), Contains("yaml_deep.yaml:1: nested more than 32 deep"));
}

TEST_CASE("the TOML bounds hold at their edges and follow what toml++ reads", "[hostile]") {
    const auto depth = [](std::uint32_t n) {
        return "[generation]\nx = " + std::string(n, '[') + std::string(n, ']') + "\n";
    };
    // generation (1) + x (1) + arrays: the 31st array is at depth 32.
    CHECK(detail::check_toml_bounds(depth(31), "t") == depth(31).size());
    CHECK_THROWS_WITH(detail::check_toml_bounds(depth(32), "t"), Contains("t:2: nested more than 32 deep"));
    std::string key = "a";
    for (int i = 1; i < 16; ++i) key += ".a";
    CHECK_NOTHROW((void)detail::check_toml_bounds(key + " = 1\n", "t"));
    CHECK_THROWS_WITH(detail::check_toml_bounds(key + ".a = 1\n", "t"), Contains("t:1: a key of more than 16"));
    CHECK_THROWS_WITH(detail::check_toml_bounds("\"" + std::string(1100, 'k') + "\" = 1\n", "t"),
                      Contains("a key longer than 1024 bytes"));
    // Strings, comments and multi-line values are not structure.
    const std::string quiet = "# [a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a]\ns = \"[[[[ x.y.z ]]]]\"\nm = '''\n{{{{\n'''\n"
                              "b = \"\"\"\n[[[\n\"\"\"\nt = 1979-05-27 07:32:00Z\nf = [1.5, 2.5,\n  3.5, # c\n]\n";
    CHECK(detail::check_toml_bounds(quiet, "t") == quiet.size());
    CHECK_NOTHROW(config::load_toml_text("\xEF\xBB\xBF[generation]\nrate = 5\n", "bom.toml"));
    // Not TOML: toml++ reports it, with its own line and column.
    CHECK_THROWS_WITH(config::load_toml_text("[generation]\nrate = = 5\n" + std::string(40000, '['), "bad.toml"),
                      Contains("bad.toml:2:"));
    std::string nodes;
    for (std::uint32_t i = 0; i <= bounds::config_nodes_max; ++i) nodes += "1,";
    CHECK_THROWS_WITH(detail::check_toml_bounds("x = [" + nodes + "]\n", "t"), Contains("t:1: more than 100000 values"));
}

TEST_CASE("the YAML bounds count aliases as what they repeat", "[hostile]") {
    CHECK_NOTHROW(detail::check_yaml_bounds("a: &a [1, 2, 3]\nb: *a\nc: [*a, *a]\n", "y"));
    CHECK_THROWS_WITH(detail::check_yaml_bounds("a: &a [1, *a]\n", "y"), Contains("y:1: an alias inside the node"));
    CHECK_THROWS_WITH(detail::check_yaml_bounds("a: &a\n  b:\n    c: *a\n", "y"), Contains("y:3: an alias inside"));
    // Level i repeats 10^(i+1) leaves: level 3 (~12,000 nodes in all) fits, level 4 (~111,000) does not.
    std::string laughs = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i <= 3; ++i) {
        laughs += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
        for (int j = 0; j < 10; ++j) laughs += (j ? ", *l" : "*l") + std::to_string(i - 1);
        laughs += "]\n";
    }
    CHECK_NOTHROW(detail::check_yaml_bounds(laughs, "y"));
    CHECK_THROWS_WITH(detail::check_yaml_bounds(laughs + "l4: [*l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3]\n", "y"),
                      Contains("y:5: more than 100000 values"));
    // An implicit key stops at 1024 characters (YAML 1.2); an explicit one does not.
    CHECK_THROWS_WITH(detail::check_yaml_bounds("? " + std::string(1100, 'k') + "\n: 1\n", "y"),
                      Contains("y:1: a key longer than 1024 bytes"));
    CHECK_THROWS_WITH(detail::check_yaml_bounds("sources:\n  okt\xff\xff_logs: {}\n", "y"),
                      Contains("y:2: text that is not UTF-8"));
    // Not YAML: left to YAML::Load, which says where.
    CHECK_NOTHROW(detail::check_yaml_bounds("a: [1, 2\n", "y"));
}

TEST_CASE("a refusal is UTF-8 text whatever the file holds, so a JSON reply can carry it", "[hostile]") {
    std::string message;
    try {
        (void)config::load_yaml_text("a: \"\\\xff\"\n", "y.yaml");
    } catch (const config::ConfigError& error) {
        message = error.what();
    }
    CHECK_THAT(message, Contains("y.yaml:1:") && Contains("unknown escape character: ?"));
    CHECK(detail::printable("ok \xc3\xa9 \xff\x01 \xe2\x82") == "ok \xc3\xa9 ?? ??");
    CHECK(detail::quoted(std::string(59, 'x') + "\xc3\xa9") == "'" + std::string(59, 'x') + "?\xe2\x80\xa6'");
}

TEST_CASE("rates below the least or above the most are refused with the range", "[hostile]") {
    CHECK_THROWS_WITH(config::load_toml_text("[generation]\nrate = 1e-300\n", "r.toml"),
                      Contains("r.toml:2: generation.rate: 1e-300 events/s is below the least rate (the range is 0.01 to"));
    CHECK_THROWS_WITH(config::load_toml_text("[generation]\nrate = 1e13\n", "r.toml"), Contains("the range is 0.01 to"));
    CHECK(config::load_toml_text("[generation]\nrate = 0.01\n", "r.toml").rate_eps == 0.01);
}
