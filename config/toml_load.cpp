// The native TOML config. Every section and key is listed in a table below;
// anything else is an error that names the file, the line and the key path.
// All problems in a file are reported at once, in line order, so a user fixes
// them in one pass instead of one rerun per typo.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <sstream>
#include <memory>
#include <vector>

#include <toml++/toml.h>

#include "config/input_bounds.hpp"
#include "config/load.hpp"
#include "config/shard_spec.hpp"
#include "config/sink_values.hpp"
#include "config/scenario_rules.hpp"
#include "config/toml_scenario.hpp"
#include "config/values.hpp"
#include "core/schema.hpp"

namespace supervent::config {

namespace {

using detail::concat;
using detail::quoted;
using detail::ValueError;

// A config file is a few hundred bytes; anything this big is the wrong file.

// ---- typed access to one value; each throws ValueError naming what it found

std::string_view type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a floating-point number";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        case toml::node_type::none: break;
    }
    return "nothing";
}

[[noreturn]] void throw_wrong_type(std::string_view expected, const toml::node& node) {
    throw ValueError(concat("expected ", expected, ", got ", type_name(node)));
}

std::uint64_t uint_of(const toml::node& node) {
    const auto* value = node.as_integer();
    if (value == nullptr) {
        throw_wrong_type("a whole number", node);
    }
    if (value->get() < 0) {
        throw ValueError(concat("must not be negative, got ", value->get()));
    }
    return static_cast<std::uint64_t>(value->get());
}

std::uint32_t uint32_in(const toml::node& node, detail::UintRange range) {
    return static_cast<std::uint32_t>(detail::check_range(uint_of(node), range));
}

bool bool_of(const toml::node& node) {
    const auto* value = node.as_boolean();
    if (value == nullptr) {
        throw_wrong_type("true or false", node);
    }
    return value->get();
}

const std::string& string_of(const toml::node& node) {
    const auto* value = node.as_string();
    if (value == nullptr) {
        throw_wrong_type("a string", node);
    }
    return value->get();
}

// Integers and floats alike: `rate = 50000` and `rate = 5e4` mean the same.
std::optional<double> number_of(const toml::node& node) {
    if (const auto* value = node.as_integer()) return static_cast<double>(value->get());
    if (const auto* value = node.as_floating_point()) return value->get();
    return std::nullopt;
}

// A list of numeric user or group ids, e.g. [1000, 1001].
std::vector<std::uint32_t> ids_of(const toml::node& node) {
    const auto* array = node.as_array();
    if (array == nullptr) throw_wrong_type("a list of numeric ids, e.g. [1000, 1001]", node);
    std::vector<std::uint32_t> ids;
    for (const auto& element : *array) {
        const auto id = uint_of(element);
        if (id >= 0xFFFFFFFFu) throw ValueError(concat("an id must be below 4294967295, got ", id));
        ids.push_back(static_cast<std::uint32_t>(id));
    }
    return ids;
}

// network.bind: a list of addresses / interface names, or one as a string.
std::vector<std::string> bind_list_of(const toml::node& node) {
    if (node.as_string() != nullptr) return detail::parse_bind_list(string_of(node));
    const auto* array = node.as_array();
    if (array == nullptr) throw_wrong_type("a list of addresses or interface names, e.g. [\"10.0.0.2\", \"eth1\"]", node);
    std::vector<std::string> entries;
    for (const auto& element : *array) entries.push_back(detail::check_bind_entry(string_of(element)));
    if (entries.size() > bounds::local_addresses_max) {
        throw ValueError(concat("at most ", bounds::local_addresses_max, " bind entries, got ", entries.size()));
    }
    return entries;
}

// ---- keys that need more than a typed read

void apply_rate(Settings& settings, const toml::node& node) {
    if (const auto eps = number_of(node)) {
        settings.rate_eps = detail::check_rate(*eps);
        return;
    }
    const auto* text = node.as_string();
    if (text == nullptr || text->get() != "unlimited") {
        throw ValueError(concat("expected a positive number or 'unlimited', got ",
                                text == nullptr ? std::string(type_name(node)) : quoted(text->get())));
    }
    settings.rate_eps.reset();
}

void apply_duration(Settings& settings, const toml::node& node) {
    if (const auto seconds = number_of(node)) {
        settings.duration_s = detail::check_duration(*seconds);
        return;
    }
    if (node.as_string() == nullptr) {
        throw_wrong_type("seconds or a duration string such as \"30s\", \"5m\" or \"1h\"", node);
    }
    settings.duration_s = detail::parse_duration(string_of(node));
}

