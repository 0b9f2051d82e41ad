package prober

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	coordclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	coordlisters "k8s.io/client-go/listers/coordination/v1"
)

// Leases keeps a replica's observation Lease and reads everybody's. It uses
// only get, list, create and update on coordination.k8s.io Leases in one
// namespace: the RBAC in infra/k8s/base/prober grants nothing else.
type Leases struct {
	Client    coordclient.LeasesGetter
	Namespace string
	Group     string // Config.LeaseName
	Identity  string // this replica (the pod name)
	// Owner, when set (the pod), makes the garbage collector delete the
	// observation Lease with the pod, so Leases of gone pods do not pile up.
	Owner *metav1.OwnerReference
	// Duration is written as leaseDurationSeconds (the freshness window).
	Duration time.Duration

	mu     sync.Mutex
	own    *coordinationv1.Lease
	lister coordlisters.LeaseNamespaceLister
	synced func() bool
}

// Watch starts an informer on the group's observation Leases, so that the
// leader reads them from a watch cache instead of listing them every tick.
// List uses it once it has synced.
func (l *Leases) Watch(ctx context.Context, kube kubernetes.Interface) {
	f := informers.NewSharedInformerFactoryWithOptions(kube, 0, informers.WithNamespace(l.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = l.selector().String() }))
	inf := f.Coordination().V1().Leases()
	lister, synced := inf.Lister().Leases(l.Namespace), inf.Informer().HasSynced
	f.Start(ctx.Done())
	l.mu.Lock()
	l.lister, l.synced = lister, synced
	l.mu.Unlock()
}

func (l *Leases) selector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{LabelComponent: ComponentObs, LabelGroup: l.Group})
}

// ObservationLeaseName is the Lease that carries identity's observations.
func ObservationLeaseName(group, identity string) string {
	n := group + "-obs-" + identity
	if len(n) > 253 {
		n = group + "-obs-" + shortHash(identity)
	}
	return n
}

// EpisodeLeaseName is the Lease in which the leader remembers open episodes.
func EpisodeLeaseName(group string) string { return group + "-episodes" }

func (l *Leases) leases() coordclient.LeaseInterface { return l.Client.Leases(l.Namespace) }

// Publish writes this replica's observations (record label -> observation)
// into its Lease and renews it.
func (l *Leases) Publish(ctx context.Context, obs map[string]Observation, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ann := make(map[string]string, len(obs))
	for label, o := range obs {
		ann[annotationKey(label)] = o.encode()
	}
	for attempt := 0; attempt < 2; attempt++ {
		if l.own == nil {
			cur, err := l.leases().Get(ctx, ObservationLeaseName(l.Group, l.Identity), metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				created, err := l.leases().Create(ctx, l.fill(l.newLease(), ann, now), metav1.CreateOptions{})
				if err != nil {
					return fmt.Errorf("create observation lease: %w", err)
				}
				l.own = created
				return nil
			case err != nil:
				return fmt.Errorf("get observation lease: %w", err)
			}
			l.own = cur
		}
		updated, err := l.leases().Update(ctx, l.fill(l.own.DeepCopy(), ann, now), metav1.UpdateOptions{})
		if err == nil {
			l.own = updated
			return nil
		}
		l.own = nil // conflict or gone: read it again once
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return fmt.Errorf("update observation lease: %w", err)
		}
	}
	return fmt.Errorf("update observation lease %s: conflicts", ObservationLeaseName(l.Group, l.Identity))
}

func (l *Leases) newLease() *coordinationv1.Lease {
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
		Name: ObservationLeaseName(l.Group, l.Identity), Namespace: l.Namespace,
		Labels: map[string]string{LabelComponent: ComponentObs, LabelGroup: l.Group, "app.kubernetes.io/part-of": "dnsfailover"},
	}}
	if l.Owner != nil {
		lease.OwnerReferences = []metav1.OwnerReference{*l.Owner}
	}
	return lease
}

func (l *Leases) fill(lease *coordinationv1.Lease, ann map[string]string, now time.Time) *coordinationv1.Lease {
	// Drop our old keys, keep anybody else's.
	if lease.Annotations == nil {
		lease.Annotations = map[string]string{}
	}
	maps.DeleteFunc(lease.Annotations, func(k, _ string) bool {
		return len(k) > len(annotationPrefix) && k[:len(annotationPrefix)] == annotationPrefix
	})
	maps.Copy(lease.Annotations, ann)
	id := l.Identity
	secs := int32(math.Ceil(l.Duration.Seconds()))
	if secs < 1 {
		secs = 1
	}
	renew := metav1.NewMicroTime(now)
	lease.Spec.HolderIdentity = &id
	lease.Spec.LeaseDurationSeconds = &secs
	lease.Spec.RenewTime = &renew
	if lease.Spec.AcquireTime == nil {
		lease.Spec.AcquireTime = &renew
	}
	return lease
}

