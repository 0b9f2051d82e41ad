package delivery

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// needTool skips (or fails on CI) when a tool the check needs is missing.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (scripts/dev-setup.sh installs it)", name)
		}
		t.Skipf("%s is not installed (run scripts/dev-setup.sh)", name)
	}
}

func repoScripts(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	all, err := filepath.Glob(filepath.Join(root, "scripts", "*.sh"))
	if err != nil {
		t.Fatal(err)
	}
	var scripts []string
	for _, s := range all {
		if filepath.Base(s) != scriptLibrary {
			scripts = append(scripts, s)
		}
	}
	scripts = append(scripts, filepath.Join(root, ".ci", "run"))
	return scripts
}

// scriptLibrary is sourced by the scripts (die, run, --dry-run), never run.
const scriptLibrary = "lib.sh"

func TestScriptsPassShellcheck(t *testing.T) {
	needTool(t, "shellcheck")
	for _, script := range append(repoScripts(t), filepath.Join(repoRoot(t), "scripts", scriptLibrary)) {
		// -x follows the sourced library, so its functions and variables count.
		out, err := exec.Command("shellcheck", "-x", "--severity=style", script).CombinedOutput()
		if err != nil {
			t.Errorf("shellcheck %s: %v\n%s", script, err, out)
		}
	}
}

func TestScriptsAreStrictAndHaveUsage(t *testing.T) {
	for _, script := range repoScripts(t) {
		data, err := os.ReadFile(script)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "set -euo pipefail") {
			t.Errorf("%s lacks set -euo pipefail", script)
		}
		if info, err := os.Stat(script); err != nil || info.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable", script)
		}
		if filepath.Base(script) == "run" || filepath.Base(script) == "build-kube-assets.sh" {
			continue
		}
		out, err := exec.Command(script, "--help").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Usage:") {
			t.Errorf("%s --help: %v\n%s", script, err, out)
		}
		if !strings.Contains(string(data), "--dry-run") {
			t.Errorf("%s has no --dry-run", script)
		}
		s := newStubs(t, "gcloud", "kubectl")
		if r := s.runScript(strings.TrimPrefix(script, repoRoot(t)+"/"), "--no-such-flag"); r.code != 2 ||
			!strings.Contains(r.stderr, "unknown argument") {
			t.Errorf("%s --no-such-flag: exit %d, stderr %q; want exit 2 and a clear error", script, r.code, r.stderr)
		}
		if calls := s.calls(); len(calls) != 0 {
			t.Errorf("%s called %v on bad input", script, calls)
		}
	}
}

// The flags every function deploy must carry (the lead's contract).
func wantDeployFlags(name, entryPoint, topic, env string) map[string]string {
	return map[string]string{
		"--project":          "acme-staging",
		"--region":           "europe-west1",
		"--gen2":             "",
		"--runtime":          "go126",
		"--source":           ".",
		"--entry-point":      entryPoint,
		"--trigger-topic":    topic,
		"--retry":            "",
		"--service-account":  "dnsfailover-fn@acme-staging.iam.gserviceaccount.com",
		"--max-instances":    "1",
		"--concurrency":      "1",
		"--timeout":          "540s",
		"--memory":           "256Mi",
		"--ingress-settings": "internal-only",
		"--vpc-connector":    "dnsfailover",
		"--egress-settings":  "private-ranges-only",
		"--set-env-vars": "DNSFAILOVER_CONFIG=config/" + env + ".yaml,DNSFAILOVER_PROJECT=acme-staging," +
			"DNSFAILOVER_RESULTS_TOPIC=redis-failover-results",
		"--quiet": "",
	}
}

var deployArgs = []string{
	"--project=acme-staging", "--region=europe-west1", "--environment=staging",
	"--service-account=dnsfailover-fn@acme-staging.iam.gserviceaccount.com", "--vpc-connector=dnsfailover",
}