double timeout_of(const toml::node& node) {
    if (const auto seconds = number_of(node)) return detail::check_timeout(*seconds);
    if (node.as_string() == nullptr) throw_wrong_type("seconds or a duration string such as \"500ms\" or \"30s\"", node);
    return detail::parse_timeout(string_of(node));
}

// A byte count: a whole number, or a string with a unit ("10MiB").
std::uint64_t byte_size_of(const toml::node& node) {
    if (node.as_integer() != nullptr) return uint_of(node);
    if (node.as_string() == nullptr) throw_wrong_type("a byte count such as 10485760 or \"10MiB\"", node);
    return detail::parse_byte_size(string_of(node));
}

// sink.edge: true, false or "auto".
config::EdgeMode edge_of(const toml::node& node) {
    if (const auto* flag = node.as_boolean()) return flag->get() ? EdgeMode::on : EdgeMode::off;
    if (node.as_string() == nullptr) throw_wrong_type("true, false or \"auto\"", node);
    return detail::parse_edge(string_of(node));
}

// sink.event_labels: a table of NAME = "VALUE" (inline or [sink.event_labels]).
std::vector<std::pair<std::string, std::string>> event_labels_of(const toml::node& node) {
    const auto* table = node.as_table();
    if (table == nullptr) throw_wrong_type("a table of labels, e.g. { env = \"staging\", team = \"core\" }", node);
    std::vector<std::pair<std::string, std::string>> labels;
    for (const auto& [key, value] : *table) {
        if (value.as_string() == nullptr) {
            throw ValueError(concat("label ", quoted(key.str()), ": expected a string, got ", type_name(value)));
        }
        labels.emplace_back(std::string(key.str()), string_of(value));
    }
    detail::check_event_labels(labels);
    return labels;
}

[[noreturn]] void refuse_literal_token(Settings&, const toml::node&) {
    // The value is deliberately not echoed: it is a secret.
    throw ValueError(
        "the token must not be written into the config file (config files get copied, shared and "
        "committed); set AXIOM_TOKEN, point sink.token_file at a file readable only by the daemon, or "
        "pass a systemd credential named axiom-token (LoadCredential=axiom-token:PATH)");
}

// ---- the schema

using ApplyKey = void (*)(Settings&, const toml::node&);

struct KeySpec {
    std::string_view name;
    ApplyKey apply;
    bool listed = true;  // shown among the accepted keys; `token` is accepted only to refuse it kindly
};

struct SectionSpec {
    std::string_view name;
    std::span<const KeySpec> keys;
};

constexpr std::array runtime_keys{
    KeySpec{"workers", [](Settings& s, const toml::node& n) { s.workers = uint32_in(n, detail::workers_range); }},
    KeySpec{"batch_events",
            [](Settings& s, const toml::node& n) { s.batch_events = uint32_in(n, detail::batch_events_range); }},
    KeySpec{"batch_bytes",
            [](Settings& s, const toml::node& n) { s.batch_bytes_max = detail::check_batch_bytes(byte_size_of(n)); }},
    KeySpec{"pin_threads", [](Settings& s, const toml::node& n) { s.pin_threads = bool_of(n); }},
    KeySpec{"drain_timeout", [](Settings& s, const toml::node& n) { s.drain_timeout_s = timeout_of(n); }},
    KeySpec{"socket",
            [](Settings& s, const toml::node& n) { s.socket_path = detail::check_socket_path(string_of(n)); }},
    KeySpec{"socket_group",
            [](Settings& s, const toml::node& n) { s.socket_group = detail::check_group(string_of(n)); }},
    KeySpec{"socket_allowed_uids", [](Settings& s, const toml::node& n) { s.socket_allowed_uids = ids_of(n); }},
    KeySpec{"socket_allowed_gids", [](Settings& s, const toml::node& n) { s.socket_allowed_gids = ids_of(n); }},
    KeySpec{"watch_config", [](Settings& s, const toml::node& n) { s.watch_config = bool_of(n); }},
};

