package clouddnsemu

import (
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// rrKey identifies a record set inside a zone: lower-case FQDN and upper-case type.
type rrKey struct {
	name string
	typ  string
}

// rrset is one immutable record set. Versions share pointers, so never mutate one after it is stored.
type rrset struct {
	Name    string
	Type    string
	TTL     int64
	Rrdatas []string
	rrs     []dns.RR // parsed once at validation, used by the DNS server
}

func (r *rrset) key() rrKey { return rrKey{r.Name, r.Type} }

// version is the zone content that becomes visible over DNS at doneAt.
type version struct {
	doneAt time.Time
	sets   map[rrKey]*rrset
	names  map[string]bool // every owner name and every empty non-terminal between it and the apex
}

func newVersion(origin string, sets map[rrKey]*rrset, doneAt time.Time) *version {
	v := &version{doneAt: doneAt, sets: sets, names: map[string]bool{origin: true}}
	for k := range sets {
		for n := k.name; n != origin && !v.names[n]; n = parentName(n) {
			v.names[n] = true
		}
	}
	return v
}

// parentName strips the first label of a FQDN ("a.b." -> "b.").
func parentName(name string) string {
	off, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[off:]
}

// change is one applied (accepted) change; it is "pending" until doneAt, then "done".
type change struct {
	id         string
	additions  []*rrset
	deletions  []*rrset
	start      time.Time
	doneAt     time.Time
	clientOpID string
}

type zone struct {
	project     string
	name        string
	dnsName     string
	description string
	id          uint64
	created     time.Time
	visibility  string
	private     json.RawMessage // privateVisibilityConfig echoed back as sent
	labels      map[string]string
	nameServers []string

	live       map[rrKey]*rrset // what the API reads and changes are checked against
	versions   []*version       // ascending doneAt; what DNS serves lags behind live by the propagation delay
	changes    []*change
	byClientOp map[string]*change
}

// served returns the record sets DNS answers from at time now.
func (z *zone) served(now time.Time) *version {
	var cur *version
	for _, v := range z.versions {
		if v.doneAt.After(now) {
			break
		}
		cur = v
	}
	return cur
}

// prune drops versions that can no longer be served.
func (z *zone) prune(now time.Time) {
	keep := 0
	for i, v := range z.versions {
		if !v.doneAt.After(now) {
			keep = i
		}
	}
	z.versions = z.versions[keep:]
}

// sortedSets returns the record sets of m ordered by name, then type.
func sortedSets(m map[rrKey]*rrset) []*rrset {
	out := make([]*rrset, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Type < out[j].Type
	})
	return out
}

// store holds every project's zones behind one lock; the API writes, DNS reads.
type store struct {
	mu          sync.RWMutex
	zones       map[string]map[string]*zone // project -> zone name -> zone
	order       []*zone                     // creation order: list order and DNS tie-break
	nextZoneID  uint64
	applied     int64 // changes committed, counted under mu so clientOperationId replays never count
	delay       time.Duration
	nameServers []string
	now         func() time.Time
}

func (s *store) appliedCount() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.applied
}

func newStore(delay time.Duration, nameServers []string) *store {
	return &store{
		zones:       map[string]map[string]*zone{},
		nextZoneID:  4734598723400000000,
		delay:       delay,
		nameServers: nameServers,
		now:         time.Now,
	}
}

// zoneLocked finds a zone by name or numeric id; callers hold s.mu.
func (s *store) zoneLocked(project, nameOrID string) *zone {
	if z := s.zones[project][nameOrID]; z != nil {
		return z
	}
	for _, z := range s.zones[project] {
		if formatUint(z.id) == nameOrID {
			return z
		}
	}
	return nil
}

func zoneNotFound(nameOrID string) *apiError {
	return errNotFound("The 'parameters.managedZone' resource named '%s' does not exist.", nameOrID)
}

// zoneForQuery picks the zone with the longest origin containing qname (any project).
func (s *store) zoneForQuery(qname string) *zone {
	var best *zone
	for _, z := range s.order {
		if !dns.IsSubDomain(z.dnsName, qname) {
			continue
		}
		if best == nil || dns.CountLabel(z.dnsName) > dns.CountLabel(best.dnsName) {
			best = z
		}
	}
	return best
}
