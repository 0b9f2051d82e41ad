package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/dnsfailover/dnsfailover/internal/gateway/source"
	"github.com/dnsfailover/dnsfailover/test/kubeapi"
)

var allSources = []source.Kind{source.KindIngress, source.KindService, source.KindHTTPRoute, source.KindGRPCRoute, source.KindTLSRoute}

func createIngress(t *testing.T, ctx context.Context, cs kubernetes.Interface, name, host string, lb ...corev1.LoadBalancerIngress) {
	t.Helper()
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: networkingv1.IngressSpec{
			DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}},
			Rules:          []networkingv1.IngressRule{{Host: host}},
		},
	}
	ing, err := cs.NetworkingV1().Ingresses("default").Create(ctx, ing, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create ingress %s: %v", name, err)
	}
	for _, l := range lb {
		ing.Status.LoadBalancer.Ingress = append(ing.Status.LoadBalancer.Ingress, networkingv1.IngressLoadBalancerIngress{IP: l.IP, Hostname: l.Hostname})
	}
	if _, err := cs.NetworkingV1().Ingresses("default").UpdateStatus(ctx, ing, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("ingress %s status: %v", name, err)
	}
}

func createLBService(t *testing.T, ctx context.Context, cs kubernetes.Interface, name string, annotations map[string]string, ips ...string) {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: annotations},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 443}}},
	}
	svc, err := cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create service %s: %v", name, err)
	}
	for _, ip := range ips {
		svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
	}
	if _, err := cs.CoreV1().Services("default").UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("service %s status: %v", name, err)
	}
}

// createGatewayAndRoute creates a Gateway with a "*.apps" listener and an
// address, and an HTTPRoute; accepted sets the route's Accepted condition.
func createGatewayAndRoute(t *testing.T, ctx context.Context, gc gatewayclient.Interface, gwName, routeName string, hostnames []string, accepted bool) {
	t.Helper()
	gw := &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: gwName, Namespace: "default"},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: "test",
			Listeners: []gatewayv1.Listener{{
				Name: "https", Port: 443, Protocol: gatewayv1.HTTPSProtocolType,
				Hostname: ptr.To(gatewayv1.Hostname("*.apps.gw.example.com")),
				TLS:      &gatewayv1.ListenerTLSConfig{CertificateRefs: []gatewayv1.SecretObjectReference{{Name: "cert"}}},
			}},
		},
	}
	if _, err := gc.GatewayV1().Gateways("default").Get(ctx, gwName, metav1.GetOptions{}); err != nil {
		created, err := gc.GatewayV1().Gateways("default").Create(ctx, gw, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create gateway: %v", err)
		}
		created.Status.Addresses = []gatewayv1.GatewayStatusAddress{{Type: ptr.To(gatewayv1.IPAddressType), Value: "10.20.0.1"}}
		if _, err := gc.GatewayV1().Gateways("default").UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("gateway status: %v", err)
		}
	}
	var hs []gatewayv1.Hostname
	for _, h := range hostnames {
		hs = append(hs, gatewayv1.Hostname(h))
	}
	parent := gatewayv1.ParentReference{Name: gatewayv1.ObjectName(gwName)}
	route := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: routeName, Namespace: "default"},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{parent}},
			Hostnames:       hs,
		},
	}
	route, err := gc.GatewayV1().HTTPRoutes("default").Create(ctx, route, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create route: %v", err)
	}
	status := metav1.ConditionFalse
	if accepted {
		status = metav1.ConditionTrue
	}
	route.Status.Parents = []gatewayv1.RouteParentStatus{{
		ParentRef:      parent,
		ControllerName: "example.com/test",
		Conditions: []metav1.Condition{{
			Type: string(gatewayv1.RouteConditionAccepted), Status: status, Reason: "Test",
			LastTransitionTime: metav1.Now(), Message: "set by the test",
		}},
	}}
	if _, err := gc.GatewayV1().HTTPRoutes("default").UpdateStatus(ctx, route, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("route status: %v", err)
	}
}