constexpr std::array network_keys{
    KeySpec{"connections",
            [](Settings& s, const toml::node& n) { s.connections = uint32_in(n, detail::connections_range); }},
    KeySpec{"zero_copy",
            [](Settings& s, const toml::node& n) { s.zero_copy = detail::parse_zero_copy(string_of(n)); }},
    KeySpec{"tcp_nodelay", [](Settings& s, const toml::node& n) { s.tcp_nodelay = bool_of(n); }},
    KeySpec{"pipeline_depth_max",
            [](Settings& s, const toml::node& n) { s.pipeline_depth_max = uint32_in(n, detail::pipeline_depth_range); }},
    KeySpec{"bind", [](Settings& s, const toml::node& n) { s.bind = bind_list_of(n); }},
    KeySpec{"connect_timeout", [](Settings& s, const toml::node& n) { s.connect_timeout_s = timeout_of(n); }},
    KeySpec{"request_timeout", [](Settings& s, const toml::node& n) { s.request_timeout_s = timeout_of(n); }},
    KeySpec{"retry_for",
            [](Settings& s, const toml::node& n) {  // 0 = for ever, so a duration rather than a timeout
                const auto seconds = number_of(n);
                s.retry_for_s = seconds ? detail::check_duration(*seconds) : detail::parse_duration(string_of(n));
            }},
};

constexpr std::array generation_keys{
    KeySpec{"rate", apply_rate},
    KeySpec{"events", [](Settings& s, const toml::node& n) { s.events = uint_of(n); }},
    KeySpec{"duration", apply_duration},
    KeySpec{"seed",
            [](Settings& s, const toml::node& n) {
                s.seed = uint_of(n);
                s.seed_given = true;
            }},
    KeySpec{"shard",
            [](Settings& s, const toml::node& n) {
                s.shard_spec = string_of(n);
                (void)parse_shard_spec(s.shard_spec);  // "auto" is resolved with the environment
            }},
    KeySpec{"checkpoint",
            [](Settings& s, const toml::node& n) { s.checkpoint_path = detail::check_checkpoint_path(string_of(n)); }},
    KeySpec{"scale",
            [](Settings& s, const toml::node& n) {
                const auto factor = number_of(n);
                if (!factor) throw_wrong_type("a number such as 0.001", n);
                s.scale = check_scale(*factor);
            }},
    KeySpec{"start", [](Settings& s, const toml::node& n) { s.window_start_ns = detail::parse_rfc3339_ns(string_of(n)); }},
    KeySpec{"end", [](Settings& s, const toml::node& n) { s.window_end_ns = detail::parse_rfc3339_ns(string_of(n)); }},
    KeySpec{"live", [](Settings& s, const toml::node& n) { s.live = bool_of(n); }},
    KeySpec{"scenario",
            [](Settings& s, const toml::node& n) { s.scenario = detail::check_scenario(string_of(n)); }},
};

constexpr std::array sink_keys{
    KeySpec{"url", [](Settings& s, const toml::node& n) { s.sink = detail::parse_sink(string_of(n)); }},
    KeySpec{"dataset", [](Settings& s, const toml::node& n) { s.dataset = detail::check_dataset(string_of(n)); }},
    KeySpec{"compression",
            [](Settings& s, const toml::node& n) { s.compression = detail::parse_compression(string_of(n)); }},
    KeySpec{"token_file",
            [](Settings& s, const toml::node& n) { s.token_file = detail::check_token_file(string_of(n)); }},
    KeySpec{"format", [](Settings& s, const toml::node& n) { s.format = detail::parse_format(string_of(n)); }},
    KeySpec{"edge", [](Settings& s, const toml::node& n) { s.edge = edge_of(n); }},
    KeySpec{"event_labels", [](Settings& s, const toml::node& n) { s.event_labels = event_labels_of(n); }},
    KeySpec{"rotate_bytes",
            [](Settings& s, const toml::node& n) { s.rotate_bytes = detail::check_rotate_bytes(byte_size_of(n)); }},
    KeySpec{"rotate_keep",
            [](Settings& s, const toml::node& n) { s.rotate_keep = uint32_in(n, detail::rotate_keep_range); }},
    KeySpec{"ca_file", [](Settings& s, const toml::node& n) { s.ca_file = detail::check_ca_file(string_of(n)); }},
    KeySpec{"tls_skip_verify", [](Settings& s, const toml::node& n) { s.tls_skip_verify = bool_of(n); }},
    KeySpec{"token", refuse_literal_token, false},
};

constexpr std::array monitoring_keys{
    KeySpec{"progress", [](Settings& s, const toml::node& n) { s.progress = bool_of(n); }},
    KeySpec{"progress_interval_ms",
            [](Settings& s, const toml::node& n) {
                s.progress_interval_ms = uint32_in(n, detail::progress_interval_ms_range);
            }},
    KeySpec{"metrics_listen",
            [](Settings& s, const toml::node& n) { s.metrics_listen = detail::check_listen(string_of(n)); }},
    KeySpec{"dashboard_token_file",
            [](Settings& s, const toml::node& n) {
                const std::string path = string_of(n);  // "" = read-only dashboard
                s.dashboard_token_file = path.empty() ? path : detail::check_token_file(path);
            }},
    KeySpec{"log_level",
            [](Settings& s, const toml::node& n) { s.log_level = detail::check_log_level(string_of(n)); }},
    KeySpec{"log_format",
            [](Settings& s, const toml::node& n) { s.log_format = detail::check_log_format(string_of(n)); }},
};

