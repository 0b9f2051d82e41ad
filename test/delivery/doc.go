// Package delivery holds the offline proofs of the delivery artifacts:
// Kustomize overlays (rendered in-process, accepted by a real kube-apiserver),
// the scripts (shellcheck, --dry-run against recording gcloud/kubectl/go
// stubs), Terraform (parsed with hcl/v2, references resolved) and
// cloudbuild.yaml (steps exist, deploy flags match deploy-functions.sh).
package delivery
