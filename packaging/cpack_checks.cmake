# Run by cpack before it builds the Debian package (CPACK_PRE_BUILD_SCRIPTS). Without
# dpkg-shlibdeps CPack would quietly write a package whose Depends lists only the hand-written
# entries, and without file(1) it cannot tell which files are executables.
foreach(tool dpkg-shlibdeps file)
  find_program(FS_TOOL_${tool} ${tool})
  if(NOT FS_TOOL_${tool})
    message(FATAL_ERROR "featurescope package: '${tool}' not found; it computes the package's library "
                        "dependencies. Install it: apt-get install dpkg-dev file")
  endif()
endforeach()
