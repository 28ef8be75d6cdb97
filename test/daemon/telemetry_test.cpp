// The stat table is the one place a counter is named: every row must reach
// status, /metrics and the summary as its columns say, with the shards'
// values summed. These tests read the producers directly, row by row, so a
// row added to daemon/stat_table.hpp is checked without editing this file.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include <simdjson.h>

#include "daemon/telemetry.hpp"
#include "daemon/text_format.hpp"

using supervent::daemon::JsonWriter;
using supervent::daemon::PrometheusText;
using supervent::daemon::ShardStats;
using supervent::daemon::Stat;
using supervent::daemon::StatExposure;
using supervent::daemon::StatGroup;
using supervent::daemon::stat_table;
using supervent::daemon::Totals;

namespace {

// Two shards whose every counter has a distinct value: row k of shard s holds
// 1000 * (k + 1) + s, so a sum or a series can only come from the right row.
std::unique_ptr<ShardStats[]> numbered_stats() {
    auto stats = std::make_unique<ShardStats[]>(2);
    for (std::uint32_t s = 0; s < 2; ++s) {
        for (std::size_t k = 0; k < stat_table.size(); ++k) stats[s].counters[k].set(1000 * (k + 1) + s);
    }
    stats[0].events_failed_by_reason[static_cast<int>(supervent::net::FailReason::timeout)].set(7);
    stats[1].events_failed_by_reason[static_cast<int>(supervent::net::FailReason::partial)].set(5);
    return stats;
}

std::uint64_t expected_total(std::size_t row) { return 2 * 1000 * (row + 1) + 1; }

std::string sample_line(std::string_view family, const std::string& labels, std::uint64_t value) {
    return std::string(family) + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(value) + "\n";
}

}  // namespace

TEST_CASE("sum_stats adds every row of every shard, and failed events by reason") {
    const auto stats = numbered_stats();
    const Totals total = supervent::daemon::sum_stats(stats.get(), 2);
    for (std::size_t k = 0; k < stat_table.size(); ++k) {
        INFO(stat_table[k].key);
        CHECK(total.values[k] == expected_total(k));
    }
    CHECK(total.events_failed == 12);
    CHECK(total.events_rejected() == 5);
    CHECK(total.events_dropped() == 7);
}

TEST_CASE("every row of a status group is a key of status with the total as its value") {
    const auto stats = numbered_stats();
    const Totals total = supervent::daemon::sum_stats(stats.get(), 2);
    for (StatGroup group : {StatGroup::run, StatGroup::tls, StatGroup::progress}) {
        JsonWriter json;
        json.begin_object();
        supervent::daemon::write_stat_fields(json, total, group);
        json.end_object();
        simdjson::dom::parser parser;
        simdjson::dom::element document = parser.parse(json.text());
        for (std::size_t k = 0; k < stat_table.size(); ++k) {
            if (stat_table[k].group != group) continue;
            std::string key(stat_table[k].key);
            if (group == StatGroup::tls && key.starts_with("tls_")) key = key.substr(4);
            INFO(json.text() << " key " << key);
            std::uint64_t value = 0;
            REQUIRE(document[key].get_uint64().get(value) == simdjson::SUCCESS);
            CHECK(value == expected_total(k));
        }
    }
}

TEST_CASE("every exported row is a Prometheus family with one HELP and TYPE, per shard or in total") {
    const auto stats = numbered_stats();
    const Totals total = supervent::daemon::sum_stats(stats.get(), 2);
    PrometheusText out;
    out.stat_families(stats.get(), 2, total, true);
    const std::string text = out.take();
    for (std::size_t k = 0; k < stat_table.size(); ++k) {
        const auto& spec = stat_table[k];
        INFO(spec.key << "\n" << text);
        if (spec.exposure == StatExposure::none) {
            CHECK(text.find(std::string(spec.key)) == std::string::npos);
            continue;
        }
        const std::string family(spec.family());
        const std::string help = "# HELP " + family + " ";
        CHECK(text.find(help) != std::string::npos);
        CHECK(text.find(help, text.find(help) + 1) == std::string::npos);  // once per family
        if (spec.exposure == StatExposure::total) {
            CHECK(text.find(sample_line(family, std::string(spec.labels()), expected_total(k))) != std::string::npos);
        } else {
            for (std::uint64_t s = 0; s < 2; ++s) {
                const std::string labels = "shard=\"" + std::to_string(s) + "\"";
                CHECK(text.find(sample_line(family, labels, 1000 * (k + 1) + s)) != std::string::npos);
            }
        }
    }
}

TEST_CASE("the tls group is exported only for HTTPS sinks") {
    const auto stats = numbered_stats();
    const Totals total = supervent::daemon::sum_stats(stats.get(), 2);
    PrometheusText plain;
    plain.stat_families(stats.get(), 2, total, false);
    const std::string text = plain.take();
    CHECK(text.find("supervent_tls_handshakes_total") == std::string::npos);
    CHECK(text.find("supervent_events_generated_total") != std::string::npos);
}

TEST_CASE("the summary's counters line names every row that has summary words, with its total") {
    const auto stats = numbered_stats();
    const Totals total = supervent::daemon::sum_stats(stats.get(), 2);
    const std::string line = supervent::daemon::summary_counters(total);
    int named = 0;
    for (std::size_t k = 0; k < stat_table.size(); ++k) {
        if (stat_table[k].summary == nullptr) continue;
        ++named;
        INFO(line);
        CHECK(line.find(supervent::daemon::with_commas(expected_total(k)) + " " + stat_table[k].summary) != std::string::npos);
    }
    CHECK(named >= 5);  // requests sent/acknowledged/retried/given up, bytes sent at least
}

TEST_CASE("with_commas groups digits by three as the summary and progress and supervent-ctl print them") {
    using supervent::daemon::with_commas;
    CHECK(with_commas(0) == "0");
    CHECK(with_commas(999) == "999");
    CHECK(with_commas(1000) == "1,000");
    CHECK(with_commas(123456) == "123,456");
    CHECK(with_commas(1234567) == "1,234,567");
    CHECK(with_commas(UINT64_MAX) == "18,446,744,073,709,551,615");
}

TEST_CASE("each shard's CPU time is exported in seconds per shard") {
    auto stats = std::make_unique<ShardStats[]>(2);
    stats[0][Stat::cpu_ns].set(1'500'000'000);
    stats[1][Stat::cpu_ns].set(250'000'000);
    PrometheusText out;
    out.shard_cpu(stats.get(), 2);
    const std::string text = out.take();
    CHECK(text.find("# TYPE supervent_shard_cpu_seconds_total counter\n") != std::string::npos);
    CHECK(text.find("supervent_shard_cpu_seconds_total{shard=\"0\"} 1.5\n") != std::string::npos);
    CHECK(text.find("supervent_shard_cpu_seconds_total{shard=\"1\"} 0.25\n") != std::string::npos);
}
