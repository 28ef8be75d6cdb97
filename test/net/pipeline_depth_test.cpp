// The pipeline depth control (net/pipeline_depth.hpp) driven by a simulated
// sink: answers come back a fixed latency after each request, and the client
// keeps the pipeline full, as the HTTP transport does with batches waiting.
#include "net/pipeline_depth.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>

#include "core/bounds.hpp"

using supervent::net::fit_pipeline_slots;
using supervent::net::PipelineDepth;

namespace {

constexpr std::int64_t ms = 1'000'000;

// Runs `seconds` of a sink `latency_ns` away that takes `service_ns` per
// request on one queue (0: no queue), with a sender that always has a batch
// ready. Returns the depth at the end.
std::uint32_t simulate(PipelineDepth& control, std::uint32_t connections, std::int64_t latency_ns,
                       std::int64_t service_ns, double seconds, std::int64_t& now_ns) {
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
        now_ns = answers.front();
        control.on_answer(started.front(), now_ns);
        started.pop_front();
        answers.pop_front();
    }
    return control.depth();
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
