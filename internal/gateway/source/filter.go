// Package source turns Kubernetes objects (Ingress, Service, Gateway API
// routes) into index endpoints and keeps the index current from informers.
package source

import (
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
)

// Hostname annotations read from Services and Ingresses, in the order
// ExternalDNS (new and legacy prefix) and CoreDNS k8s_gateway use them.
var HostnameAnnotations = []string{
	"external-dns.kubernetes.io/hostname",
	"external-dns.alpha.kubernetes.io/hostname",
	"coredns.io/hostname",
}

// DefaultIgnoreLabel excludes an object when set to "true". The k8s_gateway
// label is honoured too, so migrated manifests keep working.
const (
	DefaultIgnoreLabel     = "dnsfailover.io/ignore"
	k8sGatewayIgnoreLabel  = "k8s-gateway.dns/ignore"
	legacyIngressClassAnno = "kubernetes.io/ingress.class"
)

// Filter selects the objects that publish names.
type Filter struct {
	// Zones are the served zone names; LoadBalancer and ExternalName Services
	// publish "<name>.<namespace>.<zone>" in each.
	Zones []string
	// IngressClasses, when not empty, limits Ingresses to these classes.
	IngressClasses []string
	// GatewayClasses, when not empty, limits Gateways to these classes.
	GatewayClasses []string
	// Selector, when not nil, must match an object's labels.
	Selector labels.Selector
	// IgnoreLabel, when "true" on an object, excludes it (DefaultIgnoreLabel
	// when empty).
	IgnoreLabel string
}

func (f *Filter) admits(meta *metav1.ObjectMeta) bool {
	ignore := f.IgnoreLabel
	if ignore == "" {
		ignore = DefaultIgnoreLabel
	}
	if meta.Labels[ignore] == "true" || meta.Labels[k8sGatewayIgnoreLabel] == "true" {
		return false
	}
	return f.Selector == nil || f.Selector.Matches(labels.Set(meta.Labels))
}

// annotationHostnames returns the comma-separated hostnames of all hostname
// annotations, deduplicated.
func annotationHostnames(annotations map[string]string) []string {
	var out []string
	for _, key := range HostnameAnnotations {
		for h := range strings.SplitSeq(annotations[key], ",") {
			if h = strings.TrimSpace(h); h != "" && !slices.Contains(out, h) {
				out = append(out, h)
			}
		}
	}
	return out
}

// target is where a name points: addresses, else one hostname (CNAME).
type target struct {
	addrs []netip.Addr
	cname string
}

func (t target) empty() bool { return len(t.addrs) == 0 && t.cname == "" }

func (t target) endpoints(names []string) []index.Endpoint {
	if t.empty() {
		return nil
	}
	eps := make([]index.Endpoint, 0, len(names))
	for _, n := range names {
		eps = append(eps, index.Endpoint{Name: n, Addrs: t.addrs, CNAME: t.cname})
	}
	return eps
}

// loadBalancerTarget reads IPs (A/AAAA) and, only when there are none, the
// first hostname (CNAME) of a load balancer status.
func loadBalancerTarget(ips []string, hostnames []string) target {
	var t target
	for _, s := range ips {
		if a, err := netip.ParseAddr(s); err == nil {
			t.addrs = append(t.addrs, a)
		}
	}
	if len(t.addrs) == 0 {
		for _, h := range hostnames {
			if h != "" {
				t.cname = h
				break
			}
		}
	}
	return t
}

func serviceStatusIPs(ing []corev1.LoadBalancerIngress) (ips, hosts []string) {
	for _, i := range ing {
		if i.IP != "" {
			ips = append(ips, i.IP)
		}
		if i.Hostname != "" {
			hosts = append(hosts, i.Hostname)
		}
	}
	return ips, hosts
}
