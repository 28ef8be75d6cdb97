# Event engine benchmark: prints a table, run by scripts/bench-core.sh.
# Its allocation counter is the tests' (test/common), added here when the tests are not built.
if(NOT TARGET supervent_alloc_counter)
  add_subdirectory(${PROJECT_SOURCE_DIR}/test/common ${PROJECT_BINARY_DIR}/test/common)
endif()
add_executable(supervent-bench-core ${CMAKE_CURRENT_LIST_DIR}/core_bench.cpp ${CMAKE_CURRENT_LIST_DIR}/web_access_peer.cpp)
target_link_libraries(supervent-bench-core PRIVATE supervent_core supervent_alloc_counter)
# Root event timelines (backfill patterns): ns per event for each pattern.
add_executable(supervent-bench-timeline ${CMAKE_CURRENT_LIST_DIR}/timeline_bench.cpp)
target_link_libraries(supervent-bench-timeline PRIVATE supervent_core)
# Entity pools: events/s with pooled fields against the same source without.
add_executable(supervent-bench-pool ${CMAKE_CURRENT_LIST_DIR}/pool_bench.cpp)
target_link_libraries(supervent-bench-pool PRIVATE supervent_core)
# Dependency chains with and without trace context and inherited fields (issue 19).
add_executable(supervent-bench-trace ${CMAKE_CURRENT_LIST_DIR}/trace_bench.cpp)
target_link_libraries(supervent-bench-trace PRIVATE supervent_core)
