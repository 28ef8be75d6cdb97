// The pipeline depth control (net/pipeline_depth.hpp) driven by a simulated
// sink: answers come back a fixed latency after each request, and the client
// keeps the pipeline full, as the HTTP transport does with batches waiting.
#include "net/pipeline_depth.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <deque>

#include "core/bounds.hpp"

using supervent::net::fit_pipeline_slots;
using supervent::net::PipelineDepth;

namespace {

constexpr std::int64_t ms = 1'000'000;

// Runs `seconds` of a sink `latency_ns` away that takes `service_ns` per
// request on one queue (0: no queue), with a sender that always has a batch
// ready. Returns the depth at the end; adds the time spent deeper than 2 to *deeper_ns.
std::uint32_t simulate(PipelineDepth& control, std::uint32_t connections, std::int64_t latency_ns,
                       std::int64_t service_ns, double seconds, std::int64_t& now_ns, std::int64_t* deeper_ns = nullptr) {
    std::deque<std::int64_t> started;  // in flight, oldest first
    std::int64_t sink_free_ns = now_ns;
    std::deque<std::int64_t> answers;   // when each in-flight request is answered
    const std::int64_t end_ns = now_ns + static_cast<std::int64_t>(seconds * 1e9);
    while (now_ns < end_ns) {
        while (started.size() < control.depth() * connections) {
            started.push_back(now_ns);
            sink_free_ns = std::max(sink_free_ns, now_ns) + service_ns;
            answers.push_back(sink_free_ns + latency_ns);
        }
        control.note_no_room();
        if (deeper_ns != nullptr && control.depth() > 2) *deeper_ns += answers.front() - now_ns;
        now_ns = answers.front();
        control.on_answer(started.front(), now_ns);
        started.pop_front();
        answers.pop_front();
    }
    return control.depth();
}

// A sender that makes a batch every `interval_ns` (it cannot go faster:
// the CPU bounds it) toward a sink `latency_ns` away with no queue. Runs
// until `end_ns`; returns the first time the depth reached `wanted` (-1: never).
std::int64_t simulate_paced(PipelineDepth& control, std::uint32_t connections, std::int64_t latency_ns,
                            std::int64_t interval_ns, std::int64_t end_ns, std::uint32_t wanted, std::int64_t& now_ns) {
    std::deque<std::int64_t> started;  // in flight, oldest first; answered latency_ns after
    std::uint32_t ready = 0;           // batches made and waiting for room
    std::int64_t next_batch_ns = now_ns;
    std::int64_t reached_ns = -1;
    while (now_ns < end_ns) {
        const std::int64_t answer_ns = started.empty() ? INT64_MAX : started.front() + latency_ns;
        if (next_batch_ns <= answer_ns) {
            now_ns = next_batch_ns;
            next_batch_ns += interval_ns;
            if (ready < 4) ++ready;  // the shard's slots stop the generator past a few waiting
        } else {
            now_ns = answer_ns;
            control.on_answer(started.front(), now_ns);
            started.pop_front();
        }
        while (ready > 0 && started.size() < control.depth() * connections) {
            started.push_back(now_ns);
            --ready;
        }
        if (ready > 0) control.note_no_room();
        if (reached_ns < 0 && control.depth() >= wanted) reached_ns = now_ns;
    }
    return reached_ns;
}

}  // namespace

TEST_CASE("pipeline depth: a sink 50 ms away deepens the pipeline to its max", "[pipeline_depth]") {
    PipelineDepth control(2, 8, 2);
    std::int64_t now_ns = 0;
    CHECK(simulate(control, 2, 50 * ms, 0, 3.0, now_ns) == 8);
}

