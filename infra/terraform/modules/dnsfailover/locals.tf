locals {
  labels = merge(var.labels, {
    app         = "dnsfailover"
    environment = var.environment
  })

  topic_names = {
    alerts      = "redis-failover-alerts"
    requests    = "redis-failover-requests"
    results     = "redis-failover-results"
    dead_letter = "redis-failover-dead-letter"
  }

  # Alert policy user labels become incident.policy_user_labels, which the
  # alert function reads. Label values allow only [a-z0-9_-].
  record_labels = {
    for key, record in var.records :
    key => replace(lower(trimsuffix(record.name, ".")), ".", "_")
  }

  memorystore_standby_region = coalesce(var.memorystore.standby_region, var.region)

  # The prober's Kubernetes ServiceAccount in the GKE project's workload pool.
  prober_workload_identity_member = format("serviceAccount:%s.svc.id.goog[%s/%s]",
    coalesce(var.gke_project_id, var.project_id),
    var.prober_kubernetes_namespace, var.prober_kubernetes_service_account)
}
