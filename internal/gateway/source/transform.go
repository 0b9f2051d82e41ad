package source

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// trim is the informer transform: it keeps only the fields the sources read,
// so the informer caches hold a fraction of each object (no managedFields,
// no unrelated annotations, no route rules or backends).
func trim(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Service:
		return &corev1.Service{
			ObjectMeta: trimMeta(o.ObjectMeta),
			Spec: corev1.ServiceSpec{
				Type:         o.Spec.Type,
				ExternalIPs:  o.Spec.ExternalIPs,
				ExternalName: o.Spec.ExternalName,
			},
			Status: corev1.ServiceStatus{LoadBalancer: o.Status.LoadBalancer},
		}, nil
	case *networkingv1.Ingress:
		rules := make([]networkingv1.IngressRule, len(o.Spec.Rules))
		for i, r := range o.Spec.Rules {
			rules[i] = networkingv1.IngressRule{Host: r.Host}
		}
		return &networkingv1.Ingress{
			ObjectMeta: trimMeta(o.ObjectMeta),
			Spec:       networkingv1.IngressSpec{IngressClassName: o.Spec.IngressClassName, Rules: rules},
			Status:     o.Status,
		}, nil
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
