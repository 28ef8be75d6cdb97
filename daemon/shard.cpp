#include "daemon/shard.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "core/bounds.hpp"
#include "core/schema.hpp"
#include "daemon/memory_estimate.hpp"
#include "net/discard_transport.hpp"
#include "net/file_transport.hpp"
#include "net/postgres_transport.hpp"

namespace supervent::daemon {
namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;
// How often an idle shard looks at its control mailbox.
constexpr std::int64_t control_poll_ns = 20'000'000;
// When rate limited, a batch holds about this much time's worth of events,
// so low rates still deliver promptly and high rates still batch fully.
constexpr double batch_window_s = 0.1;
constexpr double bucket_window_s = 0.5;
// Batches refused for good in a row, with no acknowledgement between, after
// which a shard stops: a sink that takes nothing (a malformed body, a wrong
// dataset type) should stop the run, not see all of it generated and
// thrown away. High enough that a sink refusing some batches at random does
// not get there (2^-16 at a 50 % share).
constexpr std::uint32_t rejected_in_row_max = 16;
// How long one loop turn may spend making batches before it hands the ring
// its sends and takes its completions. Making every free slot's batch in one
// turn (26 slots at depth 12, ~45 ms of zstd batches) held each answer that
// long before its connection got the next request: at a sink 50 ms away the
// round trip grew to ~75 ms and the rate stopped at 0.65 of no delay.
constexpr std::int64_t fill_turn_ns = 250'000;

std::int64_t clock_ns(clockid_t clock) {
    timespec now{};
    clock_gettime(clock, &now);
    return now.tv_sec * ns_per_s + now.tv_nsec;
}
std::int64_t monotonic_ns() { return clock_ns(CLOCK_MONOTONIC); }
std::int64_t realtime_ns() { return clock_ns(CLOCK_REALTIME); }

void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    // Best effort: a CPU outside our cgroup's set is not worth failing over.
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

}  // namespace

Shard::Shard(ShardPlan plan, ShardStats& stats, ShardControl& control, ShardError& error)
    : plan_(std::move(plan)),
      stats_(stats),
      control_(control),
      error_(error),
      retry_backoff_(0x2545f4914f6cdd1dULL ^ (plan_.identity.seed + plan_.index)) {}

Shard::~Shard() = default;

void Shard::run() noexcept {
    try {
        start();
        stats_.phase.store(ShardPhase::running, std::memory_order_release);
        loop();
        stats_.phase.store(ShardPhase::finished, std::memory_order_release);
    } catch (const std::exception& failure) {
        {
            std::lock_guard lock(error_.mutex);
            error_.text = failure.what();
        }
        stats_.phase.store(ShardPhase::failed, std::memory_order_release);
    }
}