// ReplicaObservations is one replica's Lease, decoded.
type ReplicaObservations struct {
	Identity string
	Renewed  time.Time
	ByLabel  map[string]Observation
	Bad      []string // annotations that could not be decoded
}

// List reads every observation Lease of the group, from the watch cache
// when Watch was called and has synced, else from the API server.
func (l *Leases) List(ctx context.Context) ([]ReplicaObservations, error) {
	l.mu.Lock()
	lister, synced := l.lister, l.synced
	l.mu.Unlock()
	var items []*coordinationv1.Lease
	if lister != nil && synced() {
		cached, err := lister.List(l.selector())
		if err != nil {
			return nil, fmt.Errorf("list cached observation leases: %w", err)
		}
		items = cached
	} else {
		list, err := l.leases().List(ctx, metav1.ListOptions{LabelSelector: l.selector().String()})
		if err != nil {
			return nil, fmt.Errorf("list observation leases: %w", err)
		}
		for i := range list.Items {
			items = append(items, &list.Items[i])
		}
	}
	out := make([]ReplicaObservations, 0, len(items))
	for _, lease := range items {
		r := ReplicaObservations{Identity: lease.Name, ByLabel: map[string]Observation{}}
		if lease.Spec.HolderIdentity != nil {
			r.Identity = *lease.Spec.HolderIdentity
		}
		if lease.Spec.RenewTime != nil {
			r.Renewed = lease.Spec.RenewTime.Time
		}
		for k, v := range lease.Annotations {
			if len(k) <= len(annotationPrefix) || k[:len(annotationPrefix)] != annotationPrefix {
				continue
			}
			o, err := decodeObservation(v)
			if err != nil {
				r.Bad = append(r.Bad, k)
				continue
			}
			r.ByLabel[k] = o
		}
		out = append(out, r)
	}
	return out, nil
}

// Views picks one record's observations out of the replicas' Leases.
func Views(replicas []ReplicaObservations, label string) []View {
	key := annotationKey(label)
	var out []View
	for _, r := range replicas {
		if o, ok := r.ByLabel[key]; ok {
			out = append(out, View{Identity: r.Identity, Obs: o, Renewed: r.Renewed})
		}
	}
	return out
}

// Episodes is the leader's memory of open episodes, in a Lease of its own
// so that a new leader does not publish again what the old one published.
type Episodes struct {
	Client    coordclient.LeasesGetter
	Namespace string
	Group     string
}

// Load returns the open episodes by record label.
func (e *Episodes) Load(ctx context.Context) (map[string]*Episode, error) {
	lease, err := e.Client.Leases(e.Namespace).Get(ctx, EpisodeLeaseName(e.Group), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return map[string]*Episode{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get episode lease: %w", err)
	}
	out := map[string]*Episode{}
	for k, v := range lease.Annotations {
		if len(k) <= len(annotationPrefix) || k[:len(annotationPrefix)] != annotationPrefix {
			continue
		}
		var ep Episode
		if err := json.Unmarshal([]byte(v), &ep); err != nil {
			continue // a hand-edited value: forget it rather than stop deciding
		}
		out[k[len(annotationPrefix):]] = &ep
	}
	return out, nil
}

// Save writes (ep != nil) or clears (ep == nil) one record's episode.
func (e *Episodes) Save(ctx context.Context, label string, ep *Episode) error {
	key := annotationKey(label)
	leases := e.Client.Leases(e.Namespace)
	for attempt := 0; attempt < 3; attempt++ {
		lease, err := leases.Get(ctx, EpisodeLeaseName(e.Group), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			if ep == nil {
				return nil
			}
			lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
				Name: EpisodeLeaseName(e.Group), Namespace: e.Namespace,
				Labels: map[string]string{LabelGroup: e.Group, "app.kubernetes.io/part-of": "dnsfailover"},
			}}
			lease.Annotations = map[string]string{key: mustJSON(ep)}
			if _, err := leases.Create(ctx, lease, metav1.CreateOptions{}); err == nil || !apierrors.IsAlreadyExists(err) {
				return wrapErr("create episode lease", err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("get episode lease: %w", err)
		}
		if lease.Annotations == nil {
			lease.Annotations = map[string]string{}
		}
		if ep == nil {
			if _, ok := lease.Annotations[key]; !ok {
				return nil
			}
			delete(lease.Annotations, key)
		} else {
			lease.Annotations[key] = mustJSON(ep)
		}
		_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
		if err == nil || !apierrors.IsConflict(err) {
			return wrapErr("update episode lease", err)
		}
	}
	return fmt.Errorf("update episode lease %s: conflicts", EpisodeLeaseName(e.Group))
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v) // plain structs only
	return string(b)
}

func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// PodOwner builds the owner reference to the prober's own pod.
func PodOwner(name, uid string) *metav1.OwnerReference {
	if name == "" || uid == "" {
		return nil
	}
	return &metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: name, UID: types.UID(uid)}
}
