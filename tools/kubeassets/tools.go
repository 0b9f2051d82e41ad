//go:build tools

// Package kubeassets pins the commands built by scripts/build-kube-assets.sh.
// The build tag keeps this file out of every build; it exists so that go.mod
// records the exact versions.
package kubeassets

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