// Everything the shard will ever need is allocated here, on its own thread
// (the ring must be created by its only submitter).
void Shard::start() {
    if (plan_.cpu >= 0) pin_to_cpu(plan_.cpu);
    // `top -H`, `perf --per-thread` and /proc/PID/task/*/comm name each shard.
    char thread_name[16];
    std::snprintf(thread_name, sizeof thread_name, "sv-shard-%u", plan_.index);
    (void)pthread_setname_np(pthread_self(), thread_name);
    // A JSON array body is one byte longer than the NDJSON it is made from.
    const bool json_array = plan_.sink.body_format == net::BodyFormat::json_array;
    const std::size_t bytes_max = json_array && plan_.batch_bytes_max > 0 ? plan_.batch_bytes_max - 1 : plan_.batch_bytes_max;
    engine_bytes_max_ = bytes_max;
    engine_ = std::make_unique<core::ScenarioEngine>(plan_.scenario, plan_.identity, plan_.batch_events, bytes_max);
    stats_[Stat::roots_total].set(engine_->roots_total());
    batch_room_bytes_ = std::size_t{plan_.batch_events} * engine_->event_bytes_max();
    batch_events_cap_ = plan_.batch_events;
    routes_.resize(plan_.scenario->sources.size());
    for (std::size_t i = 0; i < routes_.size(); ++i) routes_[i] = static_cast<std::uint16_t>(i);  // one route per source

    const std::uint32_t ring_entries = std::max<std::uint32_t>(64, plan_.slots * 4 + 32);
    ring_ = std::make_unique<net::Ring>(ring_entries);
    const bool zero_copy = plan_.zero_copy != config::ZeroCopyMode::off && ring_->features().send_zc;
    if (plan_.zero_copy == config::ZeroCopyMode::on && !ring_->features().send_zc) {
        throw net::RingError("network.zero_copy = \"on\" but this kernel's io_uring has no SEND_ZC (Linux 6.0+); "
                             "use \"auto\" to fall back to WRITE_FIXED");
    }

    // A slot holds the head room and the largest body: the batch as
    // serialized, or its zstd frame (serialized into raw_batch_ first).
    // daemon/memory_estimate.cpp sizes it the same way for --check-config.
    std::size_t body_bytes_max = std::size_t{plan_.batch_events} * engine_->event_bytes_max();
    if (plan_.sink.api.api != net::LogApi::axiom) {
        body_bytes_max = plan_api_buffers(body_bytes_max);
    } else if (plan_.compression.zstd || plan_.compression.gzip) {
        raw_batch_bytes_ = body_bytes_max;
        // One byte in front for the '[' of a JSON array body.
        raw_batch_ = std::make_unique_for_overwrite<char[]>(net::json_array_head_room_bytes + raw_batch_bytes_);
        body_bytes_max = make_compressor(net::json_array_head_room_bytes + raw_batch_bytes_);
    }
    const std::size_t slot_bytes = bounds::http_head_room_bytes + body_bytes_max;
    if (plan_.sink.kind == config::SinkUrl::Kind::http || plan_.sink.kind == config::SinkUrl::Kind::https) {
        fit_pipeline_to_budget(slot_bytes);
    }
    arena_ = std::make_unique<net::BufferArena>(plan_.slots, slot_bytes);
    // Room for an HTTPS transport's ciphertext buffers, one per connection.
    const std::uint32_t spare_buffers = plan_.sink.kind == config::SinkUrl::Kind::https ? plan_.sink.http.connections : 0;
    // Slots are pinned when first used (register_slots_through): a near
    // sink keeps a few busy and never pays for the rest of a deep pipeline's.
    // What a near sink uses (2 in flight and 2 made ahead a connection) goes
    // now, so a memlock limit that cannot have them stops the run at its start.
    ring_->reserve_buffers(plan_.slots, spare_buffers);
    const std::uint32_t near_sink_slots = 2 * bounds::slots_per_connection * std::max(plan_.sink.http.connections, 1U);
    if (!register_slots_through(std::min(plan_.slots, near_sink_slots) - 1)) throw net::RingError(slot_pin_error_);

    slots_.resize(plan_.slots);
    free_slots_.reserve(plan_.slots);
    queue_.reserve(plan_.slots);
    for (std::uint32_t i = 0; i < plan_.slots; ++i) {
        slots_[i].index = i;
        slots_[i].data = arena_->slot_data(i);
        slots_[i].capacity_bytes = arena_->slot_bytes();
        free_slots_.push_back(plan_.slots - 1 - i);
    }
    slots_usable_ = plan_.slots;
    stats_[Stat::slots_total].set(plan_.slots);
    slot_retry_since_ns_.assign(plan_.slots, 0);
    if (plan_.checkpoint_share != nullptr) {
        slot_batch_.assign(plan_.slots, UINT64_MAX);
        slot_events_before_.assign(plan_.slots, 0);
        if (plan_.checkpoint && plan_.checkpoint->resuming()) {
            const std::int64_t replay_started_ns = monotonic_ns();
            replay(plan_.checkpoint->found->shards.at(plan_.index));
            stats_[Stat::replay_ns].set(static_cast<std::uint64_t>(monotonic_ns() - replay_started_ns));
        }
    }

    net::SlotListener& listener = *this;
    switch (plan_.sink.kind) {
        case config::SinkUrl::Kind::http: {
            net::HttpTransportConfig http = plan_.sink.http;
            http.zero_copy = zero_copy;
            http.zc_report_usage = zero_copy && ring_->features().send_zc_report_usage;
            http.zc_adaptive = http.zc_report_usage && plan_.zero_copy == config::ZeroCopyMode::automatic;
            http.shard_index = plan_.index;
            auto transport = std::make_unique<net::HttpTransport>(*ring_, listener, std::move(http));
            if (transport->head_bytes_max() > bounds::http_head_room_bytes) {
                throw std::runtime_error("the HTTP request head does not fit its head room (URL or token too long)");
            }
            http_ = transport.get();
            transport_ = std::move(transport);
            break;
        }
        case config::SinkUrl::Kind::file:
        case config::SinkUrl::Kind::stdout_stream:
            transport_ = std::make_unique<net::FileTransport>(*ring_, listener, plan_.sink.file_fd, plan_.sink.description,
                                                              plan_.sink.rotation);
            plan_.sink.file_fd = -1;  // owned by the transport now
            break;
        case config::SinkUrl::Kind::discard:
            transport_ = std::make_unique<net::DiscardTransport>(listener);
            break;
        case config::SinkUrl::Kind::postgresql: {
            net::PostgresTransportConfig postgres = plan_.sink.postgres;
            postgres.body_bytes_max = arena_->slot_bytes() - bounds::http_head_room_bytes;
            postgres.batch_events = plan_.batch_events;
            postgres.shard_index = plan_.index;
            transport_ = std::make_unique<net::PostgresTransport>(*ring_, listener, std::move(postgres));
            break;
        }
        case config::SinkUrl::Kind::syslog_tcp:
        case config::SinkUrl::Kind::syslog_tls:
        case config::SinkUrl::Kind::syslog_udp: {
            net::SyslogTransportConfig syslog = plan_.sink.syslog;
            syslog.shard_index = plan_.index;
            syslog.event_bytes_max = engine_->event_bytes_max();  // a frame buffer holds at least one event
            if (syslog.datagram) {
                transport_ = std::make_unique<net::SyslogDatagramTransport>(*ring_, listener, std::move(syslog));
            } else {
                transport_ = std::make_unique<net::SyslogStreamTransport>(*ring_, listener, std::move(syslog));
            }
            break;
        }
        case config::SinkUrl::Kind::https: {
            // The transport encrypts each slot into its connections' own
            // buffers and sends those, so SEND_ZC has nothing registered to
            // pin; with kernel TLS the slot itself goes out by WRITE_FIXED.
            net::HttpTransportConfig https = plan_.sink.http;
            https.zero_copy = false;
            https.shard_index = plan_.index;
            https.tls.request_bytes_max = arena_->slot_bytes();
            auto transport = std::make_unique<net::HttpTransport>(*ring_, listener, std::move(https));
            if (transport->head_bytes_max() > bounds::http_head_room_bytes) {
                throw std::runtime_error("the HTTP request head does not fit its head room (URL or token too long)");
            }
            http_ = transport.get();
            transport_ = std::move(transport);
            break;
        }
    }

    rate_eps_ = control_.rate_eps.load(std::memory_order_acquire);
    batch_target_ = rate_eps_ > 0 ? std::clamp(rate_eps_ * batch_window_s, 1.0, double(plan_.batch_events)) : 1.0;
}

void Shard::loop() {
    started_ns_ = monotonic_ns();
    started_realtime_ns_ = realtime_ns();
    tokens_at_ns_ = started_ns_;
    for (;;) {
        std::int64_t now_ns = monotonic_ns();
        apply_control(now_ns);
        dispatch(now_ns);  // room the last answers made goes to batches already made
        fill(now_ns);
        now_ns = monotonic_ns();
        dispatch(now_ns);
        transport_->on_tick(now_ns, !queue_.empty());

        if (generation_done_ && free_slots_.size() == slots_usable_) {
            if (!shutdown_begun_) {
                shutdown_begun_ = true;
                transport_->begin_shutdown();
            }
            if (transport_->quiescent()) return;
        }

        const int result = ring_->submit_and_wait(wait_ns(now_ns));
        if (result < 0) throw net::RingError(std::string("io_uring wait failed: ") + std::strerror(-result));
        now_ns = monotonic_ns();
        ring_->drain([&](const io_uring_cqe& cqe) {
            const net::CompletionTag tag = net::CompletionTag::decode(cqe.user_data);
            if (tag.op != net::Op::wake && tag.op != net::Op::none) transport_->on_completion(cqe, tag, now_ns);
        });
        publish_transport_counters(now_ns);
        publish_cpu_time(now_ns);
    }
}

