# The CUDA backend: the policy's kernels, compiled once by nvcc into a static library. Programs that use
# `unetflow::cuda` link unetflow::cuda and get UNETFLOW_HAS_CUDA defined.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 80 90)  # A100, H100/H200
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)

# cuDNN, for the cuDNN convolution engine (cuda::set_conv_engine): in the toolkit, or under UNETFLOW_CUDNN_ROOT
# (for instance the nvidia-cudnn wheel's folder beside PyTorch). Without it, no_cudnn.cu stands in.
set(UNETFLOW_CUDNN_ROOT "" CACHE PATH "A folder holding include/cudnn.h and lib/libcudnn.so* (optional)")
find_path(UNETFLOW_CUDNN_INCLUDE cudnn.h HINTS ${UNETFLOW_CUDNN_ROOT}/include ${CUDAToolkit_INCLUDE_DIRS})
# NAMES_PER_DIR: the library beside the header's root first (a system libcudnn.so must not pair with a wheel's header)
find_library(UNETFLOW_CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 NAMES_PER_DIR
             HINTS ${UNETFLOW_CUDNN_ROOT}/lib ${CUDAToolkit_LIBRARY_DIR})
if(UNETFLOW_CUDNN_INCLUDE AND UNETFLOW_CUDNN_LIBRARY)
  set(unetflow_cudnn_default ON)
else()
  set(unetflow_cudnn_default OFF)
endif()
option(UNETFLOW_CUDNN "Build the cuDNN convolution engine into unetflow::cuda" ${unetflow_cudnn_default})
if(UNETFLOW_CUDNN)
  if(NOT (UNETFLOW_CUDNN_INCLUDE AND UNETFLOW_CUDNN_LIBRARY))
    message(FATAL_ERROR "UNETFLOW_CUDNN is ON but cudnn.h or libcudnn was not found; set UNETFLOW_CUDNN_ROOT.")
  endif()
  set(unetflow_cudnn_source ${PROJECT_SOURCE_DIR}/src/cuda/cudnn.cu)
  message(STATUS "unetflow: cuDNN convolution engine: ${UNETFLOW_CUDNN_LIBRARY}")
else()
  set(unetflow_cudnn_source ${PROJECT_SOURCE_DIR}/src/cuda/no_cudnn.cu)
endif()

add_library(unetflow_cuda STATIC
  ${PROJECT_SOURCE_DIR}/src/cuda/context.cu
  ${PROJECT_SOURCE_DIR}/src/cuda/conv.cu
  ${PROJECT_SOURCE_DIR}/src/cuda/norm.cu
  ${PROJECT_SOURCE_DIR}/src/cuda/pointwise.cu
  ${PROJECT_SOURCE_DIR}/src/cuda/pooling.cu
  ${PROJECT_SOURCE_DIR}/src/cuda/optimiser.cu
  ${unetflow_cudnn_source})
add_library(unetflow::cuda ALIAS unetflow_cuda)
target_include_directories(unetflow_cuda PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>)
target_compile_features(unetflow_cuda PUBLIC cxx_std_20)
set_target_properties(unetflow_cuda PROPERTIES POSITION_INDEPENDENT_CODE ON)
# CMake 3.25 does not know nvcc's C++20 flag (CUDA_STANDARD 20), so it is given directly.
# --extended-lambda: __device__ lambdas as kernel operations. 554: nvcc notes that Strided<const T>'s conversion to itself is never used (it is the generic one).
target_compile_options(unetflow_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-std=c++20 --extended-lambda -diag-suppress=554>)
target_compile_definitions(unetflow_cuda PUBLIC UNETFLOW_HAS_CUDA)
target_link_libraries(unetflow_cuda PUBLIC CUDA::cudart CUDA::cublas)
if(UNETFLOW_CUDNN)
  target_include_directories(unetflow_cuda PRIVATE ${UNETFLOW_CUDNN_INCLUDE})
  target_link_libraries(unetflow_cuda PUBLIC ${UNETFLOW_CUDNN_LIBRARY})
endif()

# unetflow::nccl (<unetflow/distributed/nccl.hpp>): NCCL from the CUDA toolkit, bootstrapped over MPI.
find_library(UNETFLOW_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR})
find_path(UNETFLOW_NCCL_INCLUDE nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
if(UNETFLOW_NCCL_LIBRARY AND UNETFLOW_NCCL_INCLUDE AND TARGET unetflow::mpi AND NOT TARGET unetflow::nccl)
  add_library(unetflow::nccl INTERFACE IMPORTED)
  set_target_properties(unetflow::nccl PROPERTIES
    INTERFACE_LINK_LIBRARIES "unetflow::cuda;unetflow::mpi;${UNETFLOW_NCCL_LIBRARY};CUDA::cudart"
    INTERFACE_INCLUDE_DIRECTORIES "${UNETFLOW_NCCL_INCLUDE}")
endif()
