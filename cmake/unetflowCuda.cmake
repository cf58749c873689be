# The CUDA backend: the policy's kernels, compiled once by nvcc into a static library. Programs that use
# `unetflow::cuda` link unetflow::cuda and get UNETFLOW_HAS_CUDA defined.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 80 90)  # A100, H100/H200
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)

add_library(unetflow_cuda STATIC
  ${PROJECT_SOURCE_DIR}/src/cuda/context.cu
  ${PROJECT_SOURCE_DIR}/src/cuda/conv.cu
  ${PROJECT_SOURCE_DIR}/src/cuda/norm.cu
  ${PROJECT_SOURCE_DIR}/src/cuda/pointwise.cu)
add_library(unetflow::cuda ALIAS unetflow_cuda)
target_include_directories(unetflow_cuda PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>)
target_compile_features(unetflow_cuda PUBLIC cxx_std_20)
set_target_properties(unetflow_cuda PROPERTIES POSITION_INDEPENDENT_CODE ON)
# CMake 3.25 does not know nvcc's C++20 flag (CUDA_STANDARD 20), so it is given directly.
# --extended-lambda: __device__ lambdas as kernel operations. 554: nvcc notes that Strided<const T>'s conversion to itself is never used (it is the generic one).
target_compile_options(unetflow_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-std=c++20 --extended-lambda -diag-suppress=554>)
target_compile_definitions(unetflow_cuda PUBLIC UNETFLOW_HAS_CUDA)
target_link_libraries(unetflow_cuda PUBLIC CUDA::cudart CUDA::cublas)

# unetflow::nccl (<unetflow/dist/nccl.hpp>): NCCL from the CUDA toolkit, bootstrapped over MPI.
find_library(UNETFLOW_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR})
find_path(UNETFLOW_NCCL_INCLUDE nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
if(UNETFLOW_NCCL_LIBRARY AND UNETFLOW_NCCL_INCLUDE AND TARGET unetflow::mpi AND NOT TARGET unetflow::nccl)
  add_library(unetflow::nccl INTERFACE IMPORTED)
  set_target_properties(unetflow::nccl PROPERTIES
    INTERFACE_LINK_LIBRARIES "unetflow::cuda;unetflow::mpi;${UNETFLOW_NCCL_LIBRARY};CUDA::cudart"
    INTERFACE_INCLUDE_DIRECTORIES "${UNETFLOW_NCCL_INCLUDE}")
endif()
