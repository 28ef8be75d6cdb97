// The built-in scenarios behind the EventSource interface.
#include "core/event_source.hpp"

#include <array>
#include <stdexcept>
#include <string>

#include "core/program_source.hpp"
#include "core/scenarios.hpp"

namespace supervent::core {
namespace {

constexpr std::array<std::string_view, 1> builtin_names = {"web_access"};

}  // namespace

std::span<const std::string_view> builtin_scenario_names() { return builtin_names; }

std::shared_ptr<const Program> builtin_program(std::string_view scenario_name) {
    if (scenario_name == "web_access") {
        // Programs are immutable: build once, share between shards.
        static const std::shared_ptr<const Program> web_access = web_access_program();
        return web_access;
    }
    return nullptr;
}

std::unique_ptr<EventSource> make_builtin_source(std::string_view scenario_name, const SourceIdentity& identity,
                                                 std::uint32_t batch_events_max) {
    if (auto program = builtin_program(scenario_name)) {
        return std::make_unique<ProgramSource>(std::move(program), identity, batch_events_max, select_kernels());
    }
    throw std::invalid_argument("unknown built-in scenario: " + std::string(scenario_name));
}

}  // namespace supervent::core
