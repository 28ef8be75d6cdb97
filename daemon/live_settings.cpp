#include "daemon/daemon_shared.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <stdexcept>

#include "config/load.hpp"
#include "config/toml_write.hpp"
#include "core/bounds.hpp"
#include "daemon/api_planning.hpp"
#include "daemon/log.hpp"
#include "daemon/postgres_plan.hpp"
#include "net/body_format.hpp"
#include "net/http_request.hpp"

namespace supervent::daemon {

namespace {

// Every setting a reload or `set` may touch: whether it can change while
// running, and how to tell it changed. The others need a restart.
struct SettingKey {
    std::string_view name;
    bool live;
    bool (*differs)(const config::Settings&, const config::Settings&);
    // Part of the scenario: a reload compiles the new one and swaps it in
    // live (Shared::reload); `set` refuses it (it belongs in the file).
    bool scenario = false;
};

using S = config::Settings;
constexpr SettingKey setting_keys[] = {
    {"generation.rate", true, [](const S& a, const S& b) { return a.rate_eps != b.rate_eps; }},
    {"generation.events", true, [](const S& a, const S& b) { return a.events != b.events; }},
    {"generation.duration", true, [](const S& a, const S& b) { return a.duration_s != b.duration_s; }},
    {"monitoring.progress", true, [](const S& a, const S& b) { return a.progress != b.progress; }},
    {"monitoring.progress_interval_ms", true,
     [](const S& a, const S& b) { return a.progress_interval_ms != b.progress_interval_ms; }},
    {"monitoring.log_level", true, [](const S& a, const S& b) { return a.log_level != b.log_level; }},
    {"runtime.workers", false, [](const S& a, const S& b) { return a.workers != b.workers; }},
    {"runtime.batch_events", false, [](const S& a, const S& b) { return a.batch_events != b.batch_events; }},
    {"runtime.pin_threads", false, [](const S& a, const S& b) { return a.pin_threads != b.pin_threads; }},
    {"runtime.watch_config", false, [](const S& a, const S& b) { return a.watch_config != b.watch_config; }},
    {"runtime.drain_timeout", false, [](const S& a, const S& b) { return a.drain_timeout_s != b.drain_timeout_s; }},
    {"runtime.socket", false, [](const S& a, const S& b) { return a.socket_path != b.socket_path; }},
    {"runtime.socket_group", false, [](const S& a, const S& b) { return a.socket_group != b.socket_group; }},
    {"runtime.socket_allowed_uids", false,
     [](const S& a, const S& b) { return a.socket_allowed_uids != b.socket_allowed_uids; }},
    {"runtime.socket_allowed_gids", false,
     [](const S& a, const S& b) { return a.socket_allowed_gids != b.socket_allowed_gids; }},
    {"network.connections", false, [](const S& a, const S& b) { return a.connections != b.connections; }},
    {"network.zero_copy", false, [](const S& a, const S& b) { return a.zero_copy != b.zero_copy; }},
    {"network.bind", false, [](const S& a, const S& b) { return a.bind != b.bind; }},
    {"sink.compression", false,
     [](const S& a, const S& b) {
         return a.compression.zstd != b.compression.zstd || a.compression.level != b.compression.level ||
                a.compression.gzip != b.compression.gzip || a.compression.zstd_fast != b.compression.zstd_fast;
     }},
    {"network.tcp_nodelay", false, [](const S& a, const S& b) { return a.tcp_nodelay != b.tcp_nodelay; }},
    {"network.pipeline_depth_max", false,
     [](const S& a, const S& b) { return a.pipeline_depth_max != b.pipeline_depth_max; }},
    {"network.connect_timeout", false,
     [](const S& a, const S& b) { return a.connect_timeout_s != b.connect_timeout_s; }},
    {"network.request_timeout", false,
     [](const S& a, const S& b) { return a.request_timeout_s != b.request_timeout_s; }},
    {"generation.seed", false, [](const S& a, const S& b) { return a.seed != b.seed; }},
    // The scenario: a reload swaps it in live, between batches.
    {"generation.scenario", true, [](const S& a, const S& b) { return a.scenario != b.scenario; }, true},
    // Compared without their origins (file, line): a comment added above a
    // source is no change.
    {"sources", true,
     [](const S& a, const S& b) {
         if (a.sources.size() != b.sources.size()) return true;
         for (std::size_t i = 0; i < a.sources.size(); ++i) {
             if (config::without_origins(a.sources[i]) != config::without_origins(b.sources[i])) return true;
         }
         return false;
     },
     true},
    {"scenario", true,
     [](const S& a, const S& b) {
         return config::without_origins(a.scenario_spec) != config::without_origins(b.scenario_spec);
     },
     true},
    {"generation.start", true, [](const S& a, const S& b) { return a.window_start_ns != b.window_start_ns; }, true},
    {"generation.end", true, [](const S& a, const S& b) { return a.window_end_ns != b.window_end_ns; }, true},
    {"generation.live", true, [](const S& a, const S& b) { return a.live != b.live; }, true},
    {"sink.dataset", true, [](const S& a, const S& b) { return a.dataset != b.dataset; }, true},
    {"sink.url", false, [](const S& a, const S& b) { return a.sink.text != b.sink.text; }},
    {"sink.token_file", false, [](const S& a, const S& b) { return a.token_file != b.token_file; }},
    {"sink.token", false, [](const S& a, const S& b) { return a.token != b.token; }},
    {"runtime.batch_bytes", false, [](const S& a, const S& b) { return a.batch_bytes_max != b.batch_bytes_max; }},
    {"sink.format", false, [](const S& a, const S& b) { return a.format != b.format; }},
    {"sink.edge", false, [](const S& a, const S& b) { return a.edge != b.edge; }},
    {"sink.event_labels", false, [](const S& a, const S& b) { return a.event_labels != b.event_labels; }},
    {"sink.rotate_bytes", false, [](const S& a, const S& b) { return a.rotate_bytes != b.rotate_bytes; }},
    {"sink.rotate_keep", false, [](const S& a, const S& b) { return a.rotate_keep != b.rotate_keep; }},
    {"sink.ca_file", false, [](const S& a, const S& b) { return a.ca_file != b.ca_file; }},
    {"sink.tls_skip_verify", false, [](const S& a, const S& b) { return a.tls_skip_verify != b.tls_skip_verify; }},
    {"monitoring.metrics_listen", false, [](const S& a, const S& b) { return a.metrics_listen != b.metrics_listen; }},
    {"monitoring.dashboard_token_file", false,
     [](const S& a, const S& b) { return a.dashboard_token_file != b.dashboard_token_file; }},
};

const SettingKey* find_setting(std::string_view name) {
    const SettingKey* found = nullptr;
    for (const SettingKey& key : setting_keys) {
        if (key.name == name) return &key;
        const auto dot = key.name.find('.');
        if (key.name.substr(dot + 1) == name) {
            if (found != nullptr) return nullptr;  // ambiguous without its section
            found = &key;
        }
    }
    return found;
}

std::string live_key_list() {
    std::string names;
    for (const SettingKey& key : setting_keys) {
        if (key.live && !key.scenario) names += (names.empty() ? "" : ", ") + std::string(key.name);
    }
    return names;
}

// Whether a reload must compile and swap in a new scenario.
bool scenario_differs(const config::Settings& a, const config::Settings& b) {
    for (const SettingKey& key : setting_keys) {
        if (key.scenario && key.differs(a, b)) return true;
    }
    // --events sizes a window whose sources have no volume entries.
    return a.events != b.events && b.window_start_ns.has_value();
}

std::string name_list(const std::vector<std::string>& names) {
    std::string text;
    for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
    return text.empty() ? "none" : text;
}

// A value from a `set` request as TOML: numbers and booleans as they are,
// anything else a quoted string ("unlimited", "5m", a path).
std::string toml_value(std::string_view text) {
    if (text == "true" || text == "false") return std::string(text);
    double number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (!text.empty() && error == std::errc() && end == text.data() + text.size()) return std::string(text);
    std::string quoted = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') quoted += '\\';
        if (static_cast<unsigned char>(c) < 0x20) continue;  // no control characters in a setting
        quoted += c;
    }
    return quoted + "\"";
}

}  // namespace

