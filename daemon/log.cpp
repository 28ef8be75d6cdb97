#include "daemon/log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cassert>
#include <cstdarg>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <vector>

#include "daemon/json_writer.hpp"

namespace supervent::daemon::log {
namespace {

// Messages remembered for their repeats; beyond this many the oldest is
// forgotten (its count written first), so memory stays bounded whatever is logged.
constexpr std::size_t repeats_tracked_max = 64;
constexpr auto repeat_interval_default = std::chrono::seconds(10);

using Clock = std::chrono::steady_clock;

// A message written lately, and how often it came again since.
struct Seen {
    Level level;
    std::string message;
    Clock::time_point since;     // when it was last written
    std::uint64_t repeated = 0;  // identical messages not written since then
};

struct State {
    std::mutex mutex;  // one line at a time from any thread
    std::FILE* stream = nullptr;
    Format format = Format::automatic;  // resolved on the first line
    bool configured = false;
    std::string secret;
    Clock::duration repeat_interval = repeat_interval_default;
    std::vector<Seen> seen;  // oldest first
    ~State();
};

State& state() {
    static State instance;
    return instance;
}

std::atomic<int> current_level{static_cast<int>(Level::info)};

// systemd sets JOURNAL_STREAM=DEVICE:INODE when it connects stderr to the
// journal; a child or a redirection that replaced stderr keeps the variable
// but not the stream, so the two must match (sd_journal_stream_fd(3)).
bool stderr_is_journal() {
    const char* value = std::getenv("JOURNAL_STREAM");
    if (value == nullptr) return false;
    unsigned long long device = 0, inode = 0;
    if (std::sscanf(value, "%llu:%llu", &device, &inode) != 2) return false;
    struct stat status {};
    if (::fstat(STDERR_FILENO, &status) != 0) return false;
    return status.st_dev == device && status.st_ino == inode;
}

void configure(State& s) {
    if (s.configured) return;
    s.stream = stderr;
    s.configured = true;
}

Format resolved(State& s) {
    if (s.format == Format::automatic) s.format = stderr_is_journal() ? Format::journal : Format::plain;
    return s.format;
}

std::string utc_now_text() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    tm parts{};
    ::gmtime_r(&now.tv_sec, &parts);
    char text[96];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1,
                  parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, static_cast<int>(now.tv_nsec / 1'000'000));
    return text;
}

void write_line(State& s, Level level, std::string_view line) {
    configure(s);
    std::string text;
    text.reserve(line.size() + 16);
    switch (resolved(s)) {
        case Format::journal:
            text += '<';
            text += static_cast<char>('0' + static_cast<int>(level));
            text += '>';
            text += line;
            break;
        case Format::json: {
            JsonWriter json;
            json.begin_object().field("time", utc_now_text()).field("level", level_name(level)).field("message", line);
            text = json.end_object().take();
            break;
        }
        case Format::automatic:
        case Format::plain: text += line; break;
    }
    if (s.secret.size() >= 4) {
        for (auto at = text.find(s.secret); at != std::string::npos; at = text.find(s.secret, at)) {
            text.replace(at, s.secret.size(), "<redacted>");
        }
    }
    text += '\n';
    std::fwrite(text.data(), 1, text.size(), s.stream);
    std::fflush(s.stream);
}

// journald reads one priority per line: every line carries its own.
void write_lines(State& s, Level level, std::string_view message) {
    while (!message.empty()) {
        const auto end = message.find('\n');
        write_line(s, level, message.substr(0, end));
        if (end == std::string_view::npos) break;
        message.remove_prefix(end + 1);
    }
}

void write_repeats(State& s, const Seen& seen, Clock::time_point now) {
    if (seen.repeated == 0) return;
    const double seconds = std::chrono::duration<double>(now - seen.since).count();
    char count[96];
    std::snprintf(count, sizeof count, " (repeated %llu time%s in the last %.0f s)",
                  static_cast<unsigned long long>(seen.repeated), seen.repeated == 1 ? "" : "s", seconds);
    write_lines(s, seen.level, seen.message + count);
}

// Writes the counts whose interval is over, and forgets messages that did
// not come again within theirs.
void flush_due(State& s, Clock::time_point now) {
    std::erase_if(s.seen, [&](Seen& seen) {
        if (now - seen.since < s.repeat_interval) return false;
        if (seen.repeated == 0) return true;
        write_repeats(s, seen, now);
        seen.repeated = 0;
        seen.since = now;
        return false;
    });
}

// Whether `message` is written now: not when it was written (or its count
// was) within the interval; then it is only counted.
bool admit(State& s, Level level, std::string_view message) {
    const Clock::time_point now = Clock::now();
    flush_due(s, now);
    for (Seen& seen : s.seen) {
        if (seen.level == level && seen.message == message) {
            ++seen.repeated;
            return false;
        }
    }
    if (s.seen.size() >= repeats_tracked_max) {
        write_repeats(s, s.seen.front(), now);
        s.seen.erase(s.seen.begin());
    }
    s.seen.push_back({level, std::string(message), now, 0});
    assert(s.seen.size() <= repeats_tracked_max);
    return true;
}

State::~State() {
    // At exit: the counts not yet written are the last word on those messages.
    if (stream == nullptr) return;
    for (const Seen& seen : this->seen) write_repeats(*this, seen, Clock::now());
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
    s.format = priority_prefix ? Format::journal : Format::plain;
    s.configured = true;
    s.seen.clear();
}

void set_format(Format format) {
    State& s = state();
    std::lock_guard lock(s.mutex);
    s.format = format;
}

void set_repeat_interval(std::chrono::nanoseconds interval) {
    State& s = state();
    std::lock_guard lock(s.mutex);
    s.repeat_interval = interval;
}

std::optional<Format> parse_format(std::string_view name) {
    if (name == "auto") return Format::automatic;
    if (name == "plain") return Format::plain;
    if (name == "journal") return Format::journal;
    if (name == "json") return Format::json;
    return std::nullopt;
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
    if (admit(s, level, message)) write_lines(s, level, message);
}

void flush_repeats() {
    State& s = state();
    std::lock_guard lock(s.mutex);
    const Clock::time_point now = Clock::now();
    for (Seen& seen : s.seen) {
        write_repeats(s, seen, now);
        seen.repeated = 0;
        seen.since = now;
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
