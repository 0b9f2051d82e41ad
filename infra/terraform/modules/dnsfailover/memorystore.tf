# Optional: the two instances the record fails over between. In-transit
# encryption makes Memorystore listen on 6378, the port the ExternalName
# Service and the configs use.
resource "google_redis_instance" "primary" {
  count = var.create_memorystore ? 1 : 0

  project                 = var.project_id
  region                  = var.region
  name                    = var.memorystore.primary_name
  tier                    = var.memorystore.tier
  memory_size_gb          = var.memorystore.memory_size_gb
  redis_version           = var.memorystore.redis_version
  authorized_network      = var.network
  connect_mode            = "PRIVATE_SERVICE_ACCESS"
  auth_enabled            = var.memorystore.auth_enabled
  transit_encryption_mode = var.memorystore.transit_encryption ? "SERVER_AUTHENTICATION" : "DISABLED"
  labels                  = local.labels
}

resource "google_redis_instance" "standby" {
  count = var.create_memorystore ? 1 : 0

  project                 = var.project_id
  region                  = local.memorystore_standby_region
  name                    = var.memorystore.standby_name
  tier                    = var.memorystore.tier
  memory_size_gb          = var.memorystore.memory_size_gb
  redis_version           = var.memorystore.redis_version
  authorized_network      = var.network
  connect_mode            = "PRIVATE_SERVICE_ACCESS"
  auth_enabled            = var.memorystore.auth_enabled
  transit_encryption_mode = var.memorystore.transit_encryption ? "SERVER_AUTHENTICATION" : "DISABLED"
  labels                  = local.labels
}
