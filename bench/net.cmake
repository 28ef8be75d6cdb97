# HTTP log API bodies (net/api_bodies.hpp): events/s of each conversion beside memcpy.
if(NOT TARGET supervent_alloc_counter)
  add_subdirectory(${PROJECT_SOURCE_DIR}/test/common ${PROJECT_BINARY_DIR}/test/common)
endif()
add_executable(supervent-bench-api-bodies ${CMAKE_CURRENT_LIST_DIR}/api_bodies_bench.cpp)
target_link_libraries(supervent-bench-api-bodies PRIVATE supervent_net supervent_core supervent_alloc_counter)
# zstd on web_access batches (net/zstd_compressor.hpp): the speed/ratio frontier beside the zstd CLI.
add_executable(supervent-bench-zstd ${CMAKE_CURRENT_LIST_DIR}/zstd_bench.cpp)
target_link_libraries(supervent-bench-zstd PRIVATE supervent_net supervent_core)
# TLS per byte (net/tls_record_sealer.hpp): the sealer at 16/8/4 KiB records beside SSL_write and memcpy; handshakes.
add_executable(supervent-bench-tls ${CMAKE_CURRENT_LIST_DIR}/tls_bench.cpp)
target_link_libraries(supervent-bench-tls PRIVATE supervent_net supervent_core)
target_compile_definitions(supervent-bench-tls PRIVATE
  SUPERVENT_TLS_CERTS_SCRIPT="${PROJECT_SOURCE_DIR}/test/net/tls_certs.sh")
