// The original tool's YAML files. The mapping, key by key, is in
// docs/configuration.md ("The original YAML files"); the decisions that are
// not obvious are commented where they are made.
#include "config/yaml_load.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "config/input_bounds.hpp"
#include "config/load.hpp"
#include "config/scenario_rules.hpp"
#include "config/values.hpp"
#include "core/scenario.hpp"
#include "core/schema.hpp"

namespace supervent::config {

namespace {

using core::FieldKind;
using core::FieldSpec;
using core::SchemaValue;
using detail::concat;
using detail::located;
using detail::quoted;
using detail::ValueError;

// ---- scalars -----------------------------------------------------------------

std::string_view shape_of(const YAML::Node& node) {
    if (!node.IsDefined() || node.IsNull()) return "nothing";
    if (node.IsSequence()) return "a list";
    if (node.IsMap()) return "a mapping";
    return "a scalar";
}

const std::string& text_of(const YAML::Node& node) {
    if (!node.IsScalar()) throw ValueError(concat("expected a string, got ", shape_of(node)));
    return node.Scalar();
}

bool plain(const YAML::Node& node) { return node.Tag() == "?"; }

// YAML 1.1 integers may carry '_' separators (1_000_000) and a '+' sign.
std::string number_text_of(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c != '_') out += c;
    }
    if (!out.empty() && out.front() == '+') out.erase(0, 1);
    return out;
}

std::optional<std::int64_t> as_int(std::string_view text) {
    const auto digits = number_text_of(text);
    if (digits.empty() || digits.find_first_not_of("-0123456789") != std::string::npos) return std::nullopt;
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    return value;
}

