// The control plane's pieces on real sockets: the JSON-lines control server,
// the systemd notify protocol, the JSON writer.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <simdjson.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "unix_client.hpp"
#include "config/load.hpp"
#include "daemon/control_server.hpp"
#include "daemon/daemon.hpp"
#include "daemon/json_writer.hpp"
#include "daemon/sd_notify.hpp"

namespace asio = boost::asio;
using supervent::daemon::ControlServer;
using supervent::daemon::JsonWriter;

namespace {

std::string temp_dir() {
    char pattern[] = "/tmp/supervent-control-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    return pattern;
}

using supervent::test::connect_unix;
using supervent::test::read_line;

// A control server on its own io_context thread, echoing requests back.
struct EchoServer {
    explicit EchoServer(std::string socket_path)
        : path(std::move(socket_path)),
          server(io, path, [](std::string_view request, supervent::daemon::Responder respond) {
              respond(JsonWriter().begin_object().field("ok", true).field("echo", request).end_object().take());
          }),
          work(asio::make_work_guard(io)),
          thread([this] { io.run(); }) {}
    ~EchoServer() {
        io.stop();
        thread.join();
    }
    std::string path;
    asio::io_context io;
    ControlServer server;
    asio::executor_work_guard<asio::io_context::executor_type> work;
    std::thread thread;
};

}  // namespace

TEST_CASE("JsonWriter escapes strings and separates members", "[json]") {
    JsonWriter json;
    json.begin_object().field("a", "quote\" back\\ nl\n ctl\x01").field("n", std::uint64_t{42});
    json.key("list").begin_array().value(1).value(false).null().end_array();
    json.field("x", 1.5).end_object();
    CHECK(json.text() == R"({"a":"quote\" back\\ nl\n ctl\u0001","n":42,"list":[1,false,null],"x":1.500})");
    simdjson::dom::parser parser;
    CHECK(parser.parse(json.text()).error() == simdjson::SUCCESS);
}