TEST_CASE("pipeline depth: the depth falls back when the sink comes near", "[pipeline_depth]") {
    PipelineDepth control(2, 8, 2);
    std::int64_t now_ns = 0;
    REQUIRE(simulate(control, 2, 50 * ms, 0, 3.0, now_ns) == 8);
    // 0.2 ms away with a millisecond of the sink's work per answer: its
    // queue looks like distance, so the depth comes down a probe at a time.
    CHECK(simulate(control, 2, 200'000, 1 * ms, 60.0, now_ns) <= 3);
}

TEST_CASE("pipeline depth: a near sink that is not busy lowers the depth at once", "[pipeline_depth]") {
    PipelineDepth control(2, 8, 2);
    std::int64_t now_ns = 0;
    REQUIRE(simulate(control, 2, 50 * ms, 0, 3.0, now_ns) == 8);
    // The sender now makes a batch every 5 ms and the sink answers in 0.2 ms.
    const std::int64_t end_ns = now_ns + 3'000'000'000;
    while (now_ns < end_ns) {
        control.on_answer(now_ns, now_ns + 200'000);
        now_ns += 5 * ms;
    }
    CHECK(control.depth() == 2);
}

TEST_CASE("pipeline depth: a busy sink nearby does not keep a deeper pipeline", "[pipeline_depth]") {
    // Its queue is latency too; a step deeper adds latency, not answers, and is taken back.
    PipelineDepth control(2, 8, 2);
    std::int64_t now_ns = 0;
    CHECK(simulate(control, 2, 100'000, 2 * ms, 5.0, now_ns) <= 3);
}

TEST_CASE("pipeline depth: the max holds and a start past it is cut to it", "[pipeline_depth]") {
    PipelineDepth fixed(2, 2, 4);
    std::int64_t now_ns = 0;
    CHECK(simulate(fixed, 4, 100 * ms, 0, 2.0, now_ns) == 2);
    PipelineDepth one(2, 1, 1);
    CHECK(one.depth() == 1);
}

TEST_CASE("pipeline depth: slots past the memory budget are cut and the depth with them", "[pipeline_depth]") {
    using namespace supervent::bounds;
    // Small slots: the plan stands (2 connections, depth 8: 9 slots each).
    auto small = fit_pipeline_slots(18, 2, 1 << 20);
    CHECK(small.slots == 18);
    CHECK(small.depth_max == 8);
    // Slots of a quarter of the budget: 4 fit, the 2-per-connection floor holds.
    auto big = fit_pipeline_slots(18, 2, http_pipeline_slot_bytes_budget / 4);
    CHECK(big.slots == 4);
    CHECK(big.depth_max == 2);
    auto mid = fit_pipeline_slots(18, 2, http_pipeline_slot_bytes_budget / 10);
    CHECK(mid.slots == 10);
    CHECK(mid.depth_max == 4);
}

TEST_CASE("pipeline depth: a memlock limit budgets the slots a shard registers", "[pipeline_depth]") {
    // A non-root user's default 8 MiB memlock, 1 shard: 6 MiB for slots. With
    // 1 MiB slots 6 fit (depth 2 on 2 connections), not the 18 planned: the
    // daemon starts with shallower pipelines instead of failing to register.
    constexpr std::size_t mib = std::size_t{1} << 20;
    const auto fitted = fit_pipeline_slots(18, 2, mib, 6 * mib);
    CHECK(fitted.slots == 6);
    CHECK(fitted.depth_max == 2);
    // Never under two slots per connection: a limit below that fails loudly at registration.
    CHECK(fit_pipeline_slots(18, 2, mib, mib).slots == 4);
    // Root (CAP_IPC_LOCK) is not limited; whoever runs the test, a budget is never 0.
    const auto budget = supervent::net::memlock_budget_bytes(2);
    if (budget) CHECK(*budget > 0);
}

TEST_CASE("pipeline depth: a sink 100 ms away reaches a max of 24 within a second and a half", "[pipeline_depth]") {
    // Slow start: 2, 4, 8, 16, 24, a probe (two periods of >= 100 ms) each;
    // one step per probe took 22 probes, ~7 s.
    PipelineDepth control(2, 24, 2);
    std::int64_t now_ns = 0;
    // A batch every 10 us: always one ready.
    const std::int64_t reached_ns = simulate_paced(control, 2, 100 * ms, 10'000, 3'000 * ms, 24, now_ns);
    CHECK(reached_ns > 0);
    CHECK(reached_ns <= 1'500 * ms);
    CHECK(simulate(control, 2, 100 * ms, 0, 5.0, now_ns) == 24);
}

TEST_CASE("pipeline depth: a 50 ms sink and a sender the CPU bounds settle near the depth the rate needs", "[pipeline_depth]") {
    // 480 batches/s, 50 ms away: 24 in flight, 12 per connection of 2. The
    // climb doubles while doubling pays (2, 4, 8, 16), then keeps what paid.
    PipelineDepth control(2, 32, 2);
    std::int64_t now_ns = 0;
    const std::int64_t reached_ns = simulate_paced(control, 2, 50 * ms, 2'083'333, 1'500 * ms, 12, now_ns);
    CHECK(reached_ns > 0);
    CHECK(reached_ns <= 1'200 * ms);  // within ~10 periods
    simulate_paced(control, 2, 50 * ms, 2'083'333, 20'000 * ms, 99, now_ns);
    CHECK(control.depth() >= 12);
    CHECK(control.depth() <= 16);
}

TEST_CASE("pipeline depth: a sender slower than the round trip allows does not deepen", "[pipeline_depth]") {
    // 50 batches/s, 50 ms away: 2.5 in flight fit the 2 x 2 the pipeline starts with.
    PipelineDepth control(2, 32, 2);
    std::int64_t now_ns = 0;
    CHECK(simulate_paced(control, 2, 50 * ms, 20 * ms, 10'000 * ms, 3, now_ns) < 0);
    CHECK(control.depth() == 2);
}

TEST_CASE("pipeline depth: a slow sink nearby costs short probes only and never deepens", "[pipeline_depth]") {
    // 2 ms of the sink's work per request, 0.1 ms away: its queue looks like
    // distance, each doubling probe brings nothing, is taken back and holds 10 s.
    PipelineDepth control(2, 24, 2);
    std::int64_t now_ns = 0;
    std::int64_t deeper_ns = 0;
    CHECK(simulate(control, 2, 100'000, 2 * ms, 30.0, now_ns, &deeper_ns) == 2);
    CHECK(deeper_ns > 0);                // it did probe
    CHECK(deeper_ns <= 1'500 * ms);      // 3 probes of ~0.4 s in 30 s
}

TEST_CASE("pipeline depth: at a far sink a step judged while the sender was slow is tried again within seconds",
          "[pipeline_depth]") {
    // 50 ms away, no queue, a sender that always has a batch ready but for
    // 500 ms right after the pipeline first doubles to 16, when it makes
    // only what depth 8 carries (its CPU taken away): the step is judged
    // unpaid and taken back. The least latency held at 50 ms, so no queue
    // grew: it is tried again after 1 s, not 10 (a hold that kept a real
    // run at 0.57 of what the distance allows).
    PipelineDepth control(2, 16, 2);
    std::deque<std::int64_t> started;  // in flight, oldest first; answered 50 ms after
    std::int64_t now_ns = 0;
    std::int64_t slow_end_ns = -1;
    std::int64_t next_batch_ns = 0;
    constexpr std::int64_t slow_interval_ns = 3'125'000;  // 320 batches/s: depth 8 x 2 per 50 ms
    std::int64_t taken_back_ns = -1;
    std::int64_t back_to_max_ns = -1;
    while (now_ns < 10'000 * ms && back_to_max_ns < 0) {
        if (slow_end_ns < 0 && control.depth() == 16) {
            slow_end_ns = now_ns + 500 * ms;
            next_batch_ns = now_ns;
        }
        if (slow_end_ns >= 0 && taken_back_ns < 0 && control.depth() < 16) taken_back_ns = now_ns;
        if (taken_back_ns >= 0 && control.depth() == 16) back_to_max_ns = now_ns;
        const bool slow = slow_end_ns >= 0 && now_ns < slow_end_ns;
        if (!slow) {
            while (started.size() < control.depth() * 2) started.push_back(now_ns);
            control.note_no_room();
        } else if (now_ns >= next_batch_ns && started.size() < control.depth() * 2) {
            started.push_back(now_ns);
            next_batch_ns += slow_interval_ns;
        }
        std::int64_t next_ns = started.empty() ? INT64_MAX : started.front() + 50 * ms;
        if (slow) next_ns = std::min({next_ns, std::max(next_batch_ns, now_ns + 1), slow_end_ns});
        now_ns = next_ns;
        if (!started.empty() && started.front() + 50 * ms <= now_ns) {
            control.on_answer(started.front(), now_ns);
            started.pop_front();
        }
    }
    REQUIRE(taken_back_ns > 0);  // the slow sender made the step look unpaid
    CHECK(back_to_max_ns > taken_back_ns);
    CHECK(back_to_max_ns - taken_back_ns <= 3'000 * ms);
}
