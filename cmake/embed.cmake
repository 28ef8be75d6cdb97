# Embedding files in a binary at build time, as a generated .cpp of byte
# arrays: web/ (the dashboard) and scenarios/ (the built-in scenarios).
#
# In a CMakeLists.txt (include this file):
#   supervent_embed(OUTPUT file.cpp SCRIPT generator.cmake COMMENT "…" FILES a b …)
# runs `cmake -P generator.cmake` with -DFILES (joined by "|") and -DOUTPUT
# whenever a file or the generator changes, so an edit is in the next binary
# without a re-configure.
#
# In a generator run by cmake -P (include this file too):
#   supervent_embed_bytes(PATH ARRAY_NAME body size) appends
#   "constexpr unsigned char ARRAY_NAME[] = {…,0};" to `body` and sets `size`;
#   supervent_embed_write(body) writes OUTPUT only if it changed.

function(supervent_embed)
  cmake_parse_arguments(EMBED "" "OUTPUT;SCRIPT;COMMENT" "FILES" ${ARGN})
  # One argument for cmake -P: the list joined by "|" (the generator splits it).
  string(REPLACE ";" "|" joined "${EMBED_FILES}")
  add_custom_command(
    OUTPUT ${EMBED_OUTPUT}
    COMMAND ${CMAKE_COMMAND} "-DFILES=${joined}" -DOUTPUT=${EMBED_OUTPUT} -P ${EMBED_SCRIPT}
    DEPENDS ${EMBED_FILES} ${EMBED_SCRIPT} ${CMAKE_CURRENT_FUNCTION_LIST_FILE}
    COMMENT "${EMBED_COMMENT}"
    VERBATIM)
endfunction()

macro(supervent_embed_bytes path array_name body_var size_var)
  file(READ "${path}" _embed_hex HEX)
  string(LENGTH "${_embed_hex}" _embed_hex_length)
  math(EXPR ${size_var} "${_embed_hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _embed_bytes "${_embed_hex}")
  # A trailing 0 keeps an empty file a valid array; `size` excludes it.
  string(APPEND ${body_var} "constexpr unsigned char ${array_name}[] = {${_embed_bytes}0};\n")
endmacro()

macro(supervent_embed_write body_var)
  file(WRITE "${OUTPUT}.tmp" "${${body_var}}")
  file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
endmacro()
