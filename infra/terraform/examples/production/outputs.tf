output "deploy_functions_command" {
  description = "Run this from the repository root to deploy the functions."
  value       = module.dnsfailover.deploy_functions_command
}

output "record_names" {
  description = "Record names for config/<environment>.yaml and the Kustomize overlay."
  value       = module.dnsfailover.record_names
}

output "functions_service_account" {
  description = "Runtime service account of the functions."
  value       = module.dnsfailover.functions_service_account
}

output "prober_service_account" {
  description = "The prober's Google service account: the iam.gke.io/gcp-service-account annotation in infra/k8s/overlays/production-gke."
  value       = module.dnsfailover.prober_service_account
}
