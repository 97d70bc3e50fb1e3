# CTest: `cmake --install` into a scratch prefix lays out bin/, the sample photos, the desktop
# entry and icons, and the installed zfvis-cli runs on an installed photo.
# Usage: cmake -DBUILD_DIR=... -DPREFIX=... -DGUI=ON|OFF -P install_check.cmake
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
set(expected bin/zfvis-cli share/zfvis/images/chelsea.png share/zfvis/images/ATTRIBUTION.md
    share/zfvis/models/zf-small/final.onnx share/zfvis/models/alex-small/final.onnx)
if(GUI)
  list(APPEND expected bin/zfvis share/applications/zfvis.desktop
       share/icons/hicolor/256x256/apps/zfvis.png share/icons/hicolor/scalable/apps/zfvis.svg)
endif()
foreach(f ${expected})
  if(NOT EXISTS "${PREFIX}/${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
execute_process(COMMAND "${PREFIX}/bin/zfvis-cli" predict --model nin
                        --image "${PREFIX}/share/zfvis/images/chelsea.png" --top 1
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "installed zfvis-cli predict failed (${rc}): ${err}")
endif()
# The installed program opens the installed trained model (not the source tree's copy).
execute_process(COMMAND "${PREFIX}/bin/zfvis-cli" models --json
                RESULT_VARIABLE rc OUTPUT_VARIABLE models ERROR_VARIABLE err)
string(FIND "${models}" "${PREFIX}/share/zfvis/models/zf-small/final.onnx" at)
if(NOT rc EQUAL 0 OR at EQUAL -1)
  message(FATAL_ERROR "installed zfvis-cli does not use the installed zf-small (${rc}): ${models}${err}")
endif()
file(REMOVE_RECURSE "${PREFIX}")
message(STATUS "installed layout ok: ${out}")