constexpr std::array sections{
    SectionSpec{"runtime", runtime_keys},   SectionSpec{"network", network_keys},
    SectionSpec{"generation", generation_keys}, SectionSpec{"sink", sink_keys},
    SectionSpec{"monitoring", monitoring_keys},
};

std::vector<std::string_view> section_names() {
    std::vector<std::string_view> names;
    for (const auto& section : sections) {
        names.push_back(section.name);
    }
    names.push_back("sources");
    names.push_back("scenario");
    return names;
}

std::vector<std::string_view> listed_key_names(const SectionSpec& section) {
    std::vector<std::string_view> names;
    for (const auto& key : section.keys) {
        if (key.listed) {
            names.push_back(key.name);
        }
    }
    return names;
}

// ---- walking a parsed file

struct Problem {
    toml::source_index line = 0;
    std::string message;
};

struct Walk {
    const std::string& origin;
    Settings settings;
    std::vector<Problem> problems;

    void add(const toml::source_region& where, std::string_view key_path, std::string_view reason) {
        problems.push_back({where.begin.line, concat(origin, ':', where.begin.line, ": ", key_path, ": ", reason)});
    }
};

void read_key(Walk& walk, const SectionSpec& section, const toml::key& key, const toml::node& node) {
    const auto path = concat(section.name, '.', key.str());
    const auto spec = std::ranges::find(section.keys, key.str(), &KeySpec::name);
    if (spec == section.keys.end()) {
        const auto accepted = listed_key_names(section);
        walk.add(key.source(), path,
                 concat("unknown key", detail::did_you_mean(key.str(), accepted), "; [", section.name,
                        "] accepts ", detail::join_names(accepted, "and")));
        return;
    }
    try {
        spec->apply(walk.settings, node);
    } catch (const ValueError& error) {
        walk.add(node.source(), path, error.what());
    }
}

void read_sources(Walk& walk, const toml::node& node);  // below, with the rest of [sources]

void read_section(Walk& walk, const toml::key& name, const toml::node& node) {
    if (name.str() == "sources") {
        read_sources(walk, node);
        return;
    }
    if (name.str() == "scenario") {  // config/toml_scenario.cpp
        std::vector<detail::TomlProblem> found;
        detail::read_toml_scenario(node, walk.origin, walk.settings.scenario_spec, found);
        for (auto& problem : found) walk.problems.push_back({problem.line, std::move(problem.message)});
        return;
    }
    const auto section = std::ranges::find(sections, name.str(), &SectionSpec::name);
    if (section == sections.end()) {
        const auto accepted = section_names();
        walk.add(name.source(), name.str(),
                 concat("unknown section", detail::did_you_mean(name.str(), accepted), "; expected one of ",
                        detail::join_names(accepted, "or")));
        return;
    }
    const auto* table = node.as_table();
    if (table == nullptr) {
        walk.add(node.source(), name.str(), concat("expected a section [", name.str(), "], got ", type_name(node)));
        return;
    }
    for (const auto& [key, value] : *table) {
        read_key(walk, *section, key, value);
    }
}

// ---- [sources.NAME]: scenarios written in the config file
//
// Each source, field and event type keeps the file, line and key path it was
// written at, so core::compile_source (run below, at load time) can name them.

using core::FieldKind;

// Which field kinds a field key applies to; any other kind refuses it, so a
// `length` on a choice is a typo the user hears about, not a silent no-op.
struct FieldKeyUse {
    std::string_view name;
    std::uint32_t kinds;  // a bit per FieldKind; every_kind = all
};

constexpr std::uint32_t every_kind = 0xFFFFFFFFu;

template <typename... Kinds>
constexpr std::uint32_t kinds_of(Kinds... kinds) {
    return ((std::uint32_t{1} << static_cast<unsigned>(kinds)) | ...);
}

// Kinds an entity pool applies to (core/entity_pools.hpp).
constexpr std::uint32_t pooled_kinds =
    kinds_of(FieldKind::ipv4, FieldKind::ipv6, FieldKind::uuid4, FieldKind::hex_id, FieldKind::base62_id,
             FieldKind::integer, FieldKind::person, FieldKind::name, FieldKind::email, FieldKind::geo);

