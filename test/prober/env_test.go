// Package prober_test runs the prober as it runs in a cluster: three
// separate cmd/prober processes, each with its own Kubernetes identity
// bound to the Role from infra/k8s/base/prober, against a real
// kube-apiserver; the demo world provides the real redis-server pair, the
// Cloud DNS emulator serving the record, Pub/Sub and the failover functions.
package prober_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/miekg/dns"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/dnsfailover/dnsfailover/internal/demo"
	"github.com/dnsfailover/dnsfailover/internal/health/redistest"
	"github.com/dnsfailover/dnsfailover/internal/prober"
	"github.com/dnsfailover/dnsfailover/internal/request"
	"github.com/dnsfailover/dnsfailover/internal/syncbuf"
	"github.com/dnsfailover/dnsfailover/test/kubeapi"
)

var bins struct {
	once         sync.Once
	prober, demo string
	err          error
	dir          string
}

// binaries builds cmd/prober and cmd/demo once per test run.
func binaries(t *testing.T) (proberBin, demoBin string) {
	t.Helper()
	bins.once.Do(func() {
		bins.dir, bins.err = os.MkdirTemp("", "prober-e2e-bin-")
		if bins.err != nil {
			return
		}
		for _, b := range []struct {
			out *string
			pkg string
		}{{&bins.prober, "./cmd/prober"}, {&bins.demo, "./cmd/demo"}} {
			*b.out = filepath.Join(bins.dir, filepath.Base(b.pkg))
			cmd := exec.Command("go", "build", "-o", *b.out, "github.com/dnsfailover/dnsfailover/"+strings.TrimPrefix(b.pkg, "./"))
			if out, err := cmd.CombinedOutput(); err != nil {
				bins.err = fmt.Errorf("go build %s: %w\n%s", b.pkg, err, out)
				return
			}
		}
	})
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	return bins.prober, bins.demo
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.dir != "" {
		_ = os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

// pubsubBackend is the demo world's Pub/Sub: the emulator when installed.
func pubsubBackend() string {
	if b := os.Getenv("DNSFAILOVER_TEST_PUBSUB"); b != "" {
		return b
	}
	return "auto"
}

// startWorld brings up the demo world (Redis pair, zone, Pub/Sub, functions).
func startWorld(t *testing.T) *demo.World {
	t.Helper()
	redistest.RequireBinary(t)
	_, demoBin := binaries(t)
	// The world's servers live as long as this context: end it at cleanup.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var out bytes.Buffer
	w, err := demo.Start(ctx, demo.Options{
		PubSub: pubsubBackend(), Out: &out, Log: io.Discard,
		FunctionsCommand: []string{"env", "DNSFAILOVER_DEMO_ROLE=functions", demoBin},
	})
	if err != nil {
		t.Fatalf("demo world: %v\n%s", err, out.String())
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Logf("close world: %v", err)
		}
	})
	t.Logf("world:\n%s", out.String())
	return w
}

// kube is the API server and a namespace whose Role is the manifest's.
type kube struct {
	cluster   *kubeapi.Cluster
	admin     kubernetes.Interface
	namespace string
}

func startKube(t *testing.T) *kube {
	t.Helper()
	c := kubeapi.StartCluster(t)
	k := &kube{cluster: c, admin: kubernetes.NewForConfigOrDie(c.Config), namespace: "dnsfailover-prober"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := k.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: k.namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	role := manifestRole(t)
	role.Namespace = k.namespace
	if _, err := k.admin.RbacV1().Roles(k.namespace).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create role from the manifest: %v", err)
	}
	return k
}

// manifestRole reads the Role the Kustomize base deploys, so the test runs
// the probers with exactly the permissions they get in a cluster.
func manifestRole(t *testing.T) *rbacv1.Role {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "infra", "k8s", "base", "prober", "rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(b), "\n---") {
		var role rbacv1.Role
		if err := yaml.Unmarshal([]byte(doc), &role); err != nil {
			t.Fatalf("rbac.yaml: %v", err)
		}
		if role.Kind == "Role" {
			return &role
		}
	}
	t.Fatal("rbac.yaml holds no Role")
	return nil
}

// userKubeconfig makes a user bound only to the manifest's Role.
func (k *kube) userKubeconfig(t *testing.T, user string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "prober-" + user, Namespace: k.namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "dnsfailover-prober"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	if _, err := k.admin.RbacV1().RoleBindings(k.namespace).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatalf("bind %s: %v", user, err)
	}
	return kubeapi.WriteKubeconfig(t, k.cluster.AddUser(t, user))
}

// proc is one running cmd/prober.
type proc struct {
	name    string
	cmd     *exec.Cmd
	httpURL string
	logs    *syncbuf.Buffer
}

