// Package demo_test runs `make demo`'s program as a user would and checks
// the story it tells and that it leaves nothing running.
package demo_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "demo")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/dnsfailover/dnsfailover/cmd/demo")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/demo: %v\n%s", err, out)
	}
	return bin
}

// children lists live processes whose parent chain reaches pid.
func descendants(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// stat: pid (comm) state ppid ...; comm may hold spaces.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 1 {
			parent[p], _ = strconv.Atoi(f[1])
		}
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

func TestDemo(t *testing.T) {
	for _, backend := range []string{"emulator", "pstest"} {
		t.Run(backend, func(t *testing.T) {
			if backend == "emulator" {
				if _, err := exec.LookPath("gcloud"); err != nil {
					if os.Getenv("CI") == "true" {
						t.Fatal("gcloud is not installed (Debian google-cloud-cli and google-cloud-cli-pubsub-emulator)")
					}
					t.Skip("gcloud not installed")
				}
			}
			bin := build(t)
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			var out, logs bytes.Buffer
			cmd := exec.CommandContext(ctx, bin, "-pubsub="+backend, "-timeout=3m")
			cmd.Stdout, cmd.Stderr = &out, &logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pid := cmd.Process.Pid
			err := cmd.Wait()
			t.Logf("demo output:\n%s", out.String())
			if err != nil {
				t.Fatalf("demo failed: %v\nstderr:\n%s", err, logs.String())
			}
			if left := descendants(pid); len(left) > 0 {
				t.Errorf("demo left processes running: %v", left)
			}
			s := out.String()
			for _, want := range []*regexp.Regexp{
				regexp.MustCompile(`dns before:\s+redis-session-staging\.staging\.internal\. 5 IN A 127\.0\.0\.2`),
				regexp.MustCompile(`(?m)check-target\s+ok .*session-b chose 127\.0\.0\.3`),
				regexp.MustCompile(`(?m)swap\s+ok .*A 127\.0\.0\.3`),
				regexp.MustCompile(`(?m)verify\s+ok\s+1 resolver\(s\) confirmed`),
				regexp.MustCompile(`dns after:\s+redis-session-staging\.staging\.internal\. 5 IN A 127\.0\.0\.3`),
				regexp.MustCompile(`app check: .* -> 127\.0\.0\.3:\d+, PING .*ROLE master`),
				regexp.MustCompile(`(?s)move back at once.*result published: rejected .*cooldown`),
				regexp.MustCompile(`(?m)wait-ttl\s+ok\s+waited 5s`),
				regexp.MustCompile(`dns after:\s+redis-session-staging\.staging\.internal\. 5 IN A 127\.0\.0\.2`),
				regexp.MustCompile(`demo finished in`),
			} {
				if !want.MatchString(s) {
					t.Errorf("output lacks %q", want)
				}
			}
			if got := strings.Count(s, "result published: swapped"); got != 2 {
				t.Errorf("%d swaps reported, want 2 (alert failover, planned failback)", got)
			}
			if backend == "emulator" && !strings.Contains(s, "$ gcloud pubsub topics publish redis-failover-requests") {
				t.Error("the failback was not published with the real gcloud command")
			}
			if backend == "pstest" && !strings.Contains(s, "using pstest") {
				t.Error("the pstest fallback is not announced")
			}
		})
	}
}