// The thread's CPU time, every 100 ms (a syscall, so not every loop turn)
// and when generation ends: events per CPU-second is the engine's cost
// whatever else the machine runs, and a shard near one CPU-second per
// second is CPU-bound.
void Shard::publish_cpu_time(std::int64_t now_ns) {
    if (now_ns < next_cpu_sample_ns_ && !(generation_done_ && free_slots_.size() == slots_usable_)) return;
    next_cpu_sample_ns_ = now_ns + cpu_sample_period_ns;
    stats_[Stat::cpu_ns].set(static_cast<std::uint64_t>(clock_ns(CLOCK_THREAD_CPUTIME_ID)));
}

// The transport keeps its own counters (the shard's data path does not
// reach into it); the stats table says which of them to publish.
void Shard::publish_transport_counters(std::int64_t now_ns) {
    const net::TlsCounters& tls = http_ != nullptr ? http_->tls_counters() : no_tls_;
    const net::TransportCounters& counters = transport_->counters();
    for (const StatSpec& spec : stat_table) {
        if (spec.source != nullptr) stats_[spec.id].set(spec.source(counters, tls));
    }
    stats_.ktls_unavailable_errno.set(static_cast<std::uint64_t>(tls.ktls_unavailable_errno));
    publish_sink_health(counters, now_ns);
}

// What the control thread logs and shows while the sink fails: the last
// failure's facts when there is a new one, and while the sink is
// unavailable, when the next attempt is due. No lock, no allocation.
void Shard::publish_sink_health(const net::TransportCounters& counters, std::int64_t now_ns) {
    if (counters.last_failure.count != failures_published_) {
        failures_published_ = counters.last_failure.count;
        for (int r = 0; r < static_cast<int>(net::FailReason::count_); ++r) {
            stats_.attempt_failures_by_reason[r].set(counters.failures_by_reason[r]);
        }
        stats_.last_failure.publish(counters.last_failure);
    }
    std::int64_t next_ns = 0;
    if (unavailable_since_ns_ != 0 && !queue_.empty()) {
        next_ns = transport_->next_deadline_ns();
        for (std::uint32_t index : queue_) {
            if (slots_[index].not_before_ns > now_ns) next_ns = std::min(next_ns, slots_[index].not_before_ns);
        }
        if (next_ns == INT64_MAX) next_ns = now_ns;  // ready: waits for a connection
    }
    stats_.next_attempt_ns.set(static_cast<std::uint64_t>(next_ns));
}

void Shard::apply_control(std::int64_t now_ns) {
    if (drain_deadline_ns_ == 0 && control_.stop_requested.load(std::memory_order_acquire)) {
        drain_deadline_ns_ = now_ns + plan_.drain_timeout_ns;
        stop_generation();
    }
    paused_ = control_.paused.load(std::memory_order_acquire);
    // A live incident (incident_control.cpp); one that silences every source
    // blocks the engine, and its end must unblock it.
    if (const int incident = control_.incident.load(std::memory_order_acquire); incident != engine_->live_incident()) {
        engine_->set_live_incident(incident);
        engine_blocked_ = false;
    }
    stats_[Stat::loop_turns].add(1);
    // Sources toggled while a resumed backfill replays wait for its end: the replay follows its journal's.
    if (replay_ == nullptr && control_.change_version.load(std::memory_order_acquire) != change_version_) apply_change();
    for (std::size_t i = 0; i < plan_.sink.http.local_addresses.size(); ++i) {
        stats_.bytes_by_local_address[i].set(transport_->counters().bytes_by_local_address[i]);
    }
    if (const std::uint64_t budget = control_.events_budget.load(std::memory_order_acquire); budget != UINT64_MAX) {
        plan_.events_budget = budget;  // a live change of the event limit (reload, set)
        if (budget > 0 && events_generated_ >= budget && !generation_done_) finish_generation();
    }
    if (const std::int64_t duration = control_.duration_ns.load(std::memory_order_acquire); duration >= 0) {
        plan_.duration_ns = duration;
    }
    const double rate_eps = control_.rate_eps.load(std::memory_order_acquire);
    if (rate_eps != rate_eps_) {
        refill_tokens(now_ns);
        rate_eps_ = rate_eps;
        tokens_ = 0;
        batch_target_ = rate_eps_ > 0 ? std::clamp(rate_eps_ * batch_window_s, 1.0, double(plan_.batch_events)) : 1.0;
    }
    if (!fatal_seen_ && !transport_->fatal_error().empty()) on_fatal_error();
    enforce_drain_deadline(now_ns);
    if (!generation_done_ && plan_.duration_ns > 0 && now_ns - started_ns_ >= plan_.duration_ns) stop_generation();
}

// A reload's new scenario or a source enabled or disabled, taken between
// batches: slots, ring, transport and connections stay as they are.
void Shard::apply_change() {
    ScenarioChange change;
    {
        std::lock_guard lock(control_.change_mutex);
        change_version_ = control_.change_version.load(std::memory_order_acquire);
        change = control_.change;
    }
    // A shard whose generation has ended (a finished backfill, a limit) keeps its scenario.
    if (change.scenario && change.generation != scenario_generation_ && !generation_done_) swap_scenario(change);
    if (change.generation == scenario_generation_) {
        const std::size_t sources = engine_->scenario().sources.size();
        for (std::size_t i = 0; i < change.enabled.size() && i < sources; ++i) {
            const auto source = static_cast<std::uint16_t>(i);
            const bool enabled = change.enabled[i] != 0;
            if (plan_.checkpoint_share != nullptr && engine_->enabled(source) != enabled) journal_toggle(source, enabled);
            engine_->set_enabled(source, enabled);
        }
    }
    engine_blocked_ = false;  // whatever blocked the engine may have changed
}

