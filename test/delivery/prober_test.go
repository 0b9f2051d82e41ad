package delivery

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/yaml"

	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/prober"
)

// proberEnvironments maps each overlay to its functions config: the prober
// publishes to that project's requests topic, for records those functions manage.
var proberEnvironments = map[string]string{
	"staging-gke":    "staging",
	"production-gke": "production",
}

const (
	proberNamespace = "dnsfailover-prober"
	proberName      = "dnsfailover-prober"
	wiAnnotation    = "iam.gke.io/gcp-service-account"
)

// proberObjects is what the prober checks need from one rendered overlay.
type proberObjects struct {
	config     []byte
	deployment appsv1.Deployment
	sa         corev1.ServiceAccount
}

func findProber(t *testing.T, m resmap.ResMap) proberObjects {
	t.Helper()
	var p proberObjects
	found := map[string]int{}
	for _, r := range m.Resources() {
		if r.GetNamespace() != proberNamespace || r.GetName() != proberName {
			continue
		}
		found[r.GetKind()]++
		b, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		switch r.GetKind() {
		case "ConfigMap":
			var cm corev1.ConfigMap
			if err := yaml.UnmarshalStrict(b, &cm); err != nil {
				t.Fatalf("prober ConfigMap: %v", err)
			}
			p.config = []byte(cm.Data["config.yaml"])
		case "Deployment":
			if err := yaml.UnmarshalStrict(b, &p.deployment); err != nil {
				t.Fatalf("prober Deployment: %v", err)
			}
		case "ServiceAccount":
			if err := yaml.UnmarshalStrict(b, &p.sa); err != nil {
				t.Fatalf("prober ServiceAccount: %v", err)
			}
		}
	}
	for _, kind := range []string{"ConfigMap", "Deployment", "ServiceAccount"} {
		if found[kind] != 1 {
			t.Fatalf("found %d %s %s/%s, want 1", found[kind], kind, proberNamespace, proberName)
		}
	}
	return p
}

// The prober's config in each overlay is accepted by the prober's own parser,
// names this environment's project, requests topic and record, and is backed
// by what the Deployment mounts; the ServiceAccount is bound to the Google
// service account Terraform creates in that project.
func TestOverlaysConfigureTheProber(t *testing.T) {
	root := repoRoot(t)
	requestsTopic := terraformTopicNames(t)["requests"]
	if requestsTopic == "" {
		t.Fatal("infra/terraform: local.topic_names has no requests topic")
	}
	accountID := terraformProberAccountID(t)
	dirs := overlayDirs(t)
	for name := range proberEnvironments {
		if dirs[name] == "" {
			t.Errorf("overlay %s is missing", name)
		}
	}
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			env, ok := proberEnvironments[name]
			if !ok {
				t.Fatalf("overlay %s has no functions config listed in proberEnvironments", name)
			}
			p := findProber(t, render(t, dir))
			cfg, err := prober.Parse(p.config)
			if err != nil {
				t.Fatalf("the prober refuses the overlay's config: %v", err)
			}
			fn, err := config.Parse(mustRead(t, filepath.Join(root, "config", env+".yaml")))
			if err != nil {
				t.Fatalf("config/%s.yaml: %v", env, err)
			}
			if strings.Contains(string(p.config), "my-project") || cfg.Project != fn.Project {
				t.Errorf("prober project %q, want the functions' project %q", cfg.Project, fn.Project)
			}
			if cfg.RequestsTopic != requestsTopic {
				t.Errorf("requestsTopic %q, want %q (Terraform's requests topic, the request function's trigger)", cfg.RequestsTopic, requestsTopic)
			}
			if d := p.deployment.Spec.Replicas; d == nil || int(*d) != cfg.Replicas || cfg.Quorum < 2 {
				t.Errorf("config replicas %d quorum %d, Deployment replicas %v: the quorum is a majority of the configured replicas", cfg.Replicas, cfg.Quorum, d)
			}

			managed := map[string]config.Record{}
			for _, r := range fn.Records {
				managed[r.Name] = r
			}
			var names []string
			for _, r := range cfg.Records {
				names = append(names, r.Name)
				fr, ok := managed[r.Name]
				if !ok {
					t.Errorf("record %s is not managed by config/%s.yaml: the request function would refuse the prober's requests", r.Name, env)
					continue
				}
				if r.Port != fr.Port {
					t.Errorf("record %s: prober probes port %d, the functions use %d", r.Name, r.Port, fr.Port)
				}
				if r.Redis.TLS != fr.Redis.TLS {
					t.Errorf("record %s: prober tls=%v, functions tls=%v", r.Name, r.Redis.TLS, fr.Redis.TLS)
				}
				checkProberRedisInputs(t, p.deployment, r)
			}
			if want := environments[name]; !slices.Contains(names, want) {
				t.Errorf("prober records %v do not include %s, the record redis-session points at", names, want)
			}
			checkProberConfigMounted(t, p.deployment)

			// Workload Identity: the KSA the pods run as carries the Google
			// service account Terraform creates in the requests topic's project.
			if got := p.deployment.Spec.Template.Spec.ServiceAccountName; got != p.sa.Name {
				t.Errorf("pods run as ServiceAccount %q, the annotated one is %q", got, p.sa.Name)
			}
			wantGSA := accountID + "@" + cfg.Project + ".iam.gserviceaccount.com"
			if got := p.sa.Annotations[wiAnnotation]; got != wantGSA {
				t.Errorf("ServiceAccount annotation %s = %q, want %q", wiAnnotation, got, wantGSA)
			}
			ns, ksa := terraformProberKSA(t)
			if p.sa.Namespace != ns || p.sa.Name != ksa {
				t.Errorf("ServiceAccount %s/%s, but Terraform binds Workload Identity for %s/%s", p.sa.Namespace, p.sa.Name, ns, ksa)
			}
		})
	}
}

