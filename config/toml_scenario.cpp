#include "core/timeline.hpp"
#include "config/toml_scenario.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <span>
#include <string_view>

#include "config/scenario_rules.hpp"
#include "config/toml_nodes.hpp"
#include "config/values.hpp"

namespace supervent::config::detail {

namespace {

struct Reader {
    const std::string& file;
    std::vector<TomlProblem>& problems;

    core::SchemaOrigin origin(const toml::node& node, const std::string& path) const { return {file, line_of(node), path}; }
    void add(const toml::node& node, const std::string& path, std::string_view reason) {
        problems.push_back({line_of(node), located(origin(node, path), reason)});
    }
    void unknown(const toml::node& node, const std::string& path, std::string_view key,
                 std::span<const std::string_view> accepted, std::string_view what) {
        add(node, path, concat("unknown key", did_you_mean(key, accepted), "; ", what, " accepts ", join_names(accepted, "and")));
    }
};

std::uint64_t count_of(const toml::node& node) {
    const auto* value = node.as_integer();
    if (value == nullptr || value->get() < 0) throw ValueError("expected a whole number >= 0");
    return static_cast<std::uint64_t>(value->get());
}

std::uint32_t hour_of(const toml::node& node) {
    const auto hour = count_of(node);
    if (hour > 24) throw ValueError("expected an hour 0..24");
    return static_cast<std::uint32_t>(hour);
}

const toml::table& table_of(const toml::node& node, std::string_view what) {
    const auto* table = node.as_table();
    if (table == nullptr) throw ValueError(concat("expected ", what));
    return *table;
}

constexpr std::array<std::string_view, 14> volume_keys{"pattern",      "count",       "distribution", "start",
                                                       "end",          "period",      "amplitude",    "ramp_from",
                                                       "peak",         "hour_weights", "day_weights", "burst_factor",
                                                       "burst_on",     "burst_off"};
constexpr std::array<std::string_view, 5> delay_keys{"distribution", "min", "max", "mean", "stddev"};
constexpr std::array<std::string_view, 9> dependency_keys{"trigger_source", "trigger_type", "message_contains",
                                                          "action_source",  "action_type",  "percentage",
                                                          "delay",          "inherit",      "session"};
constexpr std::array<std::string_view, 3> rate_keys{"source", "event_type", "per_second"};
constexpr std::array<std::string_view, 12> live_keys{"kind",  "amplitude", "period",     "ramp_from",       "ramp",
                                                     "steps", "open_hour", "close_hour", "off_hours_factor",
                                                     "peak",  "hour_weights", "day_weights"};

// A list of numbers (hour and day weight tables).
std::vector<double> numbers_of(const toml::node& node) {
    const auto* array = node.as_array();
    if (array == nullptr) throw ValueError("expected a list of numbers, e.g. [1, 2, 0.5]");
    std::vector<double> out;
    for (const auto& element : *array) out.push_back(number_of(element));
    return out;
}
constexpr std::array<std::string_view, 7> scenario_keys{"timezone", "dependencies", "rates",     "live",
                                                        "incidents", "trace_context", "traceparent"};

bool flag_of(const toml::node& node) {
    const auto* value = node.as_boolean();
    if (value == nullptr) throw ValueError("expected true or false");
    return value->get();
}

// inherit = ["user.id", "client_ip"]: field names.
std::vector<std::string> names_of(const toml::node& node) {
    const auto* array = node.as_array();
    if (array == nullptr) throw ValueError("expected a list of field names, e.g. [\"user.id\", \"client_ip\"]");
    std::vector<std::string> out;
    for (const auto& element : *array) out.push_back(text_of(element));
    return out;
}

core::DelaySpec delay_of(const toml::node& node) {
    const auto& table = table_of(node, "a delay table, e.g. { distribution = \"exponential\", mean = \"50ms\" }");
    core::DelaySpec delay;
    bool has_kind = false;
    for (const auto& [key, value] : table) {
        const auto name = key.str();
        if (name == "distribution") {
            delay.kind = parse_delay_kind(text_of(value));
            has_kind = true;
        } else if (name == "min") delay.min_ns = duration_of(value);
        else if (name == "max") delay.max_ns = duration_of(value);
        else if (name == "mean") delay.mean_ns = duration_of(value);
        else if (name == "stddev") delay.stddev_ns = duration_of(value);
        else {
            throw ValueError(concat("unknown key ", quoted(name), " in a delay", did_you_mean(name, delay_keys),
                                    "; a delay accepts ", join_names(delay_keys, "and")));
        }
    }
    if (!has_kind) throw ValueError("a delay needs distribution = \"fixed\", \"uniform\", \"exponential\" or \"normal\"");
    check_delay(delay);
    return delay;
}

}  // namespace

void read_toml_volume(const toml::node& node, const std::string& file, const std::string& path,
                      std::vector<core::VolumeSpec>& out, std::vector<TomlProblem>& problems) {
    Reader reader{file, problems};
    const auto* array = node.as_array();
    if (array == nullptr) {
        reader.add(node, path, "expected an array of tables, [[sources.NAME.volume]]");
        return;
    }
    out.clear();
    for (std::size_t i = 0; i < array->size(); ++i) {
        const auto& element = (*array)[i];
        const auto item_path = concat(path, '[', i, ']');
        const auto* table = element.as_table();
        if (table == nullptr) {
            reader.add(element, item_path, "expected a [[sources.NAME.volume]] table");
            continue;
        }
        core::VolumeSpec volume;
        volume.origin = reader.origin(element, item_path);
        bool ok = true;
        bool has_count = false;
        for (const auto& [key, value] : *table) {
            const auto name = key.str();
            const auto key_path = concat(item_path, '.', name);
            try {
                if (name == "pattern") volume.pattern = parse_volume_pattern(text_of(value));
                else if (name == "count") {
                    volume.count = count_of(value);
                    has_count = true;
                } else if (name == "distribution") volume.distribution = parse_spread(text_of(value));
                else if (name == "start") volume.start_ns = parse_rfc3339_ns(text_of(value));
                else if (name == "end") volume.end_ns = parse_rfc3339_ns(text_of(value));
                else if (name == "period") volume.period_ns = duration_of(value);
                else if (name == "amplitude") volume.amplitude = number_of(value);
                else if (name == "ramp_from") volume.ramp_from = number_of(value);
                else if (name == "peak") volume.peak_ns = parse_time_of_day_ns(text_of(value));
                else if (name == "hour_weights") volume.hour_weights = numbers_of(value);
                else if (name == "day_weights") volume.day_weights = numbers_of(value);
                else if (name == "burst_factor") volume.burst_factor = number_of(value);
                else if (name == "burst_on") volume.burst_on_ns = duration_of(value);
                else if (name == "burst_off") volume.burst_off_ns = duration_of(value);
                else {
                    reader.unknown(value, key_path, name, volume_keys, "a volume entry");
                    ok = false;
                }
            } catch (const ValueError& e) {
                reader.add(value, key_path, e.what());
                ok = false;
            }
        }
        if (!has_count) {
            reader.add(element, item_path, "a volume entry needs count (the number of root events over its window)");
            ok = false;
        }
        if (ok) {
            try {
                check_volume(volume);
            } catch (const ValueError& e) {
                reader.add(element, item_path, e.what());
                ok = false;
            }
        }
        if (ok) out.push_back(volume);
    }
}

void read_toml_scenario(const toml::node& node, const std::string& file, core::ScenarioSpec& out,
                        std::vector<TomlProblem>& problems) {
    Reader reader{file, problems};
    const auto* table = node.as_table();
    if (table == nullptr) {
        reader.add(node, "scenario", "expected a section [scenario]");
        return;
    }
    out = {};
    for (const auto& [key, value] : *table) {
        const auto name = key.str();
        const auto path = concat("scenario.", name);
        try {
            if (name == "timezone") {
                out.timezone = text_of(value);
            } else if (name == "trace_context") {
                out.trace_context = flag_of(value);
            } else if (name == "traceparent") {
                out.traceparent = flag_of(value);
            } else if (name == "dependencies" || name == "rates") {
                const auto* array = value.as_array();
                if (array == nullptr) throw ValueError(concat("expected an array of tables, [[scenario.", name, "]]"));
                for (std::size_t i = 0; i < array->size(); ++i) {
                    const auto& element = (*array)[i];
                    const auto item_path = concat(path, '[', i, ']');
                    const auto* item = element.as_table();
                    if (item == nullptr) {
                        reader.add(element, item_path, concat("expected a [[scenario.", name, "]] table"));
                        continue;
                    }
                    core::DependencySpec dependency;
                    core::TypeRate rate;
                    dependency.origin = rate.origin = reader.origin(element, item_path);
                    bool ok = true;
                    for (const auto& [item_key, item_value] : *item) {
                        const auto k = item_key.str();
                        const auto key_path = concat(item_path, '.', k);
                        try {
                            if (name == "rates") {
                                if (k == "source") rate.source = text_of(item_value);
                                else if (k == "event_type") rate.event_type = text_of(item_value);
                                else if (k == "per_second") rate.events_per_s = number_of(item_value);
                                else {
                                    reader.unknown(item_value, key_path, k, rate_keys, "a rate");
                                    ok = false;
                                }
                            } else if (k == "trigger_source") dependency.trigger_source = text_of(item_value);
                            else if (k == "trigger_type") dependency.trigger_type = text_of(item_value);
                            else if (k == "message_contains") dependency.message_contains = text_of(item_value);
                            else if (k == "action_source") dependency.action_source = text_of(item_value);
                            else if (k == "action_type") dependency.action_type = text_of(item_value);
                            else if (k == "percentage") dependency.percentage = number_of(item_value);
                            else if (k == "delay") dependency.delay = delay_of(item_value);
                            else if (k == "inherit") dependency.inherit = names_of(item_value);
                            else if (k == "session") dependency.session = flag_of(item_value);
                            else {
                                reader.unknown(item_value, key_path, k, dependency_keys, "a dependency");
                                ok = false;
                            }
                        } catch (const ValueError& e) {
                            reader.add(item_value, key_path, e.what());
                            ok = false;
                        }
                    }
                    if (name == "rates") {
                        if (rate.source.empty() || rate.event_type.empty() || !item->contains("per_second")) {
                            reader.add(element, item_path, "a rate needs source, event_type and per_second");
                            ok = false;
                        }
                        if (ok) out.type_rates.push_back(std::move(rate));
                    } else {
                        if (dependency.trigger_source.empty() || dependency.trigger_type.empty() ||
                            dependency.action_source.empty() || dependency.action_type.empty()) {
                            reader.add(element, item_path,
                                       "a dependency needs trigger_source, trigger_type, action_source and action_type");
                            ok = false;
                        }
                        if (ok) out.dependencies.push_back(std::move(dependency));
                    }
                }
            } else if (name == "incidents") {
                read_toml_incidents(value, file, out.incidents, problems);
            } else if (name == "live") {
                const auto& live = table_of(value, "a section [scenario.live]");
                for (const auto& [live_key, live_value] : live) {
                    const auto k = live_key.str();
                    const auto key_path = concat(path, '.', k);
                    try {
                        if (k == "kind") out.live.kind = parse_live_kind(text_of(live_value));
                        else if (k == "amplitude") out.live.amplitude = number_of(live_value);
                        else if (k == "period") out.live.period_ns = duration_of(live_value);
                        else if (k == "ramp_from") out.live.ramp_from = number_of(live_value);
                        else if (k == "ramp") out.live.ramp_ns = duration_of(live_value);
                        else if (k == "open_hour") out.live.open_hour = hour_of(live_value);
                        else if (k == "close_hour") out.live.close_hour = hour_of(live_value);
                        else if (k == "off_hours_factor") out.live.off_hours_factor = number_of(live_value);
                        else if (k == "peak") out.live.peak_ns = parse_time_of_day_ns(text_of(live_value));
                        else if (k == "hour_weights") out.live.hour_weights = numbers_of(live_value);
                        else if (k == "day_weights") out.live.day_weights = numbers_of(live_value);
                        else if (k == "steps") {
                            const auto* steps = live_value.as_array();
                            if (steps == nullptr) throw ValueError("expected a list of { at = \"10m\", factor = 2.0 }");
                            out.live.steps.clear();
                            for (const auto& step_node : *steps) {
                                const auto& step_table = table_of(step_node, "a { at = \"10m\", factor = 2.0 } table");
                                core::LiveShape::Step step;
                                if (!step_table.contains("at") || !step_table.contains("factor")) {
                                    throw ValueError("each step needs at and factor");
                                }
                                for (const auto& [step_key, step_value] : step_table) {
                                    if (step_key.str() == "at") step.at_ns = duration_of(step_value);
                                    else if (step_key.str() == "factor") step.factor = number_of(step_value);
                                    else throw ValueError(concat("unknown key ", quoted(step_key.str()), " in a step; a step has at and factor"));
                                }
                                if (step.factor < 0) throw ValueError("a step's factor must be >= 0");
                                out.live.steps.push_back(step);
                            }
                        } else {
                            reader.unknown(live_value, key_path, k, live_keys, "[scenario.live]");
                        }
                    } catch (const ValueError& e) {
                        reader.add(live_value, key_path, e.what());
                    }
                }
                if (!(out.live.amplitude >= 0 && out.live.amplitude <= 1)) reader.add(value, path, "amplitude must be between 0 and 1");
                if (out.live.period_ns <= 0) reader.add(value, path, "period must be greater than 0");
                if (!(out.live.ramp_from >= 0)) reader.add(value, path, "ramp_from must be >= 0");
                if (out.live.open_hour >= out.live.close_hour) reader.add(value, path, "open_hour must be before close_hour");
                if (!(out.live.off_hours_factor >= 0)) reader.add(value, path, "off_hours_factor must be >= 0");
                if (const auto e = core::check_rate_table(out.live.hour_weights, 24); !e.empty()) {
                    reader.add(value, path, "hour_weights: " + e + " (one per local hour 0..23)");
                }
                if (const auto e = core::check_rate_table(out.live.day_weights, 7); !e.empty()) {
                    reader.add(value, path, "day_weights: " + e + " (one per local weekday, Monday first)");
                }
            } else {
                reader.unknown(value, path, name, scenario_keys, "[scenario]");
            }
        } catch (const ValueError& e) {
            reader.add(value, path, e.what());
        }
    }
}

}  // namespace supervent::config::detail
