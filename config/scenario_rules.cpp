#include "config/scenario_rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "config/values.hpp"
#include "core/timeline.hpp"

namespace supervent::config::detail {

namespace {

struct Unit {
    std::string_view name;
    std::int64_t ns;
};

// Longest names first so "ms" is not read as "m" followed by "s".
constexpr std::array units{Unit{"ns", 1}, Unit{"us", 1'000}, Unit{"µs", 1'000}, Unit{"ms", 1'000'000},
                           Unit{"s", 1'000'000'000}, Unit{"m", 60'000'000'000}, Unit{"h", 3'600'000'000'000},
                           Unit{"d", 86'400'000'000'000}};

[[noreturn]] void throw_bad_duration(std::string_view text) {
    throw ValueError(concat("expected a duration with a unit such as \"50ms\", \"1.5s\", \"24h\" or \"1h30m\" "
                            "(units ns, us, ms, s, m, h, d), got ",
                            quoted(text)));
}

}  // namespace

std::int64_t parse_duration_ns(std::string_view text) {
    const std::string_view original = text;
    if (text.empty()) throw_bad_duration(original);
    long double total = 0;
    while (!text.empty()) {
        std::size_t digits = 0;
        while (digits < text.size() && ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.')) ++digits;
        if (digits == 0) throw_bad_duration(original);
        double number = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + digits, number);
        if (error != std::errc{} || end != text.data() + digits) throw_bad_duration(original);
        text.remove_prefix(digits);
        const Unit* unit = nullptr;
        for (const auto& candidate : units) {
            if (text.starts_with(candidate.name) &&
                (unit == nullptr || candidate.name.size() > unit->name.size())) {
                unit = &candidate;
            }
        }
        if (unit == nullptr) throw_bad_duration(original);
        text.remove_prefix(unit->name.size());
        total += static_cast<long double>(number) * static_cast<long double>(unit->ns);
    }
    // About 290 years of nanoseconds fit an int64; a scenario needs far less.
    if (!(total <= 9.0e18L)) throw ValueError(concat("duration ", quoted(original), " is too long"));
    return static_cast<std::int64_t>(std::llround(static_cast<double>(total)));
}

std::string duration_ns_text(std::int64_t ns) {
    if (ns == 0) return "0s";
    const bool negative = ns < 0;
    const std::uint64_t magnitude = negative ? static_cast<std::uint64_t>(-(ns + 1)) + 1 : static_cast<std::uint64_t>(ns);
    // The largest unit that divides it exactly.
    for (auto unit = units.rbegin(); unit != units.rend(); ++unit) {
        if (unit->name == "µs") continue;
        const auto size = static_cast<std::uint64_t>(unit->ns);
        if (magnitude % size == 0) return concat(negative ? "-" : "", magnitude / size, unit->name);
    }
    return concat(negative ? "-" : "", magnitude, "ns");
}

double parse_frequency_eps(std::string_view text) {
    const std::string_view original = text;
    auto fail = [&]() -> double {
        throw ValueError(concat("expected a frequency such as \"20000 per minute\" (per second, minute, hour or day), got ",
                                quoted(original)));
    };
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    std::size_t digits = 0;
    while (digits < text.size() && ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.' ||
                                    text[digits] == '_' || text[digits] == ',')) {
        ++digits;
    }
    std::string number_text;
    for (const char c : text.substr(0, digits)) {
        if (c != '_' && c != ',') number_text += c;
    }
    double count = 0;
    const auto [end, error] = std::from_chars(number_text.data(), number_text.data() + number_text.size(), count);
    if (number_text.empty() || error != std::errc{} || end != number_text.data() + number_text.size()) return fail();
    text.remove_prefix(digits);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    if (text.starts_with("per ")) {
        text.remove_prefix(4);
    } else if (text.starts_with("/")) {
        text.remove_prefix(1);
    } else {
        return fail();
    }
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    double seconds = 0;
    if (text == "second" || text == "sec" || text == "s") seconds = 1;
    else if (text == "minute" || text == "min" || text == "m") seconds = 60;
    else if (text == "hour" || text == "h") seconds = 3600;
    else if (text == "day" || text == "d") seconds = 86400;
    else return fail();
    if (!std::isfinite(count) || count < 0) return fail();
    return count / seconds;
}

namespace {

// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
void civil_from_days(std::int64_t z, int& year, int& month, int& day) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    year = static_cast<int>(y + (month <= 2));
}

std::string two(int value) { return value < 10 ? concat('0', value) : concat(value); }

}  // namespace

