package prober_test

import (
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/dnsfailover/dnsfailover/internal/prober"
)

// TestKustomizeBase renders infra/k8s/base/prober as kubectl -k would and
// checks what the design depends on: three replicas on distinct nodes, a
// PDB that keeps the quorum, Lease-only RBAC, a locked-down container, and
// a ConfigMap the prober accepts with a quorum that matches the replicas.
func TestKustomizeBase(t *testing.T) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join("..", "..", "infra", "k8s", "base", "prober"))
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	kinds := map[string][]byte{}
	for _, r := range m.Resources() {
		if r.GetNamespace() != "dnsfailover-prober" && r.GetKind() != "Namespace" {
			t.Errorf("%s/%s is in namespace %q", r.GetKind(), r.GetName(), r.GetNamespace())
		}
		b, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		kinds[r.GetKind()] = b
	}
	for _, k := range []string{"Namespace", "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Deployment", "PodDisruptionBudget"} {
		if kinds[k] == nil {
			t.Fatalf("%s missing from the render", k)
		}
	}

	var d appsv1.Deployment
	mustYAML(t, kinds["Deployment"], &d)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3", d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	aa := pod.Affinity
	if aa == nil || aa.PodAntiAffinity == nil || len(aa.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) == 0 ||
		aa.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("no required anti-affinity across nodes: %+v", aa)
	}
	if len(pod.TopologySpreadConstraints) == 0 {
		t.Error("no topology spread")
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("pod may run as root")
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("container security context %+v", sc)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Error("probes must be /readyz and /healthz")
	}
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			env[e.Name] = e.ValueFrom.FieldRef.FieldPath
		}
	}
	if env["POD_NAME"] != "metadata.name" || env["POD_NAMESPACE"] != "metadata.namespace" || env["POD_UID"] != "metadata.uid" {
		t.Errorf("downward API env %v", env)
	}
	if d.Spec.Selector == nil || d.Spec.Selector.MatchLabels["app.kubernetes.io/name"] != "dnsfailover-prober" {
		t.Errorf("selector %+v", d.Spec.Selector)
	}

	var pdb policyv1.PodDisruptionBudget
	mustYAML(t, kinds["PodDisruptionBudget"], &pdb)
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 2 ||
		pdb.Spec.Selector.MatchLabels["app.kubernetes.io/name"] != "dnsfailover-prober" {
		t.Errorf("PDB %+v", pdb.Spec)
	}

	var role rbacv1.Role
	mustYAML(t, kinds["Role"], &role)
	if len(role.Rules) != 1 || !slices.Equal(role.Rules[0].APIGroups, []string{"coordination.k8s.io"}) ||
		!slices.Equal(role.Rules[0].Resources, []string{"leases"}) ||
		!slices.Equal(role.Rules[0].Verbs, []string{"get", "list", "watch", "create", "update"}) {
		t.Errorf("Role grants more or less than Leases get/list/watch/create/update: %+v", role.Rules)
	}

	var cm struct {
		Data map[string]string `json:"data"`
	}
	mustYAML(t, kinds["ConfigMap"], &cm)
	cfg, err := prober.Parse([]byte(cm.Data["config.yaml"]))
	if err != nil {
		t.Fatalf("the shipped config is refused: %v", err)
	}
	if cfg.Replicas != int(*d.Spec.Replicas) || cfg.Quorum != 2 {
		t.Errorf("config replicas %d quorum %d vs Deployment replicas %d", cfg.Replicas, cfg.Quorum, *d.Spec.Replicas)
	}
}

func mustYAML(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
