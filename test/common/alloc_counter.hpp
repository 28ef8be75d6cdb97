#pragma once
// Counts calls of the global operator new in a program that links
// supervent_alloc_counter, which replaces every form of it: the one way tests
// and benchmarks prove that a hot path does not allocate.
#include <cstdint>

namespace supervent::test {
// Every thread's allocations since the program started.
[[nodiscard]] std::uint64_t heap_allocations();
// The calling thread's: for code that runs on one thread while others (a
// sink server, a control thread) allocate as they please.
[[nodiscard]] std::uint64_t heap_allocations_on_this_thread();
}  // namespace supervent::test