constexpr std::array field_key_uses{
    FieldKeyUse{"type", every_kind},
    FieldKeyUse{"values", kinds_of(FieldKind::choice, FieldKind::constant)},
    FieldKeyUse{"value", kinds_of(FieldKind::constant)},
    FieldKeyUse{"weights", kinds_of(FieldKind::choice)},
    FieldKeyUse{"min", kinds_of(FieldKind::integer, FieldKind::floating)},
    FieldKeyUse{"max", kinds_of(FieldKind::integer, FieldKind::floating)},
    FieldKeyUse{"distribution", kinds_of(FieldKind::integer, FieldKind::floating)},
    FieldKeyUse{"mean", kinds_of(FieldKind::integer, FieldKind::floating)},
    FieldKeyUse{"stddev", kinds_of(FieldKind::integer, FieldKind::floating)},
    FieldKeyUse{"exponent", kinds_of(FieldKind::integer, FieldKind::floating)},
    FieldKeyUse{"ranges", kinds_of(FieldKind::integer, FieldKind::floating)},
    FieldKeyUse{"precision", kinds_of(FieldKind::floating)},
    FieldKeyUse{"cidrs", kinds_of(FieldKind::ipv4, FieldKind::ipv6)},
    FieldKeyUse{"cidr_weights", kinds_of(FieldKind::ipv4, FieldKind::ipv6)},
    FieldKeyUse{"length", kinds_of(FieldKind::hex_id, FieldKind::base62_id)},
    FieldKeyUse{"start", kinds_of(FieldKind::sequence)},
    FieldKeyUse{"step", kinds_of(FieldKind::sequence)},
    FieldKeyUse{"format", kinds_of(FieldKind::timestamp)},
    FieldKeyUse{"group", kinds_of(FieldKind::choice) | pooled_kinds},
    FieldKeyUse{"part", kinds_of(FieldKind::person, FieldKind::geo)},
    FieldKeyUse{"pool", pooled_kinds},
    FieldKeyUse{"popularity", pooled_kinds},
    FieldKeyUse{"zipf_exponent", pooled_kinds},
};

constexpr std::array<std::string_view, 8> source_key_names{"description", "dataset",     "layout", "fields",
                                                           "event_types", "volume", "trace_context", "traceparent"};
constexpr std::array<std::string_view, 5> event_type_key_names{"name", "weight", "root", "message", "attributes"};

std::vector<std::string_view> field_key_names() {
    std::vector<std::string_view> names;
    for (const auto& use : field_key_uses) names.push_back(use.name);
    return names;
}

double number_or_throw(const toml::node& node) {
    const auto value = number_of(node);
    if (!value) throw_wrong_type("a number", node);
    return *value;
}

std::int64_t int_of(const toml::node& node) {
    const auto* value = node.as_integer();
    if (value == nullptr) throw_wrong_type("a whole number", node);
    return value->get();
}

const toml::array& array_of(const toml::node& node, std::string_view what) {
    const auto* array = node.as_array();
    if (array == nullptr) throw_wrong_type(what, node);
    return *array;
}

std::vector<double> numbers_of(const toml::node& node) {
    std::vector<double> numbers;
    for (const auto& element : array_of(node, "a list of numbers")) numbers.push_back(number_or_throw(element));
    return numbers;
}

std::vector<std::string> strings_of(const toml::node& node) {
    std::vector<std::string> strings;
    for (const auto& element : array_of(node, "a list of strings")) strings.push_back(string_of(element));
    return strings;
}

core::SchemaValue schema_value_of(const toml::node& node) {
    using Type = core::SchemaValue::Type;
    if (const auto* text = node.as_string()) return {Type::string, text->get()};
    if (const auto* number = node.as_integer()) return {Type::integer, concat(number->get())};
    if (const auto* number = node.as_floating_point()) {
        if (!std::isfinite(number->get())) throw ValueError("a value must be a finite number");
        // The shortest text that reads back the same: 0.1, not 0.10000000000000001.
        return {Type::floating, detail::shortest_double_text(number->get())};
    }
    if (const auto* flag = node.as_boolean()) return {Type::boolean, flag->get() ? "true" : "false"};
    throw_wrong_type("a string, number or boolean", node);
}

std::vector<core::SchemaValue> schema_values_of(const toml::node& node) {
    std::vector<core::SchemaValue> values;
    for (const auto& element : array_of(node, "a list of values, e.g. [\"GET\", \"POST\"]")) {
        values.push_back(schema_value_of(element));
    }
    return values;
}