std::string rfc3339_ns_text(std::int64_t ns) {
    std::int64_t seconds = ns / 1'000'000'000;
    std::int64_t fraction = ns % 1'000'000'000;
    if (fraction < 0) {
        fraction += 1'000'000'000;
        seconds -= 1;
    }
    std::int64_t days = seconds / 86400;
    std::int64_t second_of_day = seconds % 86400;
    if (second_of_day < 0) {
        second_of_day += 86400;
        days -= 1;
    }
    int year = 0, month = 0, day = 0;
    civil_from_days(days, year, month, day);
    std::string text = concat(year, '-', two(month), '-', two(day), 'T', two(static_cast<int>(second_of_day / 3600)), ':',
                              two(static_cast<int>(second_of_day / 60 % 60)), ':',
                              two(static_cast<int>(second_of_day % 60)));
    if (fraction != 0) {
        std::string digits = std::to_string(fraction);
        digits.insert(0, 9 - digits.size(), '0');
        while (digits.back() == '0') digits.pop_back();
        text += '.' + digits;
    }
    return text + 'Z';
}

std::string shortest_double_text(double value) {
    std::array<char, 64> buffer{};
    const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    if (error != std::errc{}) return concat(value);
    return {buffer.data(), end};
}

std::int64_t parse_time_of_day_ns(std::string_view text) {
    const std::string what = concat("expected a time of day such as \"14:30\" or \"14:30:15\" (or a duration "
                                    "from midnight such as \"14h30m\"), got ", quoted(text));
    std::int64_t ns = 0;
    if (text.find(':') != std::string_view::npos) {
        int parts[3] = {0, 0, 0};
        std::size_t n = 0;
        std::string_view rest = text;
        while (n < 3) {
            const std::size_t colon = rest.find(':');
            const std::string_view part = rest.substr(0, colon);
            if (part.size() != 2 || !std::isdigit(static_cast<unsigned char>(part[0])) ||
                !std::isdigit(static_cast<unsigned char>(part[1]))) {
                throw ValueError(what);
            }
            parts[n++] = (part[0] - '0') * 10 + (part[1] - '0');
            if (colon == std::string_view::npos) break;
            rest.remove_prefix(colon + 1);
        }
        if (n < 2 || parts[1] > 59 || parts[2] > 59 || (n == 3 && rest.size() != 2)) throw ValueError(what);
        ns = ((std::int64_t{parts[0]} * 60 + parts[1]) * 60 + parts[2]) * 1'000'000'000;
    } else {
        ns = parse_duration_ns(text);
    }
    if (ns < 0 || ns >= std::int64_t{86'400} * 1'000'000'000) throw ValueError(what + " (below 24:00)");
    return ns;
}

core::VolumePattern parse_volume_pattern(std::string_view name) {
    using P = core::VolumePattern;
    if (name == "24/7" || name == "always") return P::always;
    if (name == "weekday" || name == "weekdays") return P::weekday;
    if (name == "weekend" || name == "weekends") return P::weekend;
    if (name == "sine_wave" || name == "sine") return P::sine_wave;
    if (name == "linear_increase" || name == "linear") return P::linear_increase;
    throw ValueError(concat("unknown pattern ", quoted(name),
                            "; expected \"24/7\", \"weekday\", \"weekend\", \"sine_wave\" or \"linear_increase\""));
}

std::string_view volume_pattern_name(core::VolumePattern pattern) {
    switch (pattern) {
        case core::VolumePattern::always: return "24/7";
        case core::VolumePattern::weekday: return "weekday";
        case core::VolumePattern::weekend: return "weekend";
        case core::VolumePattern::sine_wave: return "sine_wave";
        case core::VolumePattern::linear_increase: return "linear_increase";
    }
    return "24/7";
}

core::SpreadDistribution parse_spread(std::string_view name) {
    if (name == "random" || name == "uniform") return core::SpreadDistribution::uniform;
    if (name == "gaussian" || name == "normal") return core::SpreadDistribution::gaussian;
    throw ValueError(concat("unknown distribution ", quoted(name), "; expected \"random\" (uniform) or \"gaussian\""));
}

std::string_view spread_name(core::SpreadDistribution distribution) {
    return distribution == core::SpreadDistribution::gaussian ? "gaussian" : "random";
}

core::DelaySpec::Kind parse_delay_kind(std::string_view name) {
    using K = core::DelaySpec::Kind;
    if (name == "none") return K::none;
    if (name == "fixed") return K::fixed;
    if (name == "uniform" || name == "random") return K::uniform;
    if (name == "exponential") return K::exponential;
    if (name == "normal" || name == "gaussian") return K::normal;
    throw ValueError(concat("unknown delay distribution ", quoted(name),
                            "; expected \"fixed\", \"uniform\", \"exponential\" or \"normal\""));
}

std::string_view delay_kind_name(core::DelaySpec::Kind kind) {
    switch (kind) {
        case core::DelaySpec::Kind::none: return "none";
        case core::DelaySpec::Kind::fixed: return "fixed";
        case core::DelaySpec::Kind::uniform: return "uniform";
        case core::DelaySpec::Kind::exponential: return "exponential";
        case core::DelaySpec::Kind::normal: return "normal";
    }
    return "none";
}

core::LiveShape::Kind parse_live_kind(std::string_view name) {
    using K = core::LiveShape::Kind;
    if (name == "constant") return K::constant;
    if (name == "sine") return K::sine;
    if (name == "ramp") return K::ramp;
    if (name == "step") return K::step;
    if (name == "business_hours") return K::business_hours;
    throw ValueError(concat("unknown live shape ", quoted(name),
                            "; expected \"constant\", \"sine\", \"ramp\", \"step\" or \"business_hours\""));
}

std::string_view live_kind_name(core::LiveShape::Kind kind) {
    switch (kind) {
        case core::LiveShape::Kind::constant: return "constant";
        case core::LiveShape::Kind::sine: return "sine";
        case core::LiveShape::Kind::ramp: return "ramp";
        case core::LiveShape::Kind::step: return "step";
        case core::LiveShape::Kind::business_hours: return "business_hours";
    }
    return "constant";
}

void check_delay(const core::DelaySpec& delay) {
    using K = core::DelaySpec::Kind;
    if (delay.min_ns < 0 || delay.max_ns < 0 || delay.mean_ns < 0 || delay.stddev_ns < 0) {
        throw ValueError("delays must not be negative");
    }
    switch (delay.kind) {
        case K::none: break;
        case K::fixed:
            break;
        case K::uniform:
            if (delay.min_ns > delay.max_ns) throw ValueError("delay min > max");
            break;
        case K::exponential:
            if (delay.mean_ns <= 0) throw ValueError("an exponential delay needs mean > 0, e.g. mean = \"50ms\"");
            if (delay.max_ns > 0 && delay.max_ns < delay.min_ns) throw ValueError("delay min > max");
            break;
        case K::normal:
            if (delay.stddev_ns <= 0) throw ValueError("a normal delay needs stddev > 0");
            if (delay.max_ns > 0 && delay.max_ns < delay.min_ns) throw ValueError("delay min > max");
            break;
    }
}

void check_volume(const core::VolumeSpec& volume) {
    if ((volume.start_ns == 0) != (volume.end_ns == 0)) {
        throw ValueError("a volume entry's window needs both start and end (or neither: the scenario's window)");
    }
    if (volume.start_ns != 0 && volume.start_ns >= volume.end_ns) throw ValueError("start must be before end");
    if (volume.period_ns <= 0) throw ValueError("period must be greater than 0");
    if (!(volume.amplitude >= 0 && volume.amplitude <= 1)) throw ValueError("amplitude must be between 0 and 1");
    if (!(volume.ramp_from >= 0 && volume.ramp_from <= 1)) throw ValueError("ramp_from must be between 0 and 1");
    if (const std::string e = core::check_rate_table(volume.hour_weights, 24); !e.empty()) {
        throw ValueError("hour_weights: " + e + " (one per local hour 0..23)");
    }
    if (const std::string e = core::check_rate_table(volume.day_weights, 7); !e.empty()) {
        throw ValueError("day_weights: " + e + " (one per local weekday, Monday first)");
    }
    if (volume.burst_factor != 1) {
        if (!(volume.burst_factor > 0) || !std::isfinite(volume.burst_factor)) throw ValueError("burst_factor must be > 0");
        if (volume.burst_on_ns <= 0 || volume.burst_off_ns <= 0) {
            throw ValueError("a burst_factor needs burst_on and burst_off (mean lengths of bursts and quiet spells)");
        }
    }
}

std::string located(const core::SchemaOrigin& origin, std::string_view reason) {
    return core::SchemaError(origin, std::string(reason)).what();
}

std::vector<std::pair<std::uint32_t, std::string>> check_scenario(Settings& settings) {
    std::vector<std::pair<std::uint32_t, std::string>> errors;
    auto error = [&](const core::SchemaOrigin& origin, const std::string& reason) {
        errors.emplace_back(origin.line, located(origin, reason));
    };
    using Node = std::pair<std::string, std::string>;  // (source, event type)
    std::map<std::string, const core::SourceSpec*, std::less<>> sources;
    for (const auto& source : settings.sources) sources.emplace(source.name, &source);
    auto find_type = [&](const std::string& source, const std::string& type, const core::SchemaOrigin& origin,
                         std::string_view role) -> bool {
        const auto found = sources.find(source);
        if (found == sources.end()) {
            std::vector<std::string_view> names;
            for (const auto& s : settings.sources) names.push_back(s.name);
            error(origin, concat(role, " source ", quoted(source), " is not a source of this scenario",
                                 did_you_mean(source, names), names.empty() ? "" : "; sources: ",
                                 join_names(names, "and")));
            return false;
        }
        const auto& types = found->second->event_types;
        if (std::ranges::find(types, type, &core::EventTypeSpec::name) == types.end()) {
            std::vector<std::string_view> names;
            for (const auto& t : types) names.push_back(t.name);
            error(origin, concat(role, " event type ", quoted(type), " is not an event type of source ", quoted(source),
                                 did_you_mean(type, names), "; it has ", join_names(names, "and")));
            return false;
        }
        return true;
    };

    std::map<Node, std::vector<std::pair<Node, const core::DependencySpec*>>> edges;
    std::set<Node> produced;
    for (const auto& dependency : settings.scenario_spec.dependencies) {
        const bool trigger_ok = find_type(dependency.trigger_source, dependency.trigger_type, dependency.origin, "trigger");
        const bool action_ok = find_type(dependency.action_source, dependency.action_type, dependency.origin, "action");
        if (!(dependency.percentage >= 0 && dependency.percentage <= 100)) {
            error(dependency.origin, concat("percentage must be between 0 and 100, got ", number_text(dependency.percentage)));
        }
        try {
            check_delay(dependency.delay);
        } catch (const ValueError& e) {
            error(dependency.origin, e.what());
        }
        if (trigger_ok && action_ok) {
            const Node trigger{dependency.trigger_source, dependency.trigger_type};
            const Node action{dependency.action_source, dependency.action_type};
            edges[trigger].emplace_back(action, &dependency);
            produced.insert(action);
        }
    }
    for (const auto& rate : settings.scenario_spec.type_rates) {
        (void)find_type(rate.source, rate.event_type, rate.origin, "the rate's");
        if (!(rate.events_per_s >= 0) || !std::isfinite(rate.events_per_s)) {
            error(rate.origin, "a rate must be a non-negative number of events per second");
        }
    }

    // Cycles: a depth-first search over trigger -> action, naming the first cycle found from each start.
    std::map<Node, int> state;  // 0 new, 1 on the stack, 2 done
    std::vector<Node> stack;
    std::set<std::string> reported;
    auto node_text = [](const Node& n) { return concat(n.first, '.', n.second); };
    auto visit = [&](auto&& self, const Node& node) -> void {
        state[node] = 1;
        stack.push_back(node);
        for (const auto& [next, dependency] : edges[node]) {
            if (state[next] == 1) {
                const auto from = std::ranges::find(stack, next);
                std::string cycle;
                for (auto it = from; it != stack.end(); ++it) cycle += node_text(*it) + " -> ";
                cycle += node_text(next);
                if (reported.insert(cycle).second) {
                    error(dependency->origin,
                          concat("dependency cycle ", cycle, ": every event would cause another without end; "
                                 "remove one of these dependencies"));
                }
            } else if (state[next] == 0) {
                self(self, next);
            }
        }
        stack.pop_back();
        state[node] = 2;
    };
    for (const auto& [node, next] : edges) {
        if (state[node] == 0) visit(visit, node);
    }

    for (const auto& source : settings.sources) {
        const bool has_root = std::ranges::any_of(source.event_types, &core::EventTypeSpec::root);
        if (!source.volume.empty() && !has_root) {
            error(source.volume.front().origin,
                  concat("source ", quoted(source.name),
                         " has volume entries but no root event type (root = true) to start its events"));
        }
        for (const auto& volume : source.volume) {
            try {
                check_volume(volume);
            } catch (const ValueError& e) {
                error(volume.origin, e.what());
            }
        }
        for (const auto& type : source.event_types) {
            if (!type.root && produced.count({source.name, type.name}) == 0) {
                settings.warnings.push_back(
                    located(type.origin, concat("event type ", quoted(type.name), " of source ", quoted(source.name),
                                                " is not a root type and no dependency produces it: it never appears")));
            }
        }
    }
    return errors;
}

}  // namespace supervent::config::detail

namespace supervent::config {

double check_scale(double scale) {
    if (!(scale > 0 && scale <= 1e6) || !std::isfinite(scale)) {
        throw detail::ValueError(detail::concat("expected a factor greater than 0 and at most 1000000, got ",
                                        detail::number_text(scale)));
    }
    return scale;
}

void apply_scale(Settings& settings) {
    try {
        (void)check_scale(settings.scale);
    } catch (const detail::ValueError& e) {
        throw ConfigError(detail::concat("scale: ", e.what()));
    }
    if (settings.scale == 1) return;
    for (auto& source : settings.sources) {
        for (auto& volume : source.volume) {
            if (volume.count == 0) continue;
            const double scaled = std::round(static_cast<double>(volume.count) * settings.scale);
            volume.count = scaled < 1 ? 1 : scaled >= 1.8e19 ? UINT64_MAX : static_cast<std::uint64_t>(scaled);
        }
    }
    for (auto& rate : settings.scenario_spec.type_rates) rate.events_per_s *= settings.scale;
}

}  // namespace supervent::config
