// [[scenario.incidents]]: overlays that change the attribute mix for a
// while (core/incident.hpp). Each has a name, an optional schedule (start
// and duration or end, after the backfill window's or the live run's start)
// and [[scenario.incidents.effects]]. The engine checks the effects against
// the sources (unknown field, value, type) when the scenario compiles.
#include <array>
#include <cmath>
#include <string_view>

#include "config/scenario_rules.hpp"
#include "config/toml_nodes.hpp"
#include "config/toml_scenario.hpp"
#include "config/values.hpp"

namespace supervent::config::detail {
namespace {

constexpr std::array<std::string_view, 5> incident_keys{"name", "start", "duration", "end", "effects"};
constexpr std::array<std::string_view, 8> effect_keys{"source", "field",  "percent", "scale",
                                                      "event_type", "rate", "weight",  "silent"};

struct IncidentReader {
    const std::string& file;
    std::vector<TomlProblem>& problems;

    core::SchemaOrigin origin(const toml::node& node, const std::string& path) const { return {file, line_of(node), path}; }
    void add(const toml::node& node, const std::string& path, std::string_view reason) {
        problems.push_back({line_of(node), located(origin(node, path), reason)});
    }

    // percent = { "500" = 20, "503" = 10 }
    static std::vector<std::pair<std::string, double>> percents_of(const toml::node& node) {
        const auto* table = node.as_table();
        if (table == nullptr) throw ValueError("expected a table of value = percent, e.g. { \"500\" = 30 }");
        std::vector<std::pair<std::string, double>> out;
        for (const auto& [value, percent] : *table) out.emplace_back(std::string(value.str()), number_of(percent));
        return out;
    }

    // One effect: what it does follows from its keys (percent, scale, rate or
    // weight, silent); exactly one of them.
    bool read_effect(const toml::table& table, const std::string& path, core::IncidentEffect& effect) {
        bool ok = true;
        int kinds = 0;
        for (const auto& [key, value] : table) {
            const auto k = key.str();
            const auto key_path = concat(path, '.', k);
            try {
                if (k == "source") effect.source = text_of(value);
                else if (k == "field") effect.field = text_of(value);
                else if (k == "event_type") effect.event_type = text_of(value);
                else if (k == "percent") {
                    effect.kind = core::IncidentEffect::Kind::percent;
                    effect.percent = percents_of(value);
                    ++kinds;
                } else if (k == "scale") {
                    effect.kind = core::IncidentEffect::Kind::scale;
                    effect.factor = number_of(value);
                    ++kinds;
                } else if (k == "rate") {
                    effect.kind = core::IncidentEffect::Kind::rate;
                    effect.factor = number_of(value);
                    ++kinds;
                } else if (k == "weight") {
                    effect.kind = core::IncidentEffect::Kind::rate;
                    effect.weight = number_of(value);
                    ++kinds;
                } else if (k == "silent") {
                    const auto* flag = value.as_boolean();
                    if (flag == nullptr || !flag->get()) throw ValueError("expected silent = true");
                    effect.kind = core::IncidentEffect::Kind::silent;
                    ++kinds;
                } else {
                    add(value, key_path, concat("unknown key", did_you_mean(k, effect_keys), "; an effect accepts ",
                                                join_names(effect_keys, "and")));
                    ok = false;
                }
            } catch (const ValueError& e) {
                add(value, key_path, e.what());
                ok = false;
            }
        }
        if (ok && (effect.source.empty() || kinds != 1)) {
            problems.push_back({effect.origin.line,
                                located(effect.origin, "an effect needs source and exactly one of percent (with field), scale "
                                                       "(with field), rate or weight (with event_type), silent = true")});
            return false;
        }
        const bool needs_field = effect.kind == core::IncidentEffect::Kind::percent || effect.kind == core::IncidentEffect::Kind::scale;
        if (ok && needs_field && effect.field.empty()) {
            problems.push_back({effect.origin.line, located(effect.origin, "percent and scale need field = \"NAME\"")});
            return false;
        }
        if (ok && effect.kind == core::IncidentEffect::Kind::rate && effect.event_type.empty()) {
            problems.push_back({effect.origin.line, located(effect.origin, "rate and weight need event_type = \"NAME\"")});
            return false;
        }
        return ok;
    }

    void read_effects(const toml::node& node, const std::string& path, core::IncidentSpec& incident) {
        const auto* array = node.as_array();
        if (array == nullptr) throw ValueError("expected an array of tables, [[scenario.incidents.effects]]");
        for (std::size_t i = 0; i < array->size(); ++i) {
            const auto& element = (*array)[i];
            const auto item_path = concat(path, '[', i, ']');
            const auto* table = element.as_table();
            if (table == nullptr) {
                add(element, item_path, "expected a [[scenario.incidents.effects]] table");
                continue;
            }
            core::IncidentEffect effect;
            effect.origin = origin(element, item_path);
            if (read_effect(*table, item_path, effect)) incident.effects.push_back(std::move(effect));
        }
    }

    void read_incident(const toml::table& table, const std::string& path, core::IncidentSpec& incident) {
        std::optional<std::int64_t> end_ns;
        for (const auto& [key, value] : table) {
            const auto k = key.str();
            const auto key_path = concat(path, '.', k);
            try {
                if (k == "name") incident.name = text_of(value);
                else if (k == "start") incident.start_ns = duration_of(value);
                else if (k == "duration") incident.duration_ns = duration_of(value);
                else if (k == "end") end_ns = duration_of(value);
                else if (k == "effects") read_effects(value, key_path, incident);
                else add(value, key_path, concat("unknown key", did_you_mean(k, incident_keys), "; an incident accepts ",
                                                 join_names(incident_keys, "and")));
            } catch (const ValueError& e) {
                add(value, key_path, e.what());
            }
        }
        if (end_ns.has_value()) {
            if (incident.duration_ns != 0) add(table, path, "give duration or end, not both");
            else if (!incident.start_ns.has_value() || *end_ns <= *incident.start_ns) add(table, path, "end needs a start before it");
            else incident.duration_ns = *end_ns - *incident.start_ns;
        }
        if (incident.duration_ns != 0 && !incident.start_ns.has_value()) {
            add(table, path, "duration needs a start (an incident without a start runs only when started live)");
        }
        if (incident.name.empty()) add(table, path, "an incident needs name = \"NAME\"");
    }
};

}  // namespace

void read_toml_incidents(const toml::node& node, const std::string& file, std::vector<core::IncidentSpec>& out,
                         std::vector<TomlProblem>& problems) {
    IncidentReader reader{file, problems};
    const auto* array = node.as_array();
    if (array == nullptr) {
        reader.add(node, "scenario.incidents", "expected an array of tables, [[scenario.incidents]]");
        return;
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
        const auto& element = (*array)[i];
        const auto path = concat("scenario.incidents[", i, ']');
        const auto* table = element.as_table();
        if (table == nullptr) {
            reader.add(element, path, "expected a [[scenario.incidents]] table");
            continue;
        }
        core::IncidentSpec incident;
        incident.origin = reader.origin(element, path);
        reader.read_incident(*table, path, incident);
        out.push_back(std::move(incident));
    }
}

}  // namespace supervent::config::detail
