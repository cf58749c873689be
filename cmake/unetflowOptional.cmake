# The optional parts of unetflow, each an INTERFACE target over unetflow::unetflow, defined where their library is
# found (in the build tree and in an installed package alike):
#   unetflow::npy      <unetflow/io/npy.hpp>      xtensor (Debian: xtensor-dev)
#   unetflow::figures  <unetflow/io/figures.hpp>  stb_image_write (Debian: libstb-dev); gnuplot-nox at run time
if(NOT TARGET unetflow::npy)
  find_package(xtensor QUIET)
  if(TARGET xtensor)
    add_library(unetflow::npy INTERFACE IMPORTED)
    set_target_properties(unetflow::npy PROPERTIES INTERFACE_LINK_LIBRARIES "unetflow::unetflow;xtensor")
  endif()
endif()
if(NOT TARGET unetflow::figures)
  find_path(UNETFLOW_STB_INCLUDE stb/stb_image_write.h)
  if(UNETFLOW_STB_INCLUDE)
    add_library(unetflow::figures INTERFACE IMPORTED)
    set_target_properties(unetflow::figures PROPERTIES INTERFACE_LINK_LIBRARIES unetflow::unetflow
                                                       INTERFACE_INCLUDE_DIRECTORIES "${UNETFLOW_STB_INCLUDE}")
  endif()
endif()
