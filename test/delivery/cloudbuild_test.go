package delivery

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

type cloudBuild struct {
	Substitutions map[string]string `json:"substitutions"`
	Options       map[string]any    `json:"options"`
	Timeout       string            `json:"timeout"`
	Steps         []struct {
		ID         string   `json:"id"`
		Name       string   `json:"name"`
		Entrypoint string   `json:"entrypoint"`
		Args       []string `json:"args"`
		Env        []string `json:"env"`
		WaitFor    []string `json:"waitFor"`
	} `json:"steps"`
	Images []string `json:"images"`
}

func loadCloudBuild(t *testing.T) cloudBuild {
	t.Helper()
	var cb cloudBuild
	if err := yaml.UnmarshalStrict(mustRead(t, filepath.Join(repoRoot(t), "cloudbuild.yaml")), &cb); err != nil {
		t.Fatalf("cloudbuild.yaml: %v", err)
	}
	return cb
}

// builtinSubstitutions are provided by Cloud Build itself.
var builtinSubstitutions = []string{"PROJECT_ID", "BUILD_ID", "PROJECT_NUMBER", "LOCATION", "SHORT_SHA", "COMMIT_SHA",
	"REVISION_ID", "BRANCH_NAME", "TAG_NAME", "REPO_NAME", "TRIGGER_NAME", "SERVICE_ACCOUNT_EMAIL"}

var substitutionRef = regexp.MustCompile(`\$\$|\$\{([A-Z_][A-Z0-9_]*)\}|\$([A-Z_][A-Z0-9_]*)`)

// substitute expands Cloud Build substitutions (including nested user ones);
// $$ becomes a literal $.
func substitute(s string, values map[string]string) string {
	for range 3 { // dynamic substitutions may refer to other substitutions
		s = substitutionRef.ReplaceAllStringFunc(s, func(m string) string {
			if m == "$$" {
				return "\x00"
			}
			name := strings.Trim(m, "${}")
			if v, ok := values[name]; ok {
				return v
			}
			return m
		})
	}
	return strings.ReplaceAll(s, "\x00", "$")
}

func makeTargets(t *testing.T) []string {
	t.Helper()
	var targets []string
	for _, m := range regexp.MustCompile(`(?m)^([a-z][-a-z0-9]*):`).FindAllStringSubmatch(string(mustRead(t, filepath.Join(repoRoot(t), "Makefile"))), -1) {
		targets = append(targets, m[1])
	}
	return targets
}

func TestCloudBuildStepsExistAndSubstitutionsAreDeclared(t *testing.T) {
	cb := loadCloudBuild(t)
	root := repoRoot(t)
	targets := makeTargets(t)
	for _, want := range []string{"help", "setup", "demo", "test", "e2e", "bench", "lint", "fuzz", "deploy-functions", "deploy-cluster", "deploy-gateway", "image"} {
		if !slices.Contains(targets, want) {
			t.Errorf("Makefile has no %s target", want)
		}
	}
	for _, want := range []string{"_REGION", "_ENVIRONMENT", "_CLUSTER"} {
		if _, ok := cb.Substitutions[want]; !ok {
			t.Errorf("substitution %s missing", want)
		}
	}
	if cb.Options["dynamic_substitutions"] != true {
		t.Error("substitutions refer to ${PROJECT_ID}: options.dynamic_substitutions must be true")
	}

	used := map[string]bool{}
	ids := map[string]bool{}
	scriptRef := regexp.MustCompile(`scripts/[-a-z0-9]+\.sh`)
	makeRef := regexp.MustCompile(`\bmake\s+(?:-s\s+)?([a-z][-a-z0-9]*)`)
	var texts []string
	for _, v := range cb.Substitutions {
		texts = append(texts, v)
	}
	for i, step := range cb.Steps {
		if step.ID == "" || ids[step.ID] {
			t.Errorf("step %d: missing or duplicate id %q", i, step.ID)
		}
		for _, w := range step.WaitFor {
			if w != "-" && !ids[w] {
				t.Errorf("step %s waits for %q, which is not an earlier step", step.ID, w)
			}
		}
		ids[step.ID] = true
		if step.Name == "" {
			t.Errorf("step %s has no builder image", step.ID)
		}
		all := append([]string{step.Name, step.Entrypoint}, step.Args...)
		all = append(all, step.Env...)
		texts = append(texts, all...)
		joined := strings.Join(all, " ")
		refs := 0
		if step.Entrypoint == "make" {
			for _, target := range step.Args {
				if strings.HasPrefix(target, "-") || strings.Contains(target, "=") {
					continue
				}
				refs++
				if !slices.Contains(targets, target) {
					t.Errorf("step %s runs make %s, which is no Makefile target", step.ID, target)
				}
			}
		}
		for _, s := range scriptRef.FindAllString(joined, -1) {
			refs++
			if info, err := os.Stat(filepath.Join(root, s)); err != nil || info.Mode()&0o111 == 0 {
				t.Errorf("step %s runs %s, which is missing or not executable", step.ID, s)
			}
		}
		for _, m := range makeRef.FindAllStringSubmatch(joined, -1) {
			refs++
			if !slices.Contains(targets, m[1]) {
				t.Errorf("step %s runs make %s, which is no Makefile target", step.ID, m[1])
			}
		}
		if refs == 0 {
			t.Errorf("step %s runs neither a script nor a make target", step.ID)
		}
	}
	for _, text := range texts {
		for _, m := range substitutionRef.FindAllStringSubmatch(text, -1) {
			name := m[1] + m[2]
			if name == "" {
				continue
			}
			used[name] = true
			if _, ok := cb.Substitutions[name]; !ok && !slices.Contains(builtinSubstitutions, name) {
				t.Errorf("%q uses undeclared substitution %s", text, name)
			}
			if !strings.HasPrefix(name, "_") && !slices.Contains(builtinSubstitutions, name) {
				t.Errorf("%q: user substitutions must start with _", text)
			}
		}
	}
	for name := range cb.Substitutions {
		if !used[name] {
			t.Errorf("substitution %s is never used", name)
		}
	}
	for _, want := range []string{"test", "image", "deploy-functions", "deploy-cluster"} {
		if !ids[want] {
			t.Errorf("no %s step", want)
		}
	}
}

