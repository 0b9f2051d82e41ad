package delivery

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// tfModule is what one directory of .tf files declares and references.
type tfModule struct {
	dir       string
	variables map[string]*hclsyntax.Block
	locals    map[string]bool
	resources map[string]bool // "type.name"
	data      map[string]bool // "type.name"
	modules   map[string]*hclsyntax.Block
	outputs   map[string]bool
	refs      []tfRef
	providers map[string]bool // provider blocks and provider = ... meta-arguments
}

type tfRef struct {
	traversal hcl.Traversal
	iterators []string // names bound by enclosing dynamic blocks
}

func parseTerraformDir(t *testing.T, dir string) *tfModule {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .tf files in %s (%v)", dir, err)
	}
	m := &tfModule{dir: dir, variables: map[string]*hclsyntax.Block{}, locals: map[string]bool{},
		resources: map[string]bool{}, data: map[string]bool{}, modules: map[string]*hclsyntax.Block{},
		outputs: map[string]bool{}, providers: map[string]bool{}}
	parser := hclparse.NewParser()
	for _, file := range files {
		f, diags := parser.ParseHCLFile(file)
		if diags.HasErrors() {
			t.Errorf("%s does not parse: %s", file, diags.Error())
			continue
		}
		body := f.Body.(*hclsyntax.Body)
		if len(body.Attributes) != 0 {
			t.Errorf("%s: top-level attributes are not Terraform", file)
		}
		for _, b := range body.Blocks {
			m.declare(t, file, b)
			if b.Type == "terraform" {
				continue // settings, not expressions
			}
			m.collect(b.Body, nil, b.Type == "variable")
		}
	}
	return m
}

func (m *tfModule) declare(t *testing.T, file string, b *hclsyntax.Block) {
	t.Helper()
	dup := func(kind, name string, seen bool) {
		if seen {
			t.Errorf("%s: %s %q declared twice", file, kind, name)
		}
	}
	switch b.Type {
	case "variable":
		dup("variable", b.Labels[0], m.variables[b.Labels[0]] != nil)
		m.variables[b.Labels[0]] = b
	case "locals":
		for name := range b.Body.Attributes {
			dup("local", name, m.locals[name])
			m.locals[name] = true
		}
	case "resource":
		key := b.Labels[0] + "." + b.Labels[1]
		dup("resource", key, m.resources[key])
		m.resources[key] = true
		if attr, ok := b.Body.Attributes["provider"]; ok {
			m.providers[hcl.ExprAsKeyword(attr.Expr)] = true
			if hcl.ExprAsKeyword(attr.Expr) == "" {
				if tr, diags := hcl.AbsTraversalForExpr(attr.Expr); !diags.HasErrors() {
					m.providers[tr.RootName()] = true
				}
			}
		}
	case "data":
		key := b.Labels[0] + "." + b.Labels[1]
		dup("data", key, m.data[key])
		m.data[key] = true
	case "module":
		dup("module", b.Labels[0], m.modules[b.Labels[0]] != nil)
		m.modules[b.Labels[0]] = b
	case "output":
		dup("output", b.Labels[0], m.outputs[b.Labels[0]])
		m.outputs[b.Labels[0]] = true
	case "terraform", "provider":
	default:
		t.Errorf("%s: unknown top-level block %q", file, b.Type)
	}
}

