#pragma once
// Reading one TOML value as what a key needs, for the scenario readers
// (toml_scenario.cpp, toml_incident.cpp). Each throws ValueError with the
// reason; the caller adds the file, line and key path.
#include <cmath>
#include <cstdint>
#include <string>

#include <toml++/toml.h>

#include "config/scenario_rules.hpp"
#include "config/values.hpp"

namespace supervent::config::detail {

inline std::uint32_t line_of(const toml::node& node) { return static_cast<std::uint32_t>(node.source().begin.line); }

inline const std::string& text_of(const toml::node& node) {
    const auto* value = node.as_string();
    if (value == nullptr) throw ValueError("expected a string");
    return value->get();
}

inline double number_of(const toml::node& node) {
    if (const auto* value = node.as_integer()) return static_cast<double>(value->get());
    if (const auto* value = node.as_floating_point()) {
        if (!std::isfinite(value->get())) throw ValueError("expected a finite number");
        return value->get();
    }
    throw ValueError("expected a number");
}

// Durations are strings with a unit ("50ms", "24h").
inline std::int64_t duration_of(const toml::node& node) {
    if (node.as_string() == nullptr) throw ValueError("expected a duration string with a unit, e.g. \"50ms\" or \"24h\"");
    return parse_duration_ns(text_of(node));
}

}  // namespace supervent::config::detail