// `ranges = [{min = 0, max = 100, weight = 9}, …]`
std::vector<core::WeightedRange> ranges_of(const toml::node& node) {
    std::vector<core::WeightedRange> ranges;
    for (const auto& element : array_of(node, "a list of {min, max, weight} tables")) {
        const auto* table = element.as_table();
        if (table == nullptr) throw_wrong_type("a {min, max, weight} table", element);
        core::WeightedRange range;
        bool has_min = false;
        bool has_max = false;
        for (const auto& [key, value] : *table) {
            if (key.str() == "min") {
                range.min = number_or_throw(value);
                has_min = true;
            } else if (key.str() == "max") {
                range.max = number_or_throw(value);
                has_max = true;
            } else if (key.str() == "weight") {
                range.weight = number_or_throw(value);
            } else {
                throw ValueError(concat("unknown key ", quoted(key.str()), " in a range; a range has min, max and weight"));
            }
        }
        if (!has_min || !has_max) throw ValueError("each range needs min and max");
        ranges.push_back(range);
    }
    return ranges;
}

std::uint32_t uint32_of(const toml::node& node) {
    return uint32_in(node, {0, 0xFFFFFFFFu});
}


struct SourceWalk {
    Walk& walk;
    core::SourceSpec& spec;

    core::SchemaOrigin origin(const toml::node& node, const std::string& key_path) const {
        return {walk.origin, static_cast<std::uint32_t>(node.source().begin.line), key_path};
    }
};

void apply_field_key(core::FieldSpec& field, std::string_view key, const toml::node& node, const core::SchemaOrigin& origin) {
    if (key == "values") field.values = schema_values_of(node);
    else if (key == "value") field.values = {schema_value_of(node)};
    else if (key == "weights") field.weights = numbers_of(node);
    else if (key == "min") field.min = number_or_throw(node);
    else if (key == "max") field.max = number_or_throw(node);
    else if (key == "distribution") field.distribution = core::parse_distribution(string_of(node), origin);
    else if (key == "mean") field.mean = number_or_throw(node);
    else if (key == "stddev") field.stddev = number_or_throw(node);
    else if (key == "exponent") field.exponent = number_or_throw(node);
    else if (key == "ranges") field.ranges = ranges_of(node);
    else if (key == "precision") field.precision = uint32_of(node);
    else if (key == "cidrs") field.cidrs = strings_of(node);
    else if (key == "cidr_weights") field.cidr_weights = numbers_of(node);
    else if (key == "length") field.length = uint32_of(node);
    else if (key == "start") field.start = int_of(node);
    else if (key == "step") field.step = int_of(node);
    else if (key == "format") field.format = string_of(node);
    else if (key == "group") field.group = string_of(node);
    else if (key == "part") field.part = string_of(node);
    else if (key == "pool") field.pool = detail::check_range(uint_of(node), {1, bounds::field_pool_members_max});
    else if (key == "popularity") field.popularity = core::parse_popularity(string_of(node), origin);
    else if (key == "zipf_exponent") field.zipf_exponent = number_or_throw(node);
}

// A field table, or (without `type`, all entries tables) a group of nested
// fields: [sources.web.fields.http.method] is the field "http.method".
void read_field(SourceWalk& source, const std::string& name, const std::string& path, const toml::table& table) {
    const auto* type = table.get("type");
    // A table under `type` is a nested field named "type" ([sources.s.fields.actor.type]), not the generator.
    if (type == nullptr || type->is_table()) {
        const bool group = !table.empty() && std::ranges::all_of(table, [](const auto& entry) { return entry.second.is_table(); });
        if (group) {
            for (const auto& [key, value] : table) {
                read_field(source, concat(name, '.', key.str()), concat(path, '.', key.str()), *value.as_table());
            }
            return;
        }
        source.walk.add(table.source(), path,
                        "a field needs a type: choice, integer, float, ipv4, ipv6, uuid, hex, base62, name, email, "
                        "sequence, constant or timestamp");
        return;
    }
    core::FieldSpec field;
    field.name = name;
    field.origin = source.origin(table, path);
    try {
        field.kind = core::parse_field_kind(string_of(*type), source.origin(*type, path + ".type"));
    } catch (const ValueError& error) {
        source.walk.add(type->source(), path + ".type", error.what());
        return;
    } catch (const core::SchemaError& error) {
        source.walk.problems.push_back({type->source().begin.line, error.what()});
        return;
    }
    const auto accepted = field_key_names();
    for (const auto& [key, value] : table) {
        const auto key_path = concat(path, '.', key.str());
        const auto use = std::ranges::find(field_key_uses, key.str(), &FieldKeyUse::name);
        if (use == field_key_uses.end()) {
            source.walk.add(key.source(), key_path,
                            concat("unknown key", detail::did_you_mean(key.str(), accepted), "; a field accepts ",
                                   detail::join_names(accepted, "and")));
            continue;
        }
        if ((use->kinds & kinds_of(field.kind)) == 0) {
            source.walk.add(key.source(), key_path, concat("does not apply to type = ", quoted(string_of(*type))));
            continue;
        }
        if (key.str() == "type") continue;
        try {
            apply_field_key(field, key.str(), value, source.origin(value, key_path));
        } catch (const ValueError& error) {
            source.walk.add(value.source(), key_path, error.what());
        } catch (const core::SchemaError& error) {
            source.walk.problems.push_back({value.source().begin.line, error.what()});
        }
    }
    source.spec.fields.push_back(std::move(field));
}

