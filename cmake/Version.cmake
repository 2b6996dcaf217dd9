# The version and git commit are recorded in every output file. The commit is read at
# build time (not configure time) so a rebuild after a commit records the new one.
add_custom_target(exoderm_version_header
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DOUT=${PROJECT_BINARY_DIR}/generated/exoderm_version.hpp
          -DVERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/WriteVersion.cmake
  BYPRODUCTS ${PROJECT_BINARY_DIR}/generated/exoderm_version.hpp)
add_library(exoderm_version INTERFACE)
add_dependencies(exoderm_version exoderm_version_header)
target_include_directories(exoderm_version INTERFACE ${PROJECT_BINARY_DIR}/generated)
