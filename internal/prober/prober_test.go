package prober

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/dnsfailover/dnsfailover/internal/health"
	"github.com/dnsfailover/dnsfailover/internal/request"
	"github.com/dnsfailover/dnsfailover/test/kubeapi"
)

// recorder is a Publisher that keeps what would go to the topic.
type recorder struct {
	mu   sync.Mutex
	reqs []request.Manual
}

func (r *recorder) Publish(_ context.Context, m request.Manual) (string, error) {
	if _, err := EncodeRequest(m); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, m)
	return fmt.Sprint(len(r.reqs)), nil
}

func (r *recorder) get() []request.Manual {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request.Manual(nil), r.reqs...)
}

// reachability decides, per replica, whether its probe reaches the primary:
// fault injection for what a real network would do to one node.
type reachability struct {
	mu   sync.Mutex
	down map[string]bool
}

func (r *reachability) set(down bool, ids ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		r.down[id] = down
	}
}

func (r *reachability) probe(id string) func(context.Context, string, health.ProbeOptions) health.ProbeResult {
	return func(_ context.Context, addr string, _ health.ProbeOptions) health.ProbeResult {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.down[id] {
			return health.ProbeResult{Addr: addr, Err: "connect: connection refused"}
		}
		return health.ProbeResult{Addr: addr, OK: true, Role: "master"}
	}
}

