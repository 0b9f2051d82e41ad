package delivery

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// koStub stands in for `go run github.com/google/ko@... build`: it records
// argv with KO_DOCKER_REPO and prints what ko prints for one explicit tag,
// REPO:TAG@sha256:DIGEST, with a digest per import path.
const koStub = `set -u
{ printf '%s\0' "${0##*/}" "KO_DOCKER_REPO=${KO_DOCKER_REPO-}" "$@"; printf '\036\0'; } >> "$STUB_DIR/calls"
[[ ${1-} == run && ${2-} == github.com/google/ko@* ]] || exit 0
tag=latest digit=""
for a in "$@"; do
	case $a in
	--tags=*) tag=${a#--tags=} ;;
	./cmd/gateway) digit=a ;;
	./cmd/prober) digit=b ;;
	esac
done
[[ -n $digit ]] || { echo "ko stub: unknown import path" >&2; exit 1; }
echo "2026/01/01 00:00:00 Publishing ${KO_DOCKER_REPO}:${tag}" >&2
digest=""
for _ in {1..64}; do digest+=$digit; done
printf '%s:%s@sha256:%s\n' "$KO_DOCKER_REPO" "$tag" "$digest"
`

// kubectlCapture records argv and keeps a copy of the kustomization that
// `kubectl apply -k DIR` was given (the script deletes DIR when it exits).
const kubectlCapture = `set -u
{ printf '%s\0' "${0##*/}" "$@"; printf '\036\0'; } >> "$STUB_DIR/calls"
prev=""
for a in "$@"; do
	[[ $prev == -k ]] && cat "$a/kustomization.yaml" > "$STUB_DIR/applied.yaml"
	prev=$a
done
exit 0
`

var (
	digestA = "sha256:" + strings.Repeat("a", 64)
	digestB = "sha256:" + strings.Repeat("b", 64)
)

// renderGenerated renders a kustomization that deploy-cluster.sh generated in
// a mktemp -d directory under tmpRoot: written to a sibling directory, its
// relative path to the overlay resolves the same way.
func renderGenerated(t *testing.T, tmpRoot, kustomization string) map[string][]string {
	t.Helper()
	dir, err := os.MkdirTemp(tmpRoot, "rendered.")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		t.Fatal(err)
	}
	images := map[string][]string{} // "Kind/namespace/name" -> container images
	for _, r := range render(t, dir).Resources() {
		switch r.GetKind() {
		case "Deployment", "DaemonSet", "StatefulSet", "Job", "CronJob":
		default:
			continue
		}
		obj, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		spec := obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
		key := r.GetKind() + "/" + r.GetNamespace() + "/" + r.GetName()
		for _, field := range []string{"initContainers", "containers"} {
			list, _ := spec[field].([]any)
			for _, c := range list {
				images[key] = append(images[key], c.(map[string]any)["image"].(string))
			}
		}
	}
	return images
}

// checkDeployedImages: the gateway and the prober run the pushed images, and
// no workload is left with a placeholder (an image that is not pinned).
func checkDeployedImages(t *testing.T, images map[string][]string, gateway, prober string) {
	t.Helper()
	want := map[string]string{
		"Deployment/dns-gateway/dns-gateway":               gateway,
		"Deployment/dnsfailover-prober/dnsfailover-prober": prober,
	}
	for key, img := range want {
		if !reflect.DeepEqual(images[key], []string{img}) {
			t.Errorf("%s images %q, want [%s]", key, images[key], img)
		}
	}
	for key, list := range images {
		for _, img := range list {
			if !strings.Contains(img, "/") || !strings.Contains(img, "@sha256:") {
				t.Errorf("%s keeps image %q: deploy-cluster.sh sets no image for it", key, img)
			}
		}
	}
}

var deployClusterArgs = []string{"--overlay=staging-gke", "--project=acme-staging", "--region=europe-west1", "--cluster=staging",
	"--gateway-image=europe-west1-docker.pkg.dev/acme-staging/dnsfailover/gateway:b-1@" + digestA,
	"--prober-image=europe-west1-docker.pkg.dev/acme-staging/dnsfailover/prober@" + digestB}