// deployStubs answers the read-only lookups deploy-functions.sh makes.
func deployStubs(t *testing.T) *stubs {
	s := newStubs(t, "gcloud")
	s.answer("gcloud projects describe acme-staging", "123456789012\n", 0)
	for _, fn := range []string{"dnsfailover-alert", "dnsfailover-request"} {
		s.answer("gcloud functions describe "+fn, "projects/acme-staging/locations/europe-west1/triggers/"+fn+"-123\n", 0)
		s.answer("gcloud eventarc triggers describe "+fn+"-123",
			"projects/acme-staging/subscriptions/eventarc-europe-west1-"+fn+"-123-sub-456\n", 0)
	}
	return s
}

func isRead(argv []string) bool {
	return slices.Contains(argv, "describe") || slices.Contains(argv, "list")
}

func mutations(calls [][]string) [][]string {
	var out [][]string
	for _, c := range calls {
		if !isRead(c) {
			out = append(out, c)
		}
	}
	return out
}

func checkDeployCommands(t *testing.T, cmds [][]string, env string) {
	t.Helper()
	type fn struct{ name, entry, topic string }
	fns := []fn{
		{"dnsfailover-alert", "OnAlert", "redis-failover-alerts"},
		{"dnsfailover-request", "OnRequest", "redis-failover-requests"},
	}
	if len(cmds) != 6 {
		t.Fatalf("got %d commands, want 6 (deploy, dead-letter policy, IAM per function):\n%q", len(cmds), cmds)
	}
	for i, f := range fns {
		deploy, update, bind := cmds[3*i], cmds[3*i+1], cmds[3*i+2]
		if got := positional(deploy); !reflect.DeepEqual(got, []string{"gcloud", "functions", "deploy", f.name}) {
			t.Errorf("deploy command %q, want gcloud functions deploy %s", got, f.name)
		}
		if got, want := flagValues(deploy), wantDeployFlags(f.name, f.entry, f.topic, env); !reflect.DeepEqual(got, want) {
			t.Errorf("%s flags:\n got %v\nwant %v", f.name, got, want)
		}
		sub := "eventarc-europe-west1-" + f.name + "-123-sub-456"
		wantUpdate := []string{"gcloud", "pubsub", "subscriptions", "update", sub, "--project=acme-staging",
			"--dead-letter-topic=redis-failover-dead-letter", "--max-delivery-attempts=10", "--quiet"}
		if !reflect.DeepEqual(update, wantUpdate) {
			t.Errorf("dead-letter command\n got %q\nwant %q", update, wantUpdate)
		}
		wantBind := []string{"gcloud", "pubsub", "subscriptions", "add-iam-policy-binding", sub, "--project=acme-staging",
			"--member=serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com",
			"--role=roles/pubsub.subscriber", "--quiet"}
		if !reflect.DeepEqual(bind, wantBind) {
			t.Errorf("IAM command\n got %q\nwant %q", bind, wantBind)
		}
	}
}

func TestDeployFunctionsDryRunPrintsWhatARealRunExecutes(t *testing.T) {
	s := deployStubs(t)
	dry := s.runScript("scripts/deploy-functions.sh", append(slices.Clone(deployArgs), "--dry-run")...)
	if dry.code != 0 {
		t.Fatalf("dry run failed (%d): %s", dry.code, dry.stderr)
	}
	if m := mutations(s.calls()); len(m) != 0 {
		t.Fatalf("--dry-run changed something: %q", m)
	}
	printed := printedCommands(t, dry.stdout, "gcloud ")
	checkDeployCommands(t, printed, "staging")

	s.reset()
	real := s.runScript("scripts/deploy-functions.sh", deployArgs...)
	if real.code != 0 {
		t.Fatalf("run failed (%d): %s", real.code, real.stderr)
	}
	executed := mutations(s.calls())
	if !reflect.DeepEqual(executed, printed) {
		t.Errorf("a real run executed\n%q\nbut --dry-run printed\n%q", executed, printed)
	}
}