void read_event_type(SourceWalk& source, const std::string& path, const toml::node& node) {
    const auto* table = node.as_table();
    if (table == nullptr) {
        source.walk.add(node.source(), path, concat("expected an [[event_types]] table, got ", type_name(node)));
        return;
    }
    core::EventTypeSpec event_type;
    event_type.origin = source.origin(*table, path);
    for (const auto& [key, value] : *table) {
        const auto key_path = concat(path, '.', key.str());
        try {
            if (key.str() == "name") event_type.name = string_of(value);
            else if (key.str() == "weight") event_type.weight = number_or_throw(value);
            else if (key.str() == "root") event_type.root = bool_of(value);
            else if (key.str() == "attributes") event_type.attributes = strings_of(value);
            else if (key.str() == "message") {
                event_type.message = string_of(value);
                // The template's own line: placeholder errors point at it.
                event_type.origin = source.origin(value, key_path);
            } else {
                source.walk.add(key.source(), key_path,
                                concat("unknown key", detail::did_you_mean(key.str(), event_type_key_names),
                                       "; an event type accepts ", detail::join_names(event_type_key_names, "and")));
            }
        } catch (const ValueError& error) {
            source.walk.add(value.source(), key_path, error.what());
        }
    }
    source.spec.event_types.push_back(std::move(event_type));
}

void read_source(Walk& walk, const toml::key& name, const toml::node& node) {
    const auto path = concat("sources.", name.str());
    const auto* table = node.as_table();
    if (table == nullptr) {
        walk.add(node.source(), path, concat("expected a table [", path, "], got ", type_name(node)));
        return;
    }
    core::SourceSpec spec;
    spec.name = std::string(name.str());
    spec.origin = {walk.origin, static_cast<std::uint32_t>(node.source().begin.line), path};
    SourceWalk source{walk, spec};
    for (const auto& [key, value] : *table) {
        const auto key_path = concat(path, '.', key.str());
        try {
            if (key.str() == "description") spec.description = string_of(value);
            else if (key.str() == "dataset") spec.dataset = detail::check_dataset(string_of(value));
            else if (key.str() == "trace_context") spec.trace_context = bool_of(value);
            else if (key.str() == "traceparent") spec.traceparent = bool_of(value);
            else if (key.str() == "layout") {
                const auto& layout = string_of(value);
                if (layout == "nested") spec.layout = core::AttributeLayout::nested;
                else if (layout == "flat") spec.layout = core::AttributeLayout::flat;
                else throw ValueError(concat("expected \"nested\" or \"flat\", got ", quoted(layout)));
            } else if (key.str() == "fields") {
                const auto* fields = value.as_table();
                if (fields == nullptr) throw_wrong_type("a table of fields, [sources.NAME.fields.FIELD]", value);
                for (const auto& [field_name, field] : *fields) {
                    const auto field_path = concat(key_path, '.', field_name.str());
                    if (const auto* field_table = field.as_table()) {
                        read_field(source, std::string(field_name.str()), field_path, *field_table);
                    } else {
                        walk.add(field.source(), field_path,
                                 concat("expected a field table [", field_path, "], got ", type_name(field)));
                    }
                }
            } else if (key.str() == "volume") {  // config/toml_scenario.cpp
                std::vector<detail::TomlProblem> found;
                detail::read_toml_volume(value, walk.origin, key_path, spec.volume, found);
                for (auto& problem : found) walk.problems.push_back({problem.line, std::move(problem.message)});
            } else if (key.str() == "event_types") {
                const auto& types = array_of(value, "an array of tables, [[sources.NAME.event_types]]");
                for (std::size_t i = 0; i < types.size(); ++i) {
                    read_event_type(source, concat(key_path, '[', i, ']'), types[i]);
                }
            } else {
                walk.add(key.source(), key_path,
                         concat("unknown key", detail::did_you_mean(key.str(), source_key_names), "; a source accepts ",
                                detail::join_names(source_key_names, "and")));
            }
        } catch (const ValueError& error) {
            walk.add(value.source(), key_path, error.what());
        }
    }
    // The parser keeps keys sorted; file order is what the user wrote and
    // the order attributes appear in the output.
    std::ranges::stable_sort(spec.fields, {}, [](const core::FieldSpec& f) { return f.origin.line; });
    walk.settings.sources.push_back(std::move(spec));
}