func TestDeployClusterDryRunSetsBothImages(t *testing.T) {
	tmpRoot := t.TempDir()
	s := newStubs(t, "gcloud")
	s.addScript("kubectl", kubectlCapture)
	s.env = []string{"TMPDIR=" + tmpRoot}
	r := s.runScript("scripts/deploy-cluster.sh", append(slices.Clone(deployClusterArgs), "--dry-run")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if calls := s.calls(); len(calls) != 0 {
		t.Errorf("--dry-run called %q", calls)
	}
	cmds := append(printedCommands(t, r.stdout, "gcloud "), printedCommands(t, r.stdout, "kubectl ")...)
	if len(cmds) != 2 {
		t.Fatalf("printed %q", cmds)
	}
	wantCreds := []string{"gcloud", "container", "clusters", "get-credentials", "staging", "--project=acme-staging",
		"--location=europe-west1", "--quiet"}
	if !reflect.DeepEqual(cmds[0], wantCreds) {
		t.Errorf("credentials command %q, want %q", cmds[0], wantCreds)
	}
	apply := cmds[1]
	if len(apply) != 6 || !reflect.DeepEqual(apply[:5], []string{"kubectl", "apply", "--server-side", "--field-manager=dnsfailover-deploy", "-k"}) ||
		filepath.Dir(apply[5]) != tmpRoot {
		t.Errorf("apply command %q, want kubectl apply --server-side --field-manager=dnsfailover-deploy -k <temporary dir>", apply)
	}
	_, generated, ok := strings.Cut(r.stderr, "kustomization.yaml:\n")
	if !ok {
		t.Fatalf("no generated kustomization on stderr:\n%s", r.stderr)
	}
	for _, want := range []string{"name: dnsfailover-gateway\n", "name: dnsfailover-prober\n",
		"newName: europe-west1-docker.pkg.dev/acme-staging/dnsfailover/gateway\n",
		"newName: europe-west1-docker.pkg.dev/acme-staging/dnsfailover/prober\n"} {
		if !strings.Contains(generated, want) {
			t.Errorf("generated kustomization lacks %q:\n%s", want, generated)
		}
	}
	// The tag ko prints next to the digest is dropped: the digest pins the image.
	checkDeployedImages(t, renderGenerated(t, tmpRoot, generated),
		"europe-west1-docker.pkg.dev/acme-staging/dnsfailover/gateway@"+digestA,
		"europe-west1-docker.pkg.dev/acme-staging/dnsfailover/prober@"+digestB)

	// A real run executes the printed commands and applies the same kustomization.
	s.reset()
	real := s.runScript("scripts/deploy-cluster.sh", deployClusterArgs...)
	if real.code != 0 {
		t.Fatalf("real run: exit %d: %s", real.code, real.stderr)
	}
	calls := s.calls()
	if len(calls) != 2 || !reflect.DeepEqual(calls[0], wantCreds) || !reflect.DeepEqual(calls[1][:5], apply[:5]) {
		t.Errorf("real run executed %q, dry run printed %q", calls, cmds)
	}
	if applied := string(mustRead(t, filepath.Join(s.dir, "applied.yaml"))); applied != generated {
		t.Errorf("applied kustomization\n%s\ndiffers from the printed one\n%s", applied, generated)
	}
	if entries, _ := os.ReadDir(tmpRoot); len(entries) != 1 { // only renderGenerated's copy
		t.Errorf("the script left its temporary directory behind: %v", entries)
	}

	// A tag without digest is passed as newTag.
	s.reset()
	args := slices.Clone(deployClusterArgs)
	args[5] = "--prober-image=europe-west1-docker.pkg.dev/acme-staging/dnsfailover/prober:b-1"
	r = s.runScript("scripts/deploy-cluster.sh", append(args, "--dry-run")...)
	if r.code != 0 || !strings.Contains(r.stderr, "name: dnsfailover-prober\n    newName: europe-west1-docker.pkg.dev/acme-staging/dnsfailover/prober\n    newTag: \"b-1\"\n") {
		t.Errorf("tagged prober image: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestDeployClusterRefusesBadInput(t *testing.T) {
	bad := map[string]struct {
		flag, value string // the flag replaced; value "" removes it
		message     string
	}{
		"unknown overlay":  {"--overlay", "qa-gke", "unknown overlay"},
		"bad gateway":      {"--gateway-image", "gateway", "--gateway-image must be"},
		"bad prober":       {"--prober-image", "prober@sha256:123", "--prober-image must be"},
		"no prober image":  {"--prober-image", "", "--prober-image is required"},
		"no gateway image": {"--gateway-image", "", "--gateway-image is required"},
		"bad cluster":      {"--cluster", "Staging", "invalid --cluster"},
	}
	for name, c := range bad {
		s := newStubs(t, "gcloud", "kubectl")
		var args []string
		for _, a := range deployClusterArgs {
			switch {
			case !strings.HasPrefix(a, c.flag+"="):
				args = append(args, a)
			case c.value != "":
				args = append(args, c.flag+"="+c.value)
			}
		}
		r := s.runScript("scripts/deploy-cluster.sh", args...)
		if r.code != 2 || !strings.Contains(r.stderr, "deploy-cluster.sh: "+c.message) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", name, r.code, r.stderr, c.message)
		}
		if calls := s.calls(); len(calls) != 0 {
			t.Errorf("%s: called %q", name, calls)
		}
	}
}

// koCalls are the recorded ko builds (the stub also sees other go calls).
func koCalls(s *stubs) [][]string {
	var out [][]string
	for _, c := range s.calls() {
		if len(c) > 3 && c[2] == "run" && strings.HasPrefix(c[3], "github.com/google/ko@") {
			out = append(out, c)
		}
	}
	return out
}

func checkKoBuilds(t *testing.T, calls [][]string, repo, tag string) {
	t.Helper()
	var want [][]string
	for _, cmd := range []string{"gateway", "prober"} {
		want = append(want, []string{"go", "KO_DOCKER_REPO=" + repo + "/" + cmd, "run", "github.com/google/ko@v0.18.1", "build",
			"--bare", "--tags=" + tag, "--platform=linux/amd64", "./cmd/" + cmd})
	}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("ko builds\n got %q\nwant %q", calls, want)
	}
}

func TestMakeImageBuildsBothImagesAndPrintsTheirDigests(t *testing.T) {
	needTool(t, "make")
	s := newStubs(t, "gcloud")
	s.addScript("go", koStub)
	cmd := exec.Command("make", "-s", "image", "IMAGE_REPO=europe-west1-docker.pkg.dev/acme-staging/dnsfailover", "IMAGE_TAG=b-1")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "PATH="+s.bin+string(os.PathListSeparator)+os.Getenv("PATH"), "STUB_DIR="+s.dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("make image: %v\n%s", err, stderr.String())
	}
	repo := "europe-west1-docker.pkg.dev/acme-staging/dnsfailover"
	want := "GATEWAY_IMAGE=" + repo + "/gateway:b-1@" + digestA + "\nPROBER_IMAGE=" + repo + "/prober:b-1@" + digestB + "\n"
	if stdout.String() != want {
		t.Errorf("make -s image printed\n%q\nwant\n%q", stdout.String(), want)
	}
	checkKoBuilds(t, koCalls(s), repo, "b-1")

	// A failed build fails the target: no half-written image list.
	s.reset()
	s.addScript("go", `{ printf '%s\0' go "$@"; printf '\036\0'; } >> "$STUB_DIR/calls"; [[ $* != *./cmd/prober* ]] || exit 1; echo ref`)
	cmd = exec.Command("make", "-s", "image", "IMAGE_REPO="+repo, "IMAGE_TAG=b-1")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "PATH="+s.bin+string(os.PathListSeparator)+os.Getenv("PATH"), "STUB_DIR="+s.dir)
	out, err := cmd.Output()
	if err == nil || strings.Contains(string(out), "IMAGE=") {
		t.Errorf("make image with a failing prober build: err %v, stdout %q", err, out)
	}
}