func TestRecordsOverUDPAndTCP(t *testing.T) {
	cluster := kubeapi.StartCluster(t, kubeapi.WithGatewayAPICRDs())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cs := kubernetes.NewForConfigOrDie(cluster.Config)
	gc := gatewayclient.NewForConfigOrDie(cluster.Config)

	gw := startGateway(t, cluster.Config, allSources...)
	waitReady(t, gw)

	createIngress(t, ctx, cs, "web", "www.gw.example.com", corev1.LoadBalancerIngress{IP: "10.0.0.5"}, corev1.LoadBalancerIngress{IP: "2001:db8::5"})
	createIngress(t, ctx, cs, "elb", "shop.gw.example.com", corev1.LoadBalancerIngress{Hostname: "lb-123.elb.example.net"})
	createIngress(t, ctx, cs, "other-zone", "www.example.org", corev1.LoadBalancerIngress{IP: "10.0.0.9"})
	createLBService(t, ctx, cs, "api", map[string]string{
		"external-dns.kubernetes.io/hostname":       "api.gw.example.com",
		"external-dns.alpha.kubernetes.io/hostname": "legacy.gw.example.com",
		"coredns.io/hostname":                       "cdns.gw.example.com",
	}, "10.0.0.6")
	ext := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "redis-session", Namespace: "default"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "redis-session-staging.staging.internal"},
	}
	if _, err := cs.CoreV1().Services("default").Create(ctx, ext, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	createGatewayAndRoute(t, ctx, gc, "edge", "shop-route", []string{"*.shop.apps.gw.example.com"}, true)
	createGatewayAndRoute(t, ctx, gc, "edge", "pending-route", []string{"pending.apps.gw.example.com"}, false)
	createGatewayAndRoute(t, ctx, gc, "edge", "outside-listener", []string{"x.other.gw.example.com"}, true)
	var many []corev1.LoadBalancerIngress
	for i := range 60 {
		many = append(many, corev1.LoadBalancerIngress{IP: fmt.Sprintf("10.9.0.%d", i)})
	}
	createIngress(t, ctx, cs, "big", "big.gw.example.com", many...)

	type want struct {
		name   string
		qtype  uint16
		rcode  int
		answer string // answerText, "" for none
		soa    bool
	}
	cases := []want{
		{"www.gw.example.com.", dns.TypeA, dns.RcodeSuccess, "A 10.0.0.5", false},
		{"WWW.GW.example.COM.", dns.TypeAAAA, dns.RcodeSuccess, "AAAA 2001:db8::5", false},
		{"www.gw.example.com.", dns.TypeTXT, dns.RcodeSuccess, "", true},
		{"shop.gw.example.com.", dns.TypeA, dns.RcodeSuccess, "CNAME lb-123.elb.example.net.", false},
		{"api.gw.example.com.", dns.TypeA, dns.RcodeSuccess, "A 10.0.0.6", false},
		{"legacy.gw.example.com.", dns.TypeA, dns.RcodeSuccess, "A 10.0.0.6", false},
		{"cdns.gw.example.com.", dns.TypeA, dns.RcodeSuccess, "A 10.0.0.6", false},
		{"api.default.gw.example.com.", dns.TypeA, dns.RcodeSuccess, "A 10.0.0.6", false},
		{"redis-session.default.gw.example.com.", dns.TypeA, dns.RcodeSuccess, "CNAME redis-session-staging.staging.internal.", false},
		{"a.shop.apps.gw.example.com.", dns.TypeA, dns.RcodeSuccess, "A 10.20.0.1", false},
		{"b.a.shop.apps.gw.example.com.", dns.TypeA, dns.RcodeSuccess, "A 10.20.0.1", false},
		{"pending.apps.gw.example.com.", dns.TypeA, dns.RcodeNameError, "", true},
		{"x.other.gw.example.com.", dns.TypeA, dns.RcodeNameError, "", true},
		{"default.gw.example.com.", dns.TypeA, dns.RcodeSuccess, "", true}, // empty non-terminal
		{"missing.gw.example.com.", dns.TypeA, dns.RcodeNameError, "", true},
		{"missing.gw.example.com.", dns.TypeTXT, dns.RcodeNameError, "", true},
		{"ns1.gw.example.com.", dns.TypeAAAA, dns.RcodeSuccess, "AAAA 2001:db8::53", false},
		{"www.example.org.", dns.TypeA, dns.RcodeRefused, "", false},
		{"example.com.", dns.TypeNS, dns.RcodeRefused, "", false},
	}
	eventually(t, 30*time.Second, "all objects answered", func() string {
		if r := query(t, gw, "udp", "a.shop.apps.gw.example.com.", dns.TypeA, false); len(r.Answer) == 0 {
			return "route not yet answered"
		}
		if r := query(t, gw, "udp", "big.gw.example.com.", dns.TypeA, true); len(r.Answer) == 0 && !r.Truncated {
			return "big not yet answered"
		}
		return ""
	})
	for _, network := range []string{"udp", "tcp"} {
		for _, c := range cases {
			r := query(t, gw, network, c.name, c.qtype, network == "udp")
			if r.Rcode != c.rcode || answerText(r) != c.answer {
				t.Errorf("%s %s %s: %s %q, want %s %q", network, c.name, dns.TypeToString[c.qtype],
					dns.RcodeToString[r.Rcode], answerText(r), dns.RcodeToString[c.rcode], c.answer)
			}
			if hasSOA := len(r.Ns) == 1 && r.Ns[0].Header().Rrtype == dns.TypeSOA; hasSOA != c.soa {
				t.Errorf("%s %s %s: authority %v, want SOA=%v", network, c.name, dns.TypeToString[c.qtype], r.Ns, c.soa)
			}
		}
	}

	// Delegation: NS at the apex with A and AAAA glue.
	r := query(t, gw, "udp", zone, dns.TypeNS, false)
	if answerText(r) != "NS ns1.gw.example.com." || len(r.Extra) != 2 || !r.Authoritative {
		t.Errorf("apex NS: %v", r)
	}
	out := dig(t, gw, "NS", zone)
	if !strings.Contains(out, "ns1.gw.example.com.\t60\tIN\tA\t192.0.2.53") || !strings.Contains(out, "ns1.gw.example.com.\t60\tIN\tAAAA\t2001:db8::53") {
		t.Errorf("dig NS: no A and AAAA glue in\n%s", out)
	}

	// Truncation: 60 A records exceed 512 bytes; dig retries over TCP by itself.
	r = query(t, gw, "udp", "big.gw.example.com.", dns.TypeA, false)
	if !r.Truncated || len(r.Answer) != 0 {
		t.Errorf("big over plain UDP: TC=%v answers=%d, want TC and none", r.Truncated, len(r.Answer))
	}
	if r = query(t, gw, "tcp", "big.gw.example.com.", dns.TypeA, false); len(r.Answer) != 60 {
		t.Errorf("big over TCP: %d answers, want 60", len(r.Answer))
	}
	out = dig(t, gw, "+noedns", "+short", "big.gw.example.com", "A")
	if n := len(strings.Fields(out)); n != 60 {
		t.Errorf("dig big (UDP, TC, TCP retry): %d addresses, want 60\n%s", n, out)
	}
	if out = dig(t, gw, "+short", "www.gw.example.com", "A"); strings.TrimSpace(out) != "10.0.0.5" {
		t.Errorf("dig www A: %q", out)
	}
	if out = dig(t, gw, "missing.gw.example.com", "TXT"); !strings.Contains(out, "status: NXDOMAIN") || !strings.Contains(out, "IN\tSOA\tns1.gw.example.com.") {
		t.Errorf("dig NXDOMAIN: %s", out)
	}

	// The SOA serial moves when data changes; a deletion answers NXDOMAIN.
	serial := query(t, gw, "udp", zone, dns.TypeSOA, false).Answer[0].(*dns.SOA).Serial
	if err := cs.NetworkingV1().Ingresses("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "deleted ingress gone", func() string {
		if r := query(t, gw, "udp", "www.gw.example.com.", dns.TypeA, false); r.Rcode != dns.RcodeNameError {
			return dns.RcodeToString[r.Rcode]
		}
		return ""
	})
	if s := query(t, gw, "udp", zone, dns.TypeSOA, false).Answer[0].(*dns.SOA).Serial; int32(s-serial) <= 0 {
		t.Errorf("serial %d after a change, was %d", s, serial)
	}

	// Metrics are served.
	if code, body := httpStatus(t, gw, "/metrics"); code != 200 || !strings.Contains(body, `dnsgw_queries_total{qtype="A",rcode="NOERROR"}`) ||
		!strings.Contains(body, `dnsgw_source_state{source="Ingress",state="synced"} 1`) {
		t.Errorf("metrics: %d\n%s", code, body)
	}
}
