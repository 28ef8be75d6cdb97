#include "net/pipeline_depth.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/bounds.hpp"

namespace supervent::net {

PipelineSlots fit_pipeline_slots(std::uint32_t planned_slots, std::uint32_t connections, std::size_t slot_bytes,
                                 std::size_t budget_bytes) {
    assert(connections >= 1 && slot_bytes > 0);
    const std::uint32_t floor = connections * bounds::slots_per_connection;
    const std::size_t affordable = budget_bytes / slot_bytes;
    std::uint32_t slots = planned_slots;
    if (slots > floor && affordable < slots) slots = static_cast<std::uint32_t>(std::max<std::size_t>(floor, affordable));
    // Each connection holds its depth in flight with one slot behind them (2 of 2 up to depth 2).
    const std::uint32_t per_connection = slots / connections;
    const std::uint32_t depth_max = per_connection <= bounds::slots_per_connection ? per_connection : per_connection - 1;
    return {slots, depth_max};
}

namespace {

// Whether the effective capabilities hold CAP_IPC_LOCK (bit 14 of CapEff in
// /proc/self/status), which exempts io_uring's buffers from the memlock limit.
bool has_ipc_lock() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("CapEff:", 0) != 0) continue;
        const std::uint64_t caps = std::strtoull(line.c_str() + 7, nullptr, 16);
        return (caps >> 14) & 1U;
    }
    return false;
}

}  // namespace

std::optional<std::size_t> memlock_budget_bytes(std::uint32_t shards) {
    rlimit limit{};
    if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY || has_ipc_lock()) return std::nullopt;
    return static_cast<std::size_t>(limit.rlim_cur) / 4 * 3 / std::max<std::uint32_t>(shards, 1);
}

PipelineDepth::PipelineDepth(std::uint32_t start, std::uint32_t depth_max, std::uint32_t connections)
    : start_(std::min(start, depth_max)),
      depth_max_(depth_max),
      connections_(connections),
      depth_(std::min(start, depth_max)) {
    assert(depth_max >= 1 && connections >= 1);
}

void PipelineDepth::on_answer(std::int64_t started_ns, std::int64_t now_ns) {
    const std::int64_t latency_ns = std::max<std::int64_t>(now_ns - started_ns, 1);
    if (window_start_ns_ < 0 || now_ns - window_start_ns_ >= latency_window_ns) {
        previous_min_ns_ = current_min_ns_;
        current_min_ns_ = latency_ns;
        window_start_ns_ = now_ns;
    } else {
        current_min_ns_ = std::min(current_min_ns_, latency_ns);
    }
    period_min_ns_ = std::min(period_min_ns_, latency_ns);
    if (period_start_ns_ < 0) {
        period_start_ns_ = now_ns;  // the first answer opens the first period
        return;
    }
    ++period_answers_;
    if (period_answers_ >= depth_ * connections_ && now_ns - period_start_ns_ >= period_ns_min) end_period(now_ns);
}

void PipelineDepth::end_period(std::int64_t now_ns) {
    const double elapsed_ns = static_cast<double>(now_ns - period_start_ns_);
    const double rate = period_answers_ * 1e9 / elapsed_ns;
    const double bdp = static_cast<double>(least_latency_ns()) * period_answers_ / elapsed_ns;
    const double capacity = static_cast<double>(depth_) * connections_;
    const bool no_room = no_room_;
    const std::int64_t period_min_ns = period_min_ns_;
    period_start_ns_ = now_ns;
    period_answers_ = 0;
    period_min_ns_ = INT64_MAX;
    no_room_ = false;
    if (next_down_probe_ns_ == 0) next_down_probe_ns_ = now_ns + down_probe_ns;

    if (probe_ == Probe::settling) {  // its answers are for requests sent before the step
        probe_ = Probe::judging;
        return;
    }
    if (probe_ == Probe::judging) return judge_step(rate, no_room, bdp, period_min_ns, now_ns);
    if (latency_bound(no_room, bdp) && now_ns >= hold_until_ns_) return step_deeper(rate, period_min_ns);
    if (depth_ > start_ && bdp * 2 < capacity - connections_) {
        --depth_;  // the sink came nearer: no probe needed
        double_next_ = false;
    } else if (depth_ > start_ && now_ns >= next_down_probe_ns_) {
        depth_before_step_ = depth_;
        --depth_;
        step_was_down_ = true;
        next_down_probe_ns_ = now_ns + down_probe_ns;
        probe_ = Probe::settling;
        rate_before_step_ = rate;
    }
}

// Every connection was full while a batch waited and the answers' latency
// accounts for most of what was in flight: more depth might bring more answers.
bool PipelineDepth::latency_bound(bool no_room, double bdp) const {
    return no_room && depth_ < depth_max_ && bdp * 4 >= static_cast<double>(depth_) * connections_ * 3;
}

void PipelineDepth::step_deeper(double rate, std::int64_t period_min_ns) {
    depth_before_step_ = depth_;
    // Past slow start a quarter deeper (at least one): a step's gain stays
    // well above the noise of a loaded machine's rates, where +1 at depth 15
    // (7 % at best) was often judged unpaid and held 10 s.
    depth_ = std::min(double_next_ ? depth_ * 2 : depth_ + std::max<std::uint32_t>(1, depth_ / 4), depth_max_);
    step_was_down_ = false;
    probe_ = Probe::settling;
    rate_before_step_ = rate;
    min_before_step_ns_ = period_min_ns;
}

void PipelineDepth::judge_step(double rate, bool no_room, double bdp, std::int64_t period_min_ns,
                               std::int64_t now_ns) {
    probe_ = Probe::none;
    const std::uint32_t before = depth_before_step_;
    if (!step_was_down_) {
        // What the step brought, in requests per connection's worth: in a
        // pipeline the latency bounds, each request of depth d brings 1/d of the rate.
        const double paid = before * (rate / rate_before_step_ - 1);
        const std::uint32_t added = depth_ - before;
        // Taking back a step that paid costs a 10 s hold; keeping one that
        // did not costs a little queueing until a down probe: lean to keeping.
        if (paid * 4 < 1) {
            // A queue, not a distance: step back and hold. (No queue grew if
            // the least latency held: then soon again.)
            depth_ = before;
            const bool queue_grew = static_cast<double>(period_min_ns) >
                                    static_cast<double>(min_before_step_ns_) * queue_latency_growth;
            hold_until_ns_ = now_ns + (queue_grew ? hold_ns : short_hold_ns);
            double_next_ = false;
            return;
        }
        if (paid * 4 >= added * 3.0) {
            double_next_ = true;  // the distance bounds the rate: keep climbing fast
            if (latency_bound(no_room, bdp)) step_deeper(rate, period_min_ns);
            return;
        }
        // Part of it paid (something else bounds the rate now): keep that, one more for margin.
        depth_ = std::min(depth_, before + static_cast<std::uint32_t>(std::ceil(paid)) + 1);
        double_next_ = false;
        return;
    }
    // The step shallower could cost connections / (capacity before it) of the rate.
    const double capacity = static_cast<double>(depth_) * connections_;
    const double step_loss = static_cast<double>(connections_) / (capacity + connections_);
    if (rate < rate_before_step_ * (1 - step_loss / 2)) depth_ = before;  // the depth was needed
}

}  // namespace supervent::net