// The pipeline's image and deploy-cluster steps, run as Cloud Build would run
// them (substitutions filled in, /workspace shared): ko builds both images,
// and the kustomization applied to the cluster pins both digests.
func TestCloudBuildBuildsAndDeploysBothImages(t *testing.T) {
	needTool(t, "make")
	cb := loadCloudBuild(t)
	values := map[string]string{"PROJECT_ID": "acme-staging", "BUILD_ID": "b-1"}
	for k, v := range cb.Substitutions {
		values[k] = v
	}
	workspace, tmpRoot := t.TempDir(), t.TempDir()
	s := newStubs(t, "gcloud")
	s.addScript("go", koStub)
	s.addScript("kubectl", kubectlCapture)

	stepScript := func(id string) string {
		for _, step := range cb.Steps {
			if step.ID != id {
				continue
			}
			if step.Entrypoint != "bash" || len(step.Args) != 2 || step.Args[0] != "-c" {
				t.Fatalf("step %s: want entrypoint bash with args [-c SCRIPT], got %q %q", id, step.Entrypoint, step.Args)
			}
			return strings.ReplaceAll(substitute(step.Args[1], values), "/workspace/", workspace+"/")
		}
		t.Fatalf("no step %s", id)
		return ""
	}
	run := func(id string) {
		t.Helper()
		cmd := exec.Command("bash", "-c", stepScript(id))
		cmd.Dir = repoRoot(t) // Cloud Build runs steps in /workspace, the source root
		cmd.Env = append(os.Environ(), "PATH="+s.bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"STUB_DIR="+s.dir, "TMPDIR="+tmpRoot)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("step %s: %v\n%s", id, err, out)
		}
	}

	run("image")
	repo := "europe-west1-docker.pkg.dev/acme-staging/dnsfailover"
	checkKoBuilds(t, koCalls(s), repo, "b-1")
	s.reset()
	run("deploy-cluster")
	var gcloud [][]string
	for _, c := range s.calls() {
		if c[0] == "gcloud" {
			gcloud = append(gcloud, c)
		}
	}
	wantCreds := [][]string{{"gcloud", "container", "clusters", "get-credentials", "staging", "--project=acme-staging",
		"--location=europe-west1", "--quiet"}}
	if !reflect.DeepEqual(gcloud, wantCreds) {
		t.Errorf("gcloud calls %q, want %q", gcloud, wantCreds)
	}
	applied := string(mustRead(t, filepath.Join(s.dir, "applied.yaml")))
	if !strings.Contains(applied, "/infra/k8s/overlays/staging-gke\n") {
		t.Errorf("applied kustomization is not on the staging overlay:\n%s", applied)
	}
	checkDeployedImages(t, renderGenerated(t, tmpRoot, applied), repo+"/gateway@"+digestA, repo+"/prober@"+digestB)
}
