#include "core/incident.hpp"

#include <cassert>
#include <cmath>
#include <set>

#include "core/scenario_engine.hpp"

namespace supervent::core {
namespace {

[[noreturn]] void fail(const SchemaOrigin& origin, const std::string& reason) { throw SchemaError(origin, reason); }

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

FieldSpec& field_of(SourceSpec& spec, const IncidentEffect& effect) {
    for (FieldSpec& f : spec.fields) {
        if (f.name == effect.field) return f;
    }
    std::string known;
    for (const FieldSpec& f : spec.fields) known += (known.empty() ? "" : ", ") + f.name;
    fail(effect.origin, "source " + quoted(spec.name) + " has no field " + quoted(effect.field) + " (its fields: " + known + ")");
}

// Named values get their percent of events; the other values share what is
// left in the proportions they had.
void apply_percent(FieldSpec& field, const IncidentEffect& effect) {
    if (field.kind != FieldKind::choice) {
        fail(effect.origin, "percent needs a choice field; " + quoted(field.name) + " is not one (use scale for numbers)");
    }
    if (effect.percent.empty()) fail(effect.origin, "percent needs at least one value, e.g. percent = { \"500\" = 30 }");
    std::vector<double> weights = field.weights.empty() ? std::vector<double>(field.values.size(), 1.0) : field.weights;
    std::vector<bool> named(field.values.size(), false);
    std::vector<double> share(field.values.size(), 0);
    double named_total = 0;
    for (const auto& [value, percent] : effect.percent) {
        if (!(percent >= 0 && percent <= 100)) fail(effect.origin, "percent of " + quoted(value) + " must be within 0..100");
        std::size_t i = 0;
        while (i < field.values.size() && field.values[i].text != value) ++i;
        if (i == field.values.size()) {
            std::string known;
            for (const SchemaValue& v : field.values) known += (known.empty() ? "" : ", ") + v.text;
            fail(effect.origin, "field " + quoted(field.name) + " has no value " + quoted(value) + " (its values: " + known + ")");
        }
        named[i] = true;
        share[i] = percent / 100;
        named_total += percent;
    }
    if (named_total > 100 + 1e-9) fail(effect.origin, "the percents add up to more than 100");
    double others = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) others += named[i] ? 0 : weights[i];
    const double rest = std::max(0.0, 1 - named_total / 100);
    for (std::size_t i = 0; i < weights.size(); ++i) {
        weights[i] = named[i] ? share[i] : (others > 0 ? rest * weights[i] / others : 0);
    }
    double total = 0;
    for (const double w : weights) total += w;
    if (!(total > 0)) fail(effect.origin, "the percents leave no value with a weight above 0");
    field.weights = std::move(weights);
}

void apply_scale(FieldSpec& field, const IncidentEffect& effect) {
    if (field.kind != FieldKind::integer && field.kind != FieldKind::floating) {
        fail(effect.origin, "scale needs an integer or float field; " + quoted(field.name) + " is neither");
    }
    if (!(effect.factor > 0) || !std::isfinite(effect.factor)) fail(effect.origin, "scale must be a number above 0");
    const double f = effect.factor;
    field.min *= f;
    field.max *= f;
    field.mean *= f;
    field.stddev *= f;
    for (WeightedRange& r : field.ranges) {
        r.min *= f;
        r.max *= f;
    }
    if (field.kind == FieldKind::integer) {
        field.min = std::floor(field.min);
        field.max = std::ceil(field.max);
    }
}

std::int32_t type_of(const SourceSpec& spec, const IncidentEffect& effect) {
    for (std::size_t i = 0; i < spec.event_types.size(); ++i) {
        if (spec.event_types[i].name == effect.event_type) return static_cast<std::int32_t>(i);
    }
    std::string known;
    for (const EventTypeSpec& t : spec.event_types) known += (known.empty() ? "" : ", ") + t.name;
    fail(effect.origin, "source " + quoted(spec.name) + " has no event type " + quoted(effect.event_type) + " (its types: " + known + ")");
}

// The root types and their weights under the incident's rate effects.
void apply_rates(const SourceSpec& spec, const std::vector<const IncidentEffect*>& rates, IncidentSource& out) {
    std::vector<double> weight(spec.event_types.size());
    std::vector<bool> root(spec.event_types.size());
    for (std::size_t i = 0; i < spec.event_types.size(); ++i) {
        weight[i] = spec.event_types[i].weight;
        root[i] = spec.event_types[i].root;
    }
    for (const IncidentEffect* effect : rates) {
        const std::int32_t t = type_of(spec, *effect);
        if (effect->weight.has_value()) {
            if (!(*effect->weight >= 0) || !std::isfinite(*effect->weight)) fail(effect->origin, "weight must be a number >= 0");
            weight[t] = *effect->weight;
            root[t] = true;  // `weight` switches a dependency-only type on as a root
        } else {
            if (!(effect->factor >= 0) || !std::isfinite(effect->factor)) fail(effect->origin, "rate must be a number >= 0");
            weight[t] *= effect->factor;
        }
    }
    std::vector<double> weights;
    for (std::size_t i = 0; i < weight.size(); ++i) {
        if (root[i] && weight[i] > 0) {
            out.root_shapes.push_back(static_cast<std::uint16_t>(i));
            weights.push_back(weight[i]);
        }
    }
    if (weights.empty()) fail(rates.front()->origin, "the rate effects leave source " + quoted(spec.name) + " no root event type");
    out.root_pick = build_alias_table(weights);
    out.own_pick = true;
}

// One source under one incident: its effects applied to a copy of its spec.
IncidentSource overlay_source(const SourceSpec* spec, const ScenarioSource& source, const std::vector<const IncidentEffect*>& effects,
                              const ScenarioInputs& in, const CompiledScenario& out) {
    IncidentSource overlay;
    if (effects.empty()) return overlay;
    SourceSpec copy;
    bool recompile = false;
    std::vector<const IncidentEffect*> rates;
    for (const IncidentEffect* effect : effects) {
        if (effect->kind == IncidentEffect::Kind::silent) {
            overlay.silent = true;
            continue;
        }
        if (spec == nullptr || source.program_picks_types) {
            fail(effect->origin, "source " + quoted(source.name) + " is a built-in program: an incident can only make it silent");
        }
        if (effect->kind == IncidentEffect::Kind::rate) {
            rates.push_back(effect);
            continue;
        }
        if (!recompile) copy = with_chain_fields(*spec, in.spec);
        recompile = true;
        FieldSpec& field = field_of(copy, *effect);
        if (effect->kind == IncidentEffect::Kind::percent) apply_percent(field, *effect);
        else apply_scale(field, *effect);
    }
    if (recompile) overlay.program = compile_source(copy, in.format, out.zone);
    if (!rates.empty()) apply_rates(*spec, rates, overlay);
    return overlay;
}

CompiledIncident compile_one_incident(const IncidentSpec& incident, const ScenarioInputs& in, const CompiledScenario& out) {
    CompiledIncident compiled;
    compiled.name = incident.name;
    if (incident.start_ns.has_value()) {
        if (*incident.start_ns < 0) fail(incident.origin, "start must not be negative");
        if (incident.duration_ns <= 0) fail(incident.origin, "a scheduled incident needs a duration (or end) after its start");
        compiled.scheduled = true;
        const std::int64_t base = out.backfill ? out.window_start_ns : 0;
        compiled.start_ns = base + *incident.start_ns;
        compiled.end_ns = compiled.start_ns + incident.duration_ns;
    }
    std::vector<std::vector<const IncidentEffect*>> by_source(out.sources.size());
    for (const IncidentEffect& effect : incident.effects) {
        std::size_t s = 0;
        while (s < out.sources.size() && out.sources[s].name != effect.source) ++s;
        if (s == out.sources.size()) fail(effect.origin, "unknown source " + quoted(effect.source));
        by_source[s].push_back(&effect);
    }
    for (std::size_t s = 0; s < out.sources.size(); ++s) {
        const SourceSpec* spec = s < in.sources.size() ? &in.sources[s] : nullptr;
        compiled.sources.push_back(overlay_source(spec, out.sources[s], by_source[s], in, out));
    }
    return compiled;
}

}  // namespace

void compile_incidents(const ScenarioInputs& in, CompiledScenario& out) {
    std::set<std::string> names;
    for (const IncidentSpec& incident : in.spec.incidents) {
        if (incident.name.empty()) fail(incident.origin, "an incident needs a name");
        if (!names.insert(incident.name).second) fail(incident.origin, "duplicate incident " + quoted(incident.name));
        if (incident.effects.empty()) fail(incident.origin, "incident " + quoted(incident.name) + " has no effects");
        out.incidents.push_back(compile_one_incident(incident, in, out));
    }
    if (out.incidents.size() > static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max())) {
        throw std::invalid_argument("too many incidents");
    }
}

int find_incident(const CompiledScenario& scenario, std::string_view name) {
    for (std::size_t i = 0; i < scenario.incidents.size(); ++i) {
        if (scenario.incidents[i].name == name) return static_cast<int>(i);
    }
    return -1;
}

std::string incident_names(const CompiledScenario& scenario) {
    std::string names;
    for (const CompiledIncident& incident : scenario.incidents) names += (names.empty() ? "" : ", ") + incident.name;
    return names.empty() ? "none: the scenario defines no [[scenario.incidents]]" : names;
}

}  // namespace supervent::core
