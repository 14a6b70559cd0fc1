# find_package(p2pnode) after `make install PREFIX=...` (or cmake --install of
# bindings/cpp). Relocatable: every path is found from this file's place,
# <prefix>/lib/cmake/p2pnode/. It gives
#   p2pnode::p2pnode  the C library: libp2pnode.so (imported, with its full
#                     path, so CMake puts its directory in the build RPATH)
#                     and p2pnode.h
#   p2pnode::cpp      the header-only C++17 binding, p2pnode.hpp, on top of it
# and P2PNODE_INCLUDE_DIR, P2PNODE_LIBRARY, p2pnode_LIBRARIES (p2pnode::p2pnode).
get_filename_component(_p2pnode_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
set(P2PNODE_INCLUDE_DIR "${_p2pnode_prefix}/include")
set(P2PNODE_LIBRARY "${_p2pnode_prefix}/lib/libp2pnode.so")
unset(_p2pnode_prefix)

foreach(_p2pnode_file "${P2PNODE_INCLUDE_DIR}/p2pnode.h" "${P2PNODE_LIBRARY}")
  if(NOT EXISTS "${_p2pnode_file}")
    set(p2pnode_FOUND FALSE)
    set(p2pnode_NOT_FOUND_MESSAGE "p2pnode: ${_p2pnode_file} is missing (run make install again)")
    return()
  endif()
endforeach()
unset(_p2pnode_file)

if(NOT TARGET p2pnode::p2pnode)
  add_library(p2pnode::p2pnode SHARED IMPORTED)
  set_target_properties(p2pnode::p2pnode PROPERTIES
    IMPORTED_LOCATION "${P2PNODE_LIBRARY}"
    IMPORTED_SONAME "libp2pnode.so"
    INTERFACE_INCLUDE_DIRECTORIES "${P2PNODE_INCLUDE_DIR}")
endif()
if(NOT TARGET p2pnode::cpp AND EXISTS "${P2PNODE_INCLUDE_DIR}/p2pnode.hpp")
  add_library(p2pnode::cpp INTERFACE IMPORTED)
  set_target_properties(p2pnode::cpp PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${P2PNODE_INCLUDE_DIR}"
    INTERFACE_COMPILE_FEATURES cxx_std_17
    INTERFACE_LINK_LIBRARIES p2pnode::p2pnode)
endif()
set(p2pnode_LIBRARIES p2pnode::p2pnode)

# Components: find_package(p2pnode REQUIRED COMPONENTS cpp).
foreach(_p2pnode_comp IN LISTS p2pnode_FIND_COMPONENTS)
  if(_p2pnode_comp STREQUAL "cpp" AND TARGET p2pnode::cpp)
    set(p2pnode_cpp_FOUND TRUE)
  elseif(_p2pnode_comp STREQUAL "c" AND TARGET p2pnode::p2pnode)
    set(p2pnode_c_FOUND TRUE)
  elseif(p2pnode_FIND_REQUIRED_${_p2pnode_comp})
    set(p2pnode_FOUND FALSE)
    set(p2pnode_NOT_FOUND_MESSAGE "p2pnode: no component ${_p2pnode_comp} (there are c and cpp)")
  endif()
endforeach()
unset(_p2pnode_comp)
