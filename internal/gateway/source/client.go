package source

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Clients are REST clients for the group versions the sources read. They
// use a scheme with only those types instead of client-go's kubernetes
// clientset (or the Gateway API clientset, which pulls it in through
// discovery), whose scheme registers every API group at start-up: about
// 9 MB more resident memory for types the gateway never sees.
type Clients struct {
	Core       rest.Interface // core/v1: services
	Networking rest.Interface // networking.k8s.io/v1: ingresses
	Gateway    rest.Interface // gateway.networking.k8s.io/v1: gateways, routes
}

// NewClients creates Clients from cfg, speaking protobuf to built-in APIs
// (custom resources only speak JSON).
func NewClients(cfg *rest.Config) (*Clients, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, networkingv1.AddToScheme, gatewayv1.Install} {
		if err := add(scheme); err != nil {
			return nil, fmt.Errorf("scheme: %w", err)
		}
	}
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	codecs := serializer.NewCodecFactory(scheme).WithoutConversion()
	client := func(gv schema.GroupVersion, apiPath string) (rest.Interface, error) {
		c := rest.CopyConfig(cfg)
		c.GroupVersion = &gv
		c.APIPath = apiPath
		c.NegotiatedSerializer = codecs
		c.ContentType = runtime.ContentTypeJSON
		if gv.Group != gatewayv1.GroupName {
			c.ContentType = runtime.ContentTypeProtobuf
			c.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
		}
		if c.UserAgent == "" {
			c.UserAgent = rest.DefaultKubernetesUserAgent()
		}
		rc, err := rest.RESTClientFor(c)
		if err != nil {
			return nil, fmt.Errorf("%s client: %w", gv, err)
		}
		return rc, nil
	}
	core, err := client(corev1.SchemeGroupVersion, "/api")
	if err != nil {
		return nil, err
	}
	networking, err := client(networkingv1.SchemeGroupVersion, "/apis")
	if err != nil {
		return nil, err
	}
	gateway, err := client(schema.GroupVersion{Group: gatewayv1.GroupName, Version: "v1"}, "/apis")
	if err != nil {
		return nil, err
	}
	return &Clients{Core: core, Networking: networking, Gateway: gateway}, nil
}
