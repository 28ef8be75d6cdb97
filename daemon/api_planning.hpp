#pragma once
// Planning for the HTTP log API presets (elasticsearch+https://, loki+http://,
// …; config/sink_api.cpp parses them, net/api_bodies.hpp writes their
// bodies): what each shard's writer, request head and batch caps are. Pure,
// like the rest of planning: no system call.
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"
#include "daemon/planning.hpp"
#include "net/api_bodies.hpp"
#include "net/http_transport.hpp"

namespace supervent::daemon {

[[nodiscard]] net::LogApi log_api(config::SinkApi api);

// The writer's options from the sink URL's ?key=value options (already checked by the parser).
[[nodiscard]] net::ApiOptions api_options(const config::SinkUrl& sink);

// The request path of one dataset: Axiom's ingest path, or the API's endpoint.
[[nodiscard]] std::string sink_route_path(const config::Settings& settings, std::string_view dataset);

// Throws std::invalid_argument for what the API cannot take (a body format
// other than ndjson, zstd where the API has no zstd); appends warnings.
void check_api_settings(const config::Settings& settings, std::vector<PlanMessage>& messages);

// The API's headers, content type, reply parsing and response buffer size.
void plan_api_http(const config::Settings& settings, std::uint32_t batch_events, net::HttpTransportConfig& http);

// Caps the shard's batch (events and rendered bytes) so that its body stays
// within the API's limits; says so once when it lowers the settings.
void cap_api_batch(const config::Settings& settings, ShardPlan& plan, std::vector<PlanMessage>* messages);

}  // namespace supervent::daemon
