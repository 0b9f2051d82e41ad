package source

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
)

// entry is all an informer cache keeps of an Ingress or Service: its
// identity and the endpoints it publishes, computed by the transform. That is
// a few hundred bytes per object instead of a kilobyte or more for even a
// trimmed object, and the event handler has nothing left to compute.
type entry struct {
	metav1.ObjectMeta // Name, Namespace, UID and ResourceVersion only
	key               string
	endpoints         []index.Endpoint
}

// transform is the informer transform: Ingresses and Services become
// entries; Gateway API objects keep only the fields the sources read (no
// managedFields, no unrelated annotations, no route rules or backends).
func (w *Watcher) transform(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Service:
		return &entry{ObjectMeta: identity(o.ObjectMeta), key: "service/" + o.Namespace + "/" + o.Name, endpoints: w.Filter.ServiceEndpoints(o)}, nil
	case *networkingv1.Ingress:
		return &entry{ObjectMeta: identity(o.ObjectMeta), key: "ingress/" + o.Namespace + "/" + o.Name, endpoints: w.Filter.IngressEndpoints(o)}, nil
	case *gatewayv1.Gateway:
		listeners := make([]gatewayv1.Listener, len(o.Spec.Listeners))
		for i, l := range o.Spec.Listeners {
			listeners[i] = gatewayv1.Listener{Name: l.Name, Hostname: l.Hostname, Port: l.Port, Protocol: l.Protocol}
		}
		return &gatewayv1.Gateway{
			ObjectMeta: trimMeta(o.ObjectMeta),
			Spec:       gatewayv1.GatewaySpec{GatewayClassName: o.Spec.GatewayClassName, Listeners: listeners},
			Status:     gatewayv1.GatewayStatus{Addresses: o.Status.Addresses},
		}, nil
	case *gatewayv1.HTTPRoute:
		o.ObjectMeta = trimMeta(o.ObjectMeta)
		o.Spec.Rules = nil
		return o, nil
	case *gatewayv1.GRPCRoute:
		o.ObjectMeta = trimMeta(o.ObjectMeta)
		o.Spec.Rules = nil
		return o, nil
	case *gatewayv1.TLSRoute:
		o.ObjectMeta = trimMeta(o.ObjectMeta)
		o.Spec.Rules = nil
		return o, nil
	}
	return obj, nil // tombstones and anything unexpected pass through
}

func identity(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion}
}

func trimMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	out := metav1.ObjectMeta{
		Name:            m.Name,
		Namespace:       m.Namespace,
		UID:             m.UID,
		ResourceVersion: m.ResourceVersion,
		Labels:          m.Labels,
	}
	for k, v := range m.Annotations {
		if k == legacyIngressClassAnno || isHostnameAnnotation(k) {
			if out.Annotations == nil {
				out.Annotations = map[string]string{}
			}
			out.Annotations[k] = v
		}
	}
	return out
}

func isHostnameAnnotation(k string) bool {
	for _, a := range HostnameAnnotations {
		if a == k {
			return true
		}
	}
	return false
}
