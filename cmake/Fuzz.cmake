# EXODERM_FUZZ: the libFuzzer build (preset "fuzz", clang): the model library and the
# scenario fuzz target only (fuzz/CMakeLists.txt), instrumented for coverage, ASan and UBSan.
option(EXODERM_FUZZ "Build the libFuzzer scenario target (clang; model library only)" OFF)

if(EXODERM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "EXODERM_FUZZ needs clang (libFuzzer): configure with the \"fuzz\" preset "
                        "or -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  if(EXODERM_SANITIZE)
    message(FATAL_ERROR "EXODERM_FUZZ brings its own sanitizers; leave EXODERM_SANITIZE off")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer -O1 -g)
  add_link_options(-fsanitize=address,undefined)
endif()
