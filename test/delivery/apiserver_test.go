package delivery

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/dnsfailover/test/kubeapi"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// applier applies unstructured objects through the dynamic client.
type applier struct {
	dyn    dynamic.Interface
	mapper meta.ResettableRESTMapper
}

func newApplier(t *testing.T, cfg *rest.Config) *applier {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &applier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}
}

// apply server-side applies obj; dryRun asks the API server to run admission
// and validation without persisting.
func (a *applier) apply(ctx context.Context, obj *unstructured.Unstructured, dryRun bool) error {
	gvk := obj.GroupVersionKind()
	mapping, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		a.mapper.Reset() // CRDs may have been installed since discovery ran
		if mapping, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return err
		}
	}
	opts := metav1.ApplyOptions{FieldManager: "dnsfailover-delivery-test", Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var ri dynamic.ResourceInterface = a.dyn.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := obj.GetNamespace()
		if ns == "" {
			ns = "default"
		}
		ri = a.dyn.Resource(mapping.Resource).Namespace(ns)
	}
	_, err = ri.Apply(ctx, obj.GetName(), obj, opts)
	return err
}

func TestOverlaysPassServerSideDryRun(t *testing.T) {
	dirs := overlayDirs(t)
	cfg := kubeapi.Start(t, kubeapi.WithGatewayAPICRDs())
	a := newApplier(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			var objs []*unstructured.Unstructured
			for _, r := range render(t, dir).Resources() {
				m, err := r.Map()
				if err != nil {
					t.Fatal(err)
				}
				objs = append(objs, &unstructured.Unstructured{Object: m})
			}
			// CRDs and Namespaces shipped by the overlay are created for real
			// first, as kubectl apply would order them; the rest is dry-run.
			for _, phase := range []func(kind string) bool{
				func(k string) bool { return k == "CustomResourceDefinition" },
				func(k string) bool { return k == "Namespace" },
			} {
				for _, o := range objs {
					if phase(o.GetKind()) {
						if err := a.apply(ctx, o, false); err != nil {
							t.Fatalf("create %s %s: %v", o.GetKind(), o.GetName(), err)
						}
					}
				}
			}
			for _, o := range objs {
				if err := a.apply(ctx, o, true); err != nil {
					t.Errorf("server-side dry-run of %s %s/%s rejected: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
				}
			}
		})
	}

	// The same path rejects what a real cluster rejects, so the passes above mean something.
	bad := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "redis-session"},
		"spec": map[string]any{"type": "ExternalName", "externalName": "not a dns name!",
			"ports": []any{map[string]any{"name": "redis", "port": int64(6378)}}},
	}}
	err := a.apply(ctx, bad, true)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "externalName") {
		t.Errorf("invalid externalName: got %v, want an Invalid error naming externalName", err)
	}
}
