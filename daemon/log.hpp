#pragma once
// superventd's diagnostics: one line per message on stderr, each prefixed
// with its syslog priority ("<3>" error … "<7>" debug) so that journald files
// it at the right level (sd-daemon(3)). The prefix is left off when stderr is
// a terminal, where a person reads it. Lines below the configured level are
// dropped. A secret registered with set_secret (the Axiom token) is replaced
// by "<redacted>" in every line, so no message can leak it.
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace supervent::daemon::log {

enum class Level : int { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

// "error", "warning", "notice", "info", "debug"; nullopt for anything else.
[[nodiscard]] std::optional<Level> parse_level(std::string_view name);
[[nodiscard]] const char* level_name(Level level);

void set_level(Level level);
[[nodiscard]] Level level();
[[nodiscard]] bool enabled(Level level);
// Where lines go (default stderr) and whether they carry "<N>" prefixes
// (default: when that stream is not a terminal). For tests.
void set_output(std::FILE* stream, bool priority_prefix);
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
