# Installs the build tree to a temporary prefix, then configures, builds and runs tests/install/consumer against
# it with find_package(unetflow CONFIG): its own program and every program of the user guide (examples/guide).
# Called by CTest with BUILD_DIR, CONSUMER_DIR, GUIDE_DIR, WORK_DIR.
file(REMOVE_RECURSE "${WORK_DIR}")
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install test: '${ARGN}' failed (${rc})")
  endif()
endfunction()
run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix")
run(${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${WORK_DIR}/build" -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
    -DCMAKE_BUILD_TYPE=Release -DGUIDE_DIR=${GUIDE_DIR})
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build" --parallel 2)
run("${WORK_DIR}/build/consumer" "${WORK_DIR}")
foreach(program first_program sequential_classifier custom_layer)
  message("-- ${program}")
  run("${WORK_DIR}/build/${program}" "${WORK_DIR}")
endforeach()
message("-- flow_matching on 2 threads")
run("${WORK_DIR}/build/flow_matching" 2)
