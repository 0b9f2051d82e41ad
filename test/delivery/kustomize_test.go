package delivery

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// environments are the overlays and the Cloud DNS name each must point at.
var environments = map[string]string{
	"staging-gke":    "redis-session-staging.staging.internal.",
	"production-gke": "redis-session-production.production.internal.",
}

func overlayDirs(t *testing.T) map[string]string {
	t.Helper()
	root := filepath.Join(repoRoot(t), "infra", "k8s", "overlays")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			dirs[e.Name()] = filepath.Join(root, e.Name())
		}
	}
	for name := range environments {
		if dirs[name] == "" {
			t.Errorf("overlay %s is missing", name)
		}
	}
	return dirs
}

// render builds a kustomization directory in-process, as kubectl -k would.
func render(t *testing.T, dir string) resmap.ResMap {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	return m
}

func TestOverlaysRenderTheRedisSessionService(t *testing.T) {
	for name, dir := range overlayDirs(t) {
		t.Run(name, func(t *testing.T) {
			m := render(t, dir)
			var found int
			for _, r := range m.Resources() {
				if r.GetKind() != "Service" || r.GetName() != "redis-session" {
					continue
				}
				found++
				obj, err := r.Map()
				if err != nil {
					t.Fatal(err)
				}
				spec, _ := obj["spec"].(map[string]any)
				if spec["type"] != "ExternalName" {
					t.Errorf("redis-session type %v, want ExternalName", spec["type"])
				}
				if want, ok := environments[name]; ok && spec["externalName"] != want {
					t.Errorf("externalName %v, want %s", spec["externalName"], want)
				}
				if strings.Contains(spec["externalName"].(string), "example") {
					t.Errorf("overlay %s keeps the base placeholder %v", name, spec["externalName"])
				}
				if _, ok := spec["selector"]; ok {
					t.Error("an ExternalName Service must have no selector")
				}
				ports, _ := spec["ports"].([]any)
				if len(ports) != 1 || ports[0].(map[string]any)["port"] != 6378 {
					t.Errorf("ports %v, want exactly 6378", ports)
				}
				if r.GetLabels()["app.kubernetes.io/part-of"] != "dnsfailover" {
					t.Errorf("labels %v lack app.kubernetes.io/part-of=dnsfailover", r.GetLabels())
				}
			}
			if found != 1 {
				t.Errorf("found %d redis-session Services, want 1", found)
			}
			if len(m.Resources()) < 2 {
				t.Errorf("overlay renders only %d objects: the gateway manifests are missing", len(m.Resources()))
			}
		})
	}
}

func TestTrivyIgnoreJustifiesExternalName(t *testing.T) {
	data := string(mustRead(t, filepath.Join(repoRoot(t), "infra", "k8s", ".trivyignore")))
	var ids []string
	for _, line := range strings.Split(data, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			ids = append(ids, line)
		}
	}
	if !slices.Equal(ids, []string{"AVD-KSV-0108"}) {
		t.Errorf("ignored checks %v, want only AVD-KSV-0108", ids)
	}
	for _, reason := range []string{"private", "VPC", "IAM", "allowlist"} {
		if !strings.Contains(data, reason) {
			t.Errorf(".trivyignore justification does not mention %q", reason)
		}
	}
}
