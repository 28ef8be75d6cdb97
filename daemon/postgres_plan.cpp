#include "daemon/postgres_plan.hpp"

#include <algorithm>
#include <stdexcept>

#include "config/postgres_url.hpp"
#include "core/scenarios.hpp"
#include "core/trace_context.hpp"

namespace supervent::daemon {

namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;
constexpr std::size_t identifier_bytes_max = 63;  // PostgreSQL's NAMEDATALEN - 1

std::string table_of(const config::Settings& settings, const config::PostgresUrl& url, const std::string& dataset) {
    const std::string name = dataset == settings.dataset && !url.table.empty() ? url.table : dataset;
    if (const std::string why = config::postgres_table_name_problem(name); !why.empty()) {
        throw std::invalid_argument("postgresql sink: the table for dataset '" + dataset + "' would be '" + name +
                                    "', which " + why + "; give table=NAME in the URL or another dataset name");
    }
    return net::postgres_quoted_table(name);
}

// choice and constant: the type every value has, or text.
net::PgType type_of_values(const std::vector<core::SchemaValue>& values) {
    using Type = core::SchemaValue::Type;
    if (values.empty()) return net::PgType::text;
    auto all = [&](auto pred) { return std::ranges::all_of(values, pred); };
    if (all([](const core::SchemaValue& v) { return v.type == Type::integer; })) return net::PgType::bigint;
    if (all([](const core::SchemaValue& v) { return v.type == Type::integer || v.type == Type::floating; })) {
        return net::PgType::float8;
    }
    if (all([](const core::SchemaValue& v) { return v.type == Type::boolean; })) return net::PgType::boolean;
    return net::PgType::text;
}

net::PgType type_of(const core::FieldSpec& field) {
    using Kind = core::FieldKind;
    switch (field.kind) {
        case Kind::integer:
        case Kind::sequence: return net::PgType::bigint;
        case Kind::floating: return net::PgType::float8;
        case Kind::choice: return type_of_values(field.values);
        case Kind::constant: return type_of_values({field.values.begin(), field.values.begin() + (field.values.empty() ? 0 : 1)});
        case Kind::ipv4:
        case Kind::ipv6: return net::PgType::inet;
        case Kind::uuid4: return net::PgType::uuid;
        case Kind::timestamp:
            if (field.format.starts_with("rfc3339")) return net::PgType::timestamptz;
            if (field.format.starts_with("epoch_")) return net::PgType::bigint;
            return net::PgType::text;
        case Kind::geo: return field.part == "lat" || field.part == "lon" ? net::PgType::float8 : net::PgType::text;
        default: return net::PgType::text;
    }
}

void add_column(std::vector<net::TypedColumn>& columns, const core::SourceSpec& source, const std::string& path,
                net::PgType type) {
    std::string name = path;
    std::ranges::replace(name, '.', '_');
    const auto problem = [&](const std::string& why) {
        return std::invalid_argument("postgresql sink, columns=typed: source '" + source.name + "' field '" + path +
                                     "' would be the column \"" + name + "\", which " + why);
    };
    if (name.size() > identifier_bytes_max) throw problem("is longer than 63 bytes");
    const bool plain = std::ranges::all_of(name, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    if (!plain) throw problem("may hold only letters, digits, '_' and '-'");
    for (const char* fixed : {"_time", "source", "event_type", "message"}) {
        if (name == fixed) throw problem("is one of the four fixed columns; rename the field");
    }
    const auto same = std::ranges::find(columns, name, &net::TypedColumn::name);
    if (same != columns.end()) throw problem("is also the column of field '" + same->path + "'; rename one of them");
    columns.push_back({name, path, type});
}

// The schemas behind the compiled sources, by index: [sources] in the
// config, or the built-in web_access written out.
std::vector<core::SourceSpec> schemas_of(const config::Settings& settings, const core::CompiledScenario& scenario) {
    std::vector<core::SourceSpec> specs = settings.sources;
    if (specs.empty() && settings.scenario == "web_access") specs.push_back(core::web_access_spec());
    if (specs.size() != scenario.sources.size()) {
        throw std::invalid_argument("postgresql sink, columns=typed: the scenario '" + settings.scenario +
                                    "' has no schema written out to take columns from; use web_access or [sources]");
    }
    return specs;
}

std::string describe(const std::string& table, const std::vector<net::TypedColumn>& columns, bool unlogged) {
    std::string text = std::string("postgresql sink: ") + (unlogged ? "unlogged " : "") + "table " + table +
                       " (columns=typed): _time timestamptz, source text, event_type text, message text";
    for (const net::TypedColumn& column : columns) text += ", " + column.name + " " + std::string(net::pg_type_name(column.type));
    return text;
}

void plan_typed(const config::Settings& settings, const core::CompiledScenario& scenario,
                net::PostgresTransportConfig& postgres, std::vector<std::string>* notes) {
    const std::vector<core::SourceSpec> specs = schemas_of(settings, scenario);
    for (std::size_t i = 0; i < specs.size(); ++i) {
        std::vector<net::TypedColumn> columns = postgres_typed_columns(specs[i]);
        for (std::size_t j = 0; j < i; ++j) {
            if (postgres.tables[j] == postgres.tables[i] && postgres.typed_columns[j] != columns) {
                throw std::invalid_argument("postgresql sink, columns=typed: sources '" + specs[j].name + "' and '" +
                                            specs[i].name + "' both go to table " + postgres.tables[i] +
                                            " but their fields differ; give each its own dataset (one table per dataset)");
            }
        }
        if (notes != nullptr && std::find(postgres.tables.begin(), postgres.tables.begin() + static_cast<std::ptrdiff_t>(i),
                                          postgres.tables[i]) == postgres.tables.begin() + static_cast<std::ptrdiff_t>(i)) {
            notes->push_back(describe(postgres.tables[i], columns, postgres.unlogged));
        }
        postgres.typed_columns.push_back(std::move(columns));
        postgres.flat.push_back(specs[i].layout == core::AttributeLayout::flat ? 1 : 0);
    }
}

}  // namespace

std::vector<net::TypedColumn> postgres_typed_columns(const core::SourceSpec& source) {
    std::vector<net::TypedColumn> columns;
    bool request_id = false;
    for (const core::FieldSpec& field : source.fields) {
        add_column(columns, source, field.name, type_of(field));
        request_id |= field.name == core::builtin_request_id_field;
    }
    if (!request_id) add_column(columns, source, std::string(core::builtin_request_id_field), net::PgType::uuid);
    if (source.trace_context) {
        for (const std::string_view name : core::trace_field_names) {
            if (name == core::traceparent_field && !source.traceparent) continue;
            add_column(columns, source, std::string(name),
                       name == core::duration_ms_field ? net::PgType::float8 : net::PgType::text);
        }
    }
    if (columns.size() > net::typed_columns_max) {
        throw std::invalid_argument("postgresql sink, columns=typed: source '" + source.name + "' has " +
                                    std::to_string(columns.size()) + " fields, more than the 256 columns typed rows take");
    }
    return columns;
}

void check_postgres_reload(const config::Settings& next, const core::CompiledScenario& after,
                           const std::vector<std::uint16_t>& routes, const net::PostgresTransportConfig& running) {
    if (running.typed_columns.empty()) return;
    const std::vector<core::SourceSpec> specs = schemas_of(next, after);
    for (std::size_t i = 0; i < specs.size() && i < routes.size(); ++i) {
        const std::size_t route = routes[i];
        if (route < running.typed_columns.size() && postgres_typed_columns(specs[i]) == running.typed_columns[route]) continue;
        throw std::runtime_error("source '" + specs[i].name + "' would have other fields than the columns=typed table " +
                                 (route < running.tables.size() ? running.tables[route] : std::string("?")) +
                                 " was checked for at start-up; restart superventd to change its columns");
    }
}

net::PostgresTransportConfig plan_postgres(const config::Settings& settings, const core::CompiledScenario& scenario,
                                           std::vector<std::string>* notes) {
    if (settings.format != config::SinkFormat::ndjson) {
        throw std::invalid_argument("postgresql sinks take the events as rows made from NDJSON; "
                                    "leave sink.format (--format) at ndjson for " + settings.sink.text);
    }
    if (settings.compression.zstd) {
        throw std::invalid_argument("postgresql sinks are not compressed (COPY takes plain rows); "
                                    "set sink.compression (--compression) to none for " + settings.sink.text);
    }
    const config::PostgresUrl url = config::parse_postgres_url(settings.sink.text);
    net::PostgresTransportConfig postgres;
    postgres.conninfo = url.conninfo;
    postgres.format = url.binary_copy ? net::CopyFormat::binary : net::CopyFormat::text;
    postgres.unlogged = url.unlogged;
    postgres.tables.reserve(scenario.sources.size());
    for (const auto& source : scenario.sources) postgres.tables.push_back(table_of(settings, url, source.dataset));
    if (url.typed_columns) plan_typed(settings, scenario, postgres, notes);
    postgres.connections = settings.connections;
    postgres.connect_timeout_ns = static_cast<std::int64_t>(settings.connect_timeout_s * ns_per_s);
    postgres.request_timeout_ns = static_cast<std::int64_t>(settings.request_timeout_s * ns_per_s);
    return postgres;
}

}  // namespace supervent::daemon