void Daemon::Shared::push_pause() {
    const bool pause = paused;
    for (std::uint32_t i = 0; i < shard_count; ++i) controls[i].paused.store(pause, std::memory_order_release);
}

void Daemon::Shared::push_rate() {
    // The rate is the whole fleet's (--shard I/N): this part runs 1/N of it.
    const double share = settings.rate_eps ? *settings.rate_eps / settings.shard_count / shard_count : 0;
    for (std::uint32_t i = 0; i < shard_count; ++i) controls[i].rate_eps.store(share, std::memory_order_release);
}

// A new event limit: what is left of it (the limit less what all shards
// generated so far) is split evenly on top of what each has generated, so
// the run ends at exactly the limit unless a shard outruns its share before
// it reads the new budget (then by at most that shard's excess). A limit
// already reached stops every shard now. (A budget of 0 would mean
// unlimited, so a shard that has generated nothing and gets no share is
// given 1: the run may end one event per such shard past the limit.)
void Daemon::Shared::push_events() {
    std::vector<std::uint64_t> generated(shard_count);
    std::uint64_t total = 0;
    for (std::uint32_t i = 0; i < shard_count; ++i) total += generated[i] = stats[i][Stat::events_generated].get();
    const std::uint64_t left = settings.events > total ? settings.events - total : 0;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const std::uint64_t budget = settings.events == 0 ? 0 : std::max<std::uint64_t>(1, generated[i] + share_of(left, i, shard_count));
        controls[i].events_budget.store(budget, std::memory_order_release);
    }
}

