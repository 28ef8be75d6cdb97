#pragma once
// superventd's diagnostics: one line per message on stderr, in one of three
// formats. `journal` prefixes each line with its syslog priority ("<3>" error
// … "<7>" debug) so that journald files it at the right level (sd-daemon(3));
// `plain` is the line alone, for a person at a terminal or a file
// (`2>&1 | tee run.log`); `json` is one object a line for log shippers.
// `auto` (the default) picks journal exactly when stderr is the journal's
// stream (systemd sets JOURNAL_STREAM to its device:inode), else plain.
// Lines below the configured level are dropped. A secret registered with
// set_secret (the Axiom token) is replaced by "<redacted>" in every line, so
// no message can leak it. Identical lines are written once, then counted:
// "LINE (repeated N times in the last 10 s)" once per interval, so no flood
// of requests or failures can flood the log.
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace supervent::daemon::log {

enum class Level : int { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

// "error", "warning", "notice", "info", "debug"; nullopt for anything else.
[[nodiscard]] std::optional<Level> parse_level(std::string_view name);
[[nodiscard]] const char* level_name(Level level);

enum class Format { automatic, plain, journal, json };
// "auto", "plain", "journal", "json"; nullopt for anything else.
[[nodiscard]] std::optional<Format> parse_format(std::string_view name);
// Where lines go stays as it is; `automatic` looks at stderr's JOURNAL_STREAM again.
void set_format(Format format);

void set_level(Level level);
[[nodiscard]] Level level();
[[nodiscard]] bool enabled(Level level);
// Where lines go (default stderr) and whether they carry "<N>" prefixes
// (journal format, else plain). Forgets the lines seen so far. For tests.
void set_output(std::FILE* stream, bool priority_prefix);
// How long identical lines are counted before the count is written (10 s). For tests.
void set_repeat_interval(std::chrono::nanoseconds interval);
// Writes the counts of lines repeated since they were last written, now.
void flush_repeats();
void set_secret(std::string secret);

// Writes `message` (each of its lines) at `level`.
void write(Level level, std::string_view message);
// printf-style; the program name ("superventd: ") is added in front.
void error(const char* format, ...) __attribute__((format(printf, 1, 2)));
void warning(const char* format, ...) __attribute__((format(printf, 1, 2)));
void notice(const char* format, ...) __attribute__((format(printf, 1, 2)));
void info(const char* format, ...) __attribute__((format(printf, 1, 2)));
void debug(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace supervent::daemon::log
