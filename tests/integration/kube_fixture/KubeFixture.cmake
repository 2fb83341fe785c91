# CTest fixtures for a real kube-apiserver + etcd (hack/kube/, docs/kube-test-server.md): v1.20.2
# built by hack/kube/build.sh, or any other kube-apiserver binary (BIN).
#
#   include(${CMAKE_CURRENT_SOURCE_DIR}/kube_fixture/KubeFixture.cmake)
#   ferry_kube_fixture(NAME kube)                                  # DIR ${CMAKE_BINARY_DIR}/kube
#   ferry_kube_fixture(NAME kube_restart APISERVER_ARGS --watch-cache=false)
#   add_test(NAME my_it COMMAND ${FERRY_KUBE_HACK}/with-env.sh ${CMAKE_BINARY_DIR}/kube $<TARGET_FILE:my_it>)
#   set_tests_properties(my_it PROPERTIES FIXTURES_REQUIRED kube LABELS integration)
#
# Every fixture needs "kube_bin": the test kube_build runs hack/kube/build.sh, which returns at
# once when the binary is cached and otherwise builds it (~8 min, both CPUs: hence RUN_SERIAL).
# A test that restarts the API server (restart-apiserver.sh) must have a fixture of its own: the
# other tests of a shared instance would see their requests fail while it is down.

set(FERRY_KUBE_HACK ${CMAKE_CURRENT_LIST_DIR}/../../../hack/kube)
get_filename_component(FERRY_KUBE_HACK ${FERRY_KUBE_HACK} ABSOLUTE)

# Once per build tree (if(TEST) sees only the current directory's tests; fixtures are global).
get_property(ferry_kube_build_added GLOBAL PROPERTY FERRY_KUBE_BUILD_ADDED)
if(NOT ferry_kube_build_added)
  set_property(GLOBAL PROPERTY FERRY_KUBE_BUILD_ADDED TRUE)
  add_test(NAME kube_build COMMAND ${FERRY_KUBE_HACK}/build.sh)
  set_tests_properties(kube_build PROPERTIES
    FIXTURES_SETUP kube_bin LABELS integration TIMEOUT 3600 RUN_SERIAL TRUE)
endif()

# ferry_kube_fixture(NAME <fixture> [DIR <dir>] [APISERVER_ARGS <flag>...]
#                    [BIN <kube-apiserver> REQUIRES <fixture that provides BIN>])
# Adds the tests <fixture>_up (FIXTURES_SETUP <fixture>) and <fixture>_down (FIXTURES_CLEANUP).
# Without BIN the instance runs hack/kube/build.sh's v1.20.2 (fixture kube_bin).
function(ferry_kube_fixture)
  cmake_parse_arguments(K "" "NAME;DIR;BIN;REQUIRES" "APISERVER_ARGS" ${ARGN})
  if(NOT K_NAME)
    message(FATAL_ERROR "ferry_kube_fixture: NAME is required")
  endif()
  if(NOT K_DIR)
    set(K_DIR ${CMAKE_BINARY_DIR}/${K_NAME})
  endif()
  string(REPLACE ";" " " args "${K_APISERVER_ARGS}")
  set(env "KUBE_APISERVER_ARGS=${args}")
  set(requires kube_bin)
  if(K_BIN)
    list(APPEND env "KUBE_APISERVER_BIN=${K_BIN}")
    set(requires ${K_REQUIRES})
  endif()
  add_test(NAME ${K_NAME}_up COMMAND ${FERRY_KUBE_HACK}/up.sh ${K_DIR})
  set_tests_properties(${K_NAME}_up PROPERTIES
    FIXTURES_SETUP ${K_NAME} FIXTURES_REQUIRED "${requires}" LABELS integration TIMEOUT 180
    ENVIRONMENT "${env}")
  add_test(NAME ${K_NAME}_down COMMAND ${FERRY_KUBE_HACK}/down.sh ${K_DIR})
  set_tests_properties(${K_NAME}_down PROPERTIES
    FIXTURES_CLEANUP ${K_NAME} LABELS integration TIMEOUT 120)
endfunction()

# The scripts' own tests: checks against the shared instance, and a lifecycle test that starts,
# restarts and stops instances of its own.
# ferry_kube_fixture_self_tests(<fixture> <dir of that fixture>)
function(ferry_kube_fixture_self_tests fixture dir)
  add_test(NAME kube_fixture_check
    COMMAND ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/check_fixture.sh ${dir})
  set_tests_properties(kube_fixture_check PROPERTIES
    FIXTURES_REQUIRED ${fixture} LABELS integration TIMEOUT 120)
  add_test(NAME kube_scripts_lifecycle
    COMMAND ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/lifecycle_test.sh ${CMAKE_BINARY_DIR}/kube-lifecycle)
  set_tests_properties(kube_scripts_lifecycle PROPERTIES
    FIXTURES_REQUIRED kube_bin LABELS integration TIMEOUT 600)
endfunction()
