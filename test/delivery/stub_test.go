package delivery

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// repoRoot is the repository root, found from this file's location.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("runtime.Caller failed")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// stubScript records argv and answers from the rules file: lines of
// "substring<TAB>output-file<TAB>exit-code", first match wins; no match means
// empty output and exit 0.
// It uses bash builtins only, so it also works on a PATH without coreutils.
const stubScript = `#!/bin/bash
set -u
{ printf '%s\0' "${0##*/}" "$@"; printf '\036\0'; } >> "$STUB_DIR/calls"
line="${0##*/} $*"
if [[ -f "$STUB_DIR/rules" ]]; then
	while IFS=$'\t' read -r pattern file code; do
		if [[ "$line" == *"$pattern"* ]]; then
			IFS= read -r -d '' content < "$file"
			printf '%s' "$content"
			exit "$code"
		fi
	done < "$STUB_DIR/rules"
fi
exit 0
`

// stubs is a directory of recording command stubs that goes first on PATH.
type stubs struct {
	t   testing.TB
	dir string
	bin string
	n   int
	env []string // extra environment of the scripts run
}

func newStubs(t testing.TB, commands ...string) *stubs {
	t.Helper()
	s := &stubs{t: t, dir: t.TempDir()}
	s.bin = filepath.Join(s.dir, "bin")
	if err := os.Mkdir(s.bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		s.add(c)
	}
	return s
}

func (s *stubs) add(command string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.bin, command), []byte(stubScript), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

// addScript installs a stub with its own body (after the shebang); it should
// still record its argv like stubScript does.
func (s *stubs) addScript(command, body string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.bin, command), []byte("#!/bin/bash\n"+body), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

// answer makes calls whose joined argv contains pattern print output and exit with code.
func (s *stubs) answer(pattern, output string, code int) {
	s.t.Helper()
	s.n++
	file := filepath.Join(s.dir, fmt.Sprintf("answer-%d", s.n))
	if err := os.WriteFile(file, []byte(output), 0o644); err != nil {
		s.t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, "rules"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s\t%s\t%d\n", pattern, file, code); err != nil {
		s.t.Fatal(err)
	}
}

// calls returns every recorded argv, the command name first.
func (s *stubs) calls() [][]string {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join(s.dir, "calls"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		s.t.Fatal(err)
	}
	var out [][]string
	var cur []string
	for _, f := range strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00") {
		if f == "\x1e" {
			out = append(out, cur)
			cur = nil
			continue
		}
		cur = append(cur, f)
	}
	return out
}

// reset forgets the recorded calls.
func (s *stubs) reset() {
	s.t.Helper()
	if err := os.Remove(filepath.Join(s.dir, "calls")); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.t.Fatal(err)
	}
}

// result of one script run.
type result struct {
	stdout, stderr string
	code           int
}

// runScript runs a repository script with the stubs first on PATH.
func (s *stubs) runScript(script string, args ...string) result {
	return s.runScriptPath(s.bin+string(os.PathListSeparator)+os.Getenv("PATH"), script, args...)
}

func (s *stubs) runScriptPath(path, script string, args ...string) result {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot(s.t), script), args...)
	cmd.Dir = s.t.TempDir() // the scripts must not depend on the caller's directory
	cmd.Env = append(append(os.Environ(), s.env...), "PATH="+path, "STUB_DIR="+s.dir)
	cmd.Stdin = nil
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		s.t.Fatalf("run %s: %v", script, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// printedCommands splits --dry-run output into argv lists with bash itself,
// so the test reads the printed commands exactly as a user pasting them would.
func printedCommands(t testing.TB, stdout, prefix string) [][]string {
	t.Helper()
	var out [][]string
	for _, line := range strings.Split(stdout, "\n") {
		if line == "" || !strings.HasPrefix(line, prefix) {
			continue
		}
		cmd := exec.Command("bash", "-c", "eval \"set -- $1\"; printf '%s\\0' \"$@\"", "split", line)
		data, err := cmd.Output()
		if err != nil {
			t.Fatalf("bash cannot parse printed command %q: %v", line, err)
		}
		out = append(out, strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00"))
	}
	return out
}

// flagValues maps --name=value flags of argv to their values ("" for bare flags).
func flagValues(argv []string) map[string]string {
	m := map[string]string{}
	for _, a := range argv {
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, value, _ := strings.Cut(a, "=")
		m[name] = value
	}
	return m
}

// positional returns argv without flags.
func positional(argv []string) []string {
	var out []string
	for _, a := range argv {
		if !strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}