// collect records every reference in body, remembering dynamic-block iterators.
// A variable's type is a type expression, not references (isVariable).
func (m *tfModule) collect(body *hclsyntax.Body, iterators []string, isVariable bool) {
	for _, name := range sortedKeys(body.Attributes) {
		attr := body.Attributes[name]
		if name == "provider" || name == "ignore_changes" || (isVariable && name == "type") {
			continue // keywords and attribute names, not references
		}
		for _, tr := range attr.Expr.Variables() {
			m.refs = append(m.refs, tfRef{traversal: tr, iterators: iterators})
		}
	}
	for _, b := range body.Blocks {
		inner := iterators
		if b.Type == "dynamic" {
			iter := b.Labels[0]
			if a, ok := b.Body.Attributes["iterator"]; ok {
				iter = hcl.ExprAsKeyword(a.Expr)
			}
			inner = append(slices.Clone(iterators), iter)
		}
		m.collect(b.Body, inner, false)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func attrName(tr hcl.Traversal, i int) string {
	if len(tr) <= i {
		return ""
	}
	if a, ok := tr[i].(hcl.TraverseAttr); ok {
		return a.Name
	}
	return ""
}

// resolve checks every reference against the declarations and returns the
// referenced variables.
func (m *tfModule) resolve(t *testing.T, children map[string]*tfModule) map[string]bool {
	t.Helper()
	used := map[string]bool{}
	for _, ref := range m.refs {
		tr := ref.traversal
		root := tr.RootName()
		where := tr.SourceRange().String()
		switch {
		case root == "var":
			name := attrName(tr, 1)
			if m.variables[name] == nil {
				t.Errorf("%s: var.%s is not declared", where, name)
			}
			used[name] = true
		case root == "local":
			if name := attrName(tr, 1); !m.locals[name] {
				t.Errorf("%s: local.%s is not declared", where, name)
			}
		case root == "module":
			name := attrName(tr, 1)
			if m.modules[name] == nil {
				t.Errorf("%s: module.%s is not declared", where, name)
			} else if child := children[name]; child != nil && !child.outputs[attrName(tr, 2)] {
				t.Errorf("%s: module.%s has no output %q", where, name, attrName(tr, 2))
			}
		case root == "data":
			if key := attrName(tr, 1) + "." + attrName(tr, 2); !m.data[key] {
				t.Errorf("%s: data.%s is not declared", where, key)
			}
		case root == "each", root == "count", root == "self", root == "path", root == "terraform":
		case slices.Contains(ref.iterators, root):
		default:
			if key := root + "." + attrName(tr, 1); !m.resources[key] {
				t.Errorf("%s: %s is not a declared resource (or unknown root %q)", where, key, root)
			}
		}
	}
	return used
}

func TestTerraformParsesAndEveryReferenceResolves(t *testing.T) {
	root := filepath.Join(repoRoot(t), "infra", "terraform")
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".tf") && !slices.Contains(dirs, filepath.Dir(path)) {
			dirs = append(dirs, filepath.Dir(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"modules/dnsfailover", "examples/staging", "examples/production"} {
		if !slices.Contains(dirs, filepath.Join(root, want)) {
			t.Errorf("missing Terraform directory %s", want)
		}
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}

	mods := map[string]*tfModule{}
	for _, dir := range dirs {
		mods[dir] = parseTerraformDir(t, dir)
	}
	for _, dir := range dirs {
		m := mods[dir]
		rel, _ := filepath.Rel(root, dir)
		children := map[string]*tfModule{}
		for name, call := range m.modules {
			src, ok := call.Body.Attributes["source"]
			if !ok {
				t.Errorf("%s: module %s has no source", rel, name)
				continue
			}
			val, diags := src.Expr.Value(nil)
			if diags.HasErrors() || !strings.HasPrefix(val.AsString(), "../") {
				t.Errorf("%s: module %s source must be a local path here", rel, name)
				continue
			}
			child := mods[filepath.Join(dir, val.AsString())]
			if child == nil {
				t.Errorf("%s: module %s source %s has no .tf files", rel, name, val.AsString())
				continue
			}
			children[name] = child
			checkModuleCall(t, rel, name, call, child)
		}

		used := m.resolve(t, children)
		for name, v := range m.variables {
			desc, ok := v.Body.Attributes["description"]
			if !ok {
				t.Errorf("%s: variable %s has no description", rel, name)
			} else if val, diags := desc.Expr.Value(nil); diags.HasErrors() || strings.TrimSpace(val.AsString()) == "" {
				t.Errorf("%s: variable %s has an empty description", rel, name)
			}
			if _, ok := v.Body.Attributes["type"]; !ok {
				t.Errorf("%s: variable %s has no type", rel, name)
			}
			if !used[name] {
				t.Errorf("%s: variable %s is never used", rel, name)
			}
			if _, hasDefault := v.Body.Attributes["default"]; !hasDefault && !strings.Contains(string(readme), "`"+name+"`") {
				t.Errorf("%s: required variable %s is not documented in infra/terraform/README.md", rel, name)
			}
		}
		for p := range m.providers {
			if p != "google" {
				t.Errorf("%s: provider %q: only the google provider is used", rel, p)
			}
		}
	}
	if !strings.Contains(string(readme), "No terraform binary") {
		t.Error("README must say that no terraform binary was available")
	}
}

// checkModuleCall: arguments are the child's variables, required ones are set.
func checkModuleCall(t *testing.T, rel, name string, call *hclsyntax.Block, child *tfModule) {
	t.Helper()
	meta := map[string]bool{"source": true, "version": true, "providers": true, "count": true, "for_each": true, "depends_on": true}
	for arg := range call.Body.Attributes {
		if !meta[arg] && child.variables[arg] == nil {
			t.Errorf("%s: module %s sets %s, which the module does not declare", rel, name, arg)
		}
	}
	for v, block := range child.variables {
		if _, hasDefault := block.Body.Attributes["default"]; !hasDefault {
			if _, set := call.Body.Attributes[v]; !set {
				t.Errorf("%s: module %s does not set required variable %s", rel, name, v)
			}
		}
	}
}

func TestTerraformAlertPoliciesCarryTheContractLabels(t *testing.T) {
	m := parseTerraformDir(t, filepath.Join(repoRoot(t), "infra", "terraform", "modules", "dnsfailover"))
	parser := hclparse.NewParser()
	f, diags := parser.ParseHCLFile(filepath.Join(m.dir, "monitoring.tf"))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	actions := map[string]string{}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "resource" || b.Labels[0] != "google_monitoring_alert_policy" {
			continue
		}
		attr, ok := b.Body.Attributes["user_labels"]
		if !ok {
			t.Errorf("alert policy %s has no user_labels", b.Labels[1])
			continue
		}
		obj, ok := attr.Expr.(*hclsyntax.ObjectConsExpr)
		if !ok {
			t.Fatalf("user_labels of %s is not an object", b.Labels[1])
		}
		labels := map[string]hclsyntax.Expression{}
		for _, item := range obj.Items {
			labels[hcl.ExprAsKeyword(item.KeyExpr)] = item.ValueExpr
		}
		if _, ok := labels["dnsfailover_record"]; !ok {
			t.Errorf("%s: no dnsfailover_record label", b.Labels[1])
		}
		v, diags := labels["dnsfailover_action"].Value(nil)
		if diags.HasErrors() {
			t.Errorf("%s: dnsfailover_action is not a literal", b.Labels[1])
			continue
		}
		actions[b.Labels[1]] = v.AsString()
		var filter string
		for _, c := range b.Body.Blocks {
			for _, cond := range c.Body.Blocks {
				if f, ok := cond.Body.Attributes["filter"]; ok {
					filter = string(f.SrcRange.SliceBytes(mustRead(t, filepath.Join(m.dir, "monitoring.tf"))))
				}
			}
		}
		if !strings.Contains(filter, `resource.type = \"redis_instance\"`) || !strings.Contains(filter, "resource.labels.instance_id") {
			t.Errorf("%s: filter %s does not select one redis_instance", b.Labels[1], filter)
		}
	}
	want := map[string]string{"instance_loss": "failover", "memory_pressure": "prepare"}
	if len(actions) != len(want) {
		t.Errorf("alert policies %v, want %v", actions, want)
	}
	for k, v := range want {
		if actions[k] != v {
			t.Errorf("policy %s action %q, want %q", k, actions[k], v)
		}
	}
	// The record label is computed as the function expects: dots to _, lower case.
	locals, _ := os.ReadFile(filepath.Join(m.dir, "locals.tf"))
	if !strings.Contains(string(locals), `replace(lower(trimsuffix(record.name, ".")), ".", "_")`) {
		t.Error("locals.tf: record_labels no longer lower-cases and replaces dots")
	}
	dns, _ := os.ReadFile(filepath.Join(m.dir, "dns.tf"))
	if !strings.Contains(string(dns), "ignore_changes = [rrdatas]") {
		t.Error("dns.tf: the A record must ignore rrdatas so Terraform never undoes a failover")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
