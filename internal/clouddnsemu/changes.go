package clouddnsemu

import (
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

// maxChangeItems is the Cloud DNS limit on additions and on deletions per change.
const maxChangeItems = 1000

// changeRequest is a change as a client sends it.
type changeRequest struct {
	Kind      string       `json:"kind,omitempty"`
	Additions []rrsetInput `json:"additions"`
	Deletions []rrsetInput `json:"deletions"`
}

// applyChange validates every item first and then applies all of them or none.
// Order of checks: syntax (400), deletions against live data (404, 412), additions (409), zone rules (400).
func (s *store) applyChange(project, zoneName string, req changeRequest, clientOpID string) (*change, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zoneLocked(project, zoneName)
	if z == nil {
		return nil, zoneNotFound(zoneName)
	}
	return s.applyChangeLocked(z, req, clientOpID)
}

// applyChangeLocked is applyChange for a caller that holds s.mu and has found the zone.
func (s *store) applyChangeLocked(z *zone, req changeRequest, clientOpID string) (*change, *apiError) {
	if clientOpID != "" {
		if prev := z.byClientOp[clientOpID]; prev != nil {
			return prev, nil
		}
	}
	if len(req.Additions) == 0 && len(req.Deletions) == 0 {
		return nil, errInvalid("The 'entity.change' resource is invalid because it has no additions or deletions.")
	}
	if len(req.Additions) > maxChangeItems || len(req.Deletions) > maxChangeItems {
		return nil, errInvalid("The 'entity.change' resource has more than %d additions or deletions.", maxChangeItems)
	}
	dels, aerr := validateItems(z.dnsName, "entity.change.deletions", req.Deletions)
	if aerr != nil {
		return nil, aerr
	}
	adds, aerr := validateItems(z.dnsName, "entity.change.additions", req.Additions)
	if aerr != nil {
		return nil, aerr
	}

	next := maps.Clone(z.live)
	for i, d := range dels {
		cur, ok := next[d.key()]
		if !ok {
			return nil, errNotFound("The 'entity.change.deletions[%d]' resource named '%s (%s)' does not exist.", i, d.Name, d.Type)
		}
		if !sameRRSet(cur, d) {
			return nil, errConditionNotMet("Precondition not met for 'entity.change.deletions[%d]'", i)
		}
		delete(next, d.key())
	}
	soaAdded := false
	for i, a := range adds {
		if _, ok := next[a.key()]; ok {
			return nil, errAlreadyExists("The resource 'entity.change.additions[%d]' named '%s (%s)' already exists", i, a.Name, a.Type)
		}
		next[a.key()] = a
		soaAdded = soaAdded || a.Type == "SOA"
	}
	if aerr := checkZoneRules(z.dnsName, next); aerr != nil {
		return nil, aerr
	}
	if !soaAdded {
		if err := bumpSerial(next, z.dnsName); err != nil {
			return nil, &apiError{Code: 500, Reason: "internalError", Message: err.Error()}
		}
	}
	return s.commitLocked(z, next, adds, dels, clientOpID), nil
}

func validateItems(origin, field string, items []rrsetInput) ([]*rrset, *apiError) {
	out := make([]*rrset, 0, len(items))
	seen := map[rrKey]bool{}
	for i, in := range items {
		r, aerr := validateRRSet(origin, fmt.Sprintf("%s[%d]", field, i), in)
		if aerr != nil {
			return nil, aerr
		}
		if seen[r.key()] {
			return nil, errInvalid("The resource '%s[%d]' named '%s (%s)' appears more than once in the change.", field, i, r.Name, r.Type)
		}
		seen[r.key()] = true
		out = append(out, r)
	}
	return out, nil
}

// checkZoneRules enforces what must hold after every change: one SOA and an NS set at the apex,
// no SOA elsewhere, and a CNAME never shares its name with another set nor sits at the apex.
func checkZoneRules(origin string, sets map[rrKey]*rrset) *apiError {
	if _, ok := sets[rrKey{origin, "SOA"}]; !ok {
		return errInvalid("The zone '%s' must keep its SOA record set at the apex.", origin)
	}
	if _, ok := sets[rrKey{origin, "NS"}]; !ok {
		return errInvalid("The zone '%s' must keep its NS record set at the apex.", origin)
	}
	byName := map[string]int{}
	for k := range sets {
		byName[k.name]++
		if k.typ == "SOA" && k.name != origin {
			return errInvalid("The resource record set '%s (SOA)' is invalid: SOA is only allowed at the zone apex.", k.name)
		}
	}
	for k := range sets {
		if k.typ != "CNAME" {
			continue
		}
		if k.name == origin {
			return errInvalid("The resource record set '%s (CNAME)' is invalid: CNAME is not allowed at the zone apex.", k.name)
		}
		if byName[k.name] > 1 {
			return &apiError{Code: 400, Reason: "cnameResourceRecordSetConflict",
				Message: fmt.Sprintf("The resource record set '%s (CNAME)' conflicts with another record set of the same name.", k.name)}
		}
	}
	return nil
}

// bumpSerial replaces the apex SOA in sets with a copy whose serial is one higher.
func bumpSerial(sets map[rrKey]*rrset, origin string) error {
	key := rrKey{origin, "SOA"}
	cur := sets[key]
	soa, ok := cur.rrs[0].(*dns.SOA)
	if !ok {
		return fmt.Errorf("apex SOA of %s does not parse", origin)
	}
	bumped := dns.Copy(soa).(*dns.SOA)
	bumped.Serial++
	sets[key] = &rrset{Name: cur.Name, Type: "SOA", TTL: cur.TTL, Rrdatas: []string{canonicalRData(bumped)}, rrs: []dns.RR{bumped}}
	return nil
}

// commitLocked makes next the live content, schedules it for DNS and records the change.
func (s *store) commitLocked(z *zone, next map[rrKey]*rrset, adds, dels []*rrset, clientOpID string) *change {
	now := s.now()
	doneAt := now.Add(s.delay)
	if n := len(z.versions); n > 0 && z.versions[n-1].doneAt.After(doneAt) {
		doneAt = z.versions[n-1].doneAt // DNS never goes back to older data
	}
	z.prune(now)
	s.applied++
	z.live = next
	z.versions = append(z.versions, newVersion(z.dnsName, next, doneAt))
	c := &change{id: strconv.Itoa(len(z.changes)), additions: adds, deletions: dels, start: now, doneAt: doneAt, clientOpID: clientOpID}
	z.changes = append(z.changes, c)
	if clientOpID != "" {
		z.byClientOp[clientOpID] = c
	}
	return c
}

func (c *change) status(now time.Time) string {
	if now.Before(c.doneAt) {
		return "pending"
	}
	return "done"
}
