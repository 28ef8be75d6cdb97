#include "core/level_agreement.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "core/value_rows.hpp"

namespace supervent::core {
namespace {

bool one_of(std::string_view word, std::initializer_list<std::string_view> words) {
    return std::find(words.begin(), words.end(), word) != words.end();
}

// The template's own words: placeholders ({field}, {{field}}) left out.
std::string literal_text(std::string_view message) {
    std::string out;
    int depth = 0;
    for (const char c : message) {
        if (c == '{') ++depth;
        else if (c == '}' && depth > 0) --depth;
        else if (depth == 0) out += c;
        if (depth > 0 && c == '{') out += ' ';
    }
    return out;
}

bool names_field(std::string_view message, std::string_view field) {
    const std::string key = "{" + std::string(field) + "}";
    const std::string key_format = "{" + std::string(field) + ":";
    return message.find(key) != std::string_view::npos || message.find(key_format) != std::string_view::npos;
}

bool is_level_field(const FieldSpec& f) {
    if (f.kind != FieldKind::choice || f.values.empty() || !f.group.empty()) return false;
    if (!one_of(lower(leaf_of(f.name)), {"level", "severity", "log_level", "loglevel", "error_level", "levelname", "lvl"})) return false;
    return std::all_of(f.values.begin(), f.values.end(), [](const SchemaValue& v) { return level_rank(v.text).has_value(); });
}

bool is_outcome_field(const FieldSpec& f) {
    // A field in a choice group (outcome.result with outcome.reason) is drawn
    // by row, row i being value i, so it can be given as well.
    return f.kind == FieldKind::choice && !f.values.empty() &&
           one_of(lower(leaf_of(f.name)), {"message", "msg", "outcome", "result", "reason", "description", "text",
                                           "error", "error_message", "displaymessage", "event", "action"});
}

// Per text, the level weights it allows (all of them when it allows none).
std::vector<double> allowed_weights(const FieldSpec& level, TextOutcome outcome) {
    std::vector<double> weights;
    double kept = 0;
    for (std::size_t v = 0; v < level.values.size(); ++v) {
        const double w = level.weights.empty() ? 1.0 : level.weights[v];
        weights.push_back(text_allows(outcome, *level_rank(level.values[v].text)) ? w : 0.0);
        kept += weights.back();
    }
    if (kept > 0) return weights;
    return level.weights.empty() ? std::vector<double>(level.values.size(), 1.0) : level.weights;
}

}  // namespace

std::optional<int> level_rank(std::string_view word) {
    const std::string w = lower(word);
    if (one_of(w, {"trace", "debug", "verbose", "fine"})) return 0;
    if (one_of(w, {"info", "information", "notice"})) return 1;
    if (one_of(w, {"warn", "warning"})) return 2;
    if (one_of(w, {"error", "err", "critical", "crit", "fatal", "alert", "emerg", "emergency", "severe"})) return 3;
    return std::nullopt;
}

TextOutcome text_outcome(std::string_view text) {
    const std::string t = lower(text);
    bool success = false, warning = false;
    std::size_t i = 0;
    while (i < t.size()) {
        while (i < t.size() && !std::isalnum(static_cast<unsigned char>(t[i]))) ++i;
        std::size_t j = i;
        while (j < t.size() && std::isalnum(static_cast<unsigned char>(t[j]))) ++j;
        const std::string_view w(t.data() + i, j - i);
        i = j;
        if (w.empty()) continue;
        if (one_of(w, {"error", "errors", "errno", "fail", "fails", "failed", "failure", "failures", "denied", "timeout",
                       "refused", "exception", "crash", "crashed", "fatal", "unable", "cannot", "invalid", "deadlock",
                       "rejected", "unauthorized", "forbidden", "aborted", "panic", "unreachable", "corruption",
                       "corrupt", "corrupted", "violation", "exceeded", "killed", "oom", "full", "wrong", "mismatch",
                       "blocked", "interrupted", "dropping", "stopped", "can't", "couldn", "could"})) {
            return TextOutcome::failure;
        }
        warning |= one_of(w, {"warning", "warn", "approaching", "slow", "deprecated", "retry", "retrying", "degraded",
                              "throttled", "throttling"});
        success |= one_of(w, {"success", "successful", "successfully", "succeeded", "completed", "created", "ok",
                              "established", "accepted", "passed", "healthy", "saved"});
    }
    if (warning) return TextOutcome::warning;
    return success ? TextOutcome::success : TextOutcome::neutral;
}

bool text_allows(TextOutcome outcome, int rank) {
    switch (outcome) {
        case TextOutcome::neutral: return true;
        case TextOutcome::success: return rank <= 1;
        case TextOutcome::warning: return rank == 2;
        case TextOutcome::failure: return rank >= 2;
    }
    return true;
}

std::optional<LevelAgreement> plan_level_agreement(const SourceSpec& spec) {
    for (std::size_t l = 0; l < spec.fields.size(); ++l) {
        const FieldSpec& level = spec.fields[l];
        if (!is_level_field(level)) continue;
        LevelAgreement plan{l, true, 0, {}};
        // The event types' own words first: they are what a reader sees beside the level.
        bool any = false;
        for (const EventTypeSpec& t : spec.event_types) {
            const TextOutcome outcome = names_field(t.message, level.name) ? text_outcome(literal_text(t.message)) : TextOutcome::neutral;
            any |= outcome != TextOutcome::neutral;
            plan.weights.push_back(allowed_weights(level, outcome));
        }
        if (any) return plan;
        for (std::size_t g = 0; g < spec.fields.size(); ++g) {
            const FieldSpec& given = spec.fields[g];
            if (g == l || !is_outcome_field(given)) continue;
            plan = LevelAgreement{l, false, g, {}};
            any = false;
            for (const SchemaValue& v : given.values) {
                const TextOutcome outcome = text_outcome(v.text);
                any |= outcome != TextOutcome::neutral;
                plan.weights.push_back(allowed_weights(level, outcome));
            }
            if (any) return plan;
        }
    }
    return std::nullopt;
}

}  // namespace supervent::core
