#include "daemon/postgres_plan.hpp"

#include <stdexcept>

#include "config/postgres_url.hpp"

namespace supervent::daemon {

namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;

std::string table_of(const config::Settings& settings, const config::PostgresUrl& url, const std::string& dataset) {
    const std::string name = dataset == settings.dataset && !url.table.empty() ? url.table : dataset;
    if (const std::string why = config::postgres_table_name_problem(name); !why.empty()) {
        throw std::invalid_argument("postgresql sink: the table for dataset '" + dataset + "' would be '" + name +
                                    "', which " + why + "; give table=NAME in the URL or another dataset name");
    }
    return net::postgres_quoted_table(name);
}

}  // namespace

net::PostgresTransportConfig plan_postgres(const config::Settings& settings, const core::CompiledScenario& scenario) {
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
    postgres.tables.reserve(scenario.sources.size());
    for (const auto& source : scenario.sources) postgres.tables.push_back(table_of(settings, url, source.dataset));
    postgres.connections = settings.connections;
    postgres.connect_timeout_ns = static_cast<std::int64_t>(settings.connect_timeout_s * ns_per_s);
    postgres.request_timeout_ns = static_cast<std::int64_t>(settings.request_timeout_s * ns_per_s);
    return postgres;
}

}  // namespace supervent::daemon
