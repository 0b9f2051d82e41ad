package delivery

import (
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// tfBlock is one top-level block of the dnsfailover module, with its source.
type tfBlock struct {
	block *hclsyntax.Block
	src   []byte
}

func (b tfBlock) text(attr string) string {
	a, ok := b.block.Body.Attributes[attr]
	if !ok {
		return ""
	}
	return string(a.Expr.Range().SliceBytes(b.src))
}

func (b tfBlock) literal(t *testing.T, attr string) string {
	t.Helper()
	a, ok := b.block.Body.Attributes[attr]
	if !ok {
		return ""
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String {
		t.Fatalf("%s.%s: %s is not a string literal", strings.Join(b.block.Labels, "."), attr, b.text(attr))
	}
	return v.AsString()
}

// moduleBlocks parses modules/dnsfailover and returns its top-level blocks
// keyed "type.label1[.label2]".
func moduleBlocks(t *testing.T) map[string]tfBlock {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "infra", "terraform", "modules", "dnsfailover")
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .tf files in %s (%v)", dir, err)
	}
	out := map[string]tfBlock{}
	parser := hclparse.NewParser()
	for _, file := range files {
		src := mustRead(t, file)
		f, diags := parser.ParseHCL(src, file)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", file, diags.Error())
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			out[strings.Join(append([]string{b.Type}, b.Labels...), ".")] = tfBlock{block: b, src: src}
		}
	}
	return out
}

func moduleLocal(t *testing.T, name string) hclsyntax.Expression {
	t.Helper()
	for key, b := range moduleBlocks(t) {
		if key != "locals" {
			continue
		}
		if a, ok := b.block.Body.Attributes[name]; ok {
			return a.Expr
		}
	}
	t.Fatalf("modules/dnsfailover: local.%s is not declared", name)
	return nil
}

func variableDefault(t *testing.T, blocks map[string]tfBlock, name string) cty.Value {
	t.Helper()
	b, ok := blocks["variable."+name]
	if !ok {
		t.Fatalf("modules/dnsfailover: variable %s is not declared", name)
	}
	a, ok := b.block.Body.Attributes["default"]
	if !ok {
		t.Fatalf("variable %s has no default", name)
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("variable %s default: %s", name, diags.Error())
	}
	return v
}

// terraformTopicNames evaluates local.topic_names (role -> topic id).
func terraformTopicNames(t *testing.T) map[string]string {
	t.Helper()
	v, diags := moduleLocal(t, "topic_names").Value(nil)
	if diags.HasErrors() {
		t.Fatalf("local.topic_names: %s", diags.Error())
	}
	out := map[string]string{}
	for k, s := range v.AsValueMap() {
		out[k] = s.AsString()
	}
	return out
}

// terraformProberAccountID is the account_id of google_service_account.prober.
func terraformProberAccountID(t *testing.T) string {
	t.Helper()
	b, ok := moduleBlocks(t)["resource.google_service_account.prober"]
	if !ok {
		t.Fatal("modules/dnsfailover declares no google_service_account.prober")
	}
	return b.literal(t, "account_id")
}

// terraformProberKSA is the namespace and name of the Kubernetes
// ServiceAccount that Terraform lets act as the prober's account by default.
func terraformProberKSA(t *testing.T) (namespace, name string) {
	t.Helper()
	blocks := moduleBlocks(t)
	return variableDefault(t, blocks, "prober_kubernetes_namespace").AsString(),
		variableDefault(t, blocks, "prober_kubernetes_service_account").AsString()
}

// The prober's Google service account may publish to the requests topic and
// nothing else; only the prober's Kubernetes ServiceAccount may act as it.
func TestTerraformProberAccountIsLeastPrivilege(t *testing.T) {
	blocks := moduleBlocks(t)
	type grant struct{ resource, role, target, member string }
	var grants []grant
	for key, b := range blocks {
		if b.block.Type != "resource" || key == "resource.google_service_account.prober" {
			continue
		}
		refers := false
		for _, a := range b.block.Body.Attributes {
			for _, tr := range a.Expr.Variables() {
				if tr.RootName() == "google_service_account" && attrName(tr, 1) == "prober" {
					refers = true
				}
			}
		}
		if !refers {
			continue
		}
		target := b.text("topic") + b.text("service_account_id")
		grants = append(grants, grant{b.block.Labels[0], b.literal(t, "role"), target, b.text("member")})
	}
	sort.Slice(grants, func(i, j int) bool { return grants[i].resource < grants[j].resource })
	want := []grant{
		{"google_pubsub_topic_iam_member", "roles/pubsub.publisher", `google_pubsub_topic.failover["requests"].name`, "google_service_account.prober[0].member"},
		{"google_service_account_iam_member", "roles/iam.workloadIdentityUser", "google_service_account.prober[0].name", "local.prober_workload_identity_member"},
	}
	if !slices.Equal(grants, want) {
		t.Errorf("grants involving the prober's account:\n got %+v\nwant %+v", grants, want)
	}

	// The Workload Identity member, evaluated as Terraform would with the
	// defaults, names the KSA of infra/k8s/base/prober in the cluster project's pool.
	ns, ksa := terraformProberKSA(t)
	for _, c := range []struct {
		gke  cty.Value
		want string
	}{
		{cty.NullVal(cty.String), "serviceAccount:acme-staging.svc.id.goog[dnsfailover-prober/dnsfailover-prober]"},
		{cty.StringVal("acme-gke"), "serviceAccount:acme-gke.svc.id.goog[dnsfailover-prober/dnsfailover-prober]"},
	} {
		ctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{
				"project_id":                        cty.StringVal("acme-staging"),
				"gke_project_id":                    c.gke,
				"prober_kubernetes_namespace":       cty.StringVal(ns),
				"prober_kubernetes_service_account": cty.StringVal(ksa),
			})},
			Functions: map[string]function.Function{"format": stdlib.FormatFunc, "coalesce": stdlib.CoalesceFunc},
		}
		v, diags := moduleLocal(t, "prober_workload_identity_member").Value(ctx)
		if diags.HasErrors() {
			t.Fatalf("local.prober_workload_identity_member: %s", diags.Error())
		}
		if v.AsString() != c.want {
			t.Errorf("gke_project_id %#v: member %q, want %q", c.gke, v.AsString(), c.want)
		}
	}

	for _, out := range []string{"prober_service_account", "prober_workload_identity_member"} {
		if _, ok := blocks["output."+out]; !ok {
			t.Errorf("modules/dnsfailover has no output %s", out)
		}
	}
}
