# install(): headers, the INTERFACE target and a package config so that find_package(unetflow CONFIG) works.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/unetflow DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS unetflow EXPORT unetflowTargets)
install(EXPORT unetflowTargets NAMESPACE unetflow:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/unetflow)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/unetflowConfig.cmake.in
  ${PROJECT_BINARY_DIR}/unetflowConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/unetflow)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/unetflowConfigVersion.cmake COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_SOURCE_DIR}/cmake/unetflowOpenBLAS.cmake ${PROJECT_SOURCE_DIR}/cmake/unetflowOptional.cmake
  ${PROJECT_BINARY_DIR}/unetflowConfig.cmake ${PROJECT_BINARY_DIR}/unetflowConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/unetflow)

# The CUDA backend, when built: unetflow::cuda (a static library of the policy's kernels).
if(TARGET unetflow_cuda)
  set_target_properties(unetflow_cuda PROPERTIES EXPORT_NAME cuda)
  target_include_directories(unetflow_cuda PUBLIC $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  install(TARGETS unetflow_cuda EXPORT unetflowCudaTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT unetflowCudaTargets NAMESPACE unetflow:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/unetflow)
endif()
