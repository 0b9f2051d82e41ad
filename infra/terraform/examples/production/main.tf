# production: the dnsfailover module for one GKE VPC and one Redis name.
terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

module "dnsfailover" {
  source = "../../modules/dnsfailover"

  project_id  = var.project_id
  region      = var.region
  environment = "production"
  network     = var.network
  zone_name   = "production-internal"
  dns_name    = "production.internal."

  records = {
    session = {
      name = "redis-session-production.production.internal."
      ip   = var.initial_redis_ip
      ttl  = 300
    }
  }

  alert_instances = {
    for path in var.redis_instances : basename(path) => {
      instance = path
      record   = "session"
    }
  }

  create_vpc_connector = true
  vpc_connector_cidr   = var.vpc_connector_cidr
  create_memorystore   = var.create_memorystore

  # The in-cluster prober publishes to the requests topic as its own account.
  create_prober_identity = true
  gke_project_id         = var.gke_project_id
  memorystore = {
    standby_region = "europe-west4" # cross-region standby: the case a DNS swap exists for
  }
}