// Allocates (a new engine, routes): once per reload, never per batch.
void Shard::swap_scenario(const ScenarioChange& change) {
    auto engine = std::make_unique<core::ScenarioEngine>(change.scenario, plan_.identity, plan_.batch_events,
                                                         engine_bytes_max_);
    // The control thread refused a scenario whose largest event does not fit
    // the slots sized at start-up; smaller batches make the rest fit.
    const std::uint32_t cap =
        static_cast<std::uint32_t>(std::min<std::size_t>(plan_.batch_events, batch_room_bytes_ / engine->event_bytes_max()));
    if (cap == 0 || change.routes.size() != change.scenario->sources.size()) return;
    if (http_ != nullptr) {
        for (std::size_t r = http_->route_count(); r < change.route_paths.size(); ++r) http_->add_route(change.route_paths[r]);
    }
    // Per-source counts follow a source's name into the new scenario.
    const core::CompiledScenario& before = engine_->scenario();
    const core::CompiledScenario& after = *change.scenario;
    const std::size_t counted = std::min<std::size_t>(after.sources.size(), bounds::scenario_sources_counted_max);
    std::vector<std::uint64_t> counts(counted, 0);
    for (std::size_t i = 0; i < counted; ++i) {
        for (std::size_t j = 0; j < before.sources.size() && j < bounds::scenario_sources_counted_max; ++j) {
            if (before.sources[j].name == after.sources[i].name) counts[i] = stats_.source_events[j].get();
        }
    }
    stats_.scenario_generation.set(UINT64_MAX);  // readers: the counts are being rewritten
    for (std::size_t i = 0; i < bounds::scenario_sources_counted_max; ++i) {
        stats_.source_events[i].set(i < counted ? counts[i] : 0);
    }
    stats_.scenario_generation.set(change.generation);
    engine_ = std::move(engine);
    scenario_generation_ = change.generation;
    routes_ = change.routes;
    batch_events_cap_ = cap;
    stats_[Stat::roots_total].set(engine_->roots_total());
    stats_[Stat::roots_resumed].set(0);
    stats_[Stat::roots_done].set(0);
    stats_[Stat::dependents_pending].set(0);
}

// The sink refused us for good (bad token, no dataset, quota, file error):
// say why, stop generating, and fail what waits instead of sending it.
void Shard::on_fatal_error() {
    fatal_seen_ = true;
    {
        std::lock_guard lock(error_.mutex);
        error_.text = transport_->fatal_error();
    }
    if (!generation_done_) finish_generation();
    fail_queued(last_failure_reason_);
}

// After a stop, batches get drain_timeout to settle; then requests in flight
// are abandoned and everything not yet acknowledged is failed, so that a
// sink that never answers cannot hold the daemon forever.
void Shard::enforce_drain_deadline(std::int64_t now_ns) {
    if (drain_deadline_ns_ == 0 || drain_expired_ || now_ns < drain_deadline_ns_) return;
    drain_expired_ = true;
    fail_queued(net::FailReason::drain_timeout);
    transport_->abort_in_flight(now_ns);
}

// A stop or the end of --duration: a live run makes no more root events but
// first sends the dependents they already caused (a request is not left
// without its query); fill() ends generation once the engine has none left.
void Shard::stop_generation() {
    if (generation_done_) return;
    if (paused_ || engine_->scenario().backfill || engine_->pending() == 0) {
        finish_generation();
        return;
    }
    engine_->stop_roots();
}

void Shard::finish_generation() {
    generation_done_ = true;
    stats_.phase.store(ShardPhase::draining, std::memory_order_release);
}

void Shard::refill_tokens(std::int64_t now_ns) {
    if (rate_eps_ <= 0) return;
    const double elapsed_s = double(now_ns - tokens_at_ns_) / ns_per_s * live_rate_factor();
    tokens_at_ns_ = now_ns;
    // The bucket holds two batches or half a second of events, whichever is
    // more: a shard that lost the CPU for a moment catches up, so the rate
    // holds over seconds, while a longer stall (a slow sink) is not repaid
    // with a burst.
    tokens_ = std::min(tokens_ + elapsed_s * rate_eps_, std::max(2 * batch_target_, rate_eps_ * bucket_window_s));
}

// Live scenarios may shape the rate over the day (sine, ramp, steps,
// business hours); the bucket fills at the target times this factor.
double Shard::live_rate_factor() const {
    if (engine_->scenario().backfill) return 1;
    return engine_->live_rate_factor(started_realtime_ns_, realtime_ns());
}

bool Shard::can_fill_now() const {
    if (generation_done_ || paused_ || engine_blocked_ || free_slots_.empty()) return false;
    if (queue_.size() >= ready_ahead_max()) return false;
    return rate_eps_ <= 0 || tokens_ >= batch_target_ || engine_->roots_stopped();
}

void Shard::fill(std::int64_t now_ns) {
    if (generation_done_ || paused_ || engine_blocked_) return;
    refill_tokens(now_ns);
    const std::int64_t turn_end_ns = monotonic_ns() + fill_turn_ns;
    while (!free_slots_.empty() && queue_.size() < ready_ahead_max()) {
        std::uint64_t event_count = batch_events_cap_;
        // A resumed backfill sends its checkpoint's failed batches first, in their sizes.
        const std::uint32_t replay_size = replay_ != nullptr ? replay_next_size() : 0;
        if (replay_size > 0) event_count = replay_size;
        if (plan_.events_budget > 0) {
            const std::uint64_t remaining = plan_.events_budget - events_generated_;
            if (remaining == 0) {
                finish_generation();
                return;
            }
            event_count = std::min(event_count, remaining);
        }
        if (rate_eps_ > 0 && !engine_->roots_stopped()) {  // after a stop, the dependents left go at once
            // Batches of batch_target events, not of whatever the bucket
            // holds: sizes then change only with the rate, and a
            // checkpointed backfill can journal and replay them.
            if (replay_size == 0) event_count = std::min<std::uint64_t>(event_count, static_cast<std::uint64_t>(batch_target_));
            if (tokens_ < std::min(double(event_count), batch_target_)) return;  // a replayed size may exceed the bucket
            tokens_ -= double(event_count);
        }
        net::Slot* slot = free_slot();
        if (slot == nullptr) {  // none could be pinned (the memlock limit): wait for one to come back
            if (rate_eps_ > 0 && !engine_->roots_stopped()) tokens_ += double(event_count);
            break;
        }
        const std::uint32_t made = generate_into(*slot, static_cast<std::uint32_t>(event_count));
        if (rate_eps_ > 0 && !engine_->roots_stopped()) tokens_ += double(event_count - made);  // cut short by its byte limit
        if (made == 0) {
            release(*slot);
            if (engine_->done()) {
                // A stopped live run has sent its last dependents; only a backfill is complete.
                if (!engine_->roots_stopped()) stats_.scenario_done.store(true, std::memory_order_release);
                finish_generation();
            }
            else engine_blocked_ = engine_->blocked();  // every source with work left is disabled
            return;
        }
        // The ring's turn, after one batch at least; wait_ns() is 0, so it comes back at once.
        if (monotonic_ns() >= turn_end_ns) return;
    }
    stats_.backpressured.store(true, std::memory_order_relaxed);
}

