package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/demo"
	"github.com/dnsfailover/dnsfailover/internal/failover"
)

// world runs the demo's system (Cloud DNS emulator, Redis pair, Memorystore
// API, pstest, the functions) and points the CLI's environment at it.
func world(t *testing.T) *demo.World {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "demo")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/dnsfailover/dnsfailover/cmd/demo").CombinedOutput(); err != nil {
		t.Fatalf("build demo: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	w, err := demo.Start(ctx, demo.Options{PubSub: "pstest", Out: &bytes.Buffer{}, FunctionsCommand: []string{"env", "DNSFAILOVER_DEMO_ROLE=functions", bin}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	for _, kv := range w.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return w
}

func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestCLI(t *testing.T) {
	w := world(t)

	out, err := cli(t, "status")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	for _, want := range []string{demo.Record, "A:     127.0.0.2 TTL 5", "state: steady", "session-a", "healthy"} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}

	out, err = cli(t, "plan", "--record", demo.Record, "--target", demo.InstanceB, "--mode", "planned")
	if err != nil || !strings.Contains(out, "dry-run") || !strings.Contains(out, "plan: lower TTL") {
		t.Fatalf("plan: %v\n%s", err, out)
	}

	// Bad input is refused before anything is published (exit status 2).
	for _, bad := range [][]string{
		{"failover", "--record", demo.Record, "--target", "not an address", "--mode", "emergency", "--reason", "x"},
		{"failover", "--record", demo.Record, "--target", demo.InstanceB, "--mode", "soon", "--reason", "x"},
		{"failover", "--record", "unknown.example.", "--target", demo.InstanceB, "--mode", "emergency", "--reason", "x"},
		{"frobnicate"},
	} {
		if out, err := cli(t, bad...); err == nil || !errorsAsUsage(err) {
			t.Errorf("%q: err %v, want a usage error\n%s", bad, err, out)
		}
	}
	if rs := w.Results(); len(rs) != 0 {
		t.Fatalf("refused input produced results: %+v", rs)
	}

	out, err = cli(t, "failover", "--record", demo.Record, "--target", demo.InstanceB, "--mode", "emergency",
		"--reason", "cli test", "--request-id", "cli-1", "--wait", "60s", "--json")
	if err != nil {
		t.Fatalf("failover: %v\n%s", err, out)
	}
	var res failover.Result
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &res); err != nil {
		t.Fatalf("decode result: %v\n%s", err, out)
	}
	if res.Outcome != failover.OutcomeSwapped || res.RequestID != "cli-1" || res.Source != "manual" {
		t.Errorf("result %+v", res)
	}
	out, err = cli(t, "status", "--record", demo.Record)
	if err != nil || !strings.Contains(out, "127.0.0.3") || !strings.Contains(out, "cli-1: cli test") {
		t.Errorf("status after failover: %v\n%s", err, out)
	}
}

func errorsAsUsage(err error) bool {
	_, ok := err.(usageError)
	return ok
}
