# A torch include in ui/ must fail to compile: builds ui_torch_probe (a file including
# <torch/torch.h>, compiled with fs_ui's usage requirements) and expects a "No such file" error for
# that header, and builds the control ui_header_probe (the GUI's headers, same settings), which must pass.
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BIN} --target ui_header_probe
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the control probe (ui headers) does not compile:\n${out}\n${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BIN} --target ui_torch_probe
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "torch/torch.h compiled with fs_ui's include path: LibTorch reaches ui/")
endif()
if(NOT "${out}${err}" MATCHES "torch/torch.h: No such file or directory")
  message(FATAL_ERROR "ui_torch_probe failed, but not for the torch include:\n${out}\n${err}")
endif()
message(STATUS "a torch include in ui/ fails to compile, the GUI's headers compile")