// The deploy step, run as Cloud Build would run it (substitutions filled in),
// must produce the same gcloud commands as the script's own contract.
func TestCloudBuildDeployStepMatchesDeployFunctionsScript(t *testing.T) {
	cb := loadCloudBuild(t)
	values := map[string]string{"PROJECT_ID": "acme-staging", "BUILD_ID": "b-1"}
	for k, v := range cb.Substitutions {
		values[k] = v
	}
	var args []string
	for _, step := range cb.Steps {
		if step.ID == "deploy-functions" {
			for _, a := range step.Args {
				args = append(args, substitute(a, values))
			}
		}
	}
	if len(args) == 0 || args[0] != "scripts/deploy-functions.sh" {
		t.Fatalf("deploy-functions step args %q: want scripts/deploy-functions.sh first", args)
	}
	usage := string(mustRead(t, filepath.Join(repoRoot(t), "scripts", "deploy-functions.sh")))
	for _, a := range args[1:] {
		name, _, _ := strings.Cut(a, "=")
		if !strings.Contains(usage, name+"=") {
			t.Errorf("cloudbuild passes %s, which deploy-functions.sh does not document", name)
		}
	}

	s := deployStubs(t)
	r := s.runScript(args[0], append(args[1:], "--dry-run")...)
	if r.code != 0 {
		t.Fatalf("deploy step as a dry run: exit %d: %s", r.code, r.stderr)
	}
	cmds := printedCommands(t, r.stdout, "gcloud ")
	// The pipeline also sets the trigger identity; apart from it the commands
	// are the script's contract.
	for _, c := range cmds {
		if slices.Contains(c, "deploy") {
			if got := flagValues(c)["--trigger-service-account"]; got != "dnsfailover-trigger@acme-staging.iam.gserviceaccount.com" {
				t.Errorf("--trigger-service-account=%q", got)
			}
		}
	}
	var stripped [][]string
	for _, c := range cmds {
		stripped = append(stripped, slices.DeleteFunc(slices.Clone(c), func(a string) bool {
			return strings.HasPrefix(a, "--trigger-service-account=")
		}))
	}
	checkDeployCommands(t, stripped, values["_ENVIRONMENT"])

	// Makefile's deploy-functions target passes the same flags.
	mk := string(mustRead(t, filepath.Join(repoRoot(t), "Makefile")))
	for _, flag := range []string{"--project=", "--region=", "--environment=", "--service-account=", "--vpc-connector="} {
		if !strings.Contains(mk, flag) {
			t.Errorf("Makefile deploy-functions lacks %s", flag)
		}
	}
	if !reflect.DeepEqual(values["_ENVIRONMENT"], "staging") {
		t.Errorf("default _ENVIRONMENT %q, want staging", values["_ENVIRONMENT"])
	}
}
