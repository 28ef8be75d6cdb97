#pragma once
// --watch-config: notices when the config file changes and says so, on the
// control thread. It watches the file's directory with inotify, not the file,
// because the file is often replaced rather than written: an editor renames a
// new copy over it, and a Kubernetes ConfigMap volume swaps the directory's
// `..data` symlink to a new timestamped directory, so the file's own inode
// never changes. Any event in the directory arms a short debounce; then the
// file's bytes are compared with the last ones seen, and only a real change
// is reported (a touch, or a swap to the same content, is not).
#include <utility>  // before Asio: see control_server.hpp

#include <boost/asio.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <string>

namespace supervent::daemon {

class ConfigWatch {
public:
    // Calls `changed` (on the io_context's thread) each time the content of
    // `path` differs from what it was at the last call (or at construction).
    // Throws std::runtime_error naming runtime.watch_config when the
    // directory cannot be watched.
    ConfigWatch(boost::asio::io_context& io, std::string path, std::function<void()> changed);
    ~ConfigWatch();
    ConfigWatch(const ConfigWatch&) = delete;
    ConfigWatch& operator=(const ConfigWatch&) = delete;

    // Long enough for a ConfigMap swap or an editor's rename-and-write to
    // finish, short against how often anyone edits a config.
    static constexpr std::chrono::milliseconds settle_time{200};

private:
    void read_events();
    void settled();
    void watch_target();

    std::string path_;
    std::function<void()> changed_;
    boost::asio::posix::stream_descriptor inotify_;
    boost::asio::steady_timer debounce_;
    std::array<char, 4096> events_{};
    std::string last_content_;
    bool armed_ = false;
};

// The file's bytes, or "" when it cannot be read (then a change is whatever
// it becomes once readable).
[[nodiscard]] std::string read_whole_file(const std::string& path);

}  // namespace supervent::daemon