void Daemon::Shared::push_duration() {
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        controls[i].duration_ns.store(static_cast<std::int64_t>(settings.duration_s * ns_per_s), std::memory_order_release);
    }
}

void Daemon::Shared::apply_live(const config::Settings& next, std::vector<std::string_view>& changed,
                                std::vector<std::string_view>& restart_needed) {
    for (const SettingKey& key : setting_keys) {
        if (!key.differs(settings, next)) continue;
        (key.live ? changed : restart_needed).push_back(key.name);
    }
    if (changed.empty()) return;
    const bool rate_changed = settings.rate_eps != next.rate_eps;
    const bool events_changed = settings.events != next.events;
    const bool duration_changed = settings.duration_s != next.duration_s;
    settings.rate_eps = next.rate_eps;
    settings.events = next.events;
    settings.duration_s = next.duration_s;
    settings.progress = next.progress;
    settings.progress_interval_ms = next.progress_interval_ms;
    settings.log_level = next.log_level;
    if (const auto level = log::parse_level(settings.log_level)) log::set_level(*level);
    if (rate_changed) push_rate();
    if (events_changed) push_events();
    if (duration_changed) push_duration();
}

// The start-up scenario as the shards were planned: one route per source.
void Daemon::Shared::init_scenario() {
    if (plans.empty()) return;
    scenario = plans.front().scenario;
    scenario_generation = 0;
    scenario_history = {{0, scenario}};
    routes.clear();
    route_datasets.clear();
    route_paths.clear();
    const net::HttpTransportConfig& http = plans.front().sink.http;
    for (std::size_t i = 0; i < scenario->sources.size(); ++i) {
        routes.push_back(static_cast<std::uint16_t>(i));
        route_datasets.push_back(scenario->sources[i].dataset);
        route_paths.push_back(i == 0 ? http.target.path : (i - 1 < http.route_paths.size() ? http.route_paths[i - 1] : ""));
    }
    source_enabled.assign(scenario->sources.size(), 1);
    std::size_t event_bytes = 0;
    for (const core::ScenarioSource& source : scenario->sources) event_bytes = std::max(event_bytes, source.program->event_bytes_max);
    batch_room_bytes = std::size_t{plans.front().batch_events} * event_bytes;
}

