#include "daemon/daemon_shared.hpp"

#include "daemon/log.hpp"

namespace supervent::daemon {

ControlReply ControlReply::refused(std::string_view message) {
    return {false, JsonWriter().begin_object().field("ok", false).field("error", message).end_object().take()};
}

void Daemon::Shared::handle_command(std::string_view request, Responder respond) {
    simdjson::dom::parser parser;
    simdjson::dom::element document;
    if (parser.parse(request.data(), request.size()).get(document) != simdjson::SUCCESS || !document.is_object()) {
        respond(R"({"ok":false,"error":"malformed request: expected one JSON object per line, e.g. {\"cmd\":\"status\"}"})");
        return;
    }
    std::string_view command;
    if (document["cmd"].get_string().get(command) != simdjson::SUCCESS) {
        respond(R"({"ok":false,"error":"the request has no \"cmd\" string"})");
        return;
    }
    auto ok_state = [this] { return JsonWriter().begin_object().field("ok", true).field("state", run_state_name(state())).end_object().take(); };
    if (command == "status") {
        respond(status_json());
    } else if (command == "stop") {
        request_stop();
        bool wait = false;
        if (document["wait"].get_bool().get(wait) == simdjson::SUCCESS && wait) {
            // Answered with the final status once every shard has settled.
            stop_waiters.push_back(std::move(respond));
        } else {
            respond(ok_state());
        }
    } else if (command == "pause" || command == "resume") {
        if (stop_requested) {
            respond(ControlReply::refused("the daemon is stopping").json);
            return;
        }
        paused = command == "pause";
        push_pause();
        log::notice("%s", paused ? "paused: no new batches until resume" : "resumed");
        respond(ok_state());
    } else if (command == "rate") {
        simdjson::dom::element value;
        if (document["value"].get(value) != simdjson::SUCCESS) {
            respond(ControlReply::refused("rate needs \"value\": a number of events per second or \"unlimited\"").json);
            return;
        }
        respond(set_rate(value).json);
    } else if (command == "set") {
        std::string_view key;
        simdjson::dom::element value;
        if (document["key"].get_string().get(key) != simdjson::SUCCESS || document["value"].get(value) != simdjson::SUCCESS) {
            respond(ControlReply::refused("set needs \"key\" and \"value\"").json);
            return;
        }
        std::string text;
        std::string_view string;
        if (value.get_string().get(string) == simdjson::SUCCESS) {
            text = string;
        } else {
            text = simdjson::minify(value);
        }
        respond(set_setting(key, text).json);
    } else if (command == "reload") {
        std::string_view file;
        const std::string path = document["file"].get_string().get(file) == simdjson::SUCCESS ? std::string(file)
                                                                                               : startup_config_path;
        respond(reload(path).json);
    } else if (command == "sources") {
        respond(sources_json(document).json);
    } else if (command == "incident") {
        respond(incident_command(document).json);
    } else if (command == "version") {
        respond(JsonWriter().begin_object().field("ok", true).field("version", SUPERVENT_VERSION).end_object().take());
    } else {
        respond(ControlReply::refused("unknown command '" + std::string(command) +
                            "' (known: status, pause, resume, rate, set, reload, sources, incident, stop, version)").json);
    }
}

}  // namespace supervent::daemon