// roleUser binds a new user to the Role the Kustomize base deploys.
func roleUser(t *testing.T, c *kubeapi.Cluster, ns, user string) kubernetes.Interface {
	t.Helper()
	admin := kubernetes.NewForConfigOrDie(c.Config)
	ctx := context.Background()
	if _, err := admin.RbacV1().Roles(ns).Get(ctx, "dnsfailover-prober", metav1.GetOptions{}); err != nil {
		b, err := os.ReadFile(filepath.Join("..", "..", "infra", "k8s", "base", "prober", "rbac.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var role rbacv1.Role
		if err := yaml.Unmarshal([]byte(strings.Split(string(b), "\n---")[0]), &role); err != nil || role.Kind != "Role" {
			t.Fatalf("rbac.yaml: first document must be the Role: %v", err)
		}
		role.Namespace = ns
		if _, err := admin.RbacV1().Roles(ns).Create(ctx, &role, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "dnsfailover-prober"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(c.AddUser(t, user))
}

// TestLeaderHandoverKeepsOneRequestPerEpisode runs three Probers in-process,
// each with its own identity limited to the manifest's Role, against a real
// API server. The leader publishes, is stopped mid-episode, and the next
// leader does not publish again; recovery ends the episode; a new loss is
// a new request.
func TestLeaderHandoverKeepsOneRequestPerEpisode(t *testing.T) {
	c := kubeapi.StartCluster(t)
	const ns = "dnsfailover-prober"
	admin := kubernetes.NewForConfigOrDie(c.Config)
	if _, err := admin.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse([]byte(`project: p
interval: 200ms
leaderElection: {leaseDuration: 2s, renewDeadline: 1500ms, retryPeriod: 300ms}
records: [{name: redis.example.internal., port: 6379, primary: {endpoint: "10.0.0.5:6379"}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	pub := &recorder{}
	net := &reachability{down: map[string]bool{}}
	ids := []string{"p0", "p1", "p2"}
	type running struct {
		p      *Prober
		cancel context.CancelFunc
		done   chan struct{}
	}
	procs := map[string]*running{}
	for _, id := range ids {
		ctx, cancel := context.WithCancel(context.Background())
		p := &Prober{Config: cfg, Identity: id, Namespace: ns, Kube: roleUser(t, c, ns, id), Publisher: pub,
			Probe: net.probe(id), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		r := &running{p: p, cancel: cancel, done: make(chan struct{})}
		go func() { defer close(r.done); _ = p.Run(ctx) }()
		procs[id] = r
		t.Cleanup(func() { cancel(); <-r.done })
	}
	leader := func() string {
		for id, r := range procs {
			if r.p.Leading() {
				return id
			}
		}
		return ""
	}
	wait := func(limit time.Duration, what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(limit); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; requests %+v", what, pub.get())
			}
		}
	}
	wait(10*time.Second, "a leader", func() bool { return leader() != "" })
	time.Sleep(time.Second)

	// One replica alone: nothing.
	net.set(true, "p1")
	time.Sleep(2 * time.Second)
	if got := pub.get(); len(got) != 0 {
		t.Fatalf("one replica caused %+v", got)
	}
	// Two of three: one request.
	net.set(true, "p0", "p2")
	wait(5*time.Second, "the request", func() bool { return len(pub.get()) == 1 })
	first := pub.get()[0]
	if first.Mode != "emergency" || first.Target != "" || !strings.HasPrefix(first.RequestID, "prober:redis_example_internal:10.0.0.5:6379:") {
		t.Fatalf("request %+v", first)
	}
	// The leader goes away mid-episode; another takes over and stays quiet.
	old := leader()
	procs[old].cancel()
	<-procs[old].done
	wait(10*time.Second, "a new leader", func() bool { l := leader(); return l != "" && l != old })
	time.Sleep(2 * time.Second)
	if got := pub.get(); len(got) != 1 {
		t.Fatalf("the new leader published again: %+v", got)
	}
	// Recovery seen by the quorum ends the episode (and clears its Lease).
	net.set(false, ids...)
	episodes := &Episodes{Client: admin.CoordinationV1(), Namespace: ns, Group: cfg.LeaseName}
	wait(5*time.Second, "the episode to end", func() bool {
		open, err := episodes.Load(context.Background())
		return err == nil && len(open) == 0
	})
	// A new loss is a new episode.
	net.set(true, ids...)
	wait(5*time.Second, "the second request", func() bool { return len(pub.get()) == 2 })
	if second := pub.get()[1]; second.RequestID == first.RequestID {
		t.Fatalf("same id for two episodes: %s", second.RequestID)
	}
}

// TestLeasesRoundTripAndRBAC: the observation Lease written by one identity
// is read back by another; the Role allows nothing outside Leases.
func TestLeasesRoundTripAndRBAC(t *testing.T) {
	c := kubeapi.StartCluster(t)
	const ns = "probers"
	admin := kubernetes.NewForConfigOrDie(c.Config)
	ctx := context.Background()
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	a, b := roleUser(t, c, ns, "a"), roleUser(t, c, ns, "b")
	la := &Leases{Client: a.CoordinationV1(), Namespace: ns, Group: "g", Identity: "a", Duration: 3 * time.Second}
	o := Observation{Endpoint: "10.0.0.5:6379", Failures: 2, FirstFailure: t0, ObservedAt: t0.Add(time.Second), Err: "refused"}
	for i := 0; i < 3; i++ { // create, then updates through the cached object
		if err := la.Publish(ctx, map[string]Observation{"redis_x": o}, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	// Somebody else changed the Lease: the next write re-reads it once.
	lease, err := admin.CoordinationV1().Leases(ns).Get(ctx, ObservationLeaseName("g", "a"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lease.Labels["touched"] = "yes"
	if _, err := admin.CoordinationV1().Leases(ns).Update(ctx, lease, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := la.Publish(ctx, map[string]Observation{"redis_x": o}, t0.Add(5*time.Second)); err != nil {
		t.Fatalf("write after a conflict: %v", err)
	}
	lb := &Leases{Client: b.CoordinationV1(), Namespace: ns, Group: "g", Identity: "b"}
	got, err := lb.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	views := Views(got, "redis_x")
	if len(views) != 1 || views[0].Identity != "a" || views[0].Obs != o || !views[0].Renewed.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("read back %+v", views)
	}
	// Another group's Leases are not ours.
	if other, _ := (&Leases{Client: b.CoordinationV1(), Namespace: ns, Group: "h"}).List(ctx); len(other) != 0 {
		t.Fatalf("group h sees %+v", other)
	}
	// The Role grants Leases only.
	if _, err := a.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); err == nil {
		t.Fatal("the prober's Role can read Secrets")
	}
	if err := a.CoordinationV1().Leases(ns).Delete(ctx, ObservationLeaseName("g", "a"), metav1.DeleteOptions{}); err == nil {
		t.Fatal("the prober's Role can delete Leases")
	}
	if _, err := a.CoordinationV1().Leases("default").List(ctx, metav1.ListOptions{}); err == nil {
		t.Fatal("the prober's Role reaches outside its namespace")
	}
}
