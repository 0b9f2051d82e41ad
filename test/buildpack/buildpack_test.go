package buildpack

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/syncbuf"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/dnsfailover/dnsfailover\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root (go.mod) not found")
		}
		dir = parent
	}
}

// offlineEnv makes every go command use the module cache only.
var offlineEnv = []string{"GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off", "GOTOOLCHAIN=local"}

// TestDeployBuildsAndServes uploads the repository as gcloud would, builds it
// as the Go functions buildpack does (offline), starts the binary as Cloud
// Run starts it and sends it one CloudEvent.
func TestDeployBuildsAndServes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole function: not in -short")
	}
	root := repoRoot(t)
	workspace := t.TempDir()
	files, err := Upload(root, filepath.Join(workspace, SourceDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"go.mod", "go.sum", "function.go", "functions/app.go", "functions/wiring.go", "internal/config/config.go"} {
		if !slices.Contains(files, want) {
			t.Errorf("upload lacks %s", want)
		}
	}
	for _, f := range files {
		for _, bad := range []string{".git/", "test/", "docs/", "infra/", "cmd/", "tools/", "scripts/", "/testdata/"} {
			if strings.HasPrefix(f, bad) || strings.Contains(f, "/"+bad) {
				t.Errorf("upload includes %s", f)
			}
		}
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, ".md") {
			t.Errorf("upload includes %s", f)
		}
	}
	t.Logf("upload: %d files", len(files))

	// The root package as the buildpack sees it, before the tests are left
	// out by .gcloudignore: root _test.go files must share the package name.
	pkg, err := RootPackage(root)
	if err != nil {
		t.Fatalf("repository root: %v", err)
	}
	if pkg.Name != "dnsfailover" || !pkg.Declarative() {
		t.Fatalf("root package %+v", pkg)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "main")
	if err := Build(ctx, workspace, bin, offlineEnv, OfflineTidyFlags); err != nil {
		t.Fatalf("buildpack-equivalent build: %v\n(the module cache must hold every dependency: run `go mod download` once)", err)
	}
	main, err := os.ReadFile(filepath.Join(workspace, SourceDir, filepath.FromSlash(AppModule), "main.go"))
	if err != nil || !strings.Contains(string(main), `_ "github.com/dnsfailover/dnsfailover"`) {
		t.Fatalf("generated main: %v\n%s", err, main)
	}

	addr, logs := startFunction(t, bin, "OnAlert")
	code := postTestNotification(t, addr)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d, want 200; function output:\n%s", code, logs)
	}
	waitFor(t, logs, "Monitoring test notification received")
}

const config = `{"project":"acme","records":[{"name":"redis.example.internal.","zone":"z","normalTTL":300,"failoverTTL":30,"allow":{"cidrs":["10.20.0.0/24"]}}]}`

// startFunction runs the built binary as Cloud Run would: PORT and
// FUNCTION_TARGET from the environment. It is killed with its process group.
func startFunction(t *testing.T, bin, target string) (string, *syncbuf.Buffer) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+port, "FUNCTION_TARGET="+target, "DNSFAILOVER_CONFIG_JSON="+config,
		"DNSFAILOVER_CONFIG=", "DNSFAILOVER_METRICS=off", "DNSFAILOVER_RESULTS_TOPIC=")
	logs := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + port
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr, logs
		}
		if time.Now().After(deadline) {
			t.Fatalf("function did not listen on %s: %v\n%s", addr, err, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// postTestNotification sends what Eventarc sends for the Monitoring
// test-channel message: a binary-mode Pub/Sub CloudEvent.
func postTestNotification(t *testing.T, addr string) int {
	t.Helper()
	msg := `{"incident":{"incident_id":"12345","state":"OPEN","started_at":0,"ended_at":null,"resource":{"type":"test_resource_type","labels":{}},"summary":"This is a test notification."},"version":"test"}`
	body := fmt.Sprintf(`{"message":{"data":%q,"messageId":"1","publishTime":"2026-01-01T00:00:00Z"},"subscription":"projects/acme/subscriptions/eventarc"}`,
		base64.StdEncoding.EncodeToString([]byte(msg)))
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", "1")
	req.Header.Set("ce-type", "google.cloud.pubsub.topic.v1.messagePublished")
	req.Header.Set("ce-source", "//pubsub.googleapis.com/projects/acme/topics/alerts")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func waitFor(t *testing.T, logs *syncbuf.Buffer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			if strings.Contains(sc.Text(), s) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("output never contained %q:\n%s", s, logs)
}

func TestRootPackageRules(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := RootPackage(dir); err == nil || !strings.Contains(err.Error(), "unable to find Go package") {
		t.Fatalf("empty dir: %v", err)
	}
	write("f.go", "package fn\nimport _ \""+FrameworkFunctions+"\"\n")
	p, err := RootPackage(dir)
	if err != nil || p.Name != "fn" || !p.Declarative() {
		t.Fatalf("%+v %v", p, err)
	}
	write("f_test.go", "package fn_test\n")
	if _, err := RootPackage(dir); err == nil || !strings.Contains(err.Error(), "multiple packages in user code directory: fn, fn_test") {
		t.Fatalf("external test package at root: %v", err)
	}
}

func TestIgnoreSyntax(t *testing.T) {
	ig := &Ignore{}
	src := "# comment\n*.md\n/only-root.txt\nbuild/\ndocs/**/*.png\n!keep.md\nsub/dir/\n\\#literal\n*.y?l\n"
	if err := ig.parse(strings.NewReader(src), func(string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		dir  bool
		want bool
	}{
		{"README.md", false, true},
		{"a/b/README.md", false, true},
		{"keep.md", false, false},
		{"a/keep.md", false, false},
		{"only-root.txt", false, true},
		{"a/only-root.txt", false, false},
		{"build", true, true},
		{"a/build", true, true},
		{"build", false, false},
		{"docs/x/y/p.png", false, true},
		{"docs/p.png", false, true},
		{"sub/dir", true, true},
		{"x/sub/dir", true, false},
		{"#literal", false, true},
		{"a.yml", false, true},
		{"a.go", false, false},
	} {
		if got := ig.Ignored(tc.path, tc.dir); got != tc.want {
			t.Errorf("Ignored(%q, dir=%v) = %v, want %v", tc.path, tc.dir, got, tc.want)
		}
	}
}

func TestUploadHonoursIncludesAndDirs(t *testing.T) {
	root, dst := t.TempDir(), t.TempDir()
	for name, body := range map[string]string{
		".gcloudignore": "#!include:.gitignore\nskip/\n",
		".gitignore":    "*.bin\n",
		"a.go":          "package a\n",
		"x.bin":         "binary",
		"skip/b.go":     "package b\n",
		"keep/c.go":     "package c\n",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := Upload(root, dst)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	if want := []string{".gcloudignore", ".gitignore", "a.go", "keep/c.go"}; !slices.Equal(files, want) {
		t.Fatalf("uploaded %v, want %v", files, want)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "keep", "c.go")); err != nil || string(b) != "package c\n" {
		t.Fatalf("copy: %q %v", b, err)
	}
}
