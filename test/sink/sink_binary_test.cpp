// Tests of the supervent-sink program itself, run as a subprocess: the
// announced port, the report written on SIGTERM/SIGINT, and exit codes.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <simdjson.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sink/server.hpp"
#include "test/sink/sink_test_client.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct TempDir {
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "supervent-sink-test-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    fs::path path;
};

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

class Process {
public:
    Process(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
        std::vector<std::string> argv_storage{SUPERVENT_SINK_BINARY};
        argv_storage.insert(argv_storage.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_storage) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int rc = posix_spawn(&pid_, SUPERVENT_SINK_BINARY, &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        REQUIRE(rc == 0);
    }
    ~Process() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }

    void signal(int number) const { kill(pid_, number); }

    // The exit code, or -1 (after killing it) when it does not exit in time.
    int wait_exit(std::chrono::milliseconds timeout = 10s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(10ms);
        }
        return -1;
    }

private:
    pid_t pid_ = -1;
};

// Waits for the port file the sink writes once it listens.
std::uint16_t wait_for_port(const fs::path& port_file) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (fs::exists(port_file)) return static_cast<std::uint16_t>(std::stoul(read_file(port_file)));
        std::this_thread::sleep_for(10ms);
    }
    FAIL("supervent-sink did not write its port file within 10 s");
    return 0;
}

std::uint64_t get_uint(simdjson::dom::element element) {
    std::uint64_t value = 0;
    REQUIRE_FALSE(element.get(value));
    return value;
}

}  // namespace

TEST_CASE("binary: announces its port - counts - writes the report on SIGTERM", "[sink][binary]") {
    TempDir dir;
    Process sink({"--listen", "127.0.0.1:0", "--port-file", (dir.path / "port").string(), "--report",
                  (dir.path / "report.json").string(), "--verify"},
                 dir.path / "out", dir.path / "err");
    const std::uint16_t port = wait_for_port(dir.path / "port");
    REQUIRE(port != 0);
    {
        sink_test::Client client(port);
        const std::string web = sink_test::ndjson(100);
        client.send(sink_test::post("/v1/datasets/web/ingest", web));
        CHECK(client.read_response().status == 200);
        client.send(sink_test::post("/v1/ingest/edge", sink_test::ndjson(10) + "oops\n"));
        CHECK(client.read_response().status == 200);
        client.send("GET /stats HTTP/1.1\r\n\r\n");
        CHECK(client.read_response().status == 200);
    }
    sink.signal(SIGTERM);
    REQUIRE(sink.wait_exit() == 0);

    CHECK(read_file(dir.path / "out") == "supervent-sink listening on 127.0.0.1:" + std::to_string(port) + "\n");
    CHECK(read_file(dir.path / "err").find("stopped by SIGTERM") != std::string::npos);
    const std::string report = read_file(dir.path / "report.json");
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    REQUIRE_FALSE(parser.parse(report).get(root));
    CHECK(get_uint(root["requests"]) == 2);
    CHECK(get_uint(root["events"]) == 110);
    CHECK(get_uint(root["invalid_events"]) == 1);
    const std::uint64_t body_bytes = sink_test::ndjson(100).size() + sink_test::ndjson(10).size() + 5;
    CHECK(get_uint(root["bytes_wire"]) == body_bytes);
    CHECK(get_uint(root["bytes_decoded"]) == body_bytes);
    CHECK(get_uint(root["datasets"]["web"]["requests"]) == 1);
    CHECK(get_uint(root["datasets"]["web"]["events"]) == 100);
    CHECK(get_uint(root["datasets"]["edge"]["events"]) == 10);
    CHECK(get_uint(root["datasets"]["edge"]["bytes_decoded"]) == sink_test::ndjson(10).size() + 5);
}

TEST_CASE("binary: SIGINT stops it too (listening on IPv6 loopback)", "[sink][binary]") {
    TempDir dir;
    {
        // Skip quietly where the machine has no IPv6 loopback.
        const int probe = socket(AF_INET6, SOCK_STREAM, 0);
        sockaddr_in6 address{};
        address.sin6_family = AF_INET6;
        address.sin6_addr = in6addr_loopback;
        const bool has_ipv6 = probe >= 0 && bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        if (probe >= 0) close(probe);
        if (!has_ipv6) return;
    }
    Process sink({"--listen", "[::1]:0", "--port-file", (dir.path / "port").string(), "--report",
                  (dir.path / "report.json").string()},
                 dir.path / "out", dir.path / "err");
    const std::uint16_t port = wait_for_port(dir.path / "port");
    sink.signal(SIGINT);
    REQUIRE(sink.wait_exit() == 0);
    CHECK(read_file(dir.path / "out") == "supervent-sink listening on [::1]:" + std::to_string(port) + "\n");
    CHECK(read_file(dir.path / "report.json").starts_with("{\"requests\":0,"));
}

TEST_CASE("binary: exit codes for help - usage errors - a port in use", "[sink][binary]") {
    TempDir dir;
    {
        Process help({"--help"}, dir.path / "out", dir.path / "err");
        CHECK(help.wait_exit() == 0);
        CHECK(read_file(dir.path / "out").find("--listen HOST:PORT") != std::string::npos);
    }
    {
        Process bad({"--threads", "many"}, dir.path / "out", dir.path / "err");
        CHECK(bad.wait_exit() == 2);
        CHECK(read_file(dir.path / "err").find("--threads") != std::string::npos);
    }
    {
        supervent::sink::ServerConfig config;
        config.port = 0;
        supervent::sink::Server taken(config);
        Process busy({"--listen", "127.0.0.1:" + std::to_string(taken.port())}, dir.path / "out", dir.path / "err");
        CHECK(busy.wait_exit() == 1);
        CHECK(read_file(dir.path / "err").find("cannot listen on 127.0.0.1:") != std::string::npos);
    }
}