func TestDeployFunctionsOptionsAndBadInput(t *testing.T) {
	s := deployStubs(t)
	r := s.runScript("scripts/deploy-functions.sh", append(slices.Clone(deployArgs), "--dry-run", "--only=request",
		"--egress-settings=all", "--redis-auth-secret=redis-auth",
		"--trigger-service-account=dnsfailover-trigger@acme-staging.iam.gserviceaccount.com")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	cmds := printedCommands(t, r.stdout, "gcloud ")
	if len(cmds) != 3 || !slices.Contains(cmds[0], "dnsfailover-request") {
		t.Fatalf("--only=request printed %q", cmds)
	}
	flags := flagValues(cmds[0])
	for name, want := range map[string]string{
		"--egress-settings":         "all",
		"--set-secrets":             "REDIS_AUTH=redis-auth:latest",
		"--trigger-service-account": "dnsfailover-trigger@acme-staging.iam.gserviceaccount.com",
	} {
		if flags[name] != want {
			t.Errorf("%s = %q, want %q", name, flags[name], want)
		}
	}

	bad := map[string][]string{
		"no vpc connector":  {"--project=acme-staging", "--region=europe-west1", "--environment=staging", "--service-account=a@b.iam.gserviceaccount.com"},
		"unknown env":       {"--project=acme-staging", "--region=europe-west1", "--environment=qa", "--service-account=a@b.iam.gserviceaccount.com", "--vpc-connector=c"},
		"bad egress":        append(slices.Clone(deployArgs), "--egress-settings=none"),
		"bad project":       {"--project=Acme", "--region=europe-west1", "--environment=staging", "--service-account=a@b.iam.gserviceaccount.com", "--vpc-connector=c"},
		"bad account":       {"--project=acme-staging", "--region=europe-west1", "--environment=staging", "--service-account=me@example.com", "--vpc-connector=c"},
		"delivery attempts": append(slices.Clone(deployArgs), "--max-delivery-attempts=1000"),
	}
	for name, args := range bad {
		s.reset()
		r := s.runScript("scripts/deploy-functions.sh", args...)
		if r.code != 2 || !strings.Contains(r.stderr, "deploy-functions.sh: ") {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 with a message", name, r.code, r.stderr)
		}
		if calls := s.calls(); len(calls) != 0 {
			t.Errorf("%s: gcloud was called: %q", name, calls)
		}
	}
}

func TestDeployFunctionsFlagsExistInInstalledGcloud(t *testing.T) {
	needTool(t, "gcloud")
	out, err := exec.Command("gcloud", "functions", "deploy", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("gcloud functions deploy --help: %v\n%s", err, out)
	}
	help := regexp.MustCompile(`\x1b\[[0-9;]*m`).ReplaceAllString(string(out), "")
	flags := wantDeployFlags("x", "x", "x", "x")
	flags["--set-secrets"], flags["--trigger-service-account"] = "", ""
	for name := range flags {
		if name == "--project" || name == "--quiet" { // global flags
			continue
		}
		if !strings.Contains(help, name+"=") && !strings.Contains(help, name+"\n") && !strings.Contains(help, name+" ") &&
			!strings.Contains(help, name+"]") {
			t.Errorf("gcloud functions deploy does not document %s", name)
		}
	}
}

func publishArgs(args ...string) []string {
	return append([]string{"--project=acme-staging", "--dry-run"}, args...)
}

func TestPublishFailoverBuildsAndValidatesTheRequest(t *testing.T) {
	needTool(t, "jq")
	s := newStubs(t, "gcloud")
	cases := []struct {
		name string
		args []string
		want map[string]any
	}{
		{"planned to an instance", []string{"--record=redis-session-staging.staging.internal.",
			"--target=projects/acme-staging/locations/europe-west1/instances/session-b", `--reason=it's "down"`},
			map[string]any{"record": "redis-session-staging.staging.internal.", "mode": "planned", "dry_run": false,
				"target": "projects/acme-staging/locations/europe-west1/instances/session-b", "reason": `it's "down"`}},
		{"emergency to an IP, no-op", []string{"--record=redis-session-staging.staging.internal.", "--target=10.10.0.6",
			"--mode=emergency", "--no-op", "--request-id=abc-1", "--reason=down"},
			map[string]any{"record": "redis-session-staging.staging.internal.", "mode": "emergency", "dry_run": true,
				"target": "10.10.0.6", "request_id": "abc-1", "reason": "down"}},
		{"raw message", []string{`--message={"record":"redis-session-staging.staging.internal.","target":"fd00::6","mode":"planned","reason":"r"}`},
			map[string]any{"record": "redis-session-staging.staging.internal.", "target": "fd00::6", "mode": "planned", "reason": "r"}},
	}
	for _, c := range cases {
		s.reset()
		r := s.runScript("scripts/publish-failover.sh", publishArgs(c.args...)...)
		if r.code != 0 {
			t.Errorf("%s: exit %d: %s", c.name, r.code, r.stderr)
			continue
		}
		if calls := s.calls(); len(calls) != 0 {
			t.Errorf("%s: --dry-run called %q", c.name, calls)
		}
		cmds := printedCommands(t, r.stdout, "gcloud ")
		if len(cmds) != 1 {
			t.Fatalf("%s: printed %q", c.name, cmds)
		}
		if got := positional(cmds[0]); !reflect.DeepEqual(got, []string{"gcloud", "pubsub", "topics", "publish", "redis-failover-requests"}) {
			t.Errorf("%s: command %q", c.name, got)
		}
		flags := flagValues(cmds[0])
		if flags["--project"] != "acme-staging" {
			t.Errorf("%s: --project=%q", c.name, flags["--project"])
		}
		var got map[string]any
		msg := strings.TrimPrefix(cmds[0][len(cmds[0])-1], "--message=")
		if err := json.Unmarshal([]byte(msg), &got); err != nil {
			t.Fatalf("%s: message %q is not JSON: %v", c.name, msg, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: message\n got %v\nwant %v", c.name, got, c.want)
		}
	}

	// A real run publishes exactly once with the same argv.
	s.reset()
	r := s.runScript("scripts/publish-failover.sh", "--project=acme-staging", "--record=redis-session-staging.staging.internal.", "--reason=test")
	calls := s.calls()
	if r.code != 0 || len(calls) != 1 || calls[0][len(calls[0])-1] !=
		`--message={"record":"redis-session-staging.staging.internal.","mode":"planned","dry_run":false,"reason":"test"}` {
		t.Errorf("real run: exit %d, calls %q, stderr %s", r.code, calls, r.stderr)
	}
}

func TestPublishFailoverRejectsBadRequests(t *testing.T) {
	needTool(t, "jq")
	s := newStubs(t, "gcloud")
	bad := map[string]struct {
		args    []string
		message string
	}{
		"no record":      {[]string{"--mode=planned", "--reason=r"}, "--record (or --message) is required"},
		"bad mode":       {[]string{"--record=a.b.", "--mode=fast", "--reason=r"}, `mode must be planned or emergency, got "fast"`},
		"no reason":      {[]string{"--record=a.b."}, "reason is required"},
		"bad target":     {[]string{"--record=a.b.", "--target=session-b", "--reason=r"}, "target must be"},
		"bad ip":         {[]string{"--record=a.b.", "--target=10.10.0.256", "--reason=r"}, "target must be"},
		"multicast":      {[]string{"--record=a.b.", "--target=224.0.0.1", "--reason=r"}, "target must be"},
		"bad record":     {[]string{"--record=not a name", "--reason=r"}, "record must be a DNS name"},
		"unknown field":  {[]string{`--message={"record":"a.b.","mode":"planned","reason":"r","force":true}`}, `unknown field "force"`},
		"wrong type":     {[]string{`--message={"record":"a.b.","mode":"planned","reason":"r","dry_run":"yes"}`}, "dry_run must be true or false"},
		"record missing": {[]string{`--message={"target":"10.0.0.1","mode":"planned","reason":"r"}`}, "record is required"},
		"mode missing":   {[]string{`--message={"record":"a.b.","reason":"r"}`}, "mode is required"},
		"not an object":  {[]string{`--message=["a.b."]`}, "must be a JSON object"},
		"two values":     {[]string{`--message={"record":"a.b."} {}`}, "exactly one JSON object"},
		"not JSON":       {[]string{`--message={"record":`}, "not valid JSON"},
		"mixed":          {[]string{`--message={"record":"a.b."}`, "--mode=planned"}, "cannot be combined"},
		"bad request id": {[]string{"--record=a.b.", "--request-id=-a", "--reason=r"}, "request_id must"},
		"no project":     {[]string{"--record=a.b.", "--reason=r"}, "--project is required"},
	}
	for name, c := range bad {
		s.reset()
		args := publishArgs(c.args...)
		if name == "no project" {
			args = c.args
		}
		r := s.runScript("scripts/publish-failover.sh", args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.message) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", name, r.code, r.stderr, c.message)
		}
		if calls := s.calls(); len(calls) != 0 || r.stdout != "" {
			t.Errorf("%s: published or printed something: %q %q", name, calls, r.stdout)
		}
	}
}

var bootstrapArgs = []string{
	"--project=acme-staging", "--zone=staging-internal", "--dns-name=staging.internal.",
	"--network=projects/acme-staging/global/networks/gke-staging", "--record=redis-session-staging.staging.internal.",
	"--ip=10.10.0.5",
}

func TestBootstrapDNSCreatesOnlyWhatIsMissing(t *testing.T) {
	t.Run("empty project", func(t *testing.T) {
		s := newStubs(t, "gcloud")
		r := s.runScript("scripts/bootstrap-dns.sh", append(slices.Clone(bootstrapArgs), "--dry-run")...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		want := [][]string{
			{"gcloud", "dns", "managed-zones", "create", "staging-internal", "--project=acme-staging",
				"--dns-name=staging.internal.", "--visibility=private",
				"--networks=projects/acme-staging/global/networks/gke-staging",
				"--description=Redis names for dnsfailover (private, VPC only)", "--quiet"},
			{"gcloud", "dns", "record-sets", "create", "redis-session-staging.staging.internal.", "--project=acme-staging",
				"--zone=staging-internal", "--type=A", "--ttl=300", "--rrdatas=10.10.0.5", "--quiet"},
		}
		if got := printedCommands(t, r.stdout, "gcloud "); !reflect.DeepEqual(got, want) {
			t.Errorf("printed\n%q\nwant\n%q", got, want)
		}
		calls := s.calls()
		if len(calls) != 1 || !reflect.DeepEqual(positional(calls[0]), []string{"gcloud", "dns", "managed-zones", "list"}) {
			t.Errorf("read calls %q, want one managed-zones list", calls)
		}
		if len(mutations(calls)) != 0 {
			t.Errorf("--dry-run changed something: %q", calls)
		}
		checkPrintedService(t, r.stdout, "redis-session-staging.staging.internal.")

		// The same run for real executes exactly the printed commands.
		s.reset()
		real := s.runScript("scripts/bootstrap-dns.sh", bootstrapArgs...)
		if real.code != 0 || !reflect.DeepEqual(mutations(s.calls()), want) {
			t.Errorf("real run: exit %d, executed %q", real.code, mutations(s.calls()))
		}
	})

	t.Run("after a failover", func(t *testing.T) {
		s := newStubs(t, "gcloud")
		s.answer("gcloud dns managed-zones list", "staging-internal\tstaging.internal.\nstaging-internal-2\tother.internal.\n", 0)
		s.answer("gcloud dns record-sets list", "10.10.0.6\n", 0)
		r := s.runScript("scripts/bootstrap-dns.sh", bootstrapArgs...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if m := mutations(s.calls()); len(m) != 0 {
			t.Errorf("changed an existing setup: %q", m)
		}
		if !strings.Contains(r.stderr, "points at 10.10.0.6, not 10.10.0.5: left as is") {
			t.Errorf("no notice about the moved record: %s", r.stderr)
		}
		checkPrintedService(t, r.stdout, "redis-session-staging.staging.internal.")
	})

	t.Run("zone without the record, address from the instance", func(t *testing.T) {
		s := newStubs(t, "gcloud")
		s.answer("gcloud dns managed-zones list", "staging-internal\tstaging.internal.\n", 0)
		s.answer("gcloud redis instances describe session-a --project=acme-staging --region=europe-west1", "10.10.0.7\n", 0)
		args := append(slices.Clone(bootstrapArgs[:5]), "--instance=projects/acme-staging/locations/europe-west1/instances/session-a",
			"--ttl=120", "--dry-run")
		r := s.runScript("scripts/bootstrap-dns.sh", args...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		got := printedCommands(t, r.stdout, "gcloud ")
		if len(got) != 1 || got[0][3] != "create" || !slices.Contains(got[0], "--rrdatas=10.10.0.7") || !slices.Contains(got[0], "--ttl=120") {
			t.Errorf("printed %q, want only the record create with 10.10.0.7 and TTL 120", got)
		}
	})

	bad := map[string]struct {
		args    []string
		answers [][2]string
		message string
	}{
		"record outside zone": {append(slices.Clone(bootstrapArgs[:4]), "--record=redis.other.internal.", "--ip=10.10.0.5"), nil, "is not inside"},
		"ip and instance":     {append(slices.Clone(bootstrapArgs), "--instance=projects/acme-staging/locations/europe-west1/instances/a1"), nil, "exactly one of"},
		"bad ip":              {append(slices.Clone(bootstrapArgs[:5]), "--ip=10.10.0"), nil, "needs an IPv4 address"},
		"zone name clash":     {bootstrapArgs, [][2]string{{"managed-zones list", "staging-internal\tprod.internal.\n"}}, "exists with DNS name prod.internal."},
		"missing project":     {bootstrapArgs[1:], nil, "--project is required"},
		"bad ttl":             {append(slices.Clone(bootstrapArgs), "--ttl=0"), nil, "--ttl must be"},
	}
	for name, c := range bad {
		s := newStubs(t, "gcloud")
		for _, a := range c.answers {
			s.answer(a[0], a[1], 0)
		}
		r := s.runScript("scripts/bootstrap-dns.sh", c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.message) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", name, r.code, r.stderr, c.message)
		}
		if m := mutations(s.calls()); len(m) != 0 {
			t.Errorf("%s: changed something: %q", name, m)
		}
	}

	// A failing gcloud (no credentials, API off) stops before any change.
	s := newStubs(t, "gcloud")
	s.answer("managed-zones list", "ERROR: (gcloud.dns.managed-zones.list) permission denied\n", 1)
	r := s.runScript("scripts/bootstrap-dns.sh", bootstrapArgs...)
	if r.code != 2 || len(mutations(s.calls())) != 0 || !strings.Contains(r.stderr, "could not list the managed zones") {
		t.Errorf("gcloud failure: exit %d, calls %q, stderr %q", r.code, s.calls(), r.stderr)
	}
}

// checkPrintedService checks the ExternalName Service bootstrap-dns.sh prints.
func checkPrintedService(t *testing.T, stdout, externalName string) {
	t.Helper()
	_, doc, ok := strings.Cut(stdout, "---\n")
	if !ok {
		t.Fatalf("no Service printed:\n%s", stdout)
	}
	var svc struct {
		APIVersion string `json:"apiVersion"`
		Kind       string
		Metadata   struct{ Name, Namespace string }
		Spec       struct {
			Type, ExternalName string
			Ports              []struct {
				Name     string
				Port     int
				Protocol string
			}
		}
	}
	if err := yaml.UnmarshalStrict([]byte(doc), &svc); err != nil {
		t.Fatalf("printed Service is not valid YAML: %v\n%s", err, doc)
	}
	if svc.Kind != "Service" || svc.Metadata.Name != "redis-session" || svc.Spec.Type != "ExternalName" ||
		svc.Spec.ExternalName != externalName || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 6378 {
		t.Errorf("printed Service %+v", svc)
	}
}

// minimalPath holds only what a script may use besides the stubs.
func minimalPath(t *testing.T, s *stubs, tools ...string) string {
	t.Helper()
	for _, tool := range tools {
		real, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		if err := os.Symlink(real, filepath.Join(s.bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return s.bin
}

func TestDevSetupDryRunInstallsWhatIsMissing(t *testing.T) {
	s := newStubs(t, "go", "sudo", "apt-get")
	gopath := t.TempDir()
	s.answer("go env GOBIN", "\n", 0)
	s.answer("go env GOPATH", gopath+"\n", 0)
	path := minimalPath(t, s, "bash", "id", "dirname")

	r := s.runScriptPath(path, "scripts/dev-setup.sh", "--dry-run")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var cmds [][]string
	for _, c := range printedCommands(t, r.stdout, "") {
		if c[0] == "sudo" {
			c = c[1:]
		}
		cmds = append(cmds, c)
	}
	want := [][]string{
		{"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "update", "-q"},
		{"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", "--no-install-recommends",
			"redis-server", "redis-sentinel", "bind9-dnsutils", "dnsperf", "shellcheck", "jq"},
		{"go", "install", "honnef.co/go/tools/cmd/staticcheck@v0.8.2"},
		{"scripts/build-kube-assets.sh"},
	}
	if !reflect.DeepEqual(cmds, want) {
		t.Errorf("printed\n%q\nwant\n%q", cmds, want)
	}
	for _, c := range s.calls() {
		if c[0] != "go" || c[1] != "env" {
			t.Errorf("--dry-run ran %q", c)
		}
	}

	// With everything present only the kube assets step remains.
	s.reset()
	for _, tool := range []string{"redis-server", "redis-sentinel", "dig", "dnsperf", "shellcheck", "jq"} {
		s.add(tool)
	}
	if err := os.MkdirAll(filepath.Join(gopath, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gopath, "bin", "staticcheck"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r = s.runScriptPath(path, "scripts/dev-setup.sh", "--dry-run")
	if got := printedCommands(t, r.stdout, ""); r.code != 0 || !reflect.DeepEqual(got, [][]string{{"scripts/build-kube-assets.sh"}}) {
		t.Errorf("exit %d, printed %q; want only the kube assets build", r.code, got)
	}
}

func TestGoFuzzAndBenchDiscoverTargets(t *testing.T) {
	s := newStubs(t, "go")
	s.answer("go test -count=1 -list ^Fuzz",
		"FuzzParse\nFuzzDecode\nok  \texample.com/m/a\t0.01s\n?   \texample.com/m/b\t[no test files]\nok  \texample.com/m/c\t0.01s\nFuzzOne\nok  \texample.com/m/d\t0.01s\n", 0)
	s.answer("go test -count=1 -list ^Benchmark",
		"BenchmarkX\nTestY\nok  \texample.com/m/a\t0.01s\nok  \texample.com/m/c\t0.01s\nBenchmarkZ\nok  \texample.com/m/d\t0.01s\n", 0)
	r := s.runScript("scripts/go-fuzz.sh", "--fuzztime=3s", "--dry-run")
	want := [][]string{
		{"go", "test", "-run", "^$", "-fuzz", "^FuzzParse$", "-fuzztime", "3s", "example.com/m/a"},
		{"go", "test", "-run", "^$", "-fuzz", "^FuzzDecode$", "-fuzztime", "3s", "example.com/m/a"},
		{"go", "test", "-run", "^$", "-fuzz", "^FuzzOne$", "-fuzztime", "3s", "example.com/m/d"},
	}
	if got := printedCommands(t, r.stdout, "go "); r.code != 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("go-fuzz.sh: exit %d, printed\n%q\nwant\n%q\n%s", r.code, got, want, r.stderr)
	}
	r = s.runScript("scripts/go-bench.sh", "--dry-run")
	wantBench := [][]string{{"go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", "1s", "-count", "1",
		"example.com/m/a", "example.com/m/d"}}
	if got := printedCommands(t, r.stdout, "go "); r.code != 0 || !reflect.DeepEqual(got, wantBench) {
		t.Errorf("go-bench.sh: exit %d, printed %q, want %q", r.code, got, wantBench)
	}
	if r := s.runScript("scripts/go-fuzz.sh", "--fuzztime=forever"); r.code != 2 {
		t.Errorf("bad --fuzztime: exit %d", r.code)
	}
}
