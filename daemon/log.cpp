#include "daemon/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <mutex>

namespace supervent::daemon::log {
namespace {

struct State {
    std::mutex mutex;  // one line at a time from any thread
    std::FILE* stream = nullptr;
    bool prefix = true;
    bool configured = false;
    std::string secret;
};

State& state() {
    static State instance;
    return instance;
}

std::atomic<int> current_level{static_cast<int>(Level::info)};

void write_line(State& s, Level level, std::string_view line) {
    if (!s.configured) {
        s.stream = stderr;
        s.prefix = ::isatty(STDERR_FILENO) == 0;
        s.configured = true;
    }
    std::string text;
    text.reserve(line.size() + 16);
    if (s.prefix) {
        text += '<';
        text += static_cast<char>('0' + static_cast<int>(level));
        text += '>';
    }
    text += line;
    if (s.secret.size() >= 4) {
        for (auto at = text.find(s.secret); at != std::string::npos; at = text.find(s.secret, at)) {
            text.replace(at, s.secret.size(), "<redacted>");
        }
    }
    text += '\n';
    std::fwrite(text.data(), 1, text.size(), s.stream);
    std::fflush(s.stream);
}

void vlog(Level level, const char* format, va_list args) {
    if (!enabled(level)) return;
    char buffer[4096];
    const int length = std::vsnprintf(buffer, sizeof buffer, format, args);
    if (length < 0) return;
    std::string message = "superventd: ";
    message.append(buffer, std::min<std::size_t>(static_cast<std::size_t>(length), sizeof buffer - 1));
    write(level, message);
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
    if (name == "error") return Level::error;
    if (name == "warning") return Level::warning;
    if (name == "notice") return Level::notice;
    if (name == "info") return Level::info;
    if (name == "debug") return Level::debug;
    return std::nullopt;
}

const char* level_name(Level level) {
    switch (level) {
        case Level::error: return "error";
        case Level::warning: return "warning";
        case Level::notice: return "notice";
        case Level::info: return "info";
        case Level::debug: return "debug";
    }
    return "info";
}

void set_level(Level level) { current_level.store(static_cast<int>(level), std::memory_order_relaxed); }
Level level() { return static_cast<Level>(current_level.load(std::memory_order_relaxed)); }
bool enabled(Level level) { return static_cast<int>(level) <= current_level.load(std::memory_order_relaxed); }

void set_output(std::FILE* stream, bool priority_prefix) {
    State& s = state();
    std::lock_guard lock(s.mutex);
    s.stream = stream;
    s.prefix = priority_prefix;
    s.configured = true;
}

void set_secret(std::string secret) {
    State& s = state();
    std::lock_guard lock(s.mutex);
    s.secret = std::move(secret);
}

void write(Level level, std::string_view message) {
    if (!enabled(level)) return;
    State& s = state();
    std::lock_guard lock(s.mutex);
    // journald reads one priority per line: every line carries its own.
    while (!message.empty()) {
        const auto end = message.find('\n');
        write_line(s, level, message.substr(0, end));
        if (end == std::string_view::npos) break;
        message.remove_prefix(end + 1);
    }
}

#define SUPERVENT_LOG_FN(name, lvl)            \
    void name(const char* format, ...) {       \
        va_list args;                          \
        va_start(args, format);                \
        vlog(lvl, format, args);               \
        va_end(args);                          \
    }
SUPERVENT_LOG_FN(error, Level::error)
SUPERVENT_LOG_FN(warning, Level::warning)
SUPERVENT_LOG_FN(notice, Level::notice)
SUPERVENT_LOG_FN(info, Level::info)
SUPERVENT_LOG_FN(debug, Level::debug)
#undef SUPERVENT_LOG_FN

}  // namespace supervent::daemon::log
