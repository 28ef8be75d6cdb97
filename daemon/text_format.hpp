#pragma once
// Numbers as people read them, the same in superventd's progress lines and
// supervent-ctl's tables: 1,234,567 and 20,000 events/s.
#include <cstdint>
#include <string>

namespace supervent::daemon {

[[nodiscard]] inline std::string with_commas(std::uint64_t value) {
    // Built front to back: GCC 12's -Wrestrict misreads std::string::insert here.
    const std::string digits = std::to_string(value);
    std::string text;
    text.reserve(digits.size() + digits.size() / 3);
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
        text += digits[i];
    }
    return text;
}

}  // namespace supervent::daemon
