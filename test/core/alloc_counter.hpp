#pragma once
// Counts calls of the global operator new in the core test executable.
#include <cstdint>

namespace supervent::test {
[[nodiscard]] std::uint64_t heap_allocations();
}  // namespace supervent::test