// Compiles and checks a reload's scenario and maps its sources to routes,
// changing nothing: throws with the reason for the operator.
ScenarioSwap Daemon::Shared::prepare_scenario(config::Settings& next) const {
    ScenarioSwap swap;
    swap.scenario = compile_run_scenario(next);
    // No --rate and no rate in the file: the new scenario's event frequencies.
    next.rate_eps = run_rate_eps(next, *swap.scenario);
    swap.needed = scenario_differs(settings, next) && scenario != nullptr;
    if (!swap.needed) return swap;
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        const ShardPhase phase = stats[i].phase.load(std::memory_order_acquire);
        if (phase != ShardPhase::starting && phase != ShardPhase::running) {
            throw std::runtime_error("a new scenario needs a restart: worker " + std::to_string(i) + " is " +
                                     shard_phase_name(phase) + " (a backfill that ended, or a limit reached)");
        }
    }
    const core::CompiledScenario& after = *swap.scenario;
    std::size_t event_bytes = 0;
    for (const core::ScenarioSource& source : after.sources) event_bytes = std::max(event_bytes, source.program->event_bytes_max);
    if (batch_room_bytes > 0 && event_bytes > batch_room_bytes) {
        throw std::runtime_error("the new scenario's largest event (" + std::to_string(event_bytes) +
                                 " bytes) does not fit the send buffers sized at start-up (" +
                                 std::to_string(batch_room_bytes) + " bytes per batch): restart superventd to run it");
    }
    // Routes: a dataset already routed keeps its route; a new one is appended.
    using Kind = config::SinkUrl::Kind;
    const bool http = !plans.empty() && (settings.sink.kind == Kind::http || settings.sink.kind == Kind::https);
    swap.route_datasets = route_datasets;
    swap.route_paths = route_paths;
    for (const core::ScenarioSource& source : after.sources) {
        const auto known = std::find(swap.route_datasets.begin(), swap.route_datasets.end(), source.dataset);
        if (known != swap.route_datasets.end()) {
            swap.routes.push_back(static_cast<std::uint16_t>(known - swap.route_datasets.begin()));
            continue;
        }
        if (settings.sink.kind == Kind::postgresql) {
            // Its connections make their tables when they open, at start-up.
            throw std::runtime_error("dataset '" + source.dataset + "' is new to this run: a postgresql sink has its "
                                     "tables from start-up; restart superventd to write to a new table");
        }
        if (swap.route_datasets.size() >= bounds::http_routes_max) {
            throw std::runtime_error("dataset '" + source.dataset + "' would be the " +
                                     std::to_string(bounds::http_routes_max + 1) + "th of this run: at most " +
                                     std::to_string(bounds::http_routes_max) +
                                     " datasets per run, counting every one an earlier reload added; restart superventd");
        }
        std::string path;
        if (http) {
            path = sink_route_path(settings, source.dataset);
            net::IngestTarget target = plans.front().sink.http.target;
            target.path = path;
            if (net::RequestHead(target).bytes_max() + net::json_array_head_room_bytes > bounds::http_head_room_bytes) {
                throw std::runtime_error("the HTTP request head for dataset '" + source.dataset +
                                         "' does not fit its head room: shorten the dataset name or sink.event_labels");
            }
        }
        swap.routes.push_back(static_cast<std::uint16_t>(swap.route_datasets.size()));
        swap.route_datasets.push_back(source.dataset);
        swap.route_paths.push_back(path);
        swap.datasets_added.push_back(source.dataset);
    }
    if (settings.sink.kind == Kind::postgresql && !plans.empty()) {
        check_postgres_reload(next, after, swap.routes, plans.front().sink.postgres);  // typed tables keep their columns
    }
    // What changed, source by source (by name).
    auto spec_of = [](const config::Settings& from, const std::string& name) -> const core::SourceSpec* {
        for (const core::SourceSpec& spec : from.sources) {
            if (spec.name == name) return &spec;
        }
        return nullptr;
    };
    const core::CompiledScenario& before = *scenario;
    for (std::size_t i = 0; i < after.sources.size(); ++i) {
        const core::ScenarioSource& source = after.sources[i];
        const core::ScenarioSource* old = nullptr;
        std::size_t old_index = 0;
        for (std::size_t j = 0; j < before.sources.size(); ++j) {
            if (before.sources[j].name == source.name) {
                old = &before.sources[j];
                old_index = j;
            }
        }
        if (old == nullptr) {
            swap.added.push_back(source.name);
            swap.enabled.push_back(1);
            continue;
        }
        const core::SourceSpec* a = spec_of(settings, source.name);
        const core::SourceSpec* b = spec_of(next, source.name);
        const bool same = old->dataset == source.dataset && (a == nullptr) == (b == nullptr) &&
                          (a == nullptr || config::without_origins(*a) == config::without_origins(*b));
        (same ? swap.unchanged : swap.changed).push_back(source.name);
        swap.enabled.push_back(old_index < source_enabled.size() ? source_enabled[old_index] : 1);
    }
    for (const core::ScenarioSource& source : before.sources) {
        const bool kept = std::any_of(after.sources.begin(), after.sources.end(),
                                      [&](const core::ScenarioSource& s) { return s.name == source.name; });
        if (!kept) swap.removed.push_back(source.name);
    }
    return swap;
}

