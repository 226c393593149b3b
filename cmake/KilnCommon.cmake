# Shared build settings: one INTERFACE target that every Kiln target links.
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bin")
set(CMAKE_LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/lib")

find_program(KILN_CCACHE ccache)
if(KILN_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${KILN_CCACHE}")
endif()

add_library(kiln_common INTERFACE)
target_compile_features(kiln_common INTERFACE cxx_std_20)
target_compile_options(kiln_common INTERFACE -Wall -Wextra -Wno-unused-parameter)
if(KILN_WERROR)
  target_compile_options(kiln_common INTERFACE -Werror)
endif()
target_compile_definitions(kiln_common INTERFACE
  QT_NO_CAST_FROM_ASCII QT_NO_CONTEXTLESS_CONNECT QT_NO_KEYWORDS
  KILN_VERSION="${PROJECT_VERSION}"
  KILN_SOURCE_RESOURCES="${PROJECT_SOURCE_DIR}/resources")
