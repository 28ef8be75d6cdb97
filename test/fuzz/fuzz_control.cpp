// libFuzzer target: the control protocol as the daemon handles it
// (Daemon::handle_control_request: JSON parsing, every command, `set` turning
// a value into TOML, `reload`), without shards. Each input is a session: one
// request per line, state carried from line to line (pause, rate, stop …).
//
// Checks beyond the sanitizers: every request is answered exactly once
// (except `stop` with "wait", answered at the end of a drain that never comes
// here), every reply is one JSON object with a boolean "ok" and, when false,
// an "error"; no reply contains the token unless the request itself did.
#include <simdjson.h>

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

constexpr std::string_view secret = "xaat-fuzz-0123456789-not-a-real-token";

void require(bool condition, const char* what, std::string_view detail) {
    if (!condition) {
        std::fprintf(stderr, "fuzz_control: invariant broken: %s: %.*s\n", what, static_cast<int>(detail.size()),
                     detail.data());
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    static const bool quiet = [] {
        supervent::daemon::log::set_level(supervent::daemon::log::Level::error);
        return true;
    }();
    (void)quiet;
    static simdjson::dom::parser reply_parser;

    supervent::config::Settings settings;
    settings.token = std::string(secret);
    settings.token_source = "AXIOM_TOKEN";
    settings.config_path = "startup.toml";
    // A reload reads "the file" from the path text itself: fuzzed TOML, never the disk.
    supervent::daemon::Daemon daemon(settings, [](const std::string& path) {
        return supervent::config::load_toml_text(path, "reload");
    });

    std::string_view input(reinterpret_cast<const char*>(bytes), size);
    while (!input.empty()) {
        const std::size_t end = input.find('\n');
        const std::string_view line = input.substr(0, end);
        input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);

        int replies = 0;
        std::string reply;
        daemon.handle_control_request(line, [&](std::string text) {
            ++replies;
            reply = std::move(text);
        });
        if (replies == 0) {
            // Only a waiting stop is answered later.
            require(line.find("stop") != std::string_view::npos && line.find("wait") != std::string_view::npos,
                    "a request without a reply", line);
            continue;
        }
        require(replies == 1, "a request answered twice", line);
        // A reply may echo what the client sent (an unknown key, say); it may never add the token itself.
        require(reply.find(secret) == std::string::npos || line.find(secret) != std::string_view::npos,
                "the token in a reply", reply);
        require(reply.find('\n') == std::string::npos, "a reply spanning lines", reply);
        simdjson::dom::element document;
        require(reply_parser.parse(reply).get(document) == simdjson::SUCCESS && document.is_object(),
                "a reply that is not one JSON object", reply);
        bool ok = false;
        require(document["ok"].get_bool().get(ok) == simdjson::SUCCESS, "a reply without a boolean \"ok\"", reply);
        std::string_view error;
        require(ok || document["error"].get_string().get(error) == simdjson::SUCCESS, "ok:false without an error",
                reply);
    }
    return 0;
}
