// libFuzzer target: a reload of a running daemon's config file, the way
// `supervent-ctl reload FILE` and SIGHUP do it: the file read from disk by
// config::reload_daemon_settings (size bound, bounds check, TOML or YAML by
// its name), then applied by Daemon::handle_control_request without shards.
// The first input byte picks .toml or .yaml, the rest is the file.
//
// Checks beyond the sanitizers: the reload is answered exactly once, with one
// JSON object; a refused reload says why ("ok":false with an "error").
#include <simdjson.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/load.hpp"
#include "daemon/daemon.hpp"
#include "daemon/log.hpp"

namespace {

void require(bool condition, const char* what, std::string_view detail) {
    if (!condition) {
        std::fprintf(stderr, "fuzz_reload: invariant broken: %s: %.*s\n", what, static_cast<int>(detail.size()),
                     detail.data());
        std::abort();
    }
}

// One file per process and extension, rewritten for every input.
std::string write_file(std::string_view text, bool yaml) {
    const std::string path = "/tmp/fuzz_reload." + std::to_string(::getpid()) + (yaml ? ".yaml" : ".toml");
    std::FILE* file = std::fopen(path.c_str(), "wb");
    require(file != nullptr, "cannot write the reload file", path);
    require(std::fwrite(text.data(), 1, text.size(), file) == text.size(), "cannot write the reload file", path);
    std::fclose(file);
    return path;
}

}  // namespace

// A refused reload logs its reason; thousands a second would drown the fuzzer's own output.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    supervent::daemon::log::set_level(supervent::daemon::log::Level::error);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size == 0) return 0;
    const std::string path = write_file(std::string_view(reinterpret_cast<const char*>(bytes) + 1, size - 1),
                                        (bytes[0] & 1) != 0);
    static const char* const argv[] = {"superventd", "--sink", "discard:"};
    supervent::config::Settings settings;
    settings.config_path = "startup.toml";
    supervent::daemon::Daemon daemon(settings, [](const std::string& file) {
        return supervent::config::reload_daemon_settings(3, argv, [](const char*) -> const char* { return nullptr; },
                                                         file);
    });
    int replies = 0;
    std::string reply;
    daemon.handle_control_request("{\"cmd\":\"reload\",\"file\":\"" + path + "\"}", [&](std::string text) {
        ++replies;
        reply = std::move(text);
    });
    require(replies == 1, "a reload not answered exactly once", path);
    static simdjson::dom::parser reply_parser;
    simdjson::dom::element document;
    require(reply_parser.parse(reply).get(document) == simdjson::SUCCESS && document.is_object(),
            "a reply that is not one JSON object", reply);
    bool ok = false;
    std::string_view error;
    require(document["ok"].get_bool().get(ok) == simdjson::SUCCESS, "a reply without a boolean \"ok\"", reply);
    require(ok || document["error"].get_string().get(error) == simdjson::SUCCESS, "ok:false without an error", reply);
    return 0;
}
