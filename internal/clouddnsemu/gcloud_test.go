package clouddnsemu

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// gcloudCLI runs the real Google Cloud CLI against an emulator with an isolated config dir.
type gcloudCLI struct {
	t   *testing.T
	bin string
	env []string
	dir string
}

func newGcloud(t *testing.T, s *Server) *gcloudCLI {
	t.Helper()
	bin, err := exec.LookPath("gcloud")
	if err != nil {
		requireTool(t, "gcloud (Debian package google-cloud-cli)")
	}
	env := append(os.Environ(),
		"CLOUDSDK_CONFIG="+t.TempDir(),
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_DNS="+s.URL(),
		"CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true",
		"CLOUDSDK_CORE_PROJECT="+testProject,
		"CLOUDSDK_CORE_DISABLE_PROMPTS=1",
		"CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=true",
		"CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=true",
		"CLOUDSDK_CORE_CHECK_GCE_METADATA=false",
		"CLOUDSDK_SURVEY_DISABLE_PROMPTS=true",
	)
	return &gcloudCLI{t: t, bin: bin, env: env, dir: t.TempDir()}
}

// run executes one gcloud command and returns stdout; it fails the test unless the exit status is as wanted.
func (g *gcloudCLI) run(wantOK bool, args ...string) (string, string) {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.bin, args...)
	cmd.Env, cmd.Dir = g.env, g.dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if (err == nil) != wantOK {
		g.t.Fatalf("gcloud %s: err=%v (want ok=%v)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, wantOK, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

type gcloudRRSet struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	TTL     int64    `json:"ttl"`
	Rrdatas []string `json:"rrdatas"`
}

// The ADR's manual failover, command for command, through the real gcloud, checked over DNS.
func TestGcloudADRCommands(t *testing.T) {
	s := startEmu(t, Options{})
	g := newGcloud(t, s)
	svc := newClient(t, s)

	g.run(true, "dns", "managed-zones", "create", testZone, "--dns-name="+testOrigin,
		"--description=Private zone for staging Redis", "--visibility=private", "--networks=default")
	z, err := svc.ManagedZones.Get(testProject, testZone).Do()
	if err != nil || z.Visibility != "private" || z.PrivateVisibilityConfig == nil || len(z.PrivateVisibilityConfig.Networks) != 1 ||
		!strings.HasSuffix(z.PrivateVisibilityConfig.Networks[0].NetworkUrl, "/networks/default") {
		t.Fatalf("zone created by gcloud: %+v %v", z, err)
	}

	g.run(true, "dns", "record-sets", "create", testName, "--zone="+testZone, "--type=A", "--ttl=300", "--rrdatas=10.0.0.5")
	wantServed(t, s, "10.0.0.5", 300)
	_, stderr := g.run(false, "dns", "record-sets", "create", testName, "--zone="+testZone, "--type=A", "--ttl=300", "--rrdatas=10.0.0.9")
	if !strings.Contains(stderr, "already exists") {
		t.Fatalf("duplicate create stderr: %s", stderr)
	}
	_, stderr = g.run(false, "dns", "record-sets", "create", "bad.staging.internal.", "--zone="+testZone, "--type=A", "--ttl=300", "--rrdatas=10.0.0.300")
	if !strings.Contains(stderr, "Invalid value") {
		t.Fatalf("invalid address stderr: %s", stderr)
	}

	out, _ := g.run(true, "dns", "record-sets", "list", "--zone="+testZone, "--format=json")
	var list []gcloudRRSet
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list output: %v\n%s", err, out)
	}
	if len(list) != 3 || !hasSet(list, testName, "A", 300, "10.0.0.5") || !hasSet(list, testOrigin, "SOA", 21600, "") || !hasSet(list, testOrigin, "NS", 21600, "") {
		t.Fatalf("record-sets list: %+v", list)
	}

	g.run(true, "dns", "record-sets", "update", testName, "--zone="+testZone, "--type=A", "--ttl=60", "--rrdatas=10.0.0.6")
	out, _ = g.run(true, "dns", "record-sets", "describe", testName, "--zone="+testZone, "--type=A", "--format=json")
	var described gcloudRRSet
	if err := json.Unmarshal([]byte(out), &described); err != nil || !hasSet([]gcloudRRSet{described}, testName, "A", 60, "10.0.0.6") {
		t.Fatalf("describe after update: %v\n%s", err, out)
	}
	wantServed(t, s, "10.0.0.6", 60)

	// The transaction flow reads the SOA, bumps its serial and sends one changes.create.
	serial := soaSerial(t, s)
	g.run(true, "dns", "record-sets", "transaction", "start", "--zone="+testZone)
	g.run(true, "dns", "record-sets", "transaction", "remove", "--zone="+testZone, "--name="+testName, "--type=A", "--ttl=60", "10.0.0.6")
	g.run(true, "dns", "record-sets", "transaction", "add", "--zone="+testZone, "--name="+testName, "--type=A", "--ttl=30", "10.0.0.7")
	g.run(true, "dns", "record-sets", "transaction", "execute", "--zone="+testZone)
	wantServed(t, s, "10.0.0.7", 30)
	if got := soaSerial(t, s); got != serial+1 {
		t.Fatalf("serial after transaction = %d, want %d", got, serial+1)
	}
	// Another writer changes the record between transaction start and execute: gcloud's deletions
	// are stale now, so execute gets the real 412 and nothing changes.
	g.run(true, "dns", "record-sets", "transaction", "start", "--zone="+testZone)
	g.run(true, "dns", "record-sets", "transaction", "remove", "--zone="+testZone, "--name="+testName, "--type=A", "--ttl=30", "10.0.0.7")
	g.run(true, "dns", "record-sets", "transaction", "add", "--zone="+testZone, "--name="+testName, "--type=A", "--ttl=30", "10.0.0.8")
	if _, err := svc.ResourceRecordSets.Patch(testProject, testZone, testName, "A", rrs(testName, "A", 30, "10.0.0.9")).Do(); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s)
	_, stderr = g.run(false, "dns", "record-sets", "transaction", "execute", "--zone="+testZone)
	if !strings.Contains(stderr, "Precondition not met") {
		t.Fatalf("stale transaction stderr: %s", stderr)
	}
	if after := snapshot(t, s); string(after) != string(before) {
		t.Fatalf("stale transaction changed the zone")
	}

	out, _ = g.run(true, "dns", "record-sets", "changes", "list", "--zone="+testZone, "--format=value(id,status)")
	// Order is not asserted: the real API's default sortOrder is undocumented.
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 5 || !strings.Contains(out, "4\tdone") {
		t.Fatalf("changes list:\n%s", out)
	}
	_, stderr = g.run(false, "dns", "managed-zones", "delete", testZone)
	if !strings.Contains(stderr, "not empty") {
		t.Fatalf("delete non-empty zone stderr: %s", stderr)
	}
	g.run(true, "dns", "record-sets", "delete", testName, "--zone="+testZone, "--type=A")
	if r := query(t, s, "udp", testName, dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Fatalf("deleted record still answers: %v", r)
	}
	g.run(true, "dns", "managed-zones", "delete", testZone)
	if r := query(t, s, "tcp", testName, dns.TypeA); r.Rcode != dns.RcodeRefused {
		t.Fatalf("deleted zone still served: %v", r)
	}
	if c := s.Counters(); c.Calls["dns.changes.create"] != 2 || c.Calls["dns.resourceRecordSets.patch"] != 2 || c.PreconditionFailed != 1 {
		t.Fatalf("gcloud did not use the expected methods: %+v", c.Calls)
	}
}

func hasSet(list []gcloudRRSet, name, typ string, ttl int64, data string) bool {
	for _, r := range list {
		if r.Name == name && r.Type == typ && r.TTL == ttl && (data == "" || strings.Join(r.Rrdatas, ",") == data) {
			return true
		}
	}
	return false
}

// wantServed checks the ADR record over UDP and TCP with miekg and over UDP with dig.
func wantServed(t *testing.T, s *Server, addr string, ttl uint32) {
	t.Helper()
	for _, network := range []string{"udp", "tcp"} {
		addrs, ttls := answerA(query(t, s, network, testName, dns.TypeA))
		if len(addrs) != 1 || addrs[0] != addr || ttls[0] != ttl {
			t.Fatalf("%s answer %v ttl %v, want %s ttl %d", network, addrs, ttls, addr, ttl)
		}
	}
	dig, err := exec.LookPath("dig")
	if err != nil {
		requireTool(t, "dig (Debian package bind9-dnsutils)")
	}
	host, port := splitHostPort(t, s.DNSAddr())
	out, err := exec.Command(dig, "@"+host, "-p", port, "+norec", "+short", testName, "A").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != addr {
		t.Fatalf("dig +short = %q (%v), want %s", out, err, addr)
	}
}