net::Slot* Shard::free_slot() {
    assert(!free_slots_.empty());
    net::Slot& slot = slots_[free_slots_.back()];
    free_slots_.pop_back();
    // Slots are taken lowest index first and put back on top, so the ones
    // ever used are [0, slots_registered_): a new one is the next index.
    if (slot.index >= slots_registered_ && !register_slots_through(slot.index)) {
        // The memlock limit (other processes share it) has no room for more:
        // go on with the slots pinned so far, and say so once.
        free_slots_.push_back(slot.index);
        std::erase_if(free_slots_, [this](std::uint32_t index) { return index >= slots_registered_; });
        slots_usable_ = slots_registered_;
        stats_[Stat::slots_total].set(slots_usable_);
        std::fprintf(stderr, "superventd: worker %u: %s; going on with %u slots\n", plan_.index,
                     slot_pin_error_.c_str(), slots_registered_);
        if (free_slots_.empty()) return nullptr;
        return free_slot();
    }
    assert(slot.state == net::SlotState::free);
    stats_[Stat::slots_busy].set(slots_usable_ - free_slots_.size());
    return &slot;
}

bool Shard::register_slots_through(std::uint32_t last) {
    assert(last < arena_->slot_count());
    for (; slots_registered_ <= last; ++slots_registered_) {
        try {
            ring_->register_buffer_at(slots_registered_, arena_->iovecs()[slots_registered_]);
        } catch (const net::RingError& error) {
            slot_pin_error_ = error.what();
            return false;
        }
    }
    return true;
}

// Batches made but not yet handed to the transport, at most: for HTTP the
// pipelines' capacity (depth x connections), enough to refill every request
// in flight at once. More would only pin slots a near sink never needs.
std::size_t Shard::ready_ahead_max() const {
    return http_ != nullptr ? std::size_t{http_->pipeline_depth()} * plan_.sink.http.connections : slots_.size();
}

// HTTP and HTTPS: as many slots as the pipelines' depth asks, fewer when they
// would pass the memory budget or what the memlock limit lets io_uring
// register (a non-root user without CAP_IPC_LOCK: 8 MiB by default), and
// the depth bound to the slots kept. status shows the depth reached.
void Shard::fit_pipeline_to_budget(std::size_t slot_bytes) {
    net::HttpTransportConfig& http = plan_.sink.http;
    const std::size_t budget = pipeline_slot_budget_bytes(plan_, slot_bytes, net::memlock_budget_bytes(plan_.count));
    const net::PipelineSlots fitted = net::fit_pipeline_slots(plan_.slots, http.connections, slot_bytes, budget);
    plan_.slots = fitted.slots;
    http.pipeline_depth_max = std::min(http.pipeline_depth_max, fitted.depth_max);
}

// An HTTP log API preset: the engine renders into raw_batch_ (what a slot
// would hold), the writer writes the API's body from it, at most the bound
// of the largest batch the engine makes (batch_bytes_max, or one event more
// than it when a single event is larger); compressed, through api_batch_.
// Returns the slot's body size.
std::size_t Shard::plan_api_buffers(std::size_t rendered_bytes_max) {
    api_writer_ = std::make_unique<net::ApiBodyWriter>(plan_.sink.api, plan_.batch_events);
    raw_batch_bytes_ = rendered_bytes_max;
    raw_batch_ = std::make_unique_for_overwrite<char[]>(net::json_array_head_room_bytes + raw_batch_bytes_);
    const std::size_t raw_max = engine_bytes_max_ > 0
                                    ? std::min(raw_batch_bytes_, std::max(engine_bytes_max_, engine_->event_bytes_max()))
                                    : raw_batch_bytes_;
    std::size_t body_bytes_max = net::api_body_bytes_bound(plan_.sink.api, raw_max, plan_.batch_events);
    if (plan_.compression.zstd || plan_.compression.gzip) {
        api_batch_bytes_ = body_bytes_max;
        api_batch_ = std::make_unique_for_overwrite<char[]>(api_batch_bytes_);
        body_bytes_max = make_compressor(api_batch_bytes_);
    }
    return body_bytes_max;
}

// The shard's one compression context (zstd or gzip); returns the most
// bytes it writes for input_bytes_max of input.
std::size_t Shard::make_compressor(std::size_t input_bytes_max) {
    if (plan_.compression.gzip) {
        gzip_ = std::make_unique<net::GzipCompressor>(plan_.compression.level);
        return net::GzipCompressor::bound_bytes(input_bytes_max);
    }
    compressor_ = plan_.compression.zstd_fast ? std::make_unique<net::ZstdCompressor>(net::zstd_fast_profile())
                                              : std::make_unique<net::ZstdCompressor>(plan_.compression.level);
    return net::ZstdCompressor::bound_bytes(input_bytes_max);
}

std::size_t Shard::compress(std::span<const char> payload, std::span<char> body) {
    return gzip_ ? gzip_->compress(payload, body) : compressor_->compress(payload, body);
}

// The API's body for the batch rendered at `raw`, in the slot's body or
// api_batch_ (to be compressed). Throws if the writer refuses, which the
// bounds above rule out: the shard stops with the writer's reason.
std::span<const char> Shard::write_api_body(std::span<const char> rendered, std::uint32_t events, std::span<char> body) {
    const std::span<char> into = api_batch_ ? std::span<char>(api_batch_.get(), api_batch_bytes_) : body;
    const std::size_t written = api_writer_->write({rendered.data(), rendered.size()}, events, into);
    if (written == 0) {
        throw std::runtime_error(std::string("cannot write the ") + std::string(net::log_api_name(plan_.sink.api.api)) +
                                 " request body: " + (api_writer_->error() ? api_writer_->error() : "unknown error"));
    }
    return {into.data(), written};
}

