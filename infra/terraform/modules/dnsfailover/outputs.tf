output "zone_name" {
  description = "Managed zone name (config records[].zone)."
  value       = google_dns_managed_zone.private.name
}

output "record_names" {
  description = "Managed record names by key (config records[].name, ExternalName targets)."
  value       = { for key, record in google_dns_record_set.redis : key => record.name }
}

output "functions_service_account" {
  description = "Runtime service account: scripts/deploy-functions.sh --service-account."
  value       = google_service_account.functions.email
}

output "trigger_service_account" {
  description = "Eventarc trigger identity: scripts/deploy-functions.sh --trigger-service-account."
  value       = google_service_account.trigger.email
}

output "prober_service_account" {
  description = "The prober's Google service account: the iam.gke.io/gcp-service-account annotation of its Kubernetes ServiceAccount in infra/k8s/overlays (null when not created)."
  value       = try(google_service_account.prober[0].email, null)
}

output "prober_workload_identity_member" {
  description = "The Kubernetes ServiceAccount allowed to act as the prober's Google service account (null when not created)."
  value       = var.create_prober_identity ? local.prober_workload_identity_member : null
}

output "vpc_connector" {
  description = "VPC connector name: scripts/deploy-functions.sh --vpc-connector (null when not created)."
  value       = try(google_vpc_access_connector.functions[0].name, null)
}

output "topics" {
  description = "Pub/Sub topic names by role (alerts, requests, results, dead_letter)."
  value       = { for key, topic in google_pubsub_topic.failover : key => topic.name }
}

output "notification_channel" {
  description = "Monitoring notification channel that publishes alerts to the alerts topic."
  value       = google_monitoring_notification_channel.alerts_topic.id
}

output "memorystore_instances" {
  description = "Full paths of the created Memorystore instances (config records[].targets), empty when not created."
  value = var.create_memorystore ? [
    google_redis_instance.primary[0].id,
    google_redis_instance.standby[0].id,
  ] : []
}

output "deploy_functions_command" {
  description = "The scripts/deploy-functions.sh invocation for this environment."
  value = join(" ", compact([
    "scripts/deploy-functions.sh",
    "--project=${var.project_id}",
    "--region=${var.region}",
    "--environment=${var.environment}",
    "--service-account=${google_service_account.functions.email}",
    "--trigger-service-account=${google_service_account.trigger.email}",
    var.create_vpc_connector ? "--vpc-connector=${google_vpc_access_connector.functions[0].name}" : "",
  ]))
}
