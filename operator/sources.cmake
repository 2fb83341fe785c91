# ferry_operator: the operator's controllers and their pure decision functions (everything of
# ferry-operator except main.cc), so unit tests, integration tests and benchmarks link it.
add_library(ferry_operator STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cluster/adapter.cc
  ${CMAKE_CURRENT_LIST_DIR}/migration/limits.cc
  ${CMAKE_CURRENT_LIST_DIR}/migration/policy.cc
  ${CMAKE_CURRENT_LIST_DIR}/migration/phase_machine.cc
  ${CMAKE_CURRENT_LIST_DIR}/vm/vm_status.cc
  ${CMAKE_CURRENT_LIST_DIR}/vm/migratable.cc
  ${CMAKE_CURRENT_LIST_DIR}/evacuation/evacuation_plan.cc
  ${CMAKE_CURRENT_LIST_DIR}/flags.cc
)
target_sources(ferry_operator PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/cluster/cluster_state.cc
  ${CMAKE_CURRENT_LIST_DIR}/cluster/observations.cc
  ${CMAKE_CURRENT_LIST_DIR}/cluster/heartbeats.cc
  ${CMAKE_CURRENT_LIST_DIR}/cluster/uncertain_writes.cc
  ${CMAKE_CURRENT_LIST_DIR}/metrics/operator_metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/migration/migration_controller.cc
  ${CMAKE_CURRENT_LIST_DIR}/vm/vm_controller.cc
  ${CMAKE_CURRENT_LIST_DIR}/servergroup/servergroup_controller.cc
  ${CMAKE_CURRENT_LIST_DIR}/evacuation/evacuation_controller.cc
  ${CMAKE_CURRENT_LIST_DIR}/operator.cc
)
target_include_directories(ferry_operator PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(ferry_operator PUBLIC ferry_core ferry_api ferry_placement ferry_kube ferry_controller
                      ferry_manager ferry_log_flags prometheus-cpp::core)
ferry_target_warnings(ferry_operator)
