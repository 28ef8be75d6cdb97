#pragma once
// Planning for postgresql:// sinks: settings + the compiled scenario ->
// the transport's config. Pure, like the rest of planning (planning.hpp).
#include "config/settings.hpp"
#include "core/scenario_engine.hpp"
#include "net/postgres_transport.hpp"

namespace supervent::daemon {

// One table per source, as HTTP sinks have one dataset per source: a source
// whose dataset is the run's default (sink.dataset) goes to the URL's
// table=NAME (or, without one, the table named as the dataset); a source
// with a dataset of its own goes to the table of that name. Throws
// std::invalid_argument for a table name PostgreSQL would not take
// unquoted-safe, a body format other than NDJSON, or compression.
[[nodiscard]] net::PostgresTransportConfig plan_postgres(const config::Settings& settings,
                                                         const core::CompiledScenario& scenario);

}  // namespace supervent::daemon
