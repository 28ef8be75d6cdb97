// `supervent-ctl incident start NAME [--for D]` / `incident stop [NAME]`:
// the control thread's side of live incidents (core/incident.hpp).
//
// Every incident's programs were compiled with the scenario, so starting one
// is only publishing its index in each ShardControl; a shard reads that once
// per loop turn and the engine renders with the incident's program from its
// next batch on. The control thread ends a timed incident from supervise().
#include <cmath>

#include "daemon/daemon_shared.hpp"
#include "daemon/log.hpp"

namespace supervent::daemon {
namespace {

// A Prometheus label value, escaped as the exposition format asks.
std::string label_value(std::string_view text) {
    std::string escaped;
    for (const char c : text) {
        if (c == '\n') escaped += "\\n";
        else if (c == '"' || c == '\\') escaped += {'\\', c};
        else escaped += c;
    }
    return escaped;
}

}  // namespace

void Daemon::Shared::push_incident() {
    for (std::uint32_t i = 0; i < shard_count; ++i) controls[i].incident.store(incident_active, std::memory_order_release);
}

ControlReply Daemon::Shared::incident_command(simdjson::dom::element request) {
    std::string_view action;
    if (request["action"].get_string().get(action) != simdjson::SUCCESS || (action != "start" && action != "stop")) {
        return ControlReply::refused("incident needs \"action\": \"start\" or \"stop\"");
    }
    std::string_view name;
    const bool named = request["name"].get_string().get(name) == simdjson::SUCCESS;
    if (action == "stop") {
        if (incident_active < 0) return ControlReply::refused("no incident is active");
        const std::string& active = scenario->incidents[incident_active].name;
        if (named && name != active) {
            return ControlReply::refused("incident '" + std::string(name) + "' is not active ('" + active + "' is)");
        }
        log::notice("incident '%s' stopped", active.c_str());
        end_incident();
        return {true, JsonWriter().begin_object().field("ok", true).field("stopped", active).end_object().take()};
    }
    if (!named) return ControlReply::refused("incident start needs \"name\"");
    if (stop_requested) return ControlReply::refused("the daemon is stopping");
    if (scenario->backfill) {
        return ControlReply::refused("incident start works in a live run; a backfill's incidents are scheduled in "
                                     "[[scenario.incidents]] with start and duration");
    }
    const int index = core::find_incident(*scenario, name);
    if (index < 0) {
        return ControlReply::refused("unknown incident '" + std::string(name) + "' (known: " + core::incident_names(*scenario) + ")");
    }
    double for_s = 0;
    if (request["for_s"].get_double().get(for_s) == simdjson::SUCCESS && !(for_s > 0 && std::isfinite(for_s))) {
        return ControlReply::refused("incident \"for_s\" must be a number of seconds above 0");
    }
    incident_active = index;
    incident_started_ns = monotonic_ns();
    incident_until_ns = for_s > 0 ? incident_started_ns + static_cast<std::int64_t>(for_s * 1e9) : 0;
    push_incident();
    log::notice("incident '%s' started%s", std::string(name).c_str(), for_s > 0 ? " (timed)" : " (until stopped)");
    JsonWriter json;
    json.begin_object().field("ok", true);
    json_incident(json);
    return {true, json.end_object().take()};
}

void Daemon::Shared::end_incident() {
    incident_active = -1;
    incident_until_ns = 0;
    push_incident();
}

void Daemon::Shared::expire_incident(std::int64_t now_ns) {
    if (incident_active < 0 || incident_until_ns == 0 || now_ns < incident_until_ns) return;
    log::notice("incident '%s' ended (its time was up)", scenario->incidents[incident_active].name.c_str());
    end_incident();
}

// A reload keeps the active incident if the new scenario has one of that name.
void Daemon::Shared::follow_incident(const core::CompiledScenario& before) {
    if (incident_active < 0) return;
    const std::string name = before.incidents[incident_active].name;
    incident_active = scenario->backfill ? -1 : core::find_incident(*scenario, name);
    if (incident_active < 0) {
        log::notice("incident '%s' ended: the reloaded scenario has no incident of that name", name.c_str());
        incident_until_ns = 0;
    }
    push_incident();
}

// "incident": {name, since_s, remaining_s (null: until stopped)} or null;
// "incidents": every incident the scenario defines.
void Daemon::Shared::json_incident(JsonWriter& json) const {
    json.key("incident");
    if (incident_active >= 0 && scenario) {
        const std::int64_t now = monotonic_ns();
        json.begin_object()
            .field("name", scenario->incidents[incident_active].name)
            .field("since_s", double(now - incident_started_ns) / 1e9)
            .key("remaining_s");
        if (incident_until_ns > 0) json.value(std::max(0.0, double(incident_until_ns - now) / 1e9)); else json.null();
        json.end_object();
    } else {
        json.null();
    }
    json.key("incidents").begin_array();
    if (scenario) {
        for (const core::CompiledIncident& incident : scenario->incidents) json.value(incident.name);
    }
    json.end_array();
}

// supervent_incident_active{name}: 1 for the incident started live, 0 for
// the others the scenario defines.
void Daemon::Shared::metrics_incidents(PrometheusText& out) const {
    if (!scenario || scenario->incidents.empty()) return;
    out.family("supervent_incident_active", "gauge", "1 while the incident is started live (supervent-ctl incident start).");
    for (std::size_t i = 0; i < scenario->incidents.size(); ++i) {
        out.sample("supervent_incident_active", "name=\"" + label_value(scenario->incidents[i].name) + "\"",
                   static_cast<int>(i) == incident_active ? 1 : 0);
    }
}

}  // namespace supervent::daemon
