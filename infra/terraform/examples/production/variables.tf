variable "project_id" {
  description = "The production project."
  type        = string
}

variable "region" {
  description = "Region of the functions and Memorystore."
  type        = string
  default     = "europe-west1"
}

variable "network" {
  description = "The GKE VPC network, projects/P/global/networks/N."
  type        = string
}

variable "initial_redis_ip" {
  description = "Initial A record address (the primary Memorystore host); null when create_memorystore is true."
  type        = string
  default     = null
}

variable "redis_instances" {
  description = "Full paths (projects/P/locations/R/instances/I) of the Memorystore instances to alert on: the record's targets."
  type        = list(string)
  default     = ["projects/acme-production/locations/europe-west1/instances/session-a", "projects/acme-production/locations/europe-west4/instances/session-b"]
}

variable "vpc_connector_cidr" {
  description = "Unused /28 of the VPC for the functions' VPC connector."
  type        = string
  default     = "10.9.0.0/28"
}

variable "create_memorystore" {
  description = "Create the two Memorystore instances too."
  type        = bool
  default     = true
}

variable "gke_project_id" {
  description = "Project of the GKE cluster that runs the prober, when not project_id (its Workload Identity pool)."
  type        = string
  default     = null
}
