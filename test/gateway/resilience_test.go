package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/kubernetes"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/dnsfailover/dnsfailover/test/kubeapi"
)

// A source forbidden by RBAC and route kinds whose CRDs are missing must not
// block readiness or other answers; the CRDs installed later are picked up.
func TestForbiddenSourceAndLateCRD(t *testing.T) {
	cluster := kubeapi.StartCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin := kubernetes.NewForConfigOrDie(cluster.Config)
	// The gateway may list Services and Gateway API objects, not Ingresses.
	restricted := cluster.UserWithRules(t, "dns-gateway",
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"list", "watch"}},
		rbacv1.PolicyRule{APIGroups: []string{"gateway.networking.k8s.io"}, Resources: []string{"gateways", "httproutes", "grpcroutes", "tlsroutes"}, Verbs: []string{"list", "watch"}},
	)
	gw := startGateway(t, restricted, allSources...)
	waitReady(t, gw)
	_, body := httpStatus(t, gw, "/readyz")
	for _, want := range []string{"Ingress\tunavailable", "Service\tsynced", "HTTPRoute\tunavailable", "Gateway\tunavailable"} {
		if !strings.Contains(body, want) {
			t.Errorf("/readyz lacks %q:\n%s", want, body)
		}
	}

	createLBService(t, ctx, admin, "api", nil, "10.0.0.6")
	eventually(t, 10*time.Second, "service answered", func() string {
		if r := query(t, gw, "udp", "api.default.gw.example.com.", dns.TypeA, false); answerText(r) != "A 10.0.0.6" {
			return r.String()
		}
		return ""
	})

	dir, err := kubeapi.GatewayAPICRDDir(kubeapi.ChannelExperimental)
	if err != nil {
		t.Fatal(err)
	}
	cluster.InstallCRDs(t, dir)
	createGatewayAndRoute(t, ctx, gatewayclient.NewForConfigOrDie(cluster.Config), "edge", "late", []string{"late.apps.gw.example.com"}, true)
	// The reflector retries with backoff (up to ~30 s) before it sees the CRD.
	eventually(t, 90*time.Second, "route from a CRD installed after start answered", func() string {
		if r := query(t, gw, "udp", "late.apps.gw.example.com.", dns.TypeA, false); answerText(r) != "A 10.20.0.1" {
			return dns.RcodeToString[r.Rcode]
		}
		return ""
	})
	if code, body := httpStatus(t, gw, "/readyz"); code != http.StatusOK || !strings.Contains(body, "HTTPRoute\tsynced") {
		t.Errorf("/readyz after CRD install: %d\n%s", code, body)
	}
}

// With the API server gone, the last index keeps answering and the gateway
// stays ready; after a restart new objects are picked up.
func TestAPIServerStoppedMidRun(t *testing.T) {
	cluster := kubeapi.StartCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin := kubernetes.NewForConfigOrDie(cluster.Config)
	createLBService(t, ctx, admin, "before", nil, "10.0.0.1")

	gw := startGateway(t, cluster.Config, allSources...) // route CRDs missing: unavailable
	waitReady(t, gw)
	if r := query(t, gw, "udp", "before.default.gw.example.com.", dns.TypeA, false); answerText(r) != "A 10.0.0.1" {
		t.Fatalf("before stop: %v", r)
	}

	cluster.StopAPIServer(t)
	time.Sleep(2 * time.Second) // let the informers notice the broken watch
	for _, network := range []string{"udp", "tcp"} {
		if r := query(t, gw, network, "before.default.gw.example.com.", dns.TypeA, false); answerText(r) != "A 10.0.0.1" {
			t.Errorf("%s with the API server stopped: %v", network, r)
		}
		if r := query(t, gw, network, "nope.gw.example.com.", dns.TypeA, false); r.Rcode != dns.RcodeNameError {
			t.Errorf("%s negative with the API server stopped: %s", network, dns.RcodeToString[r.Rcode])
		}
	}
	if code, body := httpStatus(t, gw, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz with the API server stopped: %d\n%s", code, body)
	}

	cluster.StartAPIServer(t)
	createLBService(t, ctx, admin, "after", nil, "10.0.0.2")
	eventually(t, 60*time.Second, "object created after restart answered", func() string {
		if r := query(t, gw, "udp", "after.default.gw.example.com.", dns.TypeA, false); answerText(r) != "A 10.0.0.2" {
			return dns.RcodeToString[r.Rcode]
		}
		return ""
	})
}
