# mpitune_sources(VAR dir...): the .cpp files directly in the given folders (re-globbed on
# build; sub-folders such as src/comm/nccl are added only where their libraries exist).
function(mpitune_sources var)
  set(out)
  foreach(dir ${ARGN})
    file(GLOB found CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/*.cpp)
    list(APPEND out ${found})
  endforeach()
  set(${var} ${out} PARENT_SCOPE)
endfunction()