// Hands every shard the scenario and which sources are on.
void Daemon::Shared::push_change() {
    for (std::uint32_t i = 0; i < shard_count; ++i) {
        ShardControl& control = controls[i];
        {
            std::lock_guard lock(control.change_mutex);
            control.change.generation = scenario_generation;
            control.change.scenario = scenario;
            control.change.routes = routes;
            control.change.route_paths = route_paths;
            control.change.enabled = source_enabled;
        }
        control.change_version.fetch_add(1, std::memory_order_acq_rel);
    }
}

void Daemon::Shared::swap_scenario(ScenarioSwap& swap, const config::Settings& next) {
    settings.sources = next.sources;
    settings.scenario_spec = next.scenario_spec;
    settings.scenario = next.scenario;
    settings.dataset = next.dataset;
    settings.window_start_ns = next.window_start_ns;
    settings.window_end_ns = next.window_end_ns;
    settings.live = next.live;
    const std::shared_ptr<const core::CompiledScenario> before = scenario;
    scenario = swap.scenario;
    follow_incident(*before);
    ++scenario_generation;
    scenario_history[scenario_generation] = scenario;
    routes = std::move(swap.routes);
    route_datasets = std::move(swap.route_datasets);
    route_paths = std::move(swap.route_paths);
    source_enabled = std::move(swap.enabled);
    // Forget scenarios no shard runs any more.
    std::uint64_t oldest = scenario_generation;
    for (std::uint32_t i = 0; i < shard_count; ++i) oldest = std::min(oldest, stats[i].scenario_generation.get());
    std::erase_if(scenario_history, [&](const auto& entry) { return entry.first < oldest; });
    push_change();
    // A backfill ends by itself; a live scenario keeps the run's event limit.
    if (scenario->backfill || settings.events == 0) {
        for (std::uint32_t i = 0; i < shard_count; ++i) controls[i].events_budget.store(0, std::memory_order_release);
    } else {
        push_events();
    }
}

std::vector<std::optional<std::uint64_t>> Daemon::Shared::source_counts() const {
    std::vector<std::optional<std::uint64_t>> counts;
    if (!scenario) return counts;
    const std::size_t n = scenario->sources.size();
    for (std::size_t i = 0; i < n; ++i) {
        if (i < bounds::scenario_sources_counted_max) counts.emplace_back(0); else counts.emplace_back();
    }
    std::uint64_t values[bounds::scenario_sources_counted_max];
    for (std::uint32_t shard = 0; shard < shard_count; ++shard) {
        const ShardStats& s = stats[shard];
        std::uint64_t generation = UINT64_MAX;
        for (int attempt = 0; attempt < 10000; ++attempt) {  // a swap rewrites the counts in microseconds
            generation = s.scenario_generation.get();
            if (generation == UINT64_MAX) continue;
            for (std::size_t i = 0; i < bounds::scenario_sources_counted_max; ++i) values[i] = s.source_events[i].get();
            if (s.scenario_generation.get() == generation) break;
            generation = UINT64_MAX;
        }
        const auto ran = scenario_history.find(generation);
        if (ran == scenario_history.end()) continue;
        const core::CompiledScenario& theirs = *ran->second;
        for (std::size_t j = 0; j < theirs.sources.size() && j < bounds::scenario_sources_counted_max; ++j) {
            for (std::size_t i = 0; i < n && i < bounds::scenario_sources_counted_max; ++i) {
                if (theirs.sources[j].name == scenario->sources[i].name) *counts[i] += values[j];
            }
        }
    }
    return counts;
}

