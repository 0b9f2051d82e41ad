resource "google_dns_managed_zone" "private" {
  project     = var.project_id
  name        = var.zone_name
  dns_name    = var.dns_name
  description = "Redis names for dnsfailover (${var.environment}); private, VPC only"
  visibility  = "private"
  labels      = local.labels

  private_visibility_config {
    networks {
      network_url = var.network
    }
  }
}

resource "google_dns_record_set" "redis" {
  for_each = var.records

  project      = var.project_id
  managed_zone = google_dns_managed_zone.private.name
  name         = each.value.name
  type         = "A"
  ttl          = each.value.ttl
  rrdatas      = [coalesce(each.value.ip, try(google_redis_instance.primary[0].host, null))]

  lifecycle {
    # The functions swap the address during a failover; Terraform must not undo it.
    ignore_changes = [rrdatas]
  }
}
