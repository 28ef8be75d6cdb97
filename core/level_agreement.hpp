#pragma once
// A log level that agrees with the text it stands beside (issue 18).
//
// The original tool's files draw `level` independently of the message, so
// "ERROR … User authentication successful" and "INFO … Access denied" come
// out. A source's level field (a choice named level, severity, log_level, …
// whose values are level words) is drawn given either
//   - the event type, when the event types' message texts imply outcomes
//     ("… authentication successful", "… threshold approaching"), or
//   - a sibling message/outcome choice field whose values imply them
//     (mysql's message list, an outcome of SUCCESS/FAILURE),
// keeping only levels the text allows (text_allows below). A text that
// allows none of the field's levels keeps them all: nothing better exists.
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "core/schema.hpp"

namespace supervent::core {

// Severity of a level word: 0 trace/debug, 1 info/notice, 2 warn/warning,
// 3 error/critical/fatal/alert/emergency; nullopt for other words.
[[nodiscard]] std::optional<int> level_rank(std::string_view word);

// What a text's words imply. failure: error, failed, denied, timeout, …;
// warning: approaching, slow, deprecated, retry, …; success: successful,
// completed, created, ok, …; neutral otherwise. Failure words win.
enum class TextOutcome { neutral, success, warning, failure };
[[nodiscard]] TextOutcome text_outcome(std::string_view text);

// Whether a level of `rank` may stand beside a text with `outcome`:
// success → debug or info; warning → warn; failure → warn or error.
[[nodiscard]] bool text_allows(TextOutcome outcome, int rank);

struct LevelAgreement {
    std::size_t level_field = 0;
    bool given_event_type = false;      // true: weights per event type; false: per value of given_field
    std::size_t given_field = 0;
    std::vector<std::vector<double>> weights;  // per given value, one weight per level value
};

// The plan for `spec`, or nullopt when no level field needs one.
[[nodiscard]] std::optional<LevelAgreement> plan_level_agreement(const SourceSpec& spec);

}  // namespace supervent::core