// Fills the slot with the scenario's next batch; returns its events, 0 when
// there is none (a backfill that is complete).
std::uint32_t Shard::generate_into(net::Slot& slot, std::uint32_t event_count) {
    slot.move_to(net::SlotState::filling);
    slot.attempts = 0;
    slot.not_before_ns = 0;
    slot.body_offset = bounds::http_head_room_bytes;

    const std::span<char> body(slot.data + slot.body_offset, slot.capacity_bytes - slot.body_offset);
    const std::span<char> raw = raw_batch_ ? std::span<char>(raw_batch_.get() + net::json_array_head_room_bytes, raw_batch_bytes_)
                                           : body;
    assert(raw.size() >= std::size_t{event_count} * engine_->event_bytes_max());
    if (plan_.checkpoint_share != nullptr) journal_size(event_count);
    const core::ScenarioEngine::Batch batch = engine_->next(event_count, realtime_ns(), raw);
    if (batch.events == 0) return 0;
    if (plan_.checkpoint_share != nullptr) {
        slot_batch_[slot.index] = next_batch_++;
        slot_events_before_[slot.index] = stream_events_;
        stream_events_ += batch.events;
    }
    // The request body: the batch as rendered or (JSON array) turned into one
    // in place, the '[' landing in the byte before it; then compressed.
    std::span<const char> payload(raw.data(), batch.bytes);
    if (plan_.sink.body_format == net::BodyFormat::json_array) payload = net::ndjson_to_json_array(raw.data(), batch.bytes);
    if (api_writer_) payload = write_api_body(payload, batch.events, body);
    if (compressor_ || gzip_) {
        slot.body_bytes = compress(payload, body);
        stats_[Stat::body_bytes_uncompressed].add(payload.size());
        stats_[Stat::body_bytes_compressed].add(slot.body_bytes);
    } else if (api_writer_) {
        slot.body_bytes = payload.size();  // written at the body's start
    } else {
        slot.body_offset -= static_cast<std::size_t>(raw.data() - payload.data());
        slot.body_bytes = payload.size();
    }
    slot.route = routes_[batch.source];
    slot.events = batch.events;
    events_generated_ += batch.events;
    stats_[Stat::events_generated].add(batch.events);
    if (batch.source < bounds::scenario_sources_counted_max) stats_.source_events[batch.source].add(batch.events);
    stats_[Stat::bytes_generated].add(batch.bytes);
    stats_[Stat::roots_done].set(engine_->roots_done());
    stats_[Stat::dependents_pending].set(engine_->pending());

    slot.move_to(net::SlotState::queued);
    queue_.push_back(slot.index);
    stats_.backpressured.store(false, std::memory_order_relaxed);
    return batch.events;
}

void Shard::dispatch(std::int64_t now_ns) {
    // A batch whose retry time ran out while it waited (for its backoff, or
    // for a connection) fails now, not at its next attempt.
    fail_spent_queued(now_ns);
    // Oldest first; a slot still backing off does not hold up the others.
    std::size_t kept = 0;
    bool capacity = true;
    for (std::size_t i = 0; i < queue_.size(); ++i) {
        net::Slot& slot = slots_[queue_[i]];
        if (capacity && slot.not_before_ns <= now_ns) {
            if (transport_->try_start(slot, now_ns)) {
                stats_[Stat::requests_sent].add(1);
                continue;
            }
            capacity = false;
        }
        queue_[kept++] = queue_[i];
    }
    queue_.resize(kept);
}

std::int64_t Shard::wait_ns(std::int64_t now_ns) const {
    if (can_fill_now()) return 0;
    std::int64_t until_ns = now_ns + control_poll_ns;
    if (!generation_done_ && !paused_ && !engine_blocked_ && !free_slots_.empty() && queue_.size() < ready_ahead_max() &&
        rate_eps_ > 0) {
        const double missing = batch_target_ - tokens_;
        until_ns = std::min(until_ns, now_ns + static_cast<std::int64_t>(missing / rate_eps_ * ns_per_s) + 1);
    }
    // A queued batch backing off wakes the shard when its time comes. One
    // that is ready waits for the transport to have room, which a
    // completion (or the transport's own deadline) brings: waking for it
    // now would only spin.
    for (std::uint32_t index : queue_) {
        if (slots_[index].not_before_ns > now_ns) until_ns = std::min(until_ns, slots_[index].not_before_ns);
        const std::int64_t since = slot_retry_since_ns_[index];
        if (since != 0 && plan_.retry_for_ns > 0) until_ns = std::min(until_ns, since + plan_.retry_for_ns);
    }
    until_ns = std::min(until_ns, transport_->next_deadline_ns());
    if (!generation_done_ && plan_.duration_ns > 0) until_ns = std::min(until_ns, started_ns_ + plan_.duration_ns);
    if (drain_deadline_ns_ > 0 && !drain_expired_) until_ns = std::min(until_ns, drain_deadline_ns_);
    return std::max<std::int64_t>(until_ns - now_ns, 1000);
}

std::int64_t Shard::retry_backoff_ns(std::uint32_t attempts) {
    return retry_backoff_.delay_ns(attempts - 1, plan_.retry_backoff_min_ns, plan_.retry_backoff_max_ns);
}

void Shard::on_slot_settled(net::Slot& slot, std::int64_t now_ns) {
    assert(slot.kernel_done());
    // Every attempt's latency, by how it ended; the bytes of every answered
    // one: a request the sink refused was sent all the same.
    const auto latency_ns = static_cast<std::uint64_t>(now_ns - slot.send_started_ns);
    const LatencyOutcome outcome = latency_outcome(slot.verdict, slot.reason);
    stats_.latency_of(outcome).record(latency_ns);
    if (outcome != LatencyOutcome::no_answer) stats_[Stat::bytes_sent].add(slot.wire_bytes);
    switch (slot.verdict) {
        case net::Verdict::acked: {
            stats_[Stat::requests_acked].add(1);
            stats_[Stat::latency_ns_sum].add(latency_ns);
            const std::uint32_t rejected = slot.events - slot.acked_events;
            if (rejected > 0) {
                stats_.events_failed_by_reason[static_cast<int>(net::FailReason::partial)].add(rejected);
                stats_.events_failed.add(rejected);
            }
            stats_[Stat::events_acked].add(slot.acked_events);
            rejected_in_row_ = 0;
            sink_available();
            release(slot);
            return;
        }
        case net::Verdict::failed:
            last_failure_reason_ = slot.reason;
            sink_available();  // it answered, if only to refuse
            count_rejection(slot);
            fail_slot(slot, slot.reason);
            return;
        case net::Verdict::retry: {
            stats_[Stat::requests_retried].add(1);
            if (drain_expired_) {
                fail_slot(slot, net::FailReason::drain_timeout);
                return;
            }
            const bool charged = slot.attempt_charged;
            slot.attempt_charged = true;
            if (charged) ++slot.attempts;
            start_retry_clock(slot, now_ns);
            sink_unavailable(now_ns);
            if (retry_time_spent(slot, now_ns) || fatal_seen_) {
                fail_slot(slot, slot.reason);
                return;
            }
            slot.not_before_ns = std::max(now_ns + retry_backoff_ns(std::max(slot.attempts, 1u)), slot.retry_at_ns);
            slot.move_to(net::SlotState::queued);
            queue_.push_back(slot.index);
            return;
        }
    }
}

