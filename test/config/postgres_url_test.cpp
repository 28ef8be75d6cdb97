// postgresql:// sink URLs: what reaches libpq, and every refusal naming its cause.
#include <catch2/catch.hpp>

#include "config/load.hpp"
#include "config/postgres_url.hpp"

using supervent::config::ConfigError;
using supervent::config::parse_postgres_url;
using supervent::config::parse_sink_url;
using supervent::config::postgres_table_name_problem;
using supervent::config::SinkUrl;
using Catch::Matchers::Contains;

TEST_CASE("postgres url: postgresql URL with user host port database and table", "[postgres_url]") {
    const auto url = parse_postgres_url("postgresql://loader@db.example.com:6543/logs?table=events");
    CHECK(url.user == "loader");
    CHECK(url.host == "db.example.com");
    CHECK(url.port == 6543);
    CHECK(url.database == "logs");
    CHECK(url.table == "events");
    CHECK(url.binary_copy);
    CHECK_FALSE(parse_postgres_url("postgresql://h/db?copy=text").binary_copy);
    // table= is ours, not libpq's; encryption is off (the transport needs the plain socket).
    CHECK(url.conninfo == "postgresql://loader@db.example.com:6543/logs?sslmode=disable&gssencmode=disable");
}

TEST_CASE("postgres url: postgresql URL keeps libpq parameters and defaults the port", "[postgres_url]") {
    const auto url = parse_postgres_url("postgres://me@/db?host=/tmp/pg&passfile=/etc/pass&table=s.t&sslmode=disable");
    CHECK(url.port == 5432);
    CHECK(url.host == "/tmp/pg");
    CHECK(url.table == "s.t");
    CHECK(url.conninfo == "postgres://me@/db?host=/tmp/pg&passfile=/etc/pass&sslmode=disable&gssencmode=disable");
    CHECK(parse_postgres_url("postgresql://[::1]:7000/db").host == "::1");
    CHECK(parse_postgres_url("postgresql://h/d%62").database == "db");
}

TEST_CASE("postgres url: postgresql sink URL through parse_sink_url", "[postgres_url]") {
    const auto url = parse_sink_url("PostgreSQL://u@127.0.0.1:5433/d?table=t");
    CHECK(url.kind == SinkUrl::Kind::postgresql);
    CHECK(url.host == "127.0.0.1");
    CHECK(url.port == 5433);
    CHECK(url.text == "PostgreSQL://u@127.0.0.1:5433/d?table=t");
}

TEST_CASE("postgres url: postgresql URL refusals name the problem", "[postgres_url]") {
    auto refused = [](const char* text, const char* why) {
        INFO(text);
        CHECK_THROWS_WITH(parse_sink_url(text), Contains(why));
    };
    refused("postgresql://u:secret@h/db", "must not carry a password");
    refused("postgresql://u@h/db?password=secret", "must not carry a password");
    refused("postgresql://u@h", "names no database");
    refused("postgresql://u@h/", "names no database");
    refused("postgresql://u@h:99999/db", "from 1 to 65535");
    refused("postgresql://u@h:x/db", "from 1 to 65535");
    refused("postgresql://u@h/db?table=bad%22name", "table");
    refused("postgresql://u@h/db?table=1abc", "must start with a letter");
    refused("postgresql://u@h/db?table=a.b.c", "one '.'");
    refused("postgresql://u@h/db?table=", "is empty");
    refused("postgresql://u@h/db?colour=red", "unknown parameter 'colour'");
    refused("postgresql://u@h/db?sslmode=require", "sslmode=disable");
    refused("postgresql://u@h1,h2/db", "several hosts");
    refused("postgresql://u@h/db#frag", "fragment");
    refused("postgresql://u@h/db?dbname=x", "dbname");
    refused("postgresql://u@h/db?copy=csv", "must be binary or text");
    refused("postgresql://u@h/db?columns=wide", "must be typed or jsonb");
    refused("postgresql://u@h/db?unlogged=yes", "must be true or false");
    refused("postgresql://u@h/db?columns=typed&copy=text", "typed columns are written in binary COPY");
}

TEST_CASE("postgres url: columns and unlogged are supervent's own", "[postgres_url]") {
    const auto url = parse_postgres_url("postgresql://u@h/db?table=t&columns=typed&unlogged=true");
    CHECK(url.typed_columns);
    CHECK(url.unlogged);
    CHECK(url.conninfo == "postgresql://u@h/db?sslmode=disable&gssencmode=disable");
    const auto plain = parse_postgres_url("postgresql://u@h/db?columns=jsonb&unlogged=false");
    CHECK_FALSE(plain.typed_columns);
    CHECK_FALSE(plain.unlogged);
}

TEST_CASE("postgres url: a password never appears in the refusal", "[postgres_url]") {
    try {
        (void)parse_sink_url("postgresql://u:hunter2@h/db");
        FAIL("accepted a password");
    } catch (const ConfigError& error) {
        CHECK_THAT(error.what(), !Contains("hunter2"));
    }
}

TEST_CASE("postgres url: table names", "[postgres_url]") {
    CHECK(postgres_table_name_problem("events").empty());
    CHECK(postgres_table_name_problem("_x-1").empty());
    CHECK(postgres_table_name_problem("public.events").empty());
    CHECK_FALSE(postgres_table_name_problem(std::string(64, 'a')).empty());
    CHECK(postgres_table_name_problem(std::string(63, 'a')).empty());
    CHECK_FALSE(postgres_table_name_problem("a b").empty());
    CHECK_FALSE(postgres_table_name_problem(".t").empty());
}
