package source

import (
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
)

// Route is what the gateway needs of an HTTPRoute, GRPCRoute or TLSRoute.
type Route struct {
	Key       string // "<kind>/<namespace>/<name>"
	Namespace string
	Meta      metav1.ObjectMeta
	Hostnames []gatewayv1.Hostname
	Parents   []gatewayv1.ParentReference
	Status    []gatewayv1.RouteParentStatus
}

// gatewayInfo is what routes need of a Gateway.
type gatewayInfo struct {
	class     string
	target    target
	listeners []gatewayv1.Listener
}

// Routes resolves Gateway API routes to their parent Gateways' addresses.
// Routes and Gateways arrive from different informers in any order; a
// Gateway change recomputes every route that names it.
type Routes struct {
	Filter *Filter
	Apply  func(key string, eps []index.Endpoint)

	mu        sync.Mutex
	gateways  map[string]*gatewayInfo    // "ns/name"
	routes    map[string]*Route          // route key
	byGateway map[string]map[string]bool // gateway "ns/name" -> route keys
}

func (r *Routes) init() {
	if r.gateways == nil {
		r.gateways = map[string]*gatewayInfo{}
		r.routes = map[string]*Route{}
		r.byGateway = map[string]map[string]bool{}
	}
}

// SetGateway records (gw != nil) or forgets a Gateway.
func (r *Routes) SetGateway(key string, gw *gatewayv1.Gateway) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.init()
	if gw == nil || !r.Filter.admits(&gw.ObjectMeta) ||
		(len(r.Filter.GatewayClasses) > 0 && !slices.Contains(r.Filter.GatewayClasses, string(gw.Spec.GatewayClassName))) {
		delete(r.gateways, key)
	} else {
		var ips, hosts []string
		for _, a := range gw.Status.Addresses {
			if a.Type == nil || *a.Type == gatewayv1.IPAddressType {
				ips = append(ips, a.Value)
			} else if *a.Type == gatewayv1.HostnameAddressType {
				hosts = append(hosts, a.Value)
			}
		}
		r.gateways[key] = &gatewayInfo{
			class:     string(gw.Spec.GatewayClassName),
			target:    loadBalancerTarget(ips, hosts),
			listeners: gw.Spec.Listeners,
		}
	}
	for rk := range r.byGateway[key] {
		r.Apply(rk, r.endpoints(r.routes[rk]))
	}
}

// SetRoute records (rt != nil) or forgets the route with key.
func (r *Routes) SetRoute(key string, rt *Route) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.init()
	if old := r.routes[key]; old != nil {
		for _, p := range old.Parents {
			if gk, ok := parentGatewayKey(old.Namespace, p); ok {
				delete(r.byGateway[gk], key)
				if len(r.byGateway[gk]) == 0 {
					delete(r.byGateway, gk)
				}
			}
		}
	}
	if rt == nil {
		delete(r.routes, key)
		r.Apply(key, nil)
		return
	}
	r.routes[key] = rt
	for _, p := range rt.Parents {
		if gk, ok := parentGatewayKey(rt.Namespace, p); ok {
			if r.byGateway[gk] == nil {
				r.byGateway[gk] = map[string]bool{}
			}
			r.byGateway[gk][key] = true
		}
	}
	r.Apply(key, r.endpoints(rt))
}

// endpoints publishes, for each parent Gateway that accepted the route, the
// intersections of the route's hostnames with the matching listeners'.
func (r *Routes) endpoints(rt *Route) []index.Endpoint {
	if rt == nil || !r.Filter.admits(&rt.Meta) {
		return nil
	}
	var eps []index.Endpoint
	for _, p := range rt.Parents {
		gk, ok := parentGatewayKey(rt.Namespace, p)
		if !ok || !accepted(rt, p) {
			continue
		}
		gw := r.gateways[gk]
		if gw == nil || gw.target.empty() {
			continue
		}
		var names []string
		for _, l := range gw.listeners {
			if p.SectionName != nil && *p.SectionName != l.Name {
				continue
			}
			if p.Port != nil && *p.Port != l.Port {
				continue
			}
			for _, h := range routeHostnames(rt.Hostnames, l.Hostname) {
				if !slices.Contains(names, h) {
					names = append(names, h)
				}
			}
		}
		eps = append(eps, gw.target.endpoints(names)...)
	}
	return eps
}

// routeHostnames intersects a route's hostnames with a listener hostname
// (nil = any). A route without hostnames takes the listener's.
func routeHostnames(route []gatewayv1.Hostname, listener *gatewayv1.Hostname) []string {
	if len(route) == 0 {
		if listener == nil {
			return nil
		}
		return []string{string(*listener)}
	}
	var out []string
	for _, h := range route {
		if listener == nil {
			out = append(out, string(h))
		} else if m, ok := IntersectHostnames(string(h), string(*listener)); ok {
			out = append(out, m)
		}
	}
	return out
}

// IntersectHostnames returns the more specific of two Gateway API hostnames
// if they overlap. "*.example.com" matches any name one or more labels below
// example.com (not example.com itself).
func IntersectHostnames(a, b string) (string, bool) {
	a, b = strings.ToLower(strings.TrimSuffix(a, ".")), strings.ToLower(strings.TrimSuffix(b, "."))
	switch {
	case a == b:
		return a, true
	case wildcardCovers(b, a):
		return a, true
	case wildcardCovers(a, b):
		return b, true
	}
	return "", false
}

// wildcardCovers reports whether wildcard pattern w ("*.x") covers host h,
// where h may itself be a narrower wildcard.
func wildcardCovers(w, h string) bool {
	suffix, ok := strings.CutPrefix(w, "*")
	return ok && strings.HasSuffix(h, suffix) && len(h) > len(suffix)
}

func parentGatewayKey(routeNS string, p gatewayv1.ParentReference) (string, bool) {
	if p.Group != nil && *p.Group != gatewayv1.GroupName {
		return "", false
	}
	if p.Kind != nil && *p.Kind != "Gateway" {
		return "", false
	}
	ns := routeNS
	if p.Namespace != nil {
		ns = string(*p.Namespace)
	}
	return ns + "/" + string(p.Name), true
}

// accepted reports whether the route's status says parent p accepted it.
func accepted(rt *Route, p gatewayv1.ParentReference) bool {
	want, _ := parentGatewayKey(rt.Namespace, p)
	for _, s := range rt.Status {
		got, ok := parentGatewayKey(rt.Namespace, s.ParentRef)
		if !ok || got != want || !equalPtr(s.ParentRef.SectionName, p.SectionName) || !equalPtr(s.ParentRef.Port, p.Port) {
			continue
		}
		if meta.IsStatusConditionTrue(s.Conditions, string(gatewayv1.RouteConditionAccepted)) {
			return true
		}
	}
	return false
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
