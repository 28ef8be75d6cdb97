#pragma once
// Planning for postgresql:// sinks: settings + the compiled scenario ->
// the transport's config. Pure, like the rest of planning (planning.hpp).
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "core/scenario_engine.hpp"
#include "core/schema.hpp"
#include "net/postgres_transport.hpp"

namespace supervent::daemon {

// One table per source, as HTTP sinks have one dataset per source: a source
// whose dataset is the run's default (sink.dataset) goes to the URL's
// table=NAME (or, without one, the table named as the dataset); a source
// with a dataset of its own goes to the table of that name. With
// columns=typed each table has a column per field of its source's schema
// (postgres_typed_columns); two sources may share a table only when their
// columns are the same. Throws std::invalid_argument for a table name
// PostgreSQL would not take unquoted-safe, a body format other than NDJSON,
// compression, or typed columns that cannot be made. `notes` (may be null)
// gets a line per typed table: its name and columns (--check-config shows them).
[[nodiscard]] net::PostgresTransportConfig plan_postgres(const config::Settings& settings,
                                                         const core::CompiledScenario& scenario,
                                                         std::vector<std::string>* notes = nullptr);

// columns=typed: the field columns of a source, in the order its fields are
// declared, then request_id (uuid) when the source does not declare one, then
// the trace context fields when it has them. A field "http.method" is the
// column "http_method". Types: integer and sequence -> bigint; floating ->
// double precision; choice and constant -> bigint, double precision or
// boolean when every value is one, else text; ipv4, ipv6 -> inet; uuid4 ->
// uuid; timestamp -> timestamptz (rfc3339 formats), bigint (epoch formats)
// or text; geo lat and lon -> double precision; the rest text. Throws
// std::invalid_argument naming a field whose column would clash or be no
// plain name.
[[nodiscard]] std::vector<net::TypedColumn> postgres_typed_columns(const core::SourceSpec& source);

// A reload (supervent-ctl reload) with columns=typed: every source of the new
// scenario must have the columns its table was checked for at start-up.
// Throws std::runtime_error naming the source and table otherwise.
void check_postgres_reload(const config::Settings& next, const core::CompiledScenario& after,
                           const std::vector<std::uint16_t>& routes, const net::PostgresTransportConfig& running);

}  // namespace supervent::daemon
