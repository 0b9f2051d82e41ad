// Package kubeapi starts a real Kubernetes API server (etcd + kube-apiserver
// through controller-runtime's envtest) for tests.
//
// The binaries come from KUBEBUILDER_ASSETS or, when that is unset, from the
// per-machine cache that scripts/build-kube-assets.sh fills. When neither has
// them the test is skipped with instructions, or fails when CI=true, because CI
// must run these tests.
//
// No controller-manager runs: namespaces are never finalized, Services get no
// load-balancer status and no cluster IP allocator runs beyond the API
// server's own. Tests write status themselves with UpdateStatus.
package kubeapi

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
)

var quietLogs sync.Once

// KubeVersion is the kube-apiserver version that scripts/build-kube-assets.sh
// builds; it names the cache sub-directory.
const KubeVersion = "v1.36.3"

// ServiceCIDR is the service cluster IP range given to the API server. It must
// be a /16 or smaller: the allocator rejects larger ranges such as a /12.
const ServiceCIDR = "10.96.0.0/16"

// Cluster is a running etcd + kube-apiserver pair owned by one test.
type Cluster struct {
	// Config authenticates as an admin (group system:masters).
	Config *rest.Config

	env *envtest.Environment
	mu  sync.Mutex
	up  bool
}

type options struct {
	crdPaths      []string
	crdObjects    []*apiextensionsv1.CustomResourceDefinition
	apiServerArgs map[string]string
	attachOutput  bool
	startTimeout  time.Duration
}

// Option configures Start.
type Option func(*options)

// WithCRDs installs the CRDs found in the given files or directories (YAML or
// JSON) and waits until they are established.
func WithCRDs(paths ...string) Option {
	return func(o *options) { o.crdPaths = append(o.crdPaths, paths...) }
}

// WithCRDObjects installs in-memory CRD objects.
func WithCRDObjects(crds ...*apiextensionsv1.CustomResourceDefinition) Option {
	return func(o *options) { o.crdObjects = append(o.crdObjects, crds...) }
}

// WithGatewayAPICRDs installs the Gateway API CRDs of the experimental channel
// (all standard kinds plus TCPRoute, UDPRoute and the x-k8s.io kinds) from the
// sigs.k8s.io/gateway-api module this repository requires.
func WithGatewayAPICRDs() Option {
	return func(o *options) { o.crdPaths = append(o.crdPaths, gatewayAPIDirOrPanic(ChannelExperimental)) }
}

// WithGatewayAPIStandardCRDs installs only the standard channel Gateway API CRDs.
func WithGatewayAPIStandardCRDs() Option {
	return func(o *options) { o.crdPaths = append(o.crdPaths, gatewayAPIDirOrPanic(ChannelStandard)) }
}

// WithAPIServerFlag sets a kube-apiserver flag (name without leading dashes).
func WithAPIServerFlag(name, value string) Option {
	return func(o *options) { o.apiServerArgs[name] = value }
}

// WithOutput attaches the etcd and kube-apiserver output to the test's stdout
// and stderr (also enabled by KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT=true).
func WithOutput() Option {
	return func(o *options) { o.attachOutput = true }
}

// Start starts etcd and kube-apiserver on 127.0.0.1 and returns an admin
// config. Everything is stopped when the test ends.
func Start(t testing.TB, opts ...Option) *rest.Config {
	t.Helper()
	return StartCluster(t, opts...).Config
}

