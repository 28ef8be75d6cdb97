# Event engine benchmark: prints a table, run by scripts/bench-core.sh.
add_executable(supervent-bench-core ${CMAKE_CURRENT_LIST_DIR}/core_bench.cpp)
target_link_libraries(supervent-bench-core PRIVATE supervent_core)
# Root event timelines (backfill patterns): ns per event for each pattern.
add_executable(supervent-bench-timeline ${CMAKE_CURRENT_LIST_DIR}/timeline_bench.cpp)
target_link_libraries(supervent-bench-timeline PRIVATE supervent_core)
