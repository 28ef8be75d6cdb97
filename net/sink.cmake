# supervent-sink: the Axiom-compatible receiver. Included from net/CMakeLists.txt;
# paths are relative to this file so it also works from a stand-alone test project.
get_filename_component(supervent_sink_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

add_library(supervent_sink_lib STATIC
  ${CMAKE_CURRENT_LIST_DIR}/sink_http.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sink_body.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sink_stats.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sink_faults.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sink_options.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sink_server.cpp
)
target_include_directories(supervent_sink_lib PUBLIC ${supervent_sink_root})
find_package(OpenSSL 3.0 REQUIRED)  # --tls-cert/--tls-key (Boost.Asio SSL)
target_link_libraries(supervent_sink_lib PUBLIC Boost::headers simdjson::simdjson PkgConfig::ZSTD Threads::Threads
                      OpenSSL::SSL)

# gzip bodies need zlib; without it the sink answers gzip with 415 and says why.
find_package(ZLIB QUIET)
if(ZLIB_FOUND)
  target_link_libraries(supervent_sink_lib PUBLIC ZLIB::ZLIB)
  # PUBLIC: headers expose whether gzip is supported, and every includer must agree.
  target_compile_definitions(supervent_sink_lib PUBLIC SUPERVENT_SINK_HAVE_ZLIB=1)
else()
  message(STATUS "supervent-sink: zlib not found, gzip request bodies will be refused (install zlib1g-dev)")
endif()

add_executable(supervent-sink ${supervent_sink_root}/daemon/sink_main.cpp)
target_link_libraries(supervent-sink PRIVATE supervent_sink_lib)