void Daemon::Shared::json_sources(JsonWriter& json) const {
    json.key("sources").begin_array();
    if (scenario) {
        const auto counts = source_counts();
        for (std::size_t i = 0; i < scenario->sources.size(); ++i) {
            json.begin_object()
                .field("name", scenario->sources[i].name)
                .field("dataset", scenario->sources[i].dataset)
                .field("enabled", i >= source_enabled.size() || source_enabled[i] != 0);
            json.key("events_generated");
            if (counts[i]) json.value(*counts[i]); else json.null();
            json.end_object();
        }
    }
    json.end_array();
    json.field("scenario_generation", scenario_generation);
}

ControlReply Daemon::Shared::reload(const std::string& path) {
    if (stop_requested) return ControlReply::refused("the daemon is stopping: nothing to reload");
    if (path.empty()) {
        return ControlReply::refused("no config file to reload: superventd was started without --config; name one: reload FILE");
    }
    notifier.notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()) + "\nSTATUS=reloading " + path);
    config::Settings next;
    ScenarioSwap swap;
    try {
        next = load_settings(path);
        // The scenario too is compiled and checked before anything changes.
        swap = prepare_scenario(next);
        if (swap.needed && checkpoint) {
            throw std::invalid_argument("the scenario of a checkpointed backfill (" + checkpoint->path +
                                        ") cannot change while it runs: its checkpoint replays this one. Let it "
                                        "finish, or stop it, remove the checkpoint and start the new scenario");
        }
    } catch (const std::exception& failure) {
        log::error("reload of %s refused, running on unchanged: %s", path.c_str(), failure.what());
        notifier.notify("READY=1\nSTATUS=reload refused: running on unchanged");
        return ControlReply::refused(std::string("reload refused, nothing changed: ") + failure.what());
    }
    std::vector<std::string_view> changed, restart_needed;
    apply_live(next, changed, restart_needed);
    // Every shard takes the new scenario between two batches: what is queued
    // or in flight settles as it was, to its own dataset, on the same connections.
    if (swap.needed) swap_scenario(swap, next);
    settings.config_path = next.config_path;
    ++reloads;
    last_reload_unix_s = std::time(nullptr);
    JsonWriter reply;
    reply.begin_object().field("ok", true).field("config", path);
    reply.key("changed").begin_array();
    for (std::string_view key : changed) reply.value(key);
    reply.end_array().key("restart_needed").begin_array();
    for (std::string_view key : restart_needed) reply.value(key);
    reply.end_array();
    reply.key("scenario");
    if (swap.needed) {
        auto names = [&reply](const char* key, const std::vector<std::string>& list) {
            reply.key(key).begin_array();
            for (const std::string& name : list) reply.value(name);
            reply.end_array();
        };
        reply.begin_object().field("generation", scenario_generation).field("backfill", scenario->backfill);
        names("added", swap.added);
        names("removed", swap.removed);
        names("changed", swap.changed);
        names("unchanged", swap.unchanged);
        names("datasets_added", swap.datasets_added);
        reply.end_object();
    } else {
        reply.null();
    }
    std::string changed_text, restart_text;
    for (std::string_view key : changed) changed_text += (changed_text.empty() ? "" : ", ") + std::string(key);
    for (std::string_view key : restart_needed) restart_text += (restart_text.empty() ? "" : ", ") + std::string(key);
    log::notice("reloaded %s: %s%s%s", path.c_str(), changed.empty() ? "nothing to change live" : ("applied " + changed_text).c_str(),
                restart_needed.empty() ? "" : "; these need a restart and keep their old values: ",
                restart_text.c_str());
    if (swap.needed) {
        log::notice("new scenario (generation %llu, %s): sources added: %s; removed: %s; changed: %s; unchanged: %s; "
                    "new datasets: %s",
                    static_cast<unsigned long long>(scenario_generation), scenario->backfill ? "backfill" : "live",
                    name_list(swap.added).c_str(), name_list(swap.removed).c_str(), name_list(swap.changed).c_str(),
                    name_list(swap.unchanged).c_str(), name_list(swap.datasets_added).c_str());
    }
    reply.field("message", restart_needed.empty()
                               ? std::string("reloaded")
                               : "reloaded; these settings need a restart and keep their running values: " + restart_text);
    reply.end_object();
    notifier.notify("READY=1\nSTATUS=reloaded " + path);
    return {true, reply.take()};
}

