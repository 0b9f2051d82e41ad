# The functions reach the VPC through this connector: the verifier asks the
# private zone's resolvers and the health check dials Redis on private IPs.
resource "google_vpc_access_connector" "functions" {
  count = var.create_vpc_connector ? 1 : 0

  project       = var.project_id
  region        = var.region
  name          = "dnsfailover"
  network       = element(split("/", var.network), length(split("/", var.network)) - 1)
  ip_cidr_range = var.vpc_connector_cidr
  min_instances = 2
  max_instances = 3
}
