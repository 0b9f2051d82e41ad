resource "google_pubsub_topic" "failover" {
  for_each = local.topic_names

  project = var.project_id
  name    = each.value
  labels  = local.labels
}

# Undeliverable events land here; this subscription keeps them for inspection.
resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project_id
  name                       = "${local.topic_names.dead_letter}-inspect"
  topic                      = google_pubsub_topic.failover["dead_letter"].id
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60
  labels                     = local.labels

  expiration_policy {
    ttl = ""
  }
}

# Reports of every failover attempt, for audit and dashboards.
resource "google_pubsub_subscription" "results" {
  project                    = var.project_id
  name                       = "${local.topic_names.results}-audit"
  topic                      = google_pubsub_topic.failover["results"].id
  message_retention_duration = "604800s"
  labels                     = local.labels

  expiration_policy {
    ttl = ""
  }
}
