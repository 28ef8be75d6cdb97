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

// superventd's exit codes. The unit keys on them (SuccessExitStatus=1: a run
// that ended with failed events is over, not to be restarted;
// RestartPreventExitStatus=2 3: a restart would fail the same way), and
// man/superventd.8 documents them.
inline constexpr int exit_all_acked = 0;      // every event generated was acknowledged
inline constexpr int exit_events_failed = 1;  // the run ended; some events failed (the summary says why)
inline constexpr int exit_usage = 2;          // the command line or the config is invalid
inline constexpr int exit_fatal = 3;          // could not start, or the sink refused us for good

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

    // Runs to the end: exit_all_acked, exit_events_failed, or exit_fatal
    // (a shard that could not start, a sink that refused us for good: bad
    // token, no dataset, quota, a certificate, a file that cannot be written).
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
