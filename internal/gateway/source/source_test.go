package source

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
)

// text renders endpoints as sorted "name=addrs|cname" lines.
func text(eps []index.Endpoint) string {
	var out []string
	for _, e := range eps {
		s := e.Name + "="
		if e.CNAME != "" {
			s += "CNAME " + e.CNAME
		}
		for _, a := range e.Addrs {
			s += a.String() + ","
		}
		out = append(out, strings.TrimSuffix(s, ","))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func ingress(name string, class *string, annotations, lbls map[string]string, hosts []string, lb ...networkingv1.IngressLoadBalancerIngress) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: annotations, Labels: lbls},
		Spec:       networkingv1.IngressSpec{IngressClassName: class},
		Status:     networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: lb}},
	}
	for _, h := range hosts {
		ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{Host: h})
	}
	return ing
}

func TestIngressEndpoints(t *testing.T) {
	ip := func(s string) networkingv1.IngressLoadBalancerIngress {
		return networkingv1.IngressLoadBalancerIngress{IP: s}
	}
	host := func(s string) networkingv1.IngressLoadBalancerIngress {
		return networkingv1.IngressLoadBalancerIngress{Hostname: s}
	}
	all := &Filter{}
	public := &Filter{IngressClasses: []string{"public"}}
	sel, _ := labels.Parse("team=web")
	selected := &Filter{Selector: sel}
	cases := []struct {
		name string
		f    *Filter
		ing  *networkingv1.Ingress
		want string
	}{
		{"rules and annotations", all, ingress("a", nil, map[string]string{
			"external-dns.kubernetes.io/hostname": "x.gw.example.com, y.gw.example.com",
			"coredns.io/hostname":                 "x.gw.example.com"}, nil,
			[]string{"www.gw.example.com", ""}, ip("10.0.0.1"), ip("2001:db8::1")),
			"www.gw.example.com=10.0.0.1,2001:db8::1 x.gw.example.com=10.0.0.1,2001:db8::1 y.gw.example.com=10.0.0.1,2001:db8::1"},
		{"hostname status is a CNAME", all, ingress("b", nil, nil, nil, []string{"shop.gw.example.com"}, host("lb.example.net")), "shop.gw.example.com=CNAME lb.example.net"},
		{"IPs win over hostnames", all, ingress("c", nil, nil, nil, []string{"c.gw.example.com"}, host("lb.example.net"), ip("10.0.0.3")), "c.gw.example.com=10.0.0.3"},
		{"no status, no names", all, ingress("d", nil, nil, nil, []string{"d.gw.example.com"}), ""},
		{"bad IP skipped", all, ingress("e", nil, nil, nil, []string{"e.gw.example.com"}, ip("300.1.1.1"), ip("10.0.0.5")), "e.gw.example.com=10.0.0.5"},
		{"class matches", public, ingress("f", ptr.To("public"), nil, nil, []string{"f.gw.example.com"}, ip("10.0.0.6")), "f.gw.example.com=10.0.0.6"},
		{"legacy class annotation", public, ingress("g", nil, map[string]string{"kubernetes.io/ingress.class": "public"}, nil, []string{"g.gw.example.com"}, ip("10.0.0.7")), "g.gw.example.com=10.0.0.7"},
		{"spec class beats annotation", public, ingress("h", ptr.To("private"), map[string]string{"kubernetes.io/ingress.class": "public"}, nil, []string{"h.gw.example.com"}, ip("10.0.0.8")), ""},
		{"no class with a class filter", public, ingress("i", nil, nil, nil, []string{"i.gw.example.com"}, ip("10.0.0.9")), ""},
		{"ignore label", all, ingress("j", nil, nil, map[string]string{DefaultIgnoreLabel: "true"}, []string{"j.gw.example.com"}, ip("10.0.1.0")), ""},
		{"k8s_gateway ignore label", all, ingress("k", nil, nil, map[string]string{"k8s-gateway.dns/ignore": "true"}, []string{"k.gw.example.com"}, ip("10.0.1.1")), ""},
		{"ignore label false", all, ingress("l", nil, nil, map[string]string{DefaultIgnoreLabel: "false"}, []string{"l.gw.example.com"}, ip("10.0.1.2")), "l.gw.example.com=10.0.1.2"},
		{"selector matches", selected, ingress("m", nil, nil, map[string]string{"team": "web"}, []string{"m.gw.example.com"}, ip("10.0.1.3")), "m.gw.example.com=10.0.1.3"},
		{"selector does not match", selected, ingress("n", nil, nil, map[string]string{"team": "db"}, []string{"n.gw.example.com"}, ip("10.0.1.4")), ""},
	}
	for _, c := range cases {
		if got := text(c.f.IngressEndpoints(c.ing)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestServiceEndpoints(t *testing.T) {
	f := &Filter{Zones: []string{"gw.example.com", "gw.example.org"}}
	svc := func(typ corev1.ServiceType, mutate func(*corev1.Service)) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "prod"}, Spec: corev1.ServiceSpec{Type: typ}}
		mutate(s)
		return s
	}
	cases := []struct {
		name string
		svc  *corev1.Service
		want string
	}{
		{"load balancer status", svc(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "10.0.0.1"}}
			s.Annotations = map[string]string{"external-dns.alpha.kubernetes.io/hostname": "api.gw.example.com"}
		}), "api.gw.example.com=10.0.0.1 api.prod.gw.example.com=10.0.0.1 api.prod.gw.example.org=10.0.0.1"},
		{"external IPs win", svc(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"10.0.0.2"}
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "10.0.0.1"}}
		}), "api.prod.gw.example.com=10.0.0.2 api.prod.gw.example.org=10.0.0.2"},
		{"hostname load balancer", svc(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "elb.example.net"}}
		}), "api.prod.gw.example.com=CNAME elb.example.net api.prod.gw.example.org=CNAME elb.example.net"},
		{"external name", svc(corev1.ServiceTypeExternalName, func(s *corev1.Service) { s.Spec.ExternalName = "redis.internal" }),
			"api.prod.gw.example.com=CNAME redis.internal api.prod.gw.example.org=CNAME redis.internal"},
		{"pending load balancer", svc(corev1.ServiceTypeLoadBalancer, func(*corev1.Service) {}), ""},
		{"cluster IP", svc(corev1.ServiceTypeClusterIP, func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.10" }), ""},
	}
	for _, c := range cases {
		if got := text(f.ServiceEndpoints(c.svc)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestIntersectHostnames(t *testing.T) {
	cases := []struct{ a, b, want string }{
		{"www.example.com", "www.example.com", "www.example.com"},
		{"WWW.example.com.", "www.example.com", "www.example.com"},
		{"www.example.com", "*.example.com", "www.example.com"},
		{"*.example.com", "a.b.example.com", "a.b.example.com"},
		{"*.a.example.com", "*.example.com", "*.a.example.com"},
		{"example.com", "*.example.com", ""},
		{"www.example.org", "*.example.com", ""},
		{"www.example.com", "api.example.com", ""},
	}
	for _, c := range cases {
		got, ok := IntersectHostnames(c.a, c.b)
		if ok != (c.want != "") || got != c.want {
			t.Errorf("IntersectHostnames(%q, %q) = %q %v, want %q", c.a, c.b, got, ok, c.want)
		}
	}
}

// routeRecorder collects what Routes applies.
type routeRecorder map[string][]index.Endpoint

func (r routeRecorder) apply(key string, eps []index.Endpoint) { r[key] = eps }

func testGateway(name, class string, addr string, listeners ...gatewayv1.Listener) *gatewayv1.Gateway {
	return &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "infra"},
		Spec:       gatewayv1.GatewaySpec{GatewayClassName: gatewayv1.ObjectName(class), Listeners: listeners},
		Status:     gatewayv1.GatewayStatus{Addresses: []gatewayv1.GatewayStatusAddress{{Value: addr}}},
	}
}

func testRoute(key string, parent gatewayv1.ParentReference, accepted bool, hosts ...string) *Route {
	cond := metav1.ConditionFalse
	if accepted {
		cond = metav1.ConditionTrue
	}
	var hs []gatewayv1.Hostname
	for _, h := range hosts {
		hs = append(hs, gatewayv1.Hostname(h))
	}
	return &Route{
		Key: key, Namespace: "apps", Hostnames: hs, Parents: []gatewayv1.ParentReference{parent},
		Status: []gatewayv1.RouteParentStatus{{ParentRef: parent, Conditions: []metav1.Condition{{Type: "Accepted", Status: cond}}}},
	}
}

func TestRoutesResolveParentsInAnyOrder(t *testing.T) {
	rec := routeRecorder{}
	r := &Routes{Filter: &Filter{GatewayClasses: []string{"edge"}}, Apply: rec.apply}
	parent := gatewayv1.ParentReference{Name: "gw", Namespace: ptr.To(gatewayv1.Namespace("infra")), SectionName: ptr.To(gatewayv1.SectionName("web"))}
	listeners := []gatewayv1.Listener{
		{Name: "web", Port: 443, Hostname: ptr.To(gatewayv1.Hostname("*.apps.example.com"))},
		{Name: "other", Port: 443, Hostname: ptr.To(gatewayv1.Hostname("*.other.example.com"))},
	}
	// Route first: nothing until its Gateway appears.
	r.SetRoute("HTTPRoute/apps/a", testRoute("HTTPRoute/apps/a", parent, true, "a.apps.example.com", "b.other.example.com"))
	if got := text(rec["HTTPRoute/apps/a"]); got != "" {
		t.Fatalf("without gateway: %q", got)
	}
	r.SetGateway("infra/gw", testGateway("gw", "edge", "10.0.0.1", listeners...))
	if got := text(rec["HTTPRoute/apps/a"]); got != "a.apps.example.com=10.0.0.1" {
		t.Fatalf("after gateway: %q (the other listener's name must not appear)", got)
	}
	// Not accepted: nothing.
	r.SetRoute("HTTPRoute/apps/b", testRoute("HTTPRoute/apps/b", parent, false, "b.apps.example.com"))
	if got := text(rec["HTTPRoute/apps/b"]); got != "" {
		t.Errorf("unaccepted route: %q", got)
	}
	// No hostnames: the listener's own.
	r.SetRoute("HTTPRoute/apps/c", testRoute("HTTPRoute/apps/c", parent, true))
	if got := text(rec["HTTPRoute/apps/c"]); got != "*.apps.example.com=10.0.0.1" {
		t.Errorf("route without hostnames: %q", got)
	}
	// The Gateway changes class: its routes are withdrawn.
	r.SetGateway("infra/gw", testGateway("gw", "internal", "10.0.0.1", listeners...))
	if got := text(rec["HTTPRoute/apps/a"]); got != "" {
		t.Errorf("gateway of another class: %q", got)
	}
	r.SetGateway("infra/gw", testGateway("gw", "edge", "10.0.0.2", listeners...))
	if got := text(rec["HTTPRoute/apps/a"]); got != "a.apps.example.com=10.0.0.2" {
		t.Errorf("new address: %q", got)
	}
	r.SetRoute("HTTPRoute/apps/a", nil)
	if _, ok := rec["HTTPRoute/apps/a"]; !ok || rec["HTTPRoute/apps/a"] != nil {
		t.Errorf("deleted route not withdrawn: %v", rec["HTTPRoute/apps/a"])
	}
	// A port that matches no listener publishes nothing.
	wrongPort := gatewayv1.ParentReference{Name: "gw", Namespace: ptr.To(gatewayv1.Namespace("infra")), Port: ptr.To(gatewayv1.PortNumber(80))}
	r.SetRoute("HTTPRoute/apps/d", testRoute("HTTPRoute/apps/d", wrongPort, true, "d.apps.example.com"))
	if got := text(rec["HTTPRoute/apps/d"]); got != "" {
		t.Errorf("port 80 on a 443-only gateway: %q", got)
	}
}

func TestParseKind(t *testing.T) {
	for _, s := range []string{"ingress", "Ingress", "HTTPROUTE", "tlsRoute"} {
		if _, err := ParseKind(s); err != nil {
			t.Errorf("ParseKind(%q): %v", s, err)
		}
	}
	for _, s := range []string{"Gateway", "Pod", "", "Ingresses"} {
		if _, err := ParseKind(s); err == nil {
			t.Errorf("ParseKind(%q) accepted", s)
		}
	}
}

// The transform keeps only identity and endpoints of Ingresses and
// Services, and strips Gateway API objects to the fields read.
func TestTransform(t *testing.T) {
	w := &Watcher{Filter: &Filter{}}
	ing := ingress("web", nil, map[string]string{"unrelated": strings.Repeat("x", 1000)}, nil, []string{"www.gw.example.com"},
		networkingv1.IngressLoadBalancerIngress{IP: "10.0.0.1"})
	ing.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	ing.ResourceVersion = "42"
	out, err := w.transform(ing)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := out.(*entry)
	if !ok || e.key != "ingress/default/web" || e.ResourceVersion != "42" || e.Annotations != nil || e.ManagedFields != nil ||
		text(e.endpoints) != "www.gw.example.com=10.0.0.1" {
		t.Fatalf("ingress entry: %+v", out)
	}
	gw := testGateway("gw", "edge", "10.0.0.1", gatewayv1.Listener{Name: "web", Port: 443})
	gw.Annotations = map[string]string{"unrelated": "x", "external-dns.kubernetes.io/hostname": "h.example.com"}
	gw.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	out, err = w.transform(gw)
	if err != nil {
		t.Fatal(err)
	}
	g := out.(*gatewayv1.Gateway)
	if g.ManagedFields != nil || len(g.Annotations) != 1 || len(g.Status.Addresses) != 1 || g.Spec.Listeners[0].Port != 443 {
		t.Errorf("trimmed gateway: %+v", g)
	}
	hr := &gatewayv1.HTTPRoute{Spec: gatewayv1.HTTPRouteSpec{Rules: make([]gatewayv1.HTTPRouteRule, 3)}}
	out, _ = w.transform(hr)
	if r := out.(*gatewayv1.HTTPRoute); r.Spec.Rules != nil {
		t.Errorf("route rules kept: %d", len(r.Spec.Rules))
	}
}