func proberContainer(t *testing.T, d appsv1.Deployment) corev1.Container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Image == "dnsfailover-prober" || strings.Contains(c.Image, "prober") {
			return c
		}
	}
	t.Fatalf("no prober container in %v", d.Spec.Template.Spec.Containers)
	return corev1.Container{}
}

// mountFor returns the volume mounted at the directory holding path.
func mountFor(t *testing.T, d appsv1.Deployment, c corev1.Container, path string) (corev1.Volume, bool) {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Name == m.Name {
					return v, true
				}
			}
		}
	}
	return corev1.Volume{}, false
}

// A CA bundle or AUTH string the pod lacks makes every replica's probe fail,
// which the quorum would report as a lost primary: both must come from
// Secrets the pod cannot start without.
func checkProberRedisInputs(t *testing.T, d appsv1.Deployment, r prober.Record) {
	t.Helper()
	c := proberContainer(t, d)
	if r.Redis.CAFile != "" {
		v, ok := mountFor(t, d, c, r.Redis.CAFile)
		switch {
		case !ok:
			t.Errorf("record %s: caFile %s is on no volume the container mounts", r.Name, r.Redis.CAFile)
		case v.Secret == nil:
			t.Errorf("record %s: caFile %s should come from a Secret, volume %s is %+v", r.Name, r.Redis.CAFile, v.Name, v.VolumeSource)
		case v.Secret.Optional == nil || *v.Secret.Optional:
			t.Errorf("record %s: Secret %s holding the CA is optional: pods would start without it and every probe would fail", r.Name, v.Secret.SecretName)
		case !strings.HasSuffix(r.Redis.CAFile, "/ca.pem") || len(v.Secret.Items) != 0:
			t.Errorf("record %s: caFile %s, want the key ca.pem of Secret %s", r.Name, r.Redis.CAFile, v.Secret.SecretName)
		}
	}
	if r.Redis.PasswordEnv != "" {
		var ref *corev1.SecretKeySelector
		for _, e := range c.Env {
			if e.Name == r.Redis.PasswordEnv && e.ValueFrom != nil {
				ref = e.ValueFrom.SecretKeyRef
			}
		}
		switch {
		case ref == nil:
			t.Errorf("record %s: passwordEnv %s is not set from a Secret", r.Name, r.Redis.PasswordEnv)
		case ref.Optional == nil || *ref.Optional:
			t.Errorf("record %s: Secret %s for %s is optional: pods would start without AUTH and every probe would fail", r.Name, ref.Name, r.Redis.PasswordEnv)
		}
	}
}

// The file --config names is the overlay's ConfigMap.
func checkProberConfigMounted(t *testing.T, d appsv1.Deployment) {
	t.Helper()
	c := proberContainer(t, d)
	var path string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			path = v
		}
	}
	if path == "" {
		t.Fatalf("prober args %q have no --config", c.Args)
	}
	v, ok := mountFor(t, d, c, path)
	if !ok || v.ConfigMap == nil || v.ConfigMap.Name != proberName || filepath.Base(path) != "config.yaml" {
		t.Errorf("--config=%s is not the key config.yaml of ConfigMap %s (volume %+v)", path, proberName, v)
	}
}
