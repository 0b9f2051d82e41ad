package gateway_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/dnsfailover/dnsfailover/internal/gateway/source"
	"github.com/dnsfailover/dnsfailover/test/kubeapi"
)

// GRPCRoutes and TLSRoutes publish the hostnames their parent listener
// allows, at the parent Gateway's address (a hostname address becomes a
// CNAME); a sectionName picks one listener; an unaccepted parent publishes
// nothing; a Gateway address change moves every route's answer.
func TestGRPCAndTLSRoutes(t *testing.T) {
	cluster := kubeapi.StartCluster(t, kubeapi.WithGatewayAPICRDs())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	gc := gatewayclient.NewForConfigOrDie(cluster.Config)
	gw := startGateway(t, cluster.Config, source.KindGRPCRoute, source.KindTLSRoute)
	waitReady(t, gw)

	tlsCert := &gatewayv1.ListenerTLSConfig{CertificateRefs: []gatewayv1.SecretObjectReference{{Name: "cert"}}}
	edge := &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "edge", Namespace: "default"},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: "test",
			Listeners: []gatewayv1.Listener{
				{Name: "grpc", Port: 443, Protocol: gatewayv1.HTTPSProtocolType, Hostname: ptr.To(gatewayv1.Hostname("*.grpc.gw.example.com")), TLS: tlsCert},
				{Name: "tls", Port: 8443, Protocol: gatewayv1.TLSProtocolType, Hostname: ptr.To(gatewayv1.Hostname("*.tls.gw.example.com")),
					TLS: &gatewayv1.ListenerTLSConfig{Mode: ptr.To(gatewayv1.TLSModePassthrough)}},
			},
		},
	}
	createGatewayWithAddress(t, ctx, gc, edge, gatewayv1.IPAddressType, "10.30.0.1")
	elb := &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "elb", Namespace: "default"},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: "test",
			Listeners:        []gatewayv1.Listener{{Name: "tls", Port: 443, Protocol: gatewayv1.TLSProtocolType, TLS: &gatewayv1.ListenerTLSConfig{Mode: ptr.To(gatewayv1.TLSModePassthrough)}}},
		},
	}
	createGatewayWithAddress(t, ctx, gc, elb, gatewayv1.HostnameAddressType, "lb-7.elb.example.net")

	section := func(gwName, name string) gatewayv1.ParentReference {
		return gatewayv1.ParentReference{Name: gatewayv1.ObjectName(gwName), SectionName: ptr.To(gatewayv1.SectionName(name))}
	}
	createGRPCRoute(t, ctx, gc, "api", section("edge", "grpc"), true, "api.grpc.gw.example.com")
	createGRPCRoute(t, ctx, gc, "pending", section("edge", "grpc"), false, "pending.grpc.gw.example.com")
	// Hostnames outside the listener's are not published.
	createGRPCRoute(t, ctx, gc, "outside", section("edge", "grpc"), true, "x.tls.gw.example.com", "ok.grpc.gw.example.com")
	createTLSRoute(t, ctx, gc, "db", section("edge", "tls"), true, "db.tls.gw.example.com")
	// Attached to the grpc listener by section: its tls name does not match it.
	createTLSRoute(t, ctx, gc, "wrong-section", section("edge", "grpc"), true, "wrong.tls.gw.example.com")
	createTLSRoute(t, ctx, gc, "cname", gatewayv1.ParentReference{Name: "elb"}, true, "db.elb.gw.example.com")

	expectAnswers(t, gw, map[string]string{
		"api.grpc.gw.example.com.":     "A 10.30.0.1",
		"pending.grpc.gw.example.com.": "",
		"x.tls.gw.example.com.":        "",
		"ok.grpc.gw.example.com.":      "A 10.30.0.1",
		"db.tls.gw.example.com.":       "A 10.30.0.1",
		"wrong.tls.gw.example.com.":    "",
		"db.elb.gw.example.com.":       "CNAME lb-7.elb.example.net.",
	})

	// The Gateway's new address reaches every route.
	g, err := gc.GatewayV1().Gateways("default").Get(ctx, "edge", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g.Status.Addresses = []gatewayv1.GatewayStatusAddress{{Type: ptr.To(gatewayv1.IPAddressType), Value: "10.30.0.2"}}
	if _, err := gc.GatewayV1().Gateways("default").UpdateStatus(ctx, g, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expectAnswers(t, gw, map[string]string{
		"api.grpc.gw.example.com.": "A 10.30.0.2",
		"db.tls.gw.example.com.":   "A 10.30.0.2",
	})
	// Deleting the route withdraws its name.
	if err := gc.GatewayV1().TLSRoutes("default").Delete(ctx, "db", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectAnswers(t, gw, map[string]string{"db.tls.gw.example.com.": "", "api.grpc.gw.example.com.": "A 10.30.0.2"})
}

func hostnames(hosts []string) []gatewayv1.Hostname {
	out := make([]gatewayv1.Hostname, len(hosts))
	for i, h := range hosts {
		out[i] = gatewayv1.Hostname(h)
	}
	return out
}

func createGRPCRoute(t *testing.T, ctx context.Context, gc gatewayclient.Interface, name string, parent gatewayv1.ParentReference, accepted bool, hosts ...string) {
	t.Helper()
	r := &gatewayv1.GRPCRoute{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: gatewayv1.GRPCRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{parent}},
			Hostnames:       hostnames(hosts),
		},
	}
	r, err := gc.GatewayV1().GRPCRoutes("default").Create(ctx, r, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create grpc route %s: %v", name, err)
	}
	r.Status.Parents = []gatewayv1.RouteParentStatus{acceptedBy(parent, accepted)}
	if _, err := gc.GatewayV1().GRPCRoutes("default").UpdateStatus(ctx, r, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("grpc route %s status: %v", name, err)
	}
}

func createTLSRoute(t *testing.T, ctx context.Context, gc gatewayclient.Interface, name string, parent gatewayv1.ParentReference, accepted bool, hosts ...string) {
	t.Helper()
	r := &gatewayv1.TLSRoute{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: gatewayv1.TLSRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{parent}},
			Hostnames:       hostnames(hosts),
			Rules:           []gatewayv1.TLSRouteRule{{BackendRefs: []gatewayv1.BackendRef{{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "db", Port: ptr.To(gatewayv1.PortNumber(5432))}}}}},
		},
	}
	r, err := gc.GatewayV1().TLSRoutes("default").Create(ctx, r, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create tls route %s: %v", name, err)
	}
	r.Status.Parents = []gatewayv1.RouteParentStatus{acceptedBy(parent, accepted)}
	if _, err := gc.GatewayV1().TLSRoutes("default").UpdateStatus(ctx, r, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("tls route %s status: %v", name, err)
	}
}
