package bench_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const (
	zone      = "gw.example.com"
	namespace = "default"
)

// fastClient is an admin client without client-side rate limiting, so
// loading thousands of objects is bounded by the API server only.
func fastClient(t testing.TB, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = 1e6, 1e6
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// ingressName, ingressHost and ingressIP give object i its data: one host,
// one IPv4 address (documentation-only data, never dialled).
func ingressName(i int) string { return fmt.Sprintf("app-%05d", i) }
func ingressHost(i int) string { return fmt.Sprintf("app-%05d.%s", i, zone) }
func ingressIP(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// createIngress creates Ingress i and writes its load-balancer status (two
// requests: status is a subresource). It returns when the status write
// returned.
func createIngress(ctx context.Context, cs kubernetes.Interface, i int) error {
	ing := newIngress(i)
	ing.Labels = map[string]string{"app": "bench"}
	ing.Annotations = map[string]string{"example.com/unrelated": "dropped by the informer transform"}
	created, err := cs.NetworkingV1().Ingresses(namespace).Create(ctx, ing, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create ingress %d: %w", i, err)
	}
	return writeStatus(ctx, cs, created, i)
}

func writeStatus(ctx context.Context, cs kubernetes.Interface, ing *networkingv1.Ingress, i int) error {
	ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: ingressIP(i).String()}}
	if _, err := cs.NetworkingV1().Ingresses(namespace).UpdateStatus(ctx, ing, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("ingress %d status: %w", i, err)
	}
	return nil
}

// loadIngresses creates Ingresses [from, to) with status, with a few
// parallel workers, within 10 minutes.
func loadIngresses(t testing.TB, cs kubernetes.Interface, from, to int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= to || ctx.Err() != nil {
					return
				}
				if err := createIngress(ctx, cs, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	t.Logf("created %d Ingresses with status in %v", to-from, time.Since(start).Round(time.Millisecond))
}
