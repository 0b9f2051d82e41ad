package kubeapi

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// CacheDir is where scripts/build-kube-assets.sh puts the binaries for
// KubeVersion: ${DNSFAILOVER_CACHE:-$HOME/.cache/dnsfailover}/kube-assets/<version>.
func CacheDir() string {
	root := os.Getenv("DNSFAILOVER_CACHE")
	if root == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		root = filepath.Join(home, ".cache", "dnsfailover")
	}
	return filepath.Join(root, "kube-assets", KubeVersion)
}

// missingAssetsHelp says how to get the binaries.
const missingAssetsHelp = "kube-apiserver and etcd binaries not found: run scripts/build-kube-assets.sh " +
	"(builds them once into ${DNSFAILOVER_CACHE:-$HOME/.cache/dnsfailover}/kube-assets/" + KubeVersion +
	", about 5 minutes) or set KUBEBUILDER_ASSETS to a directory holding etcd and kube-apiserver"

// AssetsDir returns the directory holding etcd and kube-apiserver:
// KUBEBUILDER_ASSETS when set, else the build script's cache. Without either
// the test fails when CI=true and is skipped otherwise.
func AssetsDir(t testing.TB) string {
	t.Helper()
	if dir, ok := findAssets(); ok {
		return dir
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(missingAssetsHelp)
	}
	t.Skip(missingAssetsHelp)
	return ""
}

func findAssets() (string, bool) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, hasAssets(dir)
	}
	if dir := CacheDir(); hasAssets(dir) {
		return dir, true
	}
	// Another version built by an older or newer script: better than skipping.
	others, _ := filepath.Glob(filepath.Join(filepath.Dir(CacheDir()), "v*"))
	sort.Sort(sort.Reverse(sort.StringSlice(others)))
	for _, dir := range others {
		if hasAssets(dir) {
			return dir, true
		}
	}
	return "", false
}
