#pragma once
// superventd's top level: plans the shards (daemon/planning.hpp), runs them on
// their threads and the control plane (signals, control socket, progress) on
// this one, and reports the outcome.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/settings.hpp"
#include "daemon/planning.hpp"

namespace supervent::daemon {

class Daemon {
public:
    // Loads the settings for a reload (SIGHUP, `reload [FILE]`) from a config
    // file path; throws with the reason when the file is invalid. The default
    // loads the file alone (plus the token): superventd passes one that
    // reapplies its command-line options on top, as at start-up.
    using SettingsLoader = std::function<config::Settings(const std::string& path)>;
    explicit Daemon(config::Settings settings, SettingsLoader load_settings = {});
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Runs to the end: 0 when every generated event was acknowledged,
    // 1 otherwise (failures, a shard that could not start).
    int run();

    // Answers one control-protocol request line (what the control socket
    // hands to the daemon) on this thread. Before run() there are no shards:
    // tests and the control-protocol fuzzer (test/fuzz) use it that way.
    void handle_control_request(std::string_view request, std::function<void(std::string)> respond);

private:
    struct Shared;
    std::unique_ptr<Shared> shared_;
};

}  // namespace supervent::daemon
