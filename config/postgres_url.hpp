#pragma once
// postgresql:// sink URLs (issue 20): a libpq connection URI plus supervent's
// own parameters, checked when the config is loaded so that --check-config
// names what is wrong (a password in the URL, no database, a bad table name)
// before a shard ever connects.
//
//   postgresql://USER@HOST[:PORT]/DB?table=NAME[&LIBPQ_PARAM=VALUE...]
//
// The password never appears in the URL (it would reach logs and status):
// libpq reads it from PGPASSFILE, ~/.pgpass or the passfile= parameter.
#include <cstdint>
#include <string>
#include <string_view>

namespace supervent::config {

struct PostgresUrl {
    std::string conninfo;  // for PQconnectStart: the URI without supervent's own parameters
    std::string user;      // "" = libpq's default (the OS user, PGUSER)
    std::string host;      // "" = libpq's default (a unix socket, PGHOST, or host= in the query)
    std::uint16_t port = 5432;
    std::string database;
    std::string table;     // table=NAME; "" = the dataset's name
    bool binary_copy = true;  // copy=binary (default) or copy=text: the COPY format on the wire
    bool typed_columns = false;  // columns=typed: a column per schema field; columns=jsonb (default): attributes jsonb
    bool unlogged = false;       // unlogged=true: tables made as UNLOGGED (no WAL; emptied by a crash)
};

// Throws std::invalid_argument with the reason ("postgresql sink URL ...").
[[nodiscard]] PostgresUrl parse_postgres_url(std::string_view text);

// Whether `text` starts with postgresql:// or postgres:// (any case).
[[nodiscard]] bool is_postgres_url(std::string_view text);

// "" when `name` may name a table ([SCHEMA.]NAME, each part 1 to 63 letters,
// digits, '_' or '-', not starting with a digit or '-'); else why not.
[[nodiscard]] std::string postgres_table_name_problem(std::string_view name);

}  // namespace supervent::config
