# ferry_operator: the operator's controllers and their pure decision functions (everything of
# ferry-operator except main.cc), so unit tests, integration tests and benchmarks link it.
add_library(ferry_operator STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cluster/adapter.cc
  ${CMAKE_CURRENT_LIST_DIR}/migration/limits.cc
  ${CMAKE_CURRENT_LIST_DIR}/migration/policy.cc
  ${CMAKE_CURRENT_LIST_DIR}/migration/phase_machine.cc
)
# The parts that read the placement engine's incremental view (TODO: unconditional once the
# view's implementation has landed in operator/placement).
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/placement/group_status.h)
  target_sources(ferry_operator PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/cluster/cluster_state.cc
  )
endif()
target_include_directories(ferry_operator PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(ferry_operator PUBLIC ferry_core ferry_api ferry_placement)
ferry_target_warnings(ferry_operator)
