# CUDA variant: on when the libtorch found links CUDA and NCCL is present.
# Adds src/comm/nccl/*.cpp (the only files that include nccl.h; the CUDA staging helpers of the
# MPI backend live there too) to mpitune_comm and defines MPITUNE_CUDA for comm and everything
# above it. Included from the top-level CMakeLists.txt after mpitune_comm exists.
if(TARGET torch AND TORCH_CUDA_LIBRARIES OR (DEFINED CAFFE2_USE_CUDA AND CAFFE2_USE_CUDA))
  # The pip libtorch exports its own copy of std::filesystem's symbols; an executable that
  # resolves them there crashes in std::filesystem::remove_all. Linking libstdc++ ahead of
  # libtorch binds them to libstdc++. Applies to every target created after this point.
  link_libraries(-lstdc++)
  find_package(CUDAToolkit)
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS $ENV{NCCL_HOME}/include ${CUDAToolkit_INCLUDE_DIRS})
  # NAMES: a pip nvidia-nccl package ships only libnccl.so.2 (point NCCL_HOME at its folder).
  find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS $ENV{NCCL_HOME}/lib ${CUDAToolkit_LIBRARY_DIR})
  if(CUDAToolkit_FOUND AND NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(MPITUNE_HAVE_CUDA ON)
    file(GLOB NCCL_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/comm/nccl/*.cpp)
    target_sources(mpitune_comm PRIVATE ${NCCL_SOURCES})
    target_include_directories(mpitune_comm PRIVATE ${NCCL_INCLUDE_DIR})
    # The shared runtime (not cudart_static): the streams and events made here must be the ones
    # libtorch's runtime sees.
    target_link_libraries(mpitune_comm PUBLIC CUDA::cudart ${NCCL_LIBRARY})
    target_compile_definitions(mpitune_comm PUBLIC MPITUNE_CUDA=1)
    message(STATUS "mpitune: CUDA build with NCCL (${NCCL_LIBRARY})")
  else()
    message(STATUS "mpitune: CUDA libtorch but no NCCL found; MPI backend only")
  endif()
endif()
