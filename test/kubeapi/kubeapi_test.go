package kubeapi

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

func TestStartGatewayAPIRestartAndRBAC(t *testing.T) {
	c := StartCluster(t, WithGatewayAPICRDs())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := kubernetes.NewForConfigOrDie(c.Config)

	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Port: 80}},
		},
	}
	svc, err := admin.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create LoadBalancer service: %v", err)
	}
	// No controller-manager: the test writes load-balancer status itself.
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.10"}}
	if _, err := admin.CoreV1().Services("default").UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update service status: %v", err)
	}

	dyn := dynamic.NewForConfigOrDie(c.Config)
	httpRoutes := schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
	if _, err := dyn.Resource(httpRoutes).List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("list HTTPRoutes after installing Gateway API CRDs: %v", err)
	}
	tcpRoutes := schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1alpha2", Resource: "tcproutes"}
	if _, err := dyn.Resource(tcpRoutes).List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("list experimental TCPRoutes: %v", err)
	}

	reader := kubernetes.NewForConfigOrDie(c.UserWithRules(t, "svc-reader", rbacv1.PolicyRule{
		APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"list", "watch"},
	}))
	if _, err := reader.CoreV1().Services("").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("restricted user lists services: %v", err)
	}
	_, err = reader.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("restricted user lists secrets: got %v, want Forbidden", err)
	}

	c.StopAPIServer(t)
	if _, err := admin.CoreV1().Services("default").Get(ctx, "web", metav1.GetOptions{}); err == nil {
		t.Fatal("get service with the API server stopped: want an error")
	}
	c.StartAPIServer(t)
	got, err := admin.CoreV1().Services("default").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get service after restart with the old config: %v", err)
	}
	if ing := got.Status.LoadBalancer.Ingress; len(ing) != 1 || ing[0].IP != "192.0.2.10" {
		t.Fatalf("service status after restart = %+v, want the IP written before the stop", ing)
	}
}

func TestInstallCRDsLater(t *testing.T) {
	c := StartCluster(t)
	dir, err := GatewayAPICRDDir(ChannelStandard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dyn := dynamic.NewForConfigOrDie(c.Config)
	gateways := schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
	if _, err := dyn.Resource(gateways).List(ctx, metav1.ListOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("list gateways before CRDs: got %v, want NotFound", err)
	}
	if crds := c.InstallCRDs(t, dir); len(crds) == 0 {
		t.Fatal("InstallCRDs installed nothing")
	}
	if _, err := dyn.Resource(gateways).List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("list gateways after CRDs: %v", err)
	}
}
