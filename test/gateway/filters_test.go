package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/dnsfailover/dnsfailover/internal/gateway"
	"github.com/dnsfailover/dnsfailover/internal/gateway/source"
	"github.com/dnsfailover/dnsfailover/test/kubeapi"
)

// ingressSpec describes a test Ingress: its class (spec or legacy
// annotation), labels and its one host at one address.
type ingressSpec struct {
	name, host, ip   string
	class, annoClass string
	labels           map[string]string
}

func createClassedIngress(t *testing.T, ctx context.Context, cs kubernetes.Interface, s ingressSpec) {
	t.Helper()
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: "default", Labels: s.labels},
		Spec: networkingv1.IngressSpec{
			DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}},
			Rules:          []networkingv1.IngressRule{{Host: s.host}},
		},
	}
	if s.class != "" {
		ing.Spec.IngressClassName = ptr.To(s.class)
	}
	if s.annoClass != "" {
		ing.Annotations = map[string]string{"kubernetes.io/ingress.class": s.annoClass}
	}
	created, err := cs.NetworkingV1().Ingresses("default").Create(ctx, ing, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create ingress %s: %v", s.name, err)
	}
	created.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: s.ip}}
	if _, err := cs.NetworkingV1().Ingresses("default").UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("ingress %s status: %v", s.name, err)
	}
}

// expectAnswers waits until every name in want answers its A (or NXDOMAIN
// for ""), over UDP, then checks the same over TCP.
func expectAnswers(t *testing.T, gw *gateway.Gateway, want map[string]string) {
	t.Helper()
	check := func(network string) string {
		for name, a := range want {
			r := query(t, gw, network, name, dns.TypeA, false)
			switch {
			case a == "" && r.Rcode != dns.RcodeNameError:
				return network + " " + name + ": " + dns.RcodeToString[r.Rcode] + " " + answerText(r) + ", want NXDOMAIN"
			case a != "" && answerText(r) != a:
				return network + " " + name + ": " + dns.RcodeToString[r.Rcode] + " " + answerText(r) + ", want " + a
			}
		}
		return ""
	}
	eventually(t, 20*time.Second, "answers", func() string { return check("udp") })
	if msg := check("tcp"); msg != "" {
		t.Error(msg)
	}
}

