// Package buildpack reproduces, offline, what `gcloud functions deploy
// --source=.` and the Cloud Functions Go buildpack do with this repository,
// so a test can prove the deployed function builds and serves.
package buildpack

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// rule is one .gcloudignore line (gitignore syntax).
type rule struct {
	re      *regexp.Regexp
	negate  bool
	dirOnly bool
}

// Ignore is a parsed .gcloudignore.
type Ignore struct{ rules []rule }

// LoadIgnore reads root/.gcloudignore, following "#!include:FILE" lines the
// way gcloud does. A missing file ignores nothing.
func LoadIgnore(root string) (*Ignore, error) {
	ig := &Ignore{}
	if err := ig.load(root, ".gcloudignore", 0); err != nil {
		return nil, err
	}
	return ig, nil
}

func (ig *Ignore) load(root, name string, depth int) error {
	if depth > 5 {
		return fmt.Errorf("gcloudignore: includes nested too deep at %s", name)
	}
	f, err := os.Open(filepath.Join(root, name))
	if os.IsNotExist(err) && depth == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("gcloudignore: %w", err)
	}
	defer f.Close()
	return ig.parse(f, func(inc string) error { return ig.load(root, inc, depth+1) })
}

func (ig *Ignore) parse(r io.Reader, include func(string) error) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if inc, ok := strings.CutPrefix(line, "#!include:"); ok {
			if err := include(strings.TrimSpace(inc)); err != nil {
				return err
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var r rule
		if strings.HasPrefix(line, "!") {
			r.negate, line = true, line[1:]
		} else if strings.HasPrefix(line, `\`) {
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.dirOnly, line = true, strings.TrimSuffix(line, "/")
		}
		anchored := strings.Contains(line, "/")
		line = strings.TrimPrefix(line, "/")
		pat := globToRegexp(line)
		if !anchored {
			pat = "(.*/)?" + pat
		}
		re, err := regexp.Compile("^" + pat + "$")
		if err != nil {
			return fmt.Errorf("gcloudignore: pattern %q: %w", line, err)
		}
		r.re = re
		ig.rules = append(ig.rules, r)
	}
	return sc.Err()
}

func globToRegexp(g string) string {
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch {
		case strings.HasPrefix(g[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(g[i:], "/**"):
			b.WriteString("(/.*)?")
			i += 2
		case strings.HasPrefix(g[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			j := strings.IndexByte(g[i:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := g[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += j
		case c == '\\' && i+1 < len(g):
			i++
			b.WriteString(regexp.QuoteMeta(string(g[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// Ignored reports whether rel (slash-separated, relative to the root) is
// left out; the last matching rule wins.
func (ig *Ignore) Ignored(rel string, isDir bool) bool {
	ignored := false
	for _, r := range ig.rules {
		if r.dirOnly && !isDir {
			continue
		}
		if r.re.MatchString(rel) {
			ignored = !r.negate
		}
	}
	return ignored
}

// Upload copies what gcloud would upload from root into dst and returns the
// uploaded files (slash paths). Like git, a file inside an ignored directory
// cannot be re-included.
func Upload(root, dst string) ([]string, error) {
	ig, err := LoadIgnore(root)
	if err != nil {
		return nil, err
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if ig.Ignored(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, filepath.FromSlash(rel))
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			files = append(files, rel)
			return copyFile(p, target)
		default:
			return nil // symlinks and devices are not uploaded here
		}
	})
	return files, err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm()|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
