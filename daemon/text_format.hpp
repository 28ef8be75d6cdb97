#pragma once
// Numbers as people read them, the same in superventd's progress lines and
// supervent-ctl's tables: 1,234,567 and 20,000 events/s.
#include <cstdint>
#include <string>

namespace supervent::daemon {

[[nodiscard]] inline std::string with_commas(std::uint64_t value) {
    std::string digits = std::to_string(value);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
    return digits;
}

}  // namespace supervent::daemon
