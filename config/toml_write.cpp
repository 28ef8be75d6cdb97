#include "config/toml_write.hpp"

#include <cstdio>
#include <sstream>
#include <string_view>

#include "config/scenario_rules.hpp"
#include "config/values.hpp"

namespace supervent::config {

namespace {

using core::FieldKind;

// A TOML basic string.
std::string str(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (byte < 0x20 || byte == 0x7f) {
                    char escape[8];
                    std::snprintf(escape, sizeof escape, "\\u%04X", byte);
                    out += escape;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

// A key: bare when it can be, else quoted (so "actor.id" stays one key).
std::string key(std::string_view name) {
    const bool bare = !name.empty() && name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
                                           std::string_view::npos;
    return bare ? std::string(name) : str(name);
}

std::string number(double value) { return detail::shortest_double_text(value); }

// A float literal TOML reads as a float, not an integer.
std::string float_literal(std::string_view text) {
    std::string out(text);
    if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
    return out;
}

std::string value(const core::SchemaValue& v) {
    switch (v.type) {
        case core::SchemaValue::Type::string: return str(v.text);
        case core::SchemaValue::Type::integer: return v.text;
        case core::SchemaValue::Type::floating: return float_literal(v.text);
        case core::SchemaValue::Type::boolean: return v.text;
    }
    return str(v.text);
}

template <typename T, typename Write>
std::string list(const std::vector<T>& items, Write write) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += i == 0 ? "" : ", ";
        out += write(items[i]);
    }
    return out + "]";
}

std::string_view kind_name(FieldKind kind) {
    switch (kind) {
        case FieldKind::choice: return "choice";
        case FieldKind::integer: return "integer";
        case FieldKind::floating: return "float";
        case FieldKind::ipv4: return "ipv4";
        case FieldKind::ipv6: return "ipv6";
        case FieldKind::uuid4: return "uuid";
        case FieldKind::hex_id: return "hex";
        case FieldKind::base62_id: return "base62";
        case FieldKind::name: return "name";
        case FieldKind::email: return "email";
        case FieldKind::sequence: return "sequence";
        case FieldKind::constant: return "constant";
        case FieldKind::timestamp: return "timestamp";
        case FieldKind::person: return "person";
        case FieldKind::geo: return "geo";
    }
    return "choice";
}

std::string_view distribution_name(core::Distribution distribution) {
    switch (distribution) {
        case core::Distribution::uniform: return "uniform";
        case core::Distribution::normal: return "normal";
        case core::Distribution::exponential: return "exponential";
        case core::Distribution::zipf: return "zipf";
        case core::Distribution::histogram: return "histogram";
    }
    return "uniform";
}

void write_field(std::ostream& out, const std::string& source_key, const core::FieldSpec& f) {
    const core::FieldSpec defaults;
    out << "\n[sources." << source_key << ".fields." << key(f.name) << "]\n";
    out << "type = " << str(kind_name(f.kind)) << "\n";
    switch (f.kind) {
        case FieldKind::choice:
            out << "values = " << list(f.values, value) << "\n";
            if (!f.weights.empty()) out << "weights = " << list(f.weights, number) << "\n";
            break;
        case FieldKind::constant:
            out << "values = " << list(f.values, value) << "\n";
            break;
        case FieldKind::integer:
        case FieldKind::floating:
            out << "min = " << number(f.min) << "\nmax = " << number(f.max) << "\n";
            if (f.distribution != defaults.distribution) out << "distribution = " << str(distribution_name(f.distribution)) << "\n";
            if (f.mean != defaults.mean) out << "mean = " << number(f.mean) << "\n";
            if (f.stddev != defaults.stddev) out << "stddev = " << number(f.stddev) << "\n";
            if (f.exponent != defaults.exponent) out << "exponent = " << number(f.exponent) << "\n";
            if (!f.ranges.empty()) {
                out << "ranges = " << list(f.ranges, [](const core::WeightedRange& r) {
                    return detail::concat("{ min = ", number(r.min), ", max = ", number(r.max), ", weight = ", number(r.weight), " }");
                }) << "\n";
            }
            if (f.kind == FieldKind::floating && f.precision != defaults.precision) out << "precision = " << f.precision << "\n";
            break;
        case FieldKind::ipv4:
        case FieldKind::ipv6:
            if (!f.cidrs.empty()) out << "cidrs = " << list(f.cidrs, [](const std::string& c) { return str(c); }) << "\n";
            if (!f.cidr_weights.empty()) out << "cidr_weights = " << list(f.cidr_weights, number) << "\n";
            break;
        case FieldKind::hex_id:
        case FieldKind::base62_id:
            if (f.length != defaults.length) out << "length = " << f.length << "\n";
            break;
        case FieldKind::sequence:
            if (f.start != defaults.start) out << "start = " << f.start << "\n";
            if (f.step != defaults.step) out << "step = " << f.step << "\n";
            break;
        case FieldKind::timestamp:
            if (f.format != defaults.format) out << "format = " << str(f.format) << "\n";
            break;
        case FieldKind::person:
        case FieldKind::geo:
            out << "part = " << str(f.part) << "\n";
            break;
        case FieldKind::uuid4:
        case FieldKind::name:
        case FieldKind::email:
            break;
    }
    if (!f.group.empty()) out << "group = " << str(f.group) << "\n";
    if (f.pool != 0) {
        out << "pool = " << f.pool << "\n";
        if (f.popularity == core::Popularity::uniform) out << "popularity = \"uniform\"\n";
        if (f.zipf_exponent != defaults.zipf_exponent) out << "zipf_exponent = " << number(f.zipf_exponent) << "\n";
    }
}

void write_source(std::ostream& out, const core::SourceSpec& spec) {
    const auto source_key = key(spec.name);
    out << "\n[sources." << source_key << "]\n";
    if (!spec.description.empty()) out << "description = " << str(spec.description) << "\n";
    if (!spec.dataset.empty()) out << "dataset = " << str(spec.dataset) << "\n";
    if (spec.layout == core::AttributeLayout::flat) out << "layout = \"flat\"\n";
    if (spec.trace_context) out << "trace_context = true\n";
    if (spec.traceparent) out << "traceparent = true\n";
    for (const auto& field : spec.fields) write_field(out, source_key, field);
    for (const auto& type : spec.event_types) {
        out << "\n[[sources." << source_key << ".event_types]]\n";
        out << "name = " << str(type.name) << "\n";
        if (type.weight != 1) out << "weight = " << number(type.weight) << "\n";
        if (!type.root) out << "root = false\n";
        out << "message = " << str(type.message) << "\n";
        if (!type.attributes.empty()) out << "attributes = " << list(type.attributes, [](const std::string& a) { return str(a); }) << "\n";
    }
    const core::VolumeSpec defaults;
    for (const auto& volume : spec.volume) {
        out << "\n[[sources." << source_key << ".volume]]\n";
        out << "pattern = " << str(detail::volume_pattern_name(volume.pattern)) << "\n";
        out << "count = " << volume.count << "\n";
        out << "distribution = " << str(detail::spread_name(volume.distribution)) << "\n";
        if (volume.start_ns != 0 || volume.end_ns != 0) {
            out << "start = " << str(detail::rfc3339_ns_text(volume.start_ns)) << "\n";
            out << "end = " << str(detail::rfc3339_ns_text(volume.end_ns)) << "\n";
        }
        if (volume.period_ns != defaults.period_ns) out << "period = " << str(detail::duration_ns_text(volume.period_ns)) << "\n";
        if (volume.amplitude != defaults.amplitude) out << "amplitude = " << number(volume.amplitude) << "\n";
        if (volume.ramp_from != defaults.ramp_from) out << "ramp_from = " << number(volume.ramp_from) << "\n";
        if (volume.peak_ns) out << "peak = " << str(detail::duration_ns_text(*volume.peak_ns)) << "\n";
        if (!volume.hour_weights.empty()) out << "hour_weights = " << list(volume.hour_weights, number) << "\n";
        if (!volume.day_weights.empty()) out << "day_weights = " << list(volume.day_weights, number) << "\n";
        if (volume.burst_factor != defaults.burst_factor) {
            out << "burst_factor = " << number(volume.burst_factor) << "\n";
            out << "burst_on = " << str(detail::duration_ns_text(volume.burst_on_ns)) << "\n";
            out << "burst_off = " << str(detail::duration_ns_text(volume.burst_off_ns)) << "\n";
        }
    }
}

std::string delay_text(const core::DelaySpec& delay) {
    std::string out = detail::concat("{ distribution = ", str(detail::delay_kind_name(delay.kind)));
    auto add = [&](std::string_view name, std::int64_t ns) {
        if (ns != 0) out += detail::concat(", ", name, " = ", str(detail::duration_ns_text(ns)));
    };
    add("min", delay.min_ns);
    add("max", delay.max_ns);
    add("mean", delay.mean_ns);
    add("stddev", delay.stddev_ns);
    return out + " }";
}

// [[scenario.incidents]] and its effects (core/incident.hpp), as toml_incident.cpp reads them.
void write_incident(std::ostream& out, const core::IncidentSpec& incident) {
    out << "\n[[scenario.incidents]]\nname = " << str(incident.name) << "\n";
    if (incident.start_ns) {
        out << "start = " << str(detail::duration_ns_text(*incident.start_ns)) << "\n";
        out << "duration = " << str(detail::duration_ns_text(incident.duration_ns)) << "\n";
    }
    for (const auto& effect : incident.effects) {
        out << "[[scenario.incidents.effects]]\nsource = " << str(effect.source) << "\n";
        switch (effect.kind) {
            case core::IncidentEffect::Kind::percent:
                out << "field = " << str(effect.field) << "\npercent = {";
                for (std::size_t i = 0; i < effect.percent.size(); ++i) {
                    out << (i == 0 ? " " : ", ") << str(effect.percent[i].first) << " = " << number(effect.percent[i].second);
                }
                out << " }\n";
                break;
            case core::IncidentEffect::Kind::scale:
                out << "field = " << str(effect.field) << "\nscale = " << number(effect.factor) << "\n";
                break;
            case core::IncidentEffect::Kind::rate:
                out << "event_type = " << str(effect.event_type) << "\n";
                if (effect.weight) out << "weight = " << number(*effect.weight) << "\n";
                else out << "rate = " << number(effect.factor) << "\n";
                break;
            case core::IncidentEffect::Kind::silent: out << "silent = true\n"; break;
        }
    }
}

void write_scenario(std::ostream& out, const core::ScenarioSpec& scenario) {
    const core::ScenarioSpec defaults;
    if (scenario == defaults) return;
    out << "\n[scenario]\n";
    if (scenario.timezone != defaults.timezone) out << "timezone = " << str(scenario.timezone) << "\n";
    if (scenario.trace_context) out << "trace_context = true\n";
    if (scenario.traceparent) out << "traceparent = true\n";
    const auto& live = scenario.live;
    if (live != defaults.live) {
        const auto& d = defaults.live;
        out << "\n[scenario.live]\n";
        out << "kind = " << str(detail::live_kind_name(live.kind)) << "\n";
        if (live.amplitude != d.amplitude) out << "amplitude = " << number(live.amplitude) << "\n";
        if (live.period_ns != d.period_ns) out << "period = " << str(detail::duration_ns_text(live.period_ns)) << "\n";
        if (live.ramp_from != d.ramp_from) out << "ramp_from = " << number(live.ramp_from) << "\n";
        if (live.ramp_ns != d.ramp_ns) out << "ramp = " << str(detail::duration_ns_text(live.ramp_ns)) << "\n";
        if (!live.steps.empty()) {
            out << "steps = " << list(live.steps, [](const core::LiveShape::Step& s) {
                return detail::concat("{ at = ", str(detail::duration_ns_text(s.at_ns)), ", factor = ", number(s.factor), " }");
            }) << "\n";
        }
        if (live.open_hour != d.open_hour) out << "open_hour = " << live.open_hour << "\n";
        if (live.close_hour != d.close_hour) out << "close_hour = " << live.close_hour << "\n";
        if (live.off_hours_factor != d.off_hours_factor) out << "off_hours_factor = " << number(live.off_hours_factor) << "\n";
        if (live.peak_ns) out << "peak = " << str(detail::duration_ns_text(*live.peak_ns)) << "\n";
        if (!live.hour_weights.empty()) out << "hour_weights = " << list(live.hour_weights, number) << "\n";
        if (!live.day_weights.empty()) out << "day_weights = " << list(live.day_weights, number) << "\n";
    }
    for (const auto& dependency : scenario.dependencies) {
        out << "\n[[scenario.dependencies]]\n";
        out << "trigger_source = " << str(dependency.trigger_source) << "\n";
        out << "trigger_type = " << str(dependency.trigger_type) << "\n";
        if (!dependency.message_contains.empty()) out << "message_contains = " << str(dependency.message_contains) << "\n";
        out << "action_source = " << str(dependency.action_source) << "\n";
        out << "action_type = " << str(dependency.action_type) << "\n";
        if (dependency.percentage != 100) out << "percentage = " << number(dependency.percentage) << "\n";
        if (dependency.delay != core::DelaySpec{}) out << "delay = " << delay_text(dependency.delay) << "\n";
        if (!dependency.inherit.empty()) out << "inherit = " << list(dependency.inherit, str) << "\n";
        if (dependency.session) out << "session = true\n";
    }
    for (const auto& rate : scenario.type_rates) {
        out << "\n[[scenario.rates]]\n";
        out << "source = " << str(rate.source) << "\n";
        out << "event_type = " << str(rate.event_type) << "\n";
        out << "per_second = " << float_literal(number(rate.events_per_s)) << "\n";
    }
    for (const auto& incident : scenario.incidents) write_incident(out, incident);
}

// A TOML comment ends at the line's end and may hold no other control
// character: a warning quoting the file (a form feed in a key, found by
// fuzz_convert) or a path must not make the output unreadable.
std::string comment_text(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && c != '\t') || byte == 0x7f) c = ' ';
    }
    return out;
}

}  // namespace

