package source

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
)

// Kind names a source.
type Kind string

// Sources the gateway can watch. KindGateway is implied by any route kind.
const (
	KindIngress   Kind = "Ingress"
	KindService   Kind = "Service"
	KindHTTPRoute Kind = "HTTPRoute"
	KindGRPCRoute Kind = "GRPCRoute"
	KindTLSRoute  Kind = "TLSRoute"
	KindGateway   Kind = "Gateway"
)

// SelectableKinds are the kinds that can be enabled.
var SelectableKinds = []Kind{KindIngress, KindService, KindHTTPRoute, KindGRPCRoute, KindTLSRoute}

// ParseKind accepts a kind name case-insensitively.
func ParseKind(s string) (Kind, error) {
	for _, k := range SelectableKinds {
		if equalFold(string(k), s) {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown source %q (want one of %v)", s, SelectableKinds)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// State of a source's informer.
type State int

// Source states. Ready means every source is Synced or Unavailable.
const (
	// Pending: listing has not finished.
	Pending State = iota
	// Synced: the initial list is in the index; watching.
	Synced
	// Unavailable: the resource is missing (CRD not installed) or forbidden
	// (RBAC); skipped, and picked up when a retry succeeds.
	Unavailable
	// Failing: listing failed for another reason (e.g. API unreachable)
	// before the first sync.
	Failing
)

func (s State) String() string {
	return [...]string{"pending", "synced", "unavailable", "failing"}[s]
}

// Status is a source's state for readiness output and metrics.
type Status struct {
	Kind      Kind
	State     State
	LastError string
	SyncedAt  time.Time
}

// Watcher runs one informer per enabled source and feeds the index.
type Watcher struct {
	Kube   *Clients
	Filter *Filter
	Index  *index.Index
	Kinds  []Kind
	Log    *slog.Logger

	mu     sync.Mutex
	status map[Kind]*Status
	routes *Routes
}

// Start starts the informers; they stop when ctx ends.
func (w *Watcher) Start(ctx context.Context) error {
	if w.Log == nil {
		w.Log = slog.Default()
	}
	w.status = map[Kind]*Status{}
	w.routes = &Routes{Filter: w.Filter, Apply: w.apply}
	kinds := slices.Clone(w.Kinds)
	for _, k := range kinds {
		if k == KindHTTPRoute || k == KindGRPCRoute || k == KindTLSRoute {
			if w.Kube.Gateway == nil {
				return fmt.Errorf("source %s needs a Gateway API client", k)
			}
			if !slices.Contains(kinds, KindGateway) {
				kinds = append(kinds, KindGateway)
			}
		}
	}
	for _, k := range kinds {
		inf, err := w.informer(k)
		if err != nil {
			return err
		}
		w.status[k] = &Status{Kind: k}
		if err := w.run(ctx, k, inf); err != nil {
			return fmt.Errorf("source %s: %w", k, err)
		}
	}
	return nil
}

func (w *Watcher) informer(k Kind) (cache.SharedIndexInformer, error) {
	switch k {
	case KindIngress:
		return w.informerFor(w.Kube.Networking, "ingresses", &networkingv1.Ingress{}), nil
	case KindService:
		return w.informerFor(w.Kube.Core, "services", &corev1.Service{}), nil
	case KindGateway:
		return w.informerFor(w.Kube.Gateway, "gateways", &gatewayv1.Gateway{}), nil
	case KindHTTPRoute:
		return w.informerFor(w.Kube.Gateway, "httproutes", &gatewayv1.HTTPRoute{}), nil
	case KindGRPCRoute:
		return w.informerFor(w.Kube.Gateway, "grpcroutes", &gatewayv1.GRPCRoute{}), nil
	case KindTLSRoute:
		return w.informerFor(w.Kube.Gateway, "tlsroutes", &gatewayv1.TLSRoute{}), nil
	}
	return nil, fmt.Errorf("unknown source %q", k)
}

// informerFor watches a resource through a plain REST client.
func (w *Watcher) informerFor(c rest.Interface, resource string, example runtime.Object) cache.SharedIndexInformer {
	lw := cache.NewFilteredListWatchFromClient(c, resource, metav1.NamespaceAll, func(*metav1.ListOptions) {})
	return cache.NewSharedIndexInformer(lw, example, 0, cache.Indexers{})
}

func (w *Watcher) run(ctx context.Context, k Kind, inf cache.SharedIndexInformer) error {
	if err := inf.SetTransform(w.transform); err != nil {
		return fmt.Errorf("set transform: %w", err)
	}
	if err := inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		w.listError(k, err)
	}); err != nil {
		return fmt.Errorf("set watch error handler: %w", err)
	}
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.handle(k, obj, false) },
		UpdateFunc: func(_, obj any) { w.handle(k, obj, false) },
		DeleteFunc: func(obj any) { w.handle(k, obj, true) },
	})
	if err != nil {
		return fmt.Errorf("add event handler: %w", err)
	}
	go inf.RunWithContext(ctx)
	go func() {
		if cache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
			w.setState(k, Synced, "")
		}
	}()
	return nil
}

