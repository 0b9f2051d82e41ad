package source

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
)

// IngressEndpoints publishes spec.rules[].host and the hostname annotations
// at the addresses in status.loadBalancer (a hostname there becomes a CNAME).
func (f *Filter) IngressEndpoints(ing *networkingv1.Ingress) []index.Endpoint {
	if !f.admits(&ing.ObjectMeta) {
		return nil
	}
	if len(f.IngressClasses) > 0 {
		class := ing.Annotations[legacyIngressClassAnno]
		if ing.Spec.IngressClassName != nil {
			class = *ing.Spec.IngressClassName
		}
		if !slices.Contains(f.IngressClasses, class) {
			return nil
		}
	}
	var ips, hosts []string
	for _, i := range ing.Status.LoadBalancer.Ingress {
		if i.IP != "" {
			ips = append(ips, i.IP)
		}
		if i.Hostname != "" {
			hosts = append(hosts, i.Hostname)
		}
	}
	names := annotationHostnames(ing.Annotations)
	for _, r := range ing.Spec.Rules {
		if r.Host != "" && !slices.Contains(names, r.Host) {
			names = append(names, r.Host)
		}
	}
	return loadBalancerTarget(ips, hosts).endpoints(names)
}

// ServiceEndpoints publishes LoadBalancer Services at spec.externalIPs, else
// their load-balancer status, and ExternalName Services as a CNAME to
// spec.externalName; under "<name>.<namespace>.<zone>" for every zone and the
// hostname annotations. Other Service types publish nothing.
func (f *Filter) ServiceEndpoints(svc *corev1.Service) []index.Endpoint {
	if !f.admits(&svc.ObjectMeta) {
		return nil
	}
	var t target
	switch svc.Spec.Type {
	case corev1.ServiceTypeLoadBalancer:
		if len(svc.Spec.ExternalIPs) > 0 {
			t = loadBalancerTarget(svc.Spec.ExternalIPs, nil)
		} else {
			t = loadBalancerTarget(serviceStatusIPs(svc.Status.LoadBalancer.Ingress))
		}
	case corev1.ServiceTypeExternalName:
		t.cname = svc.Spec.ExternalName
	default:
		return nil
	}
	names := annotationHostnames(svc.Annotations)
	for _, z := range f.Zones {
		names = append(names, svc.Name+"."+svc.Namespace+"."+z)
	}
	return t.endpoints(names)
}
