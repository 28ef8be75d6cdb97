// The native TOML config. Every section and key is listed in a table below;
// anything else is an error that names the file, the line and the key path.
// All problems in a file are reported at once, in line order, so a user fixes
// them in one pass instead of one rerun per typo.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <toml++/toml.h>

#include "config/load.hpp"
#include "config/values.hpp"

namespace supervent::config {

namespace {

using detail::concat;
using detail::quoted;
using detail::ValueError;

// A config file is a few hundred bytes; anything this big is the wrong file.
constexpr std::size_t config_file_bytes_max = 4 * 1024 * 1024;

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
    KeySpec{"pin_threads", [](Settings& s, const toml::node& n) { s.pin_threads = bool_of(n); }},
    KeySpec{"drain_timeout", [](Settings& s, const toml::node& n) { s.drain_timeout_s = timeout_of(n); }},
    KeySpec{"socket",
            [](Settings& s, const toml::node& n) { s.socket_path = detail::check_socket_path(string_of(n)); }},
    KeySpec{"socket_group",
            [](Settings& s, const toml::node& n) { s.socket_group = detail::check_group(string_of(n)); }},
    KeySpec{"socket_allowed_uids", [](Settings& s, const toml::node& n) { s.socket_allowed_uids = ids_of(n); }},
    KeySpec{"socket_allowed_gids", [](Settings& s, const toml::node& n) { s.socket_allowed_gids = ids_of(n); }},
};

constexpr std::array network_keys{
    KeySpec{"connections",
            [](Settings& s, const toml::node& n) { s.connections = uint32_in(n, detail::connections_range); }},
    KeySpec{"zero_copy",
            [](Settings& s, const toml::node& n) { s.zero_copy = detail::parse_zero_copy(string_of(n)); }},
    KeySpec{"tcp_nodelay", [](Settings& s, const toml::node& n) { s.tcp_nodelay = bool_of(n); }},
    KeySpec{"bind", [](Settings& s, const toml::node& n) { s.bind = bind_list_of(n); }},
    KeySpec{"connect_timeout", [](Settings& s, const toml::node& n) { s.connect_timeout_s = timeout_of(n); }},
    KeySpec{"request_timeout", [](Settings& s, const toml::node& n) { s.request_timeout_s = timeout_of(n); }},
};

constexpr std::array generation_keys{
    KeySpec{"rate", apply_rate},
    KeySpec{"events", [](Settings& s, const toml::node& n) { s.events = uint_of(n); }},
    KeySpec{"duration", apply_duration},
    KeySpec{"seed", [](Settings& s, const toml::node& n) { s.seed = uint_of(n); }},
    KeySpec{"start", [](Settings& s, const toml::node& n) { s.window_start_ns = detail::parse_rfc3339_ns(string_of(n)); }},
    KeySpec{"end", [](Settings& s, const toml::node& n) { s.window_end_ns = detail::parse_rfc3339_ns(string_of(n)); }},
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
    KeySpec{"log_level",
            [](Settings& s, const toml::node& n) { s.log_level = detail::check_log_level(string_of(n)); }},
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

void read_section(Walk& walk, const toml::key& name, const toml::node& node) {
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

// The whole file, or a ConfigError an operator can act on.
std::string read_config_file(const std::string& path) {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
    if (!file) {
        throw ConfigError(concat(path, ": cannot open config file: ", std::strerror(errno)));
    }
    std::string text(config_file_bytes_max + 1, '\0');
    const auto bytes = std::fread(text.data(), 1, text.size(), file.get());
    if (std::ferror(file.get()) != 0) {
        throw ConfigError(concat(path, ": cannot read config file: ", std::strerror(errno)));
    }
    if (bytes > config_file_bytes_max) {
        throw ConfigError(concat(path, ": config file is larger than ", config_file_bytes_max / (1024 * 1024),
                                 " MiB; is it the right file?"));
    }
    text.resize(bytes);
    return text;
}

}  // namespace

Settings load_toml_text(std::string_view text, const std::string& origin, Settings base) {
    const auto document = parse_or_throw(text, origin);
    Walk walk{origin, std::move(base), {}};
    for (const auto& [name, node] : document) {
        read_section(walk, name, node);
    }
    if (!walk.problems.empty()) {
        throw_problems(walk.problems);
    }
    return std::move(walk.settings);
}

Settings load_toml_file(const std::string& path, Settings base) {
    auto settings = load_toml_text(read_config_file(path), path, std::move(base));
    settings.config_path = path;
    return settings;
}

}  // namespace supervent::config