// startProber runs cmd/prober with cfg (YAML) as identity name.
func startProber(t *testing.T, k *kube, w *demo.World, name, cfg string) *proc {
	t.Helper()
	proberBin, _ := binaries(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	p := &proc{name: name, httpURL: "http://127.0.0.1:" + strconv.Itoa(port), logs: &syncbuf.Buffer{}}
	p.cmd = exec.Command(proberBin, "-config="+cfgPath, "-kubeconfig="+k.userKubeconfig(t, name),
		"-identity="+name, "-namespace="+k.namespace, "-listen=127.0.0.1:"+strconv.Itoa(port))
	p.cmd.Env = append(os.Environ(), "PUBSUB_EMULATOR_HOST="+w.PubSubHost(), "DNSFAILOVER_LOG_LEVEL=info")
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start prober %s: %v", name, err)
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("prober %s logs:\n%s", name, p.logs.String())
		}
	})
	return p
}

func (p *proc) stop() {
	if p.cmd.Process == nil || p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// metric reads one sample ("name{labels}" prefix match, summed) from /metrics.
func (p *proc) metric(t *testing.T, prefix string) float64 {
	t.Helper()
	v, err := p.scrape(prefix)
	if err != nil {
		t.Fatalf("%s metrics: %v", p.name, err)
	}
	return v
}

func (p *proc) scrape(prefix string) (float64, error) {
	resp, err := http.Get(p.httpURL + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum, sc.Err()
}

// leading is false also while the prober is not serving yet.
func (p *proc) leading() bool {
	v, err := p.scrape("dnsfailover_prober_leader ")
	return err == nil && v == 1
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proberConfig is a config for the demo record; extra is appended to the
// top level, primary is the record's primary block (YAML flow).
func proberConfig(w *demo.World, group, primary, top string) string {
	return fmt.Sprintf(`project: %s
requestsTopic: %s
leaseName: %s
%s
records:
  - name: %s
    port: %d
    primary: %s
`, demo.Project, demo.RequestsTopic, group, top, demo.Record, w.Primary().Port(), primary)
}

func followDNS(w *demo.World) string { return fmt.Sprintf("{resolvers: [%q]}", w.DNSAddr()) }

// requestCounter counts what reaches the requests topic through an extra
// subscription of its own.
type requestCounter struct {
	mu   sync.Mutex
	reqs []*request.Manual
	bad  []string
	at   []time.Time
}

func countRequests(t *testing.T, w *demo.World, name string) *requestCounter {
	t.Helper()
	ctx := context.Background()
	c, err := pubsub.NewClient(ctx, demo.Project, option.WithEndpoint(w.PubSubHost()), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	sub := "projects/" + demo.Project + "/subscriptions/count-" + name
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: sub, Topic: "projects/" + demo.Project + "/topics/" + demo.RequestsTopic, AckDeadlineSeconds: 30,
	}); err != nil {
		t.Fatalf("create counting subscription: %v", err)
	}
	rc := &requestCounter{}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Subscriber(sub).Receive(rctx, func(_ context.Context, m *pubsub.Message) {
			m.Ack()
			rc.mu.Lock()
			defer rc.mu.Unlock()
			r, err := request.Decode(m.Data)
			if err != nil {
				rc.bad = append(rc.bad, string(m.Data))
				return
			}
			rc.reqs = append(rc.reqs, r)
			rc.at = append(rc.at, m.PublishTime)
		})
	}()
	t.Cleanup(func() { cancel(); <-done; _ = c.Close() })
	return rc
}

func (rc *requestCounter) snapshot() ([]*request.Manual, []time.Time, []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*request.Manual(nil), rc.reqs...), append([]time.Time(nil), rc.at...), append([]string(nil), rc.bad...)
}

// waitFor polls cond every 50ms until it holds or limit passes.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// answer asks the zone's DNS server (UDP) for the record's A.
func answer(w *demo.World) string {
	m := new(dns.Msg)
	m.SetQuestion(demo.Record, dns.TypeA)
	in, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, w.DNSAddr())
	if err != nil || len(in.Answer) != 1 {
		return fmt.Sprintf("error: %v %v", err, in)
	}
	if a, ok := in.Answer[0].(*dns.A); ok {
		return a.A.String()
	}
	return in.Answer[0].String()
}

// observations reads the group's observation Leases as the leader does.
func (k *kube) observations(t *testing.T, group string) []prober.ReplicaObservations {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l := &prober.Leases{Client: k.admin.CoordinationV1(), Namespace: k.namespace, Group: group}
	got, err := l.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// allSee waits until n replicas report obs for the record matching cond.
func (k *kube) allSee(t *testing.T, group string, n int, limit time.Duration, what string, cond func(prober.Observation) bool) {
	t.Helper()
	var last []prober.ReplicaObservations
	defer func() {
		if t.Failed() {
			t.Logf("last observations of %s: %+v", group, last)
		}
	}()
	waitFor(t, limit, what, func() bool {
		last = k.observations(t, group)
		views := prober.Views(last, prober.Record{Name: demo.Record}.Label())
		c := 0
		for _, v := range views {
			if cond(v.Obs) {
				c++
			}
		}
		return c >= n
	})
}