func (w *Watcher) listError(k Kind, err error) {
	state := Failing
	if apierrors.IsForbidden(err) || apierrors.IsNotFound(err) {
		state = Unavailable
	}
	w.mu.Lock()
	st := w.status[k]
	synced := st.State == Synced
	if !synced {
		st.State = state
	}
	st.LastError = err.Error()
	w.mu.Unlock()
	if synced {
		// The last index keeps answering; the informer retries.
		w.Log.Warn("source watch failed; serving the last data", "source", k, "error", err)
	} else {
		w.Log.Warn("source not available; skipped until it can be listed", "source", k, "state", state, "error", err)
	}
}

func (w *Watcher) setState(k Kind, s State, lastErr string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.status[k]
	st.State, st.LastError = s, lastErr
	if s == Synced {
		st.SyncedAt = time.Now()
	}
	w.Log.Info("source synced", "source", k)
}

// Statuses returns the state of every source, sorted by kind.
func (w *Watcher) Statuses() []Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Status, 0, len(w.status))
	for _, s := range w.status {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Status) int {
		if a.Kind < b.Kind {
			return -1
		}
		if a.Kind > b.Kind {
			return 1
		}
		return 0
	})
	return out
}

// Ready reports whether every source has synced or is known unavailable.
func (w *Watcher) Ready() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.status == nil {
		return false
	}
	for _, s := range w.status {
		if s.State != Synced && s.State != Unavailable {
			return false
		}
	}
	return true
}

func (w *Watcher) apply(key string, eps []index.Endpoint) {
	if err := w.Index.Apply(key, eps); err != nil {
		w.Log.Warn("skipped invalid records", "object", key, "error", err)
	}
}

func (w *Watcher) handle(k Kind, obj any, deleted bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj, deleted = t.Obj, true
	}
	switch o := obj.(type) {
	case *entry: // an Ingress or Service, endpoints computed by the transform
		if deleted {
			w.apply(o.key, nil)
		} else {
			w.apply(o.key, o.endpoints)
		}
	case *gatewayv1.Gateway:
		key := o.Namespace + "/" + o.Name
		if deleted {
			w.routes.SetGateway(key, nil)
		} else {
			w.routes.SetGateway(key, o)
		}
	case *gatewayv1.HTTPRoute:
		w.setRoute(k, o.ObjectMeta, o.Spec.Hostnames, o.Spec.ParentRefs, o.Status.Parents, deleted)
	case *gatewayv1.GRPCRoute:
		w.setRoute(k, o.ObjectMeta, o.Spec.Hostnames, o.Spec.ParentRefs, o.Status.Parents, deleted)
	case *gatewayv1.TLSRoute:
		w.setRoute(k, o.ObjectMeta, o.Spec.Hostnames, o.Spec.ParentRefs, o.Status.Parents, deleted)
	}
}

func (w *Watcher) setRoute(k Kind, m metav1.ObjectMeta, hosts []gatewayv1.Hostname, parents []gatewayv1.ParentReference,
	status []gatewayv1.RouteParentStatus, deleted bool) {
	key := string(k) + "/" + m.Namespace + "/" + m.Name
	if deleted {
		w.routes.SetRoute(key, nil)
		return
	}
	w.routes.SetRoute(key, &Route{Key: key, Namespace: m.Namespace, Meta: m, Hostnames: hosts, Parents: parents, Status: status})
}
