package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/dnsfailover/dnsfailover/test/gateway/gwproc"
	"github.com/dnsfailover/dnsfailover/test/kubeapi"
)

// Bad flags stop the binary before it touches the network, with a message
// naming the flag.
func TestBinaryRejectsBadFlags(t *testing.T) {
	bin := gwproc.Binary(t)
	base := []string{"--kubeconfig", "does-not-matter", "--zones", "gw.example.com", "--ns", "ns1.gw.example.com=192.0.2.53"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no zones", []string{"--ns", "ns1.example.net"}, "no zones configured"},
		{"no ns", []string{"--zones", "gw.example.com", "--kubeconfig", "x"}, "at least one name server"},
		{"unknown source", append(base, "--sources", "Ingress,Pod"), `--sources: unknown source "Pod"`},
		{"bad ns address", []string{"--zones", "gw.example.com", "--ns", "ns1.gw.example.com=not-an-ip"}, "--ns: name server"},
		{"in-zone ns without glue", []string{"--zones", "gw.example.com", "--ns", "ns1.gw.example.com", "--kubeconfig", "x"}, "needs at least one address for glue"},
		{"bad selector", append(base, "--label-selector", "a in (b"), "--label-selector"},
		{"zero ttl", append(base, "--ttl", "0"), "--ttl"},
		{"bad udp size", append(base, "--max-udp-size", "100"), "max UDP size 100"},
		{"bad log level", append(base, "--log-level", "loud"), "--log-level"},
		{"unknown flag", append(base, "--frobnicate"), "flag provided but not defined"},
		{"missing kubeconfig", []string{"--zones", "gw.example.com", "--ns", "ns1.example.net", "--kubeconfig", "no-such-file"}, "--kubeconfig no-such-file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, bin, c.args...).CombinedOutput()
			var exit *exec.ExitError
			if err == nil || !asExit(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("%v: err %v, want exit status 1\n%s", c.args, err, out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Errorf("%v: output lacks %q:\n%s", c.args, c.want, out)
			}
		})
	}
}

func asExit(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*target = e
	return ok
}

// The binary reports ready only once its index holds every object that
// existed at start, answers from then on, and stops cleanly on SIGTERM and
// SIGINT.
func TestBinaryReadyAfterSyncAndSignals(t *testing.T) {
	cluster := kubeapi.StartCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const n = 1000
	loadServices(t, ctx, cluster.Config, n)
	kubeconfig := cluster.KubeconfigFile(t)
	args := []string{"--kubeconfig", kubeconfig, "--zones", "gw.example.com", "--ns", "ns1.gw.example.com=192.0.2.53,2001:db8::53",
		"--sources", "Service", "--ttl", "120", "--negative-ttl", "15"}

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			p := gwproc.Start(t, gwproc.Options{Args: args})
			// Poll /readyz as fast as it answers; the first 200 must mean
			// every object is served.
			deadline := time.Now().Add(time.Minute)
			sawUnready := false
			for {
				code, body, err := p.HTTPGet(ctx, "/readyz")
				if err == nil && code == http.StatusOK {
					if !strings.Contains(body, "Service\tsynced") {
						t.Errorf("/readyz 200 body: %q", body)
					}
					break
				}
				if err == nil && code == http.StatusServiceUnavailable {
					sawUnready = true
				}
				if time.Now().After(deadline) {
					t.Fatalf("not ready within a minute: %d %v", code, err)
				}
			}
			c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
			missing := 0
			for i := range n {
				m := new(dns.Msg)
				m.SetQuestion(fmt.Sprintf("svc-%04d.default.gw.example.com.", i), dns.TypeA)
				r, _, err := c.Exchange(m, p.DNSAddr)
				if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].Header().Ttl != 120 {
					missing++
				}
			}
			if missing > 0 {
				t.Errorf("%d of %d names not answered right when /readyz first said 200 (saw 503 before: %v)", missing, n, sawUnready)
			}
			m := new(dns.Msg)
			m.SetQuestion("missing.gw.example.com.", dns.TypeA)
			if r, _, err := c.Exchange(m, p.DNSAddr); err != nil || r.Rcode != dns.RcodeNameError || r.Ns[0].Header().Ttl != 15 {
				t.Errorf("negative answer: %v %v", r, err)
			}
			if code, _, err := p.HTTPGet(ctx, "/healthz"); err != nil || code != http.StatusOK {
				t.Errorf("/healthz: %d %v", code, err)
			}
			if code, body, err := p.HTTPGet(ctx, "/metrics"); err != nil || code != http.StatusOK || !strings.Contains(body, "dnsgw_index_names 1001") {
				t.Errorf("/metrics: %d %v (want dnsgw_index_names 1001: %d services and the NS name)", code, err, n)
			}
			if code, _, _ := p.HTTPGet(ctx, "/debug/pprof/"); code != http.StatusNotFound {
				t.Errorf("/debug/pprof/ without --pprof: %d, want 404", code)
			}

			if err := p.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-p.Exited():
			case <-time.After(15 * time.Second):
				t.Fatalf("still running 15s after %v", sig)
			}
			if err := p.ExitErr(); err != nil {
				t.Errorf("exit after %v: %v\n%s", sig, err, p.Log())
			}
			if _, _, err := c.Exchange(m, p.DNSAddr); err == nil {
				t.Errorf("still answering DNS after exit")
			}
		})
	}
}

// loadServices creates n LoadBalancer Services svc-NNNN with status, a few
// at a time.
func loadServices(t *testing.T, ctx context.Context, cfg *rest.Config, n int) {
	t.Helper()
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = 1000, 1000
	cs := kubernetes.NewForConfigOrDie(c)
	var wg sync.WaitGroup
	work := make(chan int)
	errs := make(chan error, n)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				errs <- createLBServiceErr(ctx, cs, fmt.Sprintf("svc-%04d", i), fmt.Sprintf("10.%d.%d.1", 100+i/256, i%256))
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func createLBServiceErr(ctx context.Context, cs kubernetes.Interface, name, ip string) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 443}}},
	}
	svc, err := cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create service %s: %w", name, err)
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
	if _, err := cs.CoreV1().Services("default").UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("service %s status: %w", name, err)
	}
	return nil
}