std::string to_toml(const Settings& settings) {
    const Settings defaults;
    std::ostringstream out;
    out << "# supervent scenario";
    if (!settings.config_path.empty()) out << ", converted from " << comment_text(settings.config_path);
    out << "\n# Run it with: superventd --config FILE.toml --sink URL (docs/configuration.md, \"Scenarios\")\n";
    if (!settings.warnings.empty()) {
        out << "#\n# What the conversion noted:\n";
        for (const auto& warning : settings.warnings) out << "#   " << comment_text(warning) << "\n";
    }

    std::ostringstream runtime;
    if (settings.workers != defaults.workers) runtime << "workers = " << settings.workers << "\n";
    if (settings.batch_events != defaults.batch_events) runtime << "batch_events = " << settings.batch_events << "\n";
    if (!runtime.str().empty()) out << "\n[runtime]\n" << runtime.str();

    std::ostringstream network;
    if (settings.connections != defaults.connections) network << "connections = " << settings.connections << "\n";
    if (settings.tcp_nodelay != defaults.tcp_nodelay) network << "tcp_nodelay = " << (settings.tcp_nodelay ? "true" : "false") << "\n";
    if (settings.pipeline_depth_max != defaults.pipeline_depth_max) network << "pipeline_depth_max = " << settings.pipeline_depth_max << "\n";
    if (!network.str().empty()) out << "\n[network]\n" << network.str();

    std::ostringstream generation;
    if (settings.rate_eps != defaults.rate_eps) {
        generation << "rate = " << (settings.rate_eps ? float_literal(number(*settings.rate_eps)) : std::string("\"unlimited\"")) << "\n";
    }
    if (settings.events != defaults.events) generation << "events = " << settings.events << "\n";
    if (settings.seed != defaults.seed) generation << "seed = " << settings.seed << "\n";
    if (!settings.checkpoint_path.empty()) generation << "checkpoint = " << str(settings.checkpoint_path) << "\n";
    if (settings.scale != defaults.scale) generation << "scale = " << float_literal(number(settings.scale)) << "\n";
    if (settings.window_start_ns) generation << "start = " << str(detail::rfc3339_ns_text(*settings.window_start_ns)) << "\n";
    if (settings.window_end_ns) generation << "end = " << str(detail::rfc3339_ns_text(*settings.window_end_ns)) << "\n";
    if (settings.sources.empty() && settings.scenario != defaults.scenario) generation << "scenario = " << str(settings.scenario) << "\n";
    if (!generation.str().empty()) out << "\n[generation]\n" << generation.str();

    if (settings.dataset != defaults.dataset) out << "\n[sink]\ndataset = " << str(settings.dataset) << "\n";
    if (settings.metrics_listen != defaults.metrics_listen) {
        out << "\n[monitoring]\nmetrics_listen = " << str(settings.metrics_listen) << "\n";
    }

    write_scenario(out, settings.scenario_spec);
    for (const auto& source : settings.sources) write_source(out, source);
    return out.str();
}

core::SourceSpec without_origins(core::SourceSpec spec) {
    spec.origin = {};
    for (auto& field : spec.fields) field.origin = {};
    for (auto& type : spec.event_types) type.origin = {};
    for (auto& volume : spec.volume) volume.origin = {};
    return spec;
}

core::ScenarioSpec without_origins(core::ScenarioSpec spec) {
    for (auto& dependency : spec.dependencies) dependency.origin = {};
    for (auto& rate : spec.type_rates) rate.origin = {};
    for (auto& incident : spec.incidents) {
        incident.origin = {};
        for (auto& effect : incident.effects) effect.origin = {};
    }
    return spec;
}

}  // namespace supervent::config
