# The in-cluster prober (docs/prober.md) publishes emergency requests to the
# requests topic and does nothing else in Google Cloud: its Google service
# account holds roles/pubsub.publisher on that one topic, and only the
# prober's Kubernetes ServiceAccount may act as it (Workload Identity).

resource "google_service_account" "prober" {
  count = var.create_prober_identity ? 1 : 0

  project      = var.project_id
  account_id   = "dnsfailover-prober"
  display_name = "dnsfailover in-cluster prober (${var.environment})"
}

resource "google_pubsub_topic_iam_member" "prober_publish_requests" {
  count = var.create_prober_identity ? 1 : 0

  project = var.project_id
  topic   = google_pubsub_topic.failover["requests"].name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.prober[0].member
}

# The cluster's workload pool must exist (Workload Identity enabled on a
# cluster of that project) before this binding can be made.
resource "google_service_account_iam_member" "prober_workload_identity" {
  count = var.create_prober_identity ? 1 : 0

  service_account_id = google_service_account.prober[0].name
  role               = "roles/iam.workloadIdentityUser"
  member             = local.prober_workload_identity_member
}