std::int64_t Shard::on_sink_unreachable(net::FailReason reason, std::int64_t now_ns) {
    // Every waiting batch's retry clock runs while the sink cannot be
    // reached, so a sink that is down for longer than retry_for ends in
    // failed batches rather than a run that never ends. The attempt is
    // charged to the oldest batch, once per its backoff period however many
    // connections failed in it: that paces the reconnects.
    last_failure_reason_ = reason;  // what a fatal error (a certificate) fails the waiting batches with
    if (queue_.empty()) return INT64_MAX;
    sink_unavailable(now_ns);
    for (std::uint32_t index : queue_) {
        start_retry_clock(slots_[index], now_ns);
        slots_[index].reason = reason;  // what it fails with if its time runs out now
    }
    fail_spent_queued(now_ns);
    if (queue_.empty()) return INT64_MAX;
    net::Slot& slot = slots_[queue_.front()];
    if (now_ns < slot.not_before_ns) return slot.not_before_ns;
    stats_[Stat::requests_retried].add(1);
    ++slot.attempts;
    slot.not_before_ns = now_ns + retry_backoff_ns(slot.attempts);
    return slot.not_before_ns;
}

void Shard::start_retry_clock(const net::Slot& slot, std::int64_t now_ns) {
    std::int64_t& since = slot_retry_since_ns_[slot.index];
    if (since != 0) return;
    since = now_ns;
    stats_[Stat::batches_retrying].set(++batches_retrying_);
}

bool Shard::retry_time_spent(const net::Slot& slot, std::int64_t now_ns) const {
    const std::int64_t since = slot_retry_since_ns_[slot.index];
    return plan_.retry_for_ns > 0 && since != 0 && now_ns - since >= plan_.retry_for_ns;
}

// Fails the queued batches whose retry time is spent, with their last
// attempt's reason, keeping the others in order.
void Shard::fail_spent_queued(std::int64_t now_ns) {
    if (batches_retrying_ == 0 || plan_.retry_for_ns <= 0) return;
    std::size_t kept = 0;
    for (std::uint32_t index : queue_) {
        net::Slot& slot = slots_[index];
        if (retry_time_spent(slot, now_ns)) {
            fail_slot(slot, slot.reason == net::FailReason::none ? net::FailReason::connect : slot.reason);
        } else {
            queue_[kept++] = index;
        }
    }
    queue_.resize(kept);
}

// The sink's attempts started failing (connects, timeouts, 5xx, 429): the
// control thread says so once, with the cause, and shows it until an answer.
void Shard::sink_unavailable(std::int64_t now_ns) {
    if (unavailable_since_ns_ != 0) return;
    unavailable_since_ns_ = now_ns;
    stats_.sink_unavailable_since_ns.set(static_cast<std::uint64_t>(realtime_ns()));
}

// The sink answers again: the batches that waited out the outage go now,
// not when their backoff (grown through the outage, up to its cap) would
// have let them; a wait the sink asked for (429, Retry-After) still holds.
void Shard::sink_available() {
    if (unavailable_since_ns_ == 0) return;
    unavailable_since_ns_ = 0;
    stats_.sink_unavailable_since_ns.set(0);
    stats_.next_attempt_ns.set(0);
    for (std::uint32_t index : queue_) {
        net::Slot& slot = slots_[index];
        slot.not_before_ns = std::min(slot.not_before_ns, slot.retry_at_ns);
    }
}

// A batch refused for good (400, 413): when batch after batch is, nothing
// this run makes will be taken; stop generating and say what the sink said.
// Allocates the message, once, as the shard gives up.
void Shard::count_rejection(const net::Slot& slot) {
    if (slot.reason != net::FailReason::rejected || fatal_seen_ || ++rejected_in_row_ < rejected_in_row_max) return;
    fatal_seen_ = true;
    const net::FailureFacts& last = transport_->counters().last_failure;
    std::string text = "the sink refused " + std::to_string(rejected_in_row_) + " batches in a row";
    if (last.http_status != 0) text += " (HTTP " + std::to_string(last.http_status) + ": " + std::string(last.detail_text()) + ")";
    text += "; stopping rather than generate more it would refuse";
    {
        std::lock_guard lock(error_.mutex);
        error_.text = std::move(text);
    }
    if (!generation_done_) finish_generation();
    fail_queued(net::FailReason::rejected);
}

void Shard::fail_slot(net::Slot& slot, net::FailReason reason) {
    // The checkpoint records a failed batch (release publishes it): a resume sends it again.
    if (plan_.checkpoint_share != nullptr && slot.events > 0) {
        plan_.checkpoint_share->fail({slot_batch_[slot.index], slot_events_before_[slot.index]}, slot.events);
    }
    stats_[Stat::requests_failed].add(1);
    stats_.events_failed_by_reason[static_cast<int>(reason)].add(slot.events);
    stats_.events_failed.add(slot.events);
    release(slot);
}

void Shard::fail_queued(net::FailReason reason) {
    for (std::uint32_t index : queue_) fail_slot(slots_[index], reason);
    queue_.clear();
}

void Shard::release(net::Slot& slot) {
    slot.move_to(net::SlotState::free);
    if (slot_retry_since_ns_[slot.index] != 0) {
        slot_retry_since_ns_[slot.index] = 0;
        stats_[Stat::batches_retrying].set(--batches_retrying_);
    }
    slot.events = 0;
    free_slots_.push_back(slot.index);
    stats_[Stat::slots_busy].set(slots_usable_ - free_slots_.size());
    if (plan_.checkpoint_share != nullptr) {
        slot_batch_[slot.index] = UINT64_MAX;
        publish_settled();
    }
}

// ---- checkpoint journal

