# Finds what the library needs (also used by the installed package config through find_dependency).
# UNETFLOW_DEPS: a folder made by scripts/prepare-device-deps.sh (headers of Eigen, nlohmann_json and doctest,
# zlib's static library) for a machine without these packages, such as the GPU machine of device-check.sh.
if(UNETFLOW_DEPS)
  foreach(dep IN ITEMS include/eigen3/Eigen/Core include/nlohmann/json.hpp include/doctest/doctest.h lib/libz.a)
    if(NOT EXISTS ${UNETFLOW_DEPS}/${dep})
      message(FATAL_ERROR "UNETFLOW_DEPS=${UNETFLOW_DEPS} lacks ${dep}: make it with scripts/prepare-device-deps.sh.")
    endif()
  endforeach()
  add_library(Eigen3::Eigen INTERFACE IMPORTED)
  set_target_properties(Eigen3::Eigen PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${UNETFLOW_DEPS}/include/eigen3)
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${UNETFLOW_DEPS}/include)
  add_library(doctest::doctest INTERFACE IMPORTED)
  set_target_properties(doctest::doctest PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${UNETFLOW_DEPS}/include)
  add_library(ZLIB::ZLIB STATIC IMPORTED)
  set_target_properties(ZLIB::ZLIB PROPERTIES IMPORTED_LOCATION ${UNETFLOW_DEPS}/lib/libz.a
                                              INTERFACE_INCLUDE_DIRECTORIES ${UNETFLOW_DEPS}/include)
else()
  find_package(Eigen3 3.3 REQUIRED NO_MODULE)
  find_package(nlohmann_json 3.2 REQUIRED)
  find_package(ZLIB REQUIRED)
endif()
find_package(OpenMP REQUIRED COMPONENTS CXX)

include(${CMAKE_CURRENT_LIST_DIR}/unetflowOpenBLAS.cmake)