// StartCluster is Start, returning the Cluster for tests that stop and restart
// the API server or need clients with restricted identities.
func StartCluster(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	// envtest logs through controller-runtime's logger; without one set it
	// prints a stack trace per test. Its output is not wanted here.
	quietLogs.Do(func() { crlog.SetLogger(logr.Discard()) })
	o := options{apiServerArgs: map[string]string{}, startTimeout: 60 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	assets := AssetsDir(t)

	port, err := freePort()
	if err != nil {
		t.Fatalf("kubeapi: pick a port for kube-apiserver: %v", err)
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        o.crdPaths,
		CRDs:                     o.crdObjects,
		ErrorIfCRDPathMissing:    true,
		AttachControlPlaneOutput: o.attachOutput,
		ControlPlaneStartTimeout: o.startTimeout,
		// kube-apiserver drains open watches on SIGTERM for a long time;
		// after this it gets SIGKILL, which is what "stopped" tests want.
		ControlPlaneStopTimeout: 5 * time.Second,
	}
	api := env.ControlPlane.GetAPIServer()
	// A fixed cert dir, address and port let StopAPIServer/StartAPIServer
	// bring the same server back: clients made before keep working.
	api.CertDir = t.TempDir()
	api.SecureServing.Address = "127.0.0.1"
	api.SecureServing.Port = strconv.Itoa(port)
	args := api.Configure()
	args.Set("service-cluster-ip-range", ServiceCIDR)
	args.Set("advertise-address", "127.0.0.1")
	for k, v := range o.apiServerArgs {
		args.Set(k, v)
	}

	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		t.Fatalf("kubeapi: start etcd + kube-apiserver from %s: %v", assets, err)
	}
	c := &Cluster{Config: cfg, env: env, up: true}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Logf("kubeapi: stop control plane: %v", err)
		}
	})
	return c
}

// StopAPIServer stops kube-apiserver (etcd keeps running with all data), to
// test clients while the API server is gone.
func (c *Cluster) StopAPIServer(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.up {
		return
	}
	api := c.env.ControlPlane.APIServer
	if err := api.Stop(); err != nil && !strings.Contains(err.Error(), "timeout waiting for process") {
		t.Fatalf("kubeapi: stop kube-apiserver: %v", err)
	}
	// After a SIGKILL the port is freed asynchronously; wait so a restart
	// can bind it again.
	addr := net.JoinHostPort(api.SecureServing.Address, api.SecureServing.Port)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		conn.Close()
		time.Sleep(50 * time.Millisecond)
	}
	c.up = false
}

// StartAPIServer starts kube-apiserver again after StopAPIServer, on the same
// address with the same certificates, so existing configs keep working.
func (c *Cluster) StartAPIServer(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.up {
		return
	}
	if err := c.env.ControlPlane.APIServer.Start(); err != nil {
		t.Fatalf("kubeapi: restart kube-apiserver: %v", err)
	}
	c.up = true
}

// AddUser returns a config authenticated (by client certificate) as the user
// name in groups. With no RBAC bindings the user may do nothing.
func (c *Cluster) AddUser(t testing.TB, name string, groups ...string) *rest.Config {
	t.Helper()
	u, err := c.env.AddUser(envtest.User{Name: name, Groups: groups}, rest.CopyConfig(c.Config))
	if err != nil {
		t.Fatalf("kubeapi: add user %q: %v", name, err)
	}
	return u.Config()
}

// UserWithRules creates a ClusterRole with rules, binds it cluster-wide to a
// new user name and returns that user's config.
func (c *Cluster) UserWithRules(t testing.TB, name string, rules ...rbacv1.PolicyRule) *rest.Config {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "kubeapi-test:" + name}, Rules: rules}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("kubeapi: create cluster role for %q: %v", name, err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kubeapi-test:" + name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: name}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("kubeapi: bind cluster role for %q: %v", name, err)
	}
	return c.AddUser(t, name)
}

// InstallCRDs installs CRDs from files or directories into the running API
// server and waits until they are established (e.g. "CRD installed later").
func (c *Cluster) InstallCRDs(t testing.TB, paths ...string) []*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	crds, err := envtest.InstallCRDs(c.Config, envtest.CRDInstallOptions{Paths: paths, ErrorIfPathMissing: true})
	if err != nil {
		t.Fatalf("kubeapi: install CRDs from %v: %v", paths, err)
	}
	return crds
}

// KubeconfigFile writes an admin kubeconfig into a temp dir and returns its
// path, for programs started by the test (e.g. a --kubeconfig flag).
func (c *Cluster) KubeconfigFile(t testing.TB) string {
	t.Helper()
	return WriteKubeconfig(t, c.Config)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("listen on loopback: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// isExecutable reports whether path is an executable regular file.
func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

func hasAssets(dir string) bool {
	return dir != "" && isExecutable(filepath.Join(dir, "etcd")) && isExecutable(filepath.Join(dir, "kube-apiserver"))
}