std::optional<double> as_double(std::string_view text) {
    const auto digits = number_text_of(text);
    if (digits.empty() || digits.find_first_not_of("-0123456789.eE") != std::string::npos ||
        digits.find_first_of("0123456789") == std::string::npos) {
        return std::nullopt;
    }
    double value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc{} || end != digits.data() + digits.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

double number_of(const YAML::Node& node) {
    if (node.IsScalar()) {
        if (const auto value = as_double(node.Scalar())) return *value;
        throw ValueError(concat("expected a number, got ", quoted(node.Scalar())));
    }
    throw ValueError(concat("expected a number, got ", shape_of(node)));
}

// A list of numbers (hour and day weight tables).
std::vector<double> numbers_of(const YAML::Node& node) {
    if (!node.IsSequence()) throw ValueError(concat("expected a list of numbers, got ", shape_of(node)));
    std::vector<double> out;
    for (const auto& element : node) out.push_back(number_of(element));
    return out;
}

std::uint64_t count_of(const YAML::Node& node) {
    if (node.IsScalar()) {
        if (const auto value = as_int(node.Scalar()); value && *value >= 0) return static_cast<std::uint64_t>(*value);
        if (const auto value = as_double(node.Scalar()); value && *value >= 0 && *value == std::floor(*value) && *value < 1.8e19) {
            return static_cast<std::uint64_t>(*value);
        }
        throw ValueError(concat("expected a whole number >= 0, got ", quoted(node.Scalar())));
    }
    throw ValueError(concat("expected a whole number >= 0, got ", shape_of(node)));
}

bool bool_of(const YAML::Node& node) {
    if (node.IsScalar()) {
        const auto& t = node.Scalar();
        if (t == "true" || t == "True" || t == "TRUE" || t == "yes" || t == "Yes" || t == "on") return true;
        if (t == "false" || t == "False" || t == "FALSE" || t == "no" || t == "No" || t == "off") return false;
        throw ValueError(concat("expected true or false, got ", quoted(t)));
    }
    throw ValueError(concat("expected true or false, got ", shape_of(node)));
}

// A choice value keeps its YAML type: 200 stays a number, '200' a string.
SchemaValue value_of(const YAML::Node& node) {
    using Type = SchemaValue::Type;
    if (!node.IsScalar()) throw ValueError(concat("expected a value (a string or a number), got ", shape_of(node)));
    const auto& t = node.Scalar();
    if (!plain(node)) return {Type::string, t};
    if (t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL") {
        throw ValueError("a value must not be empty (null); quote it as '' for an empty string");
    }
    if (t == "true" || t == "True" || t == "TRUE") return {Type::boolean, "true"};
    if (t == "false" || t == "False" || t == "FALSE") return {Type::boolean, "false"};
    if (const auto value = as_int(t)) return {Type::integer, std::to_string(*value)};
    if (const auto value = as_double(t)) return {Type::floating, detail::shortest_double_text(*value)};
    return {Type::string, t};
}

// ---- fields -----------------------------------------------------------------

// Repeating a value in the list weights it (the original picked uniformly from the list).
void set_choice_values(FieldSpec& field, const YAML::Node& node) {
    if (!node.IsSequence()) throw ValueError(concat("expected a list of values, got ", shape_of(node)));
    // A second `values:` in the same map replaces the first: start afresh, so
    // every value has its count.
    field.values.clear();
    field.weights.clear();
    std::vector<double> counts;
    for (const auto& element : node) {
        const auto value = value_of(element);
        const auto found = std::ranges::find(field.values, value);
        if (found == field.values.end()) {
            field.values.push_back(value);
            counts.push_back(1);
        } else {
            counts[static_cast<std::size_t>(found - field.values.begin())] += 1;
        }
    }
    if (field.values.empty()) throw ValueError("needs at least one value");
    if (std::ranges::any_of(counts, [](double c) { return c != 1; })) field.weights = std::move(counts);
}

FieldSpec choice_of(std::string name, std::vector<std::string_view> values, std::vector<double> weights = {}) {
    FieldSpec field;
    field.name = std::move(name);
    field.kind = FieldKind::choice;
    for (const auto value : values) field.values.push_back({SchemaValue::Type::string, std::string(value)});
    field.weights = std::move(weights);
    return field;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// The group of a place's fields: the object holding them, without a
// trailing "geolocation" (client.geographicalContext.geolocation.lat belongs
// with client.geographicalContext.city).
std::string geo_group_of(const std::string& object) {
    constexpr std::string_view tail = ".geolocation";
    if (object.size() > tail.size() && object.ends_with(tail)) return object.substr(0, object.size() - tail.size());
    return object;
}

// Browser, OS, raw user agent and device, one row each.
constexpr std::array<std::array<std::string_view, 4>, 7> user_agent_rows{{
    {"CHROME", "Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Computer"},
    {"CHROME", "Mac OS X", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Computer"},
    {"SAFARI", "Mac OS X", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", "Computer"},
    {"SAFARI", "iOS", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "Mobile"},
    {"FIREFOX", "Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", "Computer"},
    {"EDGE", "Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0", "Computer"},
    {"CHROME", "Android", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36", "Mobile"},
}};

// A leaf typed only `string` (nested schemas, placeholders of a nested
// source that the schema leaves out): generated from its name, so an Okta
// log reads like one. Anything not recognised is a 12-digit base-62 token.
FieldSpec string_by_name(const std::string& name) {
    const auto dot = name.rfind('.');
    const auto leaf = lower(dot == std::string::npos ? name : name.substr(dot + 1));
    std::string parent;
    if (dot != std::string::npos) {
        const auto before = name.rfind('.', dot - 1);
        parent = lower(name.substr(before == std::string::npos ? 0 : before + 1, dot - (before == std::string::npos ? 0 : before + 1)));
    }
    FieldSpec field;
    field.name = name;
    // Leaves of one object that name a person or a place are drawn as one
    // row (core/value_rows.hpp): the object's path is the group, with a
    // trailing "geolocation" dropped so lat/lon join the city above them.
    const std::string object = dot == std::string::npos ? std::string{} : name.substr(0, dot);
    const bool person_object = parent == "actor" || parent == "user" || parent == "target" || parent == "owner";
    const auto geo = [&](std::string part) {
        field.kind = FieldKind::geo;
        field.part = std::move(part);
        field.group = geo_group_of(object);
    };
    if (leaf == "id" && person_object) {
        field.kind = FieldKind::person;
        field.part = "user_id";
    } else if (leaf == "id" || leaf == "eventid" || leaf == "uuid" || leaf == "transactionid") {
        field.kind = FieldKind::base62_id;
        field.length = 20;
    } else if (leaf == "alternateid" || leaf == "email" || leaf == "login") {
        field.kind = FieldKind::email;
    } else if ((leaf == "displayname" || leaf == "name") && parent == "group") {
        // A group is named like a team, not like a person.
        field = choice_of(name, {"Everyone", "Engineering", "Finance", "Sales", "Marketing", "Support", "Contractors",
                                 "Okta Administrators"});
    } else if (leaf == "displayname" || leaf == "name" || leaf == "fullname") {
        field.kind = FieldKind::name;
    } else if (leaf == "ipaddress" || leaf == "ip" || leaf == "client_ip") {
        field.kind = FieldKind::ipv4;
        field.cidrs = {"public"};
    } else if (leaf == "city") {
        geo("city");
    } else if (leaf == "state" || leaf == "region") {
        geo("region");
    } else if (leaf == "country") {
        geo("country");
    } else if (leaf == "postalcode" || leaf == "zip") {
        geo("postal_code");
    } else if (leaf == "result") {
        // Result and reason agree: a reason only where the outcome failed.
        field = choice_of(name, {"SUCCESS", "FAILURE", "FAILURE", "FAILURE", "DENY", "DENY", "CHALLENGE"}, {80, 6, 3, 1, 6, 2, 2});
        field.group = object + "#outcome";
    } else if (leaf == "reason") {
        field = choice_of(name, {"", "INVALID_CREDENTIALS", "VERIFICATION_ERROR", "LOCKED_OUT",
                                 "Sign-on policy evaluation resulted in DENY", "User is not assigned to the application",
                                 "MFA required"});
        field.group = object + "#outcome";
    } else if (leaf == "browser" || leaf == "os" || leaf == "rawuseragent" || leaf == "useragent" ||
               leaf == "user_agent" || leaf == "device") {
        // A user agent's browser, OS, raw string and device are one row: an
        // iPhone string never comes with "CHROME, Windows, Computer". The
        // device sits beside userAgent (client.device), so its group names
        // the userAgent object next to it.
        const auto column = leaf == "browser" ? 0 : leaf == "os" ? 1 : leaf == "device" ? 3 : 2;
        std::vector<std::string_view> values;
        for (const auto& row : user_agent_rows) values.push_back(row[column]);
        field = choice_of(name, values, {40, 15, 12, 15, 8, 6, 4});
        const std::string agent_object = leaf == "device" ? (object.empty() ? "userAgent" : object + ".userAgent")
                                        : (parent == "useragent" ? object : object + ".userAgent");
        field.group = agent_object + "#agent";
    } else if (leaf == "authenticationprovider") {
        field = choice_of(name, {"OKTA_AUTHENTICATION_PROVIDER", "ACTIVE_DIRECTORY", "FACTOR_PROVIDER", "SOCIAL"},
                          {70, 20, 8, 2});
    } else if (leaf == "credentialtype") {
        field = choice_of(name, {"PASSWORD", "OTP", "SMS", "EMAIL", "WEBAUTHN"}, {50, 25, 10, 5, 10});
    } else if (leaf == "interface") {
        field = choice_of(name, {"Okta End-User Dashboard", "Okta Admin Console", "Okta Verify", "API"});
    } else if (leaf == "severity" || leaf == "level") {
        field = choice_of(name, {"INFO", "WARN", "ERROR", "DEBUG"}, {85, 10, 4, 1});
    } else if (leaf == "type" && parent == "group") {
        field = choice_of(name, {"OKTA_GROUP", "APP_GROUP", "BUILT_IN"}, {70, 25, 5});
    } else if (leaf == "type" && (parent == "actor" || parent == "user")) {
        field = choice_of(name, {"User", "SystemPrincipal"}, {90, 10});
    } else {
        field.kind = FieldKind::base62_id;
        field.length = 12;
    }
    return field;
}

// A leaf of a nested schema: `id: string`, `ipAddress: ipv4`, `lat: float`.
FieldSpec leaf_field(const std::string& name, std::string_view type, const core::SchemaOrigin& origin) {
    FieldSpec field;
    if (type == "string" || type == "str") {
        field = string_by_name(name);
    } else if (type == "ipv4" || type == "ip") {
        field.kind = FieldKind::ipv4;
        field.cidrs = {"public"};
    } else if (type == "float" || type == "number" || type == "double") {
        field.kind = FieldKind::floating;
        const auto leaf = lower(name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1));
        const auto dot = name.rfind('.');
        const std::string object = dot == std::string::npos ? std::string{} : name.substr(0, dot);
        if (leaf == "lat" || leaf == "latitude" || leaf == "lon" || leaf == "lng" || leaf == "longitude") {
            // Coordinates of the place the sibling city names (core/value_rows.hpp).
            field.kind = FieldKind::geo;
            field.part = leaf.starts_with("lat") ? "lat" : "lon";
            field.group = geo_group_of(object);
        } else {
            field.min = 0;
            field.max = 100;
        }
    } else if (type == "integer" || type == "int") {
        field.kind = FieldKind::integer;
        field.min = 0;
        // An authentication step counts factors: 0, 1 or 2, never 98.
        field.max = lower(name).ends_with("authenticationstep") ? 2 : 100;
    } else {
        field.kind = core::parse_field_kind(type, origin);
        if (field.kind == FieldKind::ipv4) field.cidrs = {"public"};
        if (field.kind == FieldKind::integer || field.kind == FieldKind::floating) field.max = 100;
        if (field.kind == FieldKind::choice || field.kind == FieldKind::constant) {
            throw ValueError(concat("a ", type, " leaf needs values; write it as {type: ", type, ", values: [...]}"));
        }
    }
    field.name = name;
    field.origin = origin;
    return field;
}

// Keys an attribute written as {type: …, …} may carry.
constexpr std::array<std::string_view, 17> attribute_keys{"type", "values", "weights", "min", "max", "generator",
                                                          "format", "precision", "cidrs", "length", "distribution",
                                                          "mean", "stddev", "description", "pool", "popularity",
                                                          "zipf_exponent"};

bool is_attribute_spec(const YAML::Node& node) {
    if (!node.IsMap() || !node["type"] || !node["type"].IsScalar()) return false;
    for (const auto& entry : node) {
        if (!entry.first.IsScalar() ||
            std::ranges::find(attribute_keys, std::string_view(entry.first.Scalar())) == attribute_keys.end()) {
            return false;
        }
    }
    return true;
}

// ---- the walk ---------------------------------------------------------------

struct Fallback {
    YAML::Node node;
    std::string path;
};

struct Loader {
    std::string file;
    Settings settings;
    std::vector<std::pair<std::uint32_t, std::string>> errors;

    static std::uint32_t line_of(const YAML::Node& node) {
        const auto mark = node.Mark();
        return mark.is_null() ? 0 : static_cast<std::uint32_t>(mark.line + 1);
    }
    core::SchemaOrigin origin(const YAML::Node& node, const std::string& path) const { return {file, line_of(node), path}; }
    void error(const YAML::Node& node, const std::string& path, std::string_view reason) {
        errors.emplace_back(line_of(node), located(origin(node, path), reason));
    }
    void warn(const YAML::Node& node, const std::string& path, std::string_view reason) {
        settings.warnings.push_back(located(origin(node, path), reason));
    }

    // Runs `read`, turning what it throws into an error at `node` / `path`.
    template <typename Read>
    bool guarded(const YAML::Node& node, const std::string& path, Read&& read) {
        try {
            read();
            return true;
        } catch (const ValueError& e) {
            error(node, path, e.what());
        } catch (const core::SchemaError& e) {
            errors.emplace_back(e.origin().line, e.what());
        }
        return false;
    }
};

std::string key_text(const YAML::Node& key) { return key.IsScalar() ? key.Scalar() : std::string("?"); }

// {type: choice|integer|string|timestamp|float|…, …}
std::optional<FieldSpec> read_attribute_spec(Loader& loader, const std::string& name, const std::string& path,
                                             const YAML::Node& node) {
    FieldSpec field;
    field.name = name;
    field.origin = loader.origin(node, path);
    const auto& type = node["type"].Scalar();
    const auto generator = node["generator"];
    bool ok = loader.guarded(node["type"], path + ".type", [&] {
        if (type == "choice") {
            field.kind = FieldKind::choice;
        } else if (type == "integer" || type == "int") {
            field.kind = FieldKind::integer;
            field.max = 100;  // the original's defaults: 0..100
        } else if (type == "float" || type == "number") {
            field.kind = FieldKind::floating;
            field.max = 100;
        } else if (type == "string" || type == "str") {
            if (!generator) {
                field = string_by_name(name);
            } else {
                const auto& name_of_generator = text_of(generator);
                if (name_of_generator == "client_ip" || name_of_generator == "private_ip") {
                    // The original's client_ip: 10/8, 172.16/12 or 192.168/16.
                    field.kind = FieldKind::ipv4;
                    field.cidrs = {"private"};
                } else if (name_of_generator == "public_ip" || name_of_generator == "ip" || name_of_generator == "ipv4") {
                    field.kind = FieldKind::ipv4;
                    field.cidrs = {"public"};
                } else {
                    field.kind = core::parse_field_kind(name_of_generator, loader.origin(generator, path + ".generator"));
                }
            }
            field.name = name;
            field.origin = loader.origin(node, path);
        } else if (type == "timestamp") {
            field.kind = FieldKind::timestamp;
        } else {
            field.kind = core::parse_field_kind(type, loader.origin(node["type"], path + ".type"));
            if (field.kind == FieldKind::ipv4) field.cidrs = {"public"};
        }
    });
    if (!ok) return std::nullopt;
    for (const auto& entry : node) {
        const auto key = key_text(entry.first);
        const auto key_path = concat(path, '.', key);
        const auto& value = entry.second;
        if (key == "type" || key == "description") continue;
        if (key == "generator") {
            if (type != "string" && type != "str") loader.warn(entry.first, key_path, "only applies to type: string; ignored");
            continue;
        }
        const auto applies = [&]() {
            using K = FieldKind;
            const auto k = field.kind;
            if (key == "values" || key == "weights") return k == K::choice || (key == "values" && k == K::constant);
            if (key == "min" || key == "max" || key == "distribution" || key == "mean" || key == "stddev") {
                return k == K::integer || k == K::floating;
            }
            if (key == "precision") return k == K::floating;
            if (key == "format") return k == K::timestamp;
            if (key == "cidrs") return k == K::ipv4 || k == K::ipv6;
            if (key == "length") return k == K::hex_id || k == K::base62_id;
            if (key == "pool" || key == "popularity" || key == "zipf_exponent") {
                return k == K::ipv4 || k == K::ipv6 || k == K::uuid4 || k == K::hex_id || k == K::base62_id ||
                       k == K::integer || k == K::person || k == K::name || k == K::email || k == K::geo;
            }
            return false;
        }();
        if (!applies) {
            loader.warn(entry.first, key_path, concat("does not apply to type: ", type, "; ignored"));
            continue;
        }
        ok &= loader.guarded(value, key_path, [&] {
            if (key == "values") set_choice_values(field, value);
            else if (key == "weights") {
                if (!value.IsSequence()) throw ValueError(concat("expected a list of numbers, got ", shape_of(value)));
                field.weights.clear();
                for (const auto& w : value) field.weights.push_back(number_of(w));
            } else if (key == "min") field.min = number_of(value);
            else if (key == "max") field.max = number_of(value);
            else if (key == "distribution") field.distribution = core::parse_distribution(text_of(value), loader.origin(value, key_path));
            else if (key == "mean") field.mean = number_of(value);
            else if (key == "stddev") field.stddev = number_of(value);
            else if (key == "precision") field.precision = static_cast<std::uint32_t>(count_of(value));
            else if (key == "format") field.format = text_of(value);
            else if (key == "length") field.length = static_cast<std::uint32_t>(count_of(value));
            else if (key == "pool") field.pool = detail::check_range(count_of(value), {1, bounds::field_pool_members_max});
            else if (key == "popularity") field.popularity = core::parse_popularity(text_of(value), loader.origin(value, key_path));
            else if (key == "zipf_exponent") field.zipf_exponent = number_of(value);
            else if (key == "cidrs") {
                field.cidrs.clear();
                if (value.IsScalar()) field.cidrs.push_back(value.Scalar());
                else for (const auto& c : value) field.cidrs.push_back(text_of(c));
            }
        });
    }
    if (field.kind == FieldKind::choice && field.values.empty() && ok) {
        loader.error(node, path, "a choice needs values: [...]");
        return std::nullopt;
    }
    if (!ok) return std::nullopt;
    return field;
}

struct SourceFields {
    Loader& loader;
    core::SourceSpec& spec;
    std::map<std::string, std::size_t, std::less<>> index;
    std::vector<std::string>* names_read = nullptr;  // when set, every name read (a structure's fields)

    void add(FieldSpec field, const YAML::Node& node, const std::string& path) {
        if (names_read != nullptr) names_read->push_back(field.name);
        const auto found = index.find(field.name);
        if (found != index.end()) {
            auto& existing = spec.fields[found->second];
            auto a = existing;
            auto b = field;
            a.origin = b.origin = {};
            if (a != b) {
                loader.warn(node, path,
                            concat("attribute ", quoted(field.name), " is defined again differently (first at line ",
                                   existing.origin.line, "); the first definition is used"));
            }
            return;
        }
        index.emplace(field.name, spec.fields.size());
        spec.fields.push_back(std::move(field));
    }

    // An attribute: {type: …}, a leaf type name (nested schemas), or a group of them.
    void read(const std::string& name, const std::string& path, const YAML::Node& node) {
        if (node.IsScalar()) {
            loader.guarded(node, path, [&] { add(leaf_field(name, node.Scalar(), loader.origin(node, path)), node, path); });
            return;
        }
        if (is_attribute_spec(node)) {
            if (auto field = read_attribute_spec(loader, name, path, node)) add(std::move(*field), node, path);
            return;
        }
        if (node.IsMap() && node.size() > 0) {
            for (const auto& entry : node) {
                const auto key = key_text(entry.first);
                read(concat(name, '.', key), concat(path, '.', key), entry.second);
            }
            return;
        }
        loader.error(node, path,
                     concat("expected an attribute such as {type: choice, values: [...]}, {type: integer, min: 1, max: 9}, "
                            "a leaf type (string, ipv4, email, float, integer) or a group of them; got ",
                            shape_of(node)));
    }
};

// An acceptable_values entry as a field: a list (a choice, repeats weight),
// {type: …} (an attribute), {min, max} (an integer) or one value.
std::optional<FieldSpec> fallback_field(Loader& loader, const std::string& name, const Fallback& fallback) {
    const auto& node = fallback.node;
    if (is_attribute_spec(node)) return read_attribute_spec(loader, name, fallback.path, node);
    FieldSpec field;
    field.name = name;
    field.origin = loader.origin(node, fallback.path);
    const bool ok = loader.guarded(node, fallback.path, [&] {
        if (node.IsSequence()) {
            field.kind = FieldKind::choice;
            set_choice_values(field, node);
        } else if (node.IsMap() && (node["min"] || node["max"])) {
            field.kind = FieldKind::integer;
            field.max = 100;
            if (node["min"]) field.min = number_of(node["min"]);
            if (node["max"]) field.max = number_of(node["max"]);
        } else if (node.IsScalar()) {
            field.kind = FieldKind::choice;
            field.values = {value_of(node)};
        } else {
            throw ValueError(concat("expected a list of values, {min, max} or {type: …}, got ", shape_of(node)));
        }
    });
    if (!ok) return std::nullopt;
    return field;
}

std::map<std::string, Fallback, std::less<>> read_fallbacks(Loader& loader, const YAML::Node& node, const std::string& path) {
    std::map<std::string, Fallback, std::less<>> fallbacks;
    if (!node || node.IsNull()) return fallbacks;
    if (!node.IsMap()) {
        loader.warn(node, path, concat("expected a mapping of names to value lists, got ", shape_of(node), "; ignored"));
        return fallbacks;
    }
    for (const auto& entry : node) {
        const auto key = key_text(entry.first);
        fallbacks.emplace(key, Fallback{entry.second, concat(path, '.', key)});
    }
    return fallbacks;
}

// The placeholders of a template, as core's compiler reads them: {name},
// {{name}}, {name:format}.
std::vector<std::string> placeholders_of(std::string_view t) {
    std::vector<std::string> names;
    for (std::size_t at = 0; at < t.size(); ++at) {
        if (t[at] != '{') continue;
        const bool doubled = t.substr(at, 2) == "{{";
        std::size_t i = at + (doubled ? 2 : 1);
        const std::size_t begin = i;
        if (i >= t.size() || !(std::isalpha(static_cast<unsigned char>(t[i])) || t[i] == '_')) continue;
        while (i < t.size() && (std::isalnum(static_cast<unsigned char>(t[i])) || t[i] == '_' || t[i] == '.' || t[i] == '-')) ++i;
        const std::string name(t.substr(begin, i - begin));
        if (i < t.size() && t[i] == ':') {
            const auto close = t.find('}', i);
            if (close == std::string_view::npos) continue;
            i = close;
        }
        const std::string_view closing = doubled ? "}}" : "}";
        if (t.substr(i, closing.size()) != closing) continue;
        names.push_back(name);
        at = i + closing.size() - 1;
    }
    return names;
}

struct FileContext {
    std::map<std::string, Fallback, std::less<>> acceptable_values;
    std::optional<YAML::Node> response_time;
    std::string response_time_path;
    bool response_time_used = false;
};

void read_event_types(Loader& loader, core::SourceSpec& spec, const YAML::Node& node, const std::string& path,
                      std::set<std::string, std::less<>>& structures, std::map<std::string, std::string>& structure_of_type) {
    if (!node || node.IsNull()) return;
    if (!node.IsSequence()) {
        loader.error(node, path, concat("expected a list of {type, format, create_from_scratch}, got ", shape_of(node)));
        return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
        const auto item = node[i];
        const auto item_path = concat(path, '[', i, ']');
        if (!item.IsMap()) {
            loader.error(item, item_path, concat("expected {type, format, create_from_scratch}, got ", shape_of(item)));
            continue;
        }
        core::EventTypeSpec type;
        type.origin = loader.origin(item, item_path);
        bool has_format = false;
        for (const auto& entry : item) {
            const auto key = key_text(entry.first);
            const auto key_path = concat(item_path, '.', key);
            const auto& value = entry.second;
            loader.guarded(value, key_path, [&] {
                if (key == "type" || key == "name") type.name = text_of(value);
                else if (key == "format" || key == "message") {
                    type.message = text_of(value);
                    type.origin = loader.origin(value, key_path);
                    has_format = true;
                } else if (key == "create_from_scratch" || key == "root") type.root = bool_of(value);
                else if (key == "weight") type.weight = number_of(value);
                else if (key == "attribute_structure") {
                    structures.insert(text_of(value));
                    structure_of_type[type.name.empty() ? "" : type.name] = text_of(value);
                }
                else loader.warn(entry.first, key_path, "unknown key of an event type; ignored");
            });
        }
        if (type.name.empty()) {
            loader.error(item, item_path, "an event type needs a type: NAME");
            continue;
        }
        if (const auto unnamed = structure_of_type.find(""); unnamed != structure_of_type.end()) {
            structure_of_type[type.name] = unnamed->second;  // attribute_structure came before type:
            structure_of_type.erase(unnamed);
        }
        if (!has_format) {
            loader.error(item, item_path, concat("event type ", quoted(type.name), " needs a format (its message template)"));
            continue;
        }
        spec.event_types.push_back(std::move(type));
    }
}

void read_delay(Loader& loader, core::DelaySpec& delay, const YAML::Node& node, const std::string& path) {
    loader.guarded(node, path, [&] {
        using K = core::DelaySpec::Kind;
        if (node.IsScalar()) {
            delay.kind = K::fixed;
            delay.mean_ns = detail::parse_duration_ns(node.Scalar());
            return;
        }
        if (!node.IsMap()) throw ValueError(concat("expected a duration or {distribution, mean, min, max, stddev}, got ", shape_of(node)));
        std::optional<K> kind;
        for (const auto& entry : node) {
            const auto key = key_text(entry.first);
            const auto& value = entry.second;
            if (key == "distribution") kind = detail::parse_delay_kind(text_of(value));
            else if (key == "min") delay.min_ns = detail::parse_duration_ns(text_of(value));
            else if (key == "max") delay.max_ns = detail::parse_duration_ns(text_of(value));
            else if (key == "mean" || key == "value") delay.mean_ns = detail::parse_duration_ns(text_of(value));
            else if (key == "stddev") delay.stddev_ns = detail::parse_duration_ns(text_of(value));
            else throw ValueError(concat("unknown key ", quoted(key), "; a delay has distribution, min, max, mean and stddev"));
        }
        if (!kind) {
            // Whatever the keys given say: mean and stddev a normal, a mean alone an exponential, a range uniform.
            if (node["stddev"]) kind = K::normal;
            else if (node["mean"]) kind = K::exponential;
            else if (node["value"]) kind = K::fixed;
            else kind = K::uniform;
        }
        delay.kind = *kind;
        detail::check_delay(delay);
    });
}

void read_dependencies(Loader& loader, const YAML::Node& node) {
    auto& dependencies = loader.settings.scenario_spec.dependencies;
    if (!node || node.IsNull()) return;
    if (!node.IsSequence()) {
        loader.error(node, "dependencies", concat("expected a list of {trigger, action}, got ", shape_of(node)));
        return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
        const auto item = node[i];
        const auto path = concat("dependencies[", i, ']');
        core::DependencySpec dependency;
        dependency.origin = loader.origin(item, path);
        if (!item.IsMap() || !item["trigger"].IsMap() || !item["action"].IsMap()) {
            loader.error(item, path, "a dependency needs trigger: {source, event_type} and action: {source, event_type}");
            continue;
        }
        bool ok = true;
        for (const auto& entry : item) {
            const auto key = key_text(entry.first);
            const auto key_path = concat(path, '.', key);
            const auto& value = entry.second;
            if (key == "trigger" || key == "action") {
                const bool trigger = key == "trigger";
                for (const auto& part : value) {
                    const auto part_key = key_text(part.first);
                    const auto part_path = concat(key_path, '.', part_key);
                    ok &= loader.guarded(part.second, part_path, [&] {
                        if (part_key == "source") (trigger ? dependency.trigger_source : dependency.action_source) = text_of(part.second);
                        else if (part_key == "event_type") (trigger ? dependency.trigger_type : dependency.action_type) = text_of(part.second);
                        else if (trigger && part_key == "message_contains") dependency.message_contains = text_of(part.second);
                        else if (trigger && part_key == "message") {
                            // The original compared whole rendered messages for equality, which a
                            // template with random fields almost never meets; containment is what works.
                            dependency.message_contains = text_of(part.second);
                            loader.warn(part.first, part_path, "matched as message_contains (the message contains this text)");
                        } else if (!trigger && part_key == "percentage") dependency.percentage = number_of(part.second);
                        else if (!trigger && part_key == "delay") read_delay(loader, dependency.delay, part.second, part_path);
                        else loader.warn(part.first, part_path, concat("unknown key of a dependency ", key, "; ignored"));
                    });
                }
            } else if (key == "percentage") {
                ok &= loader.guarded(value, key_path, [&] { dependency.percentage = number_of(value); });
            } else if (key == "delay") {
                read_delay(loader, dependency.delay, value, key_path);
            } else {
                loader.warn(entry.first, key_path, "unknown key of a dependency; ignored");
            }
        }
        if (dependency.trigger_source.empty() || dependency.trigger_type.empty() || dependency.action_source.empty() ||
            dependency.action_type.empty()) {
            loader.error(item, path, "a dependency needs trigger and action, each with source and event_type");
            continue;
        }
        if (ok) dependencies.push_back(std::move(dependency));
    }
}

void read_volume(Loader& loader, core::SourceSpec& spec, const YAML::Node& node, const std::string& path) {
    if (!node || node.IsNull()) return;
    if (!node.IsSequence()) {
        loader.error(node, path, concat("expected a list of {pattern, count, distribution}, got ", shape_of(node)));
        return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
        const auto item = node[i];
        const auto item_path = concat(path, '[', i, ']');
        if (!item.IsMap()) {
            loader.error(item, item_path, concat("expected {pattern, count, distribution}, got ", shape_of(item)));
            continue;
        }
        core::VolumeSpec volume;
        volume.origin = loader.origin(item, item_path);
        bool has_count = false;
        bool ok = true;
        // Keys of `details` and `time_period` and the entry itself, all read the same way.
        auto read_key = [&](const YAML::Node& key_node, const std::string& key, const YAML::Node& value, const std::string& key_path) {
            ok &= loader.guarded(value, key_path, [&] {
                if (key == "pattern") volume.pattern = detail::parse_volume_pattern(text_of(value));
                else if (key == "count") {
                    volume.count = count_of(value);
                    has_count = true;
                } else if (key == "distribution") volume.distribution = detail::parse_spread(text_of(value));
                else if (key == "start") volume.start_ns = detail::parse_rfc3339_ns(text_of(value));
                else if (key == "end") volume.end_ns = detail::parse_rfc3339_ns(text_of(value));
                else if (key == "period") volume.period_ns = detail::parse_duration_ns(text_of(value));
                else if (key == "amplitude") volume.amplitude = number_of(value);
                else if (key == "ramp_from") volume.ramp_from = number_of(value);
                else if (key == "peak") volume.peak_ns = detail::parse_time_of_day_ns(text_of(value));
                else if (key == "hour_weights") volume.hour_weights = numbers_of(value);
                else if (key == "day_weights") volume.day_weights = numbers_of(value);
                else if (key == "burst_factor") volume.burst_factor = number_of(value);
                else if (key == "burst_on") volume.burst_on_ns = detail::parse_duration_ns(text_of(value));
                else if (key == "burst_off") volume.burst_off_ns = detail::parse_duration_ns(text_of(value));
                else loader.warn(key_node, key_path, "unknown key of a volume entry; ignored");
            });
        };
        for (const auto& entry : item) {
            const auto key = key_text(entry.first);
            const auto key_path = concat(item_path, '.', key);
            const auto& value = entry.second;
            if (key == "details" || key == "time_period") {
                // The original read both and used neither for a pattern; here `details` may carry
                // period, amplitude and ramp_from, and time_period {start, end} narrows the window.
                if (value.IsNull()) continue;
                if (!value.IsMap()) {
                    loader.warn(value, key_path, concat("expected a mapping, got ", shape_of(value), "; ignored"));
                    continue;
                }
                for (const auto& part : value) {
                    const auto part_key = key_text(part.first);
                    const auto part_path = concat(key_path, '.', part_key);
                    const bool allowed = key == "time_period" ? (part_key == "start" || part_key == "end")
                                                              : (part_key == "period" || part_key == "amplitude" ||
                                                                 part_key == "ramp_from" || part_key == "start" || part_key == "end" ||
                                                                 part_key == "peak" || part_key == "hour_weights" ||
                                                                 part_key == "day_weights" || part_key == "burst_factor" ||
                                                                 part_key == "burst_on" || part_key == "burst_off");
                    if (!allowed) {
                        loader.warn(part.first, part_path,
                                    key == "time_period" ? "time_period takes start and end; ignored"
                                                         : "details takes period, amplitude, ramp_from, start, end, peak, hour_weights, "
                                                           "day_weights, burst_factor, burst_on and burst_off; ignored");
                        continue;
                    }
                    read_key(part.first, part_key, part.second, part_path);
                }
                continue;
            }
            read_key(entry.first, key, value, key_path);
        }
        if (!has_count) {
            loader.error(item, item_path, "a volume entry needs count: N (the number of root events over the window)");
            continue;
        }
        ok &= loader.guarded(item, item_path, [&] { detail::check_volume(volume); });
        if (ok) spec.volume.push_back(volume);
    }
}

// Sibling choice lists that name one person (actor.id, actor.alternateId
// and actor.displayName: ['00u1', '00u2', …], ['john.doe@…', …] and
// ['John Doe', …]) pair by position: the original's authors wrote them side
// by side, and one id must always name one person (core/value_rows.hpp draws
// a group's values at one index). Values past the shortest list are dropped,
// with a warning.
void pair_identity_choices(Loader& loader, core::SourceSpec& spec) {
    constexpr std::array<std::string_view, 9> identity_leaves{"id", "alternateid", "email", "login", "displayname",
                                                              "name", "fullname", "username", "userid"};
    std::map<std::string, std::vector<FieldSpec*>> siblings;  // by parent
    for (auto& field : spec.fields) {
        if (field.kind != FieldKind::choice || !field.group.empty()) continue;
        const auto dot = field.name.rfind('.');
        const auto leaf = lower(dot == std::string::npos ? field.name : field.name.substr(dot + 1));
        if (std::ranges::find(identity_leaves, std::string_view(leaf)) == identity_leaves.end()) continue;
        siblings[dot == std::string::npos ? std::string{} : field.name.substr(0, dot)].push_back(&field);
    }
    for (auto& [parent, fields] : siblings) {
        if (fields.size() < 2) continue;
        std::size_t rows = fields.front()->values.size();
        for (const FieldSpec* field : fields) rows = std::min(rows, field->values.size());
        for (FieldSpec* field : fields) {
            field->group = parent + "#identity";
            if (field->values.size() == rows) continue;
            loader.settings.warnings.push_back(located(
                field->origin, concat("paired by position with the other identity values of ", parent.empty() ? "the source" : parent,
                                      " (one id, one name, one email per person): its values past the first ", rows,
                                      " are not used")));
            field->values.resize(rows);
            if (!field->weights.empty()) field->weights.resize(rows);
        }
    }
}

void read_source(Loader& loader, FileContext& context, const std::string& name, const YAML::Node& node) {
    const auto path = concat("sources.", name);
    if (!node.IsMap()) {
        loader.error(node, path, concat("expected a source {description, attributes, event_types, volume}, got ", shape_of(node)));
        return;
    }
    core::SourceSpec spec;
    spec.name = name;
    spec.origin = loader.origin(node, path);
    std::optional<YAML::Node> attributes;
    std::optional<YAML::Node> event_types;
    std::vector<std::pair<YAML::Node, YAML::Node>> strays;  // (key, value) of attributes at the wrong level
    std::map<std::string, Fallback, std::less<>> source_fallbacks;
    for (const auto& entry : node) {
        const auto key = key_text(entry.first);
        const auto key_path = concat(path, '.', key);
        const auto& value = entry.second;
        if (key == "attributes") attributes.emplace(value);
        else if (key == "event_types") event_types.emplace(value);
        else if (key == "volume") read_volume(loader, spec, value, key_path);
        else if (key == "acceptable_values") source_fallbacks = read_fallbacks(loader, value, key_path);
        else {
            loader.guarded(value, key_path, [&] {
                if (key == "description") spec.description = text_of(value);
                else if (key == "dataset") {
                    const auto& dataset = text_of(value);
                    spec.dataset = dataset.empty() ? std::string{} : detail::check_dataset(dataset);
                } else if (key == "layout") {
                    const auto& layout = text_of(value);
                    if (layout == "nested") spec.layout = core::AttributeLayout::nested;
                    else if (layout == "flat") spec.layout = core::AttributeLayout::flat;
                    else throw ValueError(concat("expected \"nested\" or \"flat\", got ", quoted(layout)));
                } else if (is_attribute_spec(value)) {
                    strays.emplace_back(entry.first, value);
                } else {
                    loader.warn(entry.first, key_path,
                                key == "timestamp"
                                    ? "a fixed timestamp beside the attributes; ignored: every event gets its own time "
                                      "(declare an attribute {type: timestamp, format: …} to format it)"
                                    : "unknown key of a source; ignored");
                }
            });
        }
    }

    std::set<std::string, std::less<>> structures;
    std::map<std::string, std::string> structure_of_type;
    if (event_types) read_event_types(loader, spec, *event_types, path + ".event_types", structures, structure_of_type);
    if (spec.event_types.empty() && (!event_types || event_types->IsNull() || event_types->size() == 0)) {
        loader.error(node, path, "a source needs event_types: [{type, format, create_from_scratch}]");
    }

    SourceFields fields{loader, spec, {}};
    const bool nested_schema = !structures.empty();
    if (attributes && !attributes->IsNull()) {
        if (!attributes->IsMap()) {
            loader.error(*attributes, path + ".attributes", concat("expected a mapping of attributes, got ", shape_of(*attributes)));
        } else {
            for (const auto& entry : *attributes) {
                const auto key = key_text(entry.first);
                const auto key_path = concat(path, ".attributes.", key);
                if (structures.count(key) != 0 && entry.second.IsMap() && !is_attribute_spec(entry.second)) {
                    // A schema an event type names with attribute_structure: its fields are the
                    // event's own (actor.id, not user_login.actor.id). The structures of one
                    // source share one set of fields; each event carries its own structure's.
                    std::vector<std::string> names;
                    fields.names_read = &names;
                    for (const auto& child : entry.second) {
                        const auto child_key = key_text(child.first);
                        fields.read(child_key, concat(key_path, '.', child_key), child.second);
                    }
                    fields.names_read = nullptr;
                    for (auto& type : spec.event_types) {
                        const auto found = structure_of_type.find(type.name);
                        if (found != structure_of_type.end() && found->second == key) type.attributes = names;
                    }
                } else {
                    fields.read(key, key_path, entry.second);
                }
            }
        }
    }
    for (const auto& [key, value] : strays) {
        const auto name_of_stray = key_text(key);
        const auto key_path = concat(path, '.', name_of_stray);
        if (fields.index.count(name_of_stray) != 0) {
            loader.warn(key, key_path,
                        concat("attribute written beside `attributes` (at the wrong level) and also inside it; "
                               "this one is ignored"));
            continue;
        }
        loader.warn(key, key_path,
                    concat("attribute written beside `attributes` (at the wrong level); used as the attribute ",
                           quoted(name_of_stray), " of source ", quoted(name)));
        fields.read(name_of_stray, key_path, value);
    }

    // Placeholders: an attribute, else acceptable_values (the source's, then
    // the file's), else the top-level response_time, else an error — except
    // in a nested-schema source, whose schema gives types, not values: there a
    // missing name is generated from its name like a `string` leaf.
    for (const auto& type : spec.event_types) {
        for (const auto& placeholder : placeholders_of(type.message)) {
            if (placeholder == core::builtin_timestamp_field || placeholder == core::builtin_request_id_field) continue;
            if (fields.index.count(placeholder) != 0) continue;
            const Fallback* fallback = nullptr;
            if (const auto found = source_fallbacks.find(placeholder); found != source_fallbacks.end()) fallback = &found->second;
            else if (const auto found_file = context.acceptable_values.find(placeholder); found_file != context.acceptable_values.end()) {
                fallback = &found_file->second;
            }
            if (fallback != nullptr) {
                if (auto field = fallback_field(loader, placeholder, *fallback)) {
                    loader.warn(fallback->node, fallback->path,
                                concat("used for {", placeholder, "} of source ", quoted(name),
                                       ", which has no attribute of that name"));
                    fields.add(std::move(*field), fallback->node, fallback->path);
                }
                continue;
            }
            if (placeholder == "response_time" && context.response_time) {
                Fallback top{*context.response_time, context.response_time_path};
                if (auto field = fallback_field(loader, placeholder, top)) {
                    context.response_time_used = true;
                    fields.add(std::move(*field), top.node, top.path);
                }
                continue;
            }
            const auto where = core::SchemaOrigin{loader.file, type.origin.line, type.origin.key};
            if (nested_schema) {
                auto field = string_by_name(placeholder);
                field.origin = where;
                loader.settings.warnings.push_back(
                    located(where, concat("placeholder {", placeholder, "} is in no attribute_structure; generated from its name")));
                fields.add(std::move(field), {}, where.key);
                continue;
            }
            loader.errors.emplace_back(
                where.line, located(where, concat("placeholder {", placeholder, "} of event type ", quoted(type.name),
                                                  " has no attribute of that name in source ", quoted(name),
                                                  " (and no acceptable_values entry)")));
        }
    }

    pair_identity_choices(loader, spec);

    // Volume makes root events; a source whose types are all dependent ones
    // (create_from_scratch: false) has nothing to start with it.
    if (!spec.volume.empty() && std::ranges::none_of(spec.event_types, &core::EventTypeSpec::root) && !spec.event_types.empty()) {
        std::uint64_t total = 0;
        for (const auto& v : spec.volume) total += v.count;
        loader.settings.warnings.push_back(
            located(spec.volume.front().origin,
                    concat("source ", quoted(name), " has no root event type (create_from_scratch: true), so its volume (",
                           total, " events) is ignored: its events come from dependencies only")));
        spec.volume.clear();
    }
    loader.settings.sources.push_back(std::move(spec));
}

void read_sources(Loader& loader, FileContext& context, const YAML::Node& node) {
    if (!node.IsMap()) {
        loader.error(node, "sources", concat("expected a mapping of sources, got ", shape_of(node)));
        return;
    }
    for (const auto& entry : node) read_source(loader, context, key_text(entry.first), entry.second);
}

void read_frequencies(Loader& loader, const YAML::Node& node) {
    if (!node.IsMap()) {
        loader.warn(node, "event_frequencies", concat("expected a mapping, got ", shape_of(node), "; ignored"));
        return;
    }
    // Named groups (normal_traffic, surge_traffic, …): the original only ever read normal_traffic.
    std::optional<YAML::Node> group;
    std::string group_name;
    for (const auto& entry : node) {
        const auto key = key_text(entry.first);
        if (key == "normal_traffic" || group_name.empty()) {
            group.emplace(entry.second);
            group_name = key;
        }
    }
    for (const auto& entry : node) {
        const auto key = key_text(entry.first);
        if (key != group_name) {
            loader.warn(entry.first, concat("event_frequencies.", key),
                        concat("only one group of rates applies (", group_name, "); ignored"));
        }
    }
    if (!group || !group->IsMap()) return;
    std::map<std::string, const core::SourceSpec*, std::less<>> sources;
    for (const auto& source : loader.settings.sources) sources.emplace(source.name, &source);
    for (const auto& source_entry : *group) {
        const auto source_name = key_text(source_entry.first);
        const auto source_path = concat("event_frequencies.", group_name, '.', source_name);
        const auto found = sources.find(source_name);
        if (found == sources.end()) {
            loader.warn(source_entry.first, source_path, "not a source of this file; ignored");
            continue;
        }
        if (!source_entry.second.IsMap()) continue;
        for (const auto& type_entry : source_entry.second) {
            const auto type_name = key_text(type_entry.first);
            const auto type_path = concat(source_path, '.', type_name);
            const auto& types = found->second->event_types;
            if (std::ranges::find(types, type_name, &core::EventTypeSpec::name) == types.end()) {
                loader.warn(type_entry.first, type_path, concat("not an event type of source ", quoted(source_name), "; ignored"));
                continue;
            }
            const auto& value = type_entry.second;
            const auto frequency = value.IsMap() ? value["frequency"] : value;
            loader.guarded(frequency, type_path + (value.IsMap() ? ".frequency" : ""), [&] {
                core::TypeRate rate;
                rate.source = source_name;
                rate.event_type = type_name;
                rate.events_per_s = detail::parse_frequency_eps(text_of(frequency));
                rate.origin = loader.origin(frequency, type_path);
                loader.settings.scenario_spec.type_rates.push_back(std::move(rate));
            });
        }
    }
}

void set_batch_events(Loader& loader, const YAML::Node& node, const std::string& path) {
    loader.guarded(node, path, [&] {
        const auto requested = count_of(node);
        if (requested > bounds::batch_events_max) {
            loader.warn(node, path,
                        concat(requested, " events per request capped to ", bounds::batch_events_max,
                               " (Axiom accepts at most 10,000 events per request): runtime.batch_events = ",
                               bounds::batch_events_max));
            loader.settings.batch_events = bounds::batch_events_max;
        } else {
            loader.settings.batch_events = static_cast<std::uint32_t>(detail::check_range(requested, detail::batch_events_range));
        }
    });
}

void read_upload_config(Loader& loader, const YAML::Node& node) {
    if (!node.IsMap()) {
        loader.warn(node, "upload_config", "expected a mapping; ignored");
        return;
    }
    for (const auto& provider : node) {
        const auto provider_name = key_text(provider.first);
        const auto provider_path = concat("upload_config.", provider_name);
        if (provider_name != "axiom" || !provider.second.IsMap()) {
            loader.warn(provider.first, provider_path, "only upload_config.axiom is read; ignored");
            continue;
        }
        for (const auto& entry : provider.second) {
            const auto key = key_text(entry.first);
            const auto path = concat(provider_path, '.', key);
            const auto& value = entry.second;
            if (key == "batch_size") {
                set_batch_events(loader, value, path);
            } else if (key == "max_concurrent_uploads") {
                // The Python tool needed many uploads in flight to be fast; a
                // shard keeps its connections busy on its own, and each
                // connection costs two batch-sized registered buffers
                // (32 x 10,000-event batches pin about 1 GB per worker).
                loader.warn(entry.first, path,
                            concat(text_of(value), " concurrent uploads: superventd keeps network.connections (default ",
                                   bounds::connections_per_shard_default,
                                   ") per worker busy, each with one request in flight; set that to change it; ignored"));
            } else if (key == "network_interfaces") {
                loader.warn(entry.first, path,
                            "a count of interfaces cannot be used as such: to spread connections over several NICs, "
                            "name their local addresses with --bind ADDR,ADDR or network.bind; ignored");
            } else if (key == "connection_pool_size" || key == "upload_queue_size") {
                loader.warn(entry.first, path,
                            "the daemon sizes its connections (network.connections per worker) and buffers itself; ignored");
            } else if (key == "retry_attempts" || key == "retry_delay") {
                loader.warn(entry.first, path,
                            "a batch the sink did not take is retried with jittered backoff (up to 10 s apart) "
                            "for network.retry_for (--retry-for, default 10 minutes; 0 = for ever) after its first "
                            "failure, and is failed at once only when the sink refuses it for good; ignored");
            } else {
                loader.warn(entry.first, path, "unknown upload setting; ignored");
            }
        }
    }
}

// The performance plan's runtime example: runtime, network, monitoring, generation.
void read_runtime_section(Loader& loader, const std::string& section, const YAML::Node& node) {
    if (!node.IsMap()) {
        loader.warn(node, section, concat("expected a mapping, got ", shape_of(node), "; ignored"));
        return;
    }
    for (const auto& entry : node) {
        const auto key = key_text(entry.first);
        const auto path = concat(section, '.', key);
        const auto& value = entry.second;
        const auto id = concat(section, '.', key);
        loader.guarded(value, path, [&] {
            if (id == "runtime.threads" || id == "runtime.workers") {
                loader.settings.workers = static_cast<std::uint32_t>(detail::check_range(count_of(value), detail::workers_range));
            } else if (id == "runtime.batch_size" || id == "runtime.batch_events") {
                set_batch_events(loader, value, path);
            } else if (id == "runtime.buffer_size") {
                loader.warn(entry.first, path, "buffers are sized per batch (runtime.batch_events); ignored");
            } else if (id == "network.tcp_nodelay") {
                loader.settings.tcp_nodelay = bool_of(value);
            } else if (id == "network.interfaces") {
                loader.warn(entry.first, path,
                            "a count of interfaces cannot be used as such: name the local addresses of the NICs to "
                            "use with --bind ADDR,ADDR or network.bind; ignored");
            } else if (id == "network.jumbo_frames") {
                loader.warn(entry.first, path, "the MTU is the interface's (ip link set DEV mtu 9000); ignored");
            } else if (id == "network.keep_alive") {
                if (!bool_of(value)) loader.warn(entry.first, path, "connections are always kept alive; ignored");
            } else if (id == "monitoring.metrics_port") {
                loader.settings.metrics_listen = detail::check_listen(concat("127.0.0.1:", count_of(value)));
            } else if (id == "monitoring.detailed_stats") {
                loader.warn(entry.first, path, "the metrics endpoint always has every counter; ignored");
            } else if (id == "generation.target_rate") {
                if (const auto eps = value.IsScalar() ? as_double(value.Scalar()) : std::nullopt) {
                    loader.settings.rate_eps = detail::check_rate(*eps);
                } else if (text_of(value) == "unlimited") {
                    loader.settings.rate_eps.reset();
                } else {
                    loader.settings.rate_eps = detail::check_rate(detail::parse_frequency_eps(text_of(value)));
                }
            } else if (id == "generation.distribution") {
                if (detail::parse_spread(text_of(value)) != core::SpreadDistribution::uniform) {
                    loader.warn(entry.first, path,
                                "live events are spread evenly at the rate; gaussian applies to a window's volume "
                                "entries (sources.NAME.volume); ignored");
                }
            } else if (id == "generation.timestamp_spread") {
                (void)detail::parse_duration_ns(text_of(value));
                loader.warn(entry.first, path,
                            "live events carry the time they are made; to spread timestamps over a period, give a "
                            "window (start_time/end_time here, or --start/--end); ignored");
            } else {
                loader.warn(entry.first, path, concat("unknown key of ", section, "; ignored"));
            }
        });
    }
}

}  // namespace

namespace {
Settings load_yaml_text_unguarded(std::string_view text, const std::string& origin, Settings base);
}  // namespace

// A value error that escaped a key's own handler still names the file.
Settings load_yaml_text(std::string_view text, const std::string& origin, Settings base) {
    try {
        return load_yaml_text_unguarded(text, origin, std::move(base));
    } catch (const ValueError& e) {
        throw ConfigError(concat(origin, ": ", e.what()));
    }
}

namespace {
Settings load_yaml_text_unguarded(std::string_view text, const std::string& origin, Settings base) {
    // Before YAML::Load: it shares an anchored node among its aliases, and the walk
    // below expands each, so the nodes are counted as the walk would see them.
    detail::check_yaml_bounds(text, origin);
    YAML::Node document;
    try {
        document = YAML::Load(std::string(text));
    } catch (const YAML::ParserException& e) {
        // yaml-cpp quotes the offending byte as it is ("unknown escape character: \xff").
        throw ConfigError(concat(origin, ':', e.mark.line + 1, ':', e.mark.column + 1, ": YAML syntax error: ",
                                 detail::printable(e.msg)));
    } catch (const YAML::Exception& e) {
        throw ConfigError(concat(origin, ": cannot read YAML: ", detail::printable(e.what())));
    }
    Loader loader{origin, std::move(base), {}};
    if (!document.IsMap()) {
        throw ConfigError(concat(origin, ": expected a scenario (a mapping with start_time, end_time, sources …), got ",
                                 shape_of(document)));
    }
    // A file's sources and scenario replace those of an earlier layer.
    loader.settings.sources.clear();
    loader.settings.scenario_spec = {};
    FileContext context;
    context.acceptable_values = read_fallbacks(loader, document["acceptable_values"], "acceptable_values");
    // Optional, not YAML::Node: assigning to a bound node rebinds the node it refers to.
    std::optional<YAML::Node> start, end, sources, dependencies, frequencies;
    try {
        for (const auto& entry : document) {
            const auto key = key_text(entry.first);
            const auto& value = entry.second;
            // An empty key (`event_frequencies:` with nothing under it) is as good as none.
            if (value.IsNull()) continue;
            if (key == "start_time") start.emplace(value);
            else if (key == "end_time") end.emplace(value);
            else if (key == "sources") sources.emplace(value);
            else if (key == "dependencies") dependencies.emplace(value);
            else if (key == "event_frequencies") frequencies.emplace(value);
            else if (key == "acceptable_values") continue;
            else if (key == "response_time") {
                context.response_time.emplace(value);
                context.response_time_path = "response_time";
            } else if (key == "upload_config") read_upload_config(loader, value);
            else if (key == "runtime" || key == "network" || key == "monitoring" || key == "generation") {
                read_runtime_section(loader, key, value);
            } else if (key == "timezone") {
                loader.guarded(value, key, [&] { loader.settings.scenario_spec.timezone = text_of(value); });
            } else if (key == "dataset") {
                loader.guarded(value, key, [&] { loader.settings.dataset = detail::check_dataset(text_of(value)); });
            } else {
                loader.warn(entry.first, key, "unknown top-level key; ignored");
            }
        }
        if (start || end) {
            if (!start || !end) {
                loader.error(start ? *start : *end, start ? "start_time" : "end_time", "start_time and end_time go together");
            } else {
                loader.guarded(*start, "start_time", [&] { loader.settings.window_start_ns = detail::parse_rfc3339_ns(text_of(*start)); });
                loader.guarded(*end, "end_time", [&] { loader.settings.window_end_ns = detail::parse_rfc3339_ns(text_of(*end)); });
                if (loader.settings.window_start_ns && loader.settings.window_end_ns &&
                    *loader.settings.window_start_ns >= *loader.settings.window_end_ns) {
                    loader.error(*end, "end_time", "end_time must be after start_time");
                }
            }
        }
        if (sources) read_sources(loader, context, *sources);
        if (dependencies) read_dependencies(loader, *dependencies);
        if (frequencies) read_frequencies(loader, *frequencies);
        if (context.response_time && !context.response_time_used) {
            loader.warn(*context.response_time, "response_time",
                        "accepted, but no template uses {response_time} without an attribute of its own, so it has no effect");
        }
    } catch (const YAML::Exception& e) {
        // A shape the walk did not expect; never a crash.
        loader.errors.emplace_back(e.mark.is_null() ? 0 : e.mark.line + 1,
                                   concat(origin, ':', e.mark.is_null() ? 0 : e.mark.line + 1, ": ", detail::printable(e.msg)));
    }
    if (loader.errors.empty()) {
        for (auto& error : detail::check_scenario(loader.settings)) loader.errors.push_back(std::move(error));
    }
    if (loader.errors.empty()) {
        for (const auto& spec : loader.settings.sources) {
            try {
                (void)core::compile_source(spec, core::OutputFormat::ndjson);
            } catch (const core::SchemaError& e) {
                loader.errors.emplace_back(e.origin().line, e.what());
            } catch (const std::invalid_argument& e) {
                // Not located by the compiler: text that is not UTF-8, say, which YAML (unlike TOML) lets
                // through. Found by fuzz_yaml; it escaped as a bare std::invalid_argument.
                loader.errors.emplace_back(spec.origin.line, concat(origin, ':', spec.origin.line, ": sources.",
                                                                    spec.name, ": ", e.what()));
            }
        }
    }
    if (!loader.errors.empty()) {
        std::ranges::stable_sort(loader.errors, {}, [](const auto& e) { return e.first; });
        std::string message;
        for (const auto& [line, text_of_error] : loader.errors) {
            if (message.find(text_of_error) != std::string::npos) continue;
            message += message.empty() ? "" : "\n";
            message += text_of_error;
        }
        throw ConfigError(message);
    }
    return std::move(loader.settings);
}

}  // namespace

Settings load_yaml_file(const std::string& path, Settings base) {
    auto settings = load_yaml_text(detail::read_config_text(path), path, std::move(base));
    settings.config_path = path;
    return settings;
}

bool is_yaml_path(std::string_view path) {
    const auto extension = lower(path.substr(path.rfind('.') == std::string_view::npos ? path.size() : path.rfind('.')));
    return extension == ".yaml" || extension == ".yml";
}

Settings load_config_file(const std::string& path, Settings base) {
    return is_yaml_path(path) ? load_yaml_file(path, std::move(base)) : load_toml_file(path, std::move(base));
}

}  // namespace supervent::config
