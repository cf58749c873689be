# Writes OUTPUT, a C++ header naming the source tree's commit ("<hash>", "<hash>-modified" with uncommitted
# changes, "unknown" outside git), and touches it only when that changes, so a new commit recompiles one file.
#   cmake -DSOURCE_DIR=... -DOUTPUT=... -P build_commit.cmake
find_package(Git QUIET)
set(commit "unknown")
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} rev-parse --short=12 HEAD
                  OUTPUT_VARIABLE hash OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE status ERROR_QUIET)
  if(status EQUAL 0 AND hash)
    set(commit "${hash}")
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} diff --quiet HEAD -- RESULT_VARIABLE dirty ERROR_QUIET)
    if(NOT dirty EQUAL 0)
      string(APPEND commit "-modified")
    endif()
  endif()
endif()
set(content "#pragma once\n#define UNETFLOW_BUILD_COMMIT \"${commit}\"\n")
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} previous)
endif()
if(NOT "${previous}" STREQUAL "${content}")
  file(WRITE ${OUTPUT} "${content}")
endif()
