variable "project_id" {
  description = "Project that holds the zone, topics, alert policies, functions and (optionally) Memorystore."
  type        = string
}

variable "region" {
  description = "Region of the functions, the VPC connector and the optional Memorystore instances."
  type        = string
}

variable "environment" {
  description = "Environment name (staging, production); used in resource names and labels."
  type        = string
}

variable "network" {
  description = "Self link or ID of the GKE VPC network the private zone is visible to (projects/P/global/networks/N)."
  type        = string
}

variable "zone_name" {
  description = "Cloud DNS managed zone name, e.g. staging-internal (the functions' config names it as records[].zone)."
  type        = string
}

variable "dns_name" {
  description = "DNS name of the private zone with a trailing dot, e.g. staging.internal."
  type        = string
}

variable "records" {
  description = <<-EOT
    Redis names to manage, keyed by a short id. name is the fully qualified
    record (trailing dot); ip the initial A record data, or null to use the
    primary Memorystore instance created by this module; ttl the normal TTL.
    Terraform creates each record once and then ignores its rrdatas, because
    the functions move it during a failover.
  EOT
  type = map(object({
    name = string
    ip   = optional(string)
    ttl  = optional(number, 300)
  }))
}

variable "alert_instances" {
  description = <<-EOT
    Memorystore instances to watch, keyed by a short id: instance is the full
    path projects/P/locations/R/instances/I, record the key in var.records it
    serves. An instance-loss alert asks for a failover; a memory alert for prepare.
  EOT
  type = map(object({
    instance = string
    record   = string
  }))
  default = {}
}

variable "instance_loss_duration" {
  description = "How long server/uptime must be absent before the instance-loss alert fires (Memorystore metrics arrive up to 240s late)."
  type        = string
  default     = "300s"
}

variable "memory_ratio_threshold" {
  description = "system_memory_usage_ratio above which the warning (prepare) alert fires."
  type        = number
  default     = 0.8
}

variable "create_vpc_connector" {
  description = "Create a Serverless VPC Access connector so the functions reach the VPC (DNS verification, Redis health checks)."
  type        = bool
  default     = true
}

variable "vpc_connector_cidr" {
  description = "Unused /28 range of the VPC for the connector."
  type        = string
  default     = "10.8.0.0/28"
}

variable "create_memorystore" {
  description = "Also create the primary and standby Memorystore for Redis instances."
  type        = bool
  default     = false
}

variable "memorystore" {
  description = "Settings of the optional Memorystore instances (create_memorystore = true)."
  type = object({
    primary_name      = optional(string, "session-a")
    standby_name      = optional(string, "session-b")
    standby_region    = optional(string)
    tier              = optional(string, "STANDARD_HA")
    memory_size_gb    = optional(number, 1)
    redis_version     = optional(string, "REDIS_7_2")
    auth_enabled      = optional(bool, true)
    transit_encryption = optional(bool, true)
  })
  default = {}
}

variable "labels" {
  description = "Labels added to every resource that takes labels."
  type        = map(string)
  default     = {}
}

variable "create_prober_identity" {
  description = "Create the in-cluster prober's Google service account (roles/pubsub.publisher on the requests topic only) and its Workload Identity binding."
  type        = bool
  default     = true
}

variable "gke_project_id" {
  description = "Project of the GKE cluster that runs the prober (its workload pool is PROJECT.svc.id.goog); null means project_id."
  type        = string
  default     = null
}

variable "prober_kubernetes_namespace" {
  description = "Namespace of the prober's Kubernetes ServiceAccount (infra/k8s/base/prober)."
  type        = string
  default     = "dnsfailover-prober"
}

variable "prober_kubernetes_service_account" {
  description = "Name of the prober's Kubernetes ServiceAccount (infra/k8s/base/prober)."
  type        = string
  default     = "dnsfailover-prober"
}
