package buildpack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
)

// Names the Go functions buildpack uses (GoogleCloudPlatform/buildpacks,
// cmd/go/functions_framework).
const (
	SourceDir           = "serverless_function_source_code"
	AppModule           = "functions.local/app"
	FrameworkFunctions  = "github.com/GoogleCloudPlatform/functions-framework-go/functions"
	frameworkModulePath = "github.com/GoogleCloudPlatform/functions-framework-go"
)

// Package is what the buildpack's get_package converter reports.
type Package struct {
	Name    string
	Imports []string
}

// RootPackage parses the top-level .go files of dir, _test.go files
// included, with ImportsOnly as the buildpack's get_package converter does
// (it calls go/parser.ParseDir, which reads every *.go file of the directory
// and ignores build tags), and requires exactly one package.
func RootPackage(dir string) (*Package, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	fset := token.NewFileSet()
	imports := map[string]map[string]bool{} // package name -> imports
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ImportsOnly)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", e.Name(), err)
		}
		name := f.Name.Name
		if imports[name] == nil {
			imports[name] = map[string]bool{}
		}
		for _, im := range f.Imports {
			imports[name][strings.Trim(im.Path.Value, `"`)] = true
		}
	}
	switch len(imports) {
	case 0:
		return nil, errors.New("unable to find Go package in " + dir)
	case 1:
	default:
		var names []string
		for n := range imports {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("multiple packages in user code directory: %s", strings.Join(names, ", "))
	}
	p := &Package{}
	for name, ims := range imports {
		p.Name = name
		for im := range ims {
			p.Imports = append(p.Imports, im)
		}
	}
	sort.Strings(p.Imports)
	return p, nil
}

// Declarative reports whether the buildpack would pick the declarative main
// template: the package imports the framework's functions package.
func (p *Package) Declarative() bool {
	for _, im := range p.Imports {
		if im == FrameworkFunctions {
			return true
		}
	}
	return false
}

// mainDeclarative is the buildpack's declarative main template.
var mainDeclarative = template.Must(template.New("main").Parse(`// Binary main file implements an HTTP server that loads and runs user's code
// on incoming HTTP requests.
package main

import (
	"log"
	"net/http"
	"os"

	_ "{{.Package}}"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

func main() {
	http.HandleFunc("/robots.txt", http.NotFound)
	http.HandleFunc("/favicon.ico", http.NotFound)

	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if err := funcframework.Start(port); err != nil {
		log.Fatalf("Function failed to start: %v\n", err)
	}
}
`))

// OfflineTidyFlags: go mod tidy also wants the modules that only the tests
// of our dependencies import (envoy, gonum, ...) to keep `go test all`
// checksums; the buildpack downloads them, an offline module cache does not
// have them. -e lets tidy finish without those; the build never compiles
// them, and go build below must still succeed with no network.
var OfflineTidyFlags = []string{"-e"}

// Go runs the go command in dir with env added to the current environment.
func Go(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// Build turns an uploaded source tree in workspace/SourceDir into a binary
// the way the buildpack does with a go.mod: module path check, framework
// version from go.mod, declarative main at functions.local/app, go mod tidy,
// go build. env carries GOFLAGS/GOPROXY etc.; tidyFlags are added to go mod
// tidy (offline, "-e": see OfflineTidyFlags); the binary goes to out.
func Build(ctx context.Context, workspace, out string, env, tidyFlags []string) error {
	src := filepath.Join(workspace, SourceDir)
	pkg, err := RootPackage(src)
	if err != nil {
		return err
	}
	if !pkg.Declarative() {
		return fmt.Errorf("package %s does not import %s: the buildpack would compile userfunction.<Target> instead", pkg.Name, FrameworkFunctions)
	}
	if fi, err := os.Stat(filepath.Join(src, "go.mod")); err != nil || fi.Mode().Perm()&0o200 == 0 {
		return errors.New("go.mod exists but is not writable (or is missing)")
	}
	mod, err := Go(ctx, src, env, "list", "-m")
	if err != nil {
		return err
	}
	mod = strings.TrimSpace(mod)
	if first, _, _ := strings.Cut(mod, "/"); !strings.Contains(first, ".") {
		return fmt.Errorf("the module path in the function's go.mod must contain a dot in the first path element before a slash, found: %s", mod)
	}
	// moduleAndPackageNames: a directory named like the package at the
	// application root would change the import path; after the move there
	// is none.
	importPath := mod
	if _, err := os.Stat(filepath.Join(workspace, pkg.Name)); err == nil {
		importPath = mod + "/" + pkg.Name
	}
	if v, err := Go(ctx, src, env, "list", "-m", "-f", "{{.Version}}", frameworkModulePath); err != nil || strings.TrimSpace(v) == "" {
		return fmt.Errorf("functions framework not required in go.mod (the buildpack would inject v1.9.2): %v", err)
	}
	app := filepath.Join(src, filepath.FromSlash(AppModule))
	if err := os.MkdirAll(app, 0o755); err != nil {
		return err
	}
	var main bytes.Buffer
	if err := mainDeclarative.Execute(&main, struct{ Package string }{importPath}); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(app, "main.go"), main.Bytes(), 0o644); err != nil {
		return err
	}
	if _, err := Go(ctx, src, env, append([]string{"mod", "tidy"}, tidyFlags...)...); err != nil {
		return err
	}
	_, err = Go(ctx, src, env, "build", "-o", out, "./"+AppModule)
	return err
}
