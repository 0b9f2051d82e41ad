package bench_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func itoa(n int) string { return strconv.Itoa(n) }

func sortLatencies(l latencies) { slices.Sort(l) }

// newIngress is Ingress i without status.
func newIngress(i int) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: ingressName(i), Namespace: namespace},
		Spec: networkingv1.IngressSpec{
			DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}},
			Rules:          []networkingv1.IngressRule{{Host: ingressHost(i)}},
		},
	}
}

// ask sends one A query for name over UDP.
func ask(t testing.TB, addr, name string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
	return r
}
