#include "scenarios/catalogue.hpp"

#include <string>

namespace supervent::scenarios {

std::span<const Builtin> catalogue() { return detail::all(); }

const Builtin* find(std::string_view name) {
    for (const Builtin& builtin : catalogue()) {
        if (builtin.name == name) return &builtin;
    }
    return nullptr;
}

std::string_view names_text() {
    static const std::string text = [] {
        std::string joined;
        for (const Builtin& builtin : catalogue()) joined += (joined.empty() ? "" : ", ") + std::string(builtin.name);
        return joined;
    }();
    return text;
}

}  // namespace supervent::scenarios
