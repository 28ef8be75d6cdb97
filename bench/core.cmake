# Event engine benchmark: prints a table, run by scripts/bench-core.sh.
add_executable(supervent-bench-core ${CMAKE_CURRENT_LIST_DIR}/core_bench.cpp)
target_link_libraries(supervent-bench-core PRIVATE supervent_core)