void read_sources(Walk& walk, const toml::node& node) {
    const auto* table = node.as_table();
    if (table == nullptr) {
        walk.add(node.source(), "sources", concat("expected a section [sources.NAME], got ", type_name(node)));
        return;
    }
    // A file's [sources] replace any from an earlier layer: one file, one scenario set.
    walk.settings.sources.clear();
    for (const auto& [name, source] : *table) {
        read_source(walk, name, source);
    }
    // File order, not the parser's key order: the daemon runs the first.
    std::ranges::stable_sort(walk.settings.sources, {}, [](const core::SourceSpec& s) { return s.origin.line; });
}

// Compiles every source as the daemon will (NDJSON), so --check-config and
// start-up refuse what would fail later; the compiler's errors already carry
// FILE:LINE: KEY. Also refuses a builtin scenario named beside [sources].
void check_sources(Walk& walk, const toml::table& document) {
    if (walk.settings.sources.empty()) return;
    if (walk.settings.scenario != Settings{}.scenario) {
        const auto* scenario = document.at_path("generation.scenario").node();
        walk.problems.push_back(
            {scenario != nullptr ? scenario->source().begin.line : 0,
             concat(walk.origin, ':', scenario != nullptr ? scenario->source().begin.line : 0,
                    ": generation.scenario: ", quoted(walk.settings.scenario),
                    " conflicts with [sources]: the file's sources replace the built-in scenario; remove one")});
    }
    for (const auto& spec : walk.settings.sources) {
        try {
            (void)core::compile_source(spec, core::OutputFormat::ndjson);
        } catch (const core::SchemaError& error) {
            walk.problems.push_back({error.origin().line, error.what()});
        }
    }
}

[[noreturn]] void throw_problems(std::vector<Problem>& problems) {
    std::ranges::stable_sort(problems, {}, &Problem::line);
    std::string message;
    for (const auto& problem : problems) {
        message += message.empty() ? "" : "\n";
        message += problem.message;
    }
    throw ConfigError(message);
}

toml::table parse_or_throw(std::string_view text, const std::string& origin) {
    try {
        return toml::parse(text, std::string_view{origin});
    } catch (const toml::parse_error& error) {
        const auto& where = error.source().begin;
        throw ConfigError(concat(origin, ':', where.line, ':', where.column, ": ", error.description()));
    }
}

}  // namespace

Settings load_toml_text(std::string_view text, const std::string& origin, Settings base) {
    // toml++ sees only what the bounds check followed; where that is short of the
    // whole text, the text there is not TOML, and toml++ must say so.
    const std::size_t checked = detail::check_toml_bounds(text, origin);
    const auto document = parse_or_throw(text.substr(0, checked), origin);
    if (checked < text.size()) {
        const auto line = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(checked), '\n') + 1;
        throw ConfigError(concat(origin, ':', line, ": cannot check the shape of the file from here on (toml++ "
                                 "accepts it, supervent's bounds check does not follow it); please report it"));
    }
    Walk walk{origin, std::move(base), {}};
    for (const auto& [name, node] : document) {
        read_section(walk, name, node);
    }
    if (walk.problems.empty()) {
        check_sources(walk, document);
    }
    if (walk.problems.empty()) {  // dependencies, rates, cycles: config/scenario_rules.cpp
        for (auto& [line, message] : detail::check_scenario(walk.settings)) walk.problems.push_back({line, std::move(message)});
    }
    if (!walk.problems.empty()) {
        throw_problems(walk.problems);
    }
    return std::move(walk.settings);
}

Settings load_toml_file(const std::string& path, Settings base) {
    auto settings = load_toml_text(detail::read_config_text(path), path, std::move(base));
    settings.config_path = path;
    return settings;
}

}  // namespace supervent::config