// Ingress and Gateway classes limit what is published; an object that
// stops matching (class changed) disappears.
func TestClassFilters(t *testing.T) {
	cluster := kubeapi.StartCluster(t, kubeapi.WithGatewayAPICRDs())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cs := kubernetes.NewForConfigOrDie(cluster.Config)
	gc := gatewayclient.NewForConfigOrDie(cluster.Config)
	gw := startGatewayWith(t, cluster.Config, func(c *gateway.Config) {
		c.Filter.IngressClasses = []string{"public"}
		c.Filter.GatewayClasses = []string{"edge"}
	}, source.KindIngress, source.KindHTTPRoute)
	waitReady(t, gw)

	createClassedIngress(t, ctx, cs, ingressSpec{name: "pub", host: "pub.gw.example.com", ip: "10.0.1.1", class: "public"})
	createClassedIngress(t, ctx, cs, ingressSpec{name: "legacy", host: "legacy.gw.example.com", ip: "10.0.1.2", annoClass: "public"})
	createClassedIngress(t, ctx, cs, ingressSpec{name: "internal", host: "internal.gw.example.com", ip: "10.0.1.3", class: "internal"})
	createClassedIngress(t, ctx, cs, ingressSpec{name: "noclass", host: "noclass.gw.example.com", ip: "10.0.1.4"})
	createClassedGatewayAndRoute(t, ctx, gc, "edge-gw", "edge", "10.20.1.1", "a.edge.gw.example.com")
	createClassedGatewayAndRoute(t, ctx, gc, "other-gw", "other", "10.20.1.2", "a.other.gw.example.com")

	expectAnswers(t, gw, map[string]string{
		"pub.gw.example.com.":      "A 10.0.1.1",
		"legacy.gw.example.com.":   "A 10.0.1.2",
		"internal.gw.example.com.": "",
		"noclass.gw.example.com.":  "",
		"a.edge.gw.example.com.":   "A 10.20.1.1",
		"a.other.gw.example.com.":  "",
	})

	// Moving an Ingress to another class withdraws its name.
	ing, err := cs.NetworkingV1().Ingresses("default").Get(ctx, "pub", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ing.Spec.IngressClassName = ptr.To("internal")
	if _, err := cs.NetworkingV1().Ingresses("default").Update(ctx, ing, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expectAnswers(t, gw, map[string]string{"pub.gw.example.com.": "", "legacy.gw.example.com.": "A 10.0.1.2"})
}

// A label selector admits only matching objects; the ignore label (the
// configured one and k8s_gateway's) excludes objects even when they match,
// and adding it later withdraws the name.
func TestLabelSelectorAndIgnoreLabel(t *testing.T) {
	cluster := kubeapi.StartCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cs := kubernetes.NewForConfigOrDie(cluster.Config)
	sel, err := labels.Parse("expose=true")
	if err != nil {
		t.Fatal(err)
	}
	gw := startGatewayWith(t, cluster.Config, func(c *gateway.Config) {
		c.Filter.Selector = sel
		c.Filter.IgnoreLabel = "example.com/no-dns"
	}, source.KindIngress)
	waitReady(t, gw)

	exposed := map[string]string{"expose": "true"}
	createClassedIngress(t, ctx, cs, ingressSpec{name: "shown", host: "shown.gw.example.com", ip: "10.0.2.1", labels: exposed})
	createClassedIngress(t, ctx, cs, ingressSpec{name: "unlabelled", host: "unlabelled.gw.example.com", ip: "10.0.2.2"})
	createClassedIngress(t, ctx, cs, ingressSpec{name: "ignored", host: "ignored.gw.example.com", ip: "10.0.2.3",
		labels: map[string]string{"expose": "true", "example.com/no-dns": "true"}})
	createClassedIngress(t, ctx, cs, ingressSpec{name: "k8sgw-ignored", host: "k8sgw-ignored.gw.example.com", ip: "10.0.2.4",
		labels: map[string]string{"expose": "true", "k8s-gateway.dns/ignore": "true"}})
	createClassedIngress(t, ctx, cs, ingressSpec{name: "not-ignored", host: "not-ignored.gw.example.com", ip: "10.0.2.5",
		labels: map[string]string{"expose": "true", "example.com/no-dns": "false"}})
	expectAnswers(t, gw, map[string]string{
		"shown.gw.example.com.":         "A 10.0.2.1",
		"unlabelled.gw.example.com.":    "",
		"ignored.gw.example.com.":       "",
		"k8sgw-ignored.gw.example.com.": "",
		"not-ignored.gw.example.com.":   "A 10.0.2.5",
	})

	ing, err := cs.NetworkingV1().Ingresses("default").Get(ctx, "shown", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ing.Labels["example.com/no-dns"] = "true"
	if _, err := cs.NetworkingV1().Ingresses("default").Update(ctx, ing, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ing, err = cs.NetworkingV1().Ingresses("default").Get(ctx, "unlabelled", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ing.Labels = exposed
	if _, err := cs.NetworkingV1().Ingresses("default").Update(ctx, ing, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expectAnswers(t, gw, map[string]string{"shown.gw.example.com.": "", "unlabelled.gw.example.com.": "A 10.0.2.2"})
}

// createClassedGatewayAndRoute creates a Gateway of class with an
// unrestricted HTTP listener and address ip, and an accepted HTTPRoute for
// host attached to it.
func createClassedGatewayAndRoute(t *testing.T, ctx context.Context, gc gatewayclient.Interface, name, class, ip, host string) {
	t.Helper()
	g := &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: gatewayv1.ObjectName(class),
			Listeners:        []gatewayv1.Listener{{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType}},
		},
	}
	createGatewayWithAddress(t, ctx, gc, g, gatewayv1.IPAddressType, ip)
	parent := gatewayv1.ParentReference{Name: gatewayv1.ObjectName(name)}
	route := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-route", Namespace: "default"},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{parent}},
			Hostnames:       []gatewayv1.Hostname{gatewayv1.Hostname(host)},
		},
	}
	route, err := gc.GatewayV1().HTTPRoutes("default").Create(ctx, route, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create route: %v", err)
	}
	route.Status.Parents = []gatewayv1.RouteParentStatus{acceptedBy(parent, true)}
	if _, err := gc.GatewayV1().HTTPRoutes("default").UpdateStatus(ctx, route, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("route status: %v", err)
	}
}

func createGatewayWithAddress(t *testing.T, ctx context.Context, gc gatewayclient.Interface, g *gatewayv1.Gateway, typ gatewayv1.AddressType, value string) {
	t.Helper()
	created, err := gc.GatewayV1().Gateways(g.Namespace).Create(ctx, g, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create gateway %s: %v", g.Name, err)
	}
	created.Status.Addresses = []gatewayv1.GatewayStatusAddress{{Type: ptr.To(typ), Value: value}}
	if _, err := gc.GatewayV1().Gateways(g.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("gateway %s status: %v", g.Name, err)
	}
}

// acceptedBy is a route parent status with the Accepted condition.
func acceptedBy(parent gatewayv1.ParentReference, accepted bool) gatewayv1.RouteParentStatus {
	status := metav1.ConditionFalse
	if accepted {
		status = metav1.ConditionTrue
	}
	return gatewayv1.RouteParentStatus{
		ParentRef:      parent,
		ControllerName: "example.com/test",
		Conditions: []metav1.Condition{{
			Type: string(gatewayv1.RouteConditionAccepted), Status: status, Reason: "Test",
			LastTransitionTime: metav1.Now(), Message: "set by the test",
		}},
	}
}
