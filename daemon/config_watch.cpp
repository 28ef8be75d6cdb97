#include "daemon/config_watch.hpp"

#include "daemon/daemon_shared.hpp"
#include "daemon/log.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <climits>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace supervent::daemon {
namespace asio = boost::asio;

namespace {

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// Every way a file in the directory can come to hold something new: written
// and closed, created, renamed in or out (an editor's save, the ConfigMap's
// ..data swap), removed, or its symlink target or mode changed.
constexpr std::uint32_t watched_events = IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                         IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

}  // namespace

std::string read_whole_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return {};
    std::ostringstream content;
    content << file.rdbuf();
    return content.str();
}

ConfigWatch::ConfigWatch(asio::io_context& io, std::string path, std::function<void()> changed)
    : path_(std::move(path)), changed_(std::move(changed)), inotify_(io), debounce_(io) {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) throw std::runtime_error(std::string("runtime.watch_config (--watch-config): inotify: ") + std::strerror(errno));
    const std::string directory = directory_of(path_);
    if (::inotify_add_watch(fd, directory.c_str(), watched_events) < 0) {
        const int error = errno;
        ::close(fd);
        throw std::runtime_error("runtime.watch_config (--watch-config): cannot watch the directory '" + directory +
                                 "' of the config file: " + std::strerror(error));
    }
    inotify_.assign(fd);
    watch_target();
    last_content_ = read_whole_file(path_);
    read_events();
}

// A config path that is a symlink into another directory is written there:
// that directory is watched too, and again after each change (a ConfigMap
// swap points it at a new one; the old one's watch ends with its removal).
void ConfigWatch::watch_target() {
    char resolved[PATH_MAX];
    if (::realpath(path_.c_str(), resolved) == nullptr) return;
    const std::string directory = directory_of(resolved);
    if (directory != directory_of(path_)) (void)::inotify_add_watch(inotify_.native_handle(), directory.c_str(), watched_events);
}

ConfigWatch::~ConfigWatch() {
    boost::system::error_code ignored;
    debounce_.cancel();
    inotify_.close(ignored);
}

// The events themselves are not parsed: whatever happened in the directory,
// the file's content decides.
void ConfigWatch::read_events() {
    inotify_.async_read_some(asio::buffer(events_), [this](boost::system::error_code error, std::size_t) {
        if (error) return;  // closed: the daemon is ending
        if (!armed_) {
            armed_ = true;
            debounce_.expires_after(settle_time);
            debounce_.async_wait([this](boost::system::error_code timer_error) {
                if (!timer_error) settled();
            });
        }
        read_events();
    });
}

void ConfigWatch::settled() {
    armed_ = false;
    watch_target();
    std::string content = read_whole_file(path_);
    if (content.empty() || content == last_content_) return;  // mid-swap, gone, or the same bytes
    last_content_ = std::move(content);
    changed_();
}

}  // namespace supervent::daemon

// ---- the daemon's side: a change is a reload, with a reload's validation.

namespace supervent::daemon {

void Daemon::Shared::start_config_watch() {
    if (startup_config_path.empty()) {
        throw std::invalid_argument("--watch-config (runtime.watch_config) needs a config file to watch: --config FILE");
    }
    config_watch = std::make_unique<ConfigWatch>(io, startup_config_path, [this] {
        log::notice("config file %s changed: reloading", startup_config_path.c_str());
        // A refusal is logged by reload() itself and changes nothing.
        (void)reload(startup_config_path);
    });
    log::info("watching %s: a change is reloaded", startup_config_path.c_str());
}

}  // namespace supervent::daemon
