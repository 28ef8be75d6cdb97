#pragma once
// What the control thread makes of the shards' stats: totals, the counters of
// `status`, the Prometheus text and the summary's counters, all from the one
// table in daemon/stat_table.hpp, so they cannot disagree. Control path only.
#include <cstdint>
#include <string>

#include "daemon/json_writer.hpp"
#include "daemon/shard_state.hpp"
#include "daemon/stat_table.hpp"
#include "net/slot.hpp"

namespace supervent::daemon {

// Totals over all shards at one moment.
struct Totals {
    std::uint64_t values[stat_count] = {};
    std::uint64_t events_failed = 0;
    std::uint64_t events_failed_by_reason[static_cast<int>(net::FailReason::count_)] = {};
    int ktls_unavailable_errno = 0;  // any shard's

    [[nodiscard]] std::uint64_t operator[](Stat id) const { return values[static_cast<std::size_t>(id)]; }
    [[nodiscard]] std::uint64_t events_in_flight() const {
        return (*this)[Stat::events_generated] - (*this)[Stat::events_acked] - events_failed;
    }
    // The failed events split by who decided: the sink reported them failed
    // in a 2xx reply (reason partial: "failed" in Axiom's terms), or
    // supervent gave up on them (every other reason: dropped). So
    // generated = acked + rejected + dropped + in flight, at every moment.
    [[nodiscard]] std::uint64_t events_rejected() const {
        return events_failed_by_reason[static_cast<int>(net::FailReason::partial)];
    }
    [[nodiscard]] std::uint64_t events_dropped() const { return events_failed - events_rejected(); }
};

// Sums every shard's stats; reads generated last, so in flight is never negative.
[[nodiscard]] Totals sum_stats(const ShardStats* stats, std::uint32_t shard_count);

// Writes one field per table row of `group` (its status key, its total).
void write_stat_fields(JsonWriter& json, const Totals& total, StatGroup group);

// The events failed by reason as a JSON object (reasons with none left out);
// dropped_only leaves out `partial`, which the sink decided.
void write_failed_by_reason(JsonWriter& json, const Totals& total, bool dropped_only);

// Kernel TLS as an operator should read it: on, or why not.
[[nodiscard]] std::string describe_kernel_tls(const Totals& total);

// Prometheus text exposition format 0.0.4, written family by family.
class PrometheusText {
public:
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, std::string_view labels, double value);
    // Every exported row of the stat table; `https` adds the tls group.
    void stat_families(const ShardStats* stats, std::uint32_t shard_count, const Totals& total, bool https);
    void latency_histogram(const ShardStats* stats, std::uint32_t shard_count);
    void failed_by_reason(const Totals& total);
    // supervent_shard_cpu_seconds_total{shard}: each shard thread's CPU time.
    void shard_cpu(const ShardStats* stats, std::uint32_t shard_count);
    [[nodiscard]] std::string take() { return std::move(text_); }

private:
    std::string text_;
};

// The summary's counters line: every row with a summary label, in table order.
[[nodiscard]] std::string summary_counters(const Totals& total);

}  // namespace supervent::daemon
