resource "google_monitoring_notification_channel" "alerts_topic" {
  project      = var.project_id
  display_name = "dnsfailover alerts (${var.environment})"
  type         = "pubsub"
  labels = {
    topic = google_pubsub_topic.failover["alerts"].id
  }
  user_labels = local.labels

  depends_on = [google_pubsub_topic_iam_member.monitoring_publish_alerts]
}

# Instance loss: server/uptime stops arriving. An HA failover inside one
# Memorystore instance keeps its IP and does not fire this.
resource "google_monitoring_alert_policy" "instance_loss" {
  for_each = var.alert_instances

  project      = var.project_id
  display_name = "dnsfailover: ${each.key} lost (${var.environment})"
  combiner     = "OR"
  severity     = "CRITICAL"

  conditions {
    display_name = "redis server/uptime absent for ${var.instance_loss_duration}"
    condition_absent {
      filter   = "resource.type = \"redis_instance\" AND resource.labels.instance_id = \"${each.value.instance}\" AND metric.type = \"redis.googleapis.com/server/uptime\""
      duration = var.instance_loss_duration
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MEAN"
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  notification_channels = [google_monitoring_notification_channel.alerts_topic.id]

  user_labels = {
    dnsfailover_record = local.record_labels[each.value.record]
    dnsfailover_action = "failover"
  }

  documentation {
    content   = "The dnsfailover alert function moves ${var.records[each.value.record].name} to the next healthy target."
    mime_type = "text/markdown"
  }
}

# Warning: memory pressure; the function only prepares (lowers the TTL).
resource "google_monitoring_alert_policy" "memory_pressure" {
  for_each = var.alert_instances

  project      = var.project_id
  display_name = "dnsfailover: ${each.key} memory high (${var.environment})"
  combiner     = "OR"
  severity     = "WARNING"

  conditions {
    display_name = "redis system memory usage ratio > ${var.memory_ratio_threshold}"
    condition_threshold {
      filter          = "resource.type = \"redis_instance\" AND resource.labels.instance_id = \"${each.value.instance}\" AND metric.type = \"redis.googleapis.com/stats/memory/system_memory_usage_ratio\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.memory_ratio_threshold
      duration        = "300s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MEAN"
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  notification_channels = [google_monitoring_notification_channel.alerts_topic.id]

  user_labels = {
    dnsfailover_record = local.record_labels[each.value.record]
    dnsfailover_action = "prepare"
  }
}