ControlReply Daemon::Shared::set_setting(std::string_view key_name, std::string_view value) {
    const SettingKey* key = find_setting(key_name);
    if (key == nullptr) {
        return ControlReply::refused("unknown setting '" + std::string(key_name) + "'; settings that change live: " + live_key_list());
    }
    if (key->scenario) {
        return ControlReply::refused(std::string(key->name) +
                           " is part of the scenario: change it in the config file and run `supervent-ctl reload`");
    }
    if (!key->live) {
        return ControlReply::refused(std::string(key->name) +
                           " needs a restart: put it in the config file and restart superventd (settings that "
                           "change live: " + live_key_list() + ")");
    }
    const auto dot = key->name.find('.');
    const std::string toml = "[" + std::string(key->name.substr(0, dot)) + "]\n" +
                             std::string(key->name.substr(dot + 1)) + " = " + toml_value(value) + "\n";
    config::Settings next;
    try {
        next = config::load_toml_text(toml, "set", settings);
    } catch (const std::exception& failure) {
        std::string message = failure.what();
        if (message.starts_with("set:")) message = message.substr(message.find(' ') + 1);  // "set:2: " adds nothing
        return ControlReply::refused(message);
    }
    std::vector<std::string_view> changed, restart_needed;
    apply_live(next, changed, restart_needed);
    log::notice("set %s = %s", std::string(key->name).c_str(), std::string(value).c_str());
    JsonWriter reply;
    reply.begin_object().field("ok", true).field("key", key->name).field("changed", !changed.empty());
    reply.end_object();
    return {true, reply.take()};
}

ControlReply Daemon::Shared::set_rate(simdjson::dom::element value) {
    std::string text;
    double number = 0;
    std::string_view string;
    if (value.get_double().get(number) == simdjson::SUCCESS) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.17g", number);
        text = buffer;
    } else if (value.get_string().get(string) == simdjson::SUCCESS) {
        text = string;
    } else {
        return ControlReply::refused("rate needs \"value\": a number of events per second or \"unlimited\"");
    }
    ControlReply reply = set_setting("generation.rate", text);
    if (!reply.ok) return reply;
    JsonWriter json;
    json.begin_object().field("ok", true).key("rate_target");
    if (settings.rate_eps) json.value(*settings.rate_eps); else json.value("unlimited");
    json.field("workers", shard_count).end_object();
    return {true, json.take()};
}

ControlReply Daemon::Shared::sources_json(simdjson::dom::element request) {
    std::string_view name;
    bool enable = false;
    const bool naming = request["name"].get_string().get(name) == simdjson::SUCCESS;
    const bool toggling = request["enabled"].get_bool().get(enable) == simdjson::SUCCESS;
    if (naming != toggling) return ControlReply::refused("to enable or disable a source give both \"name\" and \"enabled\"");
    if (naming) {
        std::string known;
        std::size_t found = SIZE_MAX;
        for (std::size_t i = 0; scenario && i < scenario->sources.size(); ++i) {
            known += (known.empty() ? "" : ", ") + scenario->sources[i].name;
            if (scenario->sources[i].name == name) found = i;
        }
        if (found == SIZE_MAX) {
            return ControlReply::refused("no source named '" + std::string(name) + "'; the running scenario has: " +
                               (known.empty() ? std::string("none yet") : known));
        }
        if (stop_requested) return ControlReply::refused("the daemon is stopping");
        if (source_enabled[found] != (enable ? 1 : 0)) {
            source_enabled[found] = enable ? 1 : 0;
            push_change();
            log::notice("source %s %s%s", std::string(name).c_str(), enable ? "enabled" : "disabled",
                        all_sources_disabled() ? " (every source is disabled: nothing is generated)" : "");
        }
    }
    JsonWriter json;
    json.begin_object().field("ok", true);
    json_sources(json);
    json.end_object();
    return {true, json.take()};
}

}  // namespace supervent::daemon