// A resumed shard makes the batches below the checkpoint's watermark again,
// in order, in the same sizes and with the same sources on and off: the
// engine's state after each depends on all before it. The acknowledged ones
// are made into scratch and not sent; the failed ones are made into slots by
// fill() and sent like any batch. Here, at start-up: everything up to the
// first failed batch (all of it when none failed), and the journal this run
// goes on from.
void Shard::replay(const ShardJournal& journal) {
    replay_ = &journal;
    ShardJournal kept = journal;
    kept.trim_to_settled();
    assert(kept.batches == journal.batches);  // parse_checkpoint refused ranges past the watermark
    kept.failed.clear();  // sent again by this run, which records its own failures
    // A restarted daemon runs every source: what the old run had turned off
    // at the watermark is on again from there. Seeded with the rest, so the
    // ring starts empty.
    std::vector<bool> enabled(engine_->scenario().sources.size());
    for (std::uint16_t i = 0; i < enabled.size(); ++i) enabled[i] = engine_->enabled(i);
    for (const ShardJournal::Toggle& toggle : kept.toggles) {
        if (toggle.source < enabled.size()) enabled[toggle.source] = toggle.enabled;
    }
    for (std::uint16_t i = 0; i < enabled.size(); ++i) {
        if (!enabled[i]) kept.toggles.push_back({journal.batches, i, true});
    }
    journaled_size_ = kept.sizes.empty() ? 0 : kept.sizes.back().max_events;
    plan_.checkpoint_share->seed(std::move(kept.sizes), std::move(kept.toggles));
    stats_[Stat::events_resumed].set(journal.events - journal.failed_events());
    replay_skip(replay_scratch(slots_.front()));
    stats_[Stat::roots_resumed].set(engine_->roots_done());
    stats_[Stat::roots_done].set(engine_->roots_done());
}

// The size of the next batch to send again, the acknowledged ones before it
// made (into the free slot's buffer) and passed over; 0 once the replay is
// over. Allocation-free: the journal was read at start-up.
std::uint32_t Shard::replay_next_size() {
    assert(replay_ != nullptr && !free_slots_.empty());
    replay_skip(replay_scratch(slots_[free_slots_.back()]));
    return replay_ != nullptr ? replay_batch_size_ : 0;
}

// Where a batch made again but not sent is rendered: the buffer the engine
// renders into when the slot holds something else (a compressed frame, an
// API's body, which may be smaller than the rendered batch), else the free
// slot's body.
std::span<char> Shard::replay_scratch(net::Slot& free_slot) const {
    if (raw_batch_) return {raw_batch_.get() + net::json_array_head_room_bytes, raw_batch_bytes_};
    return {free_slot.data + bounds::http_head_room_bytes, free_slot.capacity_bytes - bounds::http_head_room_bytes};
}

// Makes the acknowledged batches from next_batch_ on again without sending
// them, up to the next failed one (whose size and toggles it applies) or the
// watermark, where the replay ends.
void Shard::replay_skip(std::span<char> scratch) {
    const ShardJournal& journal = *replay_;
    while (next_batch_ < journal.batches) {
        replay_apply_journal();
        if (replay_sends(next_batch_)) return;
        const core::ScenarioEngine::Batch batch =
            replay_batch_size_ == 0 ? core::ScenarioEngine::Batch{} : engine_->next(replay_batch_size_, 0, scratch);
        if (batch.events == 0) {
            throw std::runtime_error("the checkpoint does not fit this run: shard " + std::to_string(plan_.index) +
                                     " has no batch " + std::to_string(next_batch_) + " to replay; remove the checkpoint");
        }
        ++next_batch_;
        stream_events_ += batch.events;
    }
    if (stream_events_ != journal.events) {
        throw std::runtime_error("the checkpoint does not fit this run: shard " + std::to_string(plan_.index) +
                                 " replayed " + std::to_string(stream_events_) + " events where the checkpoint says " +
                                 std::to_string(journal.events) + "; remove the checkpoint");
    }
    for (std::uint16_t i = 0; i < engine_->scenario().sources.size(); ++i) engine_->set_enabled(i, true);  // as seeded
    replay_ = nullptr;
    publish_settled();
}

// The journal's toggles and size for batch next_batch_.
void Shard::replay_apply_journal() {
    const ShardJournal& journal = *replay_;
    for (; replay_toggle_next_ < journal.toggles.size() && journal.toggles[replay_toggle_next_].at_batch <= next_batch_;
         ++replay_toggle_next_) {
        engine_->set_enabled(journal.toggles[replay_toggle_next_].source, journal.toggles[replay_toggle_next_].enabled);
    }
    for (; replay_size_next_ < journal.sizes.size() && journal.sizes[replay_size_next_].from_batch <= next_batch_;
         ++replay_size_next_) {
        replay_batch_size_ = journal.sizes[replay_size_next_].max_events;
    }
}

// Whether `batch` (next_batch_, which only grows) failed in the checkpointed
// run: then it is sent again. Checks that the run made as many events
// before it as that one did.
bool Shard::replay_sends(std::uint64_t batch) {
    const std::vector<ShardJournal::FailedRange>& failed = replay_->failed;
    for (; replay_failed_next_ < failed.size() && failed[replay_failed_next_].end() <= batch; ++replay_failed_next_) {
    }
    if (replay_failed_next_ == failed.size() || failed[replay_failed_next_].from > batch) return false;
    const ShardJournal::FailedRange& range = failed[replay_failed_next_];
    if (batch == range.from && stream_events_ != range.events_before) {
        throw std::runtime_error("the checkpoint does not fit this run: shard " + std::to_string(plan_.index) +
                                 " made " + std::to_string(stream_events_) + " events before batch " +
                                 std::to_string(batch) + " where the checkpoint says " +
                                 std::to_string(range.events_before) + "; remove the checkpoint");
    }
    return true;
}

// Appends only when the size changes: a new rate, a batch cut to the budget.
void Shard::journal_size(std::uint32_t event_count) {
    if (replay_ != nullptr) return;  // below the watermark: the seed has the sizes
    if (event_count == journaled_size_) return;
    journaled_size_ = event_count;
    plan_.checkpoint_share->journal_size({next_batch_, stream_events_}, event_count);
}

// Lock-free and allocation-free, like journal_size: a full ring holds the
// checkpoint back rather than the shard (daemon/checkpoint_share.hpp).
void Shard::journal_toggle(std::uint16_t source, bool enabled) {
    plan_.checkpoint_share->journal_toggle({next_batch_, stream_events_}, source, enabled);
}

// The settled prefix: every batch before the oldest one still held by a
// slot. The failed ones among them the share has been told of (fail_slot).
void Shard::publish_settled() {
    ShardCheckpointShare::Prefix prefix{next_batch_, stream_events_};
    for (std::size_t i = 0; i < slot_batch_.size(); ++i) {
        if (slot_batch_[i] < prefix.batches) prefix = {slot_batch_[i], slot_events_before_[i]};
    }
    plan_.checkpoint_share->publish(prefix);  // held back to what the control thread can see; no-op if unchanged
}

}  // namespace supervent::daemon