TEST_CASE("the control server answers one line per request, on many clients", "[control]") {
    const std::string dir = temp_dir();
    EchoServer echo(dir + "/control.sock");

    struct stat info {};
    REQUIRE(::stat(echo.path.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0660);

    const int first = connect_unix(echo.path);
    const int second = connect_unix(echo.path);
    const std::string request = R"({"cmd":"status"})" "\n";
    REQUIRE(::send(second, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
    CHECK(read_line(second) == R"({"ok":true,"echo":"{\"cmd\":\"status\"}"})");
    // Two requests in one write get two replies, in order.
    const std::string two = "one\ntwo\n";
    REQUIRE(::send(first, two.data(), two.size(), 0) == static_cast<ssize_t>(two.size()));
    CHECK(read_line(first) == R"({"ok":true,"echo":"one"})");
    CHECK(read_line(first) == R"({"ok":true,"echo":"two"})");
    ::close(first);
    ::close(second);
    std::filesystem::remove_all(dir);
}

TEST_CASE("an oversized request gets an error, not a stall", "[control]") {
    const std::string dir = temp_dir();
    EchoServer echo(dir + "/control.sock");
    const int fd = connect_unix(echo.path);
    const std::string huge(200 * 1024, 'x');  // no newline, beyond the request limit
    ::send(fd, huge.data(), huge.size(), MSG_NOSIGNAL);
    CHECK(read_line(fd) == R"({"ok":false,"error":"request too long: at most 65536 bytes per line"})");
    ::close(fd);
    // The server still serves others.
    const int other = connect_unix(echo.path);
    ::send(other, "hi\n", 3, 0);
    CHECK(read_line(other) == R"({"ok":true,"echo":"hi"})");
    ::close(other);
    std::filesystem::remove_all(dir);
}

TEST_CASE("a stale socket file is replaced; a live one is refused", "[control]") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/control.sock";
    {
        // Leave a socket file behind that nobody listens on.
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        ::close(fd);
    }
    EchoServer echo(path);  // takes over the stale file
    asio::io_context other_io;
    CHECK_THROWS_WITH(ControlServer(other_io, path, [](std::string_view, supervent::daemon::Responder) {}),
                      Catch::Contains("already listening"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("the control server creates its directory and removes its socket on exit", "[control]") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/nested/run/control.sock";
    {
        EchoServer echo(path);
        CHECK(std::filesystem::exists(path));
    }
    CHECK_FALSE(std::filesystem::exists(path));
    std::filesystem::remove_all(dir);
}

TEST_CASE("Notifier speaks the systemd notify protocol", "[notify]") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/notify";
    const int receiver = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    REQUIRE(::bind(receiver, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);

    const supervent::daemon::Notifier notifier(path);
    CHECK(notifier.enabled());
    CHECK(notifier.notify("READY=1\nSTATUS=2 shards running"));
    char buffer[256] = {};
    const ssize_t got = ::recv(receiver, buffer, sizeof buffer, 0);
    CHECK(std::string(buffer, static_cast<std::size_t>(got)) == "READY=1\nSTATUS=2 shards running");

    const supervent::daemon::Notifier absent{std::string()};
    CHECK_FALSE(absent.enabled());
    CHECK_FALSE(absent.notify("READY=1"));
    ::close(receiver);
    std::filesystem::remove_all(dir);
}

namespace {

// One request on a fresh connection to a running daemon, its reply parsed.
simdjson::dom::element ask(simdjson::dom::parser& parser, const std::string& path, const std::string& request) {
    const int fd = connect_unix(path);
    const std::string line = request + "\n";
    REQUIRE(::send(fd, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size()));
    const std::string reply = read_line(fd);
    ::close(fd);
    simdjson::dom::element document;
    REQUIRE(parser.parse(reply).get(document) == simdjson::SUCCESS);
    return document;
}

std::string scenario_source(const std::string& name, const std::string& dataset) {
    return "[sources." + name + "]\ndataset = \"" + dataset + "\"\n[sources." + name +
           ".fields.n]\ntype = \"integer\"\nmin = 1\nmax = 9\n[[sources." + name +
           ".event_types]]\nname = \"hit\"\nmessage = \"" + name + " {n}\"\n";
}

}  // namespace

TEST_CASE("a running daemon swaps its scenario on reload and turns sources off and on, over its socket",
          "[control][reload]") {
    const std::string dir = temp_dir();
    const std::string socket_path = dir + "/ctl.sock";
    const std::string head = "[runtime]\nworkers = 2\nsocket = \"" + socket_path +
                             "\"\n[generation]\nrate = 20000\n[sink]\nurl = \"discard:\"\n";
    auto write = [&](const std::string& name, const std::string& text) {
        const std::string path = dir + "/" + name;
        std::FILE* file = std::fopen(path.c_str(), "w");
        REQUIRE(file != nullptr);
        std::fputs(text.c_str(), file);
        std::fclose(file);
        return path;
    };
    const std::string first = write("a.toml", head + scenario_source("alpha", "alpha"));
    const std::string second = write("b.toml", head + scenario_source("alpha", "alpha") + scenario_source("beta", "beta"));
    const std::string bad = write("bad.toml", head + scenario_source("alpha", "alpha") +
                                                  "[[scenario.dependencies]]\ntrigger_source = \"alpha\"\n"
                                                  "trigger_type = \"hit\"\naction_source = \"nowhere\"\naction_type = \"hit\"\n");

    auto load = [](const std::string& path) { return supervent::config::load_toml_file(path); };
    supervent::daemon::Daemon daemon(load(first), load);
    int rc = -1;
    std::thread runner([&] { rc = daemon.run(); });
    simdjson::dom::parser parser;
    struct Stopper {  // however the test ends, the daemon stops and its thread is joined
        std::thread& runner;
        const std::string& path;
        ~Stopper() {
            if (!runner.joinable()) return;
            if (const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0); fd >= 0) {
                sockaddr_un address{};
                address.sun_family = AF_UNIX;
                std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
                if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
                    ::send(fd, "{\"cmd\":\"stop\"}\n", 15, MSG_NOSIGNAL);
                }
                ::close(fd);
            }
            runner.join();
        }
    } stopper{runner, socket_path};

    auto status_until = [&](auto predicate) {
        for (int i = 0; i < 200; ++i) {
            if (std::filesystem::exists(socket_path)) {
                simdjson::dom::element status = ask(parser, socket_path, R"({"cmd":"status"})");
                if (predicate(status)) return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    };
    REQUIRE(status_until([](simdjson::dom::element s) { return std::string_view(s["state"]) == "running"; }));

    simdjson::dom::element reply = ask(parser, socket_path, R"({"cmd":"reload","file":")" + bad + "\"}");
    CHECK_FALSE(bool(reply["ok"]));
    CHECK_THAT(std::string(std::string_view(reply["error"])), Catch::Contains("nowhere"));

    reply = ask(parser, socket_path, R"({"cmd":"reload","file":")" + second + "\"}");
    REQUIRE(bool(reply["ok"]));
    CHECK(simdjson::minify(reply["scenario"]["added"]) == R"(["beta"])");
    CHECK(simdjson::minify(reply["scenario"]["unchanged"]) == R"(["alpha"])");
    CHECK(status_until([](simdjson::dom::element s) {
        const simdjson::dom::array sources = s["sources"];
        return sources.size() == 2 && std::uint64_t(s["sources"].at(1)["events_generated"]) > 0;
    }));

    reply = ask(parser, socket_path, R"({"cmd":"sources","name":"beta","enabled":false})");
    REQUIRE(bool(reply["ok"]));
    CHECK_FALSE(bool(reply["sources"].at(1)["enabled"]));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::uint64_t beta = ask(parser, socket_path, R"({"cmd":"sources"})")["sources"].at(1)["events_generated"];
    const std::uint64_t alpha = ask(parser, socket_path, R"({"cmd":"sources"})")["sources"].at(0)["events_generated"];
    CHECK(status_until([&](simdjson::dom::element s) {
        return std::uint64_t(s["sources"].at(0)["events_generated"]) > alpha;
    }));
    CHECK(std::uint64_t(ask(parser, socket_path, R"({"cmd":"sources"})")["sources"].at(1)["events_generated"]) == beta);

    reply = ask(parser, socket_path, R"({"cmd":"stop","wait":true})");
    CHECK(std::uint64_t(reply["events_generated"]) == std::uint64_t(reply["events_acked"]));
    runner.join();
    CHECK(rc == 0);
    std::filesystem::remove_all(dir);
}
