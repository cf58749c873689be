# OpenBLAS, its OpenMP build (Debian: libopenblas-openmp-dev), for the float GEMMs of the cpu policy: it runs
# single-threaded inside the library's own parallel regions. Without it the policy uses Eigen's GEMM.
find_path(UNETFLOW_OPENBLAS_INCLUDE cblas.h
  HINTS /usr/include/x86_64-linux-gnu/openblas-openmp /usr/include/aarch64-linux-gnu/openblas-openmp
  NO_DEFAULT_PATH)
find_library(UNETFLOW_OPENBLAS_LIBRARY openblas
  HINTS /usr/lib/x86_64-linux-gnu/openblas-openmp /usr/lib/aarch64-linux-gnu/openblas-openmp
  NO_DEFAULT_PATH)
if(UNETFLOW_OPENBLAS_INCLUDE AND UNETFLOW_OPENBLAS_LIBRARY AND NOT TARGET unetflow::openblas)
  add_library(unetflow::openblas INTERFACE IMPORTED)
  set_target_properties(unetflow::openblas PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${UNETFLOW_OPENBLAS_INCLUDE}"
    INTERFACE_LINK_LIBRARIES "${UNETFLOW_OPENBLAS_LIBRARY}"
    INTERFACE_COMPILE_DEFINITIONS UNETFLOW_CBLAS)
endif()
