data "google_project" "this" {
  project_id = var.project_id
}

resource "google_service_account" "functions" {
  project      = var.project_id
  account_id   = "dnsfailover-fn"
  display_name = "dnsfailover functions (${var.environment})"
}

# Least privilege: change records of this zone only (a custom role would drop
# the list permissions; dns.admin on one zone is the smallest built-in).
resource "google_dns_managed_zone_iam_member" "functions_dns" {
  project      = var.project_id
  managed_zone = google_dns_managed_zone.private.name
  role         = "roles/dns.admin"
  member       = google_service_account.functions.member
}

resource "google_project_iam_member" "functions_redis_viewer" {
  project = var.project_id
  role    = "roles/redis.viewer"
  member  = google_service_account.functions.member
}

resource "google_project_iam_member" "functions_metric_writer" {
  project = var.project_id
  role    = "roles/monitoring.metricWriter"
  member  = google_service_account.functions.member
}

resource "google_project_iam_member" "functions_log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.functions.member
}

resource "google_pubsub_topic_iam_member" "functions_publish_results" {
  project = var.project_id
  topic   = google_pubsub_topic.failover["results"].name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.functions.member
}

# Eventarc invokes the functions as this account.
resource "google_service_account" "trigger" {
  project      = var.project_id
  account_id   = "dnsfailover-trigger"
  display_name = "dnsfailover Eventarc trigger (${var.environment})"
}

resource "google_project_iam_member" "trigger_run_invoker" {
  project = var.project_id
  role    = "roles/run.invoker"
  member  = google_service_account.trigger.member
}

resource "google_project_iam_member" "trigger_event_receiver" {
  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = google_service_account.trigger.member
}

# Cloud Monitoring publishes alert notifications as its notification service agent.
resource "google_pubsub_topic_iam_member" "monitoring_publish_alerts" {
  project = var.project_id
  topic   = google_pubsub_topic.failover["alerts"].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
}

# Pub/Sub forwards undeliverable events as its service agent. The matching
# subscriber grant on each trigger subscription is made by deploy-functions.sh,
# because Eventarc creates those subscriptions.
resource "google_pubsub_topic_iam_member" "pubsub_publish_dead_letter" {
  project = var.project_id
  topic   = google_pubsub_topic.failover["dead_letter"].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}
