# Finds what the library needs (also used by the installed package config through find_dependency).
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(nlohmann_json 3.2 REQUIRED)
find_package(ZLIB REQUIRED)

include(${CMAKE_CURRENT_LIST_DIR}/unetflowOpenBLAS.cmake)
