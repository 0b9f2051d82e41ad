package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Builds the binary, preloads a zone from --zones-file, checks the API and DNS, then stops it with SIGTERM.
func TestBinaryServesZonesFile(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "clouddns-emulator")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	zones := filepath.Join(dir, "zones.json")
	err := os.WriteFile(zones, []byte(`{"zones":[{"name":"staging-internal","dnsName":"staging.internal.","private":true,
	  "rrsets":[{"name":"redis-session-staging.staging.internal.","type":"A","ttl":300,"rrdatas":["10.0.0.5"]}]}]}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--http=127.0.0.1:0", "--dns=127.0.0.1:0", "--project=p1", "--zones-file="+zones, "--log-level=warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for len(vars) < 2 && sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
	}
	if vars["API_URL"] == "" || vars["DNS_ADDR"] == "" {
		_ = cmd.Process.Kill()
		t.Fatalf("binary printed %v", vars)
	}

	resp, err := http.Get(vars["API_URL"] + "dns/v1/projects/p1/managedZones/staging-internal/rrsets/redis-session-staging.staging.internal./A")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("rrsets.get status %d", resp.StatusCode)
	}
	m := new(dns.Msg)
	m.SetQuestion("redis-session-staging.staging.internal.", dns.TypeA)
	r, err := dns.Exchange(m, vars["DNS_ADDR"])
	if err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.0.0.5" {
		t.Fatalf("DNS answer %v %v", r, err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

func TestBadFlagsFail(t *testing.T) {
	for _, args := range [][]string{
		{"--log-level=loud"},
		{"--propagation-delay=-1s", "--http=127.0.0.1:0", "--dns=127.0.0.1:0"},
		{"--zones-file=does-not-exist.json", "--http=127.0.0.1:0", "--dns=127.0.0.1:0"},
	} {
		if err := run(args); err == nil {
			t.Errorf("run(%v) succeeded", args)
		}
	}
}
